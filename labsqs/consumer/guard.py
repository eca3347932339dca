"""The FIFO guard: a failed head must not drag its group's followers to the DLQ.

See "FIFO guard" in :mod:`labsqs.consumer`'s notes for the rules; :class:`labsqs.drill.SharedFifoGuard`
keeps the same records in the workers' shared SQLite file (it overrides the three storage methods).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from labsqs.consumer.message import Message

FIFO_GUARD_MARGIN_SECONDS = 0.5  # a batch receive must end this long before an unsettled head may reappear


class FifoGuard:
    """The FIFO groups whose head failed and is not settled yet: group -> (head's MessageId, epoch seconds
    when the head may be visible again). See "FIFO guard" in the module notes for the rules.

    This one lives in memory and serves one consumer's threads (one process). Independent processes on
    one queue would each learn of a failure only when it hits them — a fresh or restarted process would
    drag the followers along once more — so :class:`labsqs.drill.SharedFifoGuard` keeps the same records
    in the workers' shared SQLite file. A subclass overrides the three storage methods below.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._heads: dict[str, tuple[str, float]] = {}

    def heads(self) -> dict[str, tuple[str, float]]:
        """Every unsettled head: group -> (MessageId, epoch seconds when it may be visible again)."""
        with self._lock:
            return dict(self._heads)

    def put(self, group: str, message_id: str, visible_at: float) -> None:
        """Note (or move) the unsettled head of ``group``."""
        with self._lock:
            self._heads[group] = (message_id, visible_at)

    def drop(self, settled: Mapping[str, str]) -> None:
        """Forget ``group -> MessageId`` heads, each only while that message is still its group's head."""
        with self._lock:
            for group, message_id in settled.items():
                if self._heads.get(group, ("", 0.0))[0] == message_id:
                    del self._heads[group]

    def received(self, messages: Sequence[Message], hidden_until: float) -> None:
        """After a receive (or a hand-back at once): an unsettled head that came back is hidden until
        ``hidden_until``; a group that returned any *later* message has no unsettled head any more."""
        heads = self.heads()
        if not heads:
            return
        groups = {m.group_id for m in messages if m.group_id in heads}
        back = {m.group_id for m in messages if m.group_id in groups and m.message_id == heads[m.group_id][0]}
        for group in back:
            self.put(group, heads[group][0], hidden_until)
        gone = {g: heads[g][0] for g in groups - back if g is not None}
        if gone:
            self.drop(gone)

    def settled(self, messages: Sequence[Message]) -> None:
        """Forget the heads among ``messages`` (processed and deleted)."""
        heads = self.heads()
        if not heads:
            return
        done = {m.group_id: m.message_id for m in messages if m.group_id in heads and m.group_id is not None}
        if done:
            self.drop(done)

    def visible_in(self) -> float | None:
        """Seconds until the first unsettled head may be visible (<= 0: it may be now); None: none."""
        heads = self.heads()
        return min(at for _, at in heads.values()) - time.time() if heads else None


def guarded_receive(wanted: int, wait_seconds: int, head_visible_in: float | None) -> tuple[int, int]:
    """(MaxNumberOfMessages, WaitTimeSeconds) for the next receive of a guarded FIFO queue.

    A batch while no unsettled head can come back before the receive ends (its long poll shortened to
    fit, when that leaves a second or more); one message otherwise, so a head that SQS hands out comes
    alone. ``head_visible_in`` is :meth:`FifoGuard.visible_in`.

    >>> guarded_receive(10, 20, None), guarded_receive(10, 20, 5.8), guarded_receive(10, 20, 0.9)
    ((10, 20), (10, 5), (1, 20))
    """
    if head_visible_in is None or wanted == 1:
        return wanted, wait_seconds
    room = head_visible_in - FIFO_GUARD_MARGIN_SECONDS
    if room >= wait_seconds:
        return wanted, wait_seconds
    if room >= 1:
        return wanted, int(room)
    return 1, wait_seconds
