"""What one consumer run holds: the in-flight registry, the visibility heartbeat, the run's budget."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from labsqs.base.calls import change_visibility

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from labsqs.consumer.message import Message
    from labsqs.consumer.stats import ConsumerStats
    from labsqs.idempotency import IdempotencyStore

log = logging.getLogger("labsqs.consumer")


class InFlight:
    """The messages this consumer holds (received, not yet deleted or handed back), with deadlines
    and, when idempotency is on, the key each one has claimed.

    The heartbeat extends them under the same lock that workers take to drop them, so an extension
    can never land after a release and hide a released message again.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.deadlines: dict[str, float] = {}  # receipt handle -> when its visibility ends (time.monotonic)
        self.keys: dict[str, str] = {}  # receipt handle -> claimed idempotency key

    def add(self, messages: Sequence[Message], deadline: float) -> None:
        with self.lock:
            for m in messages:
                self.deadlines[m.receipt_handle] = deadline

    def seconds_left(self, message: Message) -> float:
        with self.lock:
            return self.deadlines.get(message.receipt_handle, 0.0) - time.monotonic()

    def claimed(self, message: Message, key: str) -> None:
        with self.lock:
            self.keys[message.receipt_handle] = key

    def drop(self, messages: Sequence[Message]) -> dict[str, float]:
        """Stop tracking ``messages``; returns their last deadlines."""
        with self.lock:
            for m in messages:
                self.keys.pop(m.receipt_handle, None)
            return {
                m.receipt_handle: self.deadlines.pop(m.receipt_handle, time.monotonic()) for m in messages
            }


class Heartbeat(threading.Thread):
    """Every ``every`` seconds, extend each held message that would expire within two ticks (and renew
    its idempotency claim for as long)."""

    def __init__(
        self,
        sqs: SQSClient,
        url: str,
        inflight: InFlight,
        visibility: int,
        every: float,
        stats: ConsumerStats,
        store: IdempotencyStore | None = None,
    ) -> None:
        super().__init__(name="labsqs-heartbeat", daemon=True)
        self.sqs, self.url, self.inflight, self.visibility, self.every = sqs, url, inflight, visibility, every
        self.stats, self.store = stats, store
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.every):
            try:
                self.beat()
            except Exception:  # noqa: BLE001 - a failed beat must not kill the consumer
                log.warning(
                    "visibility heartbeat failed; held messages may be delivered again", exc_info=True
                )

    def beat(self) -> int:
        with self.inflight.lock:
            now = time.monotonic()
            due = [h for h, deadline in self.inflight.deadlines.items() if deadline - now <= 2 * self.every]
            if not due:
                return 0
            failed = change_visibility(self.sqs, self.url, [(h, self.visibility) for h in due])
            lost = {due[int(f["Id"])] for f in failed}
            for h in due:
                if h in lost:
                    self.inflight.deadlines.pop(h, None)
                else:
                    self.inflight.deadlines[h] = now + self.visibility
            keys = [self.inflight.keys[h] for h in due if h not in lost and h in self.inflight.keys]
        if keys and self.store is not None:
            self.store.renew(keys, self.visibility)
        for f in failed:
            log.warning(
                "could not extend a message's visibility (%s): it may be delivered again", f.get("Code")
            )
        self.stats.add(heartbeats=len(due) - len(failed))
        return len(due) - len(failed)


class Budget:
    """How many more messages a run may take (``run(stop_after=...)``), shared by the workers."""

    def __init__(self, limit: int | None) -> None:
        self.left = limit
        self.lock = threading.Lock()

    def take(self, n: int) -> int:
        if self.left is None:
            return n
        with self.lock:
            granted = min(n, self.left)
            self.left -= granted
            return granted

    def give_back(self, n: int) -> None:
        if self.left is not None and n:
            with self.lock:
                self.left += n

    @property
    def exhausted(self) -> bool:
        return self.left == 0
