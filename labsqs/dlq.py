"""Dead-letter queues: look at what failed, send it back, or throw it away.

A *dead-letter queue* (DLQ) is an ordinary queue that another queue names in its ``RedrivePolicy``
(``{"deadLetterTargetArn": <DLQ ARN>, "maxReceiveCount": 3}``). Every receive of a message raises its
``ApproximateReceiveCount``; the receive *after* the count reached ``maxReceiveCount`` does not hand the
message to the consumer: SQS moves it to the DLQ instead. The DLQ stops a poison message from being
retried forever; it keeps the body, the attributes, the original ``SentTimestamp`` and (as the system
attribute ``DeadLetterQueueSourceArn``) the queue it came from. The DLQ of a FIFO queue must be FIFO.

What you do with a DLQ, and what this module offers:

- **inspect** — read the messages without taking them away. SQS has no "peek": any ``ReceiveMessage``
  hides the message for the visibility timeout and counts a receive. LocalStack has a developer endpoint
  (``/_aws/sqs/messages`` with ``ShowInvisible``/``ShowDelayed``) that lists messages with no side effect;
  :func:`inspect` uses it when the engine has it (``method="peek"``). Elsewhere (AWS, moto) it receives
  the messages and releases them at once with ``ChangeMessageVisibility(0)`` (``method="receive+release"``):
  the messages stay in the queue, but each one's ``ApproximateReceiveCount`` goes up by one, and while the
  scan runs a consumer of that queue cannot get them. The method used is in ``df.attrs["method"]``.
- **redrive** — move the messages back to where they came from (or to a queue you choose) once the bug
  is fixed. SQS does it server-side with a *message move task* (``StartMessageMoveTask``: the source must
  be a DLQ, one running task per queue, at most 500 messages/s, no destination = each message back to its
  original source queue; ``ListMessageMoveTasks`` reports progress; ``CancelMessageMoveTask`` stops it).
  Engines without move tasks (moto) get the same end state from a client-side mover: receive from the
  DLQ, send to the destination, delete from the DLQ (``method="fallback"``).
- **purge** — ``PurgeQueue`` deletes every message of a queue, irrevocably, and SQS allows one purge per
  queue every 60 seconds. :func:`purge` refuses unless you pass ``confirm=True`` and tells you how many
  messages you would lose.

FIFO redrive keeps each message's group id and deduplication id, so order within a group survives. The
catch: a destination FIFO queue remembers deduplication ids for 5 minutes after the *original* send, so a
message redriven to its source within those 5 minutes is silently dropped as a duplicate. The fallback
mover detects it (SQS answers a duplicate with the original ``MessageId``) and leaves such messages in the
DLQ; LocalStack's move task (2026.3.0) reports them as moved and they are gone — redrive a FIFO DLQ to its
source only when its messages are older than 5 minutes, or redrive them to another queue.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
from botocore.exceptions import ClientError

from labsqs.client import developer_endpoint
from labsqs.errors import ConfirmationRequired, PurgeInProgress, QueueNotFound, RedriveError
from labsqs.queues import NON_EXISTENT_QUEUE_CODES, queue_url

if TYPE_CHECKING:
    import argparse

    from mypy_boto3_sqs import SQSClient

    from labsqs.queues import Queue

Progress = Callable[[str], None]
InspectMethod = Literal["auto", "peek", "receive+release"]
RedriveMethod = Literal["auto", "move-task", "fallback"]

PEEK_PATH = "/_aws/sqs/messages"  # LocalStack's side-effect-free message listing
PEEK_TIMEOUT_SECONDS = 5.0
MAX_RECEIVE_MESSAGES = 10  # ReceiveMessage's MaxNumberOfMessages ceiling
MAX_BATCH_ENTRIES = 10
MAX_MOVE_MESSAGES_PER_SECOND = 500  # StartMessageMoveTask's MaxNumberOfMessagesPerSecond ceiling
MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200
DEDUPLICATION_INTERVAL_SECONDS = 300  # FIFO queues remember a deduplication id for 5 minutes
DEFAULT_INSPECT_LIMIT = 1000
INSPECT_HOLD_SECONDS = 30  # how long receive+release hides a message while the scan runs
MOVE_POLL_INTERVAL_SECONDS = 0.25
CONFIRM_WAIT_SECONDS = 1  # one short long poll before a client-side scan calls the queue empty

TASK_RUNNING = "RUNNING"
TASK_COMPLETED = "COMPLETED"
TASK_FAILED = "FAILED"
TASK_CANCELLED = "CANCELLED"
_TASK_ACTIVE = {TASK_RUNNING, "CANCELLING"}

INSPECT_COLUMNS = [
    "message_id", "body", "group_id", "dedup_id", "sequence_number", "receive_count", "sent_at",
    "first_receive_at", "source_arn", "source_queue", "visible", "message_attributes", "attributes",
]  # fmt: skip

_NOT_FOUND_CODES = NON_EXISTENT_QUEUE_CODES
_UNSUPPORTED_CODES = {"NotImplemented", "UnsupportedOperation", "InvalidAction", "InternalFailure", "500"}


# --- results -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RedriveResult:
    """What a redrive did.

    ``status`` is the move task's (``COMPLETED``, ``RUNNING`` when ``timeout_seconds`` ran out first,
    ``FAILED``, ``CANCELLED``); the fallback mover reports ``COMPLETED``, ``FAILED`` (some messages left
    in the DLQ, see ``failure_reason``) or ``CANCELLED`` (stopped by ``timeout_seconds``).
    """

    moved: int
    status: str
    method: str  # "move-task" | "fallback"
    task_handle: str | None = None
    to_move: int | None = None
    failed: int = 0
    failure_reason: str | None = None
    source_arn: str = ""
    destination_arn: str | None = None  # None: each message back to its original source queue


# --- small helpers shared with metrics.py --------------------------------------------------------
def _client(sqs: SQSClient | None) -> SQSClient:
    if sqs is not None:
        return sqs
    from labsqs.client import sqs_client

    return sqs_client()


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _http_status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def queue_name(url: str) -> str:
    """The queue's name, the last segment of its URL or ARN."""
    return url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def _attributes(sqs: SQSClient, url: str, names: Sequence[str] = ("All",)) -> dict[str, str]:
    try:
        return dict(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(names))["Attributes"])  # type: ignore[arg-type]
    except ClientError as exc:
        if _error_code(exc) in _NOT_FOUND_CODES:
            raise QueueNotFound(
                f"queue {queue_name(url)} does not exist",
                hint="create it first (labsqs.queues.ensure_queue) or check the URL",
                code=_error_code(exc),
            ) from exc
        raise


