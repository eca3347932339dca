"""Fault drill at full size: N messages, 3 worker processes killed with SIGKILL at random and restarted.

For each queue kind (standard, FIFO) this runs :func:`labsqs.drill.run_drill` on the lab's engine and
prints every figure of its account: sent, processed, in the DLQ (healthy messages there split by cause:
behind a failing poison message of their group, or kills alone), lost, duplicate deliveries and how each
was settled (skipped by the idempotency store, or cut short by a kill), duplicates caught at commit,
FIFO order violations, kills (and how many hit a worker holding messages), restarts, elapsed seconds.
Exit code 1 when a drill's account does not balance (``DrillReport.ok``).

    .venv/bin/python benchmarks/faults.py                       # 10,000 messages, standard and FIFO
    .venv/bin/python benchmarks/faults.py --messages 2000 --kinds fifo --signal TERM

The CI version of the same drill is tests/test_faults.py (300 messages; LABSQS_FAULT_MESSAGES=10000
makes it this size). Figures and the accounting model: docs/reliability.md.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import time

from labsqs import engine
from labsqs.client import resolve_endpoint
from labsqs.drill import run_drill

ROWS = (
    "sent", "poison_sent", "processed", "in_dlq", "dlq_poison", "dlq_with_reason", "dlq_healthy_by_poison",
    "dlq_healthy_by_kills", "lost", "unexpected",
    "processed_and_dlq", "deliveries", "redeliveries", "duplicate_deliveries", "duplicates_skipped",
    "duplicates_cut_by_kill", "duplicates_unaccounted", "skips_unmatched", "duplicates_caught",
    "order_violations", "stops", "stops_holding_messages", "restarts", "unclean_exits", "crashes", "drained",
    "elapsed_seconds", "ok",
)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=10_000)
    p.add_argument("--kinds", nargs="+", choices=["standard", "fifo"], default=["standard", "fifo"])
    p.add_argument("--processes", type=int, default=3)
    p.add_argument("--workers-per-process", type=int, default=2)
    p.add_argument("--signal", choices=["KILL", "TERM"], default="KILL")
    p.add_argument("--max-stops", type=int, default=40)
    p.add_argument("--stop-every", type=float, nargs=2, default=(0.3, 1.2), metavar=("MIN_S", "MAX_S"))
    p.add_argument("--work-ms", type=float, default=5.0, help="simulated work per message")
    p.add_argument("--poison-every", type=int, default=100, help="every Nth message is non-JSON poison")
    p.add_argument("--groups", type=int, default=24, help="FIFO message groups")
    p.add_argument("--max-receive-count", type=int, default=5)
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per drill")
    p.add_argument(
        "--no-fifo-guard",
        action="store_true",
        help="workers without the consumer's FIFO guard (what it saves: dlq_healthy_by_poison)",
    )
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--endpoint", default=None)
    p.add_argument("--json", action="store_true", help="also print each report as one JSON line")
    args = p.parse_args(argv)

    endpoint = resolve_endpoint(args.endpoint)
    print(f"fault drill: {args.messages:,} messages, {args.processes} worker processes "
          f"({args.workers_per_process} threads each), SIG{args.signal} every {args.stop_every[0]:g}-"
          f"{args.stop_every[1]:g} s (max {args.max_stops}), work {args.work_ms:g} ms/message, "
          f"poison every {args.poison_every}, maxReceiveCount {args.max_receive_count}, "
          f"FIFO guard {'off' if args.no_fifo_guard else 'on'}, endpoint {endpoint}")  # fmt: skip
    running = engine.current()
    print(f"engine: {running.description if running else engine.status(endpoint=endpoint).version}")
    reports = {}
    for kind in args.kinds:
        t0 = time.monotonic()
        with tempfile.TemporaryDirectory(prefix=f"labsqs-faults-{kind}-") as work:
            report = run_drill(
                kind, args.messages, workdir=work, endpoint=endpoint, processes=args.processes,
                workers_per_process=args.workers_per_process, stop_signal=signal.Signals[f"SIG{args.signal}"],
                stop_every_seconds=tuple(args.stop_every), max_stops=args.max_stops, seed=args.seed,
                work_ms=args.work_ms, poison_every=args.poison_every, groups=args.groups,
                max_receive_count=args.max_receive_count, timeout_seconds=args.timeout,
                fifo_guard=not args.no_fifo_guard,
                progress=lambda text, k=kind: print(f"  [{k}] {text}", flush=True),
            )  # fmt: skip
        reports[kind] = report.figures()
        print(f"  [{kind}] done in {time.monotonic() - t0:.1f} s", flush=True)
        if report.lost:
            print(f"  [{kind}] lost uids (first 20): {report.lost[:20]}")

    width = max(len(r) for r in ROWS)
    print()
    print(f"{'figure'.ljust(width)}  " + "  ".join(k.rjust(9) for k in reports))
    for row in ROWS:
        print(f"{row.ljust(width)}  " + "  ".join(str(reports[k][row]).rjust(9) for k in reports))
    if args.json:
        for kind, figures in reports.items():
            print(json.dumps({"kind": kind, **figures}))
    return 0 if all(r["ok"] for r in reports.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
