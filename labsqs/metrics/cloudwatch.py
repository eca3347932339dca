"""SQS's metrics and alarms in CloudWatch: :func:`metric_data`, :func:`metric_statistics`,
:func:`wait_for_metric`, :func:`wait_for_alarm`, :func:`alarm_history` (see :mod:`labsqs.metrics`).

pandas is imported by the functions that build frames, not with this module.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC
from typing import TYPE_CHECKING, Any

from labsqs.base.calls import chunked, queue_name
from labsqs.base.limits import MAX_METRIC_QUERIES_PER_CALL, METRIC_PERIOD_SECONDS
from labsqs.errors import AlarmError, InvalidAttribute

if TYPE_CHECKING:
    from datetime import datetime

    import pandas as pd

    from labsqs.metrics.gauges import QueueRefs
    from labsqs.queues import Queue

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
DEFAULT_METRIC_PERIOD_SECONDS = (
    METRIC_PERIOD_SECONDS  # SQS's resolution on AWS; the lab's engine also answers 10
)
DEFAULT_LOOKBACK_SECONDS = 15 * 60
ALARM_STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")
ALARM_POLL_SECONDS = 0.5
DEFAULT_ALARM_TIMEOUT_SECONDS = 60.0
METRIC_DATA_COLUMNS = ["time", "queue", "metric", "stat", "value"]
ALARM_HISTORY_COLUMNS = ["time", "alarm", "old_state", "new_state", "reason", "datapoints", "evaluated_at"]


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
    names = [item.name if hasattr(item, "name") else queue_name(str(item)) for item in items]
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


def _metric_query(i: int, name: str, metric: str, stat: str, period_seconds: int) -> dict[str, Any]:
    """One ``MetricDataQueries`` entry: ``metric`` of queue ``name``, ``stat`` per period."""
    return {
        "Id": f"m{i}",
        "MetricStat": {
            "Metric": {
                "Namespace": SQS_NAMESPACE,
                "MetricName": metric,
                "Dimensions": [{"Name": QUEUE_DIMENSION, "Value": name}],
            },
            "Period": period_seconds,
            "Stat": stat,
        },
    }


def _metric_rows(
    cw: Any, plan: list[tuple[str, str, str]], start: datetime, end: datetime, period_seconds: int
) -> list[tuple[Any, str, str, str, float]]:
    """``GetMetricData`` for every ``(queue, metric, stat)`` of ``plan`` (500 queries a call, all pages):
    one ``(time, queue, metric, stat, value)`` per data point."""
    queries = [_metric_query(i, *item, period_seconds) for i, item in enumerate(plan)]
    rows: list[tuple[Any, str, str, str, float]] = []
    paginator = cw.get_paginator("get_metric_data")
    for _, chunk in chunked(queries, MAX_METRIC_QUERIES_PER_CALL):
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
    return rows


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
    plan = [(name, metric, stat or default_statistic(metric)) for name in names for metric in metric_names]
    rows = _metric_rows(_cloudwatch(cloudwatch), plan, start, end, period_seconds)
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
