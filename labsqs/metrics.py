"""Queue metrics: what CloudWatch records about SQS, read as pandas DataFrames, and the few numbers it lacks.

SQS publishes its metrics to CloudWatch, namespace ``AWS/SQS``, one series per queue (dimension
``QueueName``). There are two kinds:

- **counters** of what happened in a period: ``NumberOfMessagesSent``, ``NumberOfMessagesReceived``,
  ``NumberOfMessagesDeleted``, ``NumberOfEmptyReceives`` (read them with the ``Sum`` statistic), and
  ``SentMessageSize`` (bytes, ``Average``/``Maximum``). No SQS call returns them: only CloudWatch counts them,
  across every client of the queue.
- **gauges**, sampled: ``ApproximateNumberOfMessagesVisible``, ``...NotVisible``, ``...Delayed`` and
  ``ApproximateAgeOfOldestMessage`` (``Average``/``Maximum``).

On AWS the data points arrive once a minute; the lab's engine (LocalStack) publishes the counters as the calls
happen and the gauges every few seconds (``SQS_CLOUDWATCH_METRICS_REPORT_INTERVAL``). Read them with
CloudWatch's own API, exactly as code on AWS does: :func:`metric_data` (``GetMetricData``: many queues and
metrics, one statistic each) and :func:`metric_statistics` (``GetMetricStatistics``: one metric, several
statistics) return tidy DataFrames; :func:`wait_for_metric` waits until a data point has arrived.
**Alarms** are CloudWatch's too: ``PutMetricAlarm`` with the queue's ``QueueName`` dimension and an SNS
topic in ``AlarmActions``; CloudWatch evaluates them and notifies, the lab does not re-implement that.
:func:`wait_for_alarm` blocks until an alarm reaches a state (botocore's only CloudWatch waiter,
``alarm_exists``, relies on the ``StateValue`` filter of ``DescribeAlarms``, which LocalStack ignores), and
:func:`alarm_history` is ``DescribeAlarmHistory`` as a DataFrame.

What stays here, and why — what CloudWatch cannot give a lab:

========================================  ==========================================  =============
CloudWatch metric                         queue attribute                             column here
========================================  ==========================================  =============
ApproximateNumberOfMessagesVisible        ApproximateNumberOfMessages                 ``visible``
ApproximateNumberOfMessagesNotVisible     ApproximateNumberOfMessagesNotVisible       ``in_flight``
ApproximateNumberOfMessagesDelayed        ApproximateNumberOfMessagesDelayed          ``delayed``
ApproximateAgeOfOldestMessage             — (CloudWatch only)                         ``oldest_age_seconds``
========================================  ==========================================  =============

- **The gauges, now.** ``GetQueueAttributes`` answers at once, where CloudWatch's data point comes seconds
  (locally) or a minute (AWS) later. :func:`snapshot` reads them once, :class:`Sampler` every
  ``interval_seconds`` (sub-second: a burst drained in two seconds is one data point, or none, in
  CloudWatch), :func:`plot_depth` draws that series.
- **The age of the oldest message.** LocalStack does not publish ``ApproximateAgeOfOldestMessage`` (its SQS
  provider lists it as missing), and it is not a queue attribute: :func:`snapshot` computes it from
  LocalStack's developer endpoint that lists messages without receiving them (elsewhere it is ``None``; on
  AWS read it from CloudWatch).
- **When is a queue drained?** A consumer cannot tell "the queue is empty" from "the queue is empty *for
  now*": a message that failed is invisible while it waits out its visibility timeout, so a receive comes
  back empty although the message will be delivered again. Stopping after a few empty receives can stop too
  early — exactly when retries are pending. The gauges know better: when visible, in flight and delayed are
  all zero for a couple of readings in a row, every message was deleted or moved to the DLQ.
  :func:`queue_depth` reads them once, :func:`wait_until_drained` waits for that (on AWS the gauges lag by
  up to a minute: add a grace period there).

pandas is imported by the functions that build frames, not by this module: the load generator imports
:func:`queue_depth` and stays light.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from labsqs.errors import AlarmError, InvalidAttribute, QueueNotFound
from labsqs.queues import NON_EXISTENT_QUEUE_CODES, queue_url

if TYPE_CHECKING:
    from datetime import datetime

    import pandas as pd
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
SQS_NAMESPACE = "AWS/SQS"
QUEUE_DIMENSION = "QueueName"  # SQS publishes every metric per queue, under this one dimension
COUNTER_METRICS = (
    "NumberOfMessagesSent",
    "NumberOfMessagesReceived",
    "NumberOfMessagesDeleted",
    "NumberOfEmptyReceives",
)
GAUGE_METRICS = (
    "ApproximateNumberOfMessagesVisible",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "ApproximateAgeOfOldestMessage",  # on AWS; LocalStack does not publish it
)
SIZE_METRIC = "SentMessageSize"
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
DEFAULT_METRIC_PERIOD_SECONDS = 60  # SQS's resolution on AWS; the lab's engine also answers for 10
DEFAULT_LOOKBACK_SECONDS = 15 * 60
MAX_QUERIES_PER_CALL = 500  # GetMetricData's limit
ALARM_STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")
ALARM_POLL_SECONDS = 0.5
DEFAULT_ALARM_TIMEOUT_SECONDS = 60.0
METRIC_DATA_COLUMNS = ["time", "queue", "metric", "stat", "value"]
ALARM_HISTORY_COLUMNS = ["time", "alarm", "old_state", "new_state", "reason", "datapoints", "evaluated_at"]
GAUGE_ATTRIBUTES = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)
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


def _client(sqs: SQSClient | None) -> SQSClient:
    if sqs is not None:
        return sqs
    from labsqs.client import sqs_client

    return sqs_client()


def _resolve(queues: QueueRefs, sqs: SQSClient) -> list[tuple[str, str]]:
    """``[(name, url)]`` for one queue (Queue, URL or name) or an iterable of them."""
    from labsqs.dlq import queue_name

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
            from labsqs.dlq import queue_name

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
    from labsqs.dlq import peek_messages

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
    import pandas as pd

    sqs = _client(sqs)
    rows = []
    for name, url in _resolve(queues, sqs):
        now = pd.Timestamp.now(tz="UTC")
        visible, in_flight, delayed = _read(sqs, url)
        age = _oldest_age_seconds(sqs, url, now) if oldest_age else None
        rows.append([now, name, visible, in_flight, delayed, age])
    return pd.DataFrame(rows, columns=SNAPSHOT_COLUMNS)


# --- CloudWatch: SQS's metrics and alarms ---------------------------------------------------------
def default_statistic(metric: str) -> str:
    """The statistic that makes sense for an SQS metric: ``Sum`` for counters, ``Average`` otherwise."""
    return "Sum" if metric in COUNTER_METRICS else "Average"


def _cloudwatch(cloudwatch: Any) -> Any:
    if cloudwatch is not None:
        return cloudwatch
    from labsqs.client import cloudwatch_client

    return cloudwatch_client()


def _names(queues: QueueRefs) -> list[str]:
    """Queue names (what the ``QueueName`` dimension holds) for a Queue, URL, name or a list of them.

    No SQS call: CloudWatch keeps a queue's metrics after the queue is gone, so a deleted queue's name
    still reads.
    """
    single = isinstance(queues, str) or hasattr(queues, "name")
    items: list[Any] = [queues] if single else list(queues)  # type: ignore[arg-type]
    names = [
        item.name if hasattr(item, "name") else str(item).rstrip("/").rsplit("/", 1)[-1] for item in items
    ]
    if not names or not all(names):
        raise InvalidAttribute(
            "no queue to read metrics for", hint="pass a queue (Queue, URL or name) or a list"
        )
    return list(dict.fromkeys(names))


def _window(start: datetime | None, end: datetime | None, period_seconds: int) -> tuple[datetime, datetime]:
    from datetime import datetime, timedelta

    if period_seconds < 1:
        raise InvalidAttribute(
            f"period_seconds={period_seconds} < 1", hint="use 60 (AWS's resolution for SQS), or 10 on the lab"
        )
    # EndTime is exclusive and the lab's engine stamps data points in whole seconds: "now" must include
    # the current second, or a GetMetricStatistics right after the calls misses them (seen: no datapoints)
    end = end or datetime.now(UTC) + timedelta(seconds=1)
    start = start or end - timedelta(seconds=DEFAULT_LOOKBACK_SECONDS)
    if start >= end:
        raise InvalidAttribute(
            f"start {start} is not before end {end}", hint="swap them, or leave end out (now)"
        )
    return start, end


def _check_metric(metric: str) -> None:
    known = (*COUNTER_METRICS, *GAUGE_METRICS, SIZE_METRIC)
    if metric not in known:
        raise InvalidAttribute(f"{metric!r} is not an SQS metric", hint=f"use one of {', '.join(known)}")


def metric_data(
    queues: QueueRefs,
    metrics: Iterable[str] = COUNTER_METRICS,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    period_seconds: int = DEFAULT_METRIC_PERIOD_SECONDS,
    stat: str | None = None,
    cloudwatch: Any = None,
) -> pd.DataFrame:
    """SQS metrics of one or more queues from CloudWatch's ``GetMetricData``, as a tidy DataFrame.

    One row per data point: ``time`` (UTC, the start of the period), ``queue``, ``metric``, ``stat``,
    ``value``, oldest first. ``stat`` is the statistic for every metric (default: ``Sum`` for counters,
    ``Average`` for gauges and sizes, see :func:`default_statistic`); the window is ``start``..``end``
    (default: the last 15 minutes, this second included) cut into periods of ``period_seconds``. Periods
    without data have no row. Pivot it for a table or a plot::

        frame.pivot_table(index="time", columns="metric", values="value")
    """
    import pandas as pd

    names = _names(queues)
    metric_names = list(dict.fromkeys(metrics))
    for metric in metric_names:
        _check_metric(metric)
    if stat is not None and stat not in STATISTICS:
        raise InvalidAttribute(f"unknown statistic {stat!r}", hint=f"use one of {', '.join(STATISTICS)}")
    start, end = _window(start, end, period_seconds)
    cw = _cloudwatch(cloudwatch)
    plan = [(name, metric, stat or default_statistic(metric)) for name in names for metric in metric_names]
    queries = [
        {
            "Id": f"m{i}",
            "MetricStat": {
                "Metric": {
                    "Namespace": SQS_NAMESPACE,
                    "MetricName": metric,
                    "Dimensions": [{"Name": QUEUE_DIMENSION, "Value": name}],
                },
                "Period": period_seconds,
                "Stat": how,
            },
        }
        for i, (name, metric, how) in enumerate(plan)
    ]
    rows: list[tuple[Any, str, str, str, float]] = []
    paginator = cw.get_paginator("get_metric_data")
    for first in range(0, len(queries), MAX_QUERIES_PER_CALL):
        chunk = queries[first : first + MAX_QUERIES_PER_CALL]
        pages = paginator.paginate(
            MetricDataQueries=chunk, StartTime=start, EndTime=end, ScanBy="TimestampAscending"
        )
        for page in pages:
            for result in page["MetricDataResults"]:
                name, metric, how = plan[int(result["Id"][1:])]
                rows.extend(
                    (when, name, metric, how, float(value))
                    for when, value in zip(result["Timestamps"], result["Values"], strict=True)
                )
    frame = pd.DataFrame(rows, columns=METRIC_DATA_COLUMNS)
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    return frame.sort_values(["time", "queue", "metric"], ignore_index=True)


def metric_statistics(
    queue: Queue | str,
    metric: str,
    *,
    statistics: Iterable[str] = ("Sum",),
    start: datetime | None = None,
    end: datetime | None = None,
    period_seconds: int = DEFAULT_METRIC_PERIOD_SECONDS,
    cloudwatch: Any = None,
) -> pd.DataFrame:
    """One SQS metric of one queue from CloudWatch's ``GetMetricStatistics``: one row per period.

    Columns: ``time`` (UTC, the start of the period), one column per statistic (``Sum``, ``Average``,
    ``SampleCount``, ``Minimum``, ``Maximum``) and ``unit``, oldest first.
    """
    import pandas as pd

    _check_metric(metric)
    wanted = list(dict.fromkeys(statistics))
    unknown = [s for s in wanted if s not in STATISTICS]
    if not wanted or unknown:
        raise InvalidAttribute(f"statistics {wanted!r}", hint=f"choose from {', '.join(STATISTICS)}")
    start, end = _window(start, end, period_seconds)
    (name,) = _names(queue)
    answer = _cloudwatch(cloudwatch).get_metric_statistics(
        Namespace=SQS_NAMESPACE,
        MetricName=metric,
        Dimensions=[{"Name": QUEUE_DIMENSION, "Value": name}],
        StartTime=start,
        EndTime=end,
        Period=period_seconds,
        Statistics=wanted,
    )
    rows = [[p["Timestamp"], *(p.get(s) for s in wanted), p.get("Unit")] for p in answer["Datapoints"]]
    frame = pd.DataFrame(rows, columns=["time", *wanted, "unit"])
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    return frame.sort_values("time", ignore_index=True)


def wait_for_metric(
    queue: Queue | str,
    metric: str,
    at_least: float,
    *,
    start: datetime | None = None,
    stat: str | None = None,
    period_seconds: int = 10,
    timeout_seconds: float = 30.0,
    poll_seconds: float = ALARM_POLL_SECONDS,
    cloudwatch: Any = None,
) -> pd.DataFrame:
    """Block until CloudWatch holds a data point of ``metric`` for ``queue`` of at least ``at_least``
    (since ``start``); returns :func:`metric_data`'s frame at that moment.

    Metrics reach CloudWatch after the calls that make them: at once for counters on the lab's engine, within
    one report interval (5 s) for gauges, about a minute on AWS. Raises
    :class:`~labsqs.errors.InvalidAttribute` when ``timeout_seconds`` pass first.
    """
    deadline = time.monotonic() + timeout_seconds
    while True:
        frame = metric_data(
            queue, [metric], start=start, period_seconds=period_seconds, stat=stat or "Maximum",
            cloudwatch=cloudwatch,
        )  # fmt: skip
        if (frame["value"] >= at_least).any():
            return frame
        if time.monotonic() >= deadline:
            best = frame["value"].max() if len(frame) else None
            raise InvalidAttribute(
                f"CloudWatch has no {metric} >= {at_least:g} for {_names(queue)[0]} "
                f"after {timeout_seconds:g} s (highest: {best})",
                hint="check that the engine publishes SQS metrics (the lessons' engine, `labsqs up`), "
                "or wait longer (AWS publishes once a minute)",
            )
        time.sleep(poll_seconds)


def _describe_alarm(cw: Any, name: str) -> dict[str, Any]:
    alarms = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    if not alarms:
        raise AlarmError(
            f"no CloudWatch alarm named {name!r}",
            hint="create it with put_metric_alarm first (names are case-sensitive)",
            code="ResourceNotFound",
        )
    return dict(alarms[0])


def wait_for_alarm(
    name: str,
    state: str,
    *,
    timeout_seconds: float = DEFAULT_ALARM_TIMEOUT_SECONDS,
    poll_seconds: float = ALARM_POLL_SECONDS,
    cloudwatch: Any = None,
) -> dict[str, Any]:
    """Block until the metric alarm ``name`` is in ``state`` (OK, ALARM, INSUFFICIENT_DATA); returns the
    alarm as ``DescribeAlarms`` describes it (``StateValue``, ``StateReason``, ``StateUpdatedTimestamp``...).

    CloudWatch evaluates an alarm once per ``Period`` (times ``EvaluationPeriods`` on the lab's engine): give
    ``timeout_seconds`` a few periods. Raises :class:`~labsqs.errors.AlarmError` when the time runs out.
    """
    if state not in ALARM_STATES:
        raise InvalidAttribute(f"unknown alarm state {state!r}", hint=f"use one of {', '.join(ALARM_STATES)}")
    cw = _cloudwatch(cloudwatch)
    deadline = time.monotonic() + timeout_seconds
    while True:
        alarm = _describe_alarm(cw, name)
        if alarm["StateValue"] == state:
            return alarm
        if time.monotonic() >= deadline:
            raise AlarmError(
                f"alarm {name!r} is still {alarm['StateValue']} after {timeout_seconds:g} s, not {state}",
                hint=f"it is evaluated every Period ({alarm.get('Period')} s): wait longer, or check its "
                "metric and dimensions with metric_data()",
                code=str(alarm["StateValue"]),
            )
        time.sleep(poll_seconds)


def alarm_history(name: str, *, cloudwatch: Any = None) -> pd.DataFrame:
    """The state changes of alarm ``name`` from ``DescribeAlarmHistory``, oldest first.

    Columns: ``time`` (the history item's timestamp), ``alarm``, ``old_state``, ``new_state``, ``reason``,
    ``datapoints`` (the recent values CloudWatch compared with the threshold) and ``evaluated_at`` (when
    that evaluation ran; ``None`` for a change made with ``SetAlarmState``).
    """
    import json

    import pandas as pd

    cw = _cloudwatch(cloudwatch)
    rows = []
    pages = cw.get_paginator("describe_alarm_history").paginate(AlarmName=name, HistoryItemType="StateUpdate")
    for page in pages:
        for item in page["AlarmHistoryItems"]:
            data = json.loads(item.get("HistoryData") or "{}")
            old, new = data.get("oldState", {}), data.get("newState", {})
            reason_data = new.get("stateReasonData") or {}
            evaluated = reason_data.get("queryDate")
            rows.append(
                [
                    item["Timestamp"],
                    item["AlarmName"],
                    old.get("stateValue"),
                    new.get("stateValue"),
                    new.get("stateReason"),
                    reason_data.get("recentDatapoints"),
                    pd.Timestamp(evaluated).tz_convert("UTC") if evaluated else None,
                ]
            )
    frame = pd.DataFrame(rows, columns=ALARM_HISTORY_COLUMNS)
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    return frame.sort_values("time", ignore_index=True)


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
        """Read every queue now and record the round; returns the samples."""
        import pandas as pd

        t = time.monotonic() - self._t0
        samples = []
        for name, url in self._queues:
            now = pd.Timestamp.now(tz="UTC")
            visible, in_flight, delayed = _read(self._sqs, url)
            samples.append(DepthSample(now, round(t, 3), name, visible, in_flight, delayed))
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
