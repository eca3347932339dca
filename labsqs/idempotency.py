"""Idempotency: SQS delivers *at least once*, so a consumer must tolerate seeing a message twice.

A standard queue may hand the same message to two receivers (rarely, by design), and *any* queue
redelivers a message whose consumer processed it but did not delete it in time: the handler ran, then the
process crashed, the delete failed, or the visibility timeout expired first. SQS cannot tell "processed"
from "not processed" — only your code can. The classic answer is an **idempotency key**: before doing the
work, record the message's key somewhere durable; when a message with a key you already finished comes
back, skip the work and just delete it.

:class:`IdempotencyStore` keeps those keys in a real SQLite file (WAL mode, safe for the consumer's worker
threads and for several processes sharing the file). Each key is in one of two states:

``claimed``
    a worker is processing it right now (:meth:`~IdempotencyStore.claim` is one atomic insert, so two
    workers racing on a duplicate cannot both win). A claim is a *lease*: once it expires its worker is
    presumed dead and the key can be claimed again. The consumer leases for the visibility timeout and
    its heartbeat renews the lease with the message's visibility (:meth:`~IdempotencyStore.renew`), so a
    claim lives exactly as long as SQS keeps the message hidden: when SQS redelivers a message because
    its worker died, the claim has run out too and the redelivery is processed, not parked.
``done``
    the work finished (:meth:`~IdempotencyStore.mark`); every later copy is a duplicate.

If the handler fails, :meth:`~IdempotencyStore.release` forgets the claim so the retry can run.

Which key? The default is the SQS ``MessageId``, which stays the same across redeliveries of one message.
When the *producer* may send the same logical item twice (a retried send makes a new ``MessageId``), key on
something in the body instead: ``key=body_field_key("order_id")``. On FIFO queues
``dedup_id_key`` uses the ``MessageDeduplicationId`` the producer chose.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from labsqs.base.sqlite import SqliteFile
from labsqs.errors import InvalidMessage

if TYPE_CHECKING:
    from labsqs.consumer.message import Message  # the message module only: the consumer imports this one

DEFAULT_LEASE_SECONDS = 15 * 60  # a claim not renewed this long is abandoned (the consumer passes its own)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key        TEXT PRIMARY KEY,
    state      TEXT NOT NULL CHECK (state IN ('claimed', 'done')),
    expires_at REAL,              -- end of a claim's lease (epoch seconds); NULL once done
    updated_at REAL NOT NULL
)
"""

# One statement each, so each is atomic on its own (also across processes sharing the file).
_CLAIM = """
INSERT INTO idempotency_keys (key, state, expires_at, updated_at) VALUES (?, 'claimed', ?, ?)
ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at, updated_at = excluded.updated_at
WHERE idempotency_keys.state = 'claimed' AND idempotency_keys.expires_at <= ?
"""
_RENEW = "UPDATE idempotency_keys SET expires_at = ?, updated_at = ? WHERE key = ? AND state = 'claimed'"
_MARK = """
INSERT INTO idempotency_keys (key, state, expires_at, updated_at) VALUES (?, 'done', NULL, ?)
ON CONFLICT (key) DO UPDATE SET state = 'done', expires_at = NULL, updated_at = excluded.updated_at
"""


class IdempotencyStore(SqliteFile):
    """Processed-message keys in a SQLite file, shared by threads (and processes).

    >>> store = IdempotencyStore("processed.sqlite")
    >>> store.claim("m-1"), store.claim("m-1")
    (True, False)
    >>> store.mark("m-1"); store.seen("m-1")
    True
    """

    def __init__(self, path: str | os.PathLike[str], *, lease_seconds: float = DEFAULT_LEASE_SECONDS) -> None:
        super().__init__(path, schema=_SCHEMA)
        self.lease_seconds = float(lease_seconds)

    def claim(self, key: str, *, lease_seconds: float | None = None) -> bool:
        """Atomically take ``key`` for processing: True for exactly one caller.

        False when the key is done, or claimed by someone else whose lease (``lease_seconds``, default
        the store's) has not run out.
        """
        now = time.time()
        expires = now + (self.lease_seconds if lease_seconds is None else lease_seconds)
        with self._lock:
            cur = self._db.execute(_CLAIM, (key, expires, now, now))
            return cur.rowcount == 1

    def renew(self, keys: Sequence[str], lease_seconds: float) -> None:
        """Extend the lease of claims still being worked on (the consumer's heartbeat does this)."""
        now = time.time()
        with self._lock:
            self._db.executemany(_RENEW, [(now + lease_seconds, now, k) for k in keys])

    def mark(self, key: str) -> None:
        """Record ``key`` as done (claimed or not): later copies are duplicates."""
        with self._lock:
            self._db.execute(_MARK, (key, time.time()))

    @staticmethod
    def mark_in(db: sqlite3.Connection, key: str) -> None:
        """Record ``key`` as done through *your* connection to the store's file, inside your transaction.

        This is the transactional-outbox move: commit the work's effect and the idempotency mark together,
        so a crash leaves either both or neither (``labsqs.drill.worker`` does this for its processing log).
        """
        db.execute(_MARK, (key, time.time()))

    def release(self, key: str) -> None:
        """Forget a claim whose work failed, so a redelivery can try again (a done key stays done)."""
        with self._lock:
            self._db.execute("DELETE FROM idempotency_keys WHERE key = ? AND state = 'claimed'", (key,))

    def seen(self, key: str) -> bool:
        """True when ``key`` was processed to the end."""
        with self._lock:
            row = self._db.execute("SELECT state FROM idempotency_keys WHERE key = ?", (key,)).fetchone()
        return row is not None and row[0] == "done"

    def __len__(self) -> int:
        """How many keys are done."""
        with self._lock:
            (count,) = self._db.execute(
                "SELECT COUNT(*) FROM idempotency_keys WHERE state = 'done'"
            ).fetchone()
        return int(count)


# --- key functions: Message -> str ----------------------------------------------------------------
def message_id_key(message: Message) -> str:
    """The default key: the SQS MessageId (stable across redeliveries of one message)."""
    return message.message_id


def dedup_id_key(message: Message) -> str:
    """FIFO queues: the producer's MessageDeduplicationId (falls back to the MessageId)."""
    return message.attributes.get("MessageDeduplicationId") or message.message_id


def body_field_key(field: str) -> Callable[[Message], str]:
    """A key read from a field of a JSON body: ``key=body_field_key("order_id")``.

    A body that is not JSON, not an object, or lacks the field raises
    :class:`~labsqs.errors.InvalidMessage` (the consumer counts the message as failed).
    """

    def key(message: Message) -> str:
        data: Any = message.json()
        if not isinstance(data, dict) or data.get(field) is None:
            raise InvalidMessage(
                f"message {message.message_id} has no {field!r} field for its idempotency key",
                hint=f"send JSON objects with a {field!r} field, or choose another key function",
            )
        return str(data[field])

    key.__name__ = f"body_field_key_{field}"
    return key
