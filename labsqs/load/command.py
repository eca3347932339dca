"""``labsqs bench``: the command that runs the load-test matrix and writes its report
(``python -m labsqs.load`` is the same command).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from labsqs.load.spec import MAX_PROCESSES, SCENARIOS, int_in

if TYPE_CHECKING:
    import pandas as pd

    from labsqs.load.analysis import RunResult


def cmd_bench(args: argparse.Namespace) -> int:
    from labsqs.load.orchestrator import bench  # the command's parser starts without the orchestrator
    from labsqs.load.report import ratio_range

    results, paths = bench(
        args.scenario,
        quick=args.quick,
        engine_name=args.engine,
        processes=args.processes,
        workers=args.workers,
        master_port=args.master_port,
        out=args.out,
        aws_costs_ok=args.i_understand_aws_costs,
    )
    print(f"report: {paths['summary']}")
    frame = pd_frame(results)
    if "ratio_processed" in frame.columns and frame.ratio_processed.notna().any():
        for scenario, sub in frame.groupby("scenario", sort=False):
            print(f"planner vs measured, {scenario}: processed msg/s {ratio_range(sub, 'ratio_processed')}")
            print(f"planner vs measured, {scenario}: e2e p50 {ratio_range(sub, 'ratio_e2e_p50')}")
    for key in ("csv", "throughput_png", "latency_png", "visibility_png"):
        if key in paths:
            print(f"        {paths[key]}")
    unbalanced = [r.config.label for r in results if not r.accounting.balanced]
    if unbalanced:
        print(f"accounting does not balance for: {', '.join(unbalanced)}", file=sys.stderr)
        return 1
    return 0


def pd_frame(results: Sequence[RunResult]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame([r.row for r in results])


def register_cli(subparsers: argparse._SubParsersAction, commands: dict[str, Callable]) -> None:
    """Add ``labsqs bench`` to the lab's command (called by :mod:`labsqs.cli`)."""
    from labsqs.engine import ENGINES

    p = subparsers.add_parser(
        "bench",
        help="Locust load tests: FIFO vs standard throughput, visibility timeout; writes a report",
        description="Run the load-test matrix headless (each run bounded in time and messages) and write "
        "reports/<timestamp>/: results.csv, PNG plots, summary.md.",
    )
    p.add_argument("--scenario", choices=(*SCENARIOS, "all"), default="all")
    p.add_argument("--quick", action="store_true", help="a small matrix (a couple of configurations each)")
    p.add_argument("--engine", choices=ENGINES, help="default: the running lab engine / LABSQS_ENGINE")
    p.add_argument(
        "--processes",
        type=int_in(1, MAX_PROCESSES, "--processes"),
        default=1,
        help="Locust worker processes per run (>1 runs each configuration for its full duration)",
    )
    p.add_argument(
        "--workers",
        type=int_in(0, MAX_PROCESSES, "--workers"),
        default=0,
        help="Locust distributed mode on this machine: a master and N worker processes over loopback TCP "
        "(what a multi-machine run does); runs each configuration for its full duration",
    )
    p.add_argument(
        "--master-port",
        type=int_in(0, 65_535, "--master-port"),
        default=0,
        help="the master's port with --workers (default: any free port)",
    )
    p.add_argument("--out", default="reports", help="parent folder of the report (default: reports/)")
    p.add_argument(
        "--i-understand-aws-costs",
        action="store_true",
        help="required with --engine aws: the run sends real, billed requests",
    )
    commands["bench"] = cmd_bench
