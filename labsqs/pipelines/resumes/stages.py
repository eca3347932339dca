"""The resume builder's queues and the work done on each message: the producer of resume updates, the
update processor (apply once, relay the outbox), the PDF worker (render, store in S3, notify) and the
email sender (notification → SES, once).

Each ``make_*`` returns a handler for one :class:`~labsqs.consumer.Message`; :mod:`.run` puts each under
its :class:`~labsqs.consumer.Consumer`. The ``injector`` points stand for crashes at that step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any

from labsqs.base.calls import default_sqs
from labsqs.client import s3_client, ses_client
from labsqs.errors import InvalidResumeUpdate
from labsqs.idempotency import body_field_key
from labsqs.mail import send_email
from labsqs.pipelines.resumes.model import (
    DEFAULT_PREFIX,
    DLQ_AFTER_RECEIVES,
    LONG_POLL_SECONDS,
    MESSAGE_TYPE,
    NOTIFICATIONS_SUFFIX,
    PDF_SUFFIX,
    RETENTION_SECONDS,
    UPDATES_SUFFIX,
    VISIBILITY_TIMEOUT_SECONDS,
    FailureInjector,
    PdfJob,
    PdfReady,
    ResumeUpdate,
    maybe_inject,
)
from labsqs.pipelines.resumes.pdf import render_resume_pdf, store_pdf
from labsqs.producer import BatchReport, send, send_many
from labsqs.queues import Queue, QueueSpec, delete_queue, ensure_queue

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from labsqs.consumer import Message
    from labsqs.pipelines.resumes.store import ResumeStore


# --- queues -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ResumeQueues:
    """The three queues of the flow (each with its DLQ)."""

    updates: Queue
    pdf: Queue
    notifications: Queue

    def all(self) -> list[Queue]:
        """Every queue and DLQ, in the order of the flow."""
        out: list[Queue] = []
        for q in (self.updates, self.pdf, self.notifications):
            out.append(q)
            if q.dlq is not None:
                out.append(q.dlq)
        return out


def resume_queue_specs(
    prefix: str = DEFAULT_PREFIX,
    *,
    visibility_timeout_seconds: int = VISIBILITY_TIMEOUT_SECONDS,
    receive_wait_seconds: int = LONG_POLL_SECONDS,
    max_receive_count: int = DLQ_AFTER_RECEIVES,
) -> tuple[QueueSpec, QueueSpec, QueueSpec]:
    """Specs of the updates (FIFO, content-based deduplication as in the seed — the explicit ids the
    producer sends take precedence), PDF (standard) and notifications (FIFO) queues."""
    common = {
        "visibility_timeout_seconds": visibility_timeout_seconds,
        "retention_seconds": RETENTION_SECONDS,
        "receive_wait_seconds": receive_wait_seconds,
        "max_receive_count": max_receive_count,
    }
    return (
        QueueSpec(prefix + UPDATES_SUFFIX, content_based_dedup=True, **common),  # type: ignore[arg-type]
        QueueSpec(prefix + PDF_SUFFIX, **common),  # type: ignore[arg-type]
        QueueSpec(prefix + NOTIFICATIONS_SUFFIX, **common),  # type: ignore[arg-type]
    )


def ensure_resume_queues(
    prefix: str = DEFAULT_PREFIX,
    *,
    visibility_timeout_seconds: int = VISIBILITY_TIMEOUT_SECONDS,
    receive_wait_seconds: int = LONG_POLL_SECONDS,
    max_receive_count: int = DLQ_AFTER_RECEIVES,
    sqs: SQSClient | None = None,
) -> ResumeQueues:
    """Create (or find) the three queues and their DLQs."""
    client = default_sqs(sqs)
    updates, pdf, notifications = (
        ensure_queue(spec, sqs=client)
        for spec in resume_queue_specs(
            prefix,
            visibility_timeout_seconds=visibility_timeout_seconds,
            receive_wait_seconds=receive_wait_seconds,
            max_receive_count=max_receive_count,
        )
    )
    return ResumeQueues(updates, pdf, notifications)


def delete_resume_queues(queues: ResumeQueues, *, sqs: SQSClient | None = None) -> None:
    """Delete the three queues and their DLQs (missing ones are fine)."""
    client = default_sqs(sqs)
    for q in (queues.updates, queues.pdf, queues.notifications):
        delete_queue(q, sqs=client, missing_ok=True)


# --- the producer -------------------------------------------------------------------------------------
def queue_resume_updates(
    queue: Queue | str, updates: Iterable[ResumeUpdate], *, sqs: SQSClient | None = None
) -> BatchReport:
    """The seed's ``queueResumeUpdate``: each update to the FIFO queue, group ``user-{userId}``,
    deduplication id ``updateId`` (a retried send within 5 minutes is dropped by SQS)."""
    items = list(updates)
    for item in items:
        if not isinstance(item, ResumeUpdate):
            raise InvalidResumeUpdate(f"expected ResumeUpdate values, got {type(item).__name__}")
    client = default_sqs(sqs)
    return send_many(
        queue,
        [u.to_message() for u in items],
        attributes={"MessageType": MESSAGE_TYPE},
        group_by=lambda m: f"user-{m['userId']}",
        dedup_by=lambda m: m["updateId"],
        sqs=client,
    ).raise_for_failures()


# --- the update processor -------------------------------------------------------------------------------
def relay_outbox(
    store: ResumeStore, pdf_queue: Queue | str, *, update_id: str | None = None, sqs: SQSClient | None = None
) -> int:
    """Send the outbox's unsent PDF jobs (of one update, or all) to the PDF queue, then mark them sent.

    A crash between the send and the mark sends a job twice: the PDF worker is idempotent for that.
    Returns how many jobs were sent.
    """
    jobs = store.unsent_pdf_jobs(update_id)
    if not jobs:
        return 0
    client = default_sqs(sqs)
    send_many(pdf_queue, jobs, attributes={"MessageType": "PDF_JOB"}, sqs=client).raise_for_failures()
    store.mark_sent([j["pdfId"] for j in jobs])
    return len(jobs)


def make_update_processor(
    store: ResumeStore,
    pdf_queue: Queue | str,
    *,
    injector: FailureInjector | None = None,
    sqs: SQSClient | None = None,
) -> Callable[[Message], str]:
    """The seed's ``processResumeUpdates`` body for one message: parse, apply once, send the PDF job.

    Injection points: ``update:before-apply``, ``update:after-commit`` (the change is saved, the PDF job
    not sent), ``update:after-send`` (everything done, the message not deleted).
    """
    client = default_sqs(sqs)

    def process(message: Message) -> str:
        update = ResumeUpdate.parse(message.body)
        attempt = message.receive_count
        maybe_inject(injector, "update:before-apply", update.update_id, attempt)
        outcome = store.apply(update, message_id=message.message_id)
        maybe_inject(injector, "update:after-commit", update.update_id, attempt)
        relay_outbox(store, pdf_queue, update_id=update.update_id, sqs=client)
        maybe_inject(injector, "update:after-send", update.update_id, attempt)
        return outcome

    return process


# --- the PDF worker: render → S3 → notification ---------------------------------------------------------
def notify(queue: Queue | str, note: PdfReady, *, sqs: SQSClient | None = None) -> None:
    """Queue the "PDF ready" notification: one message on the FIFO notification queue (group per user),
    deduplicated by the PDF's id (a second send within 5 minutes is dropped by SQS)."""
    send(queue, note.to_message(), group_id=f"user-{note.user_id}", dedup_id=note.notification_id, sqs=sqs)


