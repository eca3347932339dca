"""The lab's durable records in SQLite: one way to open a shared file, one ``failures`` table.

The idempotency store, the worker's processing log and the pipelines' databases all open their file as
:class:`SqliteFile` does (autocommit, WAL, a busy timeout, one lock for the threads of a process), and the
ones that record failed attempts share :class:`FailureLog`'s ``failures`` table: one row per failed
attempt, with the stage, the message, its receive count, the exception's class, the reason (what to do)
and the first :data:`MAX_FAILURE_BODY_CHARS` characters of the body.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    import pandas as pd

BUSY_TIMEOUT_MILLISECONDS = 5_000  # wait this long for another process's write lock
MAX_FAILURE_BODY_CHARS = 2_000  # how much of a failed message's body the failures table keeps

FAILURES_SCHEMA = """
CREATE TABLE IF NOT EXISTS failures (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    stage          TEXT NOT NULL,
    message_id     TEXT NOT NULL,
    receipt_handle TEXT,
    receive_count  INTEGER NOT NULL,
    error          TEXT NOT NULL,
    reason         TEXT NOT NULL,
    body           TEXT NOT NULL,
    pid            INTEGER NOT NULL,
    failed_at      REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS failures_by_message ON failures (message_id);
"""
FAILURE_COLUMNS = (
    "stage", "message_id", "receipt_handle", "receive_count", "error", "reason", "body", "pid", "failed_at"
)  # fmt: skip


class SqliteFile:
    """A SQLite file shared by threads (and processes): autocommit, WAL, a busy timeout, one lock.

    Subclasses add their tables (``schema``) and their reads and writes, each under ``self._lock``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        schema: str,
        busy_timeout_seconds: float = BUSY_TIMEOUT_MILLISECONDS / 1000,
        synchronous_normal: bool = True,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # isolation_level=None: autocommit; a statement is atomic on its own, BEGIN ... COMMIT groups several.
        self._db = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_seconds
        )
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            if synchronous_normal:
                self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(schema)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"


class FailureLog(SqliteFile):
    """A :class:`SqliteFile` with the shared ``failures`` table (added to the subclass's own ``schema``)."""

    def __init__(self, path: str | os.PathLike[str], *, schema: str = "", **options: Any) -> None:
        super().__init__(path, schema=schema + FAILURES_SCHEMA, **options)

    def record_failure(
        self,
        *,
        message_id: str,
        receive_count: int,
        reason: str,
        body: str,
        stage: str = "",
        error: str = "",
        receipt_handle: str | None = None,
    ) -> None:
        """One failed attempt (its own statement: atomic; call it inside a transaction to join one)."""
        row = (stage, message_id, receipt_handle, receive_count, error, reason, body[:MAX_FAILURE_BODY_CHARS],
               os.getpid(), time.time())  # fmt: skip
        with self._lock:
            self._db.execute(
                f"INSERT INTO failures ({', '.join(FAILURE_COLUMNS)}) VALUES ({', '.join('?' * len(row))})",
                row,
            )

    def failure_rows(self) -> list[dict[str, Any]]:
        """Every failed attempt, oldest first, as dicts (the columns of :data:`FAILURE_COLUMNS`)."""
        with self._lock:
            cursor = self._db.execute(f"SELECT {', '.join(FAILURE_COLUMNS)} FROM failures ORDER BY id")
            return [dict(zip(FAILURE_COLUMNS, row, strict=True)) for row in cursor.fetchall()]

    failure_frame_columns: tuple[str, ...] = FAILURE_COLUMNS  # what ``failures()`` shows; subclasses pick

    def failures(self) -> pd.DataFrame:
        """Every failed attempt as a DataFrame, oldest first (``failed_at`` in epoch seconds), with the
        columns ``failure_frame_columns`` names."""
        import pandas as pd

        return pd.DataFrame(self.failure_rows(), columns=list(FAILURE_COLUMNS))[
            list(self.failure_frame_columns)
        ]

    def failure_counts(self) -> tuple[int, int]:
        """``(failed attempts, distinct messages that failed)``."""
        with self._lock:
            attempts, messages = self._db.execute(
                "SELECT COUNT(*), COUNT(DISTINCT message_id) FROM failures"
            ).fetchone()
        return int(attempts), int(messages)
