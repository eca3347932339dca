"""Benchmarks of SQS patterns: what a queue's throughput and its visibility timeout really cost you.

Two questions decide most SQS designs, and ``labsqs bench`` measures both with Locust
(:mod:`labsqs.loadtest` holds the users; this module plans the runs, launches Locust in its own
process, accounts for every message and writes the report):

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

Against real AWS (``--engine aws``) nothing starts without ``--i-understand-aws-costs``, and the request
count and its estimated price are printed first: SQS bills every request, empty receives included, per
64 KB chunk.

This module never imports Locust (its gevent patching must not reach the CLI, pytest or a notebook); the
load-spec helpers below (handler-time distributions, option checks) are shared with
:mod:`labsqs.loadtest`, which does import it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labsqs.errors import AwsCostsNotAcknowledged, InvalidLoadOption, LabSqsError, LoadRunFailed

if TYPE_CHECKING:
    import pandas as pd
    from mypy_boto3_sqs import SQSClient

    from labsqs.metrics import Depth

# --- SQS and AWS figures (see shared facts: sqs-limits) ------------------------------------------
MAX_BATCH_ENTRIES = 10
MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200
MAX_WAIT_TIME_SECONDS = 20
FIFO_TPS_PER_ACTION = 300  # per API action per partition, without high-throughput mode
BILLING_CHUNK_BYTES = 64 * 1024  # every 64 KB of a request bills as one request
STANDARD_USD_PER_MILLION_REQUESTS = 0.40
FIFO_USD_PER_MILLION_REQUESTS = 0.50
AWS_PRICING_HINT = (
    "check the current prices on the AWS SQS pricing page; the first 1 M requests a month are free"
)

# --- the lab's bounds on a run -------------------------------------------------------------------
MAX_RUN_SECONDS = 600
MAX_MESSAGES_PER_RUN = 100_000
MAX_USERS = 200
MAX_GROUPS = 10_000
MAX_PROCESSES = 16
LOCUST_START_GRACE_SECONDS = 60  # on top of -t before a hung Locust is killed
SETTLE_CAP_SECONDS = 10.0  # longest wait for in-flight messages to come back before the accounting
MESSAGE_BODY_BYTES_ESTIMATE = 120  # the lab's JSON body: id, send timestamp, group

SCENARIOS = ("throughput", "visibility")
QUEUE_TYPES = ("standard", "fifo")
LOADTESTS_DIR = Path(__file__).resolve().parent.parent / "loadtests"

Progress = Callable[[str], None]


# ==================================================================================================
# The load spec, shared with labsqs.loadtest (no Locust here)
# ==================================================================================================
@dataclass(frozen=True)
class HandlerTime:
    """How long a simulated handler works on one message, in seconds, drawn per message.

    Written as ``kind:params``: ``const:0.02``, ``uniform:0.05,0.2``, ``exp:0.1`` (mean), ``normal:0.2,0.05``
    (mean, standard deviation; clipped at 0). A bare number is ``const``.
    """

    kind: str
    params: tuple[float, ...]

    def draw(self, rng: random.Random) -> float:
        if self.kind == "const":
            return self.params[0]
        if self.kind == "uniform":
            return rng.uniform(*self.params)
        if self.kind == "exp":
            return rng.expovariate(1.0 / self.params[0]) if self.params[0] > 0 else 0.0
        return max(0.0, rng.gauss(*self.params))

    @property
    def mean_seconds(self) -> float:
        if self.kind == "uniform":
            return (self.params[0] + self.params[1]) / 2
        return self.params[0]

    def __str__(self) -> str:
        return f"{self.kind}:{','.join(f'{p:g}' for p in self.params)}"


_DISTRIBUTION_ARITY = {"const": 1, "uniform": 2, "exp": 1, "normal": 2}
MAX_HANDLER_SECONDS = 60.0


def parse_handler_time(text: str) -> HandlerTime:
    """``"uniform:0.05,0.2"`` → ``HandlerTime("uniform", (0.05, 0.2))``; raises :class:`InvalidLoadOption`."""
    raw = str(text).strip().lower()
    kind, _, rest = raw.partition(":")
    if not rest:
        kind, rest = "const", raw
    usage = "write const:S, uniform:LOW,HIGH, exp:MEAN or normal:MEAN,SD (seconds), e.g. uniform:0.05,0.2"
    if kind not in _DISTRIBUTION_ARITY:
        raise InvalidLoadOption(f"unknown handler-time distribution {kind!r} in {text!r}", hint=usage)
    try:
        params = tuple(float(p) for p in rest.split(","))
    except ValueError:
        raise InvalidLoadOption(f"handler time {text!r}: a parameter is not a number", hint=usage) from None
    if len(params) != _DISTRIBUTION_ARITY[kind]:
        raise InvalidLoadOption(
            f"{kind} takes {_DISTRIBUTION_ARITY[kind]} parameter(s), {text!r} has {len(params)}", hint=usage
        )
    if any(p < 0 or p > MAX_HANDLER_SECONDS or math.isnan(p) for p in params):
        raise InvalidLoadOption(
            f"handler time {text!r}: parameters must be between 0 and {MAX_HANDLER_SECONDS:g} s", hint=usage
        )
    if kind == "uniform" and params[0] > params[1]:
        raise InvalidLoadOption(f"uniform:{rest}: LOW is above HIGH", hint=usage)
    return HandlerTime(kind, params)


def _argtype(check: Callable[[str], Any]) -> Callable[[str], Any]:
    """Wrap a checker for argparse, so a bad option is one clear line instead of a traceback."""

    def convert(text: str) -> Any:
        try:
            return check(text)
        except InvalidLoadOption as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc

    convert.__name__ = check.__name__
    return convert


def int_in(low: int, high: int, what: str) -> Callable[[str], int]:
    """An argparse type: an integer between ``low`` and ``high``."""

    def check(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise InvalidLoadOption(f"{what} must be a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise InvalidLoadOption(f"{what} must be between {low} and {high}, got {value}")
        return value

    check.__name__ = what.replace(" ", "_")
    return _argtype(check)


def float_in(low: float, high: float, what: str) -> Callable[[str], float]:
    """An argparse type: a number between ``low`` and ``high``."""

    def check(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise InvalidLoadOption(f"{what} must be a number, got {text!r}") from None
        if not low <= value <= high:
            raise InvalidLoadOption(f"{what} must be between {low:g} and {high:g}, got {value:g}")
        return value

    check.__name__ = what.replace(" ", "_")
    return _argtype(check)


def _handler_time_text(text: str) -> str:
    return str(parse_handler_time(text))  # options stay plain strings: Locust ships them to workers


handler_time_arg = _argtype(_handler_time_text)
batch_size_arg = int_in(1, MAX_BATCH_ENTRIES, "batch size")
probability_arg = float_in(0.0, 1.0, "crash probability")


# ==================================================================================================
# Configurations and matrices
# ==================================================================================================
@dataclass(frozen=True)
class LoadConfig:
    """One Locust run: the queue, the users and their behaviour, and its bounds."""

    scenario: str
    queue_type: str = "standard"
    groups: int = 1  # FIFO message groups the producers spread messages over
    producers: int = 1
    consumers: int = 1
    batch_size: int = MAX_BATCH_ENTRIES  # send batch and receive maximum; 1 = SendMessage/DeleteMessage
    visibility_timeout_seconds: int = 5
    handler_time: str = "const:0.02"
    crash_probability: float = 0.0  # per received batch: the consumer dies holding it
    max_receive_count: int = 3
    messages: int = 600  # total to send (split over the producers)
    send_rate: float = 0.0  # messages/s per producer user; 0 = as fast as possible
    wait_time_seconds: int = 1  # long poll of the consumers
    duration_seconds: int = 10

    @property
    def fifo(self) -> bool:
        return self.queue_type == "fifo"

    @property
    def label(self) -> str:
        kind = f"fifo g{self.groups}" if self.fifo else "standard"
        text = f"{kind} c{self.consumers} b{self.batch_size}"
        if self.scenario == "visibility":
            text += f" vt{self.visibility_timeout_seconds}s"
        return text

    @property
    def messages_per_producer(self) -> int:
        return math.ceil(self.messages / self.producers) if self.producers else 0

    def validate(self) -> LoadConfig:
        """Check every field before any request; returns ``self``."""
        checks: list[tuple[bool, str]] = [
            (self.scenario in SCENARIOS, f"scenario must be one of {', '.join(SCENARIOS)}"),
            (self.queue_type in QUEUE_TYPES, f"queue type must be one of {', '.join(QUEUE_TYPES)}"),
            (1 <= self.groups <= MAX_GROUPS, f"groups must be between 1 and {MAX_GROUPS}"),
            (0 <= self.producers <= MAX_USERS, f"producers must be between 0 and {MAX_USERS}"),
            (0 <= self.consumers <= MAX_USERS, f"consumers must be between 0 and {MAX_USERS}"),
            (self.producers + self.consumers >= 1, "a run needs at least one producer or consumer"),
            (1 <= self.batch_size <= MAX_BATCH_ENTRIES, f"batch size must be 1..{MAX_BATCH_ENTRIES}"),
            (
                0 <= self.visibility_timeout_seconds <= MAX_VISIBILITY_TIMEOUT_SECONDS,
                f"visibility timeout must be 0..{MAX_VISIBILITY_TIMEOUT_SECONDS} s",
            ),
            (0.0 <= self.crash_probability <= 1.0, "crash probability must be between 0 and 1"),
            (1 <= self.max_receive_count <= 1000, "max receive count must be 1..1000"),
            (0 <= self.messages <= MAX_MESSAGES_PER_RUN, f"messages must be 0..{MAX_MESSAGES_PER_RUN}"),
            (self.send_rate >= 0, "send rate must be >= 0 (0 = as fast as possible)"),
            (0 <= self.wait_time_seconds <= MAX_WAIT_TIME_SECONDS, "wait time must be 0..20 s"),
            (1 <= self.duration_seconds <= MAX_RUN_SECONDS, f"duration must be 1..{MAX_RUN_SECONDS} s"),
        ]
        for ok, message in checks:
            if not ok:
                raise InvalidLoadOption(f"{message} (configuration {self.label!r})")
        parse_handler_time(self.handler_time)
        return self

    def locust_options(self) -> list[str]:
        """The custom Locust options (see :func:`labsqs.loadtest.add_options`) for this configuration."""
        return [
            "--queue-type",
            self.queue_type,
            "--groups",
            str(self.groups),
            "--producers",
            str(self.producers),
            "--consumers",
            str(self.consumers),
            "--batch-size",
            str(self.batch_size),
            "--visibility-timeout",
            str(self.visibility_timeout_seconds),
            "--handler-time",
            self.handler_time,
            "--crash-probability",
            f"{self.crash_probability:g}",
            "--max-receive-count",
            str(self.max_receive_count),
            "--max-messages",
            str(self.messages_per_producer),
            "--send-rate",
            f"{self.send_rate:g}",
            "--wait-time",
            str(self.wait_time_seconds),
        ]


THROUGHPUT_BASE = LoadConfig("throughput", handler_time="const:0.02", messages=600, duration_seconds=10)
VISIBILITY_BASE = LoadConfig(
    "visibility",
    consumers=16,
    batch_size=1,
    handler_time="exp:0.7",
    crash_probability=0.1,
    max_receive_count=2,
    messages=120,
    send_rate=12.0,
    duration_seconds=25,
)


def throughput_matrix(quick: bool = False) -> list[LoadConfig]:
    """Scenario 1: standard vs FIFO × groups (1, 10, 100) × consumers (1, 4) × batch size (1, 10).

    Handlers take 20 ms a message, so parallel consumers matter — and a FIFO group's lock shows.
    ``quick``: standard vs FIFO with one group, 4 consumers, batches of 10, fewer messages.
    """
    if quick:
        base = replace(THROUGHPUT_BASE, messages=200, duration_seconds=8)
        return [
            replace(base, queue_type="standard", consumers=4),
            replace(base, queue_type="fifo", groups=1, consumers=4),
        ]
    configs = []
    for batch in (1, 10):
        for consumers in (1, 4):
            configs.append(replace(THROUGHPUT_BASE, batch_size=batch, consumers=consumers))
            for groups in (1, 10, 100):
                configs.append(
                    replace(
                        THROUGHPUT_BASE,
                        queue_type="fifo",
                        groups=groups,
                        batch_size=batch,
                        consumers=consumers,
                    )
                )
    return configs


def visibility_matrix(quick: bool = False) -> list[LoadConfig]:
    """Scenario 2: visibility timeout 1, 2, 5 s; handlers take 0.7 s on average (exponential: a few need
    2–3 s); a consumer crashes holding its message one time in ten; DLQ after 2 receives."""
    if quick:
        base = replace(VISIBILITY_BASE, messages=60, duration_seconds=15)
        return [replace(base, visibility_timeout_seconds=vt) for vt in (1, 3)]
    return [replace(VISIBILITY_BASE, visibility_timeout_seconds=vt) for vt in (1, 2, 5)]


def matrix(scenario: str, quick: bool = False) -> list[LoadConfig]:
    """The configurations of ``throughput``, ``visibility`` or ``all``."""
    if scenario not in (*SCENARIOS, "all"):
        raise InvalidLoadOption(f"unknown scenario {scenario!r}", hint="use throughput, visibility or all")
    configs: list[LoadConfig] = []
    if scenario in ("throughput", "all"):
        configs += throughput_matrix(quick)
    if scenario in ("visibility", "all"):
        configs += visibility_matrix(quick)
    return [c.validate() for c in configs]


# ==================================================================================================
# What a run costs on AWS, and what AWS would cap it at
# ==================================================================================================
@dataclass(frozen=True)
class CostEstimate:
    """Requests a run will make (upper estimate) and their price on real AWS."""

    standard_requests: int
    fifo_requests: int

    @property
    def requests(self) -> int:
        return self.standard_requests + self.fifo_requests

    @property
    def usd(self) -> float:
        return (
            self.standard_requests * STANDARD_USD_PER_MILLION_REQUESTS
            + self.fifo_requests * FIFO_USD_PER_MILLION_REQUESTS
        ) / 1e6

    def render(self) -> str:
        return (
            f"this run makes about {self.requests:,} SQS requests "
            f"({self.standard_requests:,} standard at ${STANDARD_USD_PER_MILLION_REQUESTS:.2f}/M, "
            f"{self.fifo_requests:,} FIFO at ${FIFO_USD_PER_MILLION_REQUESTS:.2f}/M, every 64 KB chunk "
            f"billed as one request): about ${self.usd:.4f} on AWS — {AWS_PRICING_HINT}"
        )


def estimate_requests(config: LoadConfig) -> int:
    """An upper estimate of the requests one configuration makes (chunks of 64 KB counted)."""
    chunks = max(1, math.ceil(config.batch_size * MESSAGE_BODY_BYTES_ESTIMATE / BILLING_CHUNK_BYTES))
    batches = math.ceil(config.messages / config.batch_size)
    redeliveries = 1 + config.max_receive_count * config.crash_probability
    sends = batches * chunks
    receives = math.ceil(batches * redeliveries) * chunks
    deletes = batches
    idle_polls = config.consumers * config.duration_seconds / max(config.wait_time_seconds, 1)
    admin = 12 + 2 * config.duration_seconds  # create/attributes/delete of queue + DLQ, drain checks
    return int(sends + receives + deletes + idle_polls + admin)


def estimate_cost(configs: Sequence[LoadConfig]) -> CostEstimate:
    standard = sum(estimate_requests(c) for c in configs if not c.fifo)
    fifo = sum(estimate_requests(c) for c in configs if c.fifo)
    return CostEstimate(standard, fifo)


def aws_cap_messages_per_second(config: LoadConfig) -> float | None:
    """What real AWS would cap this configuration's sends at (msg/s), or None for "no practical cap"."""
    if not config.fifo:
        return None
    return float(FIFO_TPS_PER_ACTION * config.batch_size)


