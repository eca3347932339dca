"""The consumer on the real engine: delete batching, failures, FIFO order, heartbeat, graceful stop, DLQ,
backoff, idempotency, bounds and stats. Visibility timeouts are 1–2 s; LocalStack sweeps expired visibility
once a second, so "after the timeout" means "within timeout + 1 s"."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable

import pytest

from labsqs.consumer import (
    Consumer,
    ConsumerStats,
    Message,
    consume,
    exponential_backoff,
)
from labsqs.errors import InvalidConsumerOption, InvalidMessage, LabSqsError, QueueNotFound
from labsqs.idempotency import IdempotencyStore, body_field_key
from labsqs.producer import send_many
from labsqs.queues import QueueSpec

pytestmark = pytest.mark.engine

WAIT = 1  # long-poll seconds in tests: short, so bounded runs end quickly


# --- helpers ---------------------------------------------------------------------------------------
def send(sqs, url: str, bodies: list[str], group: str | None = None, **extra) -> list[str]:
    """Send bodies in order (one batch per 10); returns the message ids."""
    ids: list[str] = []
    for start in range(0, len(bodies), 10):
        entries = []
        for i, body in enumerate(bodies[start : start + 10]):
            entry = {"Id": str(i), "MessageBody": body, **extra}
            if group is not None:
                entry["MessageGroupId"] = group
            entries.append(entry)
        resp = sqs.send_message_batch(QueueUrl=url, Entries=entries)
        assert not resp.get("Failed"), resp.get("Failed")
        ids.extend(s["MessageId"] for s in sorted(resp["Successful"], key=lambda s: int(s["Id"])))
    return ids


def visible_bodies(sqs, url: str, wait: int = WAIT) -> list[str]:
    """Receive everything visible right now (and hide it for 30 s so it is counted once)."""
    out: list[str] = []
    while True:
        msgs = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait, VisibilityTimeout=30
        ).get("Messages", [])
        if not msgs:
            return out
        out.extend(m["Body"] for m in msgs)


def poll_for(sqs, url: str, seconds: float) -> list[dict]:
    """Keep receiving for ``seconds``; every message seen (the probe of a second consumer)."""
    seen: list[dict] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        resp = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=WAIT, MessageSystemAttributeNames=["All"]
        )
        seen.extend(resp.get("Messages", []))
    return seen


def in_thread(fn: Callable[[], object]) -> tuple[threading.Thread, dict]:
    box: dict = {}

    def run() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised by the test
            box["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, box


# --- the plain path --------------------------------------------------------------------------------
def test_consume_processes_every_message_once_deletes_them_and_reports_stats(sqs, make_queue):
    # GIVEN a queue with five JSON messages
    url = make_queue("plain")
    send(sqs, url, [json.dumps({"n": n}) for n in range(5)])
    seen: list[int] = []

    # WHEN they are consumed until the queue is idle
    stats = consume(url, lambda m: seen.append(m.json()["n"]), sqs=sqs, idle_polls=1, wait_time_seconds=WAIT)

    # THEN each was handled once, deleted in batches, and the queue is empty
    assert sorted(seen) == [0, 1, 2, 3, 4]
    assert (stats.received, stats.processed, stats.deleted, stats.failed) == (5, 5, 5, 0)
    assert stats.receives < 5  # batched receives, not one per message
    assert stats.empty_receives == 1 and stats.stop_reason == "idle"
    assert visible_bodies(sqs, url) == []
    # AND the stats are data a notebook can show
    snap = stats.snapshot()
    assert snap["processed"] == 5 and snap["latency_ms_p50"] is not None
    assert len(stats.latencies_ms) == 5 and all(ms >= 0 for ms in stats.latencies_ms)
    frame = stats.to_frame()
    assert frame.shape[0] == 1 and frame.loc[0, "deleted"] == 5


def test_handler_gets_body_system_and_message_attributes(sqs, make_queue):
    # GIVEN a message with a String, a Number and a Binary attribute
    url = make_queue("attrs")
    sqs.send_message(
        QueueUrl=url,
        MessageBody='{"job": "pdf"}',
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "RESUME_UPDATE"},
            "size": {"DataType": "Number", "StringValue": "12.50"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    got: list[Message] = []

    # WHEN it is consumed
    consume(url, got.append, sqs=sqs, idle_polls=1, wait_time_seconds=WAIT)

    # THEN the handler sees its body, parsed JSON, receive count, send time and attribute values
    (m,) = got
    assert m.json() == {"job": "pdf"} and m.queue_url == url
    assert m.receive_count == 1 and m.group_id is None
    assert abs(m.sent_at.timestamp() - time.time()) < 120
    assert m.message_attributes == {"kind": "RESUME_UPDATE", "size": "12.50", "blob": b"\x00\x01"}
    assert "SentTimestamp" in m.attributes


def test_non_json_body_is_an_invalid_message_with_the_reason():
    # GIVEN a message whose body is not JSON
    m = Message("id-1", "rh", "not json {", "http://q")
    # WHEN the handler parses it THEN InvalidMessage (a LabSqsError) names the message and the reason
    with pytest.raises(InvalidMessage, match=r"id-1 body is not JSON \(Expecting value") as err:
        m.json()
    assert isinstance(err.value, LabSqsError) and "json.dumps" in str(err.value)


def test_failed_handler_is_data_message_stays_and_on_error_is_told(sqs, make_queue):
    # GIVEN a queue with one non-JSON and one JSON message, and a handler that parses JSON
    url = make_queue("bad", VisibilityTimeout="30")
    send(sqs, url, ["<xml/>", '{"ok": true}'])
    errors: list[tuple[str, BaseException]] = []

    # WHEN consumed
    stats = consume(
        url,
        lambda m: m.json(),
        sqs=sqs,
        idle_polls=1,
        wait_time_seconds=WAIT,
        on_error=lambda m, exc: errors.append((m.body, exc)),
    )

    # THEN the failure is counted and described, not raised; the good message is deleted, the bad stays
    assert (stats.processed, stats.failed, stats.deleted) == (1, 1, 1)
    assert [(body, type(exc)) for body, exc in errors] == [("<xml/>", InvalidMessage)]
    (failure,) = stats.failures
    assert failure.receive_count == 1 and failure.error.startswith("InvalidMessage")
    # the bad one is still in flight (30 s visibility), not deleted:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    assert attrs["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"


# --- FIFO ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("backoff", [None, 0], ids=["visibility-timeout", "backoff-0"])
def test_fifo_failure_holds_the_rest_of_its_group_while_other_groups_go_on(sqs, make_queue, backoff):
    # GIVEN a FIFO queue with group A (a1..a4) and group B (b1..b3), and a handler failing a2 once
    url = make_queue("order", fifo=True, ContentBasedDeduplication="true", VisibilityTimeout="2")
    send(sqs, url, ["a1", "a2", "a3", "a4"], group="A")
    send(sqs, url, ["b1", "b2", "b3"], group="B")
    calls: list[str] = []
    done: list[str] = []

    def handler(m: Message) -> None:
        calls.append(m.body)
        if m.body == "a2" and calls.count("a2") == 1:
            raise RuntimeError("a2 fails the first time")
        done.append(m.body)

    retry = None if backoff is None else (lambda _count: backoff)
    # WHEN consumed until 8 handler calls (7 messages + one retry)
    stats = Consumer(url, handler, sqs=sqs, wait_time_seconds=WAIT, retry_backoff=retry).run(
        stop_after=8, timeout_seconds=30
    )

    # THEN every message was processed, each group in its order
    assert [b for b in done if b.startswith("a")] == ["a1", "a2", "a3", "a4"]
    assert [b for b in done if b.startswith("b")] == ["b1", "b2", "b3"]
    # AND a3, a4 were not even attempted before a2 succeeded: they were handed back (released)
    first_a2, retried_a2 = [i for i, b in enumerate(calls) if b == "a2"]
    assert calls.index("a3") > retried_a2 and calls.count("a3") == 1
    assert stats.released == 2 and stats.failed == 1 and stats.processed == 7
    # AND group B went on in the first batch, without waiting for A's retry
    assert calls.index("b3") < retried_a2
    assert visible_bodies(sqs, url) == []


@pytest.mark.parametrize("guard", [True, False], ids=["guard-on", "guard-off"])
def test_a_poison_fifo_head_reaches_the_dlq_without_dragging_its_followers(sqs, ensure, queue_name, guard):
    # GIVEN a FIFO queue with a DLQ after 4 receives, 1 s visibility; group A: a poison head and 9
    # healthy followers (one batch's worth), group B: 5 healthy messages
    spec = QueueSpec(queue_name("poison", fifo=True), visibility_timeout_seconds=1, receive_wait_seconds=0,
                     content_based_dedup=True, max_receive_count=4)  # fmt: skip
    queue = ensure(spec)
    bodies = ["poison", *(f"a{i}" for i in range(1, 10)), *(f"b{i}" for i in range(1, 6))]
    send_many(queue, bodies, group_by=lambda b: "B" if b.startswith("b") else "A", sqs=sqs)
    counts: dict[str, list[int]] = {}

    def handler(m: Message) -> None:
        counts.setdefault(m.body, []).append(m.receive_count)
        if m.body == "poison":
            raise InvalidMessage("poison", hint="it fails on every delivery")

    # WHEN one consumer (batches of 10, failures retried at once) runs until the queue is idle
    consumer = Consumer(queue.url, handler, sqs=sqs, wait_time_seconds=WAIT, retry_backoff=lambda _n: 0,
                        fifo_guard=guard)  # fmt: skip
    stats = consumer.run(idle_polls=3, timeout_seconds=60)
    dlq = [m["Body"] for m in sqs.receive_message(QueueUrl=queue.dlq_url, MaxNumberOfMessages=10,
                                                    WaitTimeSeconds=1).get("Messages", [])]  # fmt: skip

    # THEN the poison head failed on each of its 4 allowed receives
    assert counts["poison"] == [1, 2, 3, 4], counts
    followers = [f"a{i}" for i in range(1, 10)]
    if guard:
        # AND its followers were received once with it (the batch that found the failure), then stayed
        # behind the group lock while it failed alone: each was processed on its 2nd receive, in order
        assert dlq == ["poison"], dlq
        assert [(b, counts.get(b)) for b in followers] == [(b, [2]) for b in followers], counts
        assert stats.guarded_receives >= 3 and stats.processed == 14 and stats.failed == 4
    else:
        # (without the guard each failure dragged the followers along: they ran out of receives with it,
        # never tried — the cost the guard removes)
        assert sorted(dlq) == sorted(["poison", *followers]), dlq
        assert not any(b in counts for b in followers) and stats.guarded_receives == 0
    # AND group B was processed, in order, on its first receive either way
    assert [(b, counts.get(b)) for b in bodies[10:]] == [(b, [1]) for b in bodies[10:]], counts


# --- heartbeat ------------------------------------------------------------------------------------
def _slow_handler_probe(sqs, url: str, *, heartbeat: bool) -> tuple[list[dict], ConsumerStats, list[str]]:
    """A handler that holds its message while a second consumer polls the queue for 4.5 s (the
    queue's visibility timeout is 2 s); returns what the probe saw, the stats and the handler calls."""
    started, probe_done = threading.Event(), threading.Event()
    calls: list[str] = []

    def slow(m: Message) -> None:
        calls.append(m.message_id)
        started.set()
        probe_done.wait(20)

    consumer = Consumer(url, slow, sqs=sqs, wait_time_seconds=WAIT, heartbeat=heartbeat)
    thread, box = in_thread(lambda: consumer.run(stop_after=1, timeout_seconds=30))
    assert started.wait(15)
    seen = poll_for(sqs, url, 4.5)
    probe_done.set()
    thread.join(30)
    assert "error" not in box, box.get("error")
    return seen, box["result"], calls


def test_heartbeat_keeps_a_slow_message_invisible_past_its_visibility_timeout(sqs, make_queue):
    # GIVEN a queue with a 2 s visibility timeout and a handler that takes > 4.5 s
    url = make_queue("hb", VisibilityTimeout="2")
    (mid,) = send(sqs, url, ["slow"])
    # WHEN a second consumer polls while the handler runs, with the heartbeat on
    seen, stats, calls = _slow_handler_probe(sqs, url, heartbeat=True)
    # THEN the second consumer saw nothing; the message was processed exactly once and deleted
    assert seen == []
    assert calls == [mid] and stats.processed == 1 and stats.deleted == 1
    assert stats.heartbeats >= 2  # extended more than once
    assert visible_bodies(sqs, url) == []


def test_without_heartbeat_a_slow_message_is_delivered_twice(sqs, make_queue):
    # GIVEN the same queue and slow handler, heartbeat off
    url = make_queue("nohb", VisibilityTimeout="2")
    (mid,) = send(sqs, url, ["slow"])
    # WHEN a second consumer polls while the handler runs
    seen, stats, calls = _slow_handler_probe(sqs, url, heartbeat=False)
    # THEN the message reappeared and the second consumer got it too: a duplicate delivery
    assert [m["MessageId"] for m in seen][:1] == [mid]
    assert int(seen[0]["Attributes"]["ApproximateReceiveCount"]) >= 2
    assert calls == [mid] and stats.heartbeats == 0


# --- graceful stop ----------------------------------------------------------------------------------
def _blocking_first_handler() -> tuple[
    Callable[[Message], None], threading.Event, threading.Event, list[str]
]:
    started, go = threading.Event(), threading.Event()
    done: list[str] = []

    def handler(m: Message) -> None:
        if not started.is_set():
            started.set()
            assert go.wait(20)
        done.append(m.body)

    return handler, started, go, done


def test_stop_finishes_the_running_handler_and_releases_unstarted_messages(sqs, make_queue):
    # GIVEN five messages on a queue with a 30 s visibility timeout, and a handler blocked on the first
    url = make_queue("stop", VisibilityTimeout="30")
    bodies = [f"m{i}" for i in range(5)]
    send(sqs, url, bodies)
    handler, started, go, done = _blocking_first_handler()
    consumer = Consumer(url, handler, sqs=sqs, wait_time_seconds=WAIT)
    thread, box = in_thread(consumer.run)
    assert started.wait(15)

    # WHEN the consumer is stopped while that handler runs
    consumer.stop()
    go.set()
    thread.join(30)
    stats: ConsumerStats = box["result"]

    # THEN the running message finished and was deleted; the received-but-unstarted ones were released
    assert len(done) == 1 and stats.processed == 1 and stats.deleted == 1
    assert stats.released == stats.received - 1 and stats.stop_reason == "stop"
    # AND nothing is lost: the rest is visible again now, not after 30 s
    assert sorted(done + visible_bodies(sqs, url)) == bodies


def test_sigterm_stops_gracefully_and_restores_the_previous_handler(sqs, make_queue):
    # GIVEN a consumer run in the main thread with handle_signals=True, its handler blocked on message 1
    url = make_queue("sig", VisibilityTimeout="30")
    bodies = [f"m{i}" for i in range(4)]
    send(sqs, url, bodies)
    handler, started, go, done = _blocking_first_handler()
    before = signal.getsignal(signal.SIGTERM)

    def send_sigterm() -> None:
        assert started.wait(15)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.5)  # let the main thread run the signal handler before the handler finishes
        go.set()

    killer = threading.Thread(target=send_sigterm, daemon=True)
    killer.start()
    # WHEN SIGTERM arrives mid-handler
    stats = Consumer(url, handler, sqs=sqs, wait_time_seconds=WAIT, handle_signals=True).run(
        timeout_seconds=30
    )
    killer.join()

    # THEN it stopped like stop(): in-flight finished and deleted, the rest released, nothing lost
    assert stats.stop_reason == "SIGTERM"
    assert stats.processed == 1 and stats.deleted == 1 and stats.released == stats.received - 1
    assert sorted(done + visible_bodies(sqs, url)) == bodies
    assert signal.getsignal(signal.SIGTERM) is before


