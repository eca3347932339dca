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
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from labsqs.base.sqlite import SqliteFile
from labsqs.client import s3_client, ses_client, sqs_client
from labsqs.consumer import Consumer, FifoGuard, Message
from labsqs.errors import InvalidBucketName, InvalidConsumerOption, InvalidResumeUpdate, ResumeStateError
from labsqs.idempotency import IdempotencyStore, body_field_key
from labsqs.mail import send_email
from labsqs.metrics import Depth, queue_depth, wait_until_drained
from labsqs.producer import BatchReport, send, send_many
from labsqs.queues import Queue, QueueSpec, delete_queue, ensure_queue

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from mypy_boto3_sqs import SQSClient

__all__ = [
    "ACTIONS",
    "DEFAULT_SENDER",
    "TEMPLATES",
    "FailureInjector",
    "InjectedFailure",
    "LiveFlow",
    "PdfJob",
    "PdfReady",
    "ResumeQueues",
    "ResumeRun",
    "ResumeState",
    "ResumeStore",
    "ResumeUpdate",
    "compose_email",
    "delete_pdf_bucket",
    "delete_resume_queues",
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
    "pdf_page_count",
    "pdf_versions",
    "plot_flow",
    "queue_resume_updates",
    "read_pdf",
    "render_resume_pdf",
    "resume_sender",
    "run_resume_pipeline",
    "sample_updates",
    "store_pdf",
]

# --- the seed's settings --------------------------------------------------------------------------
DEFAULT_PREFIX = "devresume"
UPDATES_SUFFIX = "-resume-updates.fifo"
PDF_SUFFIX = "-pdf-generation"
NOTIFICATIONS_SUFFIX = "-notifications.fifo"
PDF_BUCKET_SUFFIX = "-pdfs"
VISIBILITY_TIMEOUT_SECONDS = 30  # the seed's CreateQueue: VisibilityTimeout '30'
RETENTION_SECONDS = 86_400  # MessageRetentionPeriod '86400' (1 day)
LONG_POLL_SECONDS = 20  # WaitTimeSeconds: 20
MAX_RECEIVE_COUNT = 3  # RedrivePolicy maxReceiveCount: 3
DEFAULT_CONSUMERS = 3
DEFAULT_PDF_WORKERS = 2
UPDATES_PER_RECEIVE = 10  # a shared FIFO guard protects the followers (see "FIFO batches and the DLQ")
PDF_JOBS_PER_RECEIVE = 1  # spreads a small backlog over every worker
NOTIFICATIONS_PER_RECEIVE = 1  # one email per receive: a failure hands back nothing of the user's group
DEFAULT_EMAIL_SENDERS = 1

ACTIONS = ("CREATE", "UPDATE", "DELETE")
TEMPLATES = ("classic", "modern", "minimal")
DEFAULT_TEMPLATE = "classic"
MESSAGE_TYPE = "RESUME_UPDATE"
MAX_ID_CHARS = 64
MAX_FAILURE_BODY_CHARS = 2_000
BUSY_TIMEOUT_SECONDS = 10.0
PDF_KEYS_FILE_SUFFIX = "-pdf-keys.sqlite"

_ID = re.compile(r"[A-Za-z0-9_-]+")


# --- the message ------------------------------------------------------------------------------------
def _check_id(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_ID_CHARS or not _ID.fullmatch(value):
        raise InvalidResumeUpdate(
            f"{name} must be 1–{MAX_ID_CHARS} characters of letters, digits, '_' and '-', got {value!r}",
            hint=f"{name} ends up in SQS ids (message group user-{{userId}}, deduplication id updateId)",
        )
    return value


def _json_copy(value: Any, what: str) -> Any:
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError) as exc:
        raise InvalidResumeUpdate(f"{what} is not JSON: {exc}") from exc


@dataclass(frozen=True)
class ResumeUpdate:
    """The seed's ``ResumeUpdateMessage`` (``userId``, ``resumeId``, ``action``, ``template?``, ``data``)
    plus the ``updateId`` that makes it deduplicable. Checked when built.

    ``data`` of a CREATE is the whole resume (``name`` required); of an UPDATE, the top-level fields to
    change (a ``null`` value removes the field); of a DELETE, ignored.
    """

    update_id: str
    user_id: str
    resume_id: str
    action: str
    data: Mapping[str, Any] = field(default_factory=dict)
    template: str | None = None

    def __post_init__(self) -> None:
        _check_id(self.update_id, "updateId")
        _check_id(self.user_id, "userId")
        _check_id(self.resume_id, "resumeId")
        if self.action not in ACTIONS:
            raise InvalidResumeUpdate(f"action must be one of {', '.join(ACTIONS)}, got {self.action!r}")
        if self.template is not None and self.template not in TEMPLATES:
            raise InvalidResumeUpdate(
                f"template must be one of {', '.join(TEMPLATES)}, got {self.template!r}"
            )
        if not isinstance(self.data, Mapping):
            raise InvalidResumeUpdate(f"data must be an object, got {type(self.data).__name__}")
        object.__setattr__(self, "data", _json_copy(dict(self.data), "data"))
        if self.action == "CREATE" and not (isinstance(self.data.get("name"), str) and self.data["name"]):
            raise InvalidResumeUpdate("a CREATE needs data.name (the resume's owner)")
        if self.action == "UPDATE" and not self.data and self.template is None:
            raise InvalidResumeUpdate("an UPDATE needs data to change or a new template")

    @property
    def group_id(self) -> str:
        """The FIFO message group: one per user, so each user's updates stay in order."""
        return f"user-{self.user_id}"

    def to_message(self) -> dict[str, Any]:
        """The JSON body, in the seed's camelCase."""
        return {
            "updateId": self.update_id,
            "userId": self.user_id,
            "resumeId": self.resume_id,
            "action": self.action,
            "template": self.template,
            "data": dict(self.data),
        }

    @classmethod
    def from_message(cls, body: Any) -> ResumeUpdate:
        """From a parsed JSON body; :class:`~labsqs.errors.InvalidResumeUpdate` says what is wrong."""
        if not isinstance(body, Mapping):
            raise InvalidResumeUpdate(f"a resume update is a JSON object, got {type(body).__name__}")
        unknown = set(body) - {"updateId", "userId", "resumeId", "action", "template", "data"}
        if unknown:
            raise InvalidResumeUpdate(f"unknown fields {sorted(unknown)}")
        data = body.get("data")
        return cls(
            update_id=body.get("updateId"),  # type: ignore[arg-type]
            user_id=body.get("userId"),  # type: ignore[arg-type]
            resume_id=body.get("resumeId"),  # type: ignore[arg-type]
            action=body.get("action"),  # type: ignore[arg-type]
            data={} if data is None else data,
            template=body.get("template"),
        )

    @classmethod
    def parse(cls, text: str) -> ResumeUpdate:
        """From a message body (JSON text)."""
        try:
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidResumeUpdate(f"body is not JSON ({exc.msg} at column {exc.colno})") from exc
        return cls.from_message(body)


