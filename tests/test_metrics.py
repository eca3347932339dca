"""Queue metrics: CloudWatch read as DataFrames, its alarms, and the gauges the lab reads itself."""

from __future__ import annotations

import subprocess
import sys
import time

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from labsqs import metrics  # noqa: E402
from labsqs.base.calls import queue_name  # noqa: E402
from labsqs.errors import InvalidAttribute, QueueNotFound  # noqa: E402
from labsqs.metrics import Sampler  # noqa: E402
from labsqs.queues import QueueSpec  # noqa: E402

WAIT_SECONDS = 15.0


def wait_for(predicate, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def test_importing_metrics_leaves_pandas_and_matplotlib_out():
    # GIVEN a fresh interpreter (Locust's start-up imports labsqs.metrics through the load generator)
    code = "import sys, labsqs.metrics; print(sorted({'pandas', 'matplotlib'} & set(sys.modules)))"
    # WHEN it imports labsqs.metrics THEN neither pandas nor matplotlib came with it
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- snapshot ------------------------------------------------------------------------------------
@pytest.mark.engine
def test_snapshot_counts_visible_in_flight_and_delayed(sqs, make_queue):
    # GIVEN a queue with 3 messages sent, 1 of them received, and 1 more sent with a delay
    url = make_queue("snap")
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"s{i}")
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=60)

    # WHEN a snapshot is taken
    frame = metrics.snapshot([url], sqs=sqs)

    # THEN its one row says 2 visible, 1 in flight, 1 delayed, and how old the oldest message is
    assert list(frame.columns) == metrics.SNAPSHOT_COLUMNS
    row = frame.iloc[0]
    assert (row["queue"], row["visible"], row["in_flight"], row["delayed"]) == (queue_name(url), 2, 1, 1)
    assert 0 <= row["oldest_age_seconds"] < 300


@pytest.mark.engine
def test_snapshot_of_an_empty_queue_has_age_zero(sqs, make_queue):
    frame = metrics.snapshot(make_queue("calm"), sqs=sqs)
    assert frame.iloc[0][["visible", "in_flight", "delayed", "oldest_age_seconds"]].tolist() == [0, 0, 0, 0.0]


def test_snapshot_on_moto_has_no_oldest_age(moto_sqs):
    # GIVEN moto, which (like AWS without CloudWatch) cannot tell the oldest message's age
    a = moto_sqs.create_queue(QueueName="a")["QueueUrl"]
    moto_sqs.create_queue(QueueName="b")
    moto_sqs.send_message(QueueUrl=a, MessageBody="x")

    frame = metrics.snapshot([a, "b"], sqs=moto_sqs)

    assert frame[["queue", "visible"]].values.tolist() == [["a", 1], ["b", 0]]
    assert frame["oldest_age_seconds"].isna().all()


# --- sampler -------------------------------------------------------------------------------------
@pytest.mark.engine
def test_sampler_records_depth_while_messages_are_sent_and_consumed(sqs, make_queue):
    url = make_queue("series")
    with Sampler([url], interval_seconds=0.1, sqs=sqs) as sampler:
        # WHEN five messages are sent and the sampler sees them
        for i in range(5):
            sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
        wait_for(lambda: sampler.frame["visible"].max() == 5, "the sampler to see 5 messages")
        # AND then they are consumed and the sampler sees the queue empty again
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        wait_for(lambda: (sampler.frame.iloc[-1][["visible", "in_flight"]] == 0).all(), "a drained queue")

    # THEN the series is tidy, ordered in time, and rose to 5 before falling back to 0
    frame = sampler.frame
    assert list(frame.columns) == metrics.SERIES_COLUMNS
    assert set(frame["queue"]) == {queue_name(url)}
    assert frame["t_seconds"].is_monotonic_increasing
    peak = frame["visible"].idxmax()
    assert frame.loc[peak, "visible"] == 5
    assert frame.loc[peak:, "visible"].iloc[-1] == 0
    assert not sampler.running


def test_sampler_keeps_only_max_samples_rounds(moto_sqs):
    a = moto_sqs.create_queue(QueueName="a")["QueueUrl"]
    b = moto_sqs.create_queue(QueueName="b")["QueueUrl"]
    sampler = Sampler([a, b], sqs=moto_sqs, max_samples=3)
    for i in range(5):  # rounds taken by hand: deterministic, no thread
        moto_sqs.send_message(QueueUrl=a, MessageBody=f"m{i}")
        sampler.sample_once()
    frame = sampler.frame
    assert len(frame) == 3 * 2
    assert frame.loc[frame["queue"] == "a", "visible"].tolist() == [3, 4, 5]