# --- failures: DLQ and backoff ---------------------------------------------------------------------
def test_a_message_that_always_fails_ends_in_the_dlq_after_max_receive_count(sqs, make_queue):
    # GIVEN a queue with maxReceiveCount 2 and a DLQ, one poison and one good message
    dlq = make_queue("dlq")
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})
    url = make_queue("src", VisibilityTimeout="1", RedrivePolicy=redrive)
    send(sqs, url, ["poison", "good"])
    calls: list[str] = []

    def handler(m: Message) -> None:
        calls.append(m.body)
        if m.body == "poison":
            raise ValueError("cannot process")

    # WHEN consumed until idle, retrying failures at once (backoff 0)
    stats = consume(url, handler, sqs=sqs, wait_time_seconds=WAIT, idle_polls=2, retry_backoff=lambda n: 0)

    # THEN the poison was tried maxReceiveCount times, then moved to the DLQ; the good one was processed
    assert calls.count("poison") == 2 and calls.count("good") == 1
    assert (stats.failed, stats.processed, stats.redelivered) == (2, 1, 1)
    assert visible_bodies(sqs, dlq) == ["poison"]
    assert visible_bodies(sqs, url) == []


def test_retry_backoff_sets_the_failed_messages_visibility_by_receive_count(sqs, make_queue):
    # GIVEN a queue with a 30 s visibility timeout and a handler that fails the first attempt
    url = make_queue("backoff", VisibilityTimeout="30")
    send(sqs, url, ["flaky"])
    asked: list[int] = []
    attempts: list[int] = []

    def handler(m: Message) -> None:
        attempts.append(m.receive_count)
        if m.receive_count == 1:
            raise TimeoutError("downstream busy")

    def backoff(receive_count: int) -> int:
        asked.append(receive_count)
        return 0

    # WHEN consumed with a backoff of 0 s
    stats = consume(url, handler, sqs=sqs, wait_time_seconds=WAIT, idle_polls=1, retry_backoff=backoff)

    # THEN the retry came at once (not after 30 s) and the backoff was asked with the receive count
    assert attempts == [1, 2] and asked == [1]
    assert (stats.failed, stats.processed, stats.redelivered) == (1, 1, 1)


