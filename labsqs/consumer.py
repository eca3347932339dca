"""Consumer: receive, process, delete — the loop every SQS worker runs, done carefully.

SQS never pushes. A consumer *asks* (``ReceiveMessage``) and the queue lends it up to 10 messages. A
received message is not gone: it is **in flight**, hidden from other consumers for the queue's
*visibility timeout*. If the consumer deletes it (``DeleteMessage``) before the timeout ends, it is done;
if not — the handler failed, the process crashed, or it was simply too slow — the message becomes visible
again and is delivered once more, with ``ApproximateReceiveCount`` one higher. After ``maxReceiveCount``
receives a queue with a redrive policy moves it to its dead-letter queue (DLQ). That is *at-least-once*
delivery: design handlers to be idempotent (see :mod:`labsqs.idempotency`).

What this module adds to that bare loop, each piece a small function of :class:`Consumer`:

**Long polling** (``wait_time_seconds``, default 20, the maximum)
    A receive waits up to 20 s for a message instead of answering "empty" at once: fewer requests
    (empty receives are billed too) and no busy loop. An empty queue costs ~3 requests a minute.
**Batching**
    Up to 10 messages a receive (``max_messages``); the successful ones are deleted together with one
    ``DeleteMessageBatch`` whose per-entry failures are reported as data, not raised.
**Failure = do nothing (or back off)**
    A failed message is simply not deleted: it comes back after its visibility timeout. With
    ``retry_backoff=lambda receive_count: seconds`` the consumer sets that message's visibility
    (``ChangeMessageVisibility``) so retries spread out: 1 s, 2 s, 4 s ...
**Visibility heartbeat** (``heartbeat=True``)
    A handler slower than the visibility timeout would see its message delivered to a second consumer
    while it still works on it. A background thread extends the visibility of every message this
    consumer holds (``ChangeMessageVisibilityBatch``) before it runs out.
**Workers**
    ``workers=N`` runs N receive-process-delete loops on threads sharing one boto3 client (clients are
    thread-safe; sessions and resources are not).
**Idempotency** (``idempotency=IdempotencyStore(path)``, ``key=``)
    Before the handler runs, the message's key (default: its MessageId) is claimed in a SQLite file; a
    redelivered message whose key is already done is deleted without running the handler again
    (``duplicates_skipped``). The claim lasts as long as the message stays hidden.
**Graceful stop** (``stop()``, SIGINT/SIGTERM with ``handle_signals=True``, Ctrl-C in a notebook)
    No new receives; the handler running now finishes and its message is deleted; messages received but
    not started are *released* (visibility 0) so another consumer gets them at once instead of waiting
    out the timeout. A receive already waiting finishes first (at most ``wait_time_seconds``).
**FIFO rules** (queues whose name ends in ``.fifo``)
    SQS delivers a message group in order and holds the group while any of its messages is in flight.
    One receive may return several messages of a group; they are processed in order, and after a
    failure the *rest of that group in the batch is not processed*: it is handed back (counted as
    ``released``) so the failed message is retried first, while other groups in the batch go on
    (Powertools' ``SqsFifoPartialProcessor(skip_group_on_error=True)`` model). The handed-back messages
    and the failed one come back together (one visibility for all, at least 1 s): on AWS the group lock
    alone would keep the order, but LocalStack reopens a group as soon as *any* of its older messages
    becomes visible again — even while later ones are in flight — so the lab does not rely on the lock.
    Mind the cost: each hand-back uses up one of the held messages' receives.
**FIFO guard** (FIFO queues with a redrive policy; ``fifo_guard=``, on by default)
    A head that fails ``maxReceiveCount`` times would take the followers handed back with it each time to
    the DLQ, unprocessed. So after a failure the consumer notes the group's head as *unsettled*
    (:class:`FifoGuard`) and, while such a head may be visible, receives **one** message at a time: if SQS
    picks that group it returns the head alone, and the followers stay behind the group lock, unreceived
    (you cannot choose the group a receive returns; you can choose how many). While every unsettled head
    is hidden — in its retry hold, or in flight again — no receive can return its group, so batches of 10
    go on, their long poll cut short so it ends before the head can reappear. A head is settled when it
    is processed, when it failed its last allowed receive (``maxReceiveCount``, read once from the
    queue's RedrivePolicy: SQS moves it to the DLQ on the next receive), or when a receive returns a later
    message of its group. Healthy runs never shrink a receive; the followers pay one receive (the batch
    that found the failure) instead of ``maxReceiveCount``. The guard knows what its consumer saw: give
    several ``Consumer`` objects on one queue one shared ``FifoGuard()``; worker processes share theirs
    through their SQLite log (:class:`labsqs.worker.SharedFifoGuard`). A long poll already waiting when
    the head failed was asked for 10 before anyone knew, and may still take the group in a batch.

>>> stats = consume(url, lambda m: print(m.json()), idle_polls=1)
>>> stats.snapshot()["processed"]
"""

from __future__ import annotations

import json
import logging
import math
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from labsqs.errors import InvalidConsumerOption, InvalidMessage, QueueNotFound, ReceiptHandleError
from labsqs.idempotency import IdempotencyStore, message_id_key
from labsqs.queues import RedrivePolicy, queue_missing, queue_url

if TYPE_CHECKING:
    import pandas as pd
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType
    from mypy_boto3_sqs.type_defs import (
        BatchResultErrorEntryTypeDef,
        ChangeMessageVisibilityBatchRequestEntryTypeDef,
        DeleteMessageBatchRequestEntryTypeDef,
        MessageTypeDef,
    )

log = logging.getLogger(__name__)

