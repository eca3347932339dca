"""Benchmarks of SQS patterns: what a queue's throughput and its visibility timeout really cost you.

Two questions decide most SQS designs, and ``labsqs bench`` measures both with Locust:

**Scenario 1 — throughput: FIFO or standard, how many groups, how many consumers, which batch size?**
    A standard queue delivers any message to any consumer: add consumers and the work spreads. A FIFO
    queue delivers each *message group* in order, and holds the group while one of its messages is in
    flight. So a FIFO queue with **one** group is a single lane: a second consumer only waits. With many
    groups, the lanes run side by side and consumers help again. Batches (up to 10 messages a request)
    cut the request count tenfold, which matters both for speed and for the bill. Real AWS caps FIFO at
    300 requests per second per API action and partition (3,000 messages/s with batches of 10); a
    standard queue has no such cap. The lab's engine has its own limits (two cores, one process), so the
    report puts the AWS ceiling next to every measured figure.

**Scenario 2 — the visibility timeout trade-off.**
    A received message is hidden for the visibility timeout. A handler that needs longer than that sees
    its message delivered *again* to another consumer while it still works on it: duplicate processing,
    and after ``maxReceiveCount`` receives a perfectly good message lands in the dead-letter queue. A
    long timeout avoids that, but when a consumer *crashes* holding a message, nobody gets that message
    until the timeout ends: slow recovery. The sweep shows both sides.

Every run is bounded twice — in time (Locust's ``-t``) and in messages (``--max-messages`` per producer
user) — and ends with an accounting line, after in-flight messages had a bounded chance to come back::

    sent 600 = processed 574 + in DLQ 2 + still queued 24 (+ in flight 0)  → balances

Every configuration also gets the capacity planner's prediction (:mod:`labsqs.plan`) beside its
measurement, computed from that run's own inputs (send times, request latencies and handler times from the
lab's event log): the summary reports predicted/measured for processed msg/s and the median end-to-end
latency, and names the model assumption a run broke where it is off. ``--workers N`` runs Locust's
distributed mode (a master and N worker processes over loopback TCP) instead of one process.

Against real AWS (``--engine aws``) nothing starts without ``--i-understand-aws-costs``, and the request
count and its estimated price (the planner's cost model) are printed first: SQS bills every request, empty
receives included, per 64 KB chunk.

The package, by job (imports point down this list; the Locust side never reaches the orchestrator)::

    command       ``labsqs bench`` / ``python -m labsqs.load``: options, then the orchestrator, then a verdict
    orchestrator  a run's queue, Locust as subprocess(es) (one, ``--processes`` or ``--workers``), the engine
    report        results.csv, PNG plots, summary.md
    analysis      one tidy row per run from Locust's CSV and the lab's event log; the planner's check
    users         the Locust users (ProducerUser, ConsumerUser) and listeners a locustfile attaches
    process       what one Locust process knows: the lab's options, its queue, its books
    accounting    where every message went (Accounting), the DLQ's ids, the per-process side files
    spec          LoadConfig, the lab's bounds on a run, the two scenarios' matrices, option checks

Importing this package loads nothing but this file: each name below is loaded from its module when first
used, so a Locust process (which imports :mod:`labsqs.load.users`) never loads the orchestrator, and
nothing loads pandas until a report is read or written.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labsqs.load.accounting import (
        EVENT_FIELDS,
        Accounting,
        dlq_message_ids,
        read_counters,
        read_events,
        settle,
    )
    from labsqs.load.analysis import PLANNER_TOLERANCE, RunResult, analyse, planner_check, read_locust_stats
    from labsqs.load.command import cmd_bench, register_cli
    from labsqs.load.orchestrator import (
        LOADTESTS_DIR,
        bench,
        locust_command,
        locustfile,
        run_config,
        started_load_engine,
    )
    from labsqs.load.report import EngineInfo, render_summary, write_report
    from labsqs.load.spec import (
        MAX_GROUPS,
        MAX_MESSAGES_PER_RUN,
        MAX_PROCESSES,
        MAX_RUN_SECONDS,
        MAX_USERS,
        QUEUE_TYPES,
        SCENARIOS,
        THROUGHPUT_BASE,
        VISIBILITY_BASE,
        LoadConfig,
        float_in,
        int_in,
        load_queue_spec,
        matrix,
        throughput_matrix,
        visibility_matrix,
    )
    from labsqs.plan import HandlerTime, parse_handler_time

_HOMES = {
    "accounting": "EVENT_FIELDS Accounting dlq_message_ids read_counters read_events settle",
    "analysis": "PLANNER_TOLERANCE RunResult analyse planner_check read_locust_stats",
    "command": "cmd_bench register_cli",
    "orchestrator": "LOADTESTS_DIR bench locust_command locustfile run_config started_load_engine",
    "report": "EngineInfo render_summary write_report",
    "spec": "MAX_GROUPS MAX_MESSAGES_PER_RUN MAX_PROCESSES MAX_RUN_SECONDS MAX_USERS QUEUE_TYPES SCENARIOS "
    "THROUGHPUT_BASE VISIBILITY_BASE LoadConfig float_in int_in load_queue_spec matrix throughput_matrix "
    "visibility_matrix",
}
_WHERE = {name: f"labsqs.load.{module}" for module, names in _HOMES.items() for name in names.split()}
# the handler-time distribution of a load run is the planner's (labsqs.plan): one definition, shared
_WHERE.update(HandlerTime="labsqs.plan", parse_handler_time="labsqs.plan")

__all__ = [
    "Accounting",
    "EVENT_FIELDS",
    "EngineInfo",
    "HandlerTime",
    "LOADTESTS_DIR",
    "LoadConfig",
    "MAX_GROUPS",
    "MAX_MESSAGES_PER_RUN",
    "MAX_PROCESSES",
    "MAX_RUN_SECONDS",
    "MAX_USERS",
    "PLANNER_TOLERANCE",
    "QUEUE_TYPES",
    "RunResult",
    "SCENARIOS",
    "THROUGHPUT_BASE",
    "VISIBILITY_BASE",
    "analyse",
    "bench",
    "cmd_bench",
    "dlq_message_ids",
    "float_in",
    "int_in",
    "load_queue_spec",
    "locust_command",
    "locustfile",
    "matrix",
    "parse_handler_time",
    "planner_check",
    "read_counters",
    "read_events",
    "read_locust_stats",
    "register_cli",
    "render_summary",
    "run_config",
    "settle",
    "started_load_engine",
    "throughput_matrix",
    "visibility_matrix",
    "write_report",
]


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use (PEP 562), then keep it here."""
    if name not in _WHERE:
        raise AttributeError(f"module 'labsqs.load' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