# --- what an update does: the state machine (shared by the database and the reference replay) ---------
@dataclass(frozen=True)
class ResumeState:
    """A stored resume: its template, its data, and how many changes it has had since its CREATE."""

    template: str
    data: Mapping[str, Any]
    version: int


def next_state(current: ResumeState | None, update: ResumeUpdate) -> ResumeState | None:
    """The resume after ``update`` (None: deleted). Raises :class:`~labsqs.errors.ResumeStateError` for
    a CREATE of a resume that exists, and an UPDATE or DELETE of one that does not."""
    where = f"resume {update.resume_id!r} of user {update.user_id!r}"
    if update.action == "CREATE":
        if current is not None:
            raise ResumeStateError(
                f"CREATE of {where}, which already exists", hint="send an UPDATE, or DELETE it first"
            )
        return ResumeState(update.template or DEFAULT_TEMPLATE, dict(update.data), 1)
    if current is None:
        raise ResumeStateError(f"{update.action} of {where}, which does not exist", hint="CREATE it first")
    if update.action == "DELETE":
        return None
    data = dict(current.data)
    for key, value in update.data.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return ResumeState(update.template or current.template, data, current.version + 1)


def expected_resumes(updates: Iterable[ResumeUpdate]) -> dict[tuple[str, str], ResumeState]:
    """The reference: apply ``updates`` one by one, in the given order, in memory — skipping repeated
    update ids (SQS deduplication) and updates that do not fit (they end in the DLQ).

    Sending each user's updates in order and processing them through the FIFO queue must give exactly
    this (only the order *within* a user matters: users never touch each other's resumes).
    """
    state: dict[tuple[str, str], ResumeState] = {}
    seen: set[str] = set()
    for update in updates:
        if update.update_id in seen:
            continue
        seen.add(update.update_id)
        key = (update.user_id, update.resume_id)
        try:
            after = next_state(state.get(key), update)
        except ResumeStateError:
            continue
        if after is None:
            state.pop(key, None)
        else:
            state[key] = after
    return state


# --- the PDF job ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PdfJob:
    """A message of the PDF queue: render this version of this resume. ``pdf_id`` names the file and
    deduplicates the notification."""

    pdf_id: str
    update_id: str
    user_id: str
    resume_id: str
    version: int
    template: str
    data: Mapping[str, Any]

    def to_message(self) -> dict[str, Any]:
        return {
            "pdfId": self.pdf_id,
            "updateId": self.update_id,
            "userId": self.user_id,
            "resumeId": self.resume_id,
            "version": self.version,
            "template": self.template,
            "data": dict(self.data),
        }

    @classmethod
    def parse(cls, text: str) -> PdfJob:
        try:
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidResumeUpdate(f"PDF job is not JSON ({exc.msg} at column {exc.colno})") from exc
        if not isinstance(body, Mapping):
            raise InvalidResumeUpdate(f"a PDF job is a JSON object, got {type(body).__name__}")
        version, template, data = body.get("version"), body.get("template"), body.get("data")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise InvalidResumeUpdate(f"PDF job version must be a whole number >= 1, got {version!r}")
        if template not in TEMPLATES:
            raise InvalidResumeUpdate(
                f"PDF job template must be one of {', '.join(TEMPLATES)}, got {template!r}"
            )
        if not isinstance(data, Mapping) or not isinstance(data.get("name"), str):
            raise InvalidResumeUpdate("PDF job data must be an object with a name")
        return cls(
            pdf_id=_check_id(body.get("pdfId"), "pdfId"),
            update_id=_check_id(body.get("updateId"), "updateId"),
            user_id=_check_id(body.get("userId"), "userId"),
            resume_id=_check_id(body.get("resumeId"), "resumeId"),
            version=version,
            template=template,
            data=dict(data),
        )

    def s3_key(self) -> str:
        """The PDF's object key in the bucket, ``{userId}/{resumeId}/{pdfId}.pdf``: fixed by the job, so a
        redelivered job overwrites its own object instead of adding one."""
        return f"{self.user_id}/{self.resume_id}/{self.pdf_id}.pdf"


def pdf_id_for(update_id: str) -> str:
    return f"pdf-{update_id}"


# --- the database -------------------------------------------------------------------------------------
_SCHEMA = """
CREATE TABLE IF NOT EXISTS resumes (
    user_id    TEXT NOT NULL,
    resume_id  TEXT NOT NULL,
    template   TEXT NOT NULL,
    data       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (user_id, resume_id)
);
CREATE TABLE IF NOT EXISTS applied_updates (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    update_id  TEXT NOT NULL UNIQUE,
    user_id    TEXT NOT NULL,
    resume_id  TEXT NOT NULL,
    action     TEXT NOT NULL,
    message_id TEXT NOT NULL,
    applied_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    pdf_id    TEXT PRIMARY KEY,
    update_id TEXT NOT NULL,
    body      TEXT NOT NULL,
    sent_at   REAL
);
CREATE TABLE IF NOT EXISTS emails (
    notification_id TEXT PRIMARY KEY,
    ses_message_id  TEXT NOT NULL,
    to_address      TEXT NOT NULL,
    sent_at         REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS failures (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    stage         TEXT NOT NULL,
    message_id    TEXT NOT NULL,
    receive_count INTEGER NOT NULL,
    reason        TEXT NOT NULL,
    body          TEXT NOT NULL,
    failed_at     REAL NOT NULL
);
"""