MAX_WAIT_TIME_SECONDS = 20  # SQS's long-poll ceiling
MAX_MESSAGES_PER_RECEIVE = 10  # SQS returns at most 10 messages a receive
MAX_BATCH_ENTRIES = 10  # DeleteMessageBatch / ChangeMessageVisibilityBatch
MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200  # 12 h
MAX_WORKERS = 64
FIFO_HOLD_MARGIN_SECONDS = 1  # a FIFO group handed back after a failure stays hidden at least this long
FIFO_GUARD_MARGIN_SECONDS = 0.5  # a batch receive must end this long before an unsettled head may reappear
MIN_HEARTBEAT_EVERY_SECONDS = 0.1
MAX_FAILURES_KEPT = 100  # ConsumerStats.failures keeps the most recent ones
JOIN_POLL_SECONDS = 0.2  # the calling thread wakes this often (so Ctrl-C is seen)


# --- queues ----------------------------------------------------------------------------------------
def resolve_queue_url(queue: Any, sqs: SQSClient) -> str:
    """A queue URL from a ``Queue``, a URL or a queue name (see :func:`labsqs.queues.queue_url`)."""
    return queue_url(queue, sqs=sqs)


def is_fifo_url(url: str) -> bool:
    """FIFO queue names end in ``.fifo`` (and so do their URLs)."""
    return url.rstrip("/").endswith(".fifo")


def _queue_error(exc: ClientError, queue: str) -> Exception:
    code = exc.response.get("Error", {}).get("Code", "")
    if queue_missing(exc):
        return QueueNotFound(
            f"queue {queue} does not exist on this endpoint",
            hint="create it first (labsqs.queues.ensure_queue) or check the name, URL and engine "
            "(a restarted LocalStack has lost every queue and message: it keeps nothing across restarts)",
            code=code,
        )
    return exc


def queue_attributes(sqs: SQSClient, url: str, names: Sequence[QueueAttributeNameType]) -> dict[str, str]:
    """Some of a queue's attributes (one GetQueueAttributes); QueueNotFound when it does not exist."""
    try:
        answer = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(names))
        return {str(k): v for k, v in answer["Attributes"].items()}
    except ClientError as exc:
        raise _queue_error(exc, url) from exc


def queue_visibility_timeout(sqs: SQSClient, url: str) -> int:
    """The queue's default VisibilityTimeout, in seconds."""
    return int(queue_attributes(sqs, url, ["VisibilityTimeout"])["VisibilityTimeout"])


# --- messages --------------------------------------------------------------------------------------
def _attribute_value(attr: Mapping[str, Any]) -> Any:
    """A message attribute's value: str for String/Number (kept exact), bytes for Binary."""
    if "StringValue" in attr:
        return attr["StringValue"]
    if "BinaryValue" in attr:
        return attr["BinaryValue"]
    return attr.get("StringListValues") or attr.get("BinaryListValues")


_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Message:
    """One received message, as a handler sees it.

    ``attributes`` are SQS's system attributes (``ApproximateReceiveCount``, ``SentTimestamp``,
    ``MessageGroupId``, ``SequenceNumber`` ...); ``message_attributes`` are the producer's own, as values
    (String/Number → ``str``, Binary → ``bytes``).
    """

    message_id: str
    receipt_handle: str
    body: str
    queue_url: str
    attributes: Mapping[str, str] = field(default_factory=dict, compare=False)
    message_attributes: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_sqs(cls, raw: Mapping[str, Any], queue_url: str) -> Message:
        """Build from one entry of a ReceiveMessage answer."""
        # read-only views over the answer's own (fresh) dicts: no copies on the hot path
        attrs = raw.get("MessageAttributes")
        return cls(
            raw["MessageId"],
            raw["ReceiptHandle"],
            raw.get("Body", ""),
            queue_url,
            MappingProxyType(raw.get("Attributes") or {}),
            MappingProxyType({k: _attribute_value(v) for k, v in attrs.items()}) if attrs else _EMPTY,
        )

    @property
    def receive_count(self) -> int:
        """How many times SQS has delivered this message (1 on the first delivery)."""
        return int(self.attributes.get("ApproximateReceiveCount", "1"))

    @property
    def group_id(self) -> str | None:
        """The FIFO message group (None on standard queues)."""
        return self.attributes.get("MessageGroupId")

    @property
    def sent_at(self) -> datetime:
        """When SQS accepted the message (UTC)."""
        return datetime.fromtimestamp(int(self.attributes["SentTimestamp"]) / 1000, tz=UTC)

    def json(self) -> Any:
        """The body parsed as JSON; :class:`~labsqs.errors.InvalidMessage` says why when it is not."""
        try:
            return json.loads(self.body)
        except json.JSONDecodeError as exc:
            preview = self.body[:40] + ("..." if len(self.body) > 40 else "")
            raise InvalidMessage(
                f"message {self.message_id} body is not JSON ({exc.msg} at line {exc.lineno} "
                f"column {exc.colno}): {preview!r}",
                hint="send JSON bodies (json.dumps) or read message.body as text",
            ) from exc


@dataclass(frozen=True, slots=True)
class MessageFailure:
    """One failed handler call, kept as data (``ConsumerStats.failures``)."""

    message_id: str
    group_id: str | None
    receive_count: int
    error: str


# --- statistics ------------------------------------------------------------------------------------
_COUNTERS = (
    "received",
    "processed",
    "failed",
    "redelivered",
    "duplicates_skipped",
    "deferred",
    "released",
    "deleted",
    "delete_failed",
    "receives",
    "empty_receives",
    "guarded_receives",
    "heartbeats",
)


