"""Faults: consumer processes killed with SIGKILL or stopped with SIGTERM under load, a handler slower than
the visibility timeout, the engine restarted mid-run. Every test accounts for every message.

Sizes are small for CI (``LABSQS_FAULT_MESSAGES``, default 300 per drill); the full 10,000-message drill
is ``python benchmarks/faults.py`` (see docs/reliability.md). The accounting model is in
:mod:`labsqs.drill`: *processed* means committed in the processing log together with the idempotency mark.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from labsqs import engine
from labsqs.client import sqs_client
from labsqs.consumer import Consumer, Message, consume
from labsqs.drill import ProcessingLog, run_drill
from labsqs.drill.worker import EXIT_ERROR, EXIT_QUEUE_LOST, Worker
from labsqs.errors import EndpointUnavailable, QueueNotFound
from labsqs.queues import QueueSpec, delete_queue, ensure_queue, queue_url

pytestmark = [pytest.mark.engine, pytest.mark.slow]

MESSAGES = int(os.environ.get("LABSQS_FAULT_MESSAGES", "300"))
WORKER = [sys.executable, "-m", "labsqs.drill.worker"]


def _wait_for(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what} after {seconds} s")
        time.sleep(0.1)


# --- SIGKILL: nothing lost, nothing applied twice, every duplicate accounted for ---------------------
@pytest.mark.parametrize("kind", ["standard", "fifo"])
def test_killed_and_restarted_workers_lose_nothing_and_apply_nothing_twice(kind, engine_state, tmp_path):
    # GIVEN N messages (2 % of them non-JSON poison) and 3 worker processes sharing one SQLite log
    # WHEN workers are killed with SIGKILL at random moments (up to 6 times, while the backlog lasts) and
    # restarted, until the queue drains
    report = run_drill(
        kind, MESSAGES, workdir=tmp_path, endpoint=engine_state.endpoint, max_stops=6, seed=11, work_ms=40,
        stop_every_seconds=(0.3, 0.9), poison_every=100 if kind == "fifo" else 50, prefer_holding=True,
    )  # fmt: skip
    figures = report.figures()

    # THEN the kills happened, some while a worker held received messages
    assert report.stops >= 4 and report.restarts >= report.stops and report.crashes == 0, figures
    assert report.stops_holding_messages >= 1, figures
    # AND processed ∪ DLQ == sent: nothing lost, nothing invented
    assert report.drained and report.lost == [] and report.unexpected == [], figures
    assert report.processed + report.in_dlq - len(report.processed_and_dlq) == report.sent
    # AND every poison message is in the DLQ, with its reason recorded
    assert report.dlq_poison == report.poison_sent and report.dlq_with_reason >= report.poison_sent, figures
    # AND no effect was applied twice; every delivery of an already-processed message was either skipped
    # by the idempotency store or cut short by a kill before the store was asked
    assert report.duplicates_caught == 0, figures
    assert report.duplicate_deliveries == report.duplicates_skipped + report.duplicates_cut_by_kill, figures
    assert report.duplicates_unaccounted == 0 and report.skips_unmatched == 0, figures
    # AND (FIFO) each group's messages were processed in send order, and no healthy message lost a receive
    # behind a poison message and went to the DLQ for it (the consumer's FIFO guard)
    assert report.order_violations == 0 and report.dlq_healthy_by_poison == 0, figures
    assert report.ok


def test_a_transient_failure_of_a_fifo_groups_head_lets_no_later_message_overtake(sqs, make_queue):
    # GIVEN 20 messages in one FIFO group; the first fails once, then succeeds
    url = make_queue("head", fifo=True, VisibilityTimeout="2")
    for start in (0, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "MessageBody": str(i), "MessageGroupId": "g", "MessageDeduplicationId": str(i)}
            for i in range(start, start + 10)
        ])  # fmt: skip
    failed_once: list[str] = []
    order: list[int] = []

    def handler(m: Message) -> None:
        if m.body == "0" and not failed_once:
            failed_once.append(m.body)
            raise ValueError("transient")
        order.append(int(m.body))

    # WHEN one consumer retries failures at once (retry_backoff 0)
    consume(url, handler, sqs=sqs, wait_time_seconds=1, idle_polls=3, retry_backoff=lambda n: 0)

    # THEN the group was processed in send order. (LocalStack unlocks a group as soon as an older message
    # is visible again, even while later ones are still held in flight; handing back the failed message
    # before the rest of its batch let messages 10-18 overtake 1-9.)
    assert order == list(range(20))


# --- SIGTERM under load: nothing twice because of the stop, nothing lost ------------------------------
def test_sigterm_under_load_processes_nothing_twice_and_loses_nothing(engine_state, tmp_path):
    # GIVEN 3 busy worker processes
    # WHEN one (holding messages, when one does) gets SIGTERM mid-run (up to 5 times) and a fresh worker
    # takes its place
    report = run_drill(
        "standard", MESSAGES, workdir=tmp_path, endpoint=engine_state.endpoint,
        stop_signal=signal.SIGTERM, max_stops=5, seed=5, work_ms=40, stop_every_seconds=(0.3, 0.9),
        prefer_holding=True,
    )  # fmt: skip
    figures = report.figures()
    # THEN every stop was graceful (exit 0), some while holding messages
    assert report.stops >= 3 and report.unclean_exits == 0 and report.crashes == 0, figures
    assert set(report.exits) == {0} and report.stops_holding_messages >= 1, figures
    # AND nothing was lost, and no processed message came back: the stop deleted what it finished and
    # handed back what it had not started
    assert report.drained and report.lost == [] and report.unexpected == [], figures
    assert report.duplicate_deliveries == 0 and report.duplicates_skipped == 0, figures
    assert report.duplicates_caught == 0 and report.ok, figures


# --- a handler slower than the visibility timeout ----------------------------------------------------
def _slow_and_fast_worker(sqs, queue, db: Path, *, heartbeat: bool) -> dict:
    """Worker A takes 4 s per message (visibility timeout 2 s); worker B, fast, polls alongside it."""
    box: dict = {}
    slow = Worker(queue.url, db, sqs=sqs, wait_time_seconds=1, heartbeat=heartbeat, work_seconds=4,
                  on_duplicate=lambda text: box.setdefault("reported", []).append(text))  # fmt: skip
    fast = Worker(queue.url, db, sqs=sqs, wait_time_seconds=1, heartbeat=heartbeat,
                  on_duplicate=lambda text: box.setdefault("reported", []).append(text))  # fmt: skip

    def run(name: str, worker: Worker, **bounds) -> None:
        box[name] = worker.run(**bounds)

    a = threading.Thread(target=run, args=("slow", slow), kwargs={"stop_after": 1, "timeout_seconds": 15})
    a.start()
    _wait_for(lambda: slow.log.count("deliveries") > 0, 15, "the slow worker's first receive")
    b = threading.Thread(target=run, args=("fast", fast), kwargs={"timeout_seconds": 6})
    b.start()
    a.join(30)
    b.join(30)
    box["deliveries"] = slow.log.rows("deliveries")
    box["processed"] = slow.log.rows("processed")
    box["duplicates"] = slow.log.rows("duplicates")
    slow.close()
    fast.close()
    return box


def test_a_handler_slower_than_the_visibility_timeout_with_and_without_the_heartbeat(
    sqs, queue_name, tmp_path
):
    # GIVEN two queues with a 2 s visibility timeout, one message each, and on each queue a slow worker
    # (4 s a message) with a fast one polling alongside — heartbeat on for the first, off for the second
    specs = {hb: QueueSpec(queue_name(f"hb-{hb}"), visibility_timeout_seconds=2, receive_wait_seconds=1)
             for hb in (True, False)}  # fmt: skip
    queues = {hb: ensure_queue(spec, sqs=sqs) for hb, spec in specs.items()}
    try:
        for q in queues.values():
            sqs.send_message(QueueUrl=q.url, MessageBody=json.dumps({"uid": "order-1"}))
        results: dict[bool, dict] = {}
        runners = [
            threading.Thread(target=lambda hb=hb: results.__setitem__(
                hb, _slow_and_fast_worker(sqs, queues[hb], tmp_path / f"hb-{hb}.sqlite", heartbeat=hb)))
            for hb in (True, False)
        ]  # fmt: skip
        for t in runners:
            t.start()
        for t in runners:
            t.join(60)
    finally:
        for q in queues.values():
            delete_queue(q, sqs=sqs, missing_ok=True)

    # THEN with the heartbeat the message was delivered once, processed once, no duplicate anywhere
    on = results[True]
    assert len(on["deliveries"]) == 1 and len(on["processed"]) == 1, on
    assert on["duplicates"] == [] and "reported" not in on
    assert on["slow"].heartbeats >= 1 and on["fast"].received == 0
    # AND without it the message came back while the slow handler still ran and reached the fast worker;
    # that duplicate was detected: caught at commit and reported (the handler ran twice, its effect
    # applied once), or parked by the idempotency claim of the still-running first copy
    off = results[False]
    assert len(off["deliveries"]) == 2 and [d["receive_count"] for d in off["deliveries"]] == [1, 2], off
    assert len(off["processed"]) == 1 and off["slow"].heartbeats == 0
    caught, parked = off["slow"].duplicates_caught + off["fast"].duplicates_caught, off["fast"].deferred
    assert caught + parked == 1, off
    if caught:
        assert len(off["duplicates"]) == 1 and "turn the heartbeat on" in off["reported"][0]


# --- the engine restarts mid-run ---------------------------------------------------------------------
def test_engine_restart_mid_run_is_reported_plainly_and_nothing_hangs(tmp_path):
    # GIVEN a second engine (its own port and state folder; the shared engine keeps running) with a queue
    # of 40 messages, a worker process on it (allowed to wait 30 s for an outage to end) and an
    # in-process consumer on the same queue
    port = engine.free_port()
    state = engine.up("localstack", port=port, home=tmp_path, progress=lambda _: None)
    try:
        sqs = sqs_client(state.endpoint)
        queue = ensure_queue(QueueSpec("restart-drill", visibility_timeout_seconds=2, receive_wait_seconds=1),
                             sqs=sqs)  # fmt: skip
        sqs.send_message_batch(QueueUrl=queue.url, Entries=[
            {"Id": str(i), "MessageBody": json.dumps({"uid": f"u{i}"})} for i in range(10)])  # fmt: skip
        for start in range(10, 40, 10):
            sqs.send_message_batch(QueueUrl=queue.url, Entries=[
                {"Id": str(i), "MessageBody": json.dumps({"uid": f"u{i}"})} for i in range(start, start + 10)
            ])  # fmt: skip
        db, log_path = tmp_path / "worker.sqlite", tmp_path / "worker.log"
        ProcessingLog(db).close()
        with open(log_path, "wb") as out:
            worker = subprocess.Popen(
                [*WORKER, "--queue", queue.url, "--db", str(db), "--endpoint", state.endpoint, "--wait", "1",
                 "--work-ms", "150", "--reconnect-seconds", "60"],
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        inproc: dict = {}

        def consume_in_process() -> None:
            try:
                consume(queue.url, lambda m: time.sleep(0.2), sqs=sqs, wait_time_seconds=1)
            except Exception as exc:  # noqa: BLE001 - inspected below
                inproc["error"] = exc

        thread = threading.Thread(target=consume_in_process, daemon=True)
        thread.start()
        log = ProcessingLog(db)
        _wait_for(lambda: log.count("processed") >= 3, 30, "the worker to process a few messages")

        # WHEN the engine stops
        engine.down(port=port, home=tmp_path, progress=lambda _: None)

        # THEN a client gets a clear EndpointUnavailable naming the endpoint and the fix
        with pytest.raises(EndpointUnavailable, match="labsqs up") as down:
            sqs.list_queues()
        assert state.endpoint in str(down.value)
        # AND the in-process consumer stops with that error instead of hanging or retrying forever
        thread.join(30)
        assert not thread.is_alive() and isinstance(inproc.get("error"), EndpointUnavailable), inproc
        # AND the worker says it is waiting, for a bounded time
        _wait_for(
            lambda: b"waiting up to 60 s" in log_path.read_bytes(), 30, "the worker to report the outage"
        )
        processed_before = log.count("processed")

        # WHEN the engine comes back (LocalStack open source: empty)
        engine.up("localstack", port=port, home=tmp_path, progress=lambda _: None)

        # THEN the worker says plainly that the queue and its messages are gone, and why, and exits
        code = worker.wait(timeout=60)
        said = log_path.read_text()
        assert code == EXIT_QUEUE_LOST, said
        assert "keeps nothing across restarts" in said and "real SQS keeps messages" in said, said
        assert "re-create the queue" in said, said
        # AND the same client works again; the queue is gone, which the lab reports as QueueNotFound
        assert sqs.list_queues().get("QueueUrls", []) == []
        with pytest.raises(QueueNotFound, match="ensure_queue"):
            queue_url("restart-drill", sqs=sqs)
        with pytest.raises(QueueNotFound, match="keeps nothing across restarts"):  # straight to a receive
            Consumer(queue.url, lambda m: None, sqs=sqs, wait_time_seconds=1, visibility_timeout=2).run(
                idle_polls=1
            )
        assert 3 <= processed_before < 40  # the rest went down with the engine
        log.close()
    finally:
        engine.down(port=port, home=tmp_path, progress=lambda _: None)


def test_a_worker_waits_a_bounded_time_for_a_dead_endpoint_then_says_what_to_do(tmp_path):
    # GIVEN an endpoint where nothing listens
    endpoint = f"http://127.0.0.1:{engine.free_port()}"
    # WHEN a worker starts on it, allowed to wait 1 s for the endpoint to come back
    out = subprocess.run(
        [*WORKER, "--queue", f"{endpoint}/000000000000/q", "--db", str(tmp_path / "w.sqlite"),
         "--endpoint", endpoint, "--reconnect-seconds", "1"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    # THEN it gives up with exit 2, naming the endpoint, the wait and the fix — no unbounded retry loop
    assert out.returncode == EXIT_ERROR, out.stderr
    assert f"no SQS endpoint answers at {endpoint}" in out.stderr
    assert "after waiting 1 s" in out.stderr and "labsqs up" in out.stderr
