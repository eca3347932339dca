"""The Lambda-style trigger on the real engine: the event and context a Lambda function gets, batch size,
settling with and without ReportBatchItemFailures, and Powertools batch handlers running unchanged."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid

import pytest
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes import SQSEvent
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from labsqs.errors import InvalidConsumerOption
from labsqs.trigger import failed_ids, run_trigger

pytestmark = pytest.mark.engine

WAIT = 1


def send(sqs, url: str, bodies: list[str], group: str | None = None, **extra) -> list[str]:
    entries = []
    for i, body in enumerate(bodies):
        entry = {"Id": str(i), "MessageBody": body, **extra}
        if group is not None:
            entry["MessageGroupId"] = group
        entries.append(entry)
    resp = sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert not resp.get("Failed"), resp.get("Failed")
    return [s["MessageId"] for s in sorted(resp["Successful"], key=lambda s: int(s["Id"]))]


def visible(sqs, url: str) -> list[dict]:
    """Everything visible now (hidden for 30 s so each is counted once), with system attributes."""
    out: list[dict] = []
    while True:
        msgs = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=WAIT,
            VisibilityTimeout=30,
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        if not msgs:
            return out
        out.extend(msgs)


def come_back(sqs, url: str, count: int, seconds: float = 5.0) -> list[dict]:
    """Receive until ``count`` messages came back (their visibility ran out) or ``seconds`` passed."""
    got: list[dict] = []
    deadline = time.monotonic() + seconds
    while len(got) < count and time.monotonic() < deadline:
        got.extend(visible(sqs, url))
    return got


def arn_of(sqs, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def queue_with_dlq(sqs, make_queue, *, fifo: bool = False, max_receive_count: int = 2) -> tuple[str, str]:
    extra = {"ContentBasedDeduplication": "true"} if fifo else {}
    dlq = make_queue("dlq", fifo=fifo, **extra)
    redrive = json.dumps({"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": str(max_receive_count)})
    return make_queue("src", fifo=fifo, VisibilityTimeout="1", RedrivePolicy=redrive, **extra), dlq


# --- the event and the context ----------------------------------------------------------------------
def test_handler_gets_lambdas_sqs_event_shape_and_a_context(sqs, make_queue):
    # GIVEN a message with String and Binary attributes
    url = make_queue("shape")
    body = '{"title": "Software Engineer"}'
    sqs.send_message(
        QueueUrl=url,
        MessageBody=body,
        MessageAttributes={
            "MessageType": {"DataType": "String", "StringValue": "RESUME_UPDATE"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
        },
    )
    got: list[tuple[dict, object]] = []

    # WHEN the trigger invokes a handler with it
    stats = run_trigger(url, lambda e, c: got.append((e, c)), sqs=sqs, idle_polls=1, wait_time_seconds=WAIT)

    # THEN the event is Lambda's: one record with every field a Lambda SQS record has
    ((event, context),) = got
    (record,) = event["Records"]
    assert set(record) >= {
        "messageId", "receiptHandle", "body", "attributes", "messageAttributes",
        "md5OfBody", "eventSource", "eventSourceARN", "awsRegion",
    }  # fmt: skip
    assert record["body"] == body and record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == arn_of(sqs, url) and record["awsRegion"] == "us-east-1"
    assert record["md5OfBody"] == hashlib.md5(body.encode()).hexdigest()  # noqa: S324 - SQS's checksum
    assert set(record["attributes"]) >= {
        "ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp",
    }  # fmt: skip
    assert record["messageAttributes"]["MessageType"] == {
        "stringValue": "RESUME_UPDATE", "binaryValue": None,
        "stringListValues": [], "binaryListValues": [], "dataType": "String",
    }  # fmt: skip
    assert base64.b64decode(record["messageAttributes"]["blob"]["binaryValue"]) == b"\x00\xff"
    # AND Powertools' data classes read it
    parsed = next(iter(SQSEvent(event).records))
    assert parsed.json_body == {"title": "Software Engineer"}
    assert parsed.message_attributes["MessageType"].string_value == "RESUME_UPDATE"
    assert parsed.attributes.approximate_receive_count == "1" and parsed.queue_url.endswith(
        url.rsplit("/")[-1]
    )
    # AND the context carries what handlers use
    assert context.function_name == "labsqs-handler" and uuid.UUID(context.aws_request_id)
    assert 0 < context.get_remaining_time_in_millis() <= 30_000
    assert context.invoked_function_arn.endswith(":function:labsqs-handler")
    # AND returning None is success: the message was deleted
    assert (stats.invocations, stats.succeeded, stats.deleted) == (1, 1, 1)
    assert visible(sqs, url) == []


def test_fifo_records_carry_group_dedup_and_sequence(sqs, make_queue):
    url = make_queue("fifo-shape", fifo=True, ContentBasedDeduplication="true")
    send(sqs, url, ["x"], group="user-1")
    events: list[dict] = []
    run_trigger(url, lambda e, c: events.append(e), sqs=sqs, idle_polls=1, wait_time_seconds=WAIT)
    attrs = events[0]["Records"][0]["attributes"]
    assert attrs["MessageGroupId"] == "user-1"
    assert attrs["MessageDeduplicationId"] == hashlib.sha256(b"x").hexdigest()  # content-based
    assert attrs["SequenceNumber"].isdigit()


def test_batch_size_caps_the_records_per_invocation(sqs, make_queue):
    # GIVEN seven messages WHEN triggered with batch_size=3 (the seed's mapping used 1)
    url = make_queue("batch")
    ids = send(sqs, url, [f"job-{i}" for i in range(7)])
    sizes: list[int] = []
    seen: list[str] = []

    def handler(event, context):
        sizes.append(len(event["Records"]))
        seen.extend(r["messageId"] for r in event["Records"])

    stats = run_trigger(url, handler, batch_size=3, sqs=sqs, idle_polls=1, wait_time_seconds=WAIT)
    # THEN no event had more than 3 records, and every message was delivered once
    assert max(sizes) <= 3 and sorted(seen) == sorted(ids)
    assert stats.invocations == len(sizes) >= 3 and stats.deleted == 7


# --- settling -------------------------------------------------------------------------------------
def test_without_report_batch_item_failures_a_raise_fails_the_whole_batch(sqs, make_queue):
    # GIVEN three messages and a function that handles two and then raises on the third
    url = make_queue("whole", VisibilityTimeout="30")
    send(sqs, url, ["a", "b", "boom"])
    handled: list[str] = []

    def handler(event, context):
        for r in event["Records"]:
            if r["body"] == "boom":
                raise RuntimeError("boom")
            handled.append(r["body"])

    stats = run_trigger(
        url, handler, report_batch_item_failures=False, sqs=sqs, max_batches=1, wait_time_seconds=WAIT
    )
    # THEN nothing was deleted: the messages already handled come back too
    assert stats.handler_errors == 1 and stats.deleted == 0 and stats.failed == stats.records
    in_flight = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )
    assert in_flight["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == str(stats.records)


def test_without_report_batch_item_failures_a_partial_response_is_ignored(sqs, make_queue):
    # GIVEN a function returning batchItemFailures, but a mapping without ReportBatchItemFailures
    url = make_queue("ignored")
    ids = send(sqs, url, ["a", "b"])
    response = {"batchItemFailures": [{"itemIdentifier": ids[0]}]}
    stats = run_trigger(
        url,
        lambda e, c: response,
        report_batch_item_failures=False,
        sqs=sqs,
        idle_polls=1,
        wait_time_seconds=WAIT,
    )
    # THEN success means success: everything is deleted
    assert stats.deleted == 2 and stats.failed == 0 and visible(sqs, url) == []


def test_report_batch_item_failures_deletes_all_but_the_reported(sqs, make_queue):
    # GIVEN three messages and a function reporting one failure
    url = make_queue("partial", VisibilityTimeout="1")
    ids = send(sqs, url, ["ok-1", "bad", "ok-2"])

    def handler(event, context):
        bad = [r["messageId"] for r in event["Records"] if r["body"] == "bad"]
        return {"batchItemFailures": [{"itemIdentifier": i} for i in bad]}

    stats = run_trigger(url, handler, sqs=sqs, max_batches=1, wait_time_seconds=WAIT, batch_size=10)
    # THEN only the reported one stays; it comes back after the visibility timeout with a higher count
    assert stats.failed_message_ids and set(stats.failed_message_ids) == {ids[1]}
    assert stats.deleted == stats.records - 1
    back = come_back(sqs, url, 1)
    assert [m["MessageId"] for m in back] == [ids[1]]
    assert back[0]["Attributes"]["ApproximateReceiveCount"] == "2"


def test_an_unreadable_partial_response_fails_the_whole_batch(sqs, make_queue):
    url = make_queue("invalid", VisibilityTimeout="30")
    send(sqs, url, ["a", "b"])
    bogus = {"batchItemFailures": [{"itemIdentifier": "not-a-message-in-this-batch"}]}
    stats = run_trigger(url, lambda e, c: bogus, sqs=sqs, max_batches=1, wait_time_seconds=WAIT)
    assert stats.invalid_responses == 1 and stats.deleted == 0 and stats.failed == stats.records


def test_lambdas_rules_for_reading_a_partial_response():
    ids = ["m1", "m2"]
    ok = {"report_batch_item_failures": True}
    assert failed_ids(None, ids, **ok) == (set(), True)
    assert failed_ids({}, ids, **ok) == (set(), True)
    assert failed_ids({"batchItemFailures": []}, ids, **ok) == (set(), True)
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": "m2"}]}, ids, **ok) == ({"m2"}, True)
    for bad in (
        [{"itemIdentifier": ""}],
        [{"itemIdentifier": None}],
        [{"id": "m1"}],
        [{"itemIdentifier": "x"}],
    ):
        assert failed_ids({"batchItemFailures": bad}, ids, **ok) == ({"m1", "m2"}, False)
    assert failed_ids("ok", ids, **ok) == ({"m1", "m2"}, False)


def test_trigger_options_are_checked_before_any_request():
    bad_options = (
        {"batch_size": 0}, {"batch_size": 11}, {"wait_time_seconds": 21}, {"idle_polls": 0},
        {"max_batches": 0}, {"function_timeout_seconds": 0},
    )  # fmt: skip
    for bad in bad_options:
        with pytest.raises(InvalidConsumerOption):
            run_trigger("http://127.0.0.1:1/q", lambda e, c: None, sqs=object(), **bad)


# --- Powertools handlers, unchanged ------------------------------------------------------------------
def test_powertools_batch_processor_handler_runs_unchanged_and_poison_ends_in_dlq(sqs, make_queue):
    # GIVEN a Lambda handler written with Powertools' BatchProcessor, exactly as for AWS
    processor = BatchProcessor(event_type=EventType.SQS)
    handled: list[str] = []

    def record_handler(record: SQSRecord) -> None:
        job = record.json_body
        if job["title"] == "poison":
            raise ValueError("cannot parse this job")
        handled.append(job["title"])

    def lambda_handler(event, context):
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    # AND a queue with maxReceiveCount 2 holding one poison job among good ones
    url, dlq = queue_with_dlq(sqs, make_queue)
    send(sqs, url, [json.dumps({"title": t}) for t in ("engineer", "poison", "analyst")])

    # WHEN the trigger runs it until the queue is idle
    stats = run_trigger(url, lambda_handler, sqs=sqs, idle_polls=4, wait_time_seconds=WAIT)

    # THEN the good jobs were handled once, the poison was reported twice and then moved to the DLQ
    assert sorted(handled) == ["analyst", "engineer"]
    assert stats.failed == 2 and stats.deleted == 2
    assert [json.loads(m["Body"])["title"] for m in visible(sqs, dlq)] == ["poison"]
    assert visible(sqs, url) == []


@pytest.mark.parametrize("skip_group_on_error", [False, True], ids=["stop-batch", "skip-group"])
def test_powertools_fifo_processor_keeps_group_order_after_a_failure(sqs, make_queue, skip_group_on_error):
    # GIVEN a FIFO Lambda handler on Powertools' SqsFifoPartialProcessor; a2 fails on its first attempt
    processor = SqsFifoPartialProcessor(skip_group_on_error=skip_group_on_error)
    attempts: list[str] = []
    done: list[str] = []
    reported: list[list[str]] = []  # per invocation: bodies reported as failed
    batches: list[list[str]] = []  # per invocation: bodies in the event

    def record_handler(record: SQSRecord) -> None:
        attempts.append(record.body)
        if record.body == "a2" and attempts.count("a2") == 1:
            raise RuntimeError("a2 fails once")
        done.append(record.body)

    def lambda_handler(event, context):
        response = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
        by_id = {r["messageId"]: r["body"] for r in event["Records"]}
        batches.append(list(by_id.values()))
        reported.append([by_id[f["itemIdentifier"]] for f in response["batchItemFailures"]])
        return response

    url = make_queue("fifo-pt", fifo=True, ContentBasedDeduplication="true", VisibilityTimeout="1")
    send(sqs, url, ["a1", "a2", "a3"], group="A")
    send(sqs, url, ["b1", "b2"], group="B")

    # WHEN the trigger runs it until the queue is idle
    run_trigger(url, lambda_handler, sqs=sqs, idle_polls=4, wait_time_seconds=WAIT)

    # THEN the first failure report holds a2 and the rest of its group (skip-group) or of the batch
    first_batch = next(b for b in batches if "a2" in b)
    first = reported[batches.index(first_batch)]
    if skip_group_on_error:
        assert first == ["a2", "a3"]  # only group A is held back; group B went on
    else:
        assert first == first_batch[first_batch.index("a2") :]  # the rest of the batch, whatever group
    # AND in the end every message was processed once, each group in order
    assert [b for b in done if b[0] == "a"] == ["a1", "a2", "a3"]
    assert [b for b in done if b[0] == "b"] == ["b1", "b2"]
    assert visible(sqs, url) == []


def test_seed_flow_python_producer_to_triggered_handler(sqs, queue_name):
    """Seed 2: a Python producer sends one message per job; AWS triggers the handler (batch_size=1)."""
    from labsqs.producer import send_many
    from labsqs.queues import QueueSpec, delete_queue, ensure_queue

    queue = ensure_queue(QueueSpec(queue_name("jobs-to-filter"), visibility_timeout_seconds=60), sqs=sqs)
    try:
        jobs = [{"title": f"job {i}", "company": "ACME"} for i in range(5)]
        send_many(queue, jobs, sqs=sqs)
        seen: list[dict] = []

        def handle_sqs_event(event, context):
            for record in event["Records"]:
                seen.append(json.loads(record["body"]))

        stats = run_trigger(
            queue, handle_sqs_event, batch_size=1, sqs=sqs, idle_polls=1, wait_time_seconds=WAIT
        )
        assert sorted(j["title"] for j in seen) == sorted(j["title"] for j in jobs)
        assert stats.invocations == 5 and stats.deleted == 5
    finally:
        delete_queue(queue, sqs=sqs, missing_ok=True)
