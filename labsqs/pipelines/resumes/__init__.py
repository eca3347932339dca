"""Pipeline 2 — the resume builder (seed 000, "DevResume-Forge"): ordered updates, PDFs in S3, emails.

::

    Resume editor ──▶ resume updates (FIFO, group user-{userId}) ──▶ update processors (3+) ──▶ SQLite
                                                                          │ one PDF job per saved change
                                                                          ▼
                      PDF generation (standard queue) ──▶ PDF workers ──▶ S3 bucket ({prefix}-pdfs)
                                                                          │
                                                                          ▼
                      notifications (FIFO, group per user) ──▶ email sender ──▶ SES ──▶ the user's inbox
    every queue: 3 receives, then its DLQ

**Why FIFO for updates.** A user who types "Senior" then "Staff" into their headline expects "Staff" to
win. A FIFO queue delivers the messages of one *message group* in order and holds the group while one of
its messages is in flight, so several update processors can run side by side — each user's updates stay
in order (one group per user, ``user-{userId}``), different users proceed in parallel. The producer gives
every update a deduplication id (its ``updateId``): a retried send within 5 minutes is dropped by SQS
instead of being applied twice. (The seed's ``Date.now()`` as deduplication id would defeat that: a retry
gets a new id. Content-based deduplication of the seed's message, which carries no id, is no better for
edits: a user who sets a field back to an earlier value within 5 minutes would see that edit dropped.)

**Why standard for PDFs.** Rendering is slow, order does not matter and PDFs can run in parallel — the
standard queue has no ordering cost. It delivers *at least once*, so the worker is idempotent: a PDF job
is claimed in an :class:`~labsqs.idempotency.IdempotencyStore`; the PDF goes to S3 (``PutObject``) under a
key fixed by the job (``{userId}/{resumeId}/pdf-{updateId}.pdf``), so storing it again overwrites the
object with the same bytes (the renderer is deterministic) instead of adding one; the notification is
sent to a FIFO queue with the job's id as deduplication id, so a worker that crashed after notifying and
runs again does not notify twice.

**Exactly-once *effects* from at-least-once delivery.** A processor can crash after saving an update but
before deleting its message; the message comes back. The update's id is written in the *same SQLite
transaction* as the change (``applied_updates``), so the second delivery finds it and changes nothing.
The PDF job is written in that transaction too (a *transactional outbox*) and sent after the commit: a
crash between commit and send leaves the job in the outbox, and the redelivered message sends it. An
:class:`~labsqs.idempotency.IdempotencyStore` (claim, then mark) would not be enough here: its mark is a
second write, and a crash between the change and the mark would apply the change twice.

**FIFO batches and the DLQ.** When the first message of a group fails, the rest of the batch is handed back,
and each such receive counts toward maxReceiveCount. The update processors take batches of 10 and share one
:class:`~labsqs.consumer.FifoGuard`: after a failure they receive one message at a time while the failed
update may be visible, so updates behind it stay unreceived until it succeeds or goes to the DLQ.

**An email is not idempotent.** A put to a fixed S3 key can be repeated; SES's ``SendEmail`` cannot —
each call is one more email, and SES takes no idempotency token. The email sender claims each
notification in the IdempotencyStore (a lease: no two senders hold one notification at once) and writes
SES's ``MessageId`` into the database's ``emails`` ledger the moment SES accepted the mail, before
anything else can fail; a redelivered notification finds its entry and sends nothing. What no design can
close with an API that does not deduplicate is the instant between SES's answer and that one-row insert:
a crash exactly there sends the email twice (the alternative, recording *before* sending, loses the
email instead). The sender is a verified SES identity (:func:`labsqs.mail.verify_sender`), as AWS
requires; on the lab's engine every email lands in its inbox (:func:`labsqs.mail.read_inbox`).

**Failures.** A *poison* update (an unknown action, an UPDATE of a resume that does not exist) fails on
every delivery; after 3 receives it moves to the updates DLQ, and the user's later updates continue. Its
reason is in the ``failures`` table. :class:`FailureInjector` injects *transient* failures (simulated
crashes before the change, after the commit, after the PDF job was sent, after the PDF was stored, after
the notification was queued, before and after the email) to show that retries end in the same final
state: one saved change, one S3 object and one email per edit.

>>> queues = ensure_resume_queues("devresume")
>>> bucket = ensure_pdf_bucket(pdf_bucket_name("devresume"))
>>> sender = verify_sender(DEFAULT_SENDER)
>>> queue_resume_updates(queues.updates, sample_updates())
>>> run = run_resume_pipeline(queues, db_path="resumes.sqlite", bucket=bucket, sender=sender)
>>> ResumeStore("resumes.sqlite").resumes() == expected_resumes(sample_updates())
True

The package, one module a topic (imports go down this list):

============  ============================================================================================
``model``     the seed's settings, the messages (update, PDF job, notification), the state machine, the
              injected failures
``store``     the SQLite database (resumes, applied ids, outbox, email ledger, failures)
``pdf``       the PDF renderer (reportlab) and the S3 bucket the PDFs go to
``stages``    the queues, the producer and the three handlers (update processor, PDF worker, email sender)
``flow``      where the messages are: counts, the seed's diagram with live numbers, the live picture
``run``       the whole flow: every stage's consumers on threads until the queues drain
``sample``    a deterministic editing session (sample data)
============  ============================================================================================
"""

