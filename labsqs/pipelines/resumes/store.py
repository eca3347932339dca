"""The resume builder's SQLite database: the resumes, the applied update ids, the outbox of PDF jobs, the
ledger of emails SES accepted, and (from :class:`~labsqs.base.sqlite.FailureLog`) the ``failures`` table.

An update is applied in *one* transaction together with its id and its PDF job (a transactional outbox):
a redelivered update finds its id and changes nothing, and a PDF job is never lost between the change
and its send.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from labsqs.base.sqlite import FailureLog
from labsqs.pipelines.resumes.model import (
    InjectedFailure,
    PdfJob,
    ResumeState,
    ResumeUpdate,
    next_state,
    pdf_id_for,
)

if TYPE_CHECKING:
    import os

    import pandas as pd

    from labsqs.consumer import Message

BUSY_TIMEOUT_SECONDS = 10.0

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
"""


class ResumeStore(FailureLog):
    """The resume builder's SQLite database. Open one per consumer (as separate processes would); they
    share the file (WAL mode; each change is one ``BEGIN IMMEDIATE`` transaction).

    Tables: ``resumes`` (the current state), ``applied_updates`` (every applied update id, in the order
    applied — the idempotency record and the proof of order), ``outbox`` (PDF jobs written with the
    change, sent after the commit), ``emails`` (the ledger of emails SES accepted: one per notification,
    with SES's ``MessageId``), ``failures`` (why messages failed, per attempt).
    """

    failure_frame_columns = ("stage", "message_id", "receive_count", "reason", "body", "failed_at")

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
                _write_change(db, update)
                db.execute(
                    "INSERT INTO applied_updates "
                    "(update_id, user_id, resume_id, action, message_id, applied_at) VALUES (?,?,?,?,?,?)",
                    (update.update_id, update.user_id, update.resume_id, update.action, message_id,
                     time.time()),
                )  # fmt: skip
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

    def record_message_failure(self, stage: str, message: Message, exc: BaseException) -> None:
        """Keep why a message failed (one row per attempt); ``stage``: ``update``, ``pdf`` or ``email``."""
        reason = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        if isinstance(exc, InjectedFailure):
            reason = f"injected: {exc}"
        self.record_failure(
            stage=stage,
            message_id=message.message_id,
            receipt_handle=message.receipt_handle,
            receive_count=message.receive_count,
            error=type(exc).__name__,
            reason=reason,
            body=message.body,
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

    def counts(self) -> dict[str, int]:
        """Resumes stored, updates applied, PDF jobs in the outbox (unsent), emails sent, failed attempts."""
        with self._lock:
            (resumes,) = self._db.execute("SELECT COUNT(*) FROM resumes").fetchone()
            (applied,) = self._db.execute("SELECT COUNT(*) FROM applied_updates").fetchone()
            (unsent,) = self._db.execute("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").fetchone()
            (emails,) = self._db.execute("SELECT COUNT(*) FROM emails").fetchone()
        failed, _ = self.failure_counts()
        return {
            "resumes": resumes,
            "applied": applied,
            "outbox_unsent": unsent,
            "emails": emails,
            "failed_attempts": failed,
        }


def _write_change(db: sqlite3.Connection, update: ResumeUpdate) -> None:
    """Inside :meth:`ResumeStore.apply`'s transaction: the resume after ``update`` (deleted, or stored
    with its PDF job in the outbox). Raises :class:`~labsqs.errors.ResumeStateError` when it does not fit."""
    where = (update.user_id, update.resume_id)
    row = db.execute(
        "SELECT template, data, version FROM resumes WHERE user_id = ? AND resume_id = ?", where
    ).fetchone()
    current = ResumeState(row[0], json.loads(row[1]), row[2]) if row else None
    after = next_state(current, update)
    if after is None:
        db.execute("DELETE FROM resumes WHERE user_id = ? AND resume_id = ?", where)
        return
    db.execute(
        "INSERT INTO resumes VALUES (?,?,?,?,?,?) "
        "ON CONFLICT (user_id, resume_id) DO UPDATE SET "
        "template = excluded.template, data = excluded.data, version = excluded.version, "
        "updated_by = excluded.updated_by",
        (*where, after.template, json.dumps(after.data, sort_keys=True), after.version, update.update_id),
    )
    job = PdfJob(pdf_id_for(update.update_id), update.update_id, update.user_id, update.resume_id,
                 after.version, after.template, after.data)  # fmt: skip
    db.execute(
        "INSERT INTO outbox (pdf_id, update_id, body) VALUES (?,?,?)",
        (job.pdf_id, update.update_id, json.dumps(job.to_message(), sort_keys=True)),
    )