class ResumeStore(SqliteFile):
    """The resume builder's SQLite database. Open one per consumer (as separate processes would); they
    share the file (WAL mode; each change is one ``BEGIN IMMEDIATE`` transaction).

    Tables: ``resumes`` (the current state), ``applied_updates`` (every applied update id, in the order
    applied — the idempotency record and the proof of order), ``outbox`` (PDF jobs written with the
    change, sent after the commit), ``emails`` (the ledger of emails SES accepted: one per notification,
    with SES's ``MessageId``), ``failures`` (why messages failed, per attempt).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(
            path, schema=_SCHEMA, busy_timeout_seconds=BUSY_TIMEOUT_SECONDS, synchronous_normal=True
        )

    # -- writes --------------------------------------------------------------------------------------
    def apply(self, update: ResumeUpdate, *, message_id: str) -> str:
        """Apply ``update`` once: ``"applied"``, or ``"duplicate"`` when its id was applied before.

        One transaction: the change, the update id, and (CREATE/UPDATE) the PDF job in the outbox.
        :class:`~labsqs.errors.ResumeStateError` (nothing changed) when the update does not fit.
        """
        db = self._db
        with self._lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                if db.execute(
                    "SELECT 1 FROM applied_updates WHERE update_id = ?", (update.update_id,)
                ).fetchone():
                    db.execute("ROLLBACK")
                    return "duplicate"
                row = db.execute(
                    "SELECT template, data, version FROM resumes WHERE user_id = ? AND resume_id = ?",
                    (update.user_id, update.resume_id),
                ).fetchone()
                current = ResumeState(row[0], json.loads(row[1]), row[2]) if row else None
                after = next_state(current, update)
                if after is None:
                    db.execute(
                        "DELETE FROM resumes WHERE user_id = ? AND resume_id = ?",
                        (update.user_id, update.resume_id),
                    )
                else:
                    db.execute(
                        "INSERT INTO resumes VALUES (?,?,?,?,?,?) "
                        "ON CONFLICT (user_id, resume_id) DO UPDATE SET "
                        "template = excluded.template, data = excluded.data, version = excluded.version, "
                        "updated_by = excluded.updated_by",
                        (
                            update.user_id,
                            update.resume_id,
                            after.template,
                            json.dumps(after.data, sort_keys=True),
                            after.version,
                            update.update_id,
                        ),
                    )
                    job = PdfJob(
                        pdf_id_for(update.update_id),
                        update.update_id,
                        update.user_id,
                        update.resume_id,
                        after.version,
                        after.template,
                        after.data,
                    )
                    db.execute(
                        "INSERT INTO outbox (pdf_id, update_id, body) VALUES (?,?,?)",
                        (job.pdf_id, update.update_id, json.dumps(job.to_message(), sort_keys=True)),
                    )
                db.execute(
                    "INSERT INTO applied_updates "
                    "(update_id, user_id, resume_id, action, message_id, applied_at) VALUES (?,?,?,?,?,?)",
                    (
                        update.update_id,
                        update.user_id,
                        update.resume_id,
                        update.action,
                        message_id,
                        time.time(),
                    ),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return "applied"

    def unsent_pdf_jobs(self, update_id: str | None = None) -> list[dict[str, Any]]:
        """Outbox rows not sent yet (of one update, or all), oldest first."""
        query = "SELECT body FROM outbox WHERE sent_at IS NULL"
        args: tuple[Any, ...] = ()
        if update_id is not None:
            query += " AND update_id = ?"
            args = (update_id,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY rowid", args).fetchall()
        return [json.loads(r[0]) for r in rows]

    def mark_sent(self, pdf_ids: Sequence[str]) -> None:
        with self._lock:
            self._db.executemany(
                "UPDATE outbox SET sent_at = ? WHERE pdf_id = ? AND sent_at IS NULL",
                [(time.time(), p) for p in pdf_ids],
            )

    def record_email(self, notification_id: str, ses_message_id: str, to_address: str) -> None:
        """Enter an email SES accepted into the ledger (a second entry for one notification is an error:
        it would mean that notification was emailed twice)."""
        with self._lock:
            self._db.execute(
                "INSERT INTO emails (notification_id, ses_message_id, to_address, sent_at) VALUES (?,?,?,?)",
                (notification_id, ses_message_id, to_address, time.time()),
            )

    def record_failure(self, stage: str, message: Message, exc: BaseException) -> None:
        """Keep why a message failed (one row per attempt); ``stage``: ``update``, ``pdf`` or ``email``."""
        reason = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        if isinstance(exc, InjectedFailure):
            reason = f"injected: {exc}"
        with self._lock:
            self._db.execute(
                "INSERT INTO failures (stage, message_id, receive_count, reason, body, failed_at) "
                "VALUES (?,?,?,?,?,?)",
                (
                    stage,
                    message.message_id,
                    message.receive_count,
                    reason,
                    message.body[:MAX_FAILURE_BODY_CHARS],
                    time.time(),
                ),
            )

    # -- reads ---------------------------------------------------------------------------------------
    def resumes(self) -> dict[tuple[str, str], ResumeState]:
        """Every stored resume, keyed by ``(userId, resumeId)`` (compare with :func:`expected_resumes`)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT user_id, resume_id, template, data, version FROM resumes"
            ).fetchall()
        return {(u, r): ResumeState(t, json.loads(d), v) for u, r, t, d, v in rows}

    def applied_order(self, user_id: str | None = None) -> list[str]:
        """The update ids in the order they were applied (of one user, or all)."""
        query, args = "SELECT update_id FROM applied_updates", cast("tuple[str, ...]", ())
        if user_id is not None:
            query, args = query + " WHERE user_id = ?", (user_id,)
        with self._lock:
            return [r[0] for r in self._db.execute(query + " ORDER BY seq", args).fetchall()]

    def frame(self) -> pd.DataFrame:
        """The resumes as a table: user, resume, template, version, name, headline."""
        import pandas as pd

        rows = [
            {
                "user": u,
                "resume": r,
                "template": s.template,
                "version": s.version,
                "name": s.data.get("name"),
                "headline": s.data.get("headline"),
            }
            for (u, r), s in sorted(self.resumes().items())
        ]
        return pd.DataFrame(rows, columns=["user", "resume", "template", "version", "name", "headline"])

    def email_sent(self, notification_id: str) -> str | None:
        """SES's ``MessageId`` of the email sent for ``notification_id``, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT ses_message_id FROM emails WHERE notification_id = ?", (notification_id,)
            ).fetchone()
        return None if row is None else str(row[0])

    def emails(self) -> pd.DataFrame:
        """The ledger: ``notification_id``, ``ses_message_id``, ``to_address``, in the order sent."""
        import pandas as pd

        with self._lock:
            return pd.read_sql_query(
                "SELECT notification_id, ses_message_id, to_address FROM emails ORDER BY sent_at, rowid",
                self._db,
            )

    def failures(self) -> pd.DataFrame:
        import pandas as pd

        with self._lock:
            return pd.read_sql_query(
                "SELECT stage, message_id, receive_count, reason, body, failed_at FROM failures ORDER BY id",
                self._db,
            )

    def counts(self) -> dict[str, int]:
        """Resumes stored, updates applied, PDF jobs in the outbox (unsent), emails sent, failed attempts."""
        with self._lock:
            (resumes,) = self._db.execute("SELECT COUNT(*) FROM resumes").fetchone()
            (applied,) = self._db.execute("SELECT COUNT(*) FROM applied_updates").fetchone()
            (unsent,) = self._db.execute("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").fetchone()
            (emails,) = self._db.execute("SELECT COUNT(*) FROM emails").fetchone()
            (failed,) = self._db.execute("SELECT COUNT(*) FROM failures").fetchone()
        return {
            "resumes": resumes,
            "applied": applied,
            "outbox_unsent": unsent,
            "emails": emails,
            "failed_attempts": failed,
        }


# --- injected failures --------------------------------------------------------------------------------
class InjectedFailure(RuntimeError):
    """A failure injected on purpose: it stands for a crash at that point of the handler."""


class FailureInjector:
    """Fail handlers on purpose, deterministically: at ``point`` for message ``key`` on receive
    ``attempt``, fail when a hash of ``(seed, point, key, attempt)`` falls under ``rate``.

    Failures are *transient*: from receive ``spare_from_attempt`` on (default 3, the DLQ threshold) the
    message is spared, so injected failures cause retries, never dead letters. ``fired`` counts the
    failures per point. ``points`` limits injection to some points (default: all).
    """

    def __init__(
        self,
        rate: float,
        *,
        seed: int = 0,
        spare_from_attempt: int = MAX_RECEIVE_COUNT,
        points: Iterable[str] | None = None,
    ) -> None:
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate < 1:
            raise InvalidConsumerOption(f"failure rate must be in [0, 1), got {rate!r}")
        if spare_from_attempt < 2:
            raise InvalidConsumerOption(
                f"spare_from_attempt must be >= 2 (1 would inject nothing), got {spare_from_attempt}"
            )
        self.rate = float(rate)
        self.seed = seed
        self.spare_from_attempt = spare_from_attempt
        self.points = frozenset(points) if points is not None else None
        self.fired: Counter[str] = Counter()
        self._lock = threading.Lock()

    def should_fail(self, point: str, key: str, attempt: int) -> bool:
        if self.rate == 0 or attempt >= self.spare_from_attempt:
            return False
        if self.points is not None and point not in self.points:
            return False
        digest = hashlib.sha256(f"{self.seed}|{point}|{key}|{attempt}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < self.rate

    def maybe_fail(self, point: str, key: str, attempt: int) -> None:
        """Raise :class:`InjectedFailure` if this (point, key, attempt) is one to fail."""
        if self.should_fail(point, key, attempt):
            with self._lock:
                self.fired[point] += 1
            raise InjectedFailure(f"{point} for {key} on receive {attempt}")

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.fired.values())

    def __repr__(self) -> str:
        return f"FailureInjector(rate={self.rate}, seed={self.seed}, fired={dict(self.fired)})"


def _inject(injector: FailureInjector | None, point: str, key: str, attempt: int) -> None:
    if injector is not None:
        injector.maybe_fail(point, key, attempt)


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
    max_receive_count: int = MAX_RECEIVE_COUNT,
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
    max_receive_count: int = MAX_RECEIVE_COUNT,
    sqs: SQSClient | None = None,
) -> ResumeQueues:
    """Create (or find) the three queues and their DLQs."""
    client = sqs if sqs is not None else sqs_client()
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
    client = sqs if sqs is not None else sqs_client()
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
    client = sqs if sqs is not None else sqs_client()
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
    client = sqs if sqs is not None else sqs_client()
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
    client = sqs if sqs is not None else sqs_client()

    def process(message: Message) -> str:
        update = ResumeUpdate.parse(message.body)
        attempt = message.receive_count
        _inject(injector, "update:before-apply", update.update_id, attempt)
        outcome = store.apply(update, message_id=message.message_id)
        _inject(injector, "update:after-commit", update.update_id, attempt)
        relay_outbox(store, pdf_queue, update_id=update.update_id, sqs=client)
        _inject(injector, "update:after-send", update.update_id, attempt)
        return outcome

    return process


# --- the PDF worker -------------------------------------------------------------------------------------
_TEMPLATE_STYLES = {
    # template: (bold font, regular font, accent RGB, centred header, side band)
    "classic": ("Times-Bold", "Times-Roman", (0.10, 0.20, 0.45), True, False),
    "modern": ("Helvetica-Bold", "Helvetica", (0.0, 0.50, 0.50), False, True),
    "minimal": ("Helvetica-Bold", "Helvetica", (0.35, 0.35, 0.35), False, False),
}
PAGE_MARGIN_POINTS = 56  # ~2 cm
SIDE_BAND_POINTS = 14


def render_resume_pdf(
    data: Mapping[str, Any], *, template: str = DEFAULT_TEMPLATE, version: int = 1
) -> bytes:
    """Render a resume as a one-page A4 PDF (with reportlab) and return its bytes.

    Text that does not fit is cut, never carried to a second page. The output is byte-for-byte the same
    for the same input (``invariant`` mode: no timestamps or random ids), so a re-rendered job stores the
    very same object again.
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import simpleSplit
    from reportlab.pdfgen import canvas

    if template not in _TEMPLATE_STYLES:
        raise InvalidResumeUpdate(f"template must be one of {', '.join(TEMPLATES)}, got {template!r}")
    bold, regular, accent, centred, band = _TEMPLATE_STYLES[template]
    buffer = io.BytesIO()
    width, height = A4
    left = PAGE_MARGIN_POINTS + (SIDE_BAND_POINTS if band else 0)
    text_width = width - left - PAGE_MARGIN_POINTS
    name = str(data.get("name", ""))
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    pdf.setTitle(f"Resume of {name}")
    pdf.setAuthor(name)
    pdf.setSubject(f"template {template}, version {version}")
    if band:
        pdf.setFillColorRGB(*accent)
        pdf.rect(0, 0, SIDE_BAND_POINTS, height, stroke=0, fill=1)
    y = height - PAGE_MARGIN_POINTS

    def line(text: str, font: str, size: float, *, color: tuple[float, float, float] = (0, 0, 0)) -> bool:
        nonlocal y
        if y < PAGE_MARGIN_POINTS + size:
            return False
        pdf.setFont(font, size)
        pdf.setFillColorRGB(*color)
        if centred and font == bold and size >= 20:
            pdf.drawCentredString(width / 2, y, text)
        else:
            pdf.drawString(left, y, text)
        y -= size * 1.35
        return True

    def paragraph(text: str, font: str = regular, size: float = 10.5) -> None:
        for chunk in simpleSplit(text, font, size, text_width):
            if not line(chunk, font, size):
                return

    def heading(text: str) -> None:
        nonlocal y
        y -= 6
        line(text.upper(), bold, 11, color=accent)
        pdf.setStrokeColorRGB(*accent)
        pdf.line(left, y + 9, left + text_width, y + 9)
        y -= 2

    line(name, bold, 24, color=accent)
    if data.get("headline"):
        paragraph(str(data["headline"]), regular, 13)
    contact = " · ".join(str(data[k]) for k in ("email", "location") if data.get(k))
    if contact:
        paragraph(contact, regular, 10)
    if data.get("summary"):
        heading("Summary")
        paragraph(str(data["summary"]))
    experience = data.get("experience") or []
    if isinstance(experience, list) and experience:
        heading("Experience")
        for item in experience:
            if isinstance(item, Mapping):
                role = " — ".join(str(item[k]) for k in ("role", "company") if item.get(k))
                years = f" ({item['years']})" if item.get("years") else ""
                paragraph(role + years)
            else:
                paragraph(str(item))
    skills = data.get("skills") or []
    if isinstance(skills, list) and skills:
        heading("Skills")
        paragraph(", ".join(str(s) for s in skills))
    pdf.setFont(regular, 8)
    pdf.setFillColorRGB(0.5, 0.5, 0.5)
    pdf.drawString(left, PAGE_MARGIN_POINTS / 2, f"{template} template · version {version}")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


_PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def pdf_page_count(pdf: bytes | str | os.PathLike[str]) -> int:
    """How many ``/Type /Page`` objects a PDF holds (a quick check without a PDF library)."""
    raw = pdf if isinstance(pdf, bytes) else Path(pdf).read_bytes()
    return len(_PAGE_OBJECT.findall(raw))


# --- S3: where the PDFs are stored (the seed's "Store in S3") --------------------------------------------
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
MAX_KEYS_PER_DELETE = 1_000  # DeleteObjects takes at most 1,000 keys
PDF_CONTENT_TYPE = "application/pdf"


def pdf_bucket_name(prefix: str = DEFAULT_PREFIX) -> str:
    """The PDF bucket of a pipeline: ``{prefix}-pdfs`` (bucket names are global on AWS: keep it unique)."""
    return f"{prefix}{PDF_BUCKET_SUFFIX}"


def ensure_pdf_bucket(bucket: str, *, s3: Any | None = None) -> str:
    """Create the S3 bucket the PDF workers store into (an existing bucket of yours is fine); returns it."""
    if not _BUCKET_NAME.fullmatch(bucket) or ".." in bucket:
        raise InvalidBucketName(
            f"{bucket!r} is not a valid S3 bucket name",
            hint="3–63 characters: lowercase letters, digits, '-' and '.', starting and ending with a "
            "letter or digit",
        )
    client = s3 if s3 is not None else s3_client()
    region = client.meta.region_name
    options: dict[str, Any] = {}
    if region and region != "us-east-1":  # us-east-1 is S3's default and refuses a LocationConstraint
        options["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        client.create_bucket(Bucket=bucket, **options)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code == "BucketAlreadyExists":
            raise InvalidBucketName(
                f"the bucket name {bucket!r} is taken by another AWS account",
                hint="bucket names are global across AWS: choose another prefix",
                code=code,
            ) from exc
        if code != "BucketAlreadyOwnedByYou":
            raise
    return bucket


def store_pdf(bucket: str, job: PdfJob, pdf: bytes, *, s3: Any | None = None) -> str:
    """``PutObject`` the PDF under the job's fixed key (:meth:`PdfJob.s3_key`); returns the key.

    A put is idempotent: storing the same job again replaces the object with the same bytes.
    """
    client = s3 if s3 is not None else s3_client()
    key = job.s3_key()
    client.put_object(
        Bucket=bucket,
        Key=key,
        Body=pdf,
        ContentType=PDF_CONTENT_TYPE,
        Metadata={"pdf-id": job.pdf_id, "version": str(job.version), "template": job.template},
    )
    return key


def list_pdfs(bucket: str, *, s3: Any | None = None) -> pd.DataFrame:
    """The bucket's objects (``ListObjectsV2``, every page): ``key``, ``pdf_id``, ``size``, ``etag``."""
    import pandas as pd

    client = s3 if s3 is not None else s3_client()
    rows = [
        {
            "key": o["Key"],
            "pdf_id": Path(o["Key"]).stem,
            "size": o["Size"],
            "etag": str(o.get("ETag", "")).strip('"'),
        }
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for o in page.get("Contents", [])
    ]
    return pd.DataFrame(rows, columns=["key", "pdf_id", "size", "etag"])


def read_pdf(bucket: str, key: str, *, s3: Any | None = None) -> bytes:
    """The bytes of one stored PDF (``GetObject``)."""
    client = s3 if s3 is not None else s3_client()
    return bytes(client.get_object(Bucket=bucket, Key=key)["Body"].read())


def pdf_versions(bucket: str, *, s3: Any | None = None) -> pd.DataFrame:
    """Every stored version of every object (``ListObjectVersions``): ``key``, ``version_id``, ``etag``,
    ``latest``. With versioning on (``PutBucketVersioning``) each put of a key keeps a version, so this
    shows how often a key was written — a redelivered PDF job adds a version of its key, not an object."""
    import pandas as pd

    client = s3 if s3 is not None else s3_client()
    rows = [
        {
            "key": v["Key"],
            "version_id": v.get("VersionId"),
            "etag": str(v.get("ETag", "")).strip('"'),
            "latest": bool(v.get("IsLatest")),
        }
        for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket)
        for v in page.get("Versions", [])
    ]
    return pd.DataFrame(rows, columns=["key", "version_id", "etag", "latest"])


