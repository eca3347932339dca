"""Queue metrics, locally: the numbers CloudWatch shows for SQS, as pandas DataFrames.

On AWS, SQS publishes metrics to CloudWatch (namespace ``AWS/SQS``) once a minute. Some of them are
*gauges* you can also read yourself at any moment from ``GetQueueAttributes``:

========================================  ==========================================  =============
CloudWatch metric                         queue attribute                             column here
========================================  ==========================================  =============
ApproximateNumberOfMessagesVisible        ApproximateNumberOfMessages                 ``visible``
ApproximateNumberOfMessagesNotVisible     ApproximateNumberOfMessagesNotVisible       ``in_flight``
ApproximateNumberOfMessagesDelayed        ApproximateNumberOfMessagesDelayed          ``delayed``
ApproximateAgeOfOldestMessage             — (CloudWatch only)                         ``oldest_age_seconds``
========================================  ==========================================  =============

"Approximate" is meant: SQS is distributed, and the counts settle within about a minute on AWS (they
are exact on a local engine). The age of the oldest message is not a queue attribute; on LocalStack the
lab computes it from the developer endpoint that lists messages without receiving them, elsewhere it is
``None``.

Other metrics are *counters* of what happened in the last period — ``NumberOfMessagesSent``,
``NumberOfMessagesReceived``, ``NumberOfMessagesDeleted``, ``NumberOfEmptyReceives``. No SQS API returns
them: only CloudWatch counts them. The lab derives them from what your own code saw (:func:`counters`,
from a producer's count and a consumer's ``ConsumerStats``).

:func:`snapshot` reads the gauges once; :class:`Sampler` reads them every ``interval_seconds`` in a
background thread into a time series (``.frame``); :func:`plot_depth` draws it; :class:`DepthAlarm` is
CloudWatch's "depth > threshold for N consecutive periods" alarm, evaluated on each sample.

**When is a queue drained?** A consumer cannot tell "the queue is empty" from "the queue is empty *for
now*": a message that failed is invisible while it waits out its visibility timeout, so a receive comes back
empty although the message will be delivered again. Stopping after a few empty receives can stop too early —
exactly when retries are pending. The gauges know better: when visible, in flight and delayed are all zero
for a couple of readings in a row, every message was deleted or moved to the DLQ. :func:`queue_depth` reads
them once, :func:`wait_until_drained` waits for that (on AWS the gauges lag by up to a minute: add a grace
period there).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
from botocore.exceptions import ClientError

from labsqs.dlq import peek_messages, queue_name
from labsqs.errors import InvalidAttribute, QueueNotFound
from labsqs.queues import NON_EXISTENT_QUEUE_CODES, queue_url

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from mypy_boto3_sqs import SQSClient

    from labsqs.queues import Queue

    QueueRefs = Queue | str | Iterable[Queue | str]

DEFAULT_INTERVAL_SECONDS = 0.5
MIN_INTERVAL_SECONDS = 0.05
DEFAULT_MAX_SAMPLES = 10_000  # sampling rounds kept; at 0.5 s that is ~83 minutes
STOP_JOIN_TIMEOUT_SECONDS = 10.0
DRAIN_POLL_SECONDS = 0.25
DRAIN_SETTLE_POLLS = 2  # readings of "all zero" in a row before a queue counts as drained
GAUGE_ATTRIBUTES = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)
METRICS = ("visible", "in_flight", "delayed", "depth")  # depth = visible + in_flight
SNAPSHOT_COLUMNS = ["time", "queue", "visible", "in_flight", "delayed", "oldest_age_seconds"]
SERIES_COLUMNS = ["t_seconds", "queue", "visible", "in_flight", "delayed", "time"]


@dataclass(frozen=True)
class DepthSample:
    """One reading of one queue's gauges."""

    time: pd.Timestamp  # UTC wall clock
    t_seconds: float  # since the sampler started (0 for a snapshot)
    queue: str
    visible: int
    in_flight: int
    delayed: int

    @property
    def depth(self) -> int:
        """Messages not yet deleted and not delayed: visible + in flight."""
        return self.visible + self.in_flight

    def value(self, metric: str) -> int:
        return self.depth if metric == "depth" else int(getattr(self, metric))


def _client(sqs: SQSClient | None) -> SQSClient:
    if sqs is not None:
        return sqs
    from labsqs.client import sqs_client

    return sqs_client()


def _resolve(queues: QueueRefs, sqs: SQSClient) -> list[tuple[str, str]]:
    """``[(name, url)]`` for one queue (Queue, URL or name) or an iterable of them."""
    single = isinstance(queues, str) or hasattr(queues, "url")
    items: list[Queue | str] = [queues] if single else list(queues)  # type: ignore[list-item,arg-type]
    if not items:
        raise InvalidAttribute(
            "no queue to measure", hint="pass a queue (Queue, URL or name) or a list of them"
        )
    resolved = [(queue_name(url), url) for url in (queue_url(q, sqs=sqs) for q in items)]
    return list(dict.fromkeys(resolved))  # the same queue twice is measured once