def test_retry_backoff_can_hold_a_failed_message_longer_than_the_visibility_timeout(sqs, make_queue):
    # GIVEN a queue with a 1 s visibility timeout and a handler that always fails
    url = make_queue("hold", VisibilityTimeout="1")
    send(sqs, url, ["x"])

    def fail(m: Message) -> None:
        raise RuntimeError("no")

    # WHEN one attempt fails with a 30 s backoff
    stats = consume(url, fail, sqs=sqs, wait_time_seconds=WAIT, stop_after=1, retry_backoff=lambda n: 30)

    # THEN the message stays hidden well past its 1 s visibility timeout
    assert stats.failed == 1
    assert poll_for(sqs, url, 3.0) == []


def test_exponential_backoff_doubles_up_to_the_cap():
    backoff = exponential_backoff(base_seconds=2, cap_seconds=10)
    assert [backoff(n) for n in (1, 2, 3, 4, 5)] == [2, 4, 8, 10, 10]


# --- idempotency ------------------------------------------------------------------------------------
def test_redelivered_message_already_processed_is_skipped_deleted_and_counted(sqs, make_queue, tmp_path):
    # GIVEN a message a worker processed and recorded, but crashed before deleting (so it comes back)
    url = make_queue("idem", VisibilityTimeout="30")
    (first_id,) = send(sqs, url, ["charge order 1"])
    store = IdempotencyStore(tmp_path / "processed.sqlite")
    (msg,) = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=WAIT)["Messages"]
    store.mark(msg["MessageId"])
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=0)
    send(sqs, url, ["charge order 2"])
    handled: list[str] = []

    # WHEN a consumer with the same store receives both
    stats = consume(url, lambda m: handled.append(m.body), sqs=sqs, idle_polls=1, wait_time_seconds=WAIT,
                    idempotency=store)  # fmt: skip

    # THEN the duplicate was not processed again, but deleted and counted; the new one was processed
    assert handled == ["charge order 2"]
    assert (stats.duplicates_skipped, stats.processed, stats.deleted, stats.redelivered) == (1, 1, 2, 1)
    assert store.seen(first_id) and len(store) == 2
    assert visible_bodies(sqs, url) == []