def test_sampler_refuses_an_unknown_queue_before_starting(moto_sqs):
    with pytest.raises(QueueNotFound):
        Sampler(["no-such-queue"], sqs=moto_sqs)


@pytest.mark.engine
def test_sampler_stop_reports_the_error_that_ended_sampling(sqs, queue_name):
    url = sqs.create_queue(QueueName=queue_name("gone"))["QueueUrl"]
    sampler = Sampler(url, interval_seconds=0.1, sqs=sqs).start()
    sqs.delete_queue(QueueUrl=url)
    wait_for(lambda: not sampler.running, "the sampler to notice the queue is gone")
    with pytest.raises(QueueNotFound):
        sampler.stop()


def test_sampler_rejects_a_too_short_interval(moto_sqs):
    url = moto_sqs.create_queue(QueueName="q")["QueueUrl"]
    with pytest.raises(InvalidAttribute):
        Sampler(url, sqs=moto_sqs, interval_seconds=0.001)


# --- plot ----------------------------------------------------------------------------------------
def test_plot_depth_draws_one_line_per_queue():
    frame = pd.DataFrame(
        {
            "t_seconds": [0.0, 0.0, 0.5, 0.5, 1.0, 1.0],
            "queue": ["orders", "orders-dlq"] * 3,
            "visible": [5, 0, 3, 1, 0, 1],
            "in_flight": [0, 0, 2, 0, 1, 0],
            "delayed": [0] * 6,
        }
    )
    ax = metrics.plot_depth(frame, title="depth")
    try:
        lines = {line.get_label(): list(line.get_ydata()) for line in ax.get_lines()}
        assert lines == {"orders": [5, 5, 1], "orders-dlq": [0, 1, 1]}
        assert ax.get_title() == "depth"
    finally:
        plt.close(ax.figure)


def test_plot_depth_split_shows_retries_with_readable_names():
    # GIVEN a message that goes in flight, comes back (a retry), then is deleted
    frame = pd.DataFrame({"t_seconds": [0.0, 1.0, 2.0, 3.0], "queue": ["nb-x-1a2b3c"] * 4,
                          "visible": [1, 0, 1, 0], "in_flight": [0, 1, 0, 0]})
    # WHEN it is drawn split, with a name for the queue
    ax = metrics.plot_depth(frame, split=True, names={"nb-x-1a2b3c": "jobs"})
    try:
        lines = {line.get_label(): list(line.get_ydata()) for line in ax.get_lines()}
        # THEN the retry shows (visible 1 -> 0 -> 1) and the legend says "jobs", not the generated name
        assert lines == {"jobs: visible": [1, 0, 1, 0], "jobs: in flight": [0, 1, 0, 0]}
    finally:
        plt.close(ax.figure)


def test_plot_depth_accepts_concatenated_snapshots_and_an_axes(moto_sqs):
    url = moto_sqs.create_queue(QueueName="p")["QueueUrl"]
    frames = [metrics.snapshot(url, sqs=moto_sqs)]
    moto_sqs.send_message(QueueUrl=url, MessageBody="x")
    frames.append(metrics.snapshot(url, sqs=moto_sqs))
    fig, ax = plt.subplots()
    try:
        returned = metrics.plot_depth(pd.concat(frames, ignore_index=True), ax=ax)
        assert returned is ax
        assert [list(line.get_ydata()) for line in ax.get_lines()] == [[0, 1]]
    finally:
        plt.close(fig)


@pytest.mark.engine
def test_snapshot_takes_the_handles_ensure_queue_returns(sqs, queue_name):
    from labsqs.queues import QueueSpec, delete_queue, ensure_queue

    queue = ensure_queue(QueueSpec(queue_name("handle"), receive_wait_seconds=0), sqs=sqs)
    try:
        sqs.send_message(QueueUrl=queue.url, MessageBody="x")
        frame = metrics.snapshot([queue, queue.dlq], sqs=sqs)
        assert frame[["queue", "visible"]].values.tolist() == [[queue.name, 1], [queue.dlq.name, 0]]
    finally:
        delete_queue(queue, sqs=sqs, missing_ok=True)


# --- CloudWatch: reading SQS's metrics --------------------------------------------------------------
CLOUDWATCH_WAIT_SECONDS = 20.0  # the engine publishes counters at once, gauges every few seconds


def totals(frame: pd.DataFrame) -> dict[str, float]:
    return frame.groupby("metric")["value"].sum().to_dict()


def wait_for_metrics(read, done, what: str) -> pd.DataFrame:
    deadline = time.monotonic() + CLOUDWATCH_WAIT_SECONDS
    while True:
        frame = read()
        if done(frame):
            return frame
        assert time.monotonic() < deadline, f"gave up waiting for {what}; CloudWatch has:\n{frame}"
        time.sleep(0.25)


