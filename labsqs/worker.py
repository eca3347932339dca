"""Worker: a consumer *process* that survives crashes — and a drill that kills it to prove it.

SQS promises *at-least-once* delivery, and a process can die at any instruction. Follow one message
through a worker that is killed (``SIGKILL``: no cleanup, no ``finally``) at the worst moments:

1. **killed after the receive, before the work** — the message is in flight, hidden from everyone for
   the visibility timeout. Nobody deletes it, so it reappears and another worker processes it. Nothing
   is lost; SQS's clock is the safety net.
2. **killed halfway through the work** — same as 1, *provided the work left no half-done trace*.
3. **killed after the work, before the delete** — the dangerous one. The effect happened, but SQS does
   not know: the message comes back and, unless the worker can tell, the work runs twice.

The cure for 2 and 3 is one rule: **commit the work's effect and the idempotency mark in one
transaction**. This worker's effect is a row in a *processing log* (a stand-in for "write the order to the
database"), and the log lives in the same SQLite file as the :class:`~labsqs.idempotency.IdempotencyStore`,
so one ``BEGIN IMMEDIATE … COMMIT`` writes the row and marks the message done — both or neither. Then a
redelivery after case 3 finds the mark and is skipped (``duplicates_skipped``), and case 2 leaves nothing
behind. *Processed* here means exactly "committed": that is what lets the drill's counts balance.

What the worker records, all in that one file (:class:`ProcessingLog`):

``processed``   one row per committed message (uid, group, seq, pid, receive count) — the effect
``deliveries``  every message every receive returned (with its group and which receive of this process
                returned it), written before the consumer sees it (a wire tap)
``skips``       every redelivery the idempotency store recognised as already done
``duplicates``  handler runs that found their message already committed by someone else: the handler
                ran twice (a slow handler without a heartbeat) — caught at commit, reported, not applied
``failures``    each failed attempt with its reason (a non-JSON body ...), so a DLQ'd message has one
``fifo_heads``  the FIFO groups whose head failed and is not settled yet (:class:`SharedFifoGuard`): every
                worker process on the queue, restarted ones too, receives one message at a time while such
                a head may be visible, so the head never drags its followers to the DLQ

Run it as a process (each an independent consumer; run three to share a queue)::

    python -m labsqs.worker --queue URL --db worker.sqlite [--workers 2] [--no-heartbeat]

``SIGTERM``/``Ctrl-C`` stop it gracefully (the running handler finishes and its message is deleted,
unstarted ones are handed back). Exit codes: 0 done or stopped; 2 a lab error (bad option, queue
missing, endpoint still down after ``--reconnect-seconds``); 3 the queue vanished with an engine
restart — open-source LocalStack keeps nothing across restarts, so its messages are gone.

:func:`run_drill` is the proof: N messages, three worker processes, each killed with ``SIGKILL`` at random
moments and restarted, then an account of every message (``python benchmarks/faults.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from labsqs.base.sqlite import BUSY_TIMEOUT_MILLISECONDS, SqliteFile
from labsqs.consumer import Consumer, FifoGuard, Message
from labsqs.errors import (
    EndpointUnavailable,
    InvalidConsumerOption,
    InvalidMessage,
    LabSqsError,
    QueueNotFound,
)
from labsqs.idempotency import IdempotencyStore

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

EXIT_OK, EXIT_ERROR, EXIT_QUEUE_LOST = 0, 2, 3
DEFAULT_WAIT_SECONDS = 5  # long poll of a worker process: short enough for a prompt graceful stop
RECONNECT_POLL_SECONDS = 0.5  # how often a worker checks whether a down endpoint is back
MAX_OUTAGES = 3  # a worker rides out this many outages, then gives up (no unbounded retry loop)
MAX_FAILURE_BODY_CHARS = 200
POISON_PREFIX = "not-json:"  # the drill's poison bodies: a JSON consumer must fail them (→ DLQ)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS processed (
    id INTEGER PRIMARY KEY AUTOINCREMENT, uid TEXT NOT NULL UNIQUE, grp TEXT, seq INTEGER,
    message_id TEXT NOT NULL, receipt_handle TEXT NOT NULL, receive_count INTEGER NOT NULL,
    pid INTEGER NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL, receipt_handle TEXT NOT NULL,
    receive_count INTEGER NOT NULL, grp TEXT, receive_no INTEGER NOT NULL, pid INTEGER NOT NULL,
    at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS skips (
    id INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL, receipt_handle TEXT,
    pid INTEGER NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS duplicates (
    id INTEGER PRIMARY KEY AUTOINCREMENT, uid TEXT NOT NULL, message_id TEXT NOT NULL,
    receipt_handle TEXT NOT NULL, receive_count INTEGER NOT NULL, first_pid INTEGER NOT NULL,
    pid INTEGER NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL, receipt_handle TEXT NOT NULL,
    receive_count INTEGER NOT NULL, error TEXT NOT NULL, reason TEXT NOT NULL, body TEXT NOT NULL,
    pid INTEGER NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS fifo_heads (
    grp TEXT PRIMARY KEY, message_id TEXT NOT NULL, visible_at REAL NOT NULL);
"""


# --- the processing log: the effect and the idempotency mark, committed together -------------------
@dataclass(frozen=True)
class Failure:
    """One failed attempt: which message, which delivery, and why (``reason`` says what to do)."""

    message_id: str
    receive_count: int
    error: str  # the exception's class name, e.g. "InvalidMessage"
    reason: str
    body: str