@dataclass
class ConsumerStats:
    """What a run did. Live while the run goes on (read it from another thread or a notebook cell).

    ``redelivered`` counts received messages with ``ApproximateReceiveCount > 1``; ``released`` messages
    were handed back unprocessed (stop, FIFO group after a failure); ``deferred`` ones were being
    processed by another live worker (idempotency claim) and were left to come back; ``heartbeats``
    counts visibility extensions; ``guarded_receives`` the receives cut to one message because a failed
    FIFO head was unsettled (:class:`FifoGuard`); ``latencies_ms`` holds, per processed message,
    SentTimestamp → processed in milliseconds.
    """

    received: int = 0
    processed: int = 0
    failed: int = 0
    redelivered: int = 0
    duplicates_skipped: int = 0
    deferred: int = 0
    released: int = 0
    deleted: int = 0
    delete_failed: int = 0
    receives: int = 0
    empty_receives: int = 0
    guarded_receives: int = 0
    heartbeats: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    failures: deque[MessageFailure] = field(default_factory=lambda: deque(maxlen=MAX_FAILURES_KEPT))
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    stop_reason: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)

    def record_success(self, latency_ms: float) -> None:
        with self._lock:
            self.processed += 1
            self.latencies_ms.append(latency_ms)

    def record_failure(self, failure: MessageFailure) -> None:
        with self._lock:
            self.failed += 1
            self.failures.append(failure)

    @property
    def elapsed_seconds(self) -> float:
        return (self.finished_at or time.time()) - self.started_at

    def snapshot(self) -> dict[str, Any]:
        """Counters, elapsed time, throughput and latency percentiles, as one flat dict."""
        with self._lock:
            data: dict[str, Any] = {name: getattr(self, name) for name in _COUNTERS}
            latencies = sorted(self.latencies_ms)
        elapsed = self.elapsed_seconds
        data["elapsed_seconds"] = round(elapsed, 3)
        data["processed_per_second"] = round(data["processed"] / elapsed, 1) if elapsed > 0 else 0.0
        data.update(latency_summary(latencies))
        data["stop_reason"] = self.stop_reason
        return data

    as_dict = snapshot

    def to_frame(self) -> pd.DataFrame:
        """The snapshot as a one-row pandas DataFrame (concatenate runs to compare them)."""
        import pandas as pd

        return pd.DataFrame([self.snapshot()])


def latency_summary(sorted_ms: Sequence[float]) -> dict[str, float | None]:
    """p50/p95/p99/max/mean of already sorted latencies (None when empty)."""
    if not sorted_ms:
        return {f"latency_ms_{k}": None for k in ("p50", "p95", "p99", "max", "mean")}

    def pct(p: float) -> float:
        return round(sorted_ms[min(len(sorted_ms) - 1, math.ceil(p * len(sorted_ms)) - 1)], 1)

    return {
        "latency_ms_p50": pct(0.50),
        "latency_ms_p95": pct(0.95),
        "latency_ms_p99": pct(0.99),
        "latency_ms_max": round(sorted_ms[-1], 1),
        "latency_ms_mean": round(sum(sorted_ms) / len(sorted_ms), 1),
    }


# --- requests: receive, delete, change visibility --------------------------------------------------
def receive_messages(
    sqs: SQSClient,
    url: str,
    *,
    max_messages: int = MAX_MESSAGES_PER_RECEIVE,
    wait_time_seconds: int = MAX_WAIT_TIME_SECONDS,
    visibility_timeout: int | None = None,
) -> list[MessageTypeDef]:
    """One ReceiveMessage with every system and message attribute; the raw entries."""
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


def delete_messages(
    sqs: SQSClient, url: str, receipt_handles: Sequence[str]
) -> list[BatchResultErrorEntryTypeDef]:
    """DeleteMessageBatch in chunks of 10; returns the failed entries (``Id`` = index as str)."""
    failed: list[BatchResultErrorEntryTypeDef] = []
    for start in range(0, len(receipt_handles), MAX_BATCH_ENTRIES):
        chunk = receipt_handles[start : start + MAX_BATCH_ENTRIES]
        entries: list[DeleteMessageBatchRequestEntryTypeDef] = [
            {"Id": str(start + i), "ReceiptHandle": h} for i, h in enumerate(chunk)
        ]
        failed.extend(sqs.delete_message_batch(QueueUrl=url, Entries=entries).get("Failed", []))
    return failed


def change_visibility(
    sqs: SQSClient, url: str, changes: Sequence[tuple[str, int]]
) -> list[BatchResultErrorEntryTypeDef]:
    """ChangeMessageVisibilityBatch for ``(receipt_handle, seconds)`` pairs; returns failed entries."""
    failed: list[BatchResultErrorEntryTypeDef] = []
    for start in range(0, len(changes), MAX_BATCH_ENTRIES):
        chunk = changes[start : start + MAX_BATCH_ENTRIES]
        entries: list[ChangeMessageVisibilityBatchRequestEntryTypeDef] = [
            {"Id": str(start + i), "ReceiptHandle": h, "VisibilityTimeout": s}
            for i, (h, s) in enumerate(chunk)
        ]
        failed.extend(sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries).get("Failed", []))
    return failed


RECEIPT_HANDLE_ERROR_CODES = frozenset(
    {"ReceiptHandleIsInvalid", "MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight"}
)


def _receipt_error(exc: ClientError, url: str) -> Exception | None:
    """A refused receipt handle as :class:`ReceiptHandleError`, a missing queue as QueueNotFound; None
    for anything else (re-raise it as it is)."""
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
    return _queue_error(exc, url) if queue_missing(exc) else None