def aws_cap_text(config: LoadConfig) -> str:
    if not config.fifo:
        return "no per-action cap (standard: nearly unlimited)"
    return (
        f"{FIFO_TPS_PER_ACTION * config.batch_size:,} msg/s "
        f"({FIFO_TPS_PER_ACTION} TPS per action × batch {config.batch_size}; more with high-throughput FIFO)"
    )


# ==================================================================================================
# Queues for a run, and the accounting after it
# ==================================================================================================
def load_queue_spec(
    name: str, *, visibility_timeout_seconds: int, wait_time_seconds: int, max_receive_count: int
) -> Any:
    """The :class:`labsqs.queues.QueueSpec` of a load run's queue: short long poll, 1 h retention, DLQ."""
    from labsqs.queues import QueueSpec

    return QueueSpec(
        name,
        visibility_timeout_seconds=visibility_timeout_seconds,
        receive_wait_seconds=wait_time_seconds,
        retention_seconds=3_600,
        max_receive_count=max_receive_count,
        with_dlq=True,
    )


@dataclass(frozen=True)
class Accounting:
    """Where every sent message ended: processed (deleted), in the DLQ, still queued, or in flight.

    A message can be processed *and* dead-lettered: its handler outlived the visibility timeout, later
    receives pushed it to the DLQ, and the first handler's delete still succeeded. Such messages are
    counted once, as processed (``dlq_also_processed`` of the ``dlq`` messages).
    """

    sent: int
    processed: int
    dlq: int
    queued: int
    in_flight: int
    dlq_also_processed: int = 0

    @property
    def dlq_only(self) -> int:
        return self.dlq - self.dlq_also_processed

    @property
    def accounted(self) -> int:
        return self.processed + self.dlq_only + self.queued + self.in_flight

    @property
    def balanced(self) -> bool:
        return self.sent == self.accounted

    def line(self) -> str:
        sign = "=" if self.balanced else "≠"
        verdict = (
            "balances" if self.balanced else f"does NOT balance (off by {self.accounted - self.sent:+d})"
        )
        text = (
            f"sent {self.sent} {sign} processed {self.processed} + in DLQ {self.dlq_only} + still queued "
            f"{self.queued} (+ in flight {self.in_flight})  → {verdict}"
        )
        if self.dlq_also_processed:
            text += f"; the DLQ also holds {self.dlq_also_processed} message(s) that were processed"
        return text