def _read(sqs: SQSClient, url: str) -> tuple[int, int, int]:
    try:
        answer = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(GAUGE_ATTRIBUTES))  # type: ignore[arg-type]
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in NON_EXISTENT_QUEUE_CODES:
            raise QueueNotFound(
                f"queue {queue_name(url)} does not exist (deleted while being measured?)",
                hint="measure queues that exist; `labsqs status` lists them",
                code=code,
            ) from exc
        raise
    attrs: dict[str, str] = {str(k): v for k, v in answer["Attributes"].items()}
    visible, in_flight, delayed = (int(attrs.get(name, 0)) for name in GAUGE_ATTRIBUTES)
    return visible, in_flight, delayed


@dataclass(frozen=True)
class Depth:
    """One queue's gauges: visible (waiting), in flight (received, not deleted), delayed."""

    visible: int
    in_flight: int
    delayed: int

    @property
    def total(self) -> int:
        return self.visible + self.in_flight + self.delayed


def queue_depth(queue: Queue | str, *, sqs: SQSClient | None = None) -> Depth:
    """The gauges of ``queue`` (a ``Queue``, URL or name): one ``GetQueueAttributes``."""
    client = _client(sqs)
    return Depth(*_read(client, queue_url(queue, sqs=client)))


def wait_until_drained(
    queues: Iterable[Queue | str],
    *,
    sqs: SQSClient | None = None,
    poll_seconds: float = DRAIN_POLL_SECONDS,
    settle_polls: int = DRAIN_SETTLE_POLLS,
    timeout_seconds: float | None = None,
    on_poll: Callable[[dict[str, Depth]], None] | None = None,
    alive: Callable[[], bool] | None = None,
) -> bool:
    """Block until every queue reads zero (visible, in flight, delayed) ``settle_polls`` times in a row.

    Returns True when drained, False when ``timeout_seconds`` passed first or ``alive()`` says the workers
    are gone (they raised: nothing would drain the queue any more). ``on_poll(depths)`` sees each reading,
    keyed by queue URL — a progress line, a live figure.
    """
    client = _client(sqs)
    deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
    urls = [queue_url(q, sqs=client) for q in queues]
    zero_in_a_row = 0
    while True:
        depths = {url: queue_depth(url, sqs=client) for url in urls}
        if on_poll is not None:
            on_poll(depths)
        zero_in_a_row = zero_in_a_row + 1 if all(d.total == 0 for d in depths.values()) else 0
        if zero_in_a_row >= settle_polls:
            return True
        if alive is not None and not alive():
            return False
        if deadline is not None and time.monotonic() >= deadline:
            return False
        time.sleep(poll_seconds)


def _oldest_age_seconds(sqs: SQSClient, url: str, now: pd.Timestamp) -> float | None:
    messages = peek_messages(url, sqs=sqs)
    if messages is None:
        return None
    sent = [int(m.get("Attributes", {}).get("SentTimestamp", 0)) for m in messages]
    sent = [s for s in sent if s > 0]
    if not sent:
        return 0.0 if messages == [] else None
    return max(0.0, now.timestamp() - min(sent) / 1000)


def snapshot(queues: QueueRefs, *, sqs: SQSClient | None = None, oldest_age: bool = True) -> pd.DataFrame:
    """One row per queue: ``time`` (UTC), ``queue``, ``visible``, ``in_flight``, ``delayed``,
    ``oldest_age_seconds``.

    ``oldest_age_seconds`` (CloudWatch's ApproximateAgeOfOldestMessage: seconds since the oldest message
    still in the queue was sent, 0 for an empty queue) needs LocalStack's developer endpoint, which lists
    every message: it is ``None`` on other engines, and ``oldest_age=False`` skips it on long queues.
    """
    sqs = _client(sqs)
    rows = []
    for name, url in _resolve(queues, sqs):
        now = pd.Timestamp.now(tz="UTC")
        visible, in_flight, delayed = _read(sqs, url)
        age = _oldest_age_seconds(sqs, url, now) if oldest_age else None
        rows.append([now, name, visible, in_flight, delayed, age])
    return pd.DataFrame(rows, columns=SNAPSHOT_COLUMNS)


# --- alarm ---------------------------------------------------------------------------------------
AlarmCallback = Callable[[str, int, DepthSample], Any]