def delete_message(sqs: SQSClient, url: str, receipt_handle: str) -> None:
    """DeleteMessage for one receipt handle; :class:`ReceiptHandleError` when SQS refuses the handle."""
    try:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=receipt_handle)
    except ClientError as exc:
        err = _receipt_error(exc, url)
        if err is None:
            raise
        raise err from exc


def change_message_visibility(sqs: SQSClient, url: str, receipt_handle: str, seconds: int) -> None:
    """ChangeMessageVisibility for one receipt handle; :class:`ReceiptHandleError` when it is refused
    (from another queue, or outdated: the message was received again since)."""
    try:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds)
    except ClientError as exc:
        err = _receipt_error(exc, url)
        if err is None:
            raise
        raise err from exc


def exponential_backoff(base_seconds: int = 1, cap_seconds: int = 900) -> Callable[[int], int]:
    """``retry_backoff`` giving base, 2·base, 4·base ... seconds (by receive count), at most cap."""

    def backoff(receive_count: int) -> int:
        return int(min(cap_seconds, base_seconds * 2 ** max(0, receive_count - 1)))

    return backoff


# --- in-flight registry and heartbeat --------------------------------------------------------------
class _InFlight:
    """The messages this consumer holds (received, not yet deleted or handed back), with deadlines
    and, when idempotency is on, the key each one has claimed.

    The heartbeat extends them under the same lock that workers take to drop them, so an extension
    can never land after a release and hide a released message again.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.deadlines: dict[str, float] = {}  # receipt handle -> when its visibility ends (time.monotonic)
        self.keys: dict[str, str] = {}  # receipt handle -> claimed idempotency key

    def add(self, messages: Sequence[Message], deadline: float) -> None:
        with self.lock:
            for m in messages:
                self.deadlines[m.receipt_handle] = deadline

    def seconds_left(self, message: Message) -> float:
        with self.lock:
            return self.deadlines.get(message.receipt_handle, 0.0) - time.monotonic()

    def claimed(self, message: Message, key: str) -> None:
        with self.lock:
            self.keys[message.receipt_handle] = key

    def drop(self, messages: Sequence[Message]) -> dict[str, float]:
        """Stop tracking ``messages``; returns their last deadlines."""
        with self.lock:
            for m in messages:
                self.keys.pop(m.receipt_handle, None)
            return {
                m.receipt_handle: self.deadlines.pop(m.receipt_handle, time.monotonic()) for m in messages
            }


class _Heartbeat(threading.Thread):
    """Every ``every`` seconds, extend each held message that would expire within two ticks (and renew
    its idempotency claim for as long)."""

    def __init__(
        self,
        sqs: SQSClient,
        url: str,
        inflight: _InFlight,
        visibility: int,
        every: float,
        stats: ConsumerStats,
        store: IdempotencyStore | None = None,
    ) -> None:
        super().__init__(name="labsqs-heartbeat", daemon=True)
        self.sqs, self.url, self.inflight, self.visibility, self.every = sqs, url, inflight, visibility, every
        self.stats, self.store = stats, store
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.every):
            try:
                self.beat()
            except Exception:  # noqa: BLE001 - a failed beat must not kill the consumer
                log.warning(
                    "visibility heartbeat failed; held messages may be delivered again", exc_info=True
                )

    def beat(self) -> int:
        with self.inflight.lock:
            now = time.monotonic()
            due = [h for h, deadline in self.inflight.deadlines.items() if deadline - now <= 2 * self.every]
            if not due:
                return 0
            failed = change_visibility(self.sqs, self.url, [(h, self.visibility) for h in due])
            lost = {due[int(f["Id"])] for f in failed}
            for h in due:
                if h in lost:
                    self.inflight.deadlines.pop(h, None)
                else:
                    self.inflight.deadlines[h] = now + self.visibility
            keys = [self.inflight.keys[h] for h in due if h not in lost and h in self.inflight.keys]
        if keys and self.store is not None:
            self.store.renew(keys, self.visibility)
        for f in failed:
            log.warning(
                "could not extend a message's visibility (%s): it may be delivered again", f.get("Code")
            )
        self.stats.add(heartbeats=len(due) - len(failed))
        return len(due) - len(failed)


class _Budget:
    """How many more messages a run may take (``run(max_messages=...)``), shared by the workers."""

    def __init__(self, limit: int | None) -> None:
        self.left = limit
        self.lock = threading.Lock()

    def take(self, n: int) -> int:
        if self.left is None:
            return n
        with self.lock:
            granted = min(n, self.left)
            self.left -= granted
            return granted

    def give_back(self, n: int) -> None:
        if self.left is not None and n:
            with self.lock:
                self.left += n

    @property
    def exhausted(self) -> bool:
        return self.left == 0


# --- FIFO guard: a failed head must not drag its group's followers to the DLQ ----------------------
class FifoGuard:
    """The FIFO groups whose head failed and is not settled yet: group -> (head's MessageId, epoch seconds
    when the head may be visible again). See "FIFO guard" in the module notes for the rules.

    This one lives in memory and serves one consumer's threads (one process). Independent processes on
    one queue would each learn of a failure only when it hits them — a fresh or restarted process would
    drag the followers along once more — so :class:`labsqs.worker.SharedFifoGuard` keeps the same records
    in the workers' shared SQLite file. A subclass overrides the three storage methods below.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._heads: dict[str, tuple[str, float]] = {}

    def heads(self) -> dict[str, tuple[str, float]]:
        """Every unsettled head: group -> (MessageId, epoch seconds when it may be visible again)."""
        with self._lock:
            return dict(self._heads)

    def put(self, group: str, message_id: str, visible_at: float) -> None:
        """Note (or move) the unsettled head of ``group``."""
        with self._lock:
            self._heads[group] = (message_id, visible_at)

    def drop(self, settled: Mapping[str, str]) -> None:
        """Forget ``group -> MessageId`` heads, each only while that message is still its group's head."""
        with self._lock:
            for group, message_id in settled.items():
                if self._heads.get(group, ("", 0.0))[0] == message_id:
                    del self._heads[group]

    def received(self, messages: Sequence[Message], hidden_until: float) -> None:
        """After a receive (or a hand-back at once): an unsettled head that came back is hidden until
        ``hidden_until``; a group that returned any *later* message has no unsettled head any more."""
        heads = self.heads()
        if not heads:
            return
        groups = {m.group_id for m in messages if m.group_id in heads}
        back = {m.group_id for m in messages if m.group_id in groups and m.message_id == heads[m.group_id][0]}
        for group in back:
            self.put(group, heads[group][0], hidden_until)
        gone = {g: heads[g][0] for g in groups - back if g is not None}
        if gone:
            self.drop(gone)

    def settled(self, messages: Sequence[Message]) -> None:
        """Forget the heads among ``messages`` (processed and deleted)."""
        heads = self.heads()
        if not heads:
            return
        done = {m.group_id: m.message_id for m in messages if m.group_id in heads and m.group_id is not None}
        if done:
            self.drop(done)

    def visible_in(self) -> float | None:
        """Seconds until the first unsettled head may be visible (<= 0: it may be now); None: none."""
        heads = self.heads()
        return min(at for _, at in heads.values()) - time.time() if heads else None