class ProcessingLog(SqliteFile):
    """The worker's durable record, in the idempotency store's SQLite file (see the module notes).

    >>> log = ProcessingLog("worker.sqlite")
    >>> log.commit(message, uid="u1")      # True: the row is written and the message marked done
    True
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(path, schema=_SCHEMA)
        self.pid = os.getpid()

    # -- writes -----------------------------------------------------------------------------------
    def commit(
        self, message: Message, *, uid: str, key: str | None = None, group: str | None = None,
        seq: int | None = None,
    ) -> bool:  # fmt: skip
        """Write the processed row for ``uid`` and mark ``key`` (default: the MessageId) done, atomically.

        False when ``uid`` was already committed (by another delivery): nothing is applied twice, the
        duplicate is recorded in ``duplicates`` and the key is marked done all the same.
        """
        key = key or message.message_id
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT pid FROM processed WHERE uid = ?", (uid,)).fetchone()
                if row is None:
                    self._db.execute(
                        "INSERT INTO processed (uid, grp, seq, message_id, receipt_handle, receive_count, "
                        "pid, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (uid, group, seq, message.message_id, message.receipt_handle,
                         message.receive_count, self.pid, now),
                    )  # fmt: skip
                else:
                    self._db.execute(
                        "INSERT INTO duplicates (uid, message_id, receipt_handle, receive_count, first_pid, "
                        "pid, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (uid, message.message_id, message.receipt_handle, message.receive_count, row[0],
                         self.pid, now),
                    )  # fmt: skip
                IdempotencyStore.mark_in(self._db, key)  # committed with the log row below
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return row is None

    def record_deliveries(self, raw: Sequence[Mapping[str, Any]], receive_no: int = 0) -> None:
        """The tap: every message a receive returned (before the consumer acts on it), in its order;
        ``receive_no`` numbers this process's receives."""
        now = time.time()
        rows = [
            (m["MessageId"], m["ReceiptHandle"],
             int(m.get("Attributes", {}).get("ApproximateReceiveCount", 1)),
             m.get("Attributes", {}).get("MessageGroupId"), receive_no, self.pid, now)
            for m in raw
        ]  # fmt: skip
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT INTO deliveries (message_id, receipt_handle, receive_count, grp, receive_no, pid, "
                "at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            self._db.execute("COMMIT")

    # -- the FIFO guard's records (SharedFifoGuard) ---------------------------------------------------
    def fifo_heads(self) -> dict[str, tuple[str, float]]:
        with self._lock:
            rows = self._db.execute("SELECT grp, message_id, visible_at FROM fifo_heads").fetchall()
        return {g: (mid, float(at)) for g, mid, at in rows}

    def put_fifo_head(self, group: str, message_id: str, visible_at: float) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO fifo_heads (grp, message_id, visible_at) VALUES (?, ?, ?)",
                (group, message_id, visible_at),
            )

    def drop_fifo_heads(self, settled: Mapping[str, str]) -> None:
        with self._lock:
            self._db.executemany(
                "DELETE FROM fifo_heads WHERE grp = ? AND message_id = ?", list(settled.items())
            )

    def record_skip(self, message_id: str, receipt_handle: str | None) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO skips (message_id, receipt_handle, pid, at) VALUES (?, ?, ?, ?)",
                (message_id, receipt_handle, self.pid, time.time()),
            )

    def record_failure(self, message: Message, exc: BaseException) -> None:
        reason = str(exc) if isinstance(exc, LabSqsError) else f"{type(exc).__name__}: {exc}"
        with self._lock:
            self._db.execute(
                "INSERT INTO failures (message_id, receipt_handle, receive_count, error, reason, body, pid, "
                "at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (message.message_id, message.receipt_handle, message.receive_count, type(exc).__name__,
                 reason, message.body[:MAX_FAILURE_BODY_CHARS], self.pid, time.time()),
            )  # fmt: skip

    # -- reads ------------------------------------------------------------------------------------
    def rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of one of the log's tables, oldest first, as dicts."""
        if table not in ("processed", "deliveries", "skips", "duplicates", "failures"):
            raise ValueError(f"no table {table!r} in the processing log")
        with self._lock:
            cur = self._db.execute(f"SELECT * FROM {table} ORDER BY id")  # noqa: S608 - checked name
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def count(self, table: str, pid: int | None = None) -> int:
        """How many rows ``table`` has (of one process with ``pid``)."""
        if table not in ("processed", "deliveries", "skips", "duplicates", "failures"):
            raise ValueError(f"no table {table!r} in the processing log")
        sql = f"SELECT COUNT(*) FROM {table}" + (" WHERE pid = ?" if pid is not None else "")  # noqa: S608
        with self._lock:
            (n,) = self._db.execute(sql, (pid,) if pid is not None else ()).fetchone()
        return int(n)

    def failures(self) -> list[Failure]:
        return [
            Failure(r["message_id"], r["receive_count"], r["error"], r["reason"], r["body"])
            for r in self.rows("failures")
        ]