@pytest.fixture
def cloudwatch(engine_state):
    from labsqs.client import cloudwatch_client

    return cloudwatch_client(engine_state.endpoint)


@pytest.fixture
def moto_cloudwatch(moto_sqs):  # inside moto_sqs's mock_aws
    import boto3

    return boto3.client(
        "cloudwatch", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    )


@pytest.mark.engine
def test_cloudwatch_counts_what_was_sent_received_and_deleted(sqs, cloudwatch, make_queue):
    # GIVEN a fresh queue: 7 messages sent (a batch of 5 and 2 single sends), 3 received and deleted;
    # and a second queue where one receive found nothing
    since = pd.Timestamp.now(tz="UTC") - pd.Timedelta(seconds=1)
    url = make_queue("counted")
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"b{i}"} for i in range(5)])
    for i in range(2):
        sqs.send_message(QueueUrl=url, MessageBody=f"s{i}")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=3)["Messages"]
    sqs.delete_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
    )
    empty = make_queue("empty")
    sqs.receive_message(QueueUrl=empty, WaitTimeSeconds=0)

    # WHEN the counters are read back from CloudWatch (GetMetricData, 10 s periods)
    frame = wait_for_metrics(
        lambda: metrics.metric_data([url, empty], start=since, period_seconds=10, cloudwatch=cloudwatch),
        lambda f: (
            totals(f[f["queue"] == queue_name(url)]).get("NumberOfMessagesDeleted", 0) >= len(got)
            and totals(f[f["queue"] == queue_name(url)]).get("NumberOfMessagesSent", 0) >= 7
        ),  # each counter is published on its own schedule (every 5 s): wait for the sends too
        "the sends and deletes to reach CloudWatch",
    )

    # THEN they are exactly what was done, per queue, summed with the Sum statistic
    assert list(frame.columns) == metrics.METRIC_DATA_COLUMNS
    assert set(frame["stat"]) == {"Sum"}
    assert totals(frame[frame["queue"] == queue_name(url)]) == {
        "NumberOfMessagesSent": 7.0,
        "NumberOfMessagesReceived": 3.0,
        "NumberOfMessagesDeleted": 3.0,
    }
    assert totals(frame[frame["queue"] == queue_name(empty)]) == {"NumberOfEmptyReceives": 1.0}
    # AND GetMetricStatistics agrees: 7 sends, one data point per message
    stats = metrics.metric_statistics(
        url, "NumberOfMessagesSent", statistics=["Sum", "SampleCount"], start=since, cloudwatch=cloudwatch
    )
    assert (stats["Sum"].sum(), stats["SampleCount"].sum(), set(stats["unit"])) == (7.0, 7.0, {"Count"})


@pytest.mark.engine
def test_cloudwatch_receives_the_depth_gauge(sqs, cloudwatch, make_queue):
    # GIVEN 4 messages waiting in a queue
    since = pd.Timestamp.now(tz="UTC") - pd.Timedelta(seconds=1)
    url = make_queue("gauged")
    for i in range(4):
        sqs.send_message(QueueUrl=url, MessageBody=f"g{i}")

    # WHEN the engine's next report reaches CloudWatch
    def read() -> pd.DataFrame:
        return metrics.metric_data(
            url, ["ApproximateNumberOfMessagesVisible"], start=since, period_seconds=10, stat="Maximum",
            cloudwatch=cloudwatch,
        )  # fmt: skip

    frame = wait_for_metrics(read, lambda f: (f["value"] == 4).any(), "the visible gauge to read 4")

    # THEN the gauge never read more than what was sent
    assert frame["value"].max() == 4.0 and set(frame["stat"]) == {"Maximum"}