def _is_fifo(attrs: dict[str, str]) -> bool:
    return attrs.get("FifoQueue", "false").lower() == "true"


def _dead_letter_sources(sqs: SQSClient, url: str) -> list[str]:
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
    """Every message of ``queue`` (visible, in flight and delayed) with no side effect, or ``None``.

    Uses LocalStack's developer endpoint ``POST {endpoint}/_aws/sqs/messages?ShowInvisible=true&
    ShowDelayed=true`` speaking the JSON protocol, so each message has the shape ``ReceiveMessage``
    returns, plus the attributes ``IsVisible`` and ``IsDelayed``. ``None`` when the engine has no such
    endpoint (AWS, moto): SQS itself cannot list messages without receiving them.
    """
    sqs = _client(sqs)
    url = queue_url(queue, sqs=sqs)
    endpoint = developer_endpoint(sqs)
    if endpoint is None:
        return None  # real AWS (or moto's mock_aws, which poses as it): no developer endpoint
    request = urllib.request.Request(
        f"{endpoint}{PEEK_PATH}?ShowInvisible=true&ShowDelayed=true",
        data=json.dumps({"QueueUrl": url}).encode(),
        method="POST",
        headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.ReceiveMessage"},
    )
    try:
        with urllib.request.urlopen(request, timeout=PEEK_TIMEOUT_SECONDS) as response:
            answer = json.loads(response.read().decode())
    except urllib.error.HTTPError as exc:
        text = exc.read().decode(errors="replace")
        if exc.code == 400 and any(code in text for code in _NOT_FOUND_CODES):
            raise QueueNotFound(
                f"queue {queue_name(url)} does not exist",
                hint="check the URL or create the queue first",
                code="QueueDoesNotExist",
            ) from exc
        return None
    except (urllib.error.URLError, OSError, ValueError):
        return None
    if not isinstance(answer, dict) or not isinstance(answer.get("Messages", []), list):
        return None
    return list(answer.get("Messages", []))


