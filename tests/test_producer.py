"""Producer: what a user relies on when sending — results per message in input order, batching by 10
entries and 1 MiB, retries of only the failed entries, FIFO groups and dedup, and every bad message
refused before a single request, with the reason."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from labsqs.errors import BatchError, FifoError, InvalidMessage, MessageTooLarge, QueueNotFound
from labsqs.producer import (
    BatchReport,
    FailedEntry,
    SendResult,
    encode_body,
    message_attributes,
    message_size_bytes,
    send,
    send_many,
)
from labsqs.queues import Queue, QueueSpec, delete_queue, ensure_queue

ONE_MIB = 1_048_576


# --- helpers ------------------------------------------------------------------------------------
class NoRequests:
    """A client that fails the test if any request is made (validation must come first)."""

    def __getattr__(self, name: str):
        raise AssertionError(f"a request ({name}) was made before validation finished")


class CountingClient:
    """The real client, counting the requests made through it."""

    def __init__(self, sqs: Any) -> None:
        self._sqs = sqs
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str):
        method = getattr(self._sqs, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return method(*args, **kwargs)

        return call


class FlakyBatches(CountingClient):
    """The real client, except that chosen batch entries fail the first ``times`` attempts *without*
    reaching the queue — how SQS reports a partial batch failure. ``seen`` records each request's ids."""

    def __init__(self, sqs: Any, fail: dict[str, tuple[int, bool]]) -> None:
        super().__init__(sqs)
        self.fail = dict(fail)  # entry id -> (times to fail, sender_fault)
        self.seen: list[list[str]] = []

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        self.calls["send_message_batch"] += 1
        self.seen.append([e["Id"] for e in Entries])
        forward, failed = [], []
        for entry in Entries:
            times, sender_fault = self.fail.get(entry["Id"], (0, False))
            if times > 0:
                self.fail[entry["Id"]] = (times - 1, sender_fault)
                failed.append(
                    {
                        "Id": entry["Id"],
                        "SenderFault": sender_fault,
                        "Code": "InternalError",
                        "Message": "boom",
                    }
                )
            else:
                forward.append(entry)
        answer: dict[str, Any] = {"Successful": [], "Failed": failed}
        if forward:
            real = self._sqs.send_message_batch(QueueUrl=QueueUrl, Entries=forward)
            answer["Successful"] = real.get("Successful", [])
            answer["Failed"] += real.get("Failed", [])
        return answer


def drain(sqs: Any, url: str, expected: int, *, max_polls: int = 30) -> list[dict[str, Any]]:
    """Receive (and delete) messages until ``expected`` arrived or the queue stays empty."""
    got: list[dict[str, Any]] = []
    for _ in range(max_polls):
        answer = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1 if len(got) < expected else 0,  # once all arrived: one quick look for extras
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        batch = answer.get("Messages", [])
        if batch:
            got += batch
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
            )
        elif len(got) >= expected:
            break
    return got


@pytest.fixture
def standard(ensure, queue_name) -> Queue:
    return ensure(QueueSpec(queue_name("out"), visibility_timeout_seconds=2, receive_wait_seconds=0))


@pytest.fixture
def fifo(ensure, queue_name) -> Queue:
    return ensure(
        QueueSpec(queue_name("out", fifo=True), visibility_timeout_seconds=2, receive_wait_seconds=0)
    )


# --- bodies, attributes and sizes (pure) --------------------------------------------------------
@dataclasses.dataclass
class JobPosted:
    title: str
    company: str
    posted_at: datetime


def test_encode_body_keeps_text_and_serialises_structures():
    assert encode_body("as is") == "as is"
    assert json.loads(encode_body({"userId": "42", "tags": ["a"]})) == {"userId": "42", "tags": ["a"]}
    job = JobPosted("Engineer", "Zürich AG", datetime(2024, 1, 20, 10, 0, tzinfo=UTC))
    assert json.loads(encode_body(job)) == {
        "title": "Engineer",
        "company": "Zürich AG",
        "posted_at": "2024-01-20T10:00:00+00:00",
    }
    assert "Zürich" in encode_body(job)  # not \u-escaped: the size you see is the size SQS counts
    with pytest.raises(InvalidMessage, match="bytes"):
        encode_body(b"raw")


