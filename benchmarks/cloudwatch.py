"""CloudWatch latency on the lessons' engine: how soon does a lesson see SQS's metrics and alarms?

Per run, on a fresh queue: one batch of 10 sends, then

- ``counter``  seconds from the send until ``NumberOfMessagesSent`` reads back from ``GetMetricData`` (the
               engine publishes counters as the calls happen, through a thread pool);
- ``gauge``    seconds until ``ApproximateNumberOfMessagesVisible`` reads 10 (published every
               ``SQS_CLOUDWATCH_METRICS_REPORT_INTERVAL`` seconds: at most one interval);
- ``alarm``    seconds from ``PutMetricAlarm`` (visible > 5, ``Average``, ``Period=10``, one evaluation
               period, as lesson 9), put just *before* the sends, until the alarm is in ALARM (the engine
               evaluates at the put, before the data, then once per period: about one period);
- ``ok``       seconds from ``PurgeQueue`` until it is OK again (the engine looks back over
               ``EvaluationPeriods`` + 2 periods: about three periods).

Prints each run and min / median / max. Needs the lessons' engine (``labsqs up``), not the load engine
(its SQS metrics are off).

    .venv/bin/python benchmarks/cloudwatch.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from labsqs import metrics
from labsqs.client import cloudwatch_client, sqs_client

POLL_SECONDS = 0.1
MESSAGES = 10
THRESHOLD = 5
PERIOD_SECONDS = 10


def one_run(sqs, cw) -> dict[str, float]:
    name = f"bench-cw-{uuid.uuid4().hex[:8]}"
    since = datetime.now(UTC) - timedelta(seconds=1)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    try:
        cw.put_metric_alarm(
            AlarmName=name, Namespace=metrics.SQS_NAMESPACE, MetricName="ApproximateNumberOfMessagesVisible",
            Dimensions=[{"Name": metrics.QUEUE_DIMENSION, "Value": name}], Statistic="Average",
            Period=PERIOD_SECONDS, EvaluationPeriods=1, Threshold=THRESHOLD,
            ComparisonOperator="GreaterThanThreshold",
        )  # fmt: skip
        put = time.monotonic()
        entries = [{"Id": str(i), "MessageBody": "x"} for i in range(MESSAGES)]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
        sent = time.monotonic()
        seen: dict[str, float] = {}
        while len(seen) < 2:
            frame = metrics.metric_data(
                url, ["NumberOfMessagesSent", "ApproximateNumberOfMessagesVisible"], start=since,
                period_seconds=PERIOD_SECONDS, stat="Maximum", cloudwatch=cw,
            )  # fmt: skip
            values = frame.groupby("metric")["value"].max().to_dict()
            if "counter" not in seen and values.get("NumberOfMessagesSent", 0) > 0:
                seen["counter"] = time.monotonic() - sent
            if "gauge" not in seen and values.get("ApproximateNumberOfMessagesVisible", 0) == MESSAGES:
                seen["gauge"] = time.monotonic() - sent
            if time.monotonic() - sent > 60:
                raise SystemExit(f"no metrics after 60 s ({values}): start the lessons' engine (labsqs up)")
            time.sleep(POLL_SECONDS)
        metrics.wait_for_alarm(name, "ALARM", poll_seconds=POLL_SECONDS, cloudwatch=cw)
        seen["alarm"] = time.monotonic() - put
        sqs.purge_queue(QueueUrl=url)
        purged = time.monotonic()
        metrics.wait_for_alarm(name, "OK", poll_seconds=POLL_SECONDS, timeout_seconds=120, cloudwatch=cw)
        seen["ok"] = time.monotonic() - purged
        return seen
    finally:
        cw.delete_alarms(AlarmNames=[name])
        sqs.delete_queue(QueueUrl=url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sqs, cw = sqs_client(), cloudwatch_client()
    figures: dict[str, list[float]] = {}
    for run in range(args.runs):
        seen = one_run(sqs, cw)
        print(
            f"run {run + 1}: counter {seen['counter']:.2f} s after the send, gauge {seen['gauge']:.2f} s; "
            f"ALARM {seen['alarm']:.1f} s after PutMetricAlarm; OK {seen['ok']:.1f} s after the purge",
            flush=True,
        )
        for key, value in seen.items():
            figures.setdefault(key, []).append(value)
    for key, values in figures.items():
        print(
            f"{key:8s} min {min(values):6.2f} s  median {statistics.median(values):6.2f} s  "
            f"max {max(values):6.2f} s"
        )


if __name__ == "__main__":
    main()
