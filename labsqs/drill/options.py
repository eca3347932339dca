"""What a drill does: its options (:class:`DrillOptions`) and the messages it sends (:func:`drill_bodies`)."""

from __future__ import annotations

import json
import os
import signal
from dataclasses import dataclass
from typing import Literal

from labsqs.errors import InvalidConsumerOption

QueueKind = Literal["standard", "fifo"]
POISON_PREFIX = "not-json:"  # the drill's poison bodies: a JSON consumer must fail them (→ DLQ)


@dataclass(frozen=True, kw_only=True)
class DrillOptions:
    """One drill: ``messages`` to a fresh ``kind`` queue (with a DLQ after ``max_receive_count``
    receives), ``processes`` worker processes on it, and every ``stop_every_seconds`` (uniform random)
    ``stop_signal`` to one of them and a new one in its place — ``max_stops`` times, while the backlog lasts.

    Every ``poison_every``-th body is non-JSON poison (``None``: none), which makes the DLQ part of the
    account; a FIFO drill spreads the messages over ``groups`` groups. ``fifo_guard=False`` runs the
    workers without the consumer's FIFO guard (to measure what it saves). ``prefer_holding=True`` stops a
    process that holds unsettled messages whenever one does (the hard case, which a random pick may miss
    on a slow machine); otherwise the pick is random.
    """

    workdir: str | os.PathLike[str]  # the processing log and each worker's output go here
    kind: QueueKind = "standard"
    messages: int = 400
    endpoint: str | None = None  # default: the lab's engine (labsqs.client)
    processes: int = 3
    stop_signal: signal.Signals = signal.SIGKILL
    stop_every_seconds: tuple[float, float] = (0.4, 1.2)
    max_stops: int = 6
    seed: int = 7
    work_ms: float = 20.0  # simulated work per message (where kills land)
    workers_per_process: int = 1
    poison_every: int | None = 50
    groups: int = 12
    visibility_timeout: int = 2
    max_receive_count: int = 5
    timeout_seconds: float = 120.0
    fifo_guard: bool = True
    prefer_holding: bool = False

    def __post_init__(self) -> None:
        if self.processes < 1 or self.messages < 1 or self.max_stops < 0:
            raise InvalidConsumerOption("a drill needs processes >= 1, messages >= 1 and max_stops >= 0")

    @property
    def kills(self) -> bool:
        """True for ``SIGKILL``: no cleanup, so a stopped process's unsettled deliveries are cut short."""
        return self.stop_signal == signal.SIGKILL


def drill_bodies(messages: int, *, groups: int, poison_every: int | None) -> list[tuple[str, str, str]]:
    """``(uid, group, body)`` for each message: JSON ``{"uid", "group", "seq"}``, and every
    ``poison_every``-th a non-JSON poison body (``not-json:<uid>``) that a JSON consumer must fail."""
    out = []
    for i in range(messages):
        uid, group, seq = f"u{i:06d}", f"g{i % groups:02d}", i // groups
        poison = poison_every is not None and i % poison_every == poison_every - 1
        body = f"{POISON_PREFIX}{uid}" if poison else json.dumps({"uid": uid, "group": group, "seq": seq})
        out.append((uid, group, body))
    return out


def body_uid(body: str) -> str:
    """The uid of a drill body (JSON or poison)."""
    if body.startswith(POISON_PREFIX):
        return body[len(POISON_PREFIX) :]
    return str(json.loads(body)["uid"])


def is_poison(body: str) -> bool:
    """True for the drill's non-JSON poison bodies."""
    return body.startswith(POISON_PREFIX)