# --- wiring: a tap on the client, a store that reports its skips -----------------------------------
class _DeliveryTap:
    """An SQS client that records every received message in the log before handing it on."""

    def __init__(self, sqs: SQSClient, log: ProcessingLog) -> None:
        self._sqs, self._log = sqs, log
        self.latest_handle: dict[str, str] = {}  # MessageId -> receipt handle of its latest delivery here
        self._receives = itertools.count(1)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqs, name)

    def receive_message(self, **kwargs: Any) -> Any:
        answer = self._sqs.receive_message(**kwargs)
        messages = answer.get("Messages", [])
        if messages:
            self._log.record_deliveries(messages, next(self._receives))
            for m in messages:
                self.latest_handle[m["MessageId"]] = m["ReceiptHandle"]
        return answer


class SharedFifoGuard(FifoGuard):
    """The consumer's :class:`~labsqs.consumer.FifoGuard`, kept in the processing log's SQLite file that
    every worker process on the queue shares. With a guard in memory, each process would learn of a
    failed head only when it hits it — and every other process, or a restarted one, would take the group
    in a batch once more, dragging the followers along another time."""

    def __init__(self, log: ProcessingLog) -> None:
        super().__init__()
        self._log = log

    def heads(self) -> dict[str, tuple[str, float]]:
        return self._log.fifo_heads()

    def put(self, group: str, message_id: str, visible_at: float) -> None:
        self._log.put_fifo_head(group, message_id, visible_at)

    def drop(self, settled: Mapping[str, str]) -> None:
        self._log.drop_fifo_heads(settled)


class _ReportingStore(IdempotencyStore):
    """An :class:`IdempotencyStore` that records each duplicate it recognises (the consumer asks
    ``seen(key)`` exactly when a claim fails, and skips the message when it is True)."""

    def __init__(self, path: Path, on_duplicate: Callable[[str], None]) -> None:
        super().__init__(path)
        self._on_duplicate = on_duplicate

    def seen(self, key: str) -> bool:
        done = super().seen(key)
        if done:
            self._on_duplicate(key)
        return done


# --- the worker ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WorkerSummary:
    """What one worker run did: the consumer's counters plus the log's view of this process."""

    pid: int
    stop_reason: str | None
    received: int
    processed: int  # committed by this process
    duplicates_skipped: int  # redeliveries the idempotency store recognised
    duplicates_caught: int  # handler ran twice (found its message already committed): reported
    failed: int
    released: int
    deferred: int
    heartbeats: int
    guarded_receives: int  # receives cut to one message: a failed FIFO head was unsettled

    def to_json(self) -> str:
        return json.dumps({"event": "summary", **asdict(self)})


class Worker:
    """A :class:`~labsqs.consumer.Consumer` whose handler commits to a :class:`ProcessingLog`.

    The handler reads a JSON body with a ``uid`` (and optionally ``group``/``seq``), works for
    ``work_seconds`` (a stand-in for real work, where kills land), and commits. A non-JSON body, or one
    without ``uid``, fails with :class:`~labsqs.errors.InvalidMessage`; the reason is recorded and the
    message goes to the DLQ after the queue's ``maxReceiveCount``. On a FIFO queue the consumer's FIFO guard
    keeps its records in the log (:class:`SharedFifoGuard`); ``fifo_guard=False`` turns it off.

    >>> worker = Worker(queue.url, "worker.sqlite", sqs=sqs, wait_time_seconds=1)
    >>> worker.run(idle_polls=2).processed
    """

    def __init__(
        self,
        queue: Any,
        db: str | os.PathLike[str],
        *,
        sqs: SQSClient | None = None,
        workers: int = 1,
        wait_time_seconds: int = DEFAULT_WAIT_SECONDS,
        visibility_timeout: int | None = None,
        heartbeat: bool = True,
        work_seconds: float = 0.0,
        retry_backoff_seconds: int | None = None,
        handle_signals: bool = False,
        on_duplicate: Callable[[str], None] | None = None,
        fifo_guard: bool = True,
    ) -> None:
        if work_seconds < 0:
            raise InvalidConsumerOption(f"work_seconds must be >= 0, got {work_seconds}")
        if retry_backoff_seconds is not None and retry_backoff_seconds < 0:
            raise InvalidConsumerOption(
                f"retry_backoff_seconds must be >= 0, got {retry_backoff_seconds}",
                hint="0 retries a failed message at once; omit it to wait out the visibility timeout",
            )
        if sqs is None:
            from labsqs.client import sqs_client

            sqs = sqs_client()
        self.log = ProcessingLog(db)
        self.tap = _DeliveryTap(sqs, self.log)
        self.store = _ReportingStore(self.log.path, self._skipped)
        self.work_seconds = work_seconds
        self.on_duplicate = on_duplicate or _warn_duplicate
        self._caught = 0
        backoff = retry_backoff_seconds
        self.consumer = Consumer(
            queue,
            self.handle,
            sqs=cast("SQSClient", self.tap),
            workers=workers,
            wait_time_seconds=wait_time_seconds,
            visibility_timeout=visibility_timeout,
            heartbeat=heartbeat,
            retry_backoff=None if backoff is None else (lambda _count: backoff),
            idempotency=self.store,
            on_error=self.log.record_failure,
            handle_signals=handle_signals,
            fifo_guard=SharedFifoGuard(self.log) if fifo_guard else False,
        )

    def handle(self, message: Message) -> None:
        data = message.json()
        if not isinstance(data, dict) or not isinstance(data.get("uid"), str):
            raise InvalidMessage(
                f"message {message.message_id} has no string 'uid' field",
                hint='send JSON objects like {"uid": "order-1"} (the uid identifies the work)',
            )
        if self.work_seconds:
            time.sleep(self.work_seconds)
        group, seq = data.get("group"), data.get("seq")
        if not self.log.commit(message, uid=data["uid"], group=group, seq=seq):
            self._caught += 1
            self.on_duplicate(
                f"duplicate processing caught at commit: uid {data['uid']} (message {message.message_id}, "
                f"receive {message.receive_count}) was already processed — its handler ran twice, so the "
                "first copy outlasted the visibility timeout; turn the heartbeat on or raise the timeout"
            )

    def _skipped(self, message_id: str) -> None:
        self.log.record_skip(message_id, self.tap.latest_handle.get(message_id))

    def run(
        self, *, max_messages: int | None = None, idle_polls: int | None = None,
        timeout_seconds: float | None = None,
    ) -> WorkerSummary:  # fmt: skip
        stats = self.consumer.run(
            stop_after=max_messages, idle_polls=idle_polls, timeout_seconds=timeout_seconds
        )
        return WorkerSummary(
            pid=os.getpid(),
            stop_reason=stats.stop_reason,
            received=stats.received,
            processed=stats.processed - self._caught,
            duplicates_skipped=stats.duplicates_skipped,
            duplicates_caught=self._caught,
            failed=stats.failed,
            released=stats.released,
            deferred=stats.deferred,
            heartbeats=stats.heartbeats,
            guarded_receives=stats.guarded_receives,
        )

    def stop(self) -> None:
        self.consumer.stop()

    def close(self) -> None:
        self.store.close()
        self.log.close()


