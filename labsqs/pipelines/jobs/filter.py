"""JobPing's consumer: the triggered "AI filter" (the seed's Go Lambda ``HandleSQSEvent``) and its run.

In AWS an *event source mapping* polls the queue (long polls of 20 s) and invokes the filter with one
message per event (``batch_size=1``); :func:`run_filter` does the same with
:func:`labsqs.trigger.run_trigger` until the queue is drained. A record the filter cannot read is recorded
in ``failures`` and reported in ``batchItemFailures``, so SQS retries only it, then moves it to the DLQ.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from labsqs.base.calls import default_sqs
from labsqs.errors import InvalidConsumerOption
from labsqs.metrics import Depth, queue_depth, wait_until_drained
from labsqs.pipelines.jobs.fetch import BATCH_SIZE, LONG_POLL_SECONDS
from labsqs.pipelines.jobs.scoring import DEFAULT_PROFILE, FilterProfile, parse_job, score_job
from labsqs.pipelines.jobs.store import JobStore
from labsqs.queues import Queue
from labsqs.trigger import LambdaContext, TriggerStats, run_trigger

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

FUNCTION_NAME = "jobping-ai-filter"


def make_filter_handler(
    store: JobStore, profile: FilterProfile = DEFAULT_PROFILE
) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The seed's ``HandleSQSEvent``: for each record, parse → score → save; a record that fails is
    recorded in ``failures`` and reported in ``batchItemFailures`` (so only it is retried)."""

    def handle_sqs_event(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        failures = []
        for record in event["Records"]:
            receive_count = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
            try:
                posting = parse_job(record["body"])
                store.save(
                    posting,
                    score_job(posting, profile),
                    message_id=record["messageId"],
                    receive_count=receive_count,
                )
            except Exception as exc:  # noqa: BLE001 - every failure is recorded, then retried by SQS
                store.record_failure(
                    stage="filter",
                    message_id=record["messageId"],
                    receipt_handle=record.get("receiptHandle"),
                    receive_count=receive_count,
                    error=type(exc).__name__,
                    reason=getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}",
                    body=record["body"],
                )
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    return handle_sqs_event


@dataclass(frozen=True)
class FilterRun:
    """What :func:`run_filter` did: the trigger's counters, the database's, whether the queue drained,
    and how many messages wait in the DLQ."""

    trigger: Mapping[str, Any]
    store: Mapping[str, int]
    drained: bool
    dead_letters: int | None


class _TriggerThread(threading.Thread):
    """:func:`~labsqs.trigger.run_trigger` on a thread of its own, until ``stop`` is set; keeps its
    counters (``stats``) or the error that ended it (``error``, re-raised by the caller)."""

    def __init__(self, queue: Queue, handler: Callable[..., dict[str, Any]], **options: Any) -> None:
        super().__init__(name="jobping-trigger", daemon=True)
        self.queue, self.handler, self.options = queue, handler, options
        self.stop = threading.Event()
        self.stats: TriggerStats | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.stats = run_trigger(self.queue, self.handler, stop=self.stop, **self.options)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            self.error = exc


def run_filter(
    queue: Queue,
    store: JobStore,
    *,
    profile: FilterProfile = DEFAULT_PROFILE,
    sqs: SQSClient | None = None,
    batch_size: int = BATCH_SIZE,
    wait_time_seconds: int = LONG_POLL_SECONDS,
    timeout_seconds: float | None = None,
    progress: Callable[[dict[str, int]], None] | None = None,
) -> FilterRun:
    """Run the filter the way the seed's event source mapping does (``batch_size=1``, 20 s long polls)
    until the queue is drained: every message saved, or failed 3 times and moved to the DLQ.

    Drained means the queue's gauges (visible, in flight, delayed) read zero twice in a row — retries
    waiting out their visibility timeout count as in flight, so the run does not stop early. The last
    long poll may still wait up to ``wait_time_seconds`` before the run returns.

    ``progress(counts)`` is called about four times a second with ``waiting``, ``in_flight``, ``dlq``,
    ``jobs`` and ``failed_attempts``.
    """
    if not isinstance(queue, Queue):
        raise InvalidConsumerOption(
            "run_filter needs the Queue handle from ensure_queue(jobs_queue_spec(...))",
            hint="it watches the queue and its DLQ",
        )
    client = default_sqs(sqs)
    worker = _TriggerThread(
        queue,
        make_filter_handler(store, profile),
        batch_size=batch_size,
        wait_time_seconds=wait_time_seconds,
        sqs=client,
        function_name=FUNCTION_NAME,
    )
    worker.start()
    try:
        drained = wait_until_drained(
            [queue],
            sqs=client,
            timeout_seconds=timeout_seconds,
            on_poll=_progress_reporter(queue, store, client, progress),
            alive=worker.is_alive,
        )
    finally:
        worker.stop.set()
        worker.join()
    if worker.error is not None:
        raise worker.error
    dead = queue_depth(queue.dlq, sqs=client).total if queue.dlq is not None else None
    stats = worker.stats.snapshot() if worker.stats is not None else {}
    return FilterRun(trigger=stats, store=store.counts(), drained=drained, dead_letters=dead)


def _progress_reporter(
    queue: Queue, store: JobStore, sqs: SQSClient, progress: Callable[[dict[str, int]], None] | None
) -> Callable[[dict[str, Depth]], None]:
    """The drain wait's ``on_poll``: each reading of the queue, with its DLQ and the database, as
    ``progress``'s counts."""

    def on_poll(depths: dict[str, Depth]) -> None:
        if progress is None:
            return
        depth = depths[queue.url]
        dlq = queue_depth(queue.dlq, sqs=sqs).total if queue.dlq is not None else 0
        counts = store.counts()
        progress(
            {
                "waiting": depth.visible,
                "in_flight": depth.in_flight,
                "dlq": dlq,
                "jobs": counts["jobs"],
                "failed_attempts": counts["failed_attempts"],
            }
        )

    return on_poll