# --- inspect -------------------------------------------------------------------------------------
def _timestamp(value: str | None) -> pd.Timestamp | None:
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


def _receive_all(
    sqs: SQSClient, url: str, limit: int, hold_seconds: int
) -> tuple[list[dict[str, Any]], list[str]]:
    """Receive up to ``limit`` distinct messages, keeping them hidden; returns messages and handles."""
    seen: dict[str, dict[str, Any]] = {}
    handles: list[str] = []
    wait = 0
    while len(seen) < limit:
        answer = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(MAX_RECEIVE_MESSAGES, limit - len(seen)),
            VisibilityTimeout=hold_seconds,
            WaitTimeSeconds=wait,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = [dict(m) for m in answer.get("Messages", [])]
        for message in messages:
            handles.append(message["ReceiptHandle"])
            seen.setdefault(message["MessageId"], message)
        if not messages:
            if wait:
                break  # a short long poll found nothing either: the queue has no visible message left
            wait = CONFIRM_WAIT_SECONDS  # a short poll samples a subset of servers: ask once more, properly
    return list(seen.values()), handles


def _release(sqs: SQSClient, url: str, handles: Sequence[str]) -> None:
    """Make received messages visible again at once (ChangeMessageVisibility 0)."""
    for start in range(0, len(handles), MAX_BATCH_ENTRIES):
        chunk = handles[start : start + MAX_BATCH_ENTRIES]
        entries = [{"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0} for i, h in enumerate(chunk)]
        sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)  # type: ignore[arg-type]


def inspect(
    dlq: Queue | str,
    *,
    sqs: SQSClient | None = None,
    limit: int = DEFAULT_INSPECT_LIMIT,
    method: InspectMethod = "auto",
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
    sqs = _client(sqs)
    url = queue_url(dlq, sqs=sqs)
    _attributes(sqs, url, ["QueueArn"])  # fail early with QueueNotFound
    sources = _dead_letter_sources(sqs, url)
    default_source = None
    if len(sources) == 1:
        default_source = _attributes(sqs, sources[0], ["QueueArn"]).get("QueueArn")

    messages = peek_messages(url, sqs=sqs) if method in ("auto", "peek") else None
    if messages is not None:
        used = "peek"
    elif method == "peek":
        raise RedriveError(
            f"the engine at {sqs.meta.endpoint_url} has no side-effect-free message listing",
            hint="use method='receive+release' (it raises each message's receive count by one)",
        )
    else:
        used = "receive+release"
        messages, handles = _receive_all(sqs, url, limit, INSPECT_HOLD_SECONDS)
        _release(sqs, url, handles)

    rows = [_row(m, default_source) for m in messages]
    frame = pd.DataFrame(rows, columns=INSPECT_COLUMNS)
    if rows and not frame["group_id"].notna().any():
        # a standard queue has no order: show the oldest first; a FIFO queue keeps the engine's order
        frame = frame.sort_values("sent_at", kind="stable", na_position="last")
    truncated = len(frame) > limit or (used == "receive+release" and len(frame) >= limit)
    frame = frame.head(limit).reset_index(drop=True)
    frame.attrs.update({"method": used, "queue_url": url, "source_queues": sources, "truncated": truncated})
    return frame


# --- redrive -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Plan:
    dlq_url: str
    dlq_arn: str
    fifo: bool
    sources: dict[str, str]  # source ARN -> URL
    destination_url: str | None
    destination_arn: str | None


def _plan(sqs: SQSClient, dlq: Queue | str, destination: Queue | str | None) -> _Plan:
    """Validate a redrive before any message moves."""
    url = queue_url(dlq, sqs=sqs)
    attrs = _attributes(sqs, url)
    fifo = _is_fifo(attrs)
    source_urls = _dead_letter_sources(sqs, url)
    if not source_urls:
        raise RedriveError(
            f"{queue_name(url)} is not a dead-letter queue: no queue's RedrivePolicy targets it",
            hint="redrive the DLQ named in the source queue's RedrivePolicy "
            "(labsqs.queues.ensure_queue creates the pair), or move messages with the producer",
        )
    sources: dict[str, str] = {}
    for source_url in source_urls:
        source_attrs = _attributes(sqs, source_url, ["QueueArn", "FifoQueue"])
        sources[source_attrs["QueueArn"]] = source_url
        if destination is None and _is_fifo(source_attrs) != fifo:
            raise RedriveError(
                f"cannot redrive {'FIFO' if fifo else 'standard'} {queue_name(url)} back to "
                f"{'FIFO' if not fifo else 'standard'} {queue_name(source_url)}",
                hint="FIFO messages go to FIFO queues only; pass a destination of the same kind",
            )
    destination_url = destination_arn = None
    if destination is not None:
        try:
            destination_url = queue_url(destination, sqs=sqs)
            dest_attrs = _attributes(sqs, destination_url, ["QueueArn", "FifoQueue"])
        except QueueNotFound as exc:
            raise RedriveError(
                f"redrive destination {destination!r} does not exist",
                hint="create the destination queue first, or omit destination= to send each message "
                "back to its source queue",
                code=exc.code,
            ) from exc
        destination_arn = dest_attrs["QueueArn"]
        if destination_url == url:
            raise RedriveError(
                f"cannot redrive {queue_name(url)} into itself", hint="pick another destination queue"
            )
        if _is_fifo(dest_attrs) != fifo:
            kind, other = ("FIFO", "standard") if fifo else ("standard", "FIFO")
            raise RedriveError(
                f"cannot redrive {kind} {queue_name(url)} into {other} {queue_name(destination_url)}",
                hint="FIFO messages need a FIFO destination (name ending in .fifo), standard a standard one",
            )
    return _Plan(url, attrs["QueueArn"], fifo, sources, destination_url, destination_arn)


def _unsupported(exc: BaseException) -> bool:
    """True when the engine lacks message move tasks (moto: NotImplementedError in-process, HTTP 500)."""
    if isinstance(exc, NotImplementedError):
        return True
    if isinstance(exc, ClientError):
        return _error_code(exc) in _UNSUPPORTED_CODES or _http_status(exc) in (500, 501)
    return False


def _task_error(exc: ClientError, plan: _Plan) -> RedriveError:
    message = str(exc.response.get("Error", {}).get("Message", exc))
    if "already" in message.lower() and "task" in message.lower():
        return RedriveError(
            f"a message move task is already running on {queue_name(plan.dlq_url)}",
            hint="wait for it, or stop it with labsqs.dlq.cancel_redrive(task_handle)",
            code=_error_code(exc),
        )
    return RedriveError(
        f"StartMessageMoveTask on {queue_name(plan.dlq_url)} was refused: {message}",
        hint="check that the source is a DLQ and the destination exists",
        code=_error_code(exc),
    )


def _current_task(sqs: SQSClient, source_arn: str, handle: str) -> dict[str, Any] | None:
    answer = sqs.list_message_move_tasks(SourceArn=source_arn, MaxResults=10)
    results: list[dict[str, Any]] = [dict(t) for t in answer.get("Results", [])]
    for task in results:
        if task.get("TaskHandle") == handle:
            return task
    if not results:
        return None
    return max(results, key=lambda t: int(t.get("StartedTimestamp", 0)))


def _run_move_task(
    sqs: SQSClient, plan: _Plan, rate: int | None, progress: Progress, timeout_seconds: float
) -> RedriveResult:
    kwargs: dict[str, Any] = {"SourceArn": plan.dlq_arn}
    if plan.destination_arn:
        kwargs["DestinationArn"] = plan.destination_arn
    if rate is not None:
        kwargs["MaxNumberOfMessagesPerSecond"] = rate
    handle = sqs.start_message_move_task(**kwargs)["TaskHandle"]
    target = queue_name(plan.destination_arn) if plan.destination_arn else "its source queues"
    progress(f"redrive {queue_name(plan.dlq_url)} → {target}: move task started")
    deadline = time.monotonic() + timeout_seconds
    last_moved = -1
    task: dict[str, Any] = {}
    while True:
        task = _current_task(sqs, plan.dlq_arn, handle) or task
        moved = int(task.get("ApproximateNumberOfMessagesMoved", 0))
        to_move = task.get("ApproximateNumberOfMessagesToMove")
        status = str(task.get("Status", TASK_RUNNING))
        if moved != last_moved or status not in _TASK_ACTIVE:
            progress(f"  {status.lower()}: {moved}/{to_move if to_move is not None else '?'} moved")
            last_moved = moved
        if status not in _TASK_ACTIVE or time.monotonic() >= deadline:
            break
        time.sleep(MOVE_POLL_INTERVAL_SECONDS)
    if status in _TASK_ACTIVE:
        progress(f"  still {status.lower()} after {timeout_seconds:g} s; cancel with cancel_redrive(handle)")
    return RedriveResult(
        moved=moved,
        status=status,
        method="move-task",
        task_handle=handle,
        to_move=int(to_move) if to_move is not None else None,
        failure_reason=task.get("FailureReason"),
        source_arn=plan.dlq_arn,
        destination_arn=plan.destination_arn,
    )


def _send_entry(message: dict[str, Any], index: int, fifo: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"Id": str(index), "MessageBody": message["Body"]}
    if message.get("MessageAttributes"):
        entry["MessageAttributes"] = message["MessageAttributes"]
    if fifo:
        attrs = message.get("Attributes", {})
        entry["MessageGroupId"] = attrs["MessageGroupId"]
        # the original id keeps the message's identity; SQS reports one for every FIFO message (explicit or
        # the content hash); the message id stands in on engines that do not
        entry["MessageDeduplicationId"] = attrs.get("MessageDeduplicationId") or message["MessageId"]
    return entry


def _move_batch(
    sqs: SQSClient, plan: _Plan, messages: list[dict[str, Any]], held: list[str], reasons: list[str]
) -> int:
    """Send one received batch to its destinations and delete what arrived. Returns how many moved."""
    by_destination: dict[str, list[dict[str, Any]]] = {}
    for message in messages:
        origin = message.get("Attributes", {}).get("DeadLetterQueueSourceArn")
        if plan.destination_url:
            dest = plan.destination_url
        elif origin in plan.sources:
            dest = plan.sources[origin]
        elif len(plan.sources) == 1:
            dest = next(iter(plan.sources.values()))
        else:
            held.append(message["ReceiptHandle"])
            reasons.append(
                f"message {message['MessageId']} has no recorded source and {queue_name(plan.dlq_url)} "
                f"is the DLQ of {len(plan.sources)} queues — pass destination="
            )
            continue
        by_destination.setdefault(dest, []).append(message)

    delivered: list[dict[str, Any]] = []
    for dest, batch in by_destination.items():
        entries = [_send_entry(m, i, plan.fifo) for i, m in enumerate(batch)]
        answer = sqs.send_message_batch(QueueUrl=dest, Entries=entries)  # type: ignore[arg-type]
        for ok in answer.get("Successful", []):
            message = batch[int(ok["Id"])]
            if plan.fifo and ok["MessageId"] == message["MessageId"]:
                # SQS answered with the original message id: the destination took it for a duplicate
                sent_ms = int(message.get("Attributes", {}).get("SentTimestamp", 0))
                retry_at = time.strftime(
                    "%H:%M:%S", time.localtime(sent_ms / 1000 + DEDUPLICATION_INTERVAL_SECONDS)
                )
                held.append(message["ReceiptHandle"])
                reasons.append(
                    f"message {message['MessageId']} was dropped by {queue_name(dest)} as a duplicate "
                    f"(FIFO 5-minute deduplication) — redrive again after {retry_at}, or to another queue"
                )
            else:
                delivered.append(message)
        for bad in answer.get("Failed", []):
            message = batch[int(bad["Id"])]
            held.append(message["ReceiptHandle"])
            reasons.append(f"message {message['MessageId']}: {bad.get('Code')} {bad.get('Message', '')}")
    for start in range(0, len(delivered), MAX_BATCH_ENTRIES):
        chunk = delivered[start : start + MAX_BATCH_ENTRIES]
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)]
        sqs.delete_message_batch(QueueUrl=plan.dlq_url, Entries=entries)  # type: ignore[arg-type]
    return len(delivered)


