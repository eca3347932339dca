"""What a consumer run did: :class:`ConsumerStats` (live counters, latencies, recent failures)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from labsqs.consumer.message import MessageFailure

if TYPE_CHECKING:
    import pandas as pd

MAX_FAILURES_KEPT = 100  # ConsumerStats.failures keeps the most recent ones

_COUNTERS = (
    "received",
    "processed",
    "failed",
    "redelivered",
    "duplicates_skipped",
    "deferred",
    "released",
    "deleted",
    "delete_failed",
    "receives",
    "empty_receives",
    "guarded_receives",
    "heartbeats",
)


@dataclass
class ConsumerStats:
    """What a run did. Live while the run goes on (read it from another thread or a notebook cell).

    ``redelivered`` counts received messages with ``ApproximateReceiveCount > 1``; ``released`` messages
    were handed back unprocessed (stop, FIFO group after a failure); ``deferred`` ones were being
    processed by another live worker (idempotency claim) and were left to come back; ``heartbeats``
    counts visibility extensions; ``guarded_receives`` the receives cut to one message because a failed
    FIFO head was unsettled (:class:`FifoGuard`); ``latencies_ms`` holds, per processed message,
    SentTimestamp → processed in milliseconds.
    """

    received: int = 0
    processed: int = 0
    failed: int = 0
    redelivered: int = 0
    duplicates_skipped: int = 0
    deferred: int = 0
    released: int = 0
    deleted: int = 0
    delete_failed: int = 0
    receives: int = 0
    empty_receives: int = 0
    guarded_receives: int = 0
    heartbeats: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    failures: deque[MessageFailure] = field(default_factory=lambda: deque(maxlen=MAX_FAILURES_KEPT))
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    stop_reason: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)

    def record_success(self, latency_ms: float) -> None:
        with self._lock:
            self.processed += 1
            self.latencies_ms.append(latency_ms)

    def record_failure(self, failure: MessageFailure) -> None:
        with self._lock:
            self.failed += 1
            self.failures.append(failure)

    @property
    def elapsed_seconds(self) -> float:
        return (self.finished_at or time.time()) - self.started_at

    def snapshot(self) -> dict[str, Any]:
        """Counters, elapsed time, throughput and latency percentiles, as one flat dict."""
        with self._lock:
            data: dict[str, Any] = {name: getattr(self, name) for name in _COUNTERS}
            latencies = sorted(self.latencies_ms)
        elapsed = self.elapsed_seconds
        data["elapsed_seconds"] = round(elapsed, 3)
        data["processed_per_second"] = round(data["processed"] / elapsed, 1) if elapsed > 0 else 0.0
        data.update(latency_summary(latencies))
        data["stop_reason"] = self.stop_reason
        return data

    as_dict = snapshot

    def to_frame(self) -> pd.DataFrame:
        """The snapshot as a one-row pandas DataFrame (concatenate runs to compare them)."""
        import pandas as pd

        return pd.DataFrame([self.snapshot()])


def latency_summary(sorted_ms: Sequence[float]) -> dict[str, float | None]:
    """p50/p95/p99/max/mean of already sorted latencies (None when empty)."""
    if not sorted_ms:
        return {f"latency_ms_{k}": None for k in ("p50", "p95", "p99", "max", "mean")}

    def pct(p: float) -> float:
        return round(sorted_ms[min(len(sorted_ms) - 1, math.ceil(p * len(sorted_ms)) - 1)], 1)

    return {
        "latency_ms_p50": pct(0.50),
        "latency_ms_p95": pct(0.95),
        "latency_ms_p99": pct(0.99),
        "latency_ms_max": round(sorted_ms[-1], 1),
        "latency_ms_mean": round(sum(sorted_ms) / len(sorted_ms), 1),
    }
