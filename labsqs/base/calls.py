"""The plain SQS requests, done right once: every other module sends these through here.

- a receive asks for every system and message attribute;
- deletes and visibility changes go in chunks of 10 (SQS's batch limit), and a refused entry comes back as
  data (``Failed``), never as an exception that would hide the entries that worked;
- a refused receipt handle and a missing queue become :class:`~labsqs.errors.ReceiptHandleError` and
  :class:`~labsqs.errors.QueueNotFound`, each saying what to do;
- :func:`receive_all` reads a whole (small) queue, then releases or deletes what it read.

Every function takes a queue *URL*; :func:`labsqs.queues.queue_url` turns a name or a ``Queue`` into one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import ClientError

from labsqs.base.limits import MAX_BATCH_ENTRIES, MAX_MESSAGES_PER_RECEIVE, MAX_WAIT_TIME_SECONDS
from labsqs.errors import QueueNotFound, ReceiptHandleError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType
    from mypy_boto3_sqs.type_defs import (
        BatchResultErrorEntryTypeDef,
        ChangeMessageVisibilityBatchRequestEntryTypeDef,
        DeleteMessageBatchRequestEntryTypeDef,
        MessageTypeDef,
    )

T = TypeVar("T")

NON_EXISTENT_QUEUE_CODES = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"})
RECEIPT_HANDLE_ERROR_CODES = frozenset(
    {"ReceiptHandleIsInvalid", "MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight"}
)
CONFIRM_WAIT_SECONDS = 1  # one short long poll before a scan calls a queue empty (a short poll samples)


# --- clients, names, errors ----------------------------------------------------------------------
def default_sqs(sqs: SQSClient | None) -> SQSClient:
    """``sqs`` itself, or the lab's client (:func:`labsqs.client.sqs_client`) when it is ``None``."""
    if sqs is not None:
        return sqs
    from labsqs.client import sqs_client

    return sqs_client()


def queue_name(url_or_arn: str) -> str:
    """The queue's name: the last segment of its URL or ARN."""
    return url_or_arn.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def is_fifo_url(url: str) -> bool:
    """FIFO queue names end in ``.fifo`` (and so do their URLs and ARNs)."""
    return url.rstrip("/").endswith(".fifo")


def error_code(exc: ClientError) -> str:
    """SQS's error code of a refused request (``""`` when the answer had none)."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def queue_missing(exc: ClientError) -> bool:
    """True when SQS answered "this queue does not exist" (its old and new error codes)."""
    return error_code(exc) in NON_EXISTENT_QUEUE_CODES


def queue_not_found(queue: str, exc: ClientError | None = None) -> QueueNotFound:
    """The lab's error for a queue that does not exist on this endpoint, with what to do next."""
    return QueueNotFound(
        f"queue {queue_name(queue)} does not exist on this endpoint",
        hint="create it first (labsqs.queues.ensure_queue) or check the name, URL and engine "
        "(`labsqs status` lists the queues; a restarted LocalStack has lost every queue and message: "
        "it keeps nothing across restarts)",
        code=error_code(exc) if exc is not None else None,
    )


def receipt_error(exc: ClientError, url: str) -> Exception | None:
    """A refused receipt handle as :class:`ReceiptHandleError`, a missing queue as ``QueueNotFound``;
    ``None`` for anything else (re-raise it as it is)."""
    error = exc.response.get("Error", {})
    code, text = str(error.get("Code", "")), str(error.get("Message", ""))
    stale = code == "InvalidParameterValue" and "ReceiptHandle" in text  # LocalStack: handle outdated
    if code in RECEIPT_HANDLE_ERROR_CODES or stale:
        return ReceiptHandleError(
            f"SQS refused the receipt handle for {url}: {text}",
            hint="a receipt handle is valid only on the queue it was received from and only for its latest "
            "receive: receive the message again and use that receive's handle, with the same queue URL",
            code=code,
        )
    return queue_not_found(url, exc) if queue_missing(exc) else None


def chunked(items: Sequence[T], size: int = MAX_BATCH_ENTRIES) -> Iterator[tuple[int, Sequence[T]]]:
    """``(start, chunk)`` pairs of at most ``size`` items: the one way the lab splits batch requests."""
    for start in range(0, len(items), size):
        yield start, items[start : start + size]


# --- attributes -----------------------------------------------------------------------------------
def read_attributes(
    sqs: SQSClient, url: str, names: Sequence[QueueAttributeNameType | str] = ("All",)
) -> dict[str, str]:
    """Some of a queue's attributes as strings (one ``GetQueueAttributes``); ``QueueNotFound`` when it
    does not exist. :func:`labsqs.queues.queue_attributes` gives them typed."""
    try:
        answer = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(names))  # type: ignore[arg-type]
    except ClientError as exc:
        if queue_missing(exc):
            raise queue_not_found(url, exc) from exc
        raise
    return {str(k): v for k, v in answer.get("Attributes", {}).items()}