def delete_pdf_bucket(bucket: str, *, s3: Any | None = None) -> None:
    """Delete every object of the bucket (every version, if versioning was on), then the bucket (a
    missing bucket is fine)."""
    client = s3 if s3 is not None else s3_client()
    try:
        entries = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket)
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for start in range(0, len(entries), MAX_KEYS_PER_DELETE):
            chunk = entries[start : start + MAX_KEYS_PER_DELETE]
            client.delete_objects(Bucket=bucket, Delete={"Objects": chunk, "Quiet": True})
        client.delete_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchBucket":
            raise


# --- the PDF worker: render → S3 → notification ---------------------------------------------------------
@dataclass(frozen=True)
class PdfReady:
    """A message of the notification queue: this user's PDF is in the bucket, tell them by email.
    ``notification_id`` is the PDF's id (the queue's deduplication id)."""

    notification_id: str
    user_id: str
    resume_id: str
    version: int
    name: str
    email: str
    bucket: str
    key: str

    @classmethod
    def for_job(cls, job: PdfJob, bucket: str, key: str) -> PdfReady:
        return cls(
            job.pdf_id,
            job.user_id,
            job.resume_id,
            job.version,
            str(job.data.get("name", "")),
            str(job.data.get("email") or ""),
            bucket,
            key,
        )

    def to_message(self) -> dict[str, Any]:
        return {
            "notificationId": self.notification_id,
            "type": "PDF_READY",
            "userId": self.user_id,
            "resumeId": self.resume_id,
            "version": self.version,
            "name": self.name,
            "email": self.email,
            "bucket": self.bucket,
            "key": self.key,
        }

    @classmethod
    def parse(cls, text: str) -> PdfReady:
        try:
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidResumeUpdate(f"notification is not JSON ({exc.msg} at column {exc.colno})") from exc
        if not isinstance(body, Mapping) or body.get("type") != "PDF_READY":
            raise InvalidResumeUpdate("a notification is a JSON object of type PDF_READY")
        email = body.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise InvalidResumeUpdate(
                f"notification {body.get('notificationId')!r} has no email address to send to, got {email!r}",
                hint="the resume's data needs an email field",
            )
        version, name, bucket, key = (body.get(k) for k in ("version", "name", "bucket", "key"))
        if not isinstance(version, int) or not isinstance(bucket, str) or not isinstance(key, str):
            raise InvalidResumeUpdate("a notification needs version, bucket and key")
        return cls(
            notification_id=_check_id(body.get("notificationId"), "notificationId"),
            user_id=_check_id(body.get("userId"), "userId"),
            resume_id=_check_id(body.get("resumeId"), "resumeId"),
            version=version,
            name=str(name or ""),
            email=email,
            bucket=bucket,
            key=key,
        )


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
    client = sqs if sqs is not None else sqs_client()
    storage = s3 if s3 is not None else s3_client()

    def generate(message: Message) -> str:
        job = PdfJob.parse(message.body)
        attempt = message.receive_count
        _inject(injector, "pdf:before-render", job.pdf_id, attempt)
        pdf = render_resume_pdf(job.data, template=job.template, version=job.version)
        key = store_pdf(bucket, job, pdf, s3=storage)
        _inject(injector, "pdf:after-store", job.pdf_id, attempt)
        notify(notifications_queue, PdfReady.for_job(job, bucket, key), sqs=client)
        _inject(injector, "pdf:after-notify", job.pdf_id, attempt)
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
        _inject(injector, "email:before-send", note.notification_id, message.receive_count)
        link = storage.generate_presigned_url(
            "get_object", Params={"Bucket": note.bucket, "Key": note.key}, ExpiresIn=PDF_LINK_EXPIRES_SECONDS
        )
        subject, text = compose_email(note, link)
        ses_message_id = send_email(sender, note.email, subject, text, ses=mailer)
        store.record_email(note.notification_id, ses_message_id, note.email)
        _inject(injector, "email:after-send", note.notification_id, message.receive_count)
        return "sent"

    return send_one