from __future__ import annotations

from labsqs.pipelines.resumes.flow import (
    LiveFlow,
    flow_counts,
    plot_flow,
)
from labsqs.pipelines.resumes.model import (
    ACTIONS,
    DEFAULT_CONSUMERS,
    DEFAULT_EMAIL_SENDERS,
    DEFAULT_PDF_WORKERS,
    DEFAULT_PREFIX,
    DEFAULT_TEMPLATE,
    DLQ_AFTER_RECEIVES,
    LONG_POLL_SECONDS,
    MAX_ID_CHARS,
    MESSAGE_TYPE,
    NOTIFICATIONS_PER_RECEIVE,
    NOTIFICATIONS_SUFFIX,
    PDF_BUCKET_SUFFIX,
    PDF_JOBS_PER_RECEIVE,
    PDF_SUFFIX,
    RETENTION_SECONDS,
    TEMPLATES,
    UPDATES_PER_RECEIVE,
    UPDATES_SUFFIX,
    VISIBILITY_TIMEOUT_SECONDS,
    FailureInjector,
    InjectedFailure,
    PdfJob,
    PdfReady,
    ResumeState,
    ResumeUpdate,
    expected_resumes,
    next_state,
    pdf_id_for,
)
from labsqs.pipelines.resumes.pdf import (
    MAX_KEYS_PER_DELETE,
    PAGE_MARGIN_POINTS,
    PDF_CONTENT_TYPE,
    SIDE_BAND_POINTS,
    delete_pdf_bucket,
    ensure_pdf_bucket,
    list_pdfs,
    pdf_bucket_name,
    pdf_page_count,
    pdf_versions,
    read_pdf,
    render_resume_pdf,
    store_pdf,
)
from labsqs.pipelines.resumes.run import (
    PDF_KEYS_FILE_SUFFIX,
    ResumeRun,
    run_resume_pipeline,
)
from labsqs.pipelines.resumes.sample import (
    sample_updates,
)
from labsqs.pipelines.resumes.stages import (
    DEFAULT_SENDER,
    PDF_LINK_EXPIRES_SECONDS,
    ResumeQueues,
    compose_email,
    delete_resume_queues,
    email_key,
    ensure_resume_queues,
    make_email_sender,
    make_pdf_worker,
    make_update_processor,
    notify,
    queue_resume_updates,
    relay_outbox,
    resume_queue_specs,
    resume_sender,
)
from labsqs.pipelines.resumes.store import (
    BUSY_TIMEOUT_SECONDS,
    ResumeStore,
)

__all__ = [
    "ACTIONS",
    "BUSY_TIMEOUT_SECONDS",
    "DEFAULT_CONSUMERS",
    "DEFAULT_EMAIL_SENDERS",
    "DEFAULT_PDF_WORKERS",
    "DEFAULT_PREFIX",
    "DEFAULT_SENDER",
    "DEFAULT_TEMPLATE",
    "DLQ_AFTER_RECEIVES",
    "FailureInjector",
    "InjectedFailure",
    "LONG_POLL_SECONDS",
    "LiveFlow",
    "MAX_ID_CHARS",
    "MAX_KEYS_PER_DELETE",
    "MESSAGE_TYPE",
    "NOTIFICATIONS_PER_RECEIVE",
    "NOTIFICATIONS_SUFFIX",
    "PAGE_MARGIN_POINTS",
    "PDF_BUCKET_SUFFIX",
    "PDF_CONTENT_TYPE",
    "PDF_JOBS_PER_RECEIVE",
    "PDF_KEYS_FILE_SUFFIX",
    "PDF_LINK_EXPIRES_SECONDS",
    "PDF_SUFFIX",
    "PdfJob",
    "PdfReady",
    "RETENTION_SECONDS",
    "ResumeQueues",
    "ResumeRun",
    "ResumeState",
    "ResumeStore",
    "ResumeUpdate",
    "SIDE_BAND_POINTS",
    "TEMPLATES",
    "UPDATES_PER_RECEIVE",
    "UPDATES_SUFFIX",
    "VISIBILITY_TIMEOUT_SECONDS",
    "compose_email",
    "delete_pdf_bucket",
    "delete_resume_queues",
    "email_key",
    "ensure_pdf_bucket",
    "ensure_resume_queues",
    "expected_resumes",
    "flow_counts",
    "list_pdfs",
    "make_email_sender",
    "make_pdf_worker",
    "make_update_processor",
    "next_state",
    "notify",
    "pdf_bucket_name",
    "pdf_id_for",
    "pdf_page_count",
    "pdf_versions",
    "plot_flow",
    "queue_resume_updates",
    "read_pdf",
    "relay_outbox",
    "render_resume_pdf",
    "resume_queue_specs",
    "resume_sender",
    "run_resume_pipeline",
    "sample_updates",
    "store_pdf",
]