def test_metric_data_reads_cloudwatch_into_a_tidy_frame(moto_cloudwatch):
    # GIVEN data points in AWS/SQS for two queues (put by hand: moto's SQS publishes none)
    now = pd.Timestamp.now(tz="UTC").floor("min")
    for queue, sent in (("a", [3, 4]), ("b", [1])):
        for minute, value in enumerate(sent):
            moto_cloudwatch.put_metric_data(
                Namespace="AWS/SQS",
                MetricData=[
                    {
                        "MetricName": "NumberOfMessagesSent",
                        "Dimensions": [{"Name": "QueueName", "Value": queue}],
                        "Timestamp": (now - pd.Timedelta(minutes=2 - minute)).to_pydatetime(),
                        "Value": value,
                    }
                ],
            )

    # WHEN they are read for both queues (a Queue URL and a bare name)
    frame = metrics.metric_data(
        ["http://127.0.0.1:4566/000000000000/a", "b"],
        ["NumberOfMessagesSent"],
        start=(now - pd.Timedelta(minutes=5)).to_pydatetime(),
        end=(now + pd.Timedelta(minutes=1)).to_pydatetime(),
        cloudwatch=moto_cloudwatch,
    )

    # THEN one row per data point, oldest first (then by queue), with the queue's name and the Sum statistic
    assert frame[["queue", "metric", "stat", "value"]].values.tolist() == [
        ["a", "NumberOfMessagesSent", "Sum", 3.0],
        ["b", "NumberOfMessagesSent", "Sum", 1.0],
        ["a", "NumberOfMessagesSent", "Sum", 4.0],
    ]
    assert frame["time"].is_monotonic_increasing
    assert str(frame["time"].dt.tz) == "UTC"


def test_metric_readers_refuse_bad_input_before_calling_cloudwatch():
    class NoCalls:  # any attribute access would mean a request was about to be made
        def __getattr__(self, name):
            raise AssertionError(f"CloudWatch was called ({name}) despite bad input")

    with pytest.raises(InvalidAttribute, match="not an SQS metric"):
        metrics.metric_data("q", ["NumberOfMessagesSend"], cloudwatch=NoCalls())
    with pytest.raises(InvalidAttribute, match="unknown statistic"):
        metrics.metric_data("q", stat="Median", cloudwatch=NoCalls())
    with pytest.raises(InvalidAttribute, match="no queue"):
        metrics.metric_data([], cloudwatch=NoCalls())
    with pytest.raises(InvalidAttribute):
        metrics.metric_statistics("q", "NumberOfMessagesSent", statistics=["p99"], cloudwatch=NoCalls())
    with pytest.raises(InvalidAttribute, match="unknown alarm state"):
        metrics.wait_for_alarm("a", "FIRING", cloudwatch=NoCalls())


def test_wait_for_alarm_names_the_state_it_is_stuck_in(moto_cloudwatch):
    from labsqs.errors import AlarmError

    with pytest.raises(AlarmError, match="no CloudWatch alarm"):
        metrics.wait_for_alarm("missing", "ALARM", cloudwatch=moto_cloudwatch)
    moto_cloudwatch.put_metric_alarm(
        AlarmName="quiet", Namespace="AWS/SQS", MetricName="ApproximateNumberOfMessagesVisible",
        Dimensions=[{"Name": "QueueName", "Value": "q"}], Statistic="Average", Period=60,
        EvaluationPeriods=1, Threshold=5, ComparisonOperator="GreaterThanThreshold",
    )  # fmt: skip
    current = moto_cloudwatch.describe_alarms(AlarmNames=["quiet"])["MetricAlarms"][0]["StateValue"]
    assert (
        current != "ALARM"
    )  # nothing was ever measured (moto starts alarms in OK, AWS in INSUFFICIENT_DATA)
    with pytest.raises(AlarmError, match=f"still {current} after 0.2 s, not ALARM") as caught:
        metrics.wait_for_alarm(
            "quiet", "ALARM", timeout_seconds=0.2, poll_seconds=0.05, cloudwatch=moto_cloudwatch
        )
    assert caught.value.code == current
    # SetAlarmState (AWS's way to test an alarm's actions) is seen at once
    moto_cloudwatch.set_alarm_state(AlarmName="quiet", StateValue="ALARM", StateReason="testing the action")
    alarm = metrics.wait_for_alarm("quiet", "ALARM", cloudwatch=moto_cloudwatch)
    assert alarm["StateReason"] == "testing the action"


def test_wait_for_metric_returns_once_the_data_point_is_there(moto_cloudwatch):
    # GIVEN a gauge data point of 3 for queue "q" (put by hand: moto's SQS publishes none)
    start = (pd.Timestamp.now(tz="UTC") - pd.Timedelta(minutes=1)).to_pydatetime()
    moto_cloudwatch.put_metric_data(
        Namespace="AWS/SQS",
        MetricData=[
            {
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{"Name": "QueueName", "Value": "q"}],
                "Value": 3,
            }
        ],
    )
    # WHEN waiting for at least 3 THEN the frame comes back with it; at least 4 never comes
    frame = metrics.wait_for_metric(
        "q", "ApproximateNumberOfMessagesVisible", 3, start=start, cloudwatch=moto_cloudwatch
    )
    assert frame["value"].tolist() == [3.0] and frame["stat"].tolist() == ["Maximum"]
    with pytest.raises(InvalidAttribute, match=r"no ApproximateNumberOfMessagesVisible >= 4 .*highest: 3"):
        metrics.wait_for_metric(
            "q", "ApproximateNumberOfMessagesVisible", 4, start=start, timeout_seconds=0.2, poll_seconds=0.05,
            cloudwatch=moto_cloudwatch,
        )  # fmt: skip


