"""Is the Locust harness a fair instrument? Its throughput against a raw boto3 loop, same engine, one run.

A load-test harness should cost (almost) nothing: if Locust users moved fewer messages per second than
plain boto3 threads doing the same calls, the harness would be measuring itself. This script runs, on
one queue of the same engine:

- **send**: 4 Locust producer users (``labsqs.load.users.ProducerUser``, batches of 10) vs 4 threads calling
  ``send_message_batch`` in a loop;
- **receive + delete**: 4 Locust consumer users (receive 10, handler time 0, ``DeleteMessageBatch``) vs
  4 threads doing the same, each on a queue pre-filled with the same number of messages.

Rates are messages/s in the steady part of each side's run: from one second after its first completed
request to half a second before its last (Locust's start-up is not counted, nor the threads'). Both
sides send the same bodies. Rounds alternate (raw, Locust, Locust, raw ...) to spread the noise of
a shared machine; the ratio of the medians, Locust / raw, is printed per phase (goal: >= 0.9). Every
loop is bounded in time and messages.

    .venv/bin/python benchmarks/locust_harness.py [--users 4] [--seconds 6] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from labsqs import engine, load
from labsqs.client import resolve_endpoint, sqs_client
from labsqs.queues import QueueSpec, delete_queue, ensure_queue

BATCH = 10
SEND_MESSAGES_PER_USER = 6_000
CONSUME_MESSAGES = 8_000
WARMUP_SECONDS = 1.0
COOLDOWN_SECONDS = 0.5
LOCUSTFILE = Path(__file__).resolve().parent.parent / "loadtests" / "throughput.py"


def steady_rate(times: list[float]) -> float:
    """Messages/s in the steady part of a run: one timestamp per message, the first second (clients
    being built, users starting) and the last half second left out — the same window for both sides."""
    if len(times) < 2:
        return 0.0
    times = sorted(times)
    start, end = times[0] + WARMUP_SECONDS, times[-1] - COOLDOWN_SECONDS
    if end <= start:
        return (len(times) - 1) / (times[-1] - times[0])
    return sum(1 for t in times if start <= t <= end) / (end - start)


def body(n: int, i: int) -> str:
    """The same body the Locust producers send (id, send time, group)."""
    return f'{{"id": "raw-{n}-{i}", "sent_at": {time.time():.6f}, "group": "g{i % 10}"}}'


# --- the raw boto3 side --------------------------------------------------------------------------
def raw_send(endpoint: str | None, url: str, users: int, seconds: float) -> float:
    done: list[float] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        sqs = sqs_client(endpoint)
        deadline, sent = time.monotonic() + seconds, 0
        while time.monotonic() < deadline and sent < SEND_MESSAGES_PER_USER:
            entries: list[Any] = [{"Id": str(j), "MessageBody": body(n, sent + j)} for j in range(BATCH)]
            ok = sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Successful", [])
            sent += BATCH
            now = time.time()
            with lock:
                done.extend([now] * len(ok))

    run_threads(worker, users)
    return steady_rate(done)


def raw_consume(endpoint: str | None, url: str, users: int, seconds: float) -> float:
    done: list[float] = []
    lock = threading.Lock()

    def worker(_: int) -> None:
        sqs = sqs_client(endpoint)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            messages = sqs.receive_message(  # the same request the Locust consumers make
                QueueUrl=url,
                MaxNumberOfMessages=BATCH,
                WaitTimeSeconds=1,
                VisibilityTimeout=30,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            ).get("Messages", [])
            if not messages:
                return
            entries: list[Any] = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
            ]
            ok = sqs.delete_message_batch(QueueUrl=url, Entries=entries).get("Successful", [])
            now = time.time()
            with lock:
                done.extend([now] * len(ok))

    run_threads(worker, users)
    return steady_rate(done)


def run_threads(target, users: int) -> None:
    threads = [threading.Thread(target=target, args=(n,)) for n in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def fill(endpoint: str | None, url: str, count: int) -> None:
    """Pre-fill with ``count`` messages (4 threads, not measured)."""
    per = count // 4

    def worker(n: int) -> None:
        sqs = sqs_client(endpoint)
        for start in range(0, per, BATCH):
            entries: list[Any] = [{"Id": str(j), "MessageBody": body(n, start + j)} for j in range(BATCH)]
            sqs.send_message_batch(QueueUrl=url, Entries=entries)

    run_threads(worker, 4)


# --- the Locust side -----------------------------------------------------------------------------
def locust_run(endpoint: str | None, url: str, users: int, seconds: float, role: str, workdir: Path) -> float:
    """Run 4 producer or consumer users of labsqs.load.users headless; messages/s from the lab's event log."""
    prefix = workdir / f"{role}-{uuid.uuid4().hex[:6]}"
    count_option = ["--producers", str(users)] if role == "Producer" else ["--consumers", str(users)]
    cmd = [
        *load.locust_command(), "-f", str(LOCUSTFILE), "--headless", "-u", str(users), "-r", str(users),
        "-t", f"{int(seconds) + 2}s", "--only-summary", "--stop-timeout", "0", "--queue-url", url,
        "--lab-out", str(prefix), "--batch-size", str(BATCH), "--handler-time", "const:0",
        "--visibility-timeout", "30", "--max-messages", str(SEND_MESSAGES_PER_USER), *count_option, role,
    ]  # fmt: skip
    if endpoint:
        cmd += ["--host", endpoint]
    env = dict(os.environ, LABSQS_ENDPOINT=endpoint or "")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=seconds + 60)
    if proc.returncode not in (0, 1):
        sys.exit(f"locust failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    events = load.read_events(prefix)
    kind = "sent" if role == "Producer" else "deleted"
    return steady_rate(list(events.loc[events.event == kind, "t"]))  # one event per message


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=4, help="Locust users = raw threads (default 4)")
    parser.add_argument("--seconds", type=float, default=6.0, help="cap of each measured loop")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per side and phase (alternating)")
    args = parser.parse_args()

    if os.environ.get("LABSQS_ENDPOINT"):
        return run(resolve_endpoint(), args)
    # the load runs' engine (SQS metrics off), as `labsqs bench` uses
    with engine.started(port=engine.load_port(), metrics=False) as state:
        return run(state.endpoint, args)