def make_pdf_worker(
    bucket: str,
    notifications_queue: Queue | str,
    *,
    injector: FailureInjector | None = None,
    sqs: SQSClient | None = None,
    s3: Any | None = None,
) -> Callable[[Message], str]:
    """The seed's "Generate PDF → store in S3 → notification" for one message; returns the object's key.

    Injection points: ``pdf:before-render``, ``pdf:after-store`` (the object is in S3, no notification
    yet), ``pdf:after-notify`` (everything done, the message not deleted). Run it under a
    :class:`~labsqs.consumer.Consumer` with an ``IdempotencyStore`` keyed on ``pdfId``.
    """
    client = default_sqs(sqs)
    storage = s3 if s3 is not None else s3_client()

    def generate(message: Message) -> str:
        job = PdfJob.parse(message.body)
        attempt = message.receive_count
        maybe_inject(injector, "pdf:before-render", job.pdf_id, attempt)
        pdf = render_resume_pdf(job.data, template=job.template, version=job.version)
        key = store_pdf(bucket, job, pdf, s3=storage)
        maybe_inject(injector, "pdf:after-store", job.pdf_id, attempt)
        notify(notifications_queue, PdfReady.for_job(job, bucket, key), sqs=client)
        maybe_inject(injector, "pdf:after-notify", job.pdf_id, attempt)
        return key

    return generate