def _warn_duplicate(text: str) -> None:
    print(f"labsqs.worker: warning: {text}", file=sys.stderr, flush=True)


# --- outages: bounded waiting, and saying plainly what a restart lost -------------------------------
def queue_lost(url: str, endpoint: str) -> QueueNotFound:
    """The error for a queue that vanished while its engine was down: say what was lost, and why."""
    return QueueNotFound(
        f"queue {url} is gone after the engine at {endpoint} came back: it restarted, and open-source "
        "LocalStack keeps nothing across restarts — the queue and every message still in it are lost "
        "(real SQS keeps messages for the queue's retention period, up to 14 days, across any outage)",
        hint="re-create the queue (labsqs.queues.ensure_queue) and send the messages again; for a run "
        "that must survive restarts, use real SQS or keep the engine running",
        code="AWS.SimpleQueueService.NonExistentQueue",
    )


def wait_for_endpoint(
    sqs: SQSClient, seconds: float, *, stop: threading.Event | None = None,
    poll_seconds: float = RECONNECT_POLL_SECONDS,
) -> bool:  # fmt: skip
    """Poll ``ListQueues`` until the endpoint answers (True) or ``seconds`` pass / ``stop`` is set."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not (stop is not None and stop.is_set()):
        try:
            sqs.list_queues(MaxResults=1)
            return True
        except EndpointUnavailable:
            time.sleep(poll_seconds)
    return False


def queue_exists(sqs: SQSClient, url: str) -> bool:
    from botocore.exceptions import ClientError

    from labsqs.queues import queue_missing

    try:
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return True
    except ClientError as err:
        if queue_missing(err):
            return False
        raise


# --- the process entry point -----------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m labsqs.worker",
        description="Consume an SQS queue into a crash-safe processing log (see the module notes).",
    )
    p.add_argument("--queue", required=True, help="queue URL or name")
    p.add_argument("--db", required=True, help="SQLite file: idempotency keys and the processing log")
    p.add_argument("--endpoint", help="SQS endpoint (default: the lab's engine, see labsqs.client)")
    p.add_argument("--workers", type=int, default=1, help="receive-process-delete loops (threads)")
    p.add_argument("--wait", type=int, default=DEFAULT_WAIT_SECONDS, help="long-poll seconds (0-20)")
    p.add_argument("--visibility-timeout", type=int, help="seconds (default: the queue's)")
    p.add_argument("--no-heartbeat", action="store_true", help="do not extend the visibility of slow work")
    p.add_argument("--work-ms", type=float, default=0.0, help="simulated work per message, milliseconds")
    p.add_argument("--retry-backoff", type=int, help="seconds before a failed message is retried")
    p.add_argument(
        "--no-fifo-guard", action="store_true",
        help="FIFO: keep receiving batches while a failed head is unsettled (its followers pay receives)",
    )  # fmt: skip
    p.add_argument("--idle-polls", type=int, help="stop after this many empty receives in a row")
    p.add_argument("--max-messages", type=int, help="stop after this many messages")
    p.add_argument("--timeout", type=float, help="stop after this many seconds")
    p.add_argument(
        "--reconnect-seconds", type=float, default=0.0,
        help="when the endpoint goes down, wait this long for it to come back (default 0: exit)",
    )  # fmt: skip
    return p


def _say(text: str) -> None:
    print(f"labsqs.worker: {text}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    from botocore.exceptions import ClientError

    from labsqs.queues import queue_missing

    args = _parser().parse_args(argv)
    stopping = threading.Event()
    reason: list[str] = []

    def on_signal(signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        if stopping.is_set():  # a second signal: stop now, as the default action would
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        _say(f"{name}: stopping gracefully (again to force)")
        reason.append(name)
        stopping.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    try:
        from labsqs.client import client_endpoint, sqs_client

        sqs = sqs_client(args.endpoint)
        endpoint = client_endpoint(sqs)
        worker = Worker(
            args.queue, args.db, sqs=sqs, workers=args.workers, wait_time_seconds=args.wait,
            visibility_timeout=args.visibility_timeout, heartbeat=not args.no_heartbeat,
            work_seconds=args.work_ms / 1000, retry_backoff_seconds=args.retry_backoff,
            fifo_guard=not args.no_fifo_guard,
        )  # fmt: skip
    except LabSqsError as exc:
        _say(f"error: {exc}")
        return EXIT_ERROR

    def stop_when_signalled() -> None:
        # Consumer.stop() before the run has set itself up would be forgotten: repeat it until the run ends
        stopping.wait()
        while True:
            worker.consumer.stop(reason[0] if reason else "stop")
            time.sleep(0.1)

    threading.Thread(target=stop_when_signalled, name="labsqs-worker-stop", daemon=True).start()
    _say(f"pid {os.getpid()} consuming {args.queue} (log {args.db})")
    outages = 0
    deadline = time.monotonic() + args.timeout if args.timeout else None
    try:
        while True:
            left = None if deadline is None else max(0.1, deadline - time.monotonic())
            try:
                summary = worker.run(
                    max_messages=args.max_messages, idle_polls=args.idle_polls, timeout_seconds=left
                )
            except EndpointUnavailable as exc:
                outages += 1
                if args.reconnect_seconds <= 0 or outages > MAX_OUTAGES:
                    _say(f"error: {exc}")
                    return EXIT_ERROR
                _say(f"{exc.message}; waiting up to {args.reconnect_seconds:g} s for it to come back")
                if not wait_for_endpoint(sqs, args.reconnect_seconds, stop=stopping):
                    if stopping.is_set():
                        _say("stopped while waiting for the endpoint")
                        return EXIT_OK
                    _say(f"error: {exc.message} after waiting {args.reconnect_seconds:g} s — {exc.hint}")
                    return EXIT_ERROR
                url = worker.consumer.url
                if not queue_exists(sqs, url):
                    _say(f"error: {queue_lost(url, endpoint)}")
                    return EXIT_QUEUE_LOST
                _say(f"the endpoint {endpoint} is back and {url} still exists: consuming again")
                continue
            except (QueueNotFound, ClientError) as exc:
                if isinstance(exc, ClientError) and not queue_missing(exc):
                    raise
                # a queue that vanishes between two receives (an engine restart no receive saw) can
                # surface as the raw NonExistentQueue ClientError: report it the same way
                if outages or isinstance(exc, ClientError):
                    _say(f"error: {queue_lost(worker.consumer.url, endpoint)}")
                    return EXIT_QUEUE_LOST
                _say(f"error: {exc}")
                return EXIT_ERROR
            except LabSqsError as exc:
                _say(f"error: {exc}")
                return EXIT_ERROR
            print(summary.to_json(), flush=True)
            return EXIT_OK
    finally:
        worker.close()


# --- the drill: kill workers at random, restart them, account for every message --------------------
QueueKind = Literal["standard", "fifo"]


@dataclass
class DrillReport:
    """Every figure of one drill. ``ok`` is True when nothing was lost, nothing was applied twice,
    every duplicate delivery is accounted for, and (FIFO) every group kept its order."""

    kind: str
    stop_signal: str
    sent: int
    poison_sent: int
    processed: int  # committed rows (one per uid: the log refuses a second)
    in_dlq: int
    dlq_poison: int  # DLQ messages that were poison (the rest went there through repeated kills)
    dlq_with_reason: int  # DLQ messages with a recorded failure reason
    dlq_healthy_by_poison: int  # healthy DLQ messages that lost a receive behind a failing poison message
    dlq_healthy_by_kills: (
        int  # the other healthy DLQ messages: receives lost to kills alone (see _dlq_causes)
    )
    lost: list[str]  # sent, but neither processed nor in the DLQ
    unexpected: list[str]  # processed or in the DLQ, but never sent
    processed_and_dlq: list[str]
    deliveries: int  # messages returned by receives (the tap)
    redeliveries: int  # deliveries with ApproximateReceiveCount > 1
    duplicate_deliveries: int  # deliveries of a message after it was committed
    duplicates_skipped: int  # ... recognised by the idempotency store (skips table)
    duplicates_cut_by_kill: int  # ... whose process was killed before it could check the store
    duplicates_unaccounted: int  # ... neither (must be 0)
    skips_unmatched: int  # skips that match no duplicate delivery (must be 0)
    duplicates_caught: int  # handler ran twice, caught at commit (must be 0 with the heartbeat on)
    order_violations: int  # FIFO: a group's seq going backwards in commit order
    stops: int  # signals sent (SIGKILL or SIGTERM)
    stops_holding_messages: int  # ... to a process holding received, unsettled messages
    restarts: int
    unclean_exits: int  # processes that did not exit 0 after SIGTERM
    crashes: int  # processes that exited on their own (a worker runs until stopped)
    drained: bool
    elapsed_seconds: float
    processes: int
    work_ms: float
    visibility_timeout: int
    max_receive_count: int
    exits: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.drained
            and not self.lost
            and not self.unexpected
            and self.duplicates_unaccounted == 0
            and self.skips_unmatched == 0
            and self.duplicates_caught == 0
            and self.order_violations == 0
            and self.dlq_healthy_by_poison == 0
            and self.dlq_with_reason >= self.dlq_poison
            and self.unclean_exits == 0
            and self.crashes == 0
        )

    def figures(self) -> dict[str, Any]:
        """The report as one flat dict (lists as counts) — a table row."""
        out = asdict(self)
        for name in ("lost", "unexpected", "processed_and_dlq"):
            out[name] = len(out[name])
        out.pop("exits")
        out["ok"] = self.ok
        return out


@dataclass
class _Slot:
    proc: subprocess.Popen[bytes]
    started: float
    log_path: Path


def drill_bodies(messages: int, *, groups: int, poison_every: int | None) -> list[tuple[str, str, str]]:
    """``(uid, group, body)`` for each message: JSON ``{"uid", "group", "seq"}``, and every
    ``poison_every``-th a non-JSON poison body (``not-json:<uid>``) that a JSON consumer must fail."""
    out = []
    for i in range(messages):
        uid, group, seq = f"u{i:06d}", f"g{i % groups:02d}", i // groups
        poison = poison_every is not None and i % poison_every == poison_every - 1
        body = f"{POISON_PREFIX}{uid}" if poison else json.dumps({"uid": uid, "group": group, "seq": seq})
        out.append((uid, group, body))
    return out


def body_uid(body: str) -> str:
    """The uid of a drill body (JSON or poison)."""
    if body.startswith(POISON_PREFIX):
        return body[len(POISON_PREFIX) :]
    return str(json.loads(body)["uid"])


def run_drill(
    kind: QueueKind = "standard",
    messages: int = 400,
    *,
    workdir: str | os.PathLike[str],
    endpoint: str | None = None,
    sqs: SQSClient | None = None,
    processes: int = 3,
    stop_signal: signal.Signals = signal.SIGKILL,
    stop_every_seconds: tuple[float, float] = (0.4, 1.2),
    max_stops: int = 6,
    seed: int = 7,
    work_ms: float = 20.0,
    workers_per_process: int = 1,
    poison_every: int | None = 50,
    groups: int = 12,
    visibility_timeout: int = 2,
    max_receive_count: int = 5,
    timeout_seconds: float = 120.0,
    fifo_guard: bool = True,
    prefer_holding: bool = False,
    progress: Callable[[str], None] | None = None,
) -> DrillReport:
    """Send ``messages`` to a fresh queue (with a DLQ), run ``processes`` worker processes on it, and
    every ``stop_every_seconds`` (uniform random) send ``stop_signal`` to a random one and start a new
    one in its place — ``max_stops`` times, while the backlog lasts. Then wait until the queue is drained
    (visible, in flight and delayed all 0), stop the workers with SIGTERM and account for every message.

    Poison (non-JSON) bodies make the DLQ part of the account. The queue and its DLQ are deleted after.
    ``fifo_guard=False`` runs the workers without the consumer's FIFO guard (to measure what it saves).
    ``prefer_holding=True`` stops a process that holds unsettled messages whenever one does (the hard case,
    which a random pick may miss on a slow machine); otherwise the pick is random.
    """
    from labsqs.client import client_endpoint, sqs_client
    from labsqs.producer import send_many
    from labsqs.queues import QueueSpec, delete_queue, ensure_queue

    if processes < 1 or messages < 1 or max_stops < 0:
        raise InvalidConsumerOption("a drill needs processes >= 1, messages >= 1 and max_stops >= 0")
    say = progress or (lambda _text: None)
    sqs = sqs or sqs_client(endpoint)
    endpoint = client_endpoint(sqs)
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    db = work / f"drill-{kind}.sqlite"
    db.unlink(missing_ok=True)
    rng = random.Random(seed)
    name = f"drill-{uuid.uuid4().hex[:8]}-{kind}" + (".fifo" if kind == "fifo" else "")
    queue = ensure_queue(
        QueueSpec(name, visibility_timeout_seconds=visibility_timeout, receive_wait_seconds=1,
                  retention_seconds=3_600, max_receive_count=max_receive_count),
        sqs=sqs,
    )  # fmt: skip
    bodies = drill_bodies(messages, groups=groups, poison_every=poison_every)
    sent = {uid for uid, _, _ in bodies}
    poison = {uid for uid, _, body in bodies if body.startswith(POISON_PREFIX)}
    group_of = {body: group for _, group, body in bodies}
    t0 = time.monotonic()
    try:
        if kind == "fifo":
            send_many(queue, [b for _, _, b in bodies], group_by=group_of.__getitem__, dedup_by=body_uid,
                      sqs=sqs).raise_for_failures()  # fmt: skip
        else:
            send_many(queue, [b for _, _, b in bodies], sqs=sqs).raise_for_failures()
        say(f"sent {messages} to {name}")
        cmd = [
            sys.executable, "-m", "labsqs.worker", "--queue", queue.url, "--db", str(db),
            "--endpoint", endpoint, "--wait", "1", "--workers", str(workers_per_process),
            "--work-ms", str(work_ms), "--retry-backoff", "0", *([] if fifo_guard else ["--no-fifo-guard"]),
        ]  # fmt: skip
        ProcessingLog(db).close()  # create the file and its tables before the workers race to
        IdempotencyStore(db).close()
        spawned = 0

        def spawn() -> _Slot:
            nonlocal spawned
            spawned += 1
            log_path = work / f"worker-{kind}-{spawned:03d}.log"
            with open(log_path, "wb") as out:
                proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            return _Slot(proc, time.monotonic(), log_path)

        slots = [spawn() for _ in range(processes)]
        watcher = _Watcher(db)
        stopped_pids: set[int] = set()
        stops = holding = unclean = crashes = 0
        exits: list[int] = []
        deadline = t0 + timeout_seconds
        while stops < max_stops and time.monotonic() < deadline:
            time.sleep(rng.uniform(*stop_every_seconds))
            if _depth(sqs, queue.url)[0] == 0:
                break  # the backlog is gone: stopping now would only test the tail
            i = _pick(rng, slots, watcher if prefer_holding else None)
            victim = slots[i]
            if victim.proc.poll() is not None:  # it ended by itself: a crash (see its log)
                exits.append(victim.proc.returncode)
                crashes += 1
                slots[i] = spawn()
                continue
            if stop_signal != signal.SIGKILL and not _started(victim, deadline):
                continue  # a graceful stop needs the worker's handler; SIGTERM during imports just kills
            holding += watcher.holding(victim.proc.pid)
            victim.proc.send_signal(stop_signal)
            stops += 1
            stopped_pids.add(victim.proc.pid)
            code = _wait_exit(victim.proc, 20.0)
            exits.append(code)
            if stop_signal != signal.SIGKILL and code != 0:
                unclean += 1
            slots[i] = spawn()
            say(f"{stop_signal.name} #{stops} to pid {victim.proc.pid} (exit {code}); restarted")
        drained = _wait_drained(
            sqs, queue.url, deadline, alive=lambda: any(s.proc.poll() is None for s in slots)
        )
        for s in slots:
            if s.proc.poll() is None:
                _started(s, time.monotonic() + 20.0)  # SIGTERM before its handler is in place kills it
                s.proc.send_signal(signal.SIGTERM)
        for s in slots:
            code = _wait_exit(s.proc, 20.0)
            exits.append(code)
            if code != 0:
                unclean += 1
        elapsed = time.monotonic() - t0
        dlq_bodies = _drain_bodies(sqs, queue.dlq_url) if queue.dlq_url else []
        watcher.close()
    finally:
        delete_queue(queue, sqs=sqs, missing_ok=True)
    return _account(
        db, kind=kind, stop_signal=stop_signal, sent=sent, poison=poison, dlq_bodies=dlq_bodies,
        stopped_pids=stopped_pids if stop_signal == signal.SIGKILL else set(), stops=stops,
        holding=holding, restarts=spawned - processes, unclean=unclean, crashes=crashes, drained=drained,
        elapsed=elapsed,
        processes=processes, work_ms=work_ms, visibility_timeout=visibility_timeout,
        max_receive_count=max_receive_count, exits=exits,
    )  # fmt: skip


class _Watcher:
    """Read-only look at the drill's log while the workers run."""

    def __init__(self, db: Path) -> None:
        self._db = sqlite3.connect(db, timeout=BUSY_TIMEOUT_MILLISECONDS / 1000)

    def holding(self, pid: int) -> int:
        """1 when ``pid`` has received messages it has not settled (committed, skipped or failed)."""
        (got,) = self._db.execute("SELECT COUNT(*) FROM deliveries WHERE pid = ?", (pid,)).fetchone()
        settled = 0
        for table in ("processed", "skips", "failures", "duplicates"):
            (n,) = self._db.execute(f"SELECT COUNT(*) FROM {table} WHERE pid = ?", (pid,)).fetchone()  # noqa: S608
            settled += n
        return int(got > settled)

    def close(self) -> None:
        self._db.close()


