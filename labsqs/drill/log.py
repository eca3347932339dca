"""The worker's processing log: the work's effect and the idempotency mark, committed in one transaction.

The log lives in the same SQLite file as the :class:`~labsqs.idempotency.IdempotencyStore`, so one
``BEGIN IMMEDIATE … COMMIT`` writes the effect's row and marks the message done — both or neither, whatever
instruction a ``SIGKILL`` lands on. Its tables:

``processed``   one row per committed message (uid, group, seq, pid, receive count) — the effect
``deliveries``  every message every receive returned (with its group and which receive of this process
                returned it), written before the consumer sees it (a wire tap)
``skips``       every redelivery the idempotency store recognised as already done
``duplicates``  handler runs that found their message already committed by someone else: the handler
                ran twice (a slow handler without a heartbeat) — caught at commit, reported, not applied
``failures``    each failed attempt with its reason (a non-JSON body ...), so a DLQ'd message has one —
                the lab's one failures table (:class:`~labsqs.base.sqlite.FailureLog`)
``fifo_heads``  the FIFO groups whose head failed and is not settled yet (:class:`SharedFifoGuard`)
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

from labsqs.base.sqlite import FailureLog
from labsqs.consumer import FifoGuard, Message
from labsqs.errors import LabSqsError
from labsqs.idempotency import IdempotencyStore

FAILURE_STAGE = "worker"  # the ``stage`` of the worker's rows in the shared failures table
TABLES = ("processed", "deliveries", "skips", "duplicates", "failures")  # what rows() and count() read

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
CREATE TABLE IF NOT EXISTS fifo_heads (
    grp TEXT PRIMARY KEY, message_id TEXT NOT NULL, visible_at REAL NOT NULL);
"""


class ProcessingLog(FailureLog):
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

    def record_skip(self, message_id: str, receipt_handle: str | None) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO skips (message_id, receipt_handle, pid, at) VALUES (?, ?, ?, ?)",
                (message_id, receipt_handle, self.pid, time.time()),
            )

    def record_error(self, message: Message, exc: BaseException) -> None:
        """The consumer's ``on_error`` hook: one row in the shared ``failures`` table, saying why."""
        reason = str(exc) if isinstance(exc, LabSqsError) else f"{type(exc).__name__}: {exc}"
        self.record_failure(
            stage=FAILURE_STAGE, message_id=message.message_id, receipt_handle=message.receipt_handle,
            receive_count=message.receive_count, error=type(exc).__name__, reason=reason, body=message.body,
        )  # fmt: skip

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

    # -- reads ------------------------------------------------------------------------------------
    def rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of one of the log's tables, oldest first, as dicts (``failures``: the columns of
        :data:`labsqs.base.sqlite.FAILURE_COLUMNS`)."""
        _check_table(table)
        with self._lock:
            cur = self._db.execute(f"SELECT * FROM {table} ORDER BY id")  # noqa: S608 - checked name
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def count(self, table: str, pid: int | None = None) -> int:
        """How many rows ``table`` has (of one process with ``pid``)."""
        _check_table(table)
        sql = f"SELECT COUNT(*) FROM {table}" + (" WHERE pid = ?" if pid is not None else "")  # noqa: S608
        with self._lock:
            (n,) = self._db.execute(sql, (pid,) if pid is not None else ()).fetchone()
        return int(n)


def _check_table(table: str) -> None:
    if table not in TABLES:
        raise ValueError(f"no table {table!r} in the processing log; it has {', '.join(TABLES)}")


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
