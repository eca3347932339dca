"""Read a DLQ's messages without taking them away: :func:`list_messages` (a DataFrame) and
:func:`peek_messages` (LocalStack's side-effect-free listing, ``None`` elsewhere).

pandas is imported when a frame is built, not with this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from labsqs.base import developer
from labsqs.base.calls import default_sqs, queue_name, read_attributes, receive_all
from labsqs.errors import RedriveError
from labsqs.queues import queue_url

if TYPE_CHECKING:
    import pandas as pd
    from mypy_boto3_sqs import SQSClient

    from labsqs.queues import Queue

ListMethod = Literal["auto", "peek", "receive+release"]

DEFAULT_LIST_LIMIT = 1000
LIST_HOLD_SECONDS = 30  # how long receive+release hides a message while the scan runs
LIST_COLUMNS = [
    "message_id", "body", "group_id", "dedup_id", "sequence_number", "receive_count", "sent_at",
    "first_receive_at", "source_arn", "source_queue", "visible", "message_attributes", "attributes",
]  # fmt: skip


def dead_letter_sources(sqs: SQSClient, url: str) -> list[str]:
    """URLs of the queues whose RedrivePolicy targets ``url`` (empty: ``url`` is not a DLQ)."""
    sources: list[str] = []
    kwargs: dict[str, Any] = {"QueueUrl": url}
    while True:
        page = sqs.list_dead_letter_source_queues(**kwargs)
        sources.extend(page.get("queueUrls", []))
        token = page.get("NextToken")
        if not token:
            return sources
        kwargs["NextToken"] = token


def peek_messages(queue: Queue | str, *, sqs: SQSClient | None = None) -> list[dict[str, Any]] | None:
    """Every message of ``queue`` (visible, in flight and delayed) with no side effect, or ``None`` when
    the engine has no developer endpoint (AWS, moto: SQS itself cannot list messages without receiving
    them). See :func:`labsqs.base.developer.peek_messages`."""
    sqs = default_sqs(sqs)
    return developer.peek_messages(sqs, queue_url(queue, sqs=sqs))


def _timestamp(value: str | None) -> pd.Timestamp | None:
    import pandas as pd

    if not value or value == "0":
        return None
    return pd.Timestamp(int(value), unit="ms", tz="UTC")


def _row(message: dict[str, Any], default_source: str | None) -> dict[str, Any]:
    attrs = dict(message.get("Attributes", {}))
    source = attrs.get("DeadLetterQueueSourceArn") or default_source
    # IsVisible / IsDelayed come from the peek endpoint only; a received message is visible by definition
    is_visible = attrs.pop("IsVisible", "true") == "true"
    is_delayed = attrs.pop("IsDelayed", "false") == "true"
    return {
        "message_id": message["MessageId"],
        "body": message.get("Body", ""),
        "group_id": attrs.get("MessageGroupId"),
        "dedup_id": attrs.get("MessageDeduplicationId"),
        "sequence_number": attrs.get("SequenceNumber"),
        "receive_count": int(attrs.get("ApproximateReceiveCount", 0)),
        "sent_at": _timestamp(attrs.get("SentTimestamp")),
        "first_receive_at": _timestamp(attrs.get("ApproximateFirstReceiveTimestamp")),
        "source_arn": source,
        "source_queue": queue_name(source) if source else None,
        "visible": is_visible and not is_delayed,
        "message_attributes": dict(message.get("MessageAttributes", {})),
        "attributes": attrs,
    }


def _read(sqs: SQSClient, url: str, limit: int, method: ListMethod) -> tuple[list[dict[str, Any]], str]:
    """The messages and how they were read: peek when the engine can (and ``method`` allows)."""
    messages = peek_messages(url, sqs=sqs) if method in ("auto", "peek") else None
    if messages is not None:
        return messages, "peek"
    if method == "peek":
        raise RedriveError(
            f"the engine at {sqs.meta.endpoint_url} has no side-effect-free message listing",
            hint="use method='receive+release' (it raises each message's receive count by one)",
        )
    received = receive_all(sqs, url, limit=limit, hold_seconds=LIST_HOLD_SECONDS, then="release")
    return [dict(m) for m in received], "receive+release"


def list_messages(
    dlq: Queue | str,
    *,
    sqs: SQSClient | None = None,
    limit: int = DEFAULT_LIST_LIMIT,
    method: ListMethod = "auto",
) -> pd.DataFrame:
    """The messages of ``dlq`` as a DataFrame, one row per message, left in the queue (oldest first;
    a FIFO queue in the order the engine lists it).

    Columns: ``message_id``, ``body``, ``group_id`` / ``dedup_id`` / ``sequence_number`` (FIFO),
    ``receive_count``, ``sent_at`` and ``first_receive_at`` (UTC datetimes; ``sent_at`` is the original
    send to the source queue), ``source_arn`` / ``source_queue`` (the message's ``DeadLetterQueueSourceArn``
    when the engine records it, else the single queue whose RedrivePolicy targets ``dlq``, else None),
    ``visible`` (False while in flight or delayed), ``message_attributes``, ``attributes`` (all system
    attributes as SQS sent them).

    ``method`` — how the messages were read, also recorded in ``df.attrs["method"]``:

    - ``"peek"``: LocalStack's developer endpoint; nothing changes (no receive count, no visibility).
      Lists in-flight and delayed messages too.
    - ``"receive+release"``: ``ReceiveMessage`` then ``ChangeMessageVisibility(0)``. Each message's
      ``ApproximateReceiveCount`` goes up by one (the count shown includes this inspection) and messages
      already in flight are not seen. On a FIFO queue a receive locks the group, so at most 10 messages
      per message group are seen.
    - ``"auto"`` (default): peek when the engine offers it, else receive+release.

    ``df.attrs`` also holds ``queue_url``, ``source_queues`` (URLs of the queues that use it as their DLQ)
    and ``truncated`` (True when ``limit`` cut the list).
    """
    if limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    if method not in ("auto", "peek", "receive+release"):
        raise ValueError(f"method must be 'auto', 'peek' or 'receive+release', got {method!r}")
    import pandas as pd

    sqs = default_sqs(sqs)
    url = queue_url(dlq, sqs=sqs)
    read_attributes(sqs, url, ["QueueArn"])  # fail early with QueueNotFound
    sources = dead_letter_sources(sqs, url)
    default_source = (
        read_attributes(sqs, sources[0], ["QueueArn"]).get("QueueArn") if len(sources) == 1 else None
    )
    messages, used = _read(sqs, url, limit, method)
    rows = [_row(m, default_source) for m in messages]
    frame = pd.DataFrame(rows, columns=LIST_COLUMNS)
    if rows and not frame["group_id"].notna().any():
        # a standard queue has no order: show the oldest first; a FIFO queue keeps the engine's order
        frame = frame.sort_values("sent_at", kind="stable", na_position="last")
    truncated = len(frame) > limit or (used == "receive+release" and len(frame) >= limit)
    frame = frame.head(limit).reset_index(drop=True)
    frame.attrs.update({"method": used, "queue_url": url, "source_queues": sources, "truncated": truncated})
    return frame
