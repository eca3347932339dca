"""Sending: :func:`send` (one ``SendMessage``) and :func:`send_many` (checked, batched, reported).

The rules are in :mod:`labsqs.producer`'s notes; what a message may be is
:mod:`~labsqs.producer.validation`, how batches go out :mod:`~labsqs.producer.batching`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from labsqs.base.calls import default_sqs, is_fifo_url, queue_missing
from labsqs.base.limits import MAX_MESSAGE_BYTES
from labsqs.errors import BatchError, FifoError, InvalidMessage, MessageTooLarge, QueueNotFound
from labsqs.producer.batching import DEFAULT_MAX_RETRIES, BatchReport, SendResult, send_batches
from labsqs.producer.validation import (
    Target,
    attributes_size,
    check_fifo_options,
    message_attributes,
    prepare,
)
from labsqs.queues import Queue, queue_url

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


def _target(queue: Queue | str, sqs: SQSClient) -> Target:
    if isinstance(queue, Queue):
        return Target(queue.url, queue.fifo, queue.content_based_dedup, queue.max_message_size_bytes)
    url = queue_url(queue, sqs=sqs)
    return Target(url, is_fifo_url(url), None, None)


def _learn(target: Target, sqs: SQSClient) -> Target:
    """Fill in what the handle did not say — one ``GetQueueAttributes``, once per ``send_many``."""
    if target.max_message_size_bytes is not None and (
        not target.fifo or target.content_based_dedup is not None
    ):
        return target
    try:
        raw = sqs.get_queue_attributes(
            QueueUrl=target.url, AttributeNames=["MaximumMessageSize", "ContentBasedDeduplication"]
        ).get("Attributes", {})
    except ClientError as err:
        raise _translate(err, target.url) from err
    return dataclasses.replace(
        target,
        content_based_dedup=raw.get("ContentBasedDeduplication", "false").lower() == "true",
        max_message_size_bytes=int(raw.get("MaximumMessageSize", MAX_MESSAGE_BYTES)),
    )


# --- errors from SQS -----------------------------------------------------------------------------
def _translate(err: ClientError, url: str) -> Exception:
    """A ClientError as the lab's error when it is one a user can act on; otherwise the original."""
    error = err.response.get("Error", {})
    code, message = str(error.get("Code", "")), str(error.get("Message", ""))
    if queue_missing(err):
        return QueueNotFound(
            f"queue {url} does not exist on this endpoint",
            hint="create it with labsqs.queues.ensure_queue(QueueSpec(...)), or check the URL and the engine",
            code=code,
        )
    if code == "InvalidMessageContents":
        return InvalidMessage(message, code=code)
    if "shorter than" in message or code in ("MessageTooLong", "InvalidParameterValue.MessageTooLong"):
        return MessageTooLarge(
            message, hint="the queue's MaximumMessageSize is lower than the message", code=code
        )
    if "ContentBasedDeduplication" in message:
        return FifoError(
            f"the FIFO queue {url} has no content-based deduplication and no deduplication id was given "
            f"(SQS: {message})",
            hint="pass dedup_id= / dedup_by=, or create the queue with content_based_dedup=True",
            code=code,
        )
    if "MessageGroupId" in message:
        return FifoError(message, hint="pass group_id= / group_by= (e.g. one group per user)", code=code)
    if "BatchRequestTooLong" in code or "TooManyEntries" in code or "BatchEntryIds" in code:
        return BatchError(message, code=code)
    return err


def send(
    queue: Queue | str,
    body: Any,
    *,
    attributes: Mapping[str, str | int | float | bytes] | None = None,
    delay_seconds: int | None = None,
    group_id: str | None = None,
    dedup_id: str | None = None,
    sqs: SQSClient | None = None,
) -> SendResult:
    """Send one message (one ``SendMessage`` request). In a loop, prefer :func:`send_many`.

    A FIFO queue without content-based deduplication needs ``dedup_id``; when the handle does not say
    whether the queue deduplicates by content (a URL), SQS's own refusal is raised as
    :class:`~labsqs.errors.FifoError` — no extra request is made to find out.
    """
    client = default_sqs(sqs)
    target = _target(queue, client)
    check_fifo_options(
        target,
        has_group=group_id is not None,
        has_dedup=dedup_id is not None,
        delay_seconds=delay_seconds,
        group_arg="group_id=",
        dedup_arg="dedup_id=",
    )
    wire = message_attributes(attributes)
    message = prepare(
        0,
        body,
        target,
        wire,
        attributes_size(wire),
        group_id=group_id,
        dedup_id=dedup_id,
        delay_seconds=delay_seconds,
        position="the message",
    )
    request = message.entry()
    del request["Id"]
    try:
        answer = client.send_message(QueueUrl=target.url, **request)
    except ClientError as err:
        raise _translate(err, target.url) from err
    return SendResult(
        "0", answer["MessageId"], answer.get("SequenceNumber"), answer.get("MD5OfMessageBody", "")
    )


def send_many(
    queue: Queue | str,
    bodies: Iterable[Any],
    *,
    attributes: Mapping[str, str | int | float | bytes] | None = None,
    group_by: Callable[[Any], str] | str | None = None,
    dedup_by: Callable[[Any], str] | None = None,
    delay_seconds: int | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    sqs: SQSClient | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BatchReport:
    """Send every body, ten per ``SendMessageBatch`` (and at most 1 MiB per request), in input order.

    ``attributes`` go on every message. FIFO: ``group_by(body)`` gives each message's group (a plain
    string puts them all in one group, explicitly); ``dedup_by(body)`` its deduplication id (omit it on a
    queue with content-based deduplication). Entries that fail for a reason other than the sender's fault
    are retried, alone, right after their batch (so they do not fall behind later batches), at most
    ``max_retries`` times. ``progress(done, total)`` is called after each batch.

    Costs one ``GetQueueAttributes`` when ``queue`` is not a handle from ``ensure_queue``/``get_queue``
    (to learn the size limit and, for FIFO, content-based deduplication), plus one ``GetQueueUrl`` for a
    bare name. If a request fails as a whole (the queue vanished, the endpoint died) the error is raised
    with ``err.report`` describing what was sent before.
    """
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise InvalidMessage(f"max_retries must be a whole number >= 0, got {max_retries!r}")
    client = default_sqs(sqs)
    target = _target(queue, client)
    items = list(bodies)
    _check_many(target, group_by, dedup_by, delay_seconds)
    wire = message_attributes(attributes)
    wire_size = attributes_size(wire)
    if items:
        target = _learn(target, client)
        _check_many(target, group_by, dedup_by, delay_seconds)  # again, now that content-based dedup is known
    group_of: Callable[[Any], Any] | None
    group_of = (lambda _item, g=group_by: g) if isinstance(group_by, str) else group_by
    messages = [
        prepare(
            i,
            item,
            target,
            wire,
            wire_size,
            group_id=group_of(item) if group_of is not None else None,
            dedup_id=dedup_by(item) if dedup_by is not None else None,
            delay_seconds=delay_seconds,
            position=f"message #{i}",
        )
        for i, item in enumerate(items)
    ]
    return send_batches(
        client, target.url, messages, max_retries=max_retries, progress=progress, translate=_translate
    )


def _check_many(target: Target, group_by: object, dedup_by: object, delay_seconds: int | None) -> None:
    check_fifo_options(
        target,
        has_group=group_by is not None,
        has_dedup=dedup_by is not None,
        delay_seconds=delay_seconds,
        group_arg="group_by=",
        dedup_arg="dedup_by=",
    )
