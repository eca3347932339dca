"""Running the whole resume builder: update processors, PDF workers and email senders, each a
:class:`~labsqs.consumer.Consumer` on its own thread, until the three queues are drained, stage by stage.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labsqs.base.calls import default_sqs
from labsqs.client import s3_client, ses_client
from labsqs.consumer import Consumer, FifoGuard
from labsqs.errors import InvalidConsumerOption
from labsqs.idempotency import IdempotencyStore, body_field_key
from labsqs.metrics import Depth, wait_until_drained
from labsqs.pipelines.resumes.flow import flow_counts
from labsqs.pipelines.resumes.model import (
    DEFAULT_CONSUMERS,
    DEFAULT_EMAIL_SENDERS,
    DEFAULT_PDF_WORKERS,
    LONG_POLL_SECONDS,
    NOTIFICATIONS_PER_RECEIVE,
    PDF_JOBS_PER_RECEIVE,
    UPDATES_PER_RECEIVE,
    FailureInjector,
)
from labsqs.pipelines.resumes.stages import (
    ResumeQueues,
    email_key,
    make_email_sender,
    make_pdf_worker,
    make_update_processor,
    relay_outbox,
)
from labsqs.pipelines.resumes.store import ResumeStore

if TYPE_CHECKING:
    import os

    import pandas as pd
    from mypy_boto3_sqs import SQSClient

    from labsqs.consumer import Message
    from labsqs.queues import Queue

PDF_KEYS_FILE_SUFFIX = "-pdf-keys.sqlite"


@dataclass(frozen=True)
class ResumeRun:
    """What :func:`run_resume_pipeline` did: the counters of each update processor, PDF worker and email
    sender, whether all three stages drained, the injected failures per point, and jobs the final outbox
    sweep sent."""

    updates: tuple[Mapping[str, Any], ...]
    pdf: tuple[Mapping[str, Any], ...]
    emails: tuple[Mapping[str, Any], ...]
    drained: bool
    injected: Mapping[str, int]
    outbox_swept: int

    def total(self, stage: str, counter: str) -> int:
        """A counter summed over one stage's consumers: ``run.total("updates", "processed")``."""
        return sum(int(s.get(counter) or 0) for s in getattr(self, stage))


@dataclass(frozen=True)
class _Wiring:
    """What every stage's consumers share: the queues, the clients, the injected failures, the long poll."""

    queues: ResumeQueues
    sqs: SQSClient
    s3: Any
    ses: Any
    injector: FailureInjector | None
    wait_time_seconds: int


@dataclass(frozen=True)
class _Stage:
    """The consumers of one queue."""

    workers: list[Consumer]
    queue: Queue


def _failure_recorder(store: ResumeStore, stage: str) -> Callable[[Message, BaseException], None]:
    def record(message: Message, exc: BaseException) -> None:
        store.record_message_failure(stage, message, exc)

    return record


def _run_in_thread(consumer: Consumer, errors: list[BaseException]) -> threading.Thread:
    def main() -> None:
        try:
            consumer.run()
        except BaseException as exc:  # noqa: BLE001 - re-raised by the caller
            errors.append(exc)

    thread = threading.Thread(target=main, name="resume-pipeline-consumer", daemon=True)
    thread.start()
    return thread


def _update_stage(w: _Wiring, stores: Sequence[ResumeStore]) -> _Stage:
    """One update processor per store (each its own database connection, as separate processes would);
    they share one FIFO guard, so a failure one of them saw protects the group's followers from all."""
    guard = FifoGuard()
    return _Stage(
        [
            Consumer(
                w.queues.updates,
                make_update_processor(store, w.queues.pdf, injector=w.injector, sqs=w.sqs),
                sqs=w.sqs,
                wait_time_seconds=w.wait_time_seconds,
                max_messages=UPDATES_PER_RECEIVE,
                fifo_guard=guard,
                on_error=_failure_recorder(store, "update"),
            )
            for store in stores
        ],
        w.queues.updates,
    )


def _pdf_stage(w: _Wiring, bucket: str, store: ResumeStore, keys: IdempotencyStore, workers: int) -> _Stage:
    """PDF workers: render → S3 → notification, each job claimed in ``keys`` by its ``pdfId``."""
    return _Stage(
        [
            Consumer(
                w.queues.pdf,
                make_pdf_worker(bucket, w.queues.notifications, injector=w.injector, sqs=w.sqs, s3=w.s3),
                sqs=w.sqs,
                wait_time_seconds=w.wait_time_seconds,
                max_messages=PDF_JOBS_PER_RECEIVE,
                idempotency=keys,
                key=body_field_key("pdfId"),
                on_error=_failure_recorder(store, "pdf"),
            )
            for _ in range(workers)
        ],
        w.queues.pdf,
    )


def _email_stage(w: _Wiring, sender: str, store: ResumeStore, keys: IdempotencyStore, workers: int) -> _Stage:
    """Email senders: notification → SES, each claimed in ``keys`` and entered in ``store``'s ledger."""
    return _Stage(
        [
            Consumer(
                w.queues.notifications,
                make_email_sender(store, sender, injector=w.injector, s3=w.s3, ses=w.ses),
                sqs=w.sqs,
                wait_time_seconds=w.wait_time_seconds,
                max_messages=NOTIFICATIONS_PER_RECEIVE,
                idempotency=keys,
                key=email_key,
                on_error=_failure_recorder(store, "email"),
            )
            for _ in range(workers)
        ],
        w.queues.notifications,
    )


