"""Consumer benchmark: what does labsqs.consumer cost over a bare boto3 loop?

Same engine, same client, same pre-filled backlog (send_message_batch), alternating rounds, on a standard
queue and on a FIFO queue (with a DLQ after 5 receives) whose messages are spread over many groups
(``--groups``, default 100) — the healthy FIFO case, where the consumer's FIFO guard is on and must cost
nothing:

- ``consumer``   Consumer(workers=1, no-op handler, 10 per receive, heartbeat on) run(stop_after=N)
- ``raw``        receive_message(10) + delete_message_batch until N are deleted — the loop people write
- ``raw+attrs``  the same loop asking for every system and message attribute, as the consumer does
                 (it needs ApproximateReceiveCount, SentTimestamp, MessageGroupId ...)
- ``no-guard``   (FIFO only) the consumer with ``fifo_guard=False``: consumer / no-guard is the guard's cost

Prints msg/s per round, the client's CPU per message (the library's own cost, steady even when other
processes load the machine), the medians, and consumer / raw (goal >= 0.95) two ways: the ratio of the
medians, and the median of the per-round ratios. The machine is shared, so throughput drifts between
rounds; the per-round ratio compares loops run seconds apart and is the steadier figure.

    .venv/bin/python benchmarks/consumer.py [--messages 2000] [--rounds 5] [--kinds standard fifo]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from collections.abc import Callable

from labsqs.client import sqs_client
from labsqs.consumer import Consumer, FifoGuard, Message, guarded_receive

FILL_THREADS_NOTE = "backlog filled with send_message_batch (10 per request) before each timed loop"
WAIT_TIME_SECONDS = 1  # the backlog is there: a receive returns at once; 1 s only bounds the empty tail
ROUND_CAP_SECONDS = 120.0


def fill(sqs, url: str, n: int, groups: int | None = None) -> None:
    """``n`` messages; on a FIFO queue (``groups`` set) message i goes to group i % groups, each with a
    fresh deduplication id (FIFO queues drop a repeated id for 5 minutes, and rounds repeat bodies)."""
    run = uuid.uuid4().hex[:8]
    for start in range(0, n, 10):
        entries = [{"Id": str(j), "MessageBody": f'{{"n": {start + j}}}'} for j in range(min(10, n - start))]
        if groups is not None:
            for j, e in enumerate(entries):
                e["MessageGroupId"] = f"g{(start + j) % groups:03d}"
                e["MessageDeduplicationId"] = f"{run}-{start + j}"
        resp = sqs.send_message_batch(QueueUrl=url, Entries=entries)
        if resp.get("Failed"):
            raise RuntimeError(f"fill failed: {resp['Failed'][:1]}")


def raw_loop(sqs, url: str, n: int, *, attributes: bool) -> int:
    extra = {"MessageSystemAttributeNames": ["All"], "MessageAttributeNames": ["All"]} if attributes else {}
    deadline, done = time.monotonic() + ROUND_CAP_SECONDS, 0
    while done < n and time.monotonic() < deadline:
        msgs = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=WAIT_TIME_SECONDS, **extra
        ).get("Messages", [])
        if not msgs:
            continue
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)],
        )
        done += len(msgs)
    return done


def consumer_loop(sqs, url: str, n: int, *, fifo_guard: bool = True) -> int:
    consumer = Consumer(
        url, lambda m: None, sqs=sqs, workers=1, wait_time_seconds=WAIT_TIME_SECONDS, fifo_guard=fifo_guard
    )
    return consumer.run(stop_after=n, timeout_seconds=ROUND_CAP_SECONDS).deleted


def guard_bookkeeping_us(batches: int = 100_000) -> float:
    """The FIFO guard's own work on a healthy receive of 10 (no failed head): µs per batch, CPU only."""
    guard = FifoGuard()
    batch = [
        Message(f"m{i}", f"h{i}", "{}", "url", {"MessageGroupId": "g", "ApproximateReceiveCount": "1"})
        for i in range(10)
    ]

    def one_receive() -> None:  # what Consumer._receive and _delete add for a guarded queue
        guarded_receive(10, WAIT_TIME_SECONDS, guard.visible_in())
        guard.received(batch, time.time())
        guard.settled(batch)

    c0 = time.process_time()
    for _ in range(batches):
        one_receive()
    return (time.process_time() - c0) / batches * 1e6