def _pick(rng: random.Random, slots: list[_Slot], watcher: _Watcher | None, patience_s: float = 3.0) -> int:
    """A random slot; with a watcher, a random one among those holding unsettled messages — waiting up to
    ``patience_s`` for one (workers that are still starting hold nothing) — else a random one."""
    deadline = time.monotonic() + patience_s
    while watcher is not None:
        holding = [i for i, s in enumerate(slots) if s.proc.poll() is None and watcher.holding(s.proc.pid)]
        if holding:
            return rng.choice(holding)
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
    return rng.randrange(len(slots))


def _started(slot: _Slot, deadline: float) -> bool:
    """Wait until a worker process has said it is consuming (its signal handlers are in place)."""
    while time.monotonic() < deadline and slot.proc.poll() is None:
        if b" consuming " in slot.log_path.read_bytes():
            return True
        time.sleep(0.05)
    return False


def _wait_exit(proc: subprocess.Popen[bytes], seconds: float) -> int:
    try:
        return proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def _depth(sqs: SQSClient, url: str) -> tuple[int, int, int]:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return (
        int(attrs.get("ApproximateNumberOfMessages", 0)),
        int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
        int(attrs.get("ApproximateNumberOfMessagesDelayed", 0)),
    )


def _wait_drained(sqs: SQSClient, url: str, deadline: float, *, alive: Callable[[], bool]) -> bool:
    """Two zero readings in a row (LocalStack's gauges are exact; AWS's lag — add a grace period)."""
    zeros = 0
    while time.monotonic() < deadline and alive():
        zeros = zeros + 1 if sum(_depth(sqs, url)) == 0 else 0
        if zeros >= 2:
            return True
        time.sleep(0.25)
    return False


