"""The worker process: a consumer that survives crashes, committing each message's effect to a
:class:`~labsqs.drill.log.ProcessingLog` together with its idempotency mark (see :mod:`labsqs.drill`).

Run it as a process (each an independent consumer; run three to share a queue)::

    python -m labsqs.drill.worker --queue URL --db worker.sqlite [--workers 2] [--no-heartbeat]

``SIGTERM``/``Ctrl-C`` stop it gracefully (the running handler finishes and its message is deleted,
unstarted ones are handed back). Exit codes: 0 done or stopped; 2 a lab error (bad option, queue
missing, endpoint still down after ``--reconnect-seconds``); 3 the queue vanished with an engine
restart — open-source LocalStack keeps nothing across restarts, so its messages are gone.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from labsqs.base.calls import default_sqs, queue_missing, read_attributes
from labsqs.consumer import Consumer, Message
from labsqs.drill.log import ProcessingLog, SharedFifoGuard
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
PROG = "labsqs.drill.worker"


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
        sqs = default_sqs(sqs)
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
            on_error=self.log.record_error,
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
        self, *, stop_after: int | None = None, idle_polls: int | None = None,
        timeout_seconds: float | None = None,
    ) -> WorkerSummary:  # fmt: skip
        stats = self.consumer.run(
            stop_after=stop_after, idle_polls=idle_polls, timeout_seconds=timeout_seconds
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
    _say(f"warning: {text}")


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
    """True when the queue at ``url`` exists on the endpoint (one ``GetQueueAttributes``)."""
    try:
        read_attributes(sqs, url, ["QueueArn"])
    except QueueNotFound:
        return False
    return True


# --- the process entry point -----------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=f"python -m {PROG}",
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
    p.add_argument("--stop-after", type=int, help="stop after this many messages")
    p.add_argument("--timeout", type=float, help="stop after this many seconds")
    p.add_argument(
        "--reconnect-seconds", type=float, default=0.0,
        help="when the endpoint goes down, wait this long for it to come back (default 0: exit)",
    )  # fmt: skip
    return p


def _say(text: str) -> None:
    print(f"{PROG}: {text}", file=sys.stderr, flush=True)


class _GracefulStop:
    """``SIGTERM``/``SIGINT`` stop the worker gracefully; a second one stops it at once (the default)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.reason = "stop"

    def install(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        if self.event.is_set():  # a second signal: stop now, as the default action would
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        _say(f"{name}: stopping gracefully (again to force)")
        self.reason = name
        self.event.set()

    def watch(self, worker: Worker) -> None:
        """Stop ``worker`` once signalled: Consumer.stop() before the run has set itself up would be
        forgotten, so repeat it until the process ends."""

        def stop_when_signalled() -> None:
            self.event.wait()
            while True:
                worker.consumer.stop(self.reason)
                time.sleep(0.1)

        threading.Thread(target=stop_when_signalled, name="labsqs-worker-stop", daemon=True).start()


def _worker(args: argparse.Namespace, sqs: SQSClient) -> Worker:
    return Worker(
        args.queue, args.db, sqs=sqs, workers=args.workers, wait_time_seconds=args.wait,
        visibility_timeout=args.visibility_timeout, heartbeat=not args.no_heartbeat,
        work_seconds=args.work_ms / 1000, retry_backoff_seconds=args.retry_backoff,
        fifo_guard=not args.no_fifo_guard,
    )  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """The worker process: consume until done, stopped or the queue is gone; the exit code says which."""
    from labsqs.client import client_endpoint, sqs_client

    args = _parser().parse_args(argv)
    stop = _GracefulStop()
    stop.install()
    try:
        sqs = sqs_client(args.endpoint)
        endpoint = client_endpoint(sqs)
        worker = _worker(args, sqs)
    except LabSqsError as exc:
        _say(f"error: {exc}")
        return EXIT_ERROR
    stop.watch(worker)
    _say(f"pid {os.getpid()} consuming {args.queue} (log {args.db})")
    try:
        return _consume(worker, args, sqs, endpoint, stop.event)
    finally:
        worker.close()


def _consume(
    worker: Worker, args: argparse.Namespace, sqs: SQSClient, endpoint: str, stopping: threading.Event
) -> int:
    """Run the worker, riding out up to :data:`MAX_OUTAGES` outages of the endpoint; the exit code."""
    outages = 0
    deadline = time.monotonic() + args.timeout if args.timeout else None
    while True:
        left = None if deadline is None else max(0.1, deadline - time.monotonic())
        try:
            summary = worker.run(
                stop_after=args.stop_after, idle_polls=args.idle_polls, timeout_seconds=left
            )
        except EndpointUnavailable as exc:
            outages += 1
            code = _ride_out(exc, outages, worker, args.reconnect_seconds, sqs, endpoint, stopping)
            if code is None:
                continue
            return code
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


def _ride_out(
    exc: EndpointUnavailable, outages: int, worker: Worker, seconds: float, sqs: SQSClient, endpoint: str,
    stopping: threading.Event,
) -> int | None:  # fmt: skip
    """Wait (bounded) for a down endpoint: None to consume again, or the exit code."""
    if seconds <= 0 or outages > MAX_OUTAGES:
        _say(f"error: {exc}")
        return EXIT_ERROR
    _say(f"{exc.message}; waiting up to {seconds:g} s for it to come back")
    if not wait_for_endpoint(sqs, seconds, stop=stopping):
        if stopping.is_set():
            _say("stopped while waiting for the endpoint")
            return EXIT_OK
        _say(f"error: {exc.message} after waiting {seconds:g} s — {exc.hint}")
        return EXIT_ERROR
    url = worker.consumer.url
    if not queue_exists(sqs, url):
        _say(f"error: {queue_lost(url, endpoint)}")
        return EXIT_QUEUE_LOST
    _say(f"the endpoint {endpoint} is back and {url} still exists: consuming again")
    return None


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
