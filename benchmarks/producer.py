"""Producer benchmark: what does labsqs.producer.send_many cost over a bare boto3 batch loop?

Same engine, same client, same bodies (job-like dicts of ~250 bytes), in rounds whose order rotates so
every contender runs first, second and third equally often (position in a round skews a shared machine):

- ``raw``               json.dumps + send_message_batch in chunks of 10, checking ``Failed`` — the loop
                        people write
- ``send_many``         labsqs.producer.send_many(queue_handle, bodies): validation (UTF-8 size,
                        characters), 10-entry / 1 MiB planning, per-message results in input order
- ``send_many(url)``    the same with a queue URL: one extra GetQueueAttributes per call

Prints msg/s per round, the medians, and send_many / raw (goal >= 0.95) two ways: the ratio of the
medians and the median of per-round ratios (contenders of one round ran seconds apart, so drift cancels).
A warm-up round of each is not counted. Last, the client-side CPU per message of both loops against a
client that answers instantly — the one figure here that machine noise does not blur. ``--fifo`` runs
the same on a FIFO queue (group per user, dedup id per message).

    .venv/bin/python benchmarks/producer.py [--messages 2000] [--rounds 12] [--fifo]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

from labsqs.base.limits import MAX_BATCH_ENTRIES
from labsqs.client import sqs_client
from labsqs.producer import send_many
from labsqs.queues import Queue, QueueSpec, delete_queue, ensure_queue


def bodies(n: int, round_no: int) -> list[dict[str, Any]]:
    """Job-like messages (the seed's JobSpy producer), unique per round so FIFO dedup never drops one."""
    return [
        {
            "id": f"r{round_no}-{i}",
            "userId": f"user-{i % 50}",
            "title": "Senior Software Engineer",
            "company": "Example Corp",
            "location": "Zürich, CH",
            "job_url": f"https://jobs.example.com/view/{round_no}/{i}",
            "min_amount": 120000,
            "max_amount": 150000,
            "is_remote": i % 3 == 0,
        }
        for i in range(n)
    ]


def raw_loop(sqs: Any, url: str, items: list[dict[str, Any]], fifo: bool) -> int:
    sent = 0
    for start in range(0, len(items), MAX_BATCH_ENTRIES):
        entries = []
        for j, item in enumerate(items[start : start + MAX_BATCH_ENTRIES]):
            entry: dict[str, Any] = {"Id": str(j), "MessageBody": json.dumps(item)}
            if fifo:
                entry["MessageGroupId"] = item["userId"]
                entry["MessageDeduplicationId"] = item["id"]
            entries.append(entry)
        answer = sqs.send_message_batch(QueueUrl=url, Entries=entries)
        if answer.get("Failed"):
            raise RuntimeError(f"raw loop: {answer['Failed'][:1]}")
        sent += len(answer.get("Successful", []))
    return sent


def producer_loop(sqs: Any, queue: Queue | str, items: list[dict[str, Any]], fifo: bool) -> int:
    options: dict[str, Any] = {}
    if fifo:
        options = {"group_by": lambda m: m["userId"], "dedup_by": lambda m: m["id"]}
    report = send_many(queue, items, sqs=sqs, **options)
    if not report.ok:
        raise RuntimeError(f"send_many: {report.failed[:1]}")
    return len(report.sent)


class InstantClient:
    """Answers every batch at once, without a network: isolates the Python cost per message."""

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        ok = [{"Id": e["Id"], "MessageId": e["Id"], "MD5OfMessageBody": ""} for e in Entries]
        return {"Successful": ok, "Failed": []}


def cpu_cost_microseconds(n: int = 20_000) -> dict[str, float]:
    """Client-side CPU per message of each loop, on :class:`InstantClient` (best of 3)."""
    fake, items = InstantClient(), bodies(n, 0)
    queue = Queue("cpu", "http://cpu.invalid/q", "arn:cpu", False, max_message_size_bytes=1_048_576)
    loops = {
        "raw": lambda: raw_loop(fake, queue.url, items, False),
        "send_many": lambda: producer_loop(fake, queue, items, False),
    }
    out = {}
    for label, loop in loops.items():
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            loop()
            best = min(best, time.perf_counter() - t0)
        out[label] = best / n * 1e6
    return out


def timed(fn: Callable[[], int]) -> float:
    t0 = time.perf_counter()
    n = fn()
    return n / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000, help="messages per round (default 2000)")
    parser.add_argument("--rounds", type=int, default=12, help="timed rounds per contender (default 12)")
    parser.add_argument("--fifo", action="store_true", help="use a FIFO queue (group per user, dedup ids)")
    args = parser.parse_args()

    sqs = sqs_client()
    name = f"bench-producer-{uuid.uuid4().hex[:8]}" + (".fifo" if args.fifo else "")
    queue = ensure_queue(QueueSpec(name, with_dlq=False, retention_seconds=600), sqs=sqs)
    contenders: dict[str, Callable[[list[dict[str, Any]]], int]] = {
        "raw": lambda items: raw_loop(sqs, queue.url, items, args.fifo),
        "send_many": lambda items: producer_loop(sqs, queue, items, args.fifo),
        "send_many(url)": lambda items: producer_loop(sqs, queue.url, items, args.fifo),
    }
    rates: dict[str, list[float]] = {k: [] for k in contenders}
    print(f"endpoint {sqs.meta.endpoint_url}  queue {name}  {args.messages} msgs/round  {args.rounds} rounds")
    try:
        round_no = 0
        for run in contenders.values():  # warm-up: connections, code paths
            round_no += 1
            run(bodies(200, round_no))
        for r in range(args.rounds):
            names = list(contenders)
            shift = r % len(names)
            order = names[shift:] + names[:shift]
            line = []
            for label in order:
                round_no += 1
                items = bodies(args.messages, round_no)
                rate = timed(lambda run=contenders[label], items=items: run(items))
                rates[label].append(rate)
                line.append(f"{label} {rate:7.0f}")
            print(f"round {r + 1}: " + "  ".join(line) + "  msg/s")
    finally:
        delete_queue(queue, sqs=sqs, missing_ok=True)
    medians = {k: statistics.median(v) for k, v in rates.items()}
    print()
    for label, value in medians.items():
        print(f"median {label:<15} {value:7.0f} msg/s")
    paired = statistics.median(s / r for s, r in zip(rates["send_many"], rates["raw"], strict=True))
    paired_url = statistics.median(s / r for s, r in zip(rates["send_many(url)"], rates["raw"], strict=True))
    print(
        f"ratio send_many / raw      {medians['send_many'] / medians['raw']:.3f} of medians, "
        f"{paired:.3f} median of per-round ratios  (goal >= 0.95)"
    )
    print(
        f"ratio send_many(url) / raw {medians['send_many(url)'] / medians['raw']:.3f} of medians, "
        f"{paired_url:.3f} median of per-round ratios"
    )
    cpu = cpu_cost_microseconds()
    print(
        f"client CPU per message (no network): raw {cpu['raw']:.1f} µs, send_many {cpu['send_many']:.1f} µs "
        f"(+{cpu['send_many'] - cpu['raw']:.1f} µs against ~{1e6 / medians['raw']:.0f} µs per message sent)"
    )


if __name__ == "__main__":
    main()