class DepthAlarm:
    """CloudWatch's threshold alarm, per queue: fires when ``metric > threshold`` for ``periods``
    consecutive samples.

    It fires ``callback(queue, value, sample)`` once per breach; when the value drops to the threshold or
    below the queue is OK again, and the next breach can fire again. ``metric`` is ``"visible"`` (the
    seed's ApproximateNumberOfMessagesVisible), ``"in_flight"``, ``"delayed"`` or ``"depth"`` (visible +
    in flight). Feed it with ``Sampler(..., alarms=[alarm])`` (the callback then runs in the sampler's
    thread: keep it short) or by hand with :meth:`observe`. ``firings`` lists every firing.
    """

    def __init__(
        self, threshold: int, periods: int, callback: AlarmCallback, metric: str = "visible"
    ) -> None:
        if metric not in METRICS:
            raise InvalidAttribute(
                f"unknown alarm metric {metric!r}", hint=f"use one of {', '.join(METRICS)}"
            )
        if threshold < 0:
            raise InvalidAttribute(f"alarm threshold {threshold} is negative", hint="use a count >= 0")
        if periods < 1:
            raise InvalidAttribute(f"alarm periods {periods} < 1", hint="use 1 or more consecutive samples")
        if not callable(callback):
            raise InvalidAttribute("alarm callback is not callable", hint="pass fn(queue, value, sample)")
        self.threshold = threshold
        self.periods = periods
        self.callback = callback
        self.metric = metric
        self.firings: list[tuple[str, int, DepthSample]] = []
        self._breaching: dict[str, int] = {}  # queue -> consecutive samples above the threshold
        self._lock = threading.Lock()

    def in_alarm(self, queue: str) -> bool:
        """True while ``queue`` has been over the threshold for at least ``periods`` samples."""
        with self._lock:
            return self._breaching.get(queue, 0) >= self.periods

    def observe(self, sample: DepthSample) -> bool:
        """Evaluate one sample; True when this sample made the alarm fire."""
        value = sample.value(self.metric)
        with self._lock:
            if value <= self.threshold:
                self._breaching[sample.queue] = 0
                return False
            count = self._breaching.get(sample.queue, 0) + 1
            self._breaching[sample.queue] = count
            fire = count == self.periods
            if fire:
                self.firings.append((sample.queue, value, sample))
        if fire:
            self.callback(sample.queue, value, sample)
        return fire

    def __repr__(self) -> str:
        return (
            f"DepthAlarm({self.metric} > {self.threshold} for {self.periods} samples, "
            f"fired {len(self.firings)}x)"
        )


# --- sampler -------------------------------------------------------------------------------------
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
        alarms: Iterable[DepthAlarm] = (),
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
        self.alarms = list(alarms)
        self._sqs = _client(sqs)
        self._queues = _resolve(queues, self._sqs)  # resolved here: a wrong name fails now, not in the thread
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
        """Read every queue now, record the round, feed the alarms; returns the samples."""
        t = time.monotonic() - self._t0
        samples = []
        for name, url in self._queues:
            now = pd.Timestamp.now(tz="UTC")
            visible, in_flight, delayed = _read(self._sqs, url)
            samples.append(DepthSample(now, round(t, 3), name, visible, in_flight, delayed))
        recorded = tuple(samples)
        with self._lock:
            self._rounds.append(recorded)
        for alarm in self.alarms:
            for sample in recorded:
                alarm.observe(sample)
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
        ax.plot(x[rows], frame.loc[rows, "in_flight"], linestyle="--", color=line.get_color(),
                label=f"{label}: in flight")
    ax.set_xlabel("seconds since start")
    ax.set_ylabel("messages" if split else "messages (visible + in flight)")
    ax.set_title(title or "Queue depth")
    ax.set_ylim(bottom=0)
    if len(frame):
        ax.legend(loc="best")
    ax.grid(True, alpha=0.3)
    return ax


# --- counters CloudWatch keeps and SQS does not return -------------------------------------------
def counters(stats: Any = None, *, sent: int | None = None) -> pd.Series:
    """CloudWatch's SQS counters, as far as this process saw them (None where unknown).

    ``sent`` is the number of messages your producer sent (e.g. ``len`` of its send results);
    ``stats`` a consumer's ``ConsumerStats`` (its ``received``, ``deleted``, ``empty_receives``).
    CloudWatch counts across every client of the queue; these count one process.
    """

    def read(name: str) -> int | None:
        value = getattr(stats, name, None) if stats is not None else None
        return int(value) if value is not None else None

    return pd.Series(
        {
            "NumberOfMessagesSent": sent,
            "NumberOfMessagesReceived": read("received"),
            "NumberOfMessagesDeleted": read("deleted"),
            "NumberOfEmptyReceives": read("empty_receives"),
        },
        dtype="object",
    )
