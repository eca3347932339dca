"""Queues: ensure_queue builds queue + DLQ + redrive policies, idempotently; attributes come back typed;
bad specs are refused before any request, with an error that says what to change."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from labsqs.errors import InvalidAttribute, InvalidQueueName, QueueAttributesMismatch, QueueNotFound
from labsqs.queues import (
    QueueAttributes,
    QueueSpec,
    RedriveAllowPolicy,
    RedrivePolicy,
    delete_queue,
    ensure_queue,
    get_queue,
    queue_attributes,
    queue_url,
    validate_queue_name,
    validate_spec,
)


class NoRequests:
    """A client that fails the test if any request is made (validation must come first)."""

    def __getattr__(self, name: str):
        raise AssertionError(f"a request ({name}) was made before validation finished")


def raw_attributes(sqs, url: str) -> dict[str, str]:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


# --- ensure_queue on the real engine ------------------------------------------------------------
def test_ensure_queue_creates_queue_and_dlq_wired_by_both_policies(sqs, ensure, queue_name):
    # GIVEN the seed's queue: 60 s visibility, 1 day retention, DLQ after 3 receives
    spec = QueueSpec(queue_name("jobs"))
    # WHEN it is ensured
    queue = ensure(spec)
    # THEN the queue has the spec's attributes and a RedrivePolicy pointing at <name>-dlq
    main = raw_attributes(sqs, queue.url)
    assert main["VisibilityTimeout"] == "60"
    assert main["MessageRetentionPeriod"] == "86400"
    assert main["ReceiveMessageWaitTimeSeconds"] == "20"
    redrive = json.loads(main["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == queue.dlq_arn
    assert int(redrive["maxReceiveCount"]) == 3
    # AND the DLQ keeps messages 14 days and allows exactly this queue as its source
    assert queue.dlq is not None and queue.dlq.name == f"{spec.name}-dlq"
    dlq = raw_attributes(sqs, queue.dlq.url)
    assert dlq["MessageRetentionPeriod"] == "1209600"
    allow = json.loads(dlq["RedriveAllowPolicy"])
    assert allow == {"redrivePermission": "byQueue", "sourceQueueArns": [queue.arn]}


def test_fifo_queue_gets_a_fifo_dlq_and_its_fifo_options(sqs, ensure, queue_name):
    # GIVEN a high-throughput FIFO spec with content-based deduplication
    spec = QueueSpec(queue_name("updates", fifo=True), content_based_dedup=True, high_throughput=True)
    # WHEN it is ensured
    queue = ensure(spec)
    # THEN queue and DLQ are FIFO, and the DLQ is named <base>-dlq.fifo
    assert queue.fifo and queue.dlq is not None and queue.dlq.fifo
    assert queue.dlq.name == spec.name.removesuffix(".fifo") + "-dlq.fifo"
    assert raw_attributes(sqs, queue.dlq.url)["FifoQueue"] == "true"
    attrs = queue_attributes(queue, sqs=sqs)
    assert attrs.fifo and attrs.content_based_dedup and attrs.high_throughput
    # AND the handle tells the producer about dedup and size without another request
    assert queue.content_based_dedup is True and queue.max_message_size_bytes == 1_048_576


def test_ensure_queue_is_idempotent(sqs, ensure, queue_name):
    # GIVEN a queue ensured once
    spec = QueueSpec(queue_name("again"), visibility_timeout_seconds=2, tags={"lab": "labsqs"})
    first = ensure(spec)
    before = raw_attributes(sqs, first.url)
    # WHEN it is ensured again
    second = ensure_queue(spec, sqs=sqs)
    # THEN the same handle comes back and nothing changed
    assert second == first
    assert raw_attributes(sqs, second.url) == before
    assert sqs.list_queue_tags(QueueUrl=first.url)["Tags"] == {"lab": "labsqs"}


def test_ensure_queue_refuses_other_attributes_and_names_each_difference(sqs, ensure, queue_name):
    # GIVEN a queue with a 2 s visibility timeout and maxReceiveCount 3
    name = queue_name("differs")
    queue = ensure(QueueSpec(name, visibility_timeout_seconds=2))
    # WHEN it is ensured with 30 s, 5 receives and a 2-day retention
    with pytest.raises(QueueAttributesMismatch) as caught:
        ensure_queue(
            QueueSpec(name, visibility_timeout_seconds=30, max_receive_count=5, retention_seconds=172_800),
            sqs=sqs,
        )
    # THEN the error lists exactly those three differences, with both values
    err = caught.value
    assert sorted(d.split(":")[0] for d in err.differences) == [
        "MessageRetentionPeriod",
        "RedrivePolicy.maxReceiveCount",
        "VisibilityTimeout",
    ]
    assert "VisibilityTimeout: queue has 2, spec wants 30" in str(err)
    assert "delete" in err.hint
    # AND the existing queue was left alone
    assert raw_attributes(sqs, queue.url)["VisibilityTimeout"] == "2"


def test_existing_queue_without_dlq_is_a_mismatch_not_silently_reused(sqs, make_queue, queue_name):
    # GIVEN a queue someone created by hand, without a DLQ
    url = make_queue("bare")
    name = url.rsplit("/", 1)[-1]
    # WHEN the lab ensures it with the default spec (DLQ wanted)
    with pytest.raises(QueueAttributesMismatch) as caught:
        ensure_queue(QueueSpec(name, visibility_timeout_seconds=30, receive_wait_seconds=0), sqs=sqs)
    # THEN the missing redrive policy and the missing DLQ are named; no DLQ was created
    text = str(caught.value)
    assert "RedrivePolicy: queue has none" in text and f"DLQ {name}-dlq: missing" in text
    with pytest.raises(QueueNotFound):
        queue_url(f"{name}-dlq", sqs=sqs)


def test_queue_without_dlq_when_asked(sqs, ensure, queue_name):
    queue = ensure(QueueSpec(queue_name("nodlq"), with_dlq=False))
    assert queue.dlq is None
    assert "RedrivePolicy" not in raw_attributes(sqs, queue.url)


# --- attributes ---------------------------------------------------------------------------------
def test_queue_attributes_are_typed(sqs, ensure, queue_name):
    # GIVEN a queue with one waiting message and one delayed message
    queue = ensure(QueueSpec(queue_name("typed"), visibility_timeout_seconds=5, max_receive_count=4))
    sqs.send_message(QueueUrl=queue.url, MessageBody="now")
    sqs.send_message(QueueUrl=queue.url, MessageBody="later", DelaySeconds=60)
    # WHEN its attributes are read
    attrs = queue_attributes(queue.url, sqs=sqs)
    # THEN numbers are ints, policies are dataclasses, timestamps are aware datetimes
    assert isinstance(attrs, QueueAttributes)
    assert attrs.visibility_timeout_seconds == 5 and attrs.max_message_size_bytes == 1_048_576
    assert attrs.redrive_policy == RedrivePolicy(queue.dlq_arn or "", 4)
    assert attrs.redrive_policy.dlq_name == queue.dlq.name  # type: ignore[union-attr]
    assert (attrs.approximate_number_of_messages, attrs.approximate_number_of_messages_delayed) == (1, 1)
    assert attrs.approximate_number_of_messages_not_visible == 0
    assert isinstance(attrs.created_at, datetime) and attrs.created_at.tzinfo == UTC
    assert abs((datetime.now(UTC) - attrs.created_at).total_seconds()) < 3600
    assert attrs.fifo is False and attrs.content_based_dedup is False
    assert attrs.raw["VisibilityTimeout"] == "5"
    # AND the DLQ's allow policy parses too
    dlq_attrs = queue_attributes(queue.dlq, sqs=sqs)  # type: ignore[arg-type]
    assert dlq_attrs.redrive_allow_policy == RedriveAllowPolicy("byQueue", (queue.arn,))
    assert dlq_attrs.redrive_allow_policy.allows(queue.arn)  # type: ignore[union-attr]


def test_get_queue_finds_the_dlq_and_explains_a_missing_queue(sqs, ensure, queue_name):
    queue = ensure(QueueSpec(queue_name("lookup")))
    # WHEN looked up by name THEN the handle equals ensure_queue's, DLQ included
    assert get_queue(queue.name, sqs=sqs) == queue
    # WHEN a queue does not exist THEN QueueNotFound says how to create it
    with pytest.raises(QueueNotFound, match="does not exist") as caught:
        get_queue(queue_name("missing"), sqs=sqs)
    assert "ensure_queue" in (caught.value.hint or "")


# --- delete -------------------------------------------------------------------------------------
def test_delete_queue_removes_queue_and_its_dlq(sqs, queue_name):
    queue = ensure_queue(QueueSpec(queue_name("gone")), sqs=sqs)
    # WHEN deleted by URL (the DLQ is found through the RedrivePolicy)
    delete_queue(queue.url, sqs=sqs)
    # THEN both are gone; deleting again raises unless missing_ok
    for name in (queue.name, f"{queue.name}-dlq"):
        with pytest.raises(QueueNotFound):
            queue_url(name, sqs=sqs)
    with pytest.raises(QueueNotFound):
        delete_queue(queue.url, sqs=sqs)
    delete_queue(queue.url, sqs=sqs, missing_ok=True)


def test_delete_queue_keeps_a_dlq_other_queues_still_use(sqs, ensure, make_queue, queue_name):
    # GIVEN a DLQ shared by a second source queue
    queue = ensure(QueueSpec(queue_name("owner")))
    policy = RedrivePolicy(queue.dlq_arn or "", 2).to_json()
    sqs.set_queue_attributes(
        QueueUrl=queue.dlq_url,
        Attributes={"RedriveAllowPolicy": RedriveAllowPolicy("allowAll").to_json()},
    )
    other = make_queue("sharer", RedrivePolicy=policy)
    # WHEN the first queue is deleted with its DLQ
    delete_queue(queue, sqs=sqs)
    # THEN the DLQ survives, because the other queue still sends its failures there
    assert queue_url(queue.dlq.name, sqs=sqs) == queue.dlq_url  # type: ignore[union-attr]
    sqs.delete_queue(QueueUrl=other)
    sqs.delete_queue(QueueUrl=queue.dlq_url)


# --- validation (no engine) ---------------------------------------------------------------------
BAD_NAMES = [
    ("", None, "empty"),
    ("a" * 81, None, "81 characters"),
    ("orders!", None, "'!' at position 6"),
    ("my queue", None, "' ' at position 2"),
    ("orders.v2", None, "'.' at position 6"),
    ("orders", True, "must end in .fifo|end in .fifo"),
    ("orders.fifo", False, "reserves for FIFO"),
    (".fifo", None, "nothing before"),
]


@pytest.mark.parametrize(("name", "fifo", "message"), BAD_NAMES)
def test_bad_queue_names_are_refused_with_the_reason(name, fifo, message):
    with pytest.raises(InvalidQueueName, match=message):
        validate_queue_name(name, fifo=fifo)


def test_good_queue_names_pass():
    for name in ("a", "A-b_9", "x" * 80, "x" * 75 + ".fifo"):
        validate_queue_name(name)
    validate_queue_name("ok.fifo", fifo=True)
    validate_queue_name("ok", fifo=False)


BAD_SPECS = [
    (dict(visibility_timeout_seconds=43_201), "VisibilityTimeout from 0 to 43,200"),
    (dict(visibility_timeout_seconds=-1), "VisibilityTimeout"),
    (dict(retention_seconds=59), "MessageRetentionPeriod from 60 to 1,209,600"),
    (dict(retention_seconds=1_209_601), "MessageRetentionPeriod"),
    (dict(delay_seconds=901), "DelaySeconds from 0 to 900"),
    (dict(receive_wait_seconds=21), "ReceiveMessageWaitTimeSeconds from 0 to 20"),
    (dict(max_message_size_bytes=1023), "MaximumMessageSize from 1,024 to 1,048,576"),
    (dict(max_message_size_bytes=1_048_577), "MaximumMessageSize"),
    (dict(max_receive_count=0), "maxReceiveCount from 1 to 1,000"),
    (dict(dlq_retention_seconds=30), "MessageRetentionPeriod \\(DLQ\\)"),
    (dict(content_based_dedup=True), "content_based_dedup=True needs a FIFO queue"),
    (dict(high_throughput=True), "high_throughput=True needs a FIFO queue"),
    (dict(visibility_timeout_seconds="60"), "whole number"),
    (dict(visibility_timeout_seconds=True), "whole number"),
    (dict(tags={"k" * 129: "v"}), "tag key"),
]


@pytest.mark.parametrize(("changes", "message"), BAD_SPECS)
def test_out_of_range_specs_are_refused_before_any_request(changes, message):
    # GIVEN a spec with one bad value
    spec = QueueSpec("orders", **changes)
    # WHEN validated (directly, and through ensure_queue with a client that must not be called)
    with pytest.raises(InvalidAttribute, match=message):
        validate_spec(spec)
    # THEN ensure_queue refuses it the same way, with no request made
    with pytest.raises(InvalidAttribute, match=message):
        ensure_queue(spec, sqs=NoRequests())  # type: ignore[arg-type]


def test_dlq_name_must_fit_too():
    # a 78-character name leaves no room for "-dlq"
    with pytest.raises(InvalidQueueName, match="DLQ name"):
        validate_spec(QueueSpec("q" * 78))
    validate_spec(QueueSpec("q" * 78, with_dlq=False))


def test_spec_basics_hashable_with_tags():
    spec = QueueSpec("resume-updates.fifo", tags={"team": "lab"})
    assert spec.fifo and spec.dlq_name == "resume-updates-dlq.fifo"
    assert QueueSpec("jobs").dlq_name == "jobs-dlq"
    assert spec == QueueSpec("resume-updates.fifo", tags={"team": "lab"})
    assert hash(spec) == hash(QueueSpec("resume-updates.fifo", tags={"team": "lab"}))
    assert spec.tags == {"team": "lab"}


def test_queue_url_accepts_handles_urls_and_names(sqs, ensure, queue_name):
    queue = ensure(QueueSpec(queue_name("url"), with_dlq=False))
    assert queue_url(queue) == queue.url
    assert queue_url(queue.url) == queue.url  # no request for a URL
    assert queue_url(queue.name, sqs=sqs) == queue.url
    with pytest.raises(InvalidQueueName):
        queue_url("not a queue!")


# --- the same code on moto (unit level) ---------------------------------------------------------
def test_ensure_queue_on_moto(moto_sqs):
    queue = ensure_queue(QueueSpec("orders.fifo", max_receive_count=2), sqs=moto_sqs)
    assert queue.dlq is not None and queue.dlq.name == "orders-dlq.fifo"
    attrs = queue_attributes(queue, sqs=moto_sqs)
    assert attrs.fifo and attrs.redrive_policy == RedrivePolicy(queue.dlq.arn, 2)
    assert ensure_queue(QueueSpec("orders.fifo", max_receive_count=2), sqs=moto_sqs) == queue
    delete_queue(queue, sqs=moto_sqs)
    assert moto_sqs.list_queues().get("QueueUrls", []) == []