def run(endpoint: str | None, args: argparse.Namespace) -> int:
    sqs = sqs_client(endpoint)
    print(
        f"engine endpoint {endpoint}; {args.users} Locust users vs {args.users} boto3 threads; batches of 10"
    )
    results: dict[str, dict[str, list[float]]] = {
        "send": {"raw": [], "locust": []},
        "receive+delete": {"raw": [], "locust": []},
    }
    order = (["raw", "locust", "locust", "raw"] * args.rounds)[: 2 * args.rounds]  # ABBA: drift cancels
    with tempfile.TemporaryDirectory() as tmp:
        for phase in results:
            for side in order:
                spec = QueueSpec(f"bench-harness-{uuid.uuid4().hex[:8]}", visibility_timeout_seconds=30,
                                 receive_wait_seconds=1)  # fmt: skip
                queue = ensure_queue(spec, sqs=sqs)  # a fresh queue per measurement
                try:
                    if phase == "receive+delete":
                        fill(endpoint, queue.url, CONSUME_MESSAGES)
                    if side == "raw":
                        measure = raw_send if phase == "send" else raw_consume
                        rate = measure(endpoint, queue.url, args.users, args.seconds)
                    else:
                        role = "Producer" if phase == "send" else "Consumer"
                        rate = locust_run(endpoint, queue.url, args.users, args.seconds, role, Path(tmp))
                finally:
                    delete_queue(queue, sqs=sqs, missing_ok=True)
                results[phase][side].append(rate)
                print(f"  {phase:15s} {side:6s} {rate:8.0f} msg/s", flush=True)

    print()
    print(f"{'phase (median)':16s} {'raw boto3':>10s} {'Locust':>10s} {'ratio':>7s}   (goal >= 0.90)")
    for phase, sides in results.items():
        raw, loc = statistics.median(sides["raw"]), statistics.median(sides["locust"])
        ratio = loc / raw if raw else float("nan")
        print(f"{phase:16s} {raw:10.0f} {loc:10.0f} {ratio:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