def dlq_message_ids(url: str, *, sqs: SQSClient, expected: int) -> set[str]:
    """Peek at the lab ids of the messages in a DLQ: receive them all, then hand them back (visibility 0).

    Bounded: at most ``expected / 10 + 5`` receives. Messages the lab did not send count by MessageId.
    """
    ids: set[str] = set()
    handles: list[str] = []
    if expected <= 0:
        return ids
    for _ in range(expected // MAX_BATCH_ENTRIES + 5):
        if len(ids) >= expected:
            break
        response = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=MAX_BATCH_ENTRIES, WaitTimeSeconds=0, VisibilityTimeout=60
        )
        for message in response.get("Messages", []):
            handles.append(message["ReceiptHandle"])
            try:
                ids.add(str(json.loads(message["Body"])["id"]))
            except (ValueError, KeyError, TypeError):
                ids.add(str(message.get("MessageId")))
    for start in range(0, len(handles), MAX_BATCH_ENTRIES):
        chunk = handles[start : start + MAX_BATCH_ENTRIES]
        sqs.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0} for i, h in enumerate(chunk)],
        )
    return ids


def settle(url: str, *, sqs: SQSClient, visibility_timeout_seconds: int) -> Depth:
    """Wait (bounded) until no message of the queue is in flight or delayed, then return its counts.

    A consumer killed at the end of a run may hold messages; they come back after the visibility
    timeout (LocalStack sweeps once a second, so up to a second more)."""
    from labsqs.metrics import queue_depth  # pandas stays out of the CLI's and Locust's start-up

    deadline = time.monotonic() + min(visibility_timeout_seconds + 2.0, SETTLE_CAP_SECONDS)
    counts = queue_depth(url, sqs=sqs)
    while (counts.in_flight or counts.delayed) and time.monotonic() < deadline:
        time.sleep(0.5)
        counts = queue_depth(url, sqs=sqs)
    return counts


