"""Dead-letter queues: inspect without consuming, redrive (move task and client-side fallback), purge.

Integration tests run on the real engine (LocalStack); the fallback paths run on moto, which has no
message move tasks and no peek endpoint.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pandas as pd
import pytest

from labsqs import cli, dlq
from labsqs.base.calls import queue_name
from labsqs.errors import ConfirmationRequired, PurgeInProgress, QueueNotFound, RedriveError

DEAD_LETTER_DEADLINE_SECONDS = 15.0


# --- helpers -------------------------------------------------------------------------------------
def arn_of(sqs, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def count(sqs, url: str, name: str = "ApproximateNumberOfMessages") -> int:
    return int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[name])["Attributes"][name])


def redrive_policy(sqs, dlq_url: str, max_receive_count: int = 1) -> str:
    return json.dumps({"deadLetterTargetArn": arn_of(sqs, dlq_url), "maxReceiveCount": max_receive_count})


def dead_letter(sqs, source: str, dlq_url: str, n: int) -> None:
    """Receive from ``source`` without deleting (visibility 0) until ``n`` messages reached the DLQ."""
    deadline = time.monotonic() + DEAD_LETTER_DEADLINE_SECONDS
    while count(sqs, dlq_url) < n:
        assert time.monotonic() < deadline, f"only {count(sqs, dlq_url)}/{n} messages reached the DLQ"
        sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10, VisibilityTimeout=0)


def drain(sqs, url: str, expected: int) -> list[dict]:
    """Receive and delete until ``expected`` messages came (or the deadline); returns them."""
    got: dict[str, dict] = {}
    deadline = time.monotonic() + DEAD_LETTER_DEADLINE_SECONDS
    while len(got) < expected and time.monotonic() < deadline:
        answer = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageSystemAttributeNames=["All"]
        )
        for m in answer.get("Messages", []):
            got.setdefault(m["MessageId"], m)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return list(got.values())


@pytest.fixture
def pair(sqs, make_queue) -> Callable[..., tuple[str, str]]:
    """``pair(fifo=False)`` → (source URL, DLQ URL); the source moves a message after 1 receive."""

    def make(fifo: bool = False) -> tuple[str, str]:
        dlq_url = make_queue("dlq", fifo=fifo)
        source = make_queue("src", fifo=fifo, RedrivePolicy=redrive_policy(sqs, dlq_url))
        return source, dlq_url

    return make


@pytest.fixture
def moto_pair(moto_sqs) -> Callable[..., tuple[str, str]]:
    def make(fifo: bool = False) -> tuple[str, str]:
        suffix = ".fifo" if fifo else ""
        extra = {"FifoQueue": "true"} if fifo else {}
        dlq_url = moto_sqs.create_queue(QueueName=f"dlq{suffix}", Attributes=extra)["QueueUrl"]
        attrs = {**extra, "RedrivePolicy": redrive_policy(moto_sqs, dlq_url)}
        source = moto_sqs.create_queue(QueueName=f"src{suffix}", Attributes=attrs)["QueueUrl"]
        return source, dlq_url

    return make


# --- inspect -------------------------------------------------------------------------------------
@pytest.mark.engine
def test_inspect_by_peek_changes_neither_receive_counts_nor_visibility(sqs, make_queue):
    # GIVEN a queue with two waiting messages and one in flight
    url = make_queue("peek")
    for body in ("a", "b", "c"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    taken = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=30)["Messages"][0]

    # WHEN it is inspected twice
    first = dlq.list_messages(url, sqs=sqs)
    second = dlq.list_messages(url, sqs=sqs)

    # THEN both inspections saw all three, by peek, with the same receive counts
    assert first.attrs["method"] == "peek"
    assert sorted(first["body"]) == ["a", "b", "c"]
    assert list(second["receive_count"]) == list(first["receive_count"])
    in_flight = first.set_index("message_id").loc[taken["MessageId"]]
    assert (in_flight["receive_count"], bool(in_flight["visible"])) == (1, False)
    assert sorted(first.loc[first["visible"], "receive_count"]) == [0, 0]
    # AND the two waiting messages are still visible to a consumer
    assert count(sqs, url) == 2
    assert count(sqs, url, "ApproximateNumberOfMessagesNotVisible") == 1


@pytest.mark.engine
def test_message_dead_lettered_after_max_receive_count_shows_with_its_source(sqs, pair):
    # GIVEN a source queue whose RedrivePolicy sends a message to the DLQ after 1 receive
    source, dlq_url = pair()
    sqs.send_message(
        QueueUrl=source,
        MessageBody='{"job": 7}',
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "resize"}},
    )
    # WHEN a consumer receives it without deleting until SQS moves it
    dead_letter(sqs, source, dlq_url, 1)

    # THEN inspect shows it, with the queue it came from and its history
    frame = dlq.list_messages(dlq_url, sqs=sqs)
    assert len(frame) == 1
    row = frame.iloc[0]
    assert row["body"] == '{"job": 7}'
    assert row["source_queue"] == queue_name(source)
    assert row["source_arn"] == arn_of(sqs, source)
    assert row["receive_count"] >= 1
    assert row["message_attributes"]["kind"]["StringValue"] == "resize"
    assert abs(pd.Timestamp.now(tz="UTC") - row["sent_at"]) < pd.Timedelta(minutes=5)
    assert frame.attrs["source_queues"] == [source]


@pytest.mark.engine
def test_inspect_receive_release_keeps_messages_but_counts_a_receive(sqs, pair):
    # GIVEN a DLQ holding two dead-lettered messages
    source, dlq_url = pair()
    for body in ("x", "y"):
        sqs.send_message(QueueUrl=source, MessageBody=body)
    dead_letter(sqs, source, dlq_url, 2)
    before = dlq.list_messages(dlq_url, sqs=sqs).set_index("body")["receive_count"]

    # WHEN it is inspected by receive + release
    frame = dlq.list_messages(dlq_url, sqs=sqs, method="receive+release")

    # THEN the method says so, both are listed with their source, and both are visible again at once
    assert frame.attrs["method"] == "receive+release"
    assert sorted(frame["body"]) == ["x", "y"]
    assert set(frame["source_queue"]) == {queue_name(source)}
    assert count(sqs, dlq_url) == 2
    # AND each receive count went up by one (the documented cost of this method)
    after = dlq.list_messages(dlq_url, sqs=sqs).set_index("body")["receive_count"]
    assert (after - before).to_dict() == {"x": 1, "y": 1}


def test_inspect_on_moto_falls_back_to_receive_release(moto_sqs, moto_pair):
    # GIVEN moto (no peek endpoint) and a DLQ with one dead-lettered message
    source, dlq_url = moto_pair()
    moto_sqs.send_message(QueueUrl=source, MessageBody="poison")
    dead_letter(moto_sqs, source, dlq_url, 1)

    # WHEN it is inspected with the default method
    frame = dlq.list_messages(dlq_url, sqs=moto_sqs)

    # THEN it was read by receive + release, the source is known from the RedrivePolicy, the message stays
    assert frame.attrs["method"] == "receive+release"
    assert list(frame["body"]) == ["poison"]
    assert frame.iloc[0]["source_queue"] == "src"
    assert count(moto_sqs, dlq_url) == 1


def test_inspect_on_moto_refuses_a_forced_peek(moto_sqs, moto_pair):
    _, dlq_url = moto_pair()
    with pytest.raises(RedriveError, match="receive\\+release"):
        dlq.list_messages(dlq_url, sqs=moto_sqs, method="peek")


@pytest.mark.engine
def test_inspect_of_an_empty_queue_is_an_empty_frame_with_the_columns(sqs, make_queue):
    frame = dlq.list_messages(make_queue("empty"), sqs=sqs)
    assert frame.empty
    assert list(frame.columns) == dlq.LIST_COLUMNS


@pytest.mark.engine
def test_inspect_of_a_missing_queue_says_so(sqs):
    with pytest.raises(QueueNotFound):
        dlq.list_messages("t-no-such-queue-anywhere", sqs=sqs)


# --- redrive -------------------------------------------------------------------------------------
@pytest.mark.engine
def test_redrive_with_a_move_task_returns_messages_to_their_source(sqs, pair):
    # GIVEN three messages dead-lettered from a source queue
    source, dlq_url = pair()
    for i in range(3):
        sqs.send_message(QueueUrl=source, MessageBody=f"m{i}")
    dead_letter(sqs, source, dlq_url, 3)
    notes: list[str] = []

    # WHEN the DLQ is redriven with no destination
    result = dlq.redrive(dlq_url, sqs=sqs, progress=notes.append)

    # THEN a move task moved all three, reported progress, and the DLQ is empty
    assert (result.method, result.status, result.moved) == ("move-task", "COMPLETED", 3)
    assert result.task_handle
    assert notes and "3/3" in notes[-1]
    assert count(sqs, dlq_url) == 0
    # AND the messages are back in the source queue
    assert sorted(m["Body"] for m in drain(sqs, source, 3)) == ["m0", "m1", "m2"]


@pytest.mark.engine
def test_redrive_to_a_chosen_destination(sqs, pair, make_queue):
    # GIVEN two dead-lettered messages and a separate queue to send them to
    source, dlq_url = pair()
    other = make_queue("retry")
    for i in range(2):
        sqs.send_message(QueueUrl=source, MessageBody=f"r{i}")
    dead_letter(sqs, source, dlq_url, 2)

    # WHEN the DLQ is redriven to that queue
    result = dlq.redrive(dlq_url, destination=other, sqs=sqs, progress=lambda _: None)

    # THEN they are there, not in the source, and the DLQ is empty
    assert (result.status, result.moved, result.destination_arn) == ("COMPLETED", 2, arn_of(sqs, other))
    assert sorted(m["Body"] for m in drain(sqs, other, 2)) == ["r0", "r1"]
    assert count(sqs, dlq_url) == 0
    assert count(sqs, source) == 0


@pytest.mark.engine
def test_redrive_that_outlasts_its_timeout_is_running_and_can_be_cancelled(sqs, pair, make_queue):
    # GIVEN a DLQ with five messages and a move task limited to 1 message per second
    source, dlq_url = pair()
    other = make_queue("slow")
    for i in range(5):
        sqs.send_message(QueueUrl=source, MessageBody=f"s{i}")
    dead_letter(sqs, source, dlq_url, 5)

    # WHEN redrive stops waiting before the task ends
    result = dlq.redrive(
        dlq_url, destination=other, sqs=sqs, max_messages_per_second=1, timeout_seconds=0.3,
        progress=lambda _: None,
    )  # fmt: skip

    # THEN the task is still running, and cancelling it leaves the rest in the DLQ
    assert result.status == "RUNNING"
    moved = dlq.cancel_redrive(result.task_handle, sqs=sqs)
    assert 0 <= moved < 5
    tasks = sqs.list_message_move_tasks(SourceArn=arn_of(sqs, dlq_url))["Results"]
    assert tasks[0]["Status"] in ("CANCELLING", "CANCELLED")
    assert count(sqs, dlq_url) + count(sqs, other) == 5


def test_fallback_mover_on_moto_reaches_the_same_end_state(moto_sqs, moto_pair):
    # GIVEN moto (no move tasks) and three dead-lettered messages
    source, dlq_url = moto_pair()
    for i in range(3):
        moto_sqs.send_message(QueueUrl=source, MessageBody=f"f{i}")
    dead_letter(moto_sqs, source, dlq_url, 3)
    notes: list[str] = []

    # WHEN the DLQ is redriven
    result = dlq.redrive(dlq_url, sqs=moto_sqs, progress=notes.append)

    # THEN the client-side mover did it: DLQ empty, messages back in the source
    assert (result.method, result.status, result.moved, result.failed) == ("fallback", "COMPLETED", 3, 0)
    assert any("client-side" in n for n in notes)
    assert count(moto_sqs, dlq_url) == 0
    assert sorted(m["Body"] for m in drain(moto_sqs, source, 3)) == ["f0", "f1", "f2"]


def test_fallback_mover_keeps_fifo_group_dedup_id_and_order(moto_sqs, moto_pair):
    # GIVEN a FIFO DLQ holding three messages of one group, and another FIFO queue
    source, dlq_url = moto_pair(fifo=True)
    target = moto_sqs.create_queue(QueueName="target.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    for i in range(3):  # one at a time, so the DLQ's order is step0, step1, step2
        moto_sqs.send_message(
            QueueUrl=source, MessageBody=f"step{i}", MessageGroupId="order-1", MessageDeduplicationId=f"d{i}"
        )
        dead_letter(moto_sqs, source, dlq_url, i + 1)

    # WHEN it is redriven to the other queue
    result = dlq.redrive(dlq_url, destination=target, sqs=moto_sqs, progress=lambda _: None)

    # THEN the messages arrive in order, with their group and deduplication ids
    assert (result.method, result.moved) == ("fallback", 3)
    got = drain(moto_sqs, target, 3)
    assert [m["Body"] for m in got] == ["step0", "step1", "step2"]
    assert {m["Attributes"]["MessageGroupId"] for m in got} == {"order-1"}
    assert [m["Attributes"]["MessageDeduplicationId"] for m in got] == ["d0", "d1", "d2"]


@pytest.mark.engine
def test_fifo_fallback_back_to_source_within_dedup_window_keeps_messages_in_the_dlq(sqs, pair):
    # GIVEN a FIFO message dead-lettered less than 5 minutes after it was sent
    source, dlq_url = pair(fifo=True)
    sqs.send_message(QueueUrl=source, MessageBody="once", MessageGroupId="g", MessageDeduplicationId="d-1")
    dead_letter(sqs, source, dlq_url, 1)

    # WHEN the client-side mover sends it back to the source (same deduplication id)
    result = dlq.redrive(dlq_url, sqs=sqs, method="fallback", progress=lambda _: None)

    # THEN the source's deduplication would have dropped it: the mover notices and leaves it in the DLQ
    assert (result.status, result.moved, result.failed) == ("FAILED", 0, 1)
    assert "duplicate" in (result.failure_reason or "")
    assert count(sqs, dlq_url) == 1


@pytest.mark.engine
def test_redrive_refuses_a_queue_that_is_not_a_dlq(sqs, make_queue):
    plain = make_queue("plain")
    sqs.send_message(QueueUrl=plain, MessageBody="stay")
    with pytest.raises(RedriveError, match="not a dead-letter queue"):
        dlq.redrive(plain, sqs=sqs, progress=lambda _: None)
    assert count(sqs, plain) == 1


@pytest.mark.engine
def test_redrive_refuses_a_missing_destination(sqs, pair):
    source, dlq_url = pair()
    sqs.send_message(QueueUrl=source, MessageBody="stay")
    dead_letter(sqs, source, dlq_url, 1)
    with pytest.raises(RedriveError, match="does not exist"):
        dlq.redrive(dlq_url, destination="t-nowhere-at-all", sqs=sqs, progress=lambda _: None)
    assert count(sqs, dlq_url) == 1


@pytest.mark.engine
def test_redrive_refuses_fifo_into_standard(sqs, pair, make_queue):
    _, fifo_dlq = pair(fifo=True)
    with pytest.raises(RedriveError, match="FIFO"):
        dlq.redrive(fifo_dlq, destination=make_queue("std"), sqs=sqs, progress=lambda _: None)


def test_redrive_refuses_standard_into_fifo_on_moto(moto_sqs, moto_pair):
    _, dlq_url = moto_pair()
    target = moto_sqs.create_queue(QueueName="t.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    with pytest.raises(RedriveError, match="FIFO"):
        dlq.redrive(dlq_url, destination=target, sqs=moto_sqs, progress=lambda _: None)


def test_redrive_rate_is_checked_before_any_request(moto_sqs):
    with pytest.raises(RedriveError, match="1–500"):
        dlq.redrive("dlq-that-is-never-looked-up", sqs=moto_sqs, max_messages_per_second=501)


# --- purge ---------------------------------------------------------------------------------------
@pytest.mark.engine
def test_purge_without_confirmation_says_how_many_would_be_lost(sqs, make_queue):
    # GIVEN a queue with three messages
    url = make_queue("purge")
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"p{i}")

    # WHEN purge is called without confirm THEN it refuses, naming the count and the way out
    with pytest.raises(ConfirmationRequired) as refused:
        dlq.purge(url, sqs=sqs)
    assert "3 message" in str(refused.value)
    assert "confirm=True" in str(refused.value)
    assert count(sqs, url) == 3

    # WHEN it is confirmed THEN the queue is empty and the count is returned
    assert dlq.purge(url, confirm=True, sqs=sqs) == 3
    assert count(sqs, url) == 0


def test_a_second_purge_within_60_seconds_is_a_clear_error(moto_sqs):
    url = moto_sqs.create_queue(QueueName="twice")["QueueUrl"]
    moto_sqs.send_message(QueueUrl=url, MessageBody="x")
    assert dlq.purge(url, confirm=True, sqs=moto_sqs) == 1
    with pytest.raises(PurgeInProgress, match="60"):
        dlq.purge(url, confirm=True, sqs=moto_sqs)


# --- CLI -----------------------------------------------------------------------------------------
@pytest.mark.engine
def test_cli_dlq_inspect_and_purge(sqs, make_queue, engine_state, capsys):
    url = make_queue("cli")
    sqs.send_message(QueueUrl=url, MessageBody="from-the-cli")
    endpoint = ["--endpoint", engine_state.endpoint]

    assert cli.main(["dlq", "inspect", url, *endpoint]) == 0
    assert "from-the-cli" in capsys.readouterr().out

    assert cli.main(["dlq", "purge", url, *endpoint]) == 2
    assert "--yes" in capsys.readouterr().err
    assert count(sqs, url) == 1

    assert cli.main(["dlq", "purge", url, "--yes", *endpoint]) == 0
    assert count(sqs, url) == 0


# --- with the lab's queue handles ----------------------------------------------------------------
@pytest.mark.engine
def test_inspect_and_redrive_take_the_handles_ensure_queue_returns(sqs, queue_name):
    from labsqs.queues import QueueSpec, delete_queue, ensure_queue

    # GIVEN a queue made by ensure_queue with a DLQ after 1 receive, and a message dead-lettered
    queue = ensure_queue(
        QueueSpec(queue_name("handle"), max_receive_count=1, receive_wait_seconds=0), sqs=sqs
    )
    try:
        assert queue.dlq is not None
        sqs.send_message(QueueUrl=queue.url, MessageBody="via-handle")
        dead_letter(sqs, queue.url, queue.dlq.url, 1)

        # WHEN the DLQ handle is inspected and redriven
        frame = dlq.list_messages(queue.dlq, sqs=sqs)
        result = dlq.redrive(queue.dlq, sqs=sqs, progress=lambda _: None)

        # THEN the message was seen with its source and went back to it
        assert list(frame["source_queue"]) == [queue.name]
        assert (result.status, result.moved) == ("COMPLETED", 1)
        assert [m["Body"] for m in drain(sqs, queue.url, 1)] == ["via-handle"]
    finally:
        delete_queue(queue, sqs=sqs, missing_ok=True)
