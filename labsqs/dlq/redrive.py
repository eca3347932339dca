"""Redrive: move a DLQ's messages back to their source queues (or to a queue you choose).

A server-side message move task where the engine has them (``method="move-task"``), else a client-side
mover with the same end state (``method="fallback"``); see :mod:`labsqs.dlq`'s notes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError

from labsqs.base.calls import (
    default_sqs,
    delete_messages,
    error_code,
    queue_name,
    read_attributes,
    receive_messages,
    release,
)
from labsqs.base.limits import (
    DEDUPLICATION_INTERVAL_SECONDS,
    MAX_MESSAGES_PER_RECEIVE,
    MAX_MOVE_MESSAGES_PER_SECOND,
    MAX_VISIBILITY_TIMEOUT_SECONDS,
)
from labsqs.dlq.listing import LIST_HOLD_SECONDS, dead_letter_sources
from labsqs.errors import QueueNotFound, RedriveError
from labsqs.queues import queue_url

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from labsqs.queues import Queue

Progress = Callable[[str], None]
RedriveMethod = Literal["auto", "move-task", "fallback"]

MOVE_POLL_INTERVAL_SECONDS = 0.25
CONFIRM_WAIT_SECONDS = 1  # one short long poll before a client-side scan calls the queue empty

TASK_RUNNING = "RUNNING"
TASK_COMPLETED = "COMPLETED"
TASK_FAILED = "FAILED"
TASK_CANCELLED = "CANCELLED"
_TASK_ACTIVE = {TASK_RUNNING, "CANCELLING"}
_UNSUPPORTED_CODES = {"NotImplemented", "UnsupportedOperation", "InvalidAction", "InternalFailure", "500"}


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


def _http_status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def _is_fifo(attrs: dict[str, str]) -> bool:
    return attrs.get("FifoQueue", "false").lower() == "true"


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
    attrs = read_attributes(sqs, url)
    fifo = _is_fifo(attrs)
    source_urls = dead_letter_sources(sqs, url)
    if not source_urls:
        raise RedriveError(
            f"{queue_name(url)} is not a dead-letter queue: no queue's RedrivePolicy targets it",
            hint="redrive the DLQ named in the source queue's RedrivePolicy "
            "(labsqs.queues.ensure_queue creates the pair), or move messages with the producer",
        )
    sources: dict[str, str] = {}
    for source_url in source_urls:
        source_attrs = read_attributes(sqs, source_url, ["QueueArn", "FifoQueue"])
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
            dest_attrs = read_attributes(sqs, destination_url, ["QueueArn", "FifoQueue"])
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
        return error_code(exc) in _UNSUPPORTED_CODES or _http_status(exc) in (500, 501)
    return False


def _task_error(exc: ClientError, plan: _Plan) -> RedriveError:
    message = str(exc.response.get("Error", {}).get("Message", exc))
    if "already" in message.lower() and "task" in message.lower():
        return RedriveError(
            f"a message move task is already running on {queue_name(plan.dlq_url)}",
            hint="wait for it, or stop it with labsqs.dlq.cancel_redrive(task_handle)",
            code=error_code(exc),
        )
    return RedriveError(
        f"StartMessageMoveTask on {queue_name(plan.dlq_url)} was refused: {message}",
        hint="check that the source is a DLQ and the destination exists",
        code=error_code(exc),
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
    delete_messages(sqs, plan.dlq_url, [m["ReceiptHandle"] for m in delivered])
    return len(delivered)


@dataclass
class _Fallback:
    """What the client-side mover did so far: moved, held back (with the reasons) and how it ended."""

    to_move: int
    moved: int = 0
    status: str = TASK_COMPLETED
    held: list[str] = field(default_factory=list)  # receipt handles of messages that could not move
    reasons: list[str] = field(default_factory=list)


def _fallback_loop(
    sqs: SQSClient, plan: _Plan, rate: int | None, progress: Progress, timeout_seconds: float, run: _Fallback
) -> None:
    """Receive from the DLQ, send on, delete; until a confirming long poll finds it empty or time is up."""
    # messages that cannot move stay hidden until the run ends, so the loop does not meet them again
    hold_seconds = int(min(MAX_VISIBILITY_TIMEOUT_SECONDS, timeout_seconds + LIST_HOLD_SECONDS))
    deadline = time.monotonic() + timeout_seconds
    wait = 0
    while True:
        if time.monotonic() >= deadline:
            run.status = TASK_CANCELLED
            run.reasons.append(f"stopped after timeout_seconds={timeout_seconds:g}")
            return
        started = time.monotonic()
        messages: list[dict[str, Any]] = [
            dict(m)
            for m in receive_messages(
                sqs,
                plan.dlq_url,
                max_messages=min(MAX_MESSAGES_PER_RECEIVE, rate or MAX_MESSAGES_PER_RECEIVE),
                wait_time_seconds=wait,
                visibility_timeout=hold_seconds,
            )
        ]
        if not messages:
            if wait:
                return
            wait = CONFIRM_WAIT_SECONDS
            continue
        wait = 0
        run.moved += _move_batch(sqs, plan, messages, run.held, run.reasons)
        progress(f"  running: {run.moved}/{run.to_move} moved")
        if rate:
            time.sleep(max(0.0, len(messages) / rate - (time.monotonic() - started)))


def _run_fallback(
    sqs: SQSClient, plan: _Plan, rate: int | None, progress: Progress, timeout_seconds: float
) -> RedriveResult:
    """Client-side redrive: receive from the DLQ, send to the destination, delete from the DLQ."""
    attrs = read_attributes(sqs, plan.dlq_url, ["ApproximateNumberOfMessages"])
    to_move = int(attrs.get("ApproximateNumberOfMessages", 0))
    target = queue_name(plan.destination_url) if plan.destination_url else "its source queues"
    progress(f"redrive {queue_name(plan.dlq_url)} → {target}: client-side mover (no move tasks here)")
    run = _Fallback(to_move)
    try:
        _fallback_loop(sqs, plan, rate, progress, timeout_seconds, run)
    finally:
        release(sqs, plan.dlq_url, run.held)
    held, reasons = run.held, run.reasons
    status = TASK_FAILED if held and run.status == TASK_COMPLETED else run.status
    progress(
        f"  {status.lower()}: {run.moved}/{to_move} moved"
        + (f", {len(held)} left in the DLQ" if held else "")
    )
    return RedriveResult(
        moved=run.moved,
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
    sqs = default_sqs(sqs)
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
    sqs = default_sqs(sqs)
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
            code=error_code(exc),  # type: ignore[arg-type]
        ) from exc
    return int(answer.get("ApproximateNumberOfMessagesMoved", 0))