# ==================================================================================================
# Running one configuration (Locust in its own process)
# ==================================================================================================
@dataclass(frozen=True)
class RunResult:
    config: LoadConfig
    row: dict[str, Any]
    accounting: Accounting
    elapsed_seconds: float
    directory: Path


def locust_command() -> list[str]:
    """The Locust executable of this environment (never imported here: gevent patching)."""
    exe = Path(sys.executable).with_name("locust")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("locust")
    if found:
        return [found]
    return [sys.executable, "-m", "locust"]


def locustfile(scenario: str) -> Path:
    path = LOADTESTS_DIR / f"{scenario}.py"
    if not path.exists():
        raise LoadRunFailed(
            f"no locustfile {path}",
            hint="run `labsqs bench` from the lab's source checkout (the loadtests/ folder ships there)",
        )
    return path


def run_config(
    config: LoadConfig,
    *,
    directory: Path,
    endpoint: str | None,
    env: dict[str, str],
    processes: int = 1,
    sqs: SQSClient,
    queue_name: str,
) -> RunResult:
    """Create the run's queue and DLQ, run Locust headless on it, settle, account, delete the queues."""
    from labsqs.queues import delete_queue, ensure_queue

    directory.mkdir(parents=True, exist_ok=True)
    prefix = directory / "locust"
    lab_prefix = directory / "lab"
    t0 = time.monotonic()
    spec = load_queue_spec(
        queue_name,
        visibility_timeout_seconds=config.visibility_timeout_seconds,
        wait_time_seconds=config.wait_time_seconds,
        max_receive_count=config.max_receive_count,
    )
    queue = ensure_queue(spec, sqs=sqs)
    try:
        users = config.producers + config.consumers
        cmd = [
            *locust_command(),
            "-f",
            str(locustfile(config.scenario)),
            "--headless",
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            f"{config.duration_seconds}s",
            "--csv",
            str(prefix),
            "--only-summary",
            "--stop-timeout",
            "0",
            "--queue-url",
            queue.url,
            "--lab-out",
            str(lab_prefix),
            *config.locust_options(),
        ]
        if endpoint:
            cmd += ["--host", endpoint]
        if processes > 1:
            cmd += ["--processes", str(processes)]
        classes = [name for name, n in (("Producer", config.producers), ("Consumer", config.consumers)) if n]
        cmd += classes  # only the user classes this configuration runs
        log = directory / "locust.log"
        with log.open("w") as out:
            try:
                proc = subprocess.run(
                    cmd,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=env,
                    check=False,
                    timeout=config.duration_seconds + LOCUST_START_GRACE_SECONDS,
                )
            except subprocess.TimeoutExpired as exc:
                raise LoadRunFailed(
                    f"Locust did not stop within {config.duration_seconds + LOCUST_START_GRACE_SECONDS} s",
                    hint=f"see {log}",
                ) from exc
        if proc.returncode not in (0, 1):  # 1 = some requests failed: that is data, not a crash
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
            raise LoadRunFailed(f"Locust exited with code {proc.returncode}:\n{tail}", hint=f"see {log}")
        counts = settle(queue.url, sqs=sqs, visibility_timeout_seconds=config.visibility_timeout_seconds)
        from labsqs.metrics import Depth, queue_depth

        dlq_counts, dlq_ids = Depth(0, 0, 0), set()
        if queue.dlq_url:
            dlq_counts = queue_depth(queue.dlq_url, sqs=sqs)
            dlq_ids = dlq_message_ids(queue.dlq_url, sqs=sqs, expected=dlq_counts.total)
    finally:
        delete_queue(queue, sqs=sqs, missing_ok=True)
    events = read_events(lab_prefix)
    stats = read_locust_stats(prefix)
    processed = set(events.loc[events.event == "deleted", "msg_id"].astype(str)) if len(events) else set()
    accounting = Accounting(
        sent=int((events.event == "sent").sum()) if len(events) else 0,
        processed=len(processed),
        dlq=dlq_counts.total,
        queued=counts.visible + counts.delayed,
        in_flight=counts.in_flight,
        dlq_also_processed=len(dlq_ids & processed),
    )
    row = analyse(config, events, stats, accounting)
    elapsed = time.monotonic() - t0
    row["wall_seconds"] = round(elapsed, 1)
    return RunResult(config, row, accounting, elapsed, directory)


