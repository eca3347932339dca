"""Queue depth over time: :class:`Sampler` (the gauges every ``interval_seconds`` on a thread) and
:func:`plot_depth` (that series, or concatenated snapshots, drawn with matplotlib)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING

from labsqs.base.calls import default_sqs
from labsqs.base.depth import read_depth
from labsqs.errors import InvalidAttribute
from labsqs.metrics.gauges import DepthSample, resolve_queues

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from mypy_boto3_sqs import SQSClient

    from labsqs.metrics.gauges import QueueRefs

DEFAULT_INTERVAL_SECONDS = 0.5
MIN_INTERVAL_SECONDS = 0.05
DEFAULT_MAX_SAMPLES = 10_000  # sampling rounds kept; at 0.5 s that is ~83 minutes
STOP_JOIN_TIMEOUT_SECONDS = 10.0
SERIES_COLUMNS = ["t_seconds", "queue", "visible", "in_flight", "delayed", "time"]


class Sampler:
    """Records every queue's gauges each ``interval_seconds`` in a background thread.

    >>> with Sampler([orders, orders_dlq], interval_seconds=0.5) as sampler:
    ...     run_the_load()
    >>> plot_depth(sampler.frame)

    ``.frame`` is a tidy DataFrame (``t_seconds`` since start, ``queue``, ``visible``, ``in_flight``,
    ``delayed``, ``time``), readable while the sampler runs. Only the last ``max_samples`` sampling rounds
    are kept. If reading fails (the engine went away), sampling stops and :meth:`stop` raises the error.
    Each round costs one ``GetQueueAttributes`` per queue: on AWS those are billed requests.
    """

    def __init__(
        self,
        queues: QueueRefs,
        *,
        interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
        sqs: SQSClient | None = None,
        max_samples: int = DEFAULT_MAX_SAMPLES,
    ) -> None:
        if interval_seconds < MIN_INTERVAL_SECONDS:
            raise InvalidAttribute(
                f"interval_seconds={interval_seconds} is too short",
                hint=f"sample every {MIN_INTERVAL_SECONDS} s or more",
            )
        if max_samples < 1:
            raise InvalidAttribute(f"max_samples={max_samples} < 1", hint="keep at least one sample")
        self.interval_seconds = interval_seconds
        self.max_samples = max_samples
        self._sqs = default_sqs(sqs)
        self._queues = resolve_queues(queues, self._sqs)  # resolved now: a wrong name fails here, not later
        self._rounds: deque[tuple[DepthSample, ...]] = deque(maxlen=max_samples)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = time.monotonic()  # start() resets it; sample_once() also works without a thread
        self.error: BaseException | None = None

    @property
    def queues(self) -> list[str]:
        return [name for name, _ in self._queues]

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def sample_once(self) -> tuple[DepthSample, ...]:
        """Read every queue now and record the round; returns the samples."""
        import pandas as pd

        t = time.monotonic() - self._t0
        samples = []
        for name, url in self._queues:
            now = pd.Timestamp.now(tz="UTC")
            samples.append(DepthSample(now, round(t, 3), name, read_depth(self._sqs, url)))
        recorded = tuple(samples)
        with self._lock:
            self._rounds.append(recorded)
        return recorded

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            try:
                self.sample_once()
            except Exception as exc:  # noqa: BLE001 - kept and re-raised by stop()
                self.error = exc
                return
            next_at = max(next_at + self.interval_seconds, time.monotonic())
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def start(self) -> Sampler:
        if self._thread is not None:
            raise RuntimeError("this Sampler was started already; create a new one")
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="labsqs-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> pd.DataFrame:
        """Stop sampling (waits for the current round); returns :attr:`frame`."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(STOP_JOIN_TIMEOUT_SECONDS)
        if self.error is not None:
            raise self.error
        return self.frame

    def __enter__(self) -> Sampler:
        return self.start()

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.stop()
        else:  # the body's error matters more than the sampler's
            self._stop.set()
            if self._thread is not None:
                self._thread.join(STOP_JOIN_TIMEOUT_SECONDS)

    @property
    def samples(self) -> list[DepthSample]:
        with self._lock:
            return [s for round_ in self._rounds for s in round_]

    @property
    def frame(self) -> pd.DataFrame:
        import pandas as pd

        rows = [(s.t_seconds, s.queue, s.visible, s.in_flight, s.delayed, s.time) for s in self.samples]
        return pd.DataFrame(rows, columns=SERIES_COLUMNS)

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        every = f"every {self.interval_seconds:g} s"
        return f"Sampler({', '.join(self.queues)}; {every}; {len(self._rounds)} rounds, {state})"


# --- plot ----------------------------------------------------------------------------------------
def plot_depth(
    frame: pd.DataFrame,
    ax: Axes | None = None,
    title: str | None = None,
    *,
    split: bool = False,
    names: Mapping[str, str] | None = None,
) -> Axes:
    """Queue depth over time, one line per queue; returns the Axes.

    ``frame`` is a :attr:`Sampler.frame`, or snapshots concatenated (``pd.concat``; time then counts
    from the first snapshot). By default a line is visible + in flight. ``split=True`` draws *visible*
    (solid) and *in flight* (dashed) as two lines in the queue's colour: a retry then shows as a message
    moving from in flight back to visible. ``names`` relabels queues (``{q.name: "jobs", q.dlq.name: "DLQ"}``)
    so the legend says what each queue is rather than its generated name.
    """
    import matplotlib.pyplot as plt
    import pandas as pd

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.5))
    missing = {"queue", "visible", "in_flight"} - set(frame.columns)
    if missing:
        raise InvalidAttribute(
            f"the frame lacks column(s) {', '.join(sorted(missing))}",
            hint="pass Sampler.frame or a concatenation of metrics.snapshot() frames",
        )
    if "t_seconds" in frame.columns:
        x = frame["t_seconds"]
    else:
        times = pd.to_datetime(frame["time"], utc=True)
        x = (times - times.min()).dt.total_seconds()
    names = names or {}
    depth = frame["visible"] + frame["in_flight"]
    for name in sorted(frame["queue"].unique()):
        rows = frame["queue"] == name
        label = names.get(str(name), str(name))
        if not split:
            ax.plot(x[rows], depth[rows], marker=".", label=label)
            continue
        (line,) = ax.plot(x[rows], frame.loc[rows, "visible"], marker=".", label=f"{label}: visible")
        ax.plot(
            x[rows],
            frame.loc[rows, "in_flight"],
            linestyle="--",
            color=line.get_color(),
            label=f"{label}: in flight",
        )
    ax.set_xlabel("seconds since start")
    ax.set_ylabel("messages" if split else "messages (visible + in flight)")
    ax.set_title(title or "Queue depth")
    ax.set_ylim(bottom=0)
    if len(frame):
        ax.legend(loc="best")
    ax.grid(True, alpha=0.3)
    return ax