def _drain_bodies(sqs: SQSClient, url: str) -> list[tuple[str, str]]:
    """``(MessageId, body)`` of every message in a queue, deleting what it read (a FIFO queue would
    otherwise lock the rest of a group while the first ten are in flight)."""
    bodies: list[tuple[str, str]] = []
    empty = 0
    while empty < 2:
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=empty, VisibilityTimeout=60
        ).get("Messages", [])
        empty = 0 if got else empty + 1
        bodies.extend((m["MessageId"], m["Body"]) for m in got)
        if got:
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)],
            )
    return bodies


def _dlq_causes(
    deliveries: Sequence[Mapping[str, Any]], failures: Sequence[Mapping[str, Any]], healthy_in_dlq: set[str]
) -> set[str]:
    """Which healthy messages in the DLQ got there *because of a poison message*: at least one of their
    receives came in the same batch as an earlier message of their group that then failed as poison —
    so it was handed back unprocessed. The others lost every receive to kills alone (delivered to a
    process killed before it could commit, or handed back behind a message such a kill left claimed).
    A message dragged once and then killed four times counts as poison's: the rule leans against the
    guard."""
    poison_failed = {f["receipt_handle"] for f in failures if str(f["body"]).startswith(POISON_PREFIX)}
    receives: dict[tuple[int, int], list[Mapping[str, Any]]] = defaultdict(list)
    for d in deliveries:  # in insertion order: each receive's messages in the order SQS returned them
        receives[(d["pid"], d["receive_no"])].append(d)
    dragged: set[str] = set()
    for batch in receives.values():
        failing_groups: set[str] = set()
        for d in batch:
            if d["grp"] in failing_groups:
                dragged.add(d["message_id"])
            if d["receipt_handle"] in poison_failed and d["grp"] is not None:
                failing_groups.add(d["grp"])
    return healthy_in_dlq & dragged