# ==================================================================================================
# Reading what Locust and the lab wrote, and turning it into one tidy row
# ==================================================================================================
EVENT_COLUMNS = ["t", "event", "msg_id", "receive_count", "pid"]


def read_events(lab_prefix: Path) -> pd.DataFrame:
    """Every process's event log (``<prefix>.<pid>.events.csv``) as one DataFrame."""
    import pandas as pd

    frames = [pd.read_csv(p) for p in sorted(lab_prefix.parent.glob(f"{lab_prefix.name}.*.events.csv"))]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=EVENT_COLUMNS)
    return pd.concat(frames, ignore_index=True).sort_values("t", kind="stable").reset_index(drop=True)


def read_counters(lab_prefix: Path) -> list[dict[str, Any]]:
    """Every process's lab counters (``<prefix>.<pid>.counters.json``)."""
    return [
        json.loads(p.read_text())
        for p in sorted(lab_prefix.parent.glob(f"{lab_prefix.name}.*.counters.json"))
    ]


def read_locust_stats(prefix: Path) -> pd.DataFrame:
    """Locust's ``<prefix>_stats.csv`` (one row per request type and name, plus ``Aggregated``)."""
    import pandas as pd

    path = Path(f"{prefix}_stats.csv")
    if not path.exists():
        raise LoadRunFailed(f"Locust wrote no {path.name}", hint=f"see {prefix.parent / 'locust.log'}")
    return pd.read_csv(path)


def _rate(count: int, start: float, end: float) -> float:
    span = end - start
    return count / span if count and span > 0 else 0.0


def analyse(config: LoadConfig, events: pd.DataFrame, stats: pd.DataFrame, accounting: Accounting) -> dict:
    """One tidy row for a configuration: rates, latency, duplicates, recovery, DLQ, accounting."""
    import pandas as pd

    sent = events[events.event == "sent"]
    received = events[events.event == "received"]
    handled = events[events.event == "handled"]
    deleted = events[events.event == "deleted"]
    crashed = events[events.event == "crashed"]
    first_receive = received.t.min() if len(received) else math.nan

    recovery = []
    if len(crashed):
        later = received[["msg_id", "t"]].rename(columns={"t": "t_next"})
        joined = crashed[["msg_id", "t"]].merge(later, on="msg_id")
        joined = joined[joined.t_next > joined.t]
        recovery = joined.groupby(["msg_id", "t"]).t_next.min().reset_index()
        recovery = list(recovery.t_next - recovery.t)

    e2e = stats[(stats["Type"] == "E2E") & (stats["Name"] == "latency")]
    requests = stats[(stats["Type"] == "SQS")]
    e2e_row = e2e.iloc[0] if len(e2e) else None

    def pct(row: pd.Series | None, column: str) -> float:
        return float(row[column]) if row is not None and column in row and pd.notna(row[column]) else math.nan

    cap = aws_cap_messages_per_second(config)
    return {
        "scenario": config.scenario,
        "configuration": config.label,
        "queue_type": config.queue_type,
        "groups": config.groups if config.fifo else math.nan,
        "producers": config.producers,
        "consumers": config.consumers,
        "batch_size": config.batch_size,
        "visibility_timeout_s": config.visibility_timeout_seconds,
        "handler_time": config.handler_time,
        "crash_probability": config.crash_probability,
        "max_receive_count": config.max_receive_count,
        "sent": accounting.sent,
        "processed": accounting.processed,
        "sent_per_s": round(_rate(len(sent), sent.t.min(), sent.t.max()) if len(sent) > 1 else 0.0, 1),
        "processed_per_s": round(
            _rate(deleted.msg_id.nunique(), first_receive, deleted.t.max()) if len(deleted) else 0.0, 1
        ),
        "e2e_p50_ms": pct(e2e_row, "50%"),
        "e2e_p95_ms": pct(e2e_row, "95%"),
        "e2e_p99_ms": pct(e2e_row, "99%"),
        "e2e_count": int(e2e_row["Request Count"]) if e2e_row is not None else 0,
        "deliveries": len(received),
        "redeliveries": int(len(received) - received.msg_id.nunique()) if len(received) else 0,
        "duplicates": int(len(handled) - handled.msg_id.nunique()) if len(handled) else 0,
        "crashes": int(crashed.groupby(["pid", "t"]).ngroups) if len(crashed) else 0,
        "recovery_p50_s": round(float(pd.Series(recovery).median()), 2) if recovery else math.nan,
        "recovery_max_s": round(float(max(recovery)), 2) if recovery else math.nan,
        "dlq": accounting.dlq,
        "dlq_also_processed": accounting.dlq_also_processed,
        "queued": accounting.queued,
        "in_flight": accounting.in_flight,
        "balanced": accounting.balanced,
        "requests": int(requests["Request Count"].sum()),
        "failures": int(requests["Failure Count"].sum()),
        "aws_cap_msg_s": cap if cap is not None else math.nan,
        "aws_cap": aws_cap_text(config),
    }


# ==================================================================================================
# The report: tidy CSV, plots, one-page summary
# ==================================================================================================
@dataclass(frozen=True)
class EngineInfo:
    name: str
    version: str
    endpoint: str | None
    extra: dict[str, str] = field(default_factory=dict)


