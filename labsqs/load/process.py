"""What one Locust process of a load run knows: the lab's options, the run's queue, its books.

The Locust side of :mod:`labsqs.load` (with :mod:`labsqs.load.users`): imported only by Locust itself,
through a locustfile. It stands on the load spec and the accounting, never on the orchestrator, and imports
nothing heavy (no pandas) so Locust starts fast. ``locust`` must be imported before this module (a
locustfile's first line): gevent patches sockets and SSL before boto3 is imported.
"""

from __future__ import annotations

import csv
import itertools
import json
import logging
import os
import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import gevent
import locust  # noqa: F401, I001 — first: gevent patches sockets/ssl before boto3 and urllib3 are imported
from locust.runners import STATE_RUNNING, WorkerRunner

from labsqs.base.depth import read_depth
from labsqs.base.limits import (
    MAX_MAX_RECEIVE_COUNT,
    MAX_VISIBILITY_TIMEOUT_SECONDS,
    MAX_WAIT_TIME_SECONDS,
    MIN_MAX_RECEIVE_COUNT,
)
from labsqs.client import resolve_endpoint, sqs_client
from labsqs.load.accounting import EVENT_FIELDS, Accounting, dlq_contents, side_file
from labsqs.load.spec import (
    MAX_GROUPS,
    MAX_MESSAGES_PER_RUN,
    MAX_USERS,
    QUEUE_TYPES,
    SCENARIO_BASES,
    argtype,
    batch_size_arg,
    float_in,
    int_in,
    load_queue_spec,
    probability_arg,
)
from labsqs.plan import parse_handler_time

if TYPE_CHECKING:
    from locust.env import Environment
    from mypy_boto3_sqs import SQSClient

log = logging.getLogger("labsqs.load")

DRAIN_CHECK_INTERVAL_SECONDS = 0.5
MAX_SEND_RATE = 100_000.0  # messages/s per producer user


# --- options -------------------------------------------------------------------------------------
def _handler_time_text(text: str) -> str:
    return str(parse_handler_time(text))  # options stay plain strings: Locust ships them to workers


handler_time_arg = argtype(_handler_time_text)


def add_options(parser: Any, *, scenario: str, **overrides: Any) -> None:
    """Add the lab's options to Locust's parser; defaults come from the scenario's base configuration
    (``overrides`` by LoadConfig field name, ``max_messages`` for ``--max-messages``)."""
    base = SCENARIO_BASES[scenario]
    defaults = {**{k: getattr(base, k) for k in base.__dataclass_fields__}, **overrides}
    defaults.setdefault("max_messages", base.messages_per_producer)
    _add_queue_options(parser.add_argument, defaults)
    _add_user_options(parser.add_argument, defaults)
    _add_run_options(parser.add_argument, scenario)


def _add_queue_options(add: Callable[..., Any], d: dict[str, Any]) -> None:
    add("--queue-type", choices=QUEUE_TYPES, default=d["queue_type"], help="standard or fifo")
    add(
        "--groups",
        type=int_in(1, MAX_GROUPS, "--groups"),
        default=d["groups"],
        help="FIFO message groups the producers spread messages over",
    )
    add(
        "--batch-size",
        type=batch_size_arg,
        default=d["batch_size"],
        help="messages per send and per receive (1 = SendMessage/DeleteMessage, up to 10 = batches)",
    )
    add(
        "--visibility-timeout",
        type=int_in(0, MAX_VISIBILITY_TIMEOUT_SECONDS, "--visibility-timeout"),
        default=d["visibility_timeout_seconds"],
        help="seconds; set on the queue and asked for on every receive",
    )
    add(
        "--wait-time",
        type=int_in(0, MAX_WAIT_TIME_SECONDS, "--wait-time"),
        default=d["wait_time_seconds"],
        help="long poll of a receive, seconds",
    )
    add(
        "--max-receive-count",
        type=int_in(MIN_MAX_RECEIVE_COUNT, MAX_MAX_RECEIVE_COUNT, "--max-receive-count"),
        default=d["max_receive_count"],
        help="receives before SQS moves a message to the DLQ (queues the lab creates)",
    )


def _add_user_options(add: Callable[..., Any], d: dict[str, Any]) -> None:
    add(
        "--handler-time",
        type=handler_time_arg,
        default=d["handler_time"],
        help="handler duration per message: const:S, uniform:LOW,HIGH, exp:MEAN, normal:MEAN,SD",
    )
    add(
        "--crash-probability",
        type=probability_arg,
        default=d["crash_probability"],
        help="chance that a consumer crashes holding a received batch (no delete)",
    )
    add(
        "--max-messages",
        type=int_in(0, MAX_MESSAGES_PER_RUN, "--max-messages"),
        default=d["max_messages"],
        help="messages each producer user sends at most (the run's bound)",
    )
    add(
        "--send-rate",
        type=float_in(0, MAX_SEND_RATE, "--send-rate"),
        default=d["send_rate"],
        help="messages/s per producer user; 0 = as fast as possible",
    )
    for kind in ("producer", "consumer"):
        add(
            f"--{kind}s",
            type=int_in(0, MAX_USERS, f"--{kind}s"),
            default=0,
            help=f"exact number of {kind} users (0 = share of -u by weight)",
        )