def _account(
    db: Path, *, kind: str, stop_signal: signal.Signals, sent: set[str], poison: set[str],
    dlq_bodies: list[tuple[str, str]], stopped_pids: set[int], stops: int, holding: int, restarts: int,
    unclean: int, crashes: int, drained: bool, elapsed: float, processes: int, work_ms: float,
    visibility_timeout: int, max_receive_count: int, exits: list[int],
) -> DrillReport:  # fmt: skip
    log = ProcessingLog(db)
    try:
        processed = log.rows("processed")
        deliveries = log.rows("deliveries")
        skips = log.rows("skips")
        caught = log.count("duplicates")
        failures = log.rows("failures")
    finally:
        log.close()
    done_uids = {r["uid"] for r in processed}
    dlq_uids = [body_uid(body) for _, body in dlq_bodies]
    dlq = set(dlq_uids)
    # a redrive to the DLQ keeps the MessageId: a DLQ'd message's failure rows are found by it
    failed_ids = {f["message_id"] for f in failures}
    with_reason = sum(1 for message_id, _ in dlq_bodies if message_id in failed_ids)
    healthy_in_dlq = {message_id for message_id, body in dlq_bodies if body_uid(body) not in poison}
    by_poison = _dlq_causes(deliveries, failures, healthy_in_dlq)
    committed_at = {r["message_id"]: r["receive_count"] for r in processed}
    skipped_handles = {s["receipt_handle"] for s in skips}
    dup = cut = unaccounted = 0
    duplicate_handles: set[str] = set()
    for d in deliveries:
        first = committed_at.get(d["message_id"])
        if first is None or d["receive_count"] <= first:
            continue
        dup += 1
        duplicate_handles.add(d["receipt_handle"])
        if d["receipt_handle"] in skipped_handles:
            continue
        if d["pid"] in stopped_pids:
            cut += 1
        else:
            unaccounted += 1
    violations = 0
    if kind == "fifo":
        last: dict[str, int] = defaultdict(lambda: -1)
        for r in processed:
            if r["seq"] <= last[r["grp"]]:
                violations += 1
            last[r["grp"]] = r["seq"]
    return DrillReport(
        kind=kind,
        stop_signal=stop_signal.name,
        sent=len(sent),
        poison_sent=len(poison),
        processed=len(processed),
        in_dlq=len(dlq_uids),
        dlq_poison=len(dlq & poison),
        dlq_with_reason=with_reason,
        dlq_healthy_by_poison=len(by_poison),
        dlq_healthy_by_kills=len(healthy_in_dlq - by_poison),
        lost=sorted(sent - done_uids - dlq),
        unexpected=sorted((done_uids | dlq) - sent),
        processed_and_dlq=sorted(done_uids & dlq),
        deliveries=len(deliveries),
        redeliveries=sum(1 for d in deliveries if d["receive_count"] > 1),
        duplicate_deliveries=dup,
        duplicates_skipped=len(skips),
        skips_unmatched=len(skipped_handles - duplicate_handles)
        + sum(1 for x in skips if x["receipt_handle"] is None),
        duplicates_cut_by_kill=cut,
        duplicates_unaccounted=unaccounted,
        duplicates_caught=caught,
        order_violations=violations,
        stops=stops,
        stops_holding_messages=holding,
        restarts=restarts,
        unclean_exits=unclean,
        crashes=crashes,
        drained=drained,
        elapsed_seconds=round(elapsed, 1),
        processes=processes,
        work_ms=work_ms,
        visibility_timeout=visibility_timeout,
        max_receive_count=max_receive_count,
        exits=exits,
    )


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
