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

ROUNDS = 5
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
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not msgs:
            break
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)],
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


def throughput(
    endpoints: dict[str, str], sizes: dict[str, int], backlog: int
) -> dict[str, dict[str, float | int]]:
    """Every engine measured in the same rounds (order rotating), so machine noise hits them alike."""
    clients = {name: sqs_client(url) for name, url in endpoints.items()}
    out: dict[str, dict[str, float | int]] = {name: {} for name in endpoints}
    for label, with_backlog in (("", 0), ("backlog ", backlog)):
        urls = {
            n: c.create_queue(QueueName=f"bench-{uuid.uuid4().hex[:8]}")["QueueUrl"]
            for n, c in clients.items()
        }
        if with_backlog:
            for name, sqs in clients.items():
                out[name]["backlog"] = prefill(sqs, urls[name], with_backlog)
        samples: dict[str, dict[str, list[float]]] = {
            n: {"single": [], "batch": [], "recv": []} for n in clients
        }
        names = list(clients)
        for round_no in range(ROUNDS):
            for name in names[round_no % len(names) :] + names[: round_no % len(names)]:
                sqs, url = clients[name], urls[name]
                ops = (("single", single_send), ("batch", batch_send), ("recv", receive_delete))
                for key, op in ops:
                    n = sizes["receive" if key == "recv" else key]
                    samples[name][key].append(rate(lambda op=op, sqs=sqs, url=url, n=n: op(sqs, url, n)))
        for name, sqs in clients.items():
            out[name][f"{label}single send"] = statistics.median(samples[name]["single"])
            out[name][f"{label}batch send"] = statistics.median(samples[name]["batch"])
            out[name][f"{label}receive+delete"] = statistics.median(samples[name]["recv"])
            sqs.delete_queue(QueueUrl=urls[name])
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
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores; msg/s median of {ROUNDS}; "
        f"backlog {backlog}"
    )
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

        pids, endpoints = [], {}
        try:
            for variant in ("loopback", "default", "hypercorn"):
                port = free_port()
                pid, endpoint, started = start_localstack_variant(variant, port, home)
                pids.append(pid)
                name = f"localstack ({variant})"
                endpoints[name] = endpoint
                rows[name] = {"start s": started, "bound": ",".join(sorted(engine.listening_addresses(port)))}
            port = free_port()
            t0 = time.perf_counter()
            state = engine.up("moto", port=port, home=home, progress=lambda _: None)
            rows["moto"] = {"start s": time.perf_counter() - t0,
                            "bound": ",".join(sorted(engine.listening_addresses(port)))}  # fmt: skip
            endpoints["moto"] = str(state.endpoint)
            up = ", ".join(f"{n} on {row['bound']}" for n, row in rows.items())
            print(f"  engines up: {up}", flush=True)
            for name, figures in throughput(endpoints, sizes, backlog).items():
                rows[name].update(figures)
        finally:
            for pid in pids:
                engine._terminate(pid)  # noqa: SLF001
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
    ratio = lo["backlog receive+delete"] / mo["backlog receive+delete"]
    print(f"localstack/moto receive+delete with backlog: {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
