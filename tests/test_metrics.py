"""Queue metrics: snapshots, the background sampler, depth alarms, plots, derived counters."""

from __future__ import annotations

import time
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from labsqs import metrics  # noqa: E402
from labsqs.dlq import queue_name  # noqa: E402
from labsqs.errors import InvalidAttribute, QueueNotFound  # noqa: E402
from labsqs.metrics import DepthAlarm, DepthSample, Sampler  # noqa: E402

WAIT_SECONDS = 15.0


def wait_for(predicate, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def sample(queue: str, visible: int, in_flight: int = 0, t: float = 0.0) -> DepthSample:
    return DepthSample(pd.Timestamp.now(tz="UTC"), t, queue, visible, in_flight, 0)


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


# --- alarm ---------------------------------------------------------------------------------------
def test_alarm_fires_once_after_n_samples_over_threshold_and_again_after_recovery():
    calls: list[tuple[str, int]] = []
    alarm = DepthAlarm(threshold=2, periods=3, callback=lambda q, v, s: calls.append((q, v)))

    fired = [alarm.observe(sample("orders", v)) for v in (3, 4)]
    assert fired == [False, False] and calls == []  # not before 3 samples over

    assert alarm.observe(sample("orders", 5)) is True
    assert calls == [("orders", 5)]
    assert alarm.in_alarm("orders")

    for v in (6, 7, 2):  # still over: no second firing; 2 is not over 2: recovered
        alarm.observe(sample("orders", v))
    assert calls == [("orders", 5)]
    assert not alarm.in_alarm("orders")

    for v in (3, 3, 3):  # a new breach fires again
        alarm.observe(sample("orders", v))
    assert calls == [("orders", 5), ("orders", 3)]
    assert len(alarm.firings) == 2


def test_alarm_counts_each_queue_separately_and_can_watch_depth():
    calls: list[str] = []
    alarm = DepthAlarm(threshold=1, periods=2, callback=lambda q, v, s: calls.append(q), metric="depth")
    for _ in range(2):
        alarm.observe(sample("a", visible=1, in_flight=1))  # depth 2 > 1
        alarm.observe(sample("b", visible=1, in_flight=0))  # depth 1, not over
    assert calls == ["a"]


def test_alarm_rejects_bad_settings():
    with pytest.raises(InvalidAttribute):
        DepthAlarm(1, 1, print, metric="oldest")
    with pytest.raises(InvalidAttribute):
        DepthAlarm(1, 0, print)
    with pytest.raises(InvalidAttribute):
        DepthAlarm(1, 1, "not callable")  # type: ignore[arg-type]


def test_sampler_feeds_its_alarms(moto_sqs):
    # GIVEN a queue with 3 waiting messages and an alarm on "more than 2 for 2 samples"
    url = moto_sqs.create_queue(QueueName="busy")["QueueUrl"]
    for i in range(3):
        moto_sqs.send_message(QueueUrl=url, MessageBody=f"b{i}")
    calls = []
    alarm = DepthAlarm(2, 2, lambda q, v, s: calls.append((q, v, s.t_seconds >= 0)))
    sampler = Sampler(url, sqs=moto_sqs, alarms=[alarm])

    # WHEN the sampler takes three rounds THEN the alarm fired exactly once, on the second
    sampler.sample_once()
    assert calls == []
    sampler.sample_once()
    sampler.sample_once()
    assert calls == [("busy", 3, True)]


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


# --- counters ------------------------------------------------------------------------------------
def test_counters_come_from_what_this_process_saw():
    stats = SimpleNamespace(received=12, deleted=10, empty_receives=4)
    got = metrics.counters(stats, sent=12)
    assert got.to_dict() == {
        "NumberOfMessagesSent": 12,
        "NumberOfMessagesReceived": 12,
        "NumberOfMessagesDeleted": 10,
        "NumberOfEmptyReceives": 4,
    }
    assert metrics.counters().isna().all()


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