def test_body_field_key_skips_a_logical_duplicate_sent_twice(sqs, make_queue, tmp_path):
    # GIVEN the producer sent order 7 twice (two messages, two MessageIds) and order 8 once
    url = make_queue("idem-body")
    send(sqs, url, [json.dumps({"order_id": 7}), json.dumps({"order_id": 8})])
    send(sqs, url, [json.dumps({"order_id": 7, "retry": True})])
    orders: list[int] = []
    store = IdempotencyStore(tmp_path / "orders.sqlite")

    # WHEN consumed with the order id as idempotency key
    stats = consume(url, lambda m: orders.append(m.json()["order_id"]), sqs=sqs, idle_polls=1,
                    wait_time_seconds=WAIT, idempotency=store, key=body_field_key("order_id"))  # fmt: skip

    # THEN order 7 was handled once; its second copy skipped and deleted
    assert sorted(orders) == [7, 8] and stats.duplicates_skipped == 1 and stats.deleted == 3


def test_store_claim_is_atomic_across_threads_and_survives_reopening(tmp_path):
    # GIVEN one store file and 8 threads racing to claim the same key
    path = tmp_path / "keys.sqlite"
    store = IdempotencyStore(path)
    barrier = threading.Barrier(8)
    wins: list[bool] = []

    def racer() -> None:
        barrier.wait()
        wins.append(store.claim("order-1"))

    threads = [threading.Thread(target=racer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # THEN exactly one wins
    assert sorted(wins) == [False] * 7 + [True]
    # AND a failed attempt can release its claim for a retry; a done key is done for a new process too
    store.release("order-1")
    assert store.claim("order-1")
    store.mark("order-1")
    store.close()
    with IdempotencyStore(path) as again:
        assert again.seen("order-1") and not again.claim("order-1") and not again.seen("order-2")


def test_abandoned_claim_expires_after_its_lease_and_a_renewed_one_does_not(tmp_path):
    store = IdempotencyStore(tmp_path / "lease.sqlite", lease_seconds=0.2)
    assert store.claim("dead") and store.claim("alive")
    assert not store.claim("dead")  # held by a (possibly dead) worker
    time.sleep(0.1)
    store.renew(["alive"], lease_seconds=60)  # what the heartbeat does for a worker still at it
    time.sleep(0.15)
    assert store.claim("dead")  # the lease ran out: the key can be taken over
    assert not store.claim("alive")


def test_redelivery_after_a_worker_died_mid_handler_is_processed_not_parked(sqs, make_queue, tmp_path):
    # GIVEN a worker received a message (1 s visibility), claimed it, and died before finishing
    url = make_queue("died", VisibilityTimeout="1")
    send(sqs, url, ["resize image"])
    store = IdempotencyStore(tmp_path / "claims.sqlite")
    (msg,) = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=WAIT)["Messages"]
    assert store.claim(msg["MessageId"], lease_seconds=1)  # a consumer leases for the visibility timeout
    handled: list[str] = []

    # WHEN SQS redelivers it to another consumer after the visibility timeout
    stats = consume(url, lambda m: handled.append(m.body), sqs=sqs, wait_time_seconds=WAIT, stop_after=1,
                    timeout_seconds=15, idempotency=store)  # fmt: skip

    # THEN the stale claim does not block it: it is processed, once
    assert handled == ["resize image"] and stats.deferred == 0 and stats.redelivered == 1
    assert store.seen(msg["MessageId"])


def test_a_duplicate_of_a_message_still_in_progress_is_left_alone(sqs, make_queue, tmp_path):
    # GIVEN a key claimed by a live worker (long lease), and a second message with the same body key
    url = make_queue("busy", VisibilityTimeout="30")
    send(sqs, url, [json.dumps({"order_id": 9})])
    store = IdempotencyStore(tmp_path / "busy.sqlite")
    assert store.claim("9", lease_seconds=60)
    handled: list[str] = []

    # WHEN another consumer receives the duplicate
    stats = consume(url, lambda m: handled.append(m.body), sqs=sqs, wait_time_seconds=WAIT, idle_polls=1,
                    idempotency=store, key=body_field_key("order_id"))  # fmt: skip

    # THEN it neither processes nor deletes it: it comes back later, when the first worker has decided
    assert handled == [] and stats.deferred == 1 and stats.deleted == 0
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    assert attrs["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"


# --- bounds, workers, validation ----------------------------------------------------------------
def test_stop_after_takes_no_more_than_asked(sqs, make_queue):
    url = make_queue("bound", VisibilityTimeout="30")
    bodies = [f"m{i}" for i in range(5)]
    send(sqs, url, bodies)
    done: list[str] = []
    stats = consume(url, lambda m: done.append(m.body), sqs=sqs, wait_time_seconds=WAIT, stop_after=3)
    # THEN three were handled, only three received (no over-receive), the other two still visible
    assert len(done) == 3 and stats.received == 3 and stats.stop_reason == "stop_after"
    assert sorted(done + visible_bodies(sqs, url)) == bodies


@pytest.mark.timeout(15)
def test_timeout_bounds_a_long_poll_on_an_empty_queue(sqs, make_queue):
    # GIVEN an empty queue and the default 20 s long poll
    url = make_queue("empty")
    # WHEN run with a 1 s timeout THEN it returns (the poll is shortened to the time left) with the reason
    stats = Consumer(url, lambda m: None, sqs=sqs).run(timeout_seconds=1)
    assert stats.stop_reason == "timeout" and stats.processed == 0 and stats.receives >= 1


def test_workers_share_the_backlog_and_each_message_is_processed_once(sqs, make_queue):
    url = make_queue("workers", VisibilityTimeout="30")
    bodies = [f"m{i:02d}" for i in range(30)]
    send(sqs, url, bodies)
    done: list[tuple[str, str]] = []
    lock = threading.Lock()

    def handler(m: Message) -> None:
        time.sleep(0.01)
        with lock:
            done.append((m.body, threading.current_thread().name))

    stats = consume(url, handler, sqs=sqs, wait_time_seconds=WAIT, workers=3, idle_polls=3)
    assert sorted(b for b, _ in done) == bodies and stats.processed == stats.deleted == 30
    assert {name for _, name in done} <= {f"labsqs-consumer-{i}" for i in range(3)}


@pytest.mark.parametrize(
    "options",
    [{"workers": 0}, {"max_messages": 11}, {"wait_time_seconds": 21}, {"visibility_timeout": 43_201},
     {"heartbeat_every_seconds": 0}, {"key": str}],
)  # fmt: skip
def test_options_are_checked_before_any_request(options):
    # GIVEN a "client" that would fail on any request WHEN options are out of range THEN a clear error
    with pytest.raises(InvalidConsumerOption):
        Consumer("http://127.0.0.1:1/q", lambda m: None, sqs=object(), **options)


def test_a_missing_queue_is_reported_with_what_to_do(sqs, make_queue):
    url = make_queue("gone")
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(QueueNotFound, match="does not exist"):
        Consumer(url, lambda m: None, sqs=sqs, wait_time_seconds=WAIT).run(idle_polls=1)
    with pytest.raises(QueueNotFound):
        Consumer("t-does-not-exist-q", lambda m: None, sqs=sqs).run(idle_polls=1)


# --- with the lab's own queues and producer ------------------------------------------------------
@pytest.fixture
def lab_queue(ensure, queue_name):
    """``lab_queue(stem, **spec)`` → a Queue (with its DLQ) made by ensure_queue, deleted after."""
    from labsqs.queues import QueueSpec

    return lambda stem, **spec: ensure(QueueSpec(queue_name(stem), **spec))


def test_consumer_takes_a_queue_handle_and_poison_reaches_its_dlq(sqs, lab_queue):
    from labsqs.producer import send_many

    # GIVEN a queue made by ensure_queue (DLQ after 2 receives) and jobs sent with send_many
    queue = lab_queue("jobs", visibility_timeout_seconds=1, max_receive_count=2)
    send_many(queue, [{"title": "engineer"}, {"title": "poison"}, {"title": "analyst"}], sqs=sqs)
    titles: list[str] = []

    def handler(m: Message) -> None:
        job = m.json()
        if job["title"] == "poison":
            raise ValueError("cannot score this job")
        titles.append(job["title"])

    # WHEN consumed through the Queue handle
    stats = consume(queue, handler, sqs=sqs, wait_time_seconds=WAIT, idle_polls=2, retry_backoff=lambda n: 0)

    # THEN good jobs were processed once and the poison sits in the queue's DLQ
    assert sorted(titles) == ["analyst", "engineer"] and stats.failed == 2
    assert [json.loads(b)["title"] for b in visible_bodies(sqs, queue.dlq_url)] == ["poison"]


def test_heartbeat_renews_the_claim_so_a_slow_first_copy_is_not_processed_twice(sqs, make_queue, tmp_path):
    # GIVEN order 1 being processed slowly (longer than the 2 s visibility timeout) by consumer A
    url = make_queue("renew", VisibilityTimeout="2")
    send(sqs, url, [json.dumps({"order_id": 1})])
    store = IdempotencyStore(tmp_path / "renew.sqlite")
    key = body_field_key("order_id")
    started, finish = threading.Event(), threading.Event()
    handled: list[str] = []

    def slow(m: Message) -> None:
        started.set()
        assert finish.wait(20)
        handled.append("A")

    a = Consumer(url, slow, sqs=sqs, wait_time_seconds=WAIT, idempotency=store, key=key)
    thread, box = in_thread(lambda: a.run(stop_after=1, timeout_seconds=30))
    assert started.wait(15)
    time.sleep(3)  # past the first lease: only the heartbeat's renewal keeps the claim alive

    # WHEN a second copy of order 1 reaches consumer B meanwhile
    send(sqs, url, [json.dumps({"order_id": 1})])
    b_stats = consume(url, lambda m: handled.append("B"), sqs=sqs, wait_time_seconds=WAIT, idle_polls=1,
                      idempotency=store, key=key)  # fmt: skip
    finish.set()
    thread.join(30)

    # THEN B left it alone (A still holds the claim); A finished; order 1 was processed once
    assert b_stats.deferred == 1 and handled == ["A"] and box["result"].processed == 1
