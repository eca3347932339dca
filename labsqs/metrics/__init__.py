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

The package: :mod:`~labsqs.metrics.gauges` (the gauges now, the drain wait), :mod:`~labsqs.metrics.sampler`
(the gauges over time, the plot), :mod:`~labsqs.metrics.cloudwatch` (SQS's metrics and alarms). The
:class:`Depth` type and the reads under them are :mod:`labsqs.base.depth`'s.
"""

from labsqs.base.depth import Depth
from labsqs.metrics.cloudwatch import (
    ALARM_HISTORY_COLUMNS,
    ALARM_STATES,
    COUNTER_METRICS,
    GAUGE_METRICS,
    METRIC_DATA_COLUMNS,
    SIZE_METRIC,
    SQS_NAMESPACE,
    STATISTICS,
    alarm_history,
    default_statistic,
    metric_data,
    metric_statistics,
    wait_for_alarm,
    wait_for_metric,
)
from labsqs.metrics.gauges import SNAPSHOT_COLUMNS, DepthSample, queue_depth, snapshot, wait_until_drained
from labsqs.metrics.sampler import SERIES_COLUMNS, Sampler, plot_depth

__all__ = [
    "ALARM_HISTORY_COLUMNS",
    "ALARM_STATES",
    "COUNTER_METRICS",
    "GAUGE_METRICS",
    "METRIC_DATA_COLUMNS",
    "SERIES_COLUMNS",
    "SIZE_METRIC",
    "SNAPSHOT_COLUMNS",
    "SQS_NAMESPACE",
    "STATISTICS",
    "Depth",
    "DepthSample",
    "Sampler",
    "alarm_history",
    "default_statistic",
    "metric_data",
    "metric_statistics",
    "plot_depth",
    "queue_depth",
    "snapshot",
    "wait_for_alarm",
    "wait_for_metric",
    "wait_until_drained",
]