def write_report(results: Sequence[RunResult], run_dir: Path, engine_info: EngineInfo) -> dict[str, Path]:
    """Write ``results.csv``, the PNG plots and ``summary.md`` into ``run_dir``; returns their paths."""
    import pandas as pd

    frame = pd.DataFrame([r.row for r in results])
    frame.insert(0, "engine", engine_info.name)
    frame.insert(1, "engine_version", engine_info.version)
    paths = {"csv": run_dir / "results.csv"}
    frame.to_csv(paths["csv"], index=False)
    throughput = frame[frame.scenario == "throughput"]
    visibility = frame[frame.scenario == "visibility"]
    if len(throughput):
        paths["throughput_png"] = plot_throughput(throughput, run_dir / "throughput.png", engine_info)
    paths["latency_png"] = plot_latency(frame, run_dir / "latency.png", engine_info)
    if len(visibility):
        paths["visibility_png"] = plot_visibility(visibility, run_dir / "visibility.png", engine_info)
    paths["summary"] = run_dir / "summary.md"
    paths["summary"].write_text(render_summary(frame, results, engine_info, paths))
    return paths


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _kind_label(row: Any) -> str:
    return "standard" if row["queue_type"] == "standard" else f"FIFO {int(row['groups'])} group(s)"


def plot_throughput(frame: pd.DataFrame, path: Path, engine_info: EngineInfo) -> Path:
    """Processed msg/s by queue kind, consumers as bars, one panel per batch size."""
    frame = frame.assign(kind=frame.apply(_kind_label, axis=1))
    kinds = list(dict.fromkeys(frame.kind))
    batches = sorted(frame.batch_size.unique())
    consumers = sorted(frame.consumers.unique())
    fig = _figure(5.2 * len(batches), 4.2)
    axes = fig.subplots(1, len(batches), squeeze=False)[0]
    width = 0.8 / len(consumers)
    for ax, batch in zip(axes, batches, strict=True):
        sub = frame[frame.batch_size == batch]
        for j, n in enumerate(consumers):
            values = [sub[(sub.kind == k) & (sub.consumers == n)].processed_per_s.sum() for k in kinds]
            xs = [i + (j - (len(consumers) - 1) / 2) * width for i in range(len(kinds))]
            bars = ax.bar(xs, values, width, label=f"{n} consumer(s)")
            ax.bar_label(bars, fmt="%.0f", fontsize=7)
        ax.set_xticks(range(len(kinds)), kinds, rotation=20, ha="right", fontsize=8)
        ax.set_title(f"batch size {batch}")
        ax.set_ylabel("processed messages/s")
        ax.legend(fontsize=8)
    fig.suptitle(f"Throughput by configuration — {engine_info.name} {engine_info.version}", fontsize=10)
    fig.savefig(path)
    return path