# --- the email sender: notification → SES (the seed's "Send Email to User") -----------------------------
PDF_LINK_EXPIRES_SECONDS = 7 * 24 * 3600  # a presigned S3 link lives at most 7 days
DEFAULT_SENDER = "DevResume <no-reply@devresume.example>"


def resume_sender(prefix: str = DEFAULT_PREFIX) -> str:
    """A sender address of the pipeline's own (``no-reply+{prefix}@...``): its mail can be picked out of
    an inbox that other runs share (the lab's engine keeps one inbox for everything)."""
    name, address = parseaddr(DEFAULT_SENDER)
    local, domain = address.split("@", 1)
    return f"{name} <{local}+{prefix}@{domain}>"


def compose_email(note: PdfReady, link: str) -> tuple[str, str]:
    """Subject and plain-text body of the "your PDF is ready" email; the subject carries the PDF's id."""
    subject = f"Your resume PDF is ready [{note.notification_id}]"
    text = (
        f"Hello {note.name or note.user_id},\n\n"
        f"version {note.version} of your resume {note.resume_id} is ready as a PDF:\n{link}\n\n"
        f"The link works for {PDF_LINK_EXPIRES_SECONDS // 86_400} days.\n"
    )
    return subject, text


def make_email_sender(
    store: ResumeStore,
    sender: str,
    *,
    injector: FailureInjector | None = None,
    s3: Any | None = None,
    ses: Any | None = None,
) -> Callable[[Message], str]:
    """The notification worker for one message: email the user a link to their PDF through SES, once.

    ``SendEmail`` is not idempotent, so the email's SES ``MessageId`` goes into the database's ``emails``
    ledger the moment SES accepted it; a redelivered notification finds it there and sends nothing
    (``"duplicate"``). Run it under a :class:`~labsqs.consumer.Consumer` with an ``IdempotencyStore``
    claim, so no two workers send the same notification at once. Injection points: ``email:before-send``,
    ``email:after-send`` (sent and recorded, the message not deleted).
    """
    storage = s3 if s3 is not None else s3_client()
    mailer = ses if ses is not None else ses_client()

    def send_one(message: Message) -> str:
        note = PdfReady.parse(message.body)
        if store.email_sent(note.notification_id) is not None:
            return "duplicate"
        maybe_inject(injector, "email:before-send", note.notification_id, message.receive_count)
        link = storage.generate_presigned_url(
            "get_object", Params={"Bucket": note.bucket, "Key": note.key}, ExpiresIn=PDF_LINK_EXPIRES_SECONDS
        )
        subject, text = compose_email(note, link)
        ses_message_id = send_email(sender, note.email, subject, text, ses=mailer)
        store.record_email(note.notification_id, ses_message_id, note.email)
        maybe_inject(injector, "email:after-send", note.notification_id, message.receive_count)
        return "sent"

    return send_one


def email_key(message: Message) -> str:
    """The email sender's idempotency key: ``email:{notificationId}`` (the PDF stage claims the bare id)."""
    return f"email:{body_field_key('notificationId')(message)}"
