"""Engine benchmark: why LocalStack-on-the-host is the lab's default.

Prints, for each engine available on this machine, in one run:
- start time (engine environment already installed), and the cold install of that environment separately;
- raw boto3 throughput: single send, batch send (10), receive 10 + delete batch — on a short queue and
  with a 10,000-message backlog;
- the cost of binding LocalStack to loopback: the lab's launcher (Twisted on 127.0.0.1) vs LocalStack's
  default (Twisted on 0.0.0.0) vs GATEWAY_SERVER=hypercorn (loopback), measured side by side.

Figures are msg/s, median of ROUNDS rounds. Every loop is bounded in count and time.

    .venv/bin/python benchmarks/engine.py [--quick] [--skip-cold]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from labsqs import engine
from labsqs.client import sqs_client

ROUNDS = 3
BACKLOG_MESSAGES = 10_000
ROUND_CAP_SECONDS = 15.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rate(fn: Callable[[], int]) -> float:
    t0 = time.perf_counter()
    n = fn()
    return n / (time.perf_counter() - t0)


def single_send(sqs, url: str, n: int) -> int:
    deadline = time.monotonic() + ROUND_CAP_SECONDS
    for i in range(n):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
        if time.monotonic() > deadline:
            return i + 1
    return n


def batch_send(sqs, url: str, n: int) -> int:
    deadline, sent = time.monotonic() + ROUND_CAP_SECONDS, 0
    while sent < n and time.monotonic() < deadline:
        entries = [{"Id": str(j), "MessageBody": f"m{sent + j}"} for j in range(10)]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
        sent += 10
    return sent


def receive_delete(sqs, url: str, n: int) -> int:
    deadline, done = time.monotonic() + ROUND_CAP_SECONDS, 0
    while done < n and time.monotonic() < deadline:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not msgs:
            break
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)]
        )
        done += len(msgs)
    return done


def prefill(sqs, url: str, n: int, cap_seconds: float = 90.0) -> int:
    deadline, sent = time.monotonic() + cap_seconds, 0
    while sent < n and time.monotonic() < deadline:
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(j), "MessageBody": f"backlog{sent + j}"} for j in range(10)]
        )
        sent += 10
    return sent


def throughput(endpoint: str, sizes: dict[str, int], backlog: int) -> dict[str, float | int]:
    sqs = sqs_client(endpoint)
    out: dict[str, float | int] = {}
    for label, with_backlog in (("", 0), ("backlog ", backlog)):
        url = sqs.create_queue(QueueName=f"bench-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        if with_backlog:
            out["backlog"] = prefill(sqs, url, with_backlog)
        singles, batches, recvs = [], [], []
        for _ in range(ROUNDS):
            singles.append(rate(lambda: single_send(sqs, url, sizes["single"])))
            batches.append(rate(lambda: batch_send(sqs, url, sizes["batch"])))
            recvs.append(rate(lambda: receive_delete(sqs, url, sizes["receive"])))
        out[f"{label}single send"] = statistics.median(singles)
        out[f"{label}batch send"] = statistics.median(batches)
        out[f"{label}receive+delete"] = statistics.median(recvs)
        sqs.delete_queue(QueueUrl=url)
    return out


def start_localstack_variant(variant: str, port: int, home: Path) -> tuple[int, str, float]:
    """Start LocalStack as the lab does ("loopback"), as it does by default ("default"), or on hypercorn."""
    python = engine.ensure_localstack_env(progress=lambda _: None)
    env = engine._localstack_env(home, "127.0.0.1", port, "sqs")  # noqa: SLF001 - same env as the lab's
    cmd = [str(python), str(engine.LAUNCHER)]
    if variant == "default":
        cmd = [str(python), "-m", "localstack.runtime.main"]
    elif variant == "hypercorn":
        env["GATEWAY_SERVER"] = "hypercorn"
        cmd = [str(python), "-m", "localstack.runtime.main"]
    log = home / f"{variant}.log"
    t0 = time.perf_counter()
    proc = engine._spawn(cmd, env, log)  # noqa: SLF001
    endpoint = f"http://127.0.0.1:{port}"

    def ready() -> str | None:
        health = engine.localstack_health(endpoint)
        return "ok" if health and health.get("services", {}).get("sqs") == "running" else None

    engine._wait_ready(proc, ready, log, 90)  # noqa: SLF001
    return proc.pid, endpoint, time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller counts")
    parser.add_argument("--skip-cold", action="store_true", help="skip the cold install measurement")
    args = parser.parse_args()
    sizes = {"single": 200, "batch": 2000, "receive": 2000}
    backlog = BACKLOG_MESSAGES
    if args.quick:
        sizes, backlog = {"single": 100, "batch": 500, "receive": 500}, 2000
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; msg/s median of {ROUNDS}; backlog {backlog}")
    rows: dict[str, dict[str, float | int]] = {}

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        if not args.skip_cold:
            cold_home = home / "cold"
            os.environ["LABSQS_HOME"] = str(cold_home)
            t0 = time.perf_counter()
            engine.ensure_localstack_env(progress=lambda _: None)
            cold = time.perf_counter() - t0
            os.environ.pop("LABSQS_HOME")
            print(f"cold install of the LocalStack engine environment: {cold:.1f} s")

        for variant in ("loopback", "default", "hypercorn"):
            port = free_port()
            pid, endpoint, started = start_localstack_variant(variant, port, home)
            bound = sorted(engine.listening_addresses(port))
            try:
                rows[f"localstack ({variant})"] = {"start s": started, "bound": ",".join(bound),
                                                   **throughput(endpoint, sizes, backlog)}  # fmt: skip
            finally:
                engine._terminate(pid)  # noqa: SLF001
            print(f"  measured localstack ({variant}) bound to {bound}", flush=True)

        port = free_port()
        t0 = time.perf_counter()
        state = engine.up("moto", port=port, home=home, progress=lambda _: None)
        started = time.perf_counter() - t0
        try:
            rows["moto"] = {"start s": started, "bound": ",".join(sorted(engine.listening_addresses(port))),
                            **throughput(state.endpoint, sizes, backlog)}  # fmt: skip
        finally:
            engine.down(port=port, home=home, progress=lambda _: None)

    keys = [k for k in next(iter(rows.values())) if k != "bound"]
    print()
    print(f"{'engine':24s} {'bound':10s} " + " ".join(f"{k:>22s}" for k in keys))
    for name, row in rows.items():
        cells = " ".join(f"{row[k]:22.1f}" if isinstance(row[k], float) else f"{row[k]:>22}" for k in keys)
        print(f"{name:24s} {str(row['bound']):10s} {cells}")
    lo, de = rows["localstack (loopback)"], rows["localstack (default)"]
    hy = rows["localstack (hypercorn)"]
    for k in ("batch send", "receive+delete"):
        print(f"loopback/default {k}: {lo[k] / de[k]:.2f}x   hypercorn/default {k}: {hy[k] / de[k]:.2f}x")
    mo = rows["moto"]
    print(f"localstack/moto receive+delete with backlog: {lo['backlog receive+delete'] / mo['backlog receive+delete']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