def email_key(message: Message) -> str:
    """The email sender's idempotency key: ``email:{notificationId}`` (the PDF stage claims the bare id)."""
    return f"email:{body_field_key('notificationId')(message)}"


# --- running the whole flow -----------------------------------------------------------------------------
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


def _failure_recorder(store: ResumeStore, stage: str) -> Callable[[Message, BaseException], None]:
    def record(message: Message, exc: BaseException) -> None:
        store.record_failure(stage, message, exc)

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


@dataclass(frozen=True)
class _Clients:
    sqs: SQSClient
    s3: Any
    ses: Any


def _update_consumers(
    queues: ResumeQueues, stores: Sequence[ResumeStore], injector: FailureInjector | None, c: _Clients,
    wait_time_seconds: int,
) -> list[Consumer]:  # fmt: skip
    """One update processor per store (each its own database connection, as separate processes would);
    they share one FIFO guard, so a failure one of them saw protects the group's followers from all."""
    guard = FifoGuard()
    return [
        Consumer(
            queues.updates,
            make_update_processor(store, queues.pdf, injector=injector, sqs=c.sqs),
            sqs=c.sqs,
            wait_time_seconds=wait_time_seconds,
            max_messages=UPDATES_PER_RECEIVE,
            fifo_guard=guard,
            on_error=_failure_recorder(store, "update"),
        )
        for store in stores
    ]


def _pdf_consumers(
    queues: ResumeQueues, bucket: str, store: ResumeStore, keys: IdempotencyStore, workers: int,
    injector: FailureInjector | None, c: _Clients, wait_time_seconds: int,
) -> list[Consumer]:  # fmt: skip
    """PDF workers: render → S3 → notification, each job claimed in ``keys`` by its ``pdfId``."""
    return [
        Consumer(
            queues.pdf,
            make_pdf_worker(bucket, queues.notifications, injector=injector, sqs=c.sqs, s3=c.s3),
            sqs=c.sqs,
            wait_time_seconds=wait_time_seconds,
            max_messages=PDF_JOBS_PER_RECEIVE,
            idempotency=keys,
            key=body_field_key("pdfId"),
            on_error=_failure_recorder(store, "pdf"),
        )
        for _ in range(workers)
    ]


def _email_consumers(
    queues: ResumeQueues, sender: str, store: ResumeStore, keys: IdempotencyStore, workers: int,
    injector: FailureInjector | None, c: _Clients, wait_time_seconds: int,
) -> list[Consumer]:  # fmt: skip
    """Email senders: notification → SES, each claimed in ``keys`` and entered in ``store``'s ledger."""
    return [
        Consumer(
            queues.notifications,
            make_email_sender(store, sender, injector=injector, s3=c.s3, ses=c.ses),
            sqs=c.sqs,
            wait_time_seconds=wait_time_seconds,
            max_messages=NOTIFICATIONS_PER_RECEIVE,
            idempotency=keys,
            key=email_key,
            on_error=_failure_recorder(store, "email"),
        )
        for _ in range(workers)
    ]


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
    if min(consumers, pdf_workers, email_senders) < 1:
        raise InvalidConsumerOption(
            f"need >= 1 update processor, PDF worker and email sender, got {consumers}, {pdf_workers} "
            f"and {email_senders}"
        )
    c = _Clients(
        sqs if sqs is not None else sqs_client(),
        s3 if s3 is not None else s3_client(),
        ses if ses is not None else ses_client(),
    )
    db = Path(db_path)
    keys_path = Path(idempotency_path) if idempotency_path else db.with_name(db.stem + PDF_KEYS_FILE_SUFFIX)
    stores = [ResumeStore(db) for _ in range(consumers + 2)]  # a processor each, the PDF and the email side
    pdf_store, email_store = stores[-2:]
    keys = IdempotencyStore(keys_path)
    stages = [
        (_update_consumers(queues, stores[:-2], injector, c, wait_time_seconds), queues.updates),
        (_pdf_consumers(queues, bucket, pdf_store, keys, pdf_workers, injector, c, wait_time_seconds),
         queues.pdf),
        (_email_consumers(queues, sender, email_store, keys, email_senders, injector, c, wait_time_seconds),
         queues.notifications),
    ]  # fmt: skip

    def on_poll(_: dict[str, Depth]) -> None:
        if progress is not None:
            progress(flow_counts(queues, db_path=db, bucket=bucket, sqs=c.sqs, s3=c.s3))

    errors: list[BaseException] = []
    drained: list[bool] = []
    swept = 0
    try:
        threads = [[_run_in_thread(w, errors) for w in workers] for workers, _ in stages]
        for n, ((workers, queue), running) in enumerate(zip(stages, threads, strict=True)):
            if n == 1:  # normally 0: each processor relays its own PDF jobs
                swept = relay_outbox(pdf_store, queues.pdf, sqs=c.sqs)
            drained.append(_drain_then_stop(workers, running, queue, c.sqs, timeout_seconds, on_poll))
    finally:
        for workers, _ in stages:
            for w in workers:
                w.stop()
        keys.close()
        for s in stores:
            s.close()
    if errors:
        raise errors[0]
    return ResumeRun(
        updates=tuple(w.stats.snapshot() for w in stages[0][0]),
        pdf=tuple(w.stats.snapshot() for w in stages[1][0]),
        emails=tuple(w.stats.snapshot() for w in stages[2][0]),
        drained=all(drained),
        injected=dict(injector.fired) if injector is not None else {},
        outbox_swept=swept,
    )


def _drain_then_stop(
    workers: list[Consumer],
    threads: list[threading.Thread],
    queue: Queue,
    sqs: SQSClient,
    timeout_seconds: float | None,
    on_poll: Callable[[dict[str, Depth]], None],
) -> bool:
    drained = wait_until_drained(
        [queue],
        sqs=sqs,
        timeout_seconds=timeout_seconds,
        on_poll=on_poll,
        alive=lambda: any(t.is_alive() for t in threads),
    )
    for c in workers:
        c.stop("drained" if drained else "timeout")
    for t in threads:
        t.join()
    return drained