def plot_latency(frame: pd.DataFrame, path: Path, engine_info: EngineInfo) -> Path:
    """End-to-end latency percentiles (send → processed) per configuration."""
    frame = frame.reset_index(drop=True)
    fig = _figure(8, 0.32 * len(frame) + 1.6)
    ax = fig.subplots()
    ys = range(len(frame))
    for column, label, shift in (
        ("e2e_p50_ms", "p50", -0.2),
        ("e2e_p95_ms", "p95", 0.0),
        ("e2e_p99_ms", "p99", 0.2),
    ):
        ax.barh([y + shift for y in ys], frame[column].fillna(0), 0.2, label=label)
    ax.set_yticks(
        list(ys),
        [f"{s[:3]} · {c}" for s, c in zip(frame.scenario, frame.configuration, strict=True)],
        fontsize=7,
    )
    ax.invert_yaxis()
    positive = frame[["e2e_p50_ms", "e2e_p95_ms", "e2e_p99_ms"]].to_numpy().ravel()
    positive = positive[positive > 0]
    ax.set_xscale("log")
    if len(positive):
        ax.set_xlim(left=max(1.0, float(positive.min()) / 2))
    ax.set_xlabel("end-to-end latency, ms (send → deleted after processing)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(f"Latency percentiles — {engine_info.name} {engine_info.version}", fontsize=10)
    fig.savefig(path)
    return path


def plot_visibility(frame: pd.DataFrame, path: Path, engine_info: EngineInfo) -> Path:
    """Duplicates and DLQ arrivals, and recovery time after a crash, against the visibility timeout."""
    frame = frame.sort_values("visibility_timeout_s")
    vt = frame.visibility_timeout_s
    fig = _figure(10, 4)
    left, right = fig.subplots(1, 2)
    left.plot(vt, frame.duplicates, "o-", label="duplicate processing")
    left.plot(vt, frame.dlq, "s-", label="messages in the DLQ")
    left.plot(vt, frame.dlq_also_processed, "v:", label="… of which processed anyway")
    left.plot(vt, frame.redeliveries, "^--", label="redeliveries (all causes)", alpha=0.6)
    left.set_xlabel("visibility timeout (s)")
    left.set_ylabel("messages")
    left.set_title("too short: duplicates and dead letters", fontsize=9)
    left.legend(fontsize=8)
    right.plot(vt, frame.recovery_p50_s, "o-", label="recovery after a crash, median")
    right.plot(vt, frame.recovery_max_s, "s--", label="recovery after a crash, max")
    right.plot(vt, frame.e2e_p95_ms / 1000.0, "^-", label="end-to-end latency p95")
    right.set_xlabel("visibility timeout (s)")
    right.set_ylabel("seconds")
    right.set_title("too long: slow recovery", fontsize=9)
    right.legend(fontsize=8)
    fig.suptitle(f"Visibility timeout trade-off — {engine_info.name} {engine_info.version}", fontsize=10)
    fig.savefig(path)
    return path


def _md_table(frame: pd.DataFrame, columns: Sequence[str]) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return "–" if math.isnan(value) else f"{value:,.1f}".rstrip("0").rstrip(".")
        return str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for _, row in frame.iterrows():
        lines.append("| " + " | ".join(cell(row[c]) for c in columns) + " |")
    return "\n".join(lines)


def _speedup(frame: pd.DataFrame, kind: str, batch: int) -> float | None:
    sub = frame[(frame.kind == kind) & (frame.batch_size == batch)]
    one = sub[sub.consumers == sub.consumers.min()].processed_per_s
    many = sub[sub.consumers == sub.consumers.max()].processed_per_s
    if len(one) and len(many) and one.iloc[0] > 0 and sub.consumers.nunique() > 1:
        return float(many.iloc[0] / one.iloc[0])
    return None


THROUGHPUT_TABLE = (
    "configuration sent_per_s processed_per_s e2e_p50_ms e2e_p95_ms duplicates queued balanced aws_cap"
).split()
VISIBILITY_TABLE = (
    "visibility_timeout_s processed_per_s duplicates redeliveries crashes recovery_p50_s recovery_max_s dlq "
    "dlq_also_processed e2e_p50_ms e2e_p95_ms balanced"
).split()
FIFO_FINDING = (
    "- with one FIFO group the group lock makes a single lane: extra consumers wait; with many groups they "
    "work in parallel, as on a standard queue."
)
LATENCY_FINDING = (
    "- end-to-end latency here includes the wait behind the backlog a flat-out producer builds; "
    "scenario 2's paced producer shows latency set by the handlers."
)
AWS_FINDING = (
    "- real AWS caps FIFO at 300 requests/s per action and partition (3,000 msg/s with batches of 10; "
    "high-throughput FIFO scales per group); standard queues have no such cap. The lab engine's figures "
    "measure this machine (client and engine on the same cores), not AWS."
)
VISIBILITY_FINDING = (
    "- too short → slow handlers are overtaken (duplicates; good messages dead-lettered); too long → a "
    "crashed consumer's message waits out the whole timeout. Choose a timeout above the handler's p99 "
    "and extend the visibility (heartbeat) for the rare slow message."
)


def _visibility_point(row: Any) -> str:
    return (
        f"- {row.visibility_timeout_s} s: {row.duplicates} duplicate processing(s), {row.dlq} message(s) in "
        f"the DLQ, recovery after a crash {row.recovery_p50_s} s (median)"
    )


def render_summary(
    frame: pd.DataFrame, results: Sequence[RunResult], engine_info: EngineInfo, paths: dict[str, Path]
) -> str:
    """The one-page Markdown summary: engine, findings, tables, AWS ceilings, accounting."""
    where = engine_info.endpoint or "AWS (regional)"
    lines = [
        "# labsqs bench — summary",
        "",
        f"- engine: **{engine_info.name} {engine_info.version}** at {where}",
        *(f"- {k}: {v}" for k, v in engine_info.extra.items()),
        f"- configurations: {len(frame)}; each run bounded in time and messages; Locust CSVs and the lab's "
        "event logs in `raw/`",
        "",
    ]
    throughput = frame[frame.scenario == "throughput"].copy()
    if len(throughput):
        throughput["kind"] = throughput.apply(_kind_label, axis=1)
        handler = throughput.handler_time.iloc[0]
        lines += [f"## Scenario 1 — throughput (handler time {handler} s a message)", ""]
        for batch in sorted(throughput.batch_size.unique()):
            speedups = [(k, _speedup(throughput, k, batch)) for k in dict.fromkeys(throughput.kind)]
            found = [f"{k} ×{s:.1f}" for k, s in speedups if s is not None]
            if found:
                lines.append(f"- 1 → 4 consumers, batch {batch}: " + ", ".join(found))
        lines += [FIFO_FINDING, LATENCY_FINDING, AWS_FINDING, "", _md_table(throughput, THROUGHPUT_TABLE), ""]
        lines += ["![throughput](throughput.png)", ""]
    visibility = frame[frame.scenario == "visibility"].sort_values("visibility_timeout_s")
    if len(visibility):
        first, last = visibility.iloc[0], visibility.iloc[-1]
        lines += [
            f"## Scenario 2 — visibility timeout (handler time {first.handler_time} s, crash probability "
            f"{first.crash_probability:g} per batch, DLQ after {first.max_receive_count} receives)",
            "",
            _visibility_point(first),
            _visibility_point(last),
            VISIBILITY_FINDING,
            "",
            _md_table(visibility, VISIBILITY_TABLE),
            "",
            "![visibility](visibility.png)",
            "",
        ]
    lines += ["## Latency", "", "![latency](latency.png)", "", "## Accounting", ""]
    lines += [f"- {r.config.label}: {r.accounting.line()}" for r in results]
    lines += ["", f"Tidy data: `{paths['csv'].name}` (one row per configuration)."]
    return "\n".join(lines) + "\n"


# ==================================================================================================
# The command
# ==================================================================================================
def _engine_info(name: str, endpoint: str | None, version: str) -> EngineInfo:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as pkg_version

    extra = {"machine": f"{os.cpu_count()} CPU cores (client and engine share them)"}
    for pkg in ("locust", "boto3"):
        try:
            extra[pkg] = pkg_version(pkg)
        except PackageNotFoundError:
            pass
    extra["date"] = datetime.now().isoformat(timespec="seconds")
    return EngineInfo(name, version, endpoint, extra)


def _warm_up(sqs: SQSClient, batches: int = 20) -> None:
    """A fresh engine answers its first requests slowly (code paths load on first use): exercise send,
    receive and delete once on a throwaway queue so the first configuration measures SQS, not the start."""
    url = sqs.create_queue(QueueName=f"bench-warm-up-{os.getpid()}")["QueueUrl"]
    try:
        for i in range(batches):
            batch = [{"Id": str(j), "MessageBody": f"{i}.{j}"} for j in range(10)]
            sqs.send_message_batch(QueueUrl=url, Entries=batch)  # type: ignore[arg-type]
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if got:
                entries = [{"Id": str(j), "ReceiptHandle": m["ReceiptHandle"]} for j, m in enumerate(got)]
                sqs.delete_message_batch(QueueUrl=url, Entries=entries)  # type: ignore[arg-type]
    finally:
        sqs.delete_queue(QueueUrl=url)


def _new_run_dir(out: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = out / stamp
    n = 1
    while run_dir.exists():
        n += 1
        run_dir = out / f"{stamp}-{n}"
    run_dir.mkdir(parents=True)
    return run_dir


def _bar(done: int, total: int, width: int = 20) -> str:
    filled = round(width * done / total) if total else width
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def bench(
    scenario: str = "all",
    *,
    quick: bool = False,
    engine_name: str | None = None,
    processes: int = 1,
    out: Path | str = "reports",
    aws_costs_ok: bool = False,
    progress: Progress = print,
) -> tuple[list[RunResult], dict[str, Path]]:
    """Run a scenario's matrix (or ``all``) and write the report; returns the results and report paths.

    Locally the run starts its own engine with SQS metrics off on :func:`labsqs.engine.load_port` and stops
    it afterwards (``LABSQS_ENDPOINT`` points it at an engine you run instead).
    """
    with contextlib.ExitStack() as stack:
        return _bench(scenario, quick, engine_name, processes, out, aws_costs_ok, progress, stack)


def _bench(
    scenario: str,
    quick: bool,
    engine_name: str | None,
    processes: int,
    out: Path | str,
    aws_costs_ok: bool,
    progress: Progress,
    stack: contextlib.ExitStack,
) -> tuple[list[RunResult], dict[str, Path]]:
    from labsqs import engine
    from labsqs.client import resolve_endpoint, sqs_client

    if not 1 <= processes <= MAX_PROCESSES:
        raise InvalidLoadOption(f"--processes must be between 1 and {MAX_PROCESSES}, got {processes}")
    configs = matrix(scenario, quick)
    estimate = estimate_cost(configs)
    name = engine.engine_name(engine_name)
    env = dict(os.environ)
    if name == "aws":
        progress(estimate.render())
        if not aws_costs_ok:
            raise AwsCostsNotAcknowledged(
                "`labsqs bench --engine aws` sends real, billed requests to AWS",
                hint="re-run with --i-understand-aws-costs once the estimate above is acceptable, "
                "or use a local engine (`labsqs up`)",
            )
        env.update(LABSQS_ENGINE="aws", LABSQS_ALLOW_AWS="1")
        env.pop("LABSQS_ENDPOINT", None)
        endpoint, version = None, "AWS"
        sqs = sqs_client(None, allow_aws=True)
    else:
        progress(f"{len(configs)} configuration(s); about {estimate.requests:,} requests to the local engine")
        if os.environ.get("LABSQS_ENDPOINT"):
            endpoint = resolve_endpoint()
            health = engine.localstack_health(endpoint or "")
            version = str(health.get("version")) if health else "unknown"
            name = "localstack" if health else "external"
        else:
            # a load run gets its own engine with SQS's CloudWatch metrics off: publishing them costs the
            # lessons' engine about two thirds of its throughput (benchmarks/engine.py measures both)
            state = stack.enter_context(
                engine.started(engine_name, port=engine.load_port(), metrics=False, progress=progress)
            )
            endpoint, name = state.endpoint, state.engine
            version = state.description.removeprefix(f"{name} ") + ", SQS metrics off"
            if not state.reused:
                _warm_up(sqs_client(endpoint))
        if name == "moto":
            progress(f"warning: {engine.MOTO_WARNING}")
        env["LABSQS_ENDPOINT"] = endpoint or ""
        sqs = sqs_client(endpoint)
    run_dir = _new_run_dir(Path(out))
    progress(f"report folder {run_dir}")
    results: list[RunResult] = []
    t_start = time.monotonic()
    stamp = run_dir.name.replace("-", "")[-10:]
    for k, config in enumerate(configs, 1):
        progress(f"{_bar(k - 1, len(configs))} {k}/{len(configs)} {config.scenario}: {config.label} ...")
        queue_name = f"bench-{stamp}-{k:02d}" + (".fifo" if config.fifo else "")
        result = run_config(
            config,
            directory=run_dir / "raw" / f"{k:02d}-{config.label.replace(' ', '-')}",
            endpoint=endpoint,
            env=env,
            processes=processes,
            sqs=sqs,
            queue_name=queue_name,
        )
        results.append(result)
        row = result.row
        progress(
            f"{_bar(k, len(configs))} {k}/{len(configs)} {config.label}: sent {row['sent_per_s']:.0f}/s, "
            f"processed {row['processed_per_s']:.0f}/s, e2e p95 {row['e2e_p95_ms']:.0f} ms, "
            f"duplicates {row['duplicates']}, DLQ {row['dlq']} — {result.elapsed_seconds:.0f} s "
            f"(total {time.monotonic() - t_start:.0f} s)"
        )
        progress(f"    {result.accounting.line()}")
    paths = write_report(results, run_dir, _engine_info(name, endpoint, version))
    return results, paths


def cmd_bench(args: argparse.Namespace) -> int:
    results, paths = bench(
        args.scenario,
        quick=args.quick,
        engine_name=args.engine,
        processes=args.processes,
        out=args.out,
        aws_costs_ok=args.i_understand_aws_costs,
    )
    print(f"report: {paths['summary']}")
    for key in ("csv", "throughput_png", "latency_png", "visibility_png"):
        if key in paths:
            print(f"        {paths[key]}")
    unbalanced = [r.config.label for r in results if not r.accounting.balanced]
    if unbalanced:
        print(f"accounting does not balance for: {', '.join(unbalanced)}", file=sys.stderr)
        return 1
    return 0


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
    p.add_argument("--out", default="reports", help="parent folder of the report (default: reports/)")
    p.add_argument(
        "--i-understand-aws-costs",
        action="store_true",
        help="required with --engine aws: the run sends real, billed requests",
    )
    commands["bench"] = cmd_bench


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m labsqs.bench`` = ``labsqs bench``."""
    parser = argparse.ArgumentParser(prog="labsqs")
    sub = parser.add_subparsers(dest="command", required=True)
    commands: dict[str, Callable] = {}
    register_cli(sub, commands)
    args = parser.parse_args(["bench", *(argv if argv is not None else sys.argv[1:])])
    try:
        return commands["bench"](args)
    except LabSqsError as exc:
        print(f"labsqs: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
