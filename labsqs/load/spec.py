"""The load spec: what one load run is (:class:`LoadConfig`), the lab's bounds on it, the two scenarios'
matrices, and the option checks both the command and the Locust users use.

Below both sides of the load package (the Locust users and the orchestrator), so it imports neither, nor
:mod:`labsqs.plan` (which reads :class:`LoadConfig` to estimate a run's cost): the handler-time
distribution's syntax belongs to the planner, and is checked where a run starts
(:func:`labsqs.load.orchestrator.run_config`, the Locust option ``--handler-time``).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from labsqs.base.limits import (
    MAX_BATCH_ENTRIES,
    MAX_MAX_RECEIVE_COUNT,
    MAX_VISIBILITY_TIMEOUT_SECONDS,
    MAX_WAIT_TIME_SECONDS,
    MIN_MAX_RECEIVE_COUNT,
)
from labsqs.errors import InvalidLoadOption

# --- the lab's bounds on a run -------------------------------------------------------------------
MAX_RUN_SECONDS = 600
MAX_MESSAGES_PER_RUN = 100_000
MAX_USERS = 200
MAX_GROUPS = 10_000
MAX_PROCESSES = 16
LOAD_QUEUE_RETENTION_SECONDS = 3_600  # a load run's queue keeps its messages an hour, not four days

SCENARIOS = ("throughput", "visibility")
QUEUE_TYPES = ("standard", "fifo")


# --- option checks (argparse types that raise one clear line) ----------------------------------------
def argtype(check: Callable[[str], Any]) -> Callable[[str], Any]:
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
    return argtype(check)


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
    return argtype(check)


batch_size_arg = int_in(1, MAX_BATCH_ENTRIES, "batch size")
probability_arg = float_in(0.0, 1.0, "crash probability")


# --- one run -------------------------------------------------------------------------------------
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
        """Check every numeric field and name before any request; returns ``self``. (The handler time's
        syntax is the planner's: :func:`labsqs.load.orchestrator.run_config` checks it before the run.)"""
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
            (
                MIN_MAX_RECEIVE_COUNT <= self.max_receive_count <= MAX_MAX_RECEIVE_COUNT,
                f"max receive count must be {MIN_MAX_RECEIVE_COUNT}..{MAX_MAX_RECEIVE_COUNT}",
            ),
            (0 <= self.messages <= MAX_MESSAGES_PER_RUN, f"messages must be 0..{MAX_MESSAGES_PER_RUN}"),
            (self.send_rate >= 0, "send rate must be >= 0 (0 = as fast as possible)"),
            (
                0 <= self.wait_time_seconds <= MAX_WAIT_TIME_SECONDS,
                f"wait time must be 0..{MAX_WAIT_TIME_SECONDS} s",
            ),
            (1 <= self.duration_seconds <= MAX_RUN_SECONDS, f"duration must be 1..{MAX_RUN_SECONDS} s"),
        ]
        for ok, message in checks:
            if not ok:
                raise InvalidLoadOption(f"{message} (configuration {self.label!r})")
        return self

    def locust_options(self) -> list[str]:
        """The custom Locust options (see :func:`labsqs.load.users.add_options`) for this configuration."""
        options = {
            "--queue-type": self.queue_type,
            "--groups": str(self.groups),
            "--producers": str(self.producers),
            "--consumers": str(self.consumers),
            "--batch-size": str(self.batch_size),
            "--visibility-timeout": str(self.visibility_timeout_seconds),
            "--handler-time": self.handler_time,
            "--crash-probability": f"{self.crash_probability:g}",
            "--max-receive-count": str(self.max_receive_count),
            "--max-messages": str(self.messages_per_producer),
            "--send-rate": f"{self.send_rate:g}",
            "--wait-time": str(self.wait_time_seconds),
        }
        return [text for pair in options.items() for text in pair]


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
SCENARIO_BASES: dict[str, LoadConfig] = {"throughput": THROUGHPUT_BASE, "visibility": VISIBILITY_BASE}


# --- the two scenarios' matrices ------------------------------------------------------------------
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
                fifo = replace(THROUGHPUT_BASE, queue_type="fifo", groups=groups)
                configs.append(replace(fifo, batch_size=batch, consumers=consumers))
    return configs


def visibility_matrix(quick: bool = False) -> list[LoadConfig]:
    """Scenario 2: visibility timeout 1, 2, 5 s; handlers take 0.7 s on average (exponential: a few need
    2–3 s); a consumer crashes holding its message one time in ten; DLQ after 2 receives."""
    if quick:
        base = replace(VISIBILITY_BASE, messages=60, duration_seconds=15)
        return [replace(base, visibility_timeout_seconds=vt) for vt in (1, 3)]
    return [replace(VISIBILITY_BASE, visibility_timeout_seconds=vt) for vt in (1, 2, 5)]


def matrix(scenario: str, quick: bool = False) -> list[LoadConfig]:
    """The configurations of ``throughput``, ``visibility`` or ``all``, each validated (numbers and names)."""
    if scenario not in (*SCENARIOS, "all"):
        raise InvalidLoadOption(f"unknown scenario {scenario!r}", hint="use throughput, visibility or all")
    configs: list[LoadConfig] = []
    if scenario in ("throughput", "all"):
        configs += throughput_matrix(quick)
    if scenario in ("visibility", "all"):
        configs += visibility_matrix(quick)
    return [c.validate() for c in configs]


def load_queue_spec(
    name: str, *, visibility_timeout_seconds: int, wait_time_seconds: int, max_receive_count: int
) -> Any:
    """The :class:`labsqs.queues.QueueSpec` of a load run's queue: short long poll, 1 h retention, DLQ."""
    from labsqs.queues import QueueSpec

    return QueueSpec(
        name,
        visibility_timeout_seconds=visibility_timeout_seconds,
        receive_wait_seconds=wait_time_seconds,
        retention_seconds=LOAD_QUEUE_RETENTION_SECONDS,
        max_receive_count=max_receive_count,
        with_dlq=True,
    )