# --- looking at the flow ------------------------------------------------------------------------------
def flow_counts(
    queues: ResumeQueues,
    *,
    db_path: str | os.PathLike[str] | None = None,
    bucket: str | None = None,
    sqs: SQSClient | None = None,
    s3: Any | None = None,
) -> pd.DataFrame:
    """One row per box of the seed's diagram: each queue and DLQ (``waiting``, ``in_flight``) and, when
    given, the database (resumes stored, and the emails its ledger says SES accepted) and the S3 bucket
    (PDF objects stored). ``total`` sums a row."""
    import pandas as pd

    client = sqs if sqs is not None else sqs_client()
    rows = _queue_rows(queues, client)
    if db_path is not None:
        counts = {"resumes": 0, "emails": 0}
        if Path(db_path).exists():
            with ResumeStore(db_path) as store:
                counts = store.counts()
        rows.append({"stage": "database", "kind": "store", "waiting": counts["resumes"], "in_flight": 0})
        rows.append({"stage": "SES emails", "kind": "store", "waiting": counts["emails"], "in_flight": 0})
    if bucket is not None:
        n = _object_count(bucket, s3 if s3 is not None else s3_client())
        rows.append({"stage": "S3 bucket", "kind": "store", "waiting": n, "in_flight": 0})
    frame = pd.DataFrame(rows, columns=["stage", "kind", "waiting", "in_flight"])
    frame["total"] = frame["waiting"] + frame["in_flight"]
    return frame


def _queue_rows(queues: ResumeQueues, sqs: SQSClient) -> list[dict[str, Any]]:
    labels = {
        queues.updates.url: ("resume updates", "fifo"),
        queues.pdf.url: ("PDF generation", "standard"),
        queues.notifications.url: ("notifications", "fifo"),
    }
    rows = []
    for q in (queues.updates, queues.pdf, queues.notifications):
        label, kind = labels[q.url]
        for name, handle, k in ((label, q, kind), (f"{label} DLQ", q.dlq, "dlq")):
            if handle is None:
                continue
            d = queue_depth(handle, sqs=sqs)
            rows.append(
                {"stage": name, "kind": k, "waiting": d.visible + d.delayed, "in_flight": d.in_flight}
            )
    return rows