def run_resume_pipeline(
    queues: ResumeQueues,
    *,
    db_path: str | os.PathLike[str],
    bucket: str,
    sender: str,
    consumers: int = DEFAULT_CONSUMERS,
    pdf_workers: int = DEFAULT_PDF_WORKERS,
    email_senders: int = DEFAULT_EMAIL_SENDERS,
    injector: FailureInjector | None = None,
    wait_time_seconds: int = LONG_POLL_SECONDS,
    timeout_seconds: float | None = None,
    idempotency_path: str | os.PathLike[str] | None = None,
    sqs: SQSClient | None = None,
    s3: Any | None = None,
    ses: Any | None = None,
    progress: Callable[[pd.DataFrame], None] | None = None,
) -> ResumeRun:
    """Run ``consumers`` update processors, ``pdf_workers`` PDF workers (storing into the S3 ``bucket``)
    and ``email_senders`` notification workers (emailing through SES from the verified ``sender``) —
    each a :class:`~labsqs.consumer.Consumer` on its own thread — until the updates queue, then the PDF
    queue, then the notification queue are drained (see :func:`labsqs.metrics.wait_until_drained`).

    ``progress(counts)`` gets a :func:`flow_counts` frame about four times a second (a :class:`LiveFlow`
    draws it). Each stage's end waits for its consumers' last long poll (up to ``wait_time_seconds``).
    Raises the first error a consumer hit outside its handler (a lost engine, say).
    """
    _check_counts(consumers, pdf_workers, email_senders)
    s3, ses = (s3 if s3 is not None else s3_client()), (ses if ses is not None else ses_client())
    w = _Wiring(queues, default_sqs(sqs), s3, ses, injector, wait_time_seconds)
    db = Path(db_path)
    keys_path = Path(idempotency_path) if idempotency_path else db.with_name(db.stem + PDF_KEYS_FILE_SUFFIX)
    stores = [ResumeStore(db) for _ in range(consumers + 2)]  # a processor each, the PDF and the email side
    pdf_store, email_store = stores[-2:]
    keys = IdempotencyStore(keys_path)
    stages = [
        _update_stage(w, stores[:-2]),
        _pdf_stage(w, bucket, pdf_store, keys, pdf_workers),
        _email_stage(w, sender, email_store, keys, email_senders),
    ]

    def on_poll(_: dict[str, Depth]) -> None:
        if progress is not None:
            progress(flow_counts(queues, db_path=db, bucket=bucket, sqs=w.sqs, s3=w.s3))

    errors: list[BaseException] = []
    try:
        drained, swept = _run_stages(stages, pdf_store, w, timeout_seconds, on_poll, errors)
    finally:
        for stage in stages:
            for consumer in stage.workers:
                consumer.stop()
        keys.close()
        for s in stores:
            s.close()
    if errors:
        raise errors[0]
    updates, pdf, emails = (tuple(c.stats.snapshot() for c in stage.workers) for stage in stages)
    fired = dict(injector.fired) if injector is not None else {}
    return ResumeRun(updates, pdf, emails, drained=all(drained), injected=fired, outbox_swept=swept)


def _check_counts(consumers: int, pdf_workers: int, email_senders: int) -> None:
    if min(consumers, pdf_workers, email_senders) < 1:
        raise InvalidConsumerOption(
            f"need >= 1 update processor, PDF worker and email sender, got {consumers}, {pdf_workers} "
            f"and {email_senders}"
        )


def _run_stages(
    stages: Sequence[_Stage], pdf_store: ResumeStore, w: _Wiring, timeout_seconds: float | None,
    on_poll: Callable[[dict[str, Depth]], None], errors: list[BaseException],
) -> tuple[list[bool], int]:  # fmt: skip
    """Start every consumer, then drain the stages in the flow's order and stop each one's consumers.
    Returns whether each stage drained, and how many PDF jobs the outbox sweep sent between the update
    stage and the PDF stage (normally 0: each processor relays its own)."""
    threads = [[_run_in_thread(c, errors) for c in stage.workers] for stage in stages]
    drained: list[bool] = []
    swept = 0
    for n, (stage, running) in enumerate(zip(stages, threads, strict=True)):
        if n == 1:
            swept = relay_outbox(pdf_store, w.queues.pdf, sqs=w.sqs)
        drained.append(_drain_then_stop(stage, running, w.sqs, timeout_seconds, on_poll))
    return drained, swept


def _drain_then_stop(
    stage: _Stage,
    threads: list[threading.Thread],
    sqs: SQSClient,
    timeout_seconds: float | None,
    on_poll: Callable[[dict[str, Depth]], None],
) -> bool:
    drained = wait_until_drained(
        [stage.queue],
        sqs=sqs,
        timeout_seconds=timeout_seconds,
        on_poll=on_poll,
        alive=lambda: any(t.is_alive() for t in threads),
    )
    for c in stage.workers:
        c.stop("drained" if drained else "timeout")
    for t in threads:
        t.join()
    return drained