def timed(loop: Callable[[], int], n: int) -> tuple[float, float]:
    """(msg/s wall clock, client CPU µs per message — this process, all threads)."""
    t0, c0 = time.perf_counter(), time.process_time()
    done = loop()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    if done != n:
        raise RuntimeError(f"loop handled {done} of {n} messages")
    return done / elapsed, cpu / done * 1e6


def bench(sqs, kind: str, n: int, rounds: int, groups: int) -> None:
    fifo = kind == "fifo"
    stem = f"bench-consumer-{uuid.uuid4().hex[:8]}"
    attributes = {"VisibilityTimeout": "60"}
    dlq_url = None
    if fifo:  # with a DLQ, as FIFO queues in the lab have: the consumer's FIFO guard is then active
        dlq_url = sqs.create_queue(QueueName=f"{stem}-dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn["QueueArn"], "maxReceiveCount": 5})
        attributes |= {"FifoQueue": "true", "RedrivePolicy": redrive}
    url = sqs.create_queue(QueueName=stem + (".fifo" if fifo else ""), Attributes=attributes)["QueueUrl"]
    loops: dict[str, Callable[[], int]] = {
        "consumer": lambda: consumer_loop(sqs, url, n),
        "raw": lambda: raw_loop(sqs, url, n, attributes=False),
        "raw+attrs": lambda: raw_loop(sqs, url, n, attributes=True),
    }
    if fifo:
        loops["no-guard"] = lambda: consumer_loop(sqs, url, n, fifo_guard=False)
    rates: dict[str, list[float]] = {name: [] for name in loops}
    cpu_us: dict[str, list[float]] = {name: [] for name in loops}
    shape = f"FIFO, {groups} groups" if fifo else "standard"
    print(f"[{kind}] {shape}; {n} messages a round; {rounds} rounds; {FILL_THREADS_NOTE}")
    fill_groups = groups if fifo else None
    try:
        fill(sqs, url, n, fill_groups)
        loops["raw"]()  # warm-up: connections, the engine's code paths
        for r in range(rounds):
            order = list(loops) if r % 2 == 0 else list(reversed(loops))  # alternate to cancel drift
            figures = []
            for name in order:
                fill(sqs, url, n, fill_groups)
                rate, cpu = timed(loops[name], n)
                rates[name].append(rate)
                cpu_us[name].append(cpu)
                figures.append(f"{name} {rates[name][-1]:7.0f}")
            print(f"[{kind}] round {r + 1}: " + "  ".join(figures) + "  msg/s")
    finally:
        for queue in (url, dlq_url):
            if queue is not None:
                sqs.delete_queue(QueueUrl=queue)
    med = {name: statistics.median(v) for name, v in rates.items()}
    print(f"[{kind}] median msg/s: " + "  ".join(f"{name} {v:.0f}" for name, v in med.items()))
    print(
        f"[{kind}] median client CPU µs/msg: "
        + "  ".join(f"{k} {statistics.median(v):.0f}" for k, v in cpu_us.items())
    )
    if fifo:
        us = guard_bookkeeping_us()
        print(
            f"[{kind}] FIFO guard bookkeeping on a healthy receive of 10: {us:.1f} µs CPU "
            f"({us / 10:.2f} µs/msg)"
        )
    for base in ("raw", "raw+attrs", "no-guard")[: len(loops) - 1]:
        paired = statistics.median(c / b for c, b in zip(rates["consumer"], rates[base], strict=True))
        print(
            f"[{kind}] consumer / {base:<9}: ratio of medians {med['consumer'] / med[base]:.3f}, "
            f"median of per-round ratios {paired:.3f}  (goal >= 0.95)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--kinds", nargs="+", choices=["standard", "fifo"], default=["standard", "fifo"])
    parser.add_argument("--groups", type=int, default=100, help="FIFO message groups")
    args = parser.parse_args()
    sqs = sqs_client()
    print(f"endpoint {sqs.meta.endpoint_url}")
    for kind in args.kinds:
        bench(sqs, kind, args.messages, args.rounds, args.groups)


if __name__ == "__main__":
    main()
