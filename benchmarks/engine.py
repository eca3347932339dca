"""Engine benchmark: why LocalStack-on-the-host is the lab's default, and what SQS metrics cost.

Prints, for each engine available on this machine, in one run:
- start time of `labsqs up` (environment installed; median of START_ROUNDS starts): the lessons' engine
  (SQS, SNS, CloudWatch, S3, SES; lazily loaded) and the load runs' engine; the cold install separately;
- raw boto3 throughput: single send, batch send (10), receive 10 + delete batch — on a short queue and
  with a 10,000-message backlog — for: the lessons' engine (SQS metrics published to CloudWatch), the load
  runs' engine (metrics off: what `labsqs bench` starts), an engine without CloudWatch at all (sqs,sns:
  the reference), the load engine on LocalStack 4.13.1 (the line of machines without Python 3.13),
  LocalStack's default bind (0.0.0.0, to show the loopback launcher costs nothing) and moto;
- the ratios: load engine / no-CloudWatch engine (the target is >= 0.9x) and lessons / no-CloudWatch.

Figures are msg/s, median of ROUNDS rounds. Every loop is bounded in count and time.

    .venv/bin/python benchmarks/engine.py [--quick] [--skip-cold]
"""

from __future__ import annotations

import argparse
import os
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
START_ROUNDS = 3
VARIANTS: dict[str, dict] = {  # engine.up() keyword arguments
    "lessons (metrics on)": {"metrics": True},
    "load (metrics off)": {"metrics": False},
    "no CloudWatch (sqs,sns)": {"metrics": False, "services": "sqs,sns"},
    "load, LocalStack 4.13.1": {"metrics": False, "localstack": "4.13.1"},
}
BACKLOG_MESSAGES = 10_000
ROUND_CAP_SECONDS = 15.0


def bound(port: int) -> str:
    return ",".join(sorted(engine.listening_addresses(port)))


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


def start_default_bind(port: int, home: Path) -> tuple[int, str]:
    """LocalStack as it starts without the lab's launcher: Twisted listening on 0.0.0.0 (sqs,sns)."""
    line, python = engine.ensure_localstack_env(progress=lambda _: None)
    env = engine._localstack_env(home, "127.0.0.1", port, "sqs,sns", False)  # noqa: SLF001 - the lab's env
    log = home / "default-bind.log"
    proc = engine._spawn([str(python), "-m", "localstack.runtime.main"], env, log)  # noqa: SLF001
    endpoint = f"http://127.0.0.1:{port}"

    def ready() -> str | None:
        return "ok" if engine.localstack_health(endpoint) and engine._sqs_answers(endpoint) else None  # noqa: SLF001

    engine._wait_ready(proc, ready, log, 90)  # noqa: SLF001
    return proc.pid, endpoint


def start_times(home: Path) -> dict[str, float]:
    """Median seconds from `up()` to an answering engine, per variant, over START_ROUNDS fresh starts."""
    times: dict[str, list[float]] = {name: [] for name in ("lessons (metrics on)", "load (metrics off)",
                                                           "no CloudWatch (sqs,sns)")}
    for _ in range(START_ROUNDS):
        for name in times:
            port = engine.free_port()
            t0 = time.perf_counter()
            engine.up("localstack", port=port, home=home, progress=lambda _: None, **VARIANTS[name])
            times[name].append(time.perf_counter() - t0)
            engine.down(port=port, home=home, progress=lambda _: None)
    return {name: statistics.median(ts) for name, ts in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller counts")
    parser.add_argument("--skip-cold", action="store_true", help="skip the cold install measurement")
    parser.add_argument("--skip-moto", action="store_true", help="leave moto out (its rounds take minutes)")
    args = parser.parse_args()
    sizes = {"single": 200, "batch": 2000, "receive": 2000}
    backlog = BACKLOG_MESSAGES
    if args.quick:
        sizes, backlog = {"single": 100, "batch": 500, "receive": 500}, 2000
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores; msg/s median of {ROUNDS}; "
        f"backlog {backlog}"
    )
    rows: dict[str, dict[str, float | int | str]] = {}

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        if not args.skip_cold:
            cold_home = home / "cold"
            os.environ["LABSQS_HOME"] = str(cold_home)
            t0 = time.perf_counter()
            line, _ = engine.ensure_localstack_env(progress=lambda _: None)
            cold = time.perf_counter() - t0
            os.environ.pop("LABSQS_HOME")
            print(f"cold install of the LocalStack {line.version} engine environment: {cold:.1f} s")
        for name, seconds in start_times(home).items():
            print(f"start (labsqs up -> answering), {name}: {seconds:.2f} s (median of {START_ROUNDS})")

        ports, pids, endpoints = [], [], {}
        try:
            for name, kwargs in VARIANTS.items():
                port = engine.free_port()
                state = engine.up("localstack", port=port, home=home, progress=lambda _: None, **kwargs)
                ports.append(port)
                endpoints[name] = str(state.endpoint)
                rows[name] = {"engine": state.description, "bound": bound(port)}
            port = engine.free_port()
            pid, endpoints["default bind (sqs,sns)"] = start_default_bind(port, home)
            pids.append(pid)
            rows["default bind (sqs,sns)"] = {"engine": "as LocalStack starts", "bound": bound(port)}
            if not args.skip_moto:
                port = engine.free_port()
                state = engine.up("moto", port=port, home=home, progress=lambda _: None)
                ports.append(port)
                endpoints["moto"] = str(state.endpoint)
                rows["moto"] = {"engine": state.description, "bound": bound(port)}
            print("  engines up: " + ", ".join(f"{n} on {r['bound']}" for n, r in rows.items()), flush=True)
            for name, figures in throughput(endpoints, sizes, backlog).items():
                rows[name].update(figures)
        finally:
            for pid in pids:
                engine._terminate(pid)  # noqa: SLF001
            for port in ports:
                engine.down(port=port, home=home, progress=lambda _: None)

    keys = [k for k in next(iter(rows.values())) if k not in {"bound", "engine"}]
    print()
    print(f"{'engine':26s} {'bound':10s} " + " ".join(f"{k:>22s}" for k in keys))
    for name, row in rows.items():
        cells = " ".join(f"{row[k]:22.1f}" if isinstance(row[k], float) else f"{row[k]:>22}" for k in keys)
        print(f"{name:26s} {str(row['bound']):10s} {cells}")
    print()
    ref = rows["no CloudWatch (sqs,sns)"]
    for name in [n for n in rows if n not in {"no CloudWatch (sqs,sns)", "moto"}]:
        ratios = ", ".join(f"{k} {float(rows[name][k]) / float(ref[k]):.2f}x" for k in keys if k != "backlog")
        print(f"{name} / no CloudWatch: {ratios}")
    if "moto" in rows:
        ratio = float(ref["backlog receive+delete"]) / float(rows["moto"]["backlog receive+delete"])
        print(f"localstack/moto receive+delete with backlog: {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