def _object_count(bucket: str, s3: Any) -> int:
    """Objects in the bucket (0 while it does not exist yet)."""
    try:
        return sum(
            page.get("KeyCount", 0) for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchBucket":
            return 0
        raise


# where each box of the seed's diagram goes (centre x, y in axes fractions) and its size
_LAYOUT = {
    "editor": (0.11, 0.89),
    "resume updates": (0.37, 0.89),
    "processor": (0.63, 0.89),
    "database": (0.89, 0.89),
    "resume updates DLQ": (0.11, 0.66),
    "PDF generation": (0.37, 0.40),
    "worker": (0.63, 0.40),
    "S3 bucket": (0.89, 0.40),
    "PDF generation DLQ": (0.11, 0.40),
    "notifications": (0.37, 0.10),
    "sender": (0.63, 0.10),
    "SES emails": (0.89, 0.10),
    "notifications DLQ": (0.11, 0.10),
}
_BOX_WIDTH, _BOX_HEIGHT = 0.2, 0.14
_ARROWS = (
    ("editor", "resume updates"),
    ("resume updates", "processor"),
    ("processor", "database"),
    ("resume updates", "resume updates DLQ"),
    ("processor", "PDF generation"),
    ("PDF generation", "worker"),
    ("worker", "S3 bucket"),
    ("PDF generation", "PDF generation DLQ"),
    ("worker", "notifications"),
    ("notifications", "sender"),
    ("sender", "SES emails"),
    ("notifications", "notifications DLQ"),
)
_STORE_LABELS = {
    "database": ("SQLite", "resumes"),
    "S3 bucket": ("S3 bucket", "PDFs"),
    "SES emails": ("SES", "emails sent"),
}


def _edge_points(start: str, end: str) -> tuple[tuple[float, float], tuple[float, float]]:
    """Where the line between two box centres leaves the first box and enters the second."""
    (x1, y1), (x2, y2) = _LAYOUT[start], _LAYOUT[end]
    dx, dy = x2 - x1, y2 - y1
    # fraction of the centre-to-centre segment that lies inside one box
    t = min(
        (_BOX_WIDTH / 2) / abs(dx) if dx else float("inf"),
        (_BOX_HEIGHT / 2) / abs(dy) if dy else float("inf"),
    )
    return (x1 + dx * t, y1 + dy * t), (x2 - dx * t, y2 - dy * t)


def plot_flow(counts: pd.DataFrame, ax: Axes | None = None, title: str | None = None) -> Axes:
    """The seed's diagram with live numbers: each queue shows its waiting / in-flight messages, DLQs turn
    red when they hold something, the database, the S3 bucket and SES show what they hold or sent.

    ``counts`` is a :func:`flow_counts` frame.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 6))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    by_stage = {row["stage"]: row for row in counts.to_dict(orient="records")}
    texts = {
        "editor": ("Resume editor", "#eeeeee"),
        "processor": ("Update processors", "#eeeeee"),
        "worker": ("PDF workers", "#eeeeee"),
        "sender": ("Email sender", "#eeeeee"),
    }
    for stage, row in by_stage.items():
        if row["kind"] == "store":
            label, noun = _STORE_LABELS[stage]
            texts[stage] = (f"{label}\n{row['waiting']} {noun}", "#d9f2d9")
        elif row["kind"] == "dlq":
            texts[stage] = (f"DLQ\n{row['total']} failed", "#f8c9c4" if row["total"] else "#fbeeed")
        else:
            kind = "FIFO" if row["kind"] == "fifo" else "standard"
            texts[stage] = (
                f"{stage}\n({kind})\n{row['waiting']} waiting · {row['in_flight']} in flight",
                "#d6e6f5",
            )
    for stage, (text, color) in texts.items():
        if stage not in _LAYOUT:
            continue
        x, y = _LAYOUT[stage]
        ax.add_patch(
            FancyBboxPatch(
                (x - _BOX_WIDTH / 2, y - _BOX_HEIGHT / 2),
                _BOX_WIDTH,
                _BOX_HEIGHT,
                boxstyle="round,pad=0.005",
                facecolor=color,
                edgecolor="#555555",
                transform=ax.transAxes,
                zorder=1,
            )
        )
        ax.text(x, y, text, ha="center", va="center", fontsize=8.5, transform=ax.transAxes, zorder=3)
    for start, end in _ARROWS:
        if start in texts and end in texts:
            tail, head = _edge_points(start, end)
            ax.annotate(
                "",
                xy=head,
                xytext=tail,
                xycoords="axes fraction",
                arrowprops={"arrowstyle": "-|>", "color": "#555555", "shrinkA": 2, "shrinkB": 2},
                zorder=2,
            )
    ax.set_title(title or "Resume builder: where the messages are")
    return ax


class LiveFlow:
    """The flow picture, redrawn while the pipeline runs: ``run_resume_pipeline(..., progress=live)``.

    In a notebook it updates one figure in place — every ``every_seconds``, and whenever a reading repeats
    (so the final, drained state is always shown); ``history`` keeps
    every reading as a tidy frame (``t_seconds``, ``queue``, ``visible``, ``in_flight``) that
    :func:`labsqs.metrics.plot_depth` draws as counts per queue over time.
    """

    def __init__(self, every_seconds: float = 1.0, title: str = "Resume builder, live") -> None:
        self.every_seconds = every_seconds
        self.title = title
        self._frames: list[pd.DataFrame] = []
        self._started: float | None = None
        self._last_draw = float("-inf")
        self._previous_key: tuple[int, ...] | None = None
        self._drawn_key: tuple[int, ...] | None = None
        self._figure: Any = None
        self._handle: Any = None

    def __call__(self, counts: pd.DataFrame) -> None:
        now = time.monotonic()
        if self._started is None:
            self._started = now
        self._frames.append(counts.assign(t_seconds=round(now - self._started, 2)))
        key = tuple(counts["waiting"]) + tuple(counts["in_flight"])
        settled = key == self._previous_key and key != self._drawn_key  # the same reading twice: show it
        self._previous_key = key
        if settled or now - self._last_draw >= self.every_seconds:
            self.draw(counts)
            self._last_draw, self._drawn_key = now, key

    def draw(self, counts: pd.DataFrame | None = None) -> None:
        """Draw ``counts`` (default: the last reading) into the live figure."""
        import matplotlib.pyplot as plt
        from IPython.display import display

        if counts is None:
            if not self._frames:
                return
            counts = self._frames[-1]
        if self._figure is None:
            self._figure, _ = plt.subplots(figsize=(10, 6))
            plt.close(self._figure)  # shown through the display handle only, not again at the cell's end
        ax = self._figure.axes[0]
        ax.clear()
        plot_flow(counts, ax=ax, title=self.title)
        if self._handle is None:
            self._handle = display(self._figure, display_id=True)
        else:
            self._handle.update(self._figure)

    @property
    def history(self) -> pd.DataFrame:
        """Every reading of the queues (stores left out), for :func:`labsqs.metrics.plot_depth`."""
        import pandas as pd

        if not self._frames:
            return pd.DataFrame(columns=["t_seconds", "queue", "visible", "in_flight"])
        frame = pd.concat(self._frames, ignore_index=True)
        frame = frame[frame["kind"] != "store"].rename(columns={"stage": "queue", "waiting": "visible"})
        return frame[["t_seconds", "queue", "visible", "in_flight"]].reset_index(drop=True)


# --- sample data ----------------------------------------------------------------------------------------
_FIRST = ("Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Alan", "Radia")
_LAST = (
    "Lovelace",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Thompson",
    "Liskov",
    "Ritchie",
    "Allen",
    "Kay",
    "Perlman",
)
_HEADLINES = (
    "Backend Engineer",
    "Senior Backend Engineer",
    "Staff Engineer, Messaging",
    "Platform Engineer",
    "Senior Platform Engineer",
    "Engineering Lead, Queues",
)
_SKILLS = ("Python", "SQS", "Lambda", "PostgreSQL", "Terraform", "Go", "Kafka", "Docker", "React", "SQLite")
_COMPANIES = ("Northwind", "Contoso", "Fabrikam", "Globex", "Initech", "Umbrella")


def _resume(rng: random.Random, user_index: int) -> dict[str, Any]:
    name = f"{_FIRST[user_index % len(_FIRST)]} {_LAST[(user_index * 3) % len(_LAST)]}"
    handle = name.lower().replace(" ", ".")
    jobs = rng.sample(_COMPANIES, 2)
    return {
        "name": name,
        "headline": _HEADLINES[0],
        "email": f"{handle}@example.com",
        "location": rng.choice(["Berlin", "Lisbon", "Toronto", "Austin", "Remote"]),
        "summary": "Builds reliable, message-driven backends; likes small services that fail loudly "
        "and recover on their own.",
        "experience": [
            {"role": "Software Engineer", "company": jobs[0], "years": "2019–2022"},
            {"role": "Backend Engineer", "company": jobs[1], "years": "2022–today"},
        ],
        "skills": sorted(rng.sample(_SKILLS, 4)),
    }


def sample_updates(users: int = 4, updates_per_user: int = 5, *, seed: int = 0) -> list[ResumeUpdate]:
    """A deterministic editing session: each user CREATEs a resume, then UPDATEs it (headline, skills,
    template — later values overwrite earlier ones, so order shows); every third user DELETEs it and
    CREATEs it again. Users' updates are interleaved, as if they typed at the same time."""
    if users < 1 or updates_per_user < 1:
        raise InvalidResumeUpdate(
            f"need users >= 1 and updates_per_user >= 1, got {users}, {updates_per_user}"
        )
    rng = random.Random(seed)
    per_user: list[list[ResumeUpdate]] = []
    for u in range(users):
        user_id = f"u{u + 1:03d}"
        resume = _resume(rng, u)
        steps: list[ResumeUpdate] = []
        exists = False
        for n in range(updates_per_user):
            update_id = f"{user_id}-{n + 1:03d}"
            recreate = u % 3 == 2 and n == updates_per_user - 2 and n > 0
            if not exists:
                template = rng.choice(TEMPLATES)
                steps.append(ResumeUpdate(update_id, user_id, "resume-1", "CREATE", resume, template))
                exists = True
            elif recreate:
                steps.append(ResumeUpdate(update_id, user_id, "resume-1", "DELETE"))
                exists = False
            else:
                change = rng.choice(("headline", "skills", "template", "summary"))
                if change == "headline":
                    data: dict[str, Any] = {
                        "headline": f"{_HEADLINES[(n + u) % len(_HEADLINES)]} (rev {n + 1})"
                    }
                    steps.append(ResumeUpdate(update_id, user_id, "resume-1", "UPDATE", data))
                elif change == "skills":
                    skills = sorted(rng.sample(_SKILLS, 3 + n % 3))
                    steps.append(ResumeUpdate(update_id, user_id, "resume-1", "UPDATE", {"skills": skills}))
                elif change == "template":
                    template = TEMPLATES[(n + u) % len(TEMPLATES)]
                    data = {"headline": f"{_HEADLINES[n % len(_HEADLINES)]} (rev {n + 1})"}
                    steps.append(ResumeUpdate(update_id, user_id, "resume-1", "UPDATE", data, template))
                else:
                    data = {"summary": f"Revision {n + 1}: " + resume["summary"]}
                    steps.append(ResumeUpdate(update_id, user_id, "resume-1", "UPDATE", data))
        per_user.append(steps)
    interleaved: list[ResumeUpdate] = []
    for n in range(updates_per_user):
        interleaved.extend(steps[n] for steps in per_user)
    return interleaved