def _add_run_options(add: Callable[..., Any], scenario: str) -> None:
    add("--queue-url", default="", help="use this queue; otherwise one is created at test start")
    add(
        "--queue-name",
        default=f"labsqs-load-{scenario}",
        help="stem of the queue created when there is no --queue-url (a timestamp is appended)",
    )
    add("--keep-queue", action="store_true", help="do not delete the queue the run created")
    add(
        "--keep-running",
        action="store_true",
        help="run for the full -t even when producers are done and the queue is empty",
    )
    add("--lab-out", default="", help="path prefix of the lab's per-process event log and counters")
    add(
        "--i-understand-aws-costs",
        action="store_true",
        help="against real AWS the master (or single process) prints the run's planned requests and cost "
        "and starts only with this flag",
    )


# --- per-process state ---------------------------------------------------------------------------
class LoadRun:
    """What one Locust process knows about the run: options, the queue, the event log, the counters."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.rng = random.Random()
        self.events: list[tuple[float, str, str, int, int, float | str]] = []
        self.counters: Counter[str] = Counter()
        self.handled_ids: set[str] = set()
        self.deleted_ids: set[str] = set()
        self.user_numbers = itertools.count(1)
        self.producers_spawned = 0
        self.producers_done = 0
        self.created: Any = None  # the labsqs.queues.Queue this process created, if any
        self.worker_counters: dict[str, dict[str, int]] = {}
        self.pid = os.getpid()

    @property
    def options(self) -> Any:
        return self.environment.parsed_options

    @property
    def queue_url(self) -> str:
        return str(getattr(self.options, "queue_url", "") or "")

    @property
    def endpoint(self) -> str | None:
        return self.environment.host or resolve_endpoint()

    def client(self) -> SQSClient:
        return sqs_client(self.endpoint)

    def record(
        self,
        event: str,
        msg_id: str,
        receive_count: int = 0,
        t: float | None = None,
        seconds: float | None = None,
    ) -> None:
        """One event-log row; ``seconds`` is the duration behind it — the send or delete request, the
        handler's work, or for ``received`` the time from the consumer being ready (its last delete's
        return) to the receive's return — which the planner's check in ``labsqs bench`` reads back."""
        took: float | str = "" if seconds is None else round(seconds, 6)
        self.events.append((time.time() if t is None else t, event, msg_id, receive_count, self.pid, took))
        self.counters[event] += 1

    def totals(self) -> dict[str, int]:
        """This process's counters, plus every worker's when this is the master."""
        total: Counter[str] = Counter(self.counters)
        total["processed_unique"] = len(self.deleted_ids)
        for data in self.worker_counters.values():
            total.update(data)
        return dict(total)

    # -- the queue --
    def prepare_queue(self) -> None:
        """Create the run's queue (+ DLQ) unless one was given; workers get the URL from the master."""
        if self.queue_url or isinstance(self.environment.runner, WorkerRunner):
            return
        from labsqs.queues import ensure_queue

        o = self.options
        stem = f"{o.queue_name}-{datetime.now():%Y%m%d-%H%M%S}"
        name = stem + (".fifo" if o.queue_type == "fifo" else "")
        spec = load_queue_spec(
            name,
            visibility_timeout_seconds=o.visibility_timeout,
            wait_time_seconds=o.wait_time,
            max_receive_count=o.max_receive_count,
        )
        self.created = ensure_queue(spec, sqs=self.client())
        o.queue_url = self.created.url  # the master ships parsed options to its workers with the spawn
        log.info("created queue %s (DLQ %s)", self.created.url, self.created.dlq_url)

    def accounting(self) -> Accounting:
        """Where this run's messages are now, by this process's (and its workers') counters."""
        from labsqs.queues import queue_attributes

        sqs = self.client()
        policy = queue_attributes(self.queue_url, sqs=sqs).redrive_policy
        dlq_url = sqs.get_queue_url(QueueName=policy.dlq_name)["QueueUrl"] if policy is not None else None
        # the DLQ's ids are known here only with one process (a master has no worker's ids)
        dlq, dlq_ids = dlq_contents(dlq_url, sqs=sqs, with_ids=not self.worker_counters)
        totals = self.totals()
        return Accounting.of(
            sent=totals.get("sent", 0),
            processed=totals.get("processed_unique", 0),
            queue=read_depth(sqs, self.queue_url),
            dlq=dlq,
            dlq_also_processed=len(dlq_ids & self.deleted_ids),
        )

    # -- the side files --
    def write_side_files(self) -> None:
        prefix = getattr(self.options, "lab_out", "")
        if not prefix or not (self.events or self.counters):
            return
        with side_file(prefix, self.pid, "events.csv").open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(EVENT_FIELDS)
            writer.writerows(self.events)
        with side_file(prefix, self.pid, "counters.json").open("w") as fh:
            json.dump({"pid": self.pid, **self.totals()}, fh, indent=1)

    # -- ending the run when everything is done --
    def sending_finished(self) -> bool:
        return self.producers_done >= self.producers_spawned

    def watch_until_drained(self) -> None:
        """One process only: quit once every producer is done and the queue holds nothing."""
        sqs = self.client()
        runner = self.environment.runner
        while True:
            gevent.sleep(DRAIN_CHECK_INTERVAL_SECONDS)
            if runner is None or runner.state != STATE_RUNNING or not self.sending_finished():
                continue
            try:
                if read_depth(sqs, self.queue_url).total == 0:
                    log.info("producers done and queue empty: stopping the run")
                    runner.quit()
                    return
            except Exception as exc:  # noqa: BLE001 - the run's -t still bounds it
                log.warning("drain check failed: %s", exc)


def run_of(environment: Environment) -> LoadRun:
    run = getattr(environment, "labsqs", None)
    if run is None:
        run = LoadRun(environment)
        environment.labsqs = run  # type: ignore[attr-defined]
    return run