def _run_fallback(
    sqs: SQSClient, plan: _Plan, rate: int | None, progress: Progress, timeout_seconds: float
) -> RedriveResult:
    """Client-side redrive: receive from the DLQ, send to the destination, delete from the DLQ."""
    attrs = _attributes(sqs, plan.dlq_url, ["ApproximateNumberOfMessages"])
    to_move = int(attrs.get("ApproximateNumberOfMessages", 0))
    target = queue_name(plan.destination_url) if plan.destination_url else "its source queues"
    progress(f"redrive {queue_name(plan.dlq_url)} → {target}: client-side mover (no move tasks here)")
    # messages that cannot move stay hidden until the run ends, so the loop does not meet them again
    hold_seconds = int(min(MAX_VISIBILITY_TIMEOUT_SECONDS, timeout_seconds + INSPECT_HOLD_SECONDS))
    deadline = time.monotonic() + timeout_seconds
    held: list[str] = []
    reasons: list[str] = []
    moved = 0
    wait = 0
    status = TASK_COMPLETED
    try:
        while True:
            if time.monotonic() >= deadline:
                status = TASK_CANCELLED
                reasons.append(f"stopped after timeout_seconds={timeout_seconds:g}")
                break
            started = time.monotonic()
            answer = sqs.receive_message(
                QueueUrl=plan.dlq_url,
                MaxNumberOfMessages=min(MAX_RECEIVE_MESSAGES, rate or MAX_RECEIVE_MESSAGES),
                VisibilityTimeout=hold_seconds,
                WaitTimeSeconds=wait,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            messages: list[dict[str, Any]] = [dict(m) for m in answer.get("Messages", [])]
            if not messages:
                if wait:
                    break
                wait = CONFIRM_WAIT_SECONDS
                continue
            wait = 0
            moved += _move_batch(sqs, plan, messages, held, reasons)
            progress(f"  running: {moved}/{to_move} moved")
            if rate:
                time.sleep(max(0.0, len(messages) / rate - (time.monotonic() - started)))
    finally:
        _release(sqs, plan.dlq_url, held)
    if held and status == TASK_COMPLETED:
        status = TASK_FAILED
    progress(
        f"  {status.lower()}: {moved}/{to_move} moved" + (f", {len(held)} left in the DLQ" if held else "")
    )
    return RedriveResult(
        moved=moved,
        status=status,
        method="fallback",
        task_handle=None,
        to_move=to_move,
        failed=len(held),
        failure_reason="; ".join(reasons[:5]) + (f" (+{len(reasons) - 5} more)" if len(reasons) > 5 else "")
        if reasons
        else None,
        source_arn=plan.dlq_arn,
        destination_arn=plan.destination_arn,
    )


def redrive(
    dlq: Queue | str,
    *,
    destination: Queue | str | None = None,
    sqs: SQSClient | None = None,
    max_messages_per_second: int | None = None,
    progress: Progress = print,
    timeout_seconds: float = 60,
    method: RedriveMethod = "auto",
) -> RedriveResult:
    """Move the messages of ``dlq`` back to their source queues, or to ``destination``.

    Uses a server-side message move task (``method="move-task"``) and polls ``ListMessageMoveTasks``
    every 0.25 s, reporting progress through ``progress``, until the task ends or ``timeout_seconds``
    pass (then the result says ``RUNNING``: the task goes on; :func:`cancel_redrive` stops it). On engines
    without move tasks (moto) it moves the messages itself (``method="fallback"``): FIFO messages keep
    their group id, deduplication id and order within a group. ``method="fallback"`` forces the
    client-side mover.

    Raises :class:`RedriveError` before moving anything when ``dlq`` is not a DLQ, the destination does
    not exist, or FIFO and standard would mix.
    """
    if method not in ("auto", "move-task", "fallback"):
        raise ValueError(f"method must be 'auto', 'move-task' or 'fallback', got {method!r}")
    if (
        max_messages_per_second is not None
        and not 1 <= max_messages_per_second <= MAX_MOVE_MESSAGES_PER_SECOND
    ):
        raise RedriveError(
            f"max_messages_per_second={max_messages_per_second} is out of range",
            hint=f"use 1–{MAX_MOVE_MESSAGES_PER_SECOND}, or None for as fast as SQS goes",
        )
    if timeout_seconds <= 0:
        raise ValueError(f"timeout_seconds must be > 0, got {timeout_seconds}")
    sqs = _client(sqs)
    plan = _plan(sqs, dlq, destination)
    if plan.fifo and plan.destination_url is None:
        progress(
            "note: a FIFO source drops a redriven message as a duplicate when its deduplication id is less "
            "than 5 minutes old (see the labsqs.dlq module notes)"
        )
    if method != "fallback":
        try:
            return _run_move_task(sqs, plan, max_messages_per_second, progress, timeout_seconds)
        except (ClientError, NotImplementedError) as exc:
            if not _unsupported(exc):
                raise _task_error(exc, plan) from exc  # type: ignore[arg-type]
            if method == "move-task":
                raise RedriveError(
                    f"the engine at {sqs.meta.endpoint_url} has no message move tasks",
                    hint="use method='fallback' (or 'auto') to move the messages client-side",
                ) from exc
    return _run_fallback(sqs, plan, max_messages_per_second, progress, timeout_seconds)


def cancel_redrive(task_handle: str, *, sqs: SQSClient | None = None) -> int:
    """Stop a running message move task; returns how many messages it had moved."""
    if not task_handle:
        raise RedriveError("no task handle given", hint="pass RedriveResult.task_handle of a move task")
    sqs = _client(sqs)
    try:
        answer = sqs.cancel_message_move_task(TaskHandle=task_handle)
    except (ClientError, NotImplementedError) as exc:
        if _unsupported(exc):
            raise RedriveError(
                f"the engine at {sqs.meta.endpoint_url} has no message move tasks",
                hint="a fallback redrive cannot be cancelled: it ran in your process and has ended",
            ) from exc
        raise RedriveError(
            "no running move task with that handle",
            hint="it may have finished already; see sqs.list_message_move_tasks(SourceArn=<DLQ ARN>)",
            code=_error_code(exc),  # type: ignore[arg-type]
        ) from exc
    return int(answer.get("ApproximateNumberOfMessagesMoved", 0))


# --- purge ---------------------------------------------------------------------------------------
def _depth(attrs: dict[str, str]) -> tuple[int, int, int]:
    return (
        int(attrs.get("ApproximateNumberOfMessages", 0)),
        int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
        int(attrs.get("ApproximateNumberOfMessagesDelayed", 0)),
    )


def purge(queue: Queue | str, *, confirm: bool = False, sqs: SQSClient | None = None) -> int:
    """Delete every message of ``queue`` (``PurgeQueue``); returns how many messages were there.

    Irreversible, so it refuses with :class:`ConfirmationRequired` (saying how many messages would be
    lost) unless ``confirm=True``. SQS allows one purge per queue every 60 seconds
    (:class:`PurgeInProgress` otherwise); on AWS the purge itself can take up to 60 seconds, and messages
    sent meanwhile may be deleted too. The count is SQS's approximate one (visible + in flight + delayed).
    """
    sqs = _client(sqs)
    url = queue_url(queue, sqs=sqs)
    visible, in_flight, delayed = _depth(_attributes(sqs, url))
    total = visible + in_flight + delayed
    name = queue_name(url)
    if not confirm:
        raise ConfirmationRequired(
            f"purging {name} would delete {total} message(s) for good "
            f"({visible} visible, {in_flight} in flight, {delayed} delayed)",
            hint="pass confirm=True to purge (CLI: --yes)",
        )
    try:
        sqs.purge_queue(QueueUrl=url)
    except ClientError as exc:
        code = _error_code(exc)
        if "PurgeQueueInProgress" in code:
            raise PurgeInProgress(
                f"{name} was purged less than 60 seconds ago; SQS allows one purge per queue every 60 s",
                hint="wait a minute and purge again (the earlier purge may already have emptied it)",
                code=code,
            ) from exc
        if code in _NOT_FOUND_CODES:
            raise QueueNotFound(f"queue {name} does not exist", code=code) from exc
        raise
    return total


# --- CLI -----------------------------------------------------------------------------------------
def _cli_client(args: argparse.Namespace) -> SQSClient:
    from labsqs.client import sqs_client

    return sqs_client(args.endpoint)


def _cmd_inspect(args: argparse.Namespace) -> int:
    frame = inspect(args.queue, sqs=_cli_client(args), limit=args.limit)
    print(
        f"{len(frame)} message(s) in {queue_name(frame.attrs['queue_url'])} (read by {frame.attrs['method']})"
    )
    if len(frame):
        shown = frame[["message_id", "receive_count", "sent_at", "source_queue", "group_id", "body"]].copy()
        shown["body"] = shown["body"].str.slice(0, 60)
        print(shown.to_string(index=False))
    return 0


def _cmd_redrive(args: argparse.Namespace) -> int:
    result = redrive(
        args.queue,
        destination=args.to,
        sqs=_cli_client(args),
        max_messages_per_second=args.rate,
        timeout_seconds=args.timeout,
    )
    print(f"{result.status}: {result.moved} message(s) moved ({result.method})")
    if result.failure_reason:
        print(f"  {result.failure_reason}")
    return 0 if result.status == TASK_COMPLETED else 1


def _cmd_purge(args: argparse.Namespace) -> int:
    count = purge(args.queue, confirm=args.yes, sqs=_cli_client(args))
    print(f"purged {args.queue}: {count} message(s) deleted")
    return 0


def register_cli(subparsers: argparse._SubParsersAction, commands: dict[str, Callable[..., int]]) -> None:
    """Add ``labsqs dlq inspect|redrive|purge QUEUE`` to the ``labsqs`` command."""
    dlq_parser = subparsers.add_parser("dlq", help="dead-letter queues: inspect, redrive, purge")
    actions = dlq_parser.add_subparsers(dest="dlq_command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("queue", help="queue name or URL")
        p.add_argument("--endpoint", help="SQS endpoint (default: the lab's engine)")

    p = actions.add_parser("inspect", help="list a DLQ's messages without consuming them")
    common(p)
    p.add_argument("--limit", type=int, default=DEFAULT_INSPECT_LIMIT)
    p.set_defaults(dlq_handler=_cmd_inspect)
    p = actions.add_parser("redrive", help="move a DLQ's messages back to their source (or --to QUEUE)")
    common(p)
    p.add_argument("--to", help="destination queue (default: each message's source queue)")
    p.add_argument("--rate", type=int, help=f"messages per second, 1–{MAX_MOVE_MESSAGES_PER_SECOND}")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the move (default 60)")
    p.set_defaults(dlq_handler=_cmd_redrive)
    p = actions.add_parser("purge", help="delete every message of a queue (asks for --yes)")
    common(p)
    p.add_argument("--yes", action="store_true", help="really delete the messages")
    p.set_defaults(dlq_handler=_cmd_purge)

    commands["dlq"] = lambda args: int(args.dlq_handler(args))