def guarded_receive(wanted: int, wait_seconds: int, head_visible_in: float | None) -> tuple[int, int]:
    """(MaxNumberOfMessages, WaitTimeSeconds) for the next receive of a guarded FIFO queue.

    A batch while no unsettled head can come back before the receive ends (its long poll shortened to
    fit, when that leaves a second or more); one message otherwise, so a head that SQS hands out comes
    alone. ``head_visible_in`` is :meth:`FifoGuard.visible_in`.

    >>> guarded_receive(10, 20, None), guarded_receive(10, 20, 5.8), guarded_receive(10, 20, 0.9)
    ((10, 20), (10, 5), (1, 20))
    """
    if head_visible_in is None or wanted == 1:
        return wanted, wait_seconds
    room = head_visible_in - FIFO_GUARD_MARGIN_SECONDS
    if room >= wait_seconds:
        return wanted, wait_seconds
    if room >= 1:
        return wanted, int(room)
    return 1, wait_seconds


# --- the consumer ----------------------------------------------------------------------------------
_PROCESSED, _FAILED, _DUPLICATE, _DEFERRED = "processed", "failed", "duplicate", "deferred"


class Consumer:
    """Receive → handle → delete, with batching, heartbeat, workers, graceful stop and FIFO rules.

    >>> c = Consumer(url, handle, workers=4, visibility_timeout=30)
    >>> stats = c.run(idle_polls=3)          # until 3 empty receives in a row
    >>> c.stop()                             # from another thread: graceful
    """

    def __init__(
        self,
        queue: Any,
        handler: Callable[[Message], Any],
        *,
        sqs: SQSClient | None = None,
        workers: int = 1,
        wait_time_seconds: int = MAX_WAIT_TIME_SECONDS,
        max_messages: int = MAX_MESSAGES_PER_RECEIVE,
        visibility_timeout: int | None = None,
        heartbeat: bool = True,
        heartbeat_every_seconds: float | None = None,
        retry_backoff: Callable[[int], int] | None = None,
        idempotency: IdempotencyStore | None = None,
        key: Callable[[Message], str] | None = None,
        on_error: Callable[[Message, BaseException], None] | None = None,
        handle_signals: bool = False,
        fifo_guard: FifoGuard | bool = True,
    ) -> None:
        _check_options(
            handler=handler,
            workers=workers,
            wait_time_seconds=wait_time_seconds,
            max_messages=max_messages,
            visibility_timeout=visibility_timeout,
            heartbeat_every_seconds=heartbeat_every_seconds,
            key=key,
            idempotency=idempotency,
        )
        if sqs is None:
            from labsqs.client import sqs_client

            sqs = sqs_client()
        self.sqs = sqs
        self.queue = queue
        self.handler = handler
        self.workers = workers
        self.wait_time_seconds = wait_time_seconds
        self.max_messages = max_messages
        self.visibility_timeout = visibility_timeout
        self.heartbeat = heartbeat
        self.heartbeat_every_seconds = heartbeat_every_seconds
        self.retry_backoff = retry_backoff
        self.idempotency = idempotency
        self.key = key or message_id_key
        self.on_error = on_error
        self.handle_signals = handle_signals
        # FIFO queues with a redrive policy only; False turns it off (to measure what it saves)
        self.fifo_guard = FifoGuard() if fifo_guard is True else fifo_guard or None
        self.stats = ConsumerStats()
        self._url: str | None = None
        self._fifo = False
        self._visibility = 0
        self._guard: FifoGuard | None = None  # self.fifo_guard while the queue is FIFO with a redrive policy
        self._max_receive_count: int | None = None
        self._stopping = threading.Event()  # graceful stop: finish the running handler, release the rest
        self._no_receives = threading.Event()  # soft stop (idle, timeout): no new receives
        self._inflight = _InFlight()
        self._budget = _Budget(None)
        self._idle_lock = threading.Lock()
        self._idle_in_a_row = 0
        self._idle_limit: int | None = None
        self._deadline: float | None = None
        self._errors: list[BaseException] = []
        self._running = False

    # -- public ---------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._url is None:
            self._url = resolve_queue_url(self.queue, self.sqs)
        return self._url

    def run(
        self,
        *,
        max_messages: int | None = None,
        idle_polls: int | None = None,
        timeout_seconds: float | None = None,
    ) -> ConsumerStats:
        """Consume until ``max_messages`` are handled (processed, failed or skipped as duplicates),
        ``idle_polls`` empty receives in a row, ``timeout_seconds``, or :meth:`stop`. Returns the stats.

        Without any bound it runs until stopped (``stop()``, a signal, Ctrl-C).
        """
        for name, value in (("max_messages", max_messages), ("idle_polls", idle_polls)):
            if value is not None and value < 1:
                raise InvalidConsumerOption(f"{name} must be >= 1 (or None for no limit), got {value}")
        if timeout_seconds is not None and timeout_seconds <= 0:
            raise InvalidConsumerOption(f"timeout_seconds must be > 0, got {timeout_seconds}")
        if self._running:
            raise InvalidConsumerOption("this consumer is already running", hint="create a second Consumer")
        self._prepare(max_messages, idle_polls, timeout_seconds)
        heartbeat = self._start_heartbeat()
        threads = [
            threading.Thread(target=self._worker_main, name=f"labsqs-consumer-{i}", daemon=True)
            for i in range(self.workers)
        ]
        try:
            with self._signals():
                for t in threads:
                    t.start()
                self._wait(threads)
        finally:
            if heartbeat is not None:
                heartbeat.done.set()
                heartbeat.join()
            self._finish()
        if self._errors:
            raise self._errors[0]
        return self.stats

    def stop(self, reason: str = "stop") -> None:
        """Graceful stop: no new receives, the running handlers finish, unstarted messages are released."""
        if not self._stopping.is_set():
            self._set_reason(reason)
            self._stopping.set()
            self._no_receives.set()

    # -- run lifecycle ----------------------------------------------------------------------------
    def _prepare(
        self, max_messages: int | None, idle_polls: int | None, timeout_seconds: float | None
    ) -> None:
        self._fifo = is_fifo_url(self.url)
        names: list[QueueAttributeNameType] = (
            [] if self.visibility_timeout is not None else ["VisibilityTimeout"]
        )
        if self._fifo and self.fifo_guard is not None:
            names.append("RedrivePolicy")
        attributes = queue_attributes(self.sqs, self.url, names) if names else {}
        self._visibility = (
            self.visibility_timeout
            if self.visibility_timeout is not None
            else int(attributes["VisibilityTimeout"])
        )
        redrive = attributes.get("RedrivePolicy")
        self._max_receive_count = RedrivePolicy.parse(redrive).max_receive_count if redrive else None
        # without a DLQ a follower's receive count does not matter: no guard, batches always
        self._guard = self.fifo_guard if self._max_receive_count is not None else None
        self.stats = ConsumerStats()
        self._stopping = threading.Event()
        self._no_receives = threading.Event()
        self._inflight = _InFlight()
        self._budget = _Budget(max_messages)
        self._idle_in_a_row, self._idle_limit = 0, idle_polls
        self._deadline = time.monotonic() + timeout_seconds if timeout_seconds is not None else None
        self._errors = []
        self._running = True

    def _start_heartbeat(self) -> _Heartbeat | None:
        if not self.heartbeat or self._visibility < 1:
            return None
        every = self.heartbeat_every_seconds or self._visibility / 3
        beat = _Heartbeat(
            self.sqs,
            self.url,
            self._inflight,
            self._visibility,
            max(MIN_HEARTBEAT_EVERY_SECONDS, every),
            self.stats,
            self.idempotency,
        )
        beat.start()
        return beat

    def _wait(self, threads: list[threading.Thread]) -> None:
        try:
            for t in threads:
                while t.is_alive():
                    t.join(JOIN_POLL_SECONDS)
        except KeyboardInterrupt:  # Ctrl-C (a notebook's interrupt): stop gracefully, then re-raise
            self.stop("interrupt")
            for t in threads:
                t.join()
            raise

    def _finish(self) -> None:
        self._running = False
        self.stats.finished_at = time.time()
        if self.stats.stop_reason is None:
            self.stats.stop_reason = "max_messages" if self._budget.exhausted else "done"

    def _set_reason(self, reason: str) -> None:
        if self.stats.stop_reason is None:
            self.stats.stop_reason = reason

    @contextmanager
    def _signals(self) -> Iterator[None]:
        if not self.handle_signals or threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

        def on_signal(signum: int, _frame: Any) -> None:
            log.info("%s: stopping gracefully (again to force)", signal.Signals(signum).name)
            for sig, handler in previous.items():  # a second signal acts as it did before
                signal.signal(sig, handler)
            self.stop(signal.Signals(signum).name)

        for sig in previous:
            signal.signal(sig, on_signal)
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    # -- one worker: receive, dispatch, settle -------------------------------------------------------
    def _worker_main(self) -> None:
        try:
            while not self._no_receives.is_set():
                wanted = self._budget.take(self.max_messages)
                if wanted == 0:
                    return
                batch = self._receive(wanted)
                self._budget.give_back(wanted - len(batch))
                if batch:
                    self._dispatch(batch)
        except BaseException as exc:  # noqa: BLE001 - handed to run()'s caller
            self._errors.append(exc)
            self.stop("error")

    def _past_deadline(self) -> bool:
        if self._deadline is None or time.monotonic() < self._deadline:
            return False
        self._set_reason("timeout")
        self._stopping.set()
        self._no_receives.set()
        return True

    def _wait_time(self) -> int:
        if self._deadline is None:
            return self.wait_time_seconds
        if self._past_deadline():
            return 0
        return min(self.wait_time_seconds, math.ceil(self._deadline - time.monotonic()))

    def _receive(self, wanted: int) -> list[Message]:
        wait = self._wait_time()
        if self._no_receives.is_set():
            return []
        asked_at = time.time()
        if self._guard is not None:
            size = guarded_receive(wanted, wait, self._guard.visible_in())
            if size[0] < wanted:
                self.stats.add(guarded_receives=1)
            wanted, wait = size
        try:
            raw = receive_messages(
                self.sqs,
                self.url,
                max_messages=wanted,
                wait_time_seconds=wait,
                visibility_timeout=self.visibility_timeout,
            )
        except ClientError as exc:
            if queue_missing(exc):  # the queue vanished mid-run (deleted, or the engine restarted)
                raise _queue_error(exc, self.url) from exc
            raise
        received_at = time.monotonic()
        batch = [Message.from_sqs(m, self.url) for m in raw]
        self._inflight.add(batch, received_at + self._visibility)
        if self._guard is not None and batch:
            self._guard.received(batch, asked_at + self._visibility)  # SQS's clock started after asked_at
        redelivered = sum(1 for m in batch if m.receive_count > 1)
        self.stats.add(
            receives=1, empty_receives=0 if batch else 1, received=len(batch), redelivered=redelivered
        )
        self._note_poll(empty=not batch)
        return batch

    def _note_poll(self, *, empty: bool) -> None:
        with self._idle_lock:
            self._idle_in_a_row = self._idle_in_a_row + 1 if empty else 0
            idle = self._idle_limit is not None and self._idle_in_a_row >= self._idle_limit
        if idle:
            self._set_reason("idle")
            self._no_receives.set()

    def _dispatch(self, batch: list[Message]) -> None:
        """Handle a batch in order; FIFO gating after failures; on stop, release what has not started."""
        to_delete: list[Message] = []
        unstarted: list[Message] = []
        settled: set[str] = set()  # receipt handles already handed back (FIFO group after a failure)
        for i, message in enumerate(batch):
            if message.receipt_handle in settled:
                continue
            if self._stopping.is_set() or self._past_deadline():
                unstarted = [m for m in batch[i:] if m.receipt_handle not in settled]
                break
            outcome = self._handle(message)
            if outcome in (_PROCESSED, _DUPLICATE):
                to_delete.append(message)
            elif outcome == _FAILED:
                settled |= self._after_failure(message, batch[i + 1 :])
            else:  # _DEFERRED: another worker holds it; let it come back after its visibility timeout
                settled |= self._after_failure(message, batch[i + 1 :], backoff=False)
                self._budget.give_back(1)
        self._delete(to_delete)
        self._release(unstarted)

    def _handle(self, message: Message) -> str:
        """Run the handler once (or skip a duplicate); returns the outcome."""
        store, key = self.idempotency, None  # key is set once this worker holds the claim
        try:
            if store is not None:
                wanted = self.key(message)
                # the claim lasts as long as the message stays hidden (the heartbeat renews both)
                lease = max(1.0, self._inflight.seconds_left(message))
                if not store.claim(wanted, lease_seconds=lease):
                    if store.seen(wanted):
                        self.stats.add(duplicates_skipped=1)
                        return _DUPLICATE
                    self.stats.add(deferred=1)
                    return _DEFERRED
                key = wanted
                self._inflight.claimed(message, key)
            self.handler(message)
        except Exception as exc:  # noqa: BLE001 - a failed message is data, not a crash
            if store is not None and key is not None:
                store.release(key)
            self._record_failure(message, exc)
            return _FAILED
        if store is not None and key is not None:
            store.mark(key)
        sent_ms = int(message.attributes.get("SentTimestamp", 0)) or None
        self.stats.record_success(time.time() * 1000 - sent_ms if sent_ms else 0.0)
        return _PROCESSED

    def _record_failure(self, message: Message, exc: BaseException) -> None:
        self.stats.record_failure(
            MessageFailure(
                message.message_id, message.group_id, message.receive_count, f"{type(exc).__name__}: {exc}"
            )
        )
        if self.on_error is not None:
            try:
                self.on_error(message, exc)
            except Exception:  # noqa: BLE001
                log.exception("on_error callback failed for message %s", message.message_id)

    def _after_failure(self, failed: Message, rest: Sequence[Message], *, backoff: bool = True) -> set[str]:
        """Leave the failed (or deferred) message to come back (after ``retry_backoff`` if set); on FIFO
        queues hand back the rest of its group in this batch so it cannot overtake, and note the head as
        unsettled (:class:`FifoGuard`). Returns the handed-back receipt handles."""
        held = [m for m in rest if m.group_id == failed.group_id] if self._fifo and failed.group_id else []
        deadlines = self._inflight.drop([failed, *held])
        backoff_seconds = self._backoff_seconds(failed) if backoff else None
        visible_in = (
            backoff_seconds
            if backoff_seconds is not None
            else deadlines[failed.receipt_handle] - time.monotonic()
        )
        changes: list[tuple[str, int]] = []
        if held:
            # The group comes back as one: held messages and the failed one get the same visibility, held
            # ones first so theirs ends no later. LocalStack reopens a group as soon as an older message
            # is visible again, even while later ones are still in flight (then it hands out messages
            # *behind* the held ones), and re-queues expired messages in receive order, stopping at the
            # first still hidden: so the failed one must not come back alone, nor the held ones before it.
            visible_in = min(
                MAX_VISIBILITY_TIMEOUT_SECONDS, max(FIFO_HOLD_MARGIN_SECONDS, math.ceil(visible_in))
            )
            changes.extend((m.receipt_handle, visible_in) for m in held)
            changes.append((failed.receipt_handle, visible_in))
            self.stats.add(released=len(held))
            self._budget.give_back(len(held))
        elif backoff_seconds is not None:
            changes.append((failed.receipt_handle, backoff_seconds))
        if self._guard is not None:  # noted before the hand-back: no receive may batch the group once back
            self._guard_failed(failed, time.time() + visible_in)
        if changes:
            for f in change_visibility(self.sqs, self.url, changes):
                log.warning("could not change a failed message's visibility: %s", f.get("Message"))
        return {m.receipt_handle for m in held}

    def _guard_failed(self, failed: Message, visible_at: float) -> None:
        """A failed FIFO head stays unsettled until it succeeds — or it has used its last allowed receive:
        then SQS moves it to the DLQ on the group's next receive, and the followers may come in batches."""
        group = failed.group_id
        if self._guard is None or group is None:
            return
        if self._max_receive_count is not None and failed.receive_count >= self._max_receive_count:
            self._guard.drop({group: failed.message_id})
        else:
            self._guard.put(group, failed.message_id, visible_at)

    def _backoff_seconds(self, message: Message) -> int | None:
        if self.retry_backoff is None:
            return None
        seconds = int(self.retry_backoff(message.receive_count))
        return min(MAX_VISIBILITY_TIMEOUT_SECONDS, max(0, seconds))

    def _delete(self, messages: list[Message]) -> None:
        if not messages:
            return
        self._inflight.drop(messages)
        failed = delete_messages(self.sqs, self.url, [m.receipt_handle for m in messages])
        for f in failed:
            log.warning(
                "delete failed for message %s (%s): it will be delivered again",
                messages[int(f["Id"])].message_id,
                f.get("Code"),
            )
        self.stats.add(deleted=len(messages) - len(failed), delete_failed=len(failed))
        if self._guard is not None:
            refused = {int(f["Id"]) for f in failed}
            self._guard.settled([m for i, m in enumerate(messages) if i not in refused])

    def _release(self, messages: list[Message]) -> None:
        """Hand unstarted messages back at once (visibility 0): another consumer may take them now."""
        if not messages:
            return
        self._inflight.drop(messages)
        failed = change_visibility(self.sqs, self.url, [(m.receipt_handle, 0) for m in messages])
        if self._guard is not None:  # an unsettled head among them is visible again now
            self._guard.received(messages, time.time())
        self.stats.add(released=len(messages) - len(failed))
        self._budget.give_back(len(messages))