def test_importing_metrics_leaves_pandas_out():
    # the load generator imports queue_depth from here: it must not pay for pandas
    import subprocess
    import sys

    code = "import sys, labsqs.metrics; print('pandas' in sys.modules)"
    answer = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert answer.stdout == "False\n"


# --- CloudWatch: the alarm and its SNS action -------------------------------------------------------
@pytest.mark.engine
def test_alarm_goes_to_alarm_and_its_sns_action_reaches_a_queue(sqs, cloudwatch, make_queue, queue_name):
    import json

    from labsqs.client import sns_client

    # GIVEN a queue, an SNS topic that delivers into an "alerts" queue, and seed 1's QueueDepthAlarm scaled
    # down: visible > 2 on average over 10 s, on *this* queue (the QueueName dimension the seed forgot)
    sns = sns_client(sqs.meta.endpoint_url)
    url, alerts = make_queue("deep"), make_queue("alerts")
    name = url.rsplit("/", 1)[-1]
    alerts_arn = sqs.get_queue_attributes(QueueUrl=alerts, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    topic = sns.create_topic(Name=queue_name("alarms"))["TopicArn"]
    alarm = queue_name("depth-alarm")
    try:
        sns.subscribe(
            TopicArn=topic, Protocol="sqs", Endpoint=alerts_arn, Attributes={"RawMessageDelivery": "true"}
        )
        cloudwatch.put_metric_alarm(
            AlarmName=alarm, Namespace="AWS/SQS", MetricName="ApproximateNumberOfMessagesVisible",
            Dimensions=[{"Name": "QueueName", "Value": name}], Statistic="Average", Period=10,
            EvaluationPeriods=1, Threshold=2, ComparisonOperator="GreaterThanThreshold",
            ActionsEnabled=True, AlarmActions=[topic],
        )  # fmt: skip

        # WHEN 5 messages wait
        for i in range(5):
            sqs.send_message(QueueUrl=url, MessageBody=f"d{i}")

        # THEN CloudWatch puts the alarm in ALARM at its next evaluation
        state = metrics.wait_for_alarm(alarm, "ALARM", timeout_seconds=35, cloudwatch=cloudwatch)
        assert state["StateValue"] == "ALARM"
        # AND the SNS action delivered the alarm's notification into the alerts queue
        received = sqs.receive_message(QueueUrl=alerts, WaitTimeSeconds=10).get("Messages", [])
        assert len(received) == 1
        note = json.loads(received[0]["Body"])
        assert (note["AlarmName"], note["NewStateValue"]) == (alarm, "ALARM")
        assert note["Trigger"]["Dimensions"] == [{"value": name, "name": "QueueName"}]
        # AND the history shows the change with the data point that crossed the threshold
        history = metrics.alarm_history(alarm, cloudwatch=cloudwatch)
        change = history[history["new_state"] == "ALARM"].iloc[-1]
        assert max(change["datapoints"]) > 2
    finally:
        cloudwatch.delete_alarms(AlarmNames=[alarm])
        sns.delete_topic(TopicArn=topic)


@pytest.mark.engine
def test_a_queues_metrics_leave_out_its_dlqs(sqs, cloudwatch, ensure, queue_name):
    # GIVEN a queue and its DLQ, whose name starts with the queue's (orders, orders-dlq): 2 sends to the
    # queue, 3 to the DLQ (LocalStack matched dimensions by substring; the launcher makes the match exact)
    since = pd.Timestamp.now(tz="UTC") - pd.Timedelta(seconds=1)
    queue = ensure(QueueSpec(queue_name("orders"), receive_wait_seconds=0))
    for target, n in ((queue.url, 2), (queue.dlq.url, 3)):
        for i in range(n):
            sqs.send_message(QueueUrl=target, MessageBody=f"x{i}")

    # WHEN both queues' sends are read from CloudWatch
    frame = wait_for_metrics(
        lambda: metrics.metric_data(
            [queue, queue.dlq],
            ["NumberOfMessagesSent"],
            start=since,
            period_seconds=10,
            cloudwatch=cloudwatch,
        ),
        lambda f: f["value"].sum() >= 5,
        "5 sends to reach CloudWatch",
    )

    # THEN each queue has exactly its own
    assert frame.groupby("queue")["value"].sum().to_dict() == {queue.name: 2.0, queue.dlq.name: 3.0}