# --- receive, delete, change visibility ---------------------------------------------------------------
def receive_messages(
    sqs: SQSClient,
    url: str,
    *,
    max_messages: int = MAX_MESSAGES_PER_RECEIVE,
    wait_time_seconds: int = MAX_WAIT_TIME_SECONDS,
    visibility_timeout: int | None = None,
) -> list[MessageTypeDef]:
    """One ``ReceiveMessage`` with every system and message attribute; the raw entries."""
    kwargs: dict[str, Any] = {
        "QueueUrl": url,
        "MaxNumberOfMessages": max_messages,
        "WaitTimeSeconds": wait_time_seconds,
        "MessageSystemAttributeNames": ["All"],
        "MessageAttributeNames": ["All"],
    }
    if visibility_timeout is not None:
        kwargs["VisibilityTimeout"] = visibility_timeout
    return list(sqs.receive_message(**kwargs).get("Messages", []))


def delete_message(sqs: SQSClient, url: str, receipt_handle: str) -> None:
    """``DeleteMessage`` for one receipt handle; :class:`ReceiptHandleError` when SQS refuses the handle."""
    try:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=receipt_handle)
    except ClientError as exc:
        err = receipt_error(exc, url)
        if err is None:
            raise
        raise err from exc


def change_message_visibility(sqs: SQSClient, url: str, receipt_handle: str, seconds: int) -> None:
    """``ChangeMessageVisibility`` for one receipt handle; :class:`ReceiptHandleError` when it is refused
    (from another queue, or outdated: the message was received again since)."""
    try:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds)
    except ClientError as exc:
        err = receipt_error(exc, url)
        if err is None:
            raise
        raise err from exc


def delete_messages(
    sqs: SQSClient, url: str, receipt_handles: Sequence[str]
) -> list[BatchResultErrorEntryTypeDef]:
    """``DeleteMessageBatch`` in chunks of 10; returns the failed entries (``Id`` = index as str)."""
    failed: list[BatchResultErrorEntryTypeDef] = []
    for start, chunk in chunked(receipt_handles):
        entries: list[DeleteMessageBatchRequestEntryTypeDef] = [
            {"Id": str(start + i), "ReceiptHandle": h} for i, h in enumerate(chunk)
        ]
        failed.extend(sqs.delete_message_batch(QueueUrl=url, Entries=entries).get("Failed", []))
    return failed


def change_visibility(
    sqs: SQSClient, url: str, changes: Sequence[tuple[str, int]]
) -> list[BatchResultErrorEntryTypeDef]:
    """``ChangeMessageVisibilityBatch`` for ``(receipt_handle, seconds)`` pairs in chunks of 10; returns
    the failed entries (``Id`` = index as str)."""
    failed: list[BatchResultErrorEntryTypeDef] = []
    for start, chunk in chunked(changes):
        entries: list[ChangeMessageVisibilityBatchRequestEntryTypeDef] = [
            {"Id": str(start + i), "ReceiptHandle": h, "VisibilityTimeout": s}
            for i, (h, s) in enumerate(chunk)
        ]
        failed.extend(sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries).get("Failed", []))
    return failed


def release(sqs: SQSClient, url: str, receipt_handles: Sequence[str]) -> list[BatchResultErrorEntryTypeDef]:
    """Make received messages visible again at once (visibility 0), so another receive gets them now."""
    return change_visibility(sqs, url, [(h, 0) for h in receipt_handles])


def receive_all(
    sqs: SQSClient,
    url: str,
    *,
    limit: int | None = None,
    hold_seconds: int = 60,
    then: str = "release",
) -> list[MessageTypeDef]:
    """Every visible message of a (small) queue, each once, then ``then``: ``"release"`` hands them back
    (visibility 0), ``"delete"`` deletes them, ``"keep"`` leaves them hidden for ``hold_seconds``.

    Receives until a short long poll (1 s) finds nothing or ``limit`` distinct messages were read; each
    receive hides what it returned for ``hold_seconds``, so the scan sees every message once. A FIFO queue
    holds the rest of a group while some of it is in flight: there ``"delete"`` deletes as it reads, and
    ``"release"``/``"keep"`` see the first receive's share of each group only.
    """
    if then not in ("release", "delete", "keep"):
        raise ValueError(f"then must be 'release', 'delete' or 'keep', not {then!r}")
    seen: dict[str, MessageTypeDef] = {}
    handles: list[str] = []
    wait = 0
    while limit is None or len(seen) < limit:
        room = MAX_MESSAGES_PER_RECEIVE if limit is None else min(MAX_MESSAGES_PER_RECEIVE, limit - len(seen))
        got = receive_messages(
            sqs, url, max_messages=room, wait_time_seconds=wait, visibility_timeout=hold_seconds
        )
        if not got:
            if wait:
                break  # a short long poll found nothing either: no visible message is left
            wait = CONFIRM_WAIT_SECONDS  # a short poll samples a subset of servers: ask once more, properly
            continue
        for message in got:
            seen.setdefault(message["MessageId"], message)
        if then == "delete":
            delete_messages(sqs, url, [m["ReceiptHandle"] for m in got])
        else:
            handles.extend(m["ReceiptHandle"] for m in got)
    if then == "release":
        release(sqs, url, handles)
    return list(seen.values())


def message_attribute_value(attr: Mapping[str, Any]) -> Any:
    """A message attribute's value: ``str`` for String/Number (kept exact), ``bytes`` for Binary."""
    if "StringValue" in attr:
        return attr["StringValue"]
    if "BinaryValue" in attr:
        return attr["BinaryValue"]
    return attr.get("StringListValues") or attr.get("BinaryListValues")