def _check_options(
    *,
    handler: Any,
    workers: int,
    wait_time_seconds: int,
    max_messages: int,
    visibility_timeout: int | None,
    heartbeat_every_seconds: float | None,
    key: Any,
    idempotency: Any,
) -> None:
    if not callable(handler):
        raise InvalidConsumerOption(f"handler must be callable (Message -> Any), got {handler!r}")
    if not 1 <= workers <= MAX_WORKERS:
        raise InvalidConsumerOption(f"workers must be 1..{MAX_WORKERS}, got {workers}")
    if not 0 <= wait_time_seconds <= MAX_WAIT_TIME_SECONDS:
        raise InvalidConsumerOption(
            f"wait_time_seconds must be 0..{MAX_WAIT_TIME_SECONDS} (SQS's long-poll limit), "
            f"got {wait_time_seconds}"
        )
    if not 1 <= max_messages <= MAX_MESSAGES_PER_RECEIVE:
        raise InvalidConsumerOption(
            f"max_messages must be 1..{MAX_MESSAGES_PER_RECEIVE} per receive, got {max_messages}",
            hint="bound the whole run with run(max_messages=...)",
        )
    if visibility_timeout is not None and not 0 <= visibility_timeout <= MAX_VISIBILITY_TIMEOUT_SECONDS:
        raise InvalidConsumerOption(
            f"visibility_timeout must be 0..{MAX_VISIBILITY_TIMEOUT_SECONDS} s, got {visibility_timeout}"
        )
    if heartbeat_every_seconds is not None and heartbeat_every_seconds <= 0:
        raise InvalidConsumerOption(f"heartbeat_every_seconds must be > 0, got {heartbeat_every_seconds}")
    if key is not None and idempotency is None:
        raise InvalidConsumerOption(
            "key= is the idempotency key", hint="pass idempotency=IdempotencyStore(path) with it"
        )


def consume(
    queue: Any,
    handler: Callable[[Message], Any],
    *,
    max_messages: int | None = None,
    idle_polls: int | None = None,
    timeout_seconds: float | None = None,
    messages_per_receive: int = MAX_MESSAGES_PER_RECEIVE,
    **options: Any,
) -> ConsumerStats:
    """Run a :class:`Consumer` once and return its stats.

    ``max_messages`` bounds the *run* here (as in :meth:`Consumer.run`); the per-receive size is
    ``messages_per_receive``. Other options go to :class:`Consumer` (``workers``, ``heartbeat`` ...).

    >>> consume(url, handle, idle_polls=1, wait_time_seconds=1).processed
    """
    consumer = Consumer(queue, handler, max_messages=messages_per_receive, **options)
    return consumer.run(max_messages=max_messages, idle_polls=idle_polls, timeout_seconds=timeout_seconds)