def test_sizes_are_utf8_bytes_including_attributes():
    assert message_size_bytes("abc") == 3
    assert message_size_bytes("é") == 2 and message_size_bytes("😀") == 4
    # name + data type + value, for each attribute
    assert message_size_bytes("x", {"kind": "job"}) == 1 + len("kind") + len("String") + len("job")
    assert message_size_bytes("x", {"n": 12, "b": b"\x00\x01"}) == 1 + (1 + 6 + 2) + (1 + 6 + 2)


def test_attribute_types_follow_python_types():
    wire = message_attributes({"type": "RESUME_UPDATE", "version": 2, "score": 0.5, "blob": b"\x01"})
    assert wire == {
        "type": {"DataType": "String", "StringValue": "RESUME_UPDATE"},
        "version": {"DataType": "Number", "StringValue": "2"},
        "score": {"DataType": "Number", "StringValue": "0.5"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x01"},
    }


# --- bad input: refused before any request, with the reason -------------------------------------
STD = Queue(
    name="std",
    url="http://127.0.0.1:4566/queue/us-east-1/000000000000/std",
    arn="a:std",
    fifo=False,
    max_message_size_bytes=ONE_MIB,
)
SMALL = dataclasses.replace(STD, max_message_size_bytes=1024)
FIFO_NO_CBD = Queue(
    name="f.fifo",
    url="http://127.0.0.1:4566/queue/us-east-1/000000000000/f.fifo",
    arn="a:f",
    fifo=True,
    content_based_dedup=False,
    max_message_size_bytes=ONE_MIB,
)
FIFO_URL = FIFO_NO_CBD.url

BAD_SENDS: list[tuple[str, Queue | str, Any, dict[str, Any], type[Exception], str]] = [
    ("empty body", STD, "", {}, InvalidMessage, "empty"),
    ("NUL at 3", STD, "abc\x00def", {}, InvalidMessage, "U\\+0000 at position 3"),
    ("lone surrogate", STD, "ok\ud800", {}, InvalidMessage, "U\\+D800 at position 2"),
    ("too large ascii", STD, "x" * (ONE_MIB + 1), {}, MessageTooLarge, "1,048,577 bytes.*limit is 1,048,576"),
    # 600,000 characters (under the limit in characters) are 1,200,000 bytes in UTF-8
    ("too large multibyte", STD, "é" * 600_000, {}, MessageTooLarge, "1,200,000 bytes"),
    (
        "queue limit",
        SMALL,
        "x" * 1000,
        {"attributes": {"a" * 20: "y" * 10}},
        MessageTooLarge,
        "1,036 bytes.*body 1,000 \\+ attributes 36.*limit is 1,024",
    ),
    ("attribute bool", STD, "x", {"attributes": {"urgent": True}}, InvalidMessage, "bool"),
    ("reserved attribute", STD, "x", {"attributes": {"AWS.trace": "1"}}, InvalidMessage, "reserves"),
    (
        "11 attributes",
        STD,
        "x",
        {"attributes": {f"a{i}": "v" for i in range(11)}},
        InvalidMessage,
        "at most 10",
    ),
    ("empty attribute", STD, "x", {"attributes": {"a": ""}}, InvalidMessage, "empty"),
    ("delay > 900", STD, "x", {"delay_seconds": 901}, InvalidMessage, "0–900"),
    ("dedup on standard", STD, "x", {"dedup_id": "d1"}, FifoError, "only applies to FIFO"),
    ("FIFO no group", FIFO_NO_CBD, "x", {"dedup_id": "d1"}, FifoError, "needs a MessageGroupId"),
    ("FIFO no dedup", FIFO_NO_CBD, "x", {"group_id": "g"}, FifoError, "no content-based deduplication"),
    ("FIFO URL no group", FIFO_URL, "x", {}, FifoError, "needs a MessageGroupId"),
    (
        "FIFO delay",
        FIFO_NO_CBD,
        "x",
        {"group_id": "g", "dedup_id": "d", "delay_seconds": 5},
        FifoError,
        "per-message delay",
    ),
    (
        "FIFO bad group id",
        FIFO_NO_CBD,
        "x",
        {"group_id": "ü", "dedup_id": "d"},
        FifoError,
        "ASCII punctuation",
    ),
    (
        "FIFO group id too long",
        FIFO_NO_CBD,
        "x",
        {"group_id": "g" * 129, "dedup_id": "d"},
        FifoError,
        "1–128",
    ),
]


@pytest.mark.parametrize(
    ("case", "queue", "body", "options", "error", "message"), BAD_SENDS, ids=[c[0] for c in BAD_SENDS]
)
def test_bad_messages_are_refused_before_any_request(case, queue, body, options, error, message):
    # WHEN a bad message is sent (with a client that must not be called)
    with pytest.raises(error, match=message):
        send(queue, body, sqs=NoRequests(), **options)  # type: ignore[arg-type]


def test_one_bad_message_stops_send_many_before_anything_is_sent():
    # GIVEN 30 good messages and one with a control character at position 4
    bodies = [f"job {i}" for i in range(30)] + ["bad \x07 one"]
    # WHEN sent as a batch THEN nothing is sent and the error names the message and the position
    with pytest.raises(InvalidMessage, match="message #30.*U\\+0007 at position 4"):
        send_many(STD, bodies, sqs=NoRequests())  # type: ignore[arg-type]


def test_fifo_send_many_needs_group_by_and_dedup_by_on_a_queue_without_content_dedup():
    with pytest.raises(FifoError, match="group_by=") as caught:
        send_many(FIFO_NO_CBD, [{"userId": 1}], dedup_by=lambda m: "d", sqs=NoRequests())  # type: ignore[arg-type]
    assert 'group_by=lambda m: m["userId"]' in (caught.value.hint or "")  # no hidden default group
    with pytest.raises(FifoError, match="no dedup_by= was given"):
        send_many(FIFO_NO_CBD, [{"userId": 1}], group_by=lambda m: m["userId"], sqs=NoRequests())  # type: ignore[arg-type]


# --- sending on the real engine -----------------------------------------------------------------
def test_send_returns_the_message_id_and_the_consumer_sees_body_and_typed_attributes(sqs, standard):
    # WHEN one dict is sent with three attribute types
    result = send(
        standard, {"title": "Engineer"}, attributes={"type": "JOB", "n": 3, "raw": b"\x00"}, sqs=sqs
    )
    # THEN SQS's id comes back, and the consumer reads the JSON body and the typed attributes
    assert isinstance(result, SendResult) and result.id == "0" and result.sequence_number is None
    (message,) = drain(sqs, standard.url, 1)
    assert message["MessageId"] == result.message_id and message["MD5OfBody"] == result.md5_of_body
    assert json.loads(message["Body"]) == {"title": "Engineer"}
    attrs = message["MessageAttributes"]
    assert attrs["type"] == {"DataType": "String", "StringValue": "JOB"}
    assert attrs["n"] == {"DataType": "Number", "StringValue": "3"}
    assert attrs["raw"] == {"DataType": "Binary", "BinaryValue": b"\x00"}


def test_send_many_batches_by_ten_and_reports_in_input_order(sqs, standard):
    seen: list[tuple[int, int]] = []
    client = CountingClient(sqs)
    # WHEN 25 messages are sent through a Queue handle
    report = send_many(
        standard, [{"i": i} for i in range(25)], sqs=client, progress=lambda *a: seen.append(a)
    )
    # THEN 3 batch requests (10+10+5), no other request, one result per message in input order
    assert isinstance(report, BatchReport) and report.ok and report.count == 25
    assert (report.requests, report.retried) == (3, 0)
    assert client.calls == Counter({"send_message_batch": 3})
    assert [r.id for r in report.sent] == [str(i) for i in range(25)]
    assert seen == [(10, 25), (20, 25), (25, 25)]
    # AND every message arrived once, with the ids the report gave
    received = drain(sqs, standard.url, 25)
    assert sorted(m["MessageId"] for m in received) == sorted(r.message_id for r in report.sent)
    assert sorted(json.loads(m["Body"])["i"] for m in received) == list(range(25))


def test_send_many_to_a_url_asks_for_the_queue_limits_once(sqs, standard):
    client = CountingClient(sqs)
    report = send_many(standard.url, ["a", "b", "c"], sqs=client)
    assert report.ok
    assert client.calls == Counter({"get_queue_attributes": 1, "send_message_batch": 1})
    drain(sqs, standard.url, 3)


def test_batches_split_by_one_mib_total(sqs, standard):
    # GIVEN 4 messages of 300,000 bytes: three fit in 1 MiB, the fourth does not
    bodies = [str(i) * 300_000 for i in range(4)]
    # WHEN sent
    report = send_many(standard, bodies, sqs=sqs)
    # THEN two requests carried them (3 + 1) and all four arrived
    assert report.ok and report.requests == 2
    assert sorted(len(m["Body"]) for m in drain(sqs, standard.url, 4)) == [300_000] * 4


def test_the_queue_size_limit_is_checked_locally(sqs, ensure, queue_name):
    # GIVEN a queue with a 1 KiB MaximumMessageSize
    small = ensure(QueueSpec(queue_name("small"), max_message_size_bytes=1024, with_dlq=False))
    # WHEN a 1,025-byte message is part of a send_many THEN it is refused before sending
    with pytest.raises(MessageTooLarge, match="message #1 is 1,025 bytes.*limit is 1,024"):
        send_many(small.url, ["ok", "x" * 1025], sqs=sqs)
    assert (
        int(
            sqs.get_queue_attributes(QueueUrl=small.url, AttributeNames=["All"])["Attributes"][
                "ApproximateNumberOfMessages"
            ]
        )
        == 0
    )


# --- partial failures ---------------------------------------------------------------------------
def test_only_the_failed_entries_are_retried(sqs, standard):
    # GIVEN a batch where entries 1 and 3 fail once (not the sender's fault)
    client = FlakyBatches(sqs, {"1": (1, False), "3": (1, False)})
    # WHEN 5 messages are sent
    report = send_many(standard, [f"m{i}" for i in range(5)], sqs=client)
    # THEN the retry request carried just those two, and the report is complete and in order
    assert client.seen == [["0", "1", "2", "3", "4"], ["1", "3"]]
    assert report.ok and (report.requests, report.retried) == (2, 2)
    assert [r.id for r in report.sent] == ["0", "1", "2", "3", "4"]
    # AND each message is in the queue exactly once
    assert sorted(m["Body"] for m in drain(sqs, standard.url, 5)) == [f"m{i}" for i in range(5)]


def test_sender_fault_failures_are_reported_not_retried(sqs, standard):
    client = FlakyBatches(sqs, {"2": (99, True)})
    report = send_many(standard, ["a", "b", "c", "d"], sqs=client)
    assert (report.requests, report.retried) == (1, 0)
    assert report.failed == (FailedEntry("2", "InternalError", "boom", True),)
    assert not report.ok and report.count == 4 and [r.id for r in report.sent] == ["0", "1", "3"]
    with pytest.raises(BatchError, match="1 of 4 messages were not sent: #2 InternalError"):
        report.raise_for_failures()
    drain(sqs, standard.url, 3)


def test_retries_are_bounded_by_max_retries(sqs, standard):
    client = FlakyBatches(sqs, {"0": (99, False)})
    report = send_many(standard, ["a", "b"], sqs=client, max_retries=2)
    assert client.seen == [["0", "1"], ["0"], ["0"]]
    assert (report.requests, report.retried) == (3, 2)
    assert [f.id for f in report.failed] == ["0"] and not report.failed[0].sender_fault
    drain(sqs, standard.url, 1)


def test_partial_failure_with_botocore_stubber():
    # GIVEN SQS answers the first batch with one retryable failure, then accepts the retry
    client = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/jobs"
    queue = Queue(
        "jobs", url, "arn:aws:sqs:us-east-1:123456789012:jobs", False, max_message_size_bytes=ONE_MIB
    )
    md5 = "0" * 32
    with Stubber(client) as stub:
        stub.add_response(
            "send_message_batch",
            {
                "Successful": [{"Id": "0", "MessageId": "m-0", "MD5OfMessageBody": md5}],
                "Failed": [
                    {"Id": "1", "SenderFault": False, "Code": "ServiceUnavailable", "Message": "busy"}
                ],
            },
            {"QueueUrl": url, "Entries": [{"Id": "0", "MessageBody": "a"}, {"Id": "1", "MessageBody": "b"}]},
        )
        stub.add_response(
            "send_message_batch",
            {"Successful": [{"Id": "1", "MessageId": "m-1", "MD5OfMessageBody": md5}], "Failed": []},
            {"QueueUrl": url, "Entries": [{"Id": "1", "MessageBody": "b"}]},  # only the failed entry
        )
        # WHEN sent
        report = send_many(queue, ["a", "b"], sqs=client)
        stub.assert_no_pending_responses()
    # THEN both are reported sent, in input order
    assert [(r.id, r.message_id) for r in report.sent] == [("0", "m-0"), ("1", "m-1")]
    assert (report.requests, report.retried) == (2, 1)


def test_a_vanished_queue_raises_queue_not_found_with_the_partial_report(sqs, queue_name):
    queue = ensure_queue(QueueSpec(queue_name("vanish"), with_dlq=False), sqs=sqs)
    delete_queue(queue, sqs=sqs)
    with pytest.raises(QueueNotFound) as caught:
        send_many(queue, ["a"], sqs=sqs)
    assert caught.value.report.requests == 0  # type: ignore[attr-defined]


# --- FIFO ---------------------------------------------------------------------------------------
def test_fifo_dedup_through_send_many(sqs, fifo):
    # GIVEN three updates, two of them the same logical update (same id)
    updates = [{"userId": "u1", "id": "a"}, {"userId": "u2", "id": "b"}, {"userId": "u1", "id": "a"}]
    # WHEN sent with an explicit dedup id per update
    report = send_many(fifo, updates, group_by=lambda m: m["userId"], dedup_by=lambda m: m["id"], sqs=sqs)
    # THEN SQS accepted all three calls, answering the duplicate with the first message's id
    assert report.ok and all(r.sequence_number for r in report.sent)
    assert report.sent[2].message_id == report.sent[0].message_id
    # AND the queue holds two messages
    assert sorted(m["Body"] for m in drain(sqs, fifo.url, 2)) == sorted(json.dumps(u) for u in updates[:2])


def test_group_by_gives_one_ordered_group_per_user(sqs, fifo):
    # GIVEN updates of three users, interleaved (the seed's "one group per user")
    updates = [{"userId": f"user-{i % 3}", "seq": i} for i in range(12)]
    # WHEN sent with group_by
    report = send_many(
        fifo, updates, group_by=lambda m: m["userId"], dedup_by=lambda m: f"{m['userId']}-{m['seq']}", sqs=sqs
    )
    assert report.ok and report.requests == 2
    # THEN each message carries its user's group, and within a group the order is the sending order
    received = drain(sqs, fifo.url, 12)
    by_group: dict[str, list[int]] = {}
    for m in received:
        body = json.loads(m["Body"])
        assert m["Attributes"]["MessageGroupId"] == body["userId"]
        by_group.setdefault(body["userId"], []).append(body["seq"])
    assert by_group == {f"user-{u}": list(range(u, 12, 3)) for u in range(3)}


def test_content_based_dedup_queue_needs_no_dedup_id(sqs, ensure, queue_name):
    queue = ensure(QueueSpec(queue_name("cbd", fifo=True), content_based_dedup=True, receive_wait_seconds=0))
    # WHEN the same body is sent twice, by URL (the producer learns the queue dedups by content)
    report = send_many(queue.url, ["same", "same", "other"], group_by="all", sqs=sqs)
    # THEN the second copy is dropped by SQS
    assert report.ok
    assert sorted(m["Body"] for m in drain(sqs, queue.url, 2)) == ["other", "same"]
    # AND a single send works without dedup_id too
    assert send(queue, "third", group_id="all", sqs=sqs).sequence_number


def test_fifo_send_by_url_without_dedup_is_explained(sqs, fifo):
    # a URL does not say whether the queue dedups by content: SQS's refusal is translated, no extra request
    client = CountingClient(sqs)
    with pytest.raises(FifoError, match="no content-based deduplication"):
        send(fifo.url, "x", group_id="g", sqs=client)
    assert client.calls == Counter({"send_message": 1})
