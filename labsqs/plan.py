"""Capacity and cost planning: from a workload to consumers, timeouts, limits and a monthly bill.

A queue decouples a producer's rate from a consumer's speed, but it does not make work disappear. Four
small laws turn a workload into a configuration:

**One consumer's speed.** A polling consumer repeats *receive → handle the batch → delete*. One cycle takes
the receive's latency, the handler's time for every message of the batch, and the delete's latency, so one
consumer processes ``batch / (receive + batch × handler + delete)`` messages a second. Batches amortise
the two requests over up to ten messages; they cannot shorten the handler.

**Little's law.** In a steady state, what sits in a system equals its arrival rate times the time spent
there: ``L = λ × W``. Messages in flight = rate × time a batch is held; backlog = rate × wait. Consumers
that are busy a fraction ρ of the time (``ρ = λ / (consumers × speed)``) make messages wait longer as ρ
nears 1 (an Erlang-C queue, corrected for how variable the handler is); above 1 the backlog grows without
end, by ``λ − capacity`` messages every second.

**FIFO ordering.** SQS holds a message group while one of its messages is in flight, so one group is
processed by one consumer at a time: a group can never go faster than one consumer, and consumers beyond
the number of busy groups only wait. The busiest group decides. On top of that SQS caps a FIFO queue at 300
requests per second per API action and partition (3,000 msg/s in batches of 10) unless *high-throughput
mode* is on.

**The bill.** SQS charges per request — sends, receives (empty long polls too), deletes, visibility changes
— and every 64 KB chunk of a request's payload counts as one request. The first million requests a month
are free (per account, across all queues).

Every figure the planner uses has a source, and :meth:`Plan.render` prints it: ``sqs-limits`` (the lab's
facts file of SQS limits and prices, the constants below), ``you`` (an input), ``measured`` (the lab's own
engine, e.g. ``labsqs bench``), or ``assumed`` (a default the lab chose; override it). ``labsqs plan``
is the command; ``labsqs bench`` checks :func:`predict_load_run` against every configuration it measures.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from labsqs.errors import FifoGroupTooHot, InvalidLoadOption, InvalidPlanInput, VisibilityTooShort

if TYPE_CHECKING:
    from labsqs.load.spec import LoadConfig

# --- SQS limits and prices (source: the lab's facts file, shared/facts/sqs-limits.md) --------------
MAX_BATCH_ENTRIES = 10
MAX_MESSAGE_BYTES = 1_048_576  # 1 MiB, UTF-8 bytes incl. attributes; also the most a batch may carry
MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200
MAX_WAIT_TIME_SECONDS = 20
FIFO_TPS_PER_ACTION = 300  # per API action per partition, without high-throughput mode
FIFO_MESSAGES_PER_SECOND_BATCHED = FIFO_TPS_PER_ACTION * MAX_BATCH_ENTRIES  # 3,000
HIGH_THROUGHPUT_FIFO_TPS = 70_000  # non-batched, largest regions; needs perMessageGroupId throughput limit
MAX_IN_FLIGHT_STANDARD = 120_000  # approximate; OverLimit error
MAX_IN_FLIGHT_FIFO = 120_000  # no error at the limit: receives just come back empty
BILLING_CHUNK_BYTES = 64 * 1024  # every 64 KB of a request bills as one request
STANDARD_USD_PER_MILLION_REQUESTS = 0.40
FIFO_USD_PER_MILLION_REQUESTS = 0.50
FREE_REQUESTS_PER_MONTH = 1_000_000
AWS_PRICING_HINT = (
    "check the current prices on the AWS SQS pricing page; the first 1 M requests a month are free"
)
SQS_LIMITS = "sqs-limits"  # the source tag of every constant above

# --- the planner's own assumptions (each one shown as "assumed" and overridable) ------------------
SECONDS_PER_MONTH = 30 * 24 * 3600  # a 30-day month
TYPICAL_AWS_REQUEST_SECONDS = 0.020  # an in-region SQS round trip; measure yours, pass --latency
DEFAULT_UTILIZATION = 0.7  # plan consumers busy at most 70 % of the time at the peak rate
DEFAULT_FAILURE_RATE = 0.01  # chance one handling attempt fails transiently (then retried)
NEAR_LIMIT_FRACTION = 0.5  # a figure above half an AWS limit is reported as "near"
NEAR_CAPACITY_FRACTION = 0.1  # a load run offered within 10 % of its capacity sits on a knife edge
VISIBILITY_MARGIN = 1.5  # visibility timeout = held time at p99 × this margin
MIN_MAX_RECEIVE_COUNT = 3
MESSAGE_BODY_BYTES_ESTIMATE = 120  # the load tests' JSON body: id, send timestamp, group

QUEUE_TYPES = ("standard", "fifo")
MAX_HANDLER_SECONDS = 60.0
_DISTRIBUTION_ARITY = {"const": 1, "uniform": 2, "exp": 1, "normal": 2}
_Z99 = statistics.NormalDist().inv_cdf(0.99)


# ==================================================================================================
# The handler's time: a distribution (the load tests' --handler-time forms)
# ==================================================================================================
@dataclass(frozen=True)
class HandlerTime:
    """How long a handler works on one message, in seconds, drawn per message.

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

    @property
    def sd_seconds(self) -> float:
        if self.kind == "const":
            return 0.0
        if self.kind == "uniform":
            return (self.params[1] - self.params[0]) / math.sqrt(12)
        if self.kind == "exp":
            return self.params[0]
        return self.params[1]

    def quantile(self, q: float) -> float:
        """The handler time that a fraction ``q`` of messages stay under (``quantile(0.99)`` = p99)."""
        if self.kind == "const":
            return self.params[0]
        if self.kind == "uniform":
            return self.params[0] + q * (self.params[1] - self.params[0])
        if self.kind == "exp":
            return -self.params[0] * math.log(1.0 - q)
        mean, sd = self.params
        return max(0.0, mean + sd * statistics.NormalDist().inv_cdf(q)) if sd else mean

    @property
    def bounded(self) -> bool:
        """Whether the handler has a longest time (const, uniform); exp and normal have none."""
        return self.kind in ("const", "uniform")

    def __str__(self) -> str:
        return f"{self.kind}:{','.join(f'{p:g}' for p in self.params)}"


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


# ==================================================================================================
# The laws, as small functions (shared by the planner and by bench's check against measurements)
# ==================================================================================================
def consumer_cycle_seconds(
    batch: float, handler_seconds: float, receive_seconds: float, delete_seconds: float
) -> float:
    """One receive → handle every message of the batch → delete cycle of one polling consumer."""
    return receive_seconds + batch * handler_seconds + delete_seconds


def consumer_rate(
    batch: float, handler_seconds: float, receive_seconds: float, delete_seconds: float
) -> float:
    """Messages a second one consumer processes when the queue never runs dry."""
    cycle = consumer_cycle_seconds(batch, handler_seconds, receive_seconds, delete_seconds)
    return batch / cycle if cycle > 0 else math.inf


def parallel_lanes(queue_type: str, consumers: int, groups: int) -> int:
    """Consumers that can work at once: all of them on a standard queue; on FIFO one per message group."""
    return consumers if queue_type == "standard" else min(consumers, groups)


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival waits in an M/M/c queue with ``load`` = λ/μ (Erlang's C formula)."""
    if servers <= 0 or load >= servers:
        return 1.0
    term, total = 1.0, 1.0
    for k in range(1, servers):
        term *= load / k
        total += term
    last = term * load / servers / (1 - load / servers)
    return last / (total + last)


def queue_wait_seconds(rate: float, servers: int, service_seconds: float, service_cv2: float) -> float:
    """Mean wait before a consumer takes a message (Allen–Cunneen: Erlang C × (1 + cv²) / 2)."""
    if rate <= 0:
        return 0.0
    capacity = servers / service_seconds
    if rate >= capacity:
        return math.inf
    return erlang_c(servers, rate * service_seconds) / (capacity - rate) * (1 + service_cv2) / 2


def batch_fill(batch: int, utilization: float) -> float:
    """Messages a receive returns on average: about ``utilization × batch``, at least one, at most ``batch``
    (a long poll returns as soon as something waits, so a lightly loaded queue hands out small batches)."""
    return min(float(batch), max(1.0, utilization * batch))


def billed_chunks(payload_bytes: float) -> int:
    """Requests one request bills as: one per started 64 KB of payload."""
    return max(1, math.ceil(payload_bytes / BILLING_CHUNK_BYTES))


def usd_for_requests(requests: float, queue_type: str, *, free: float = 0.0) -> float:
    price = FIFO_USD_PER_MILLION_REQUESTS if queue_type == "fifo" else STANDARD_USD_PER_MILLION_REQUESTS
    return max(0.0, requests - free) * price / 1e6


def empty_receives_per_second(consumers: int, utilization: float, rate: float, wait_seconds: int) -> float:
    """Long polls that end empty: idle consumers poll once per wait, and a poll is empty only when no
    message arrives for its share of the traffic during the whole wait (short polls: ~1 per 50 ms)."""
    idle = consumers * max(0.0, 1.0 - min(utilization, 1.0))
    if wait_seconds <= 0:
        return idle / 0.05
    share = rate / consumers if consumers else 0.0
    return idle / wait_seconds * math.exp(-share * wait_seconds)


# ==================================================================================================
# The workload and the plan
# ==================================================================================================
@dataclass(frozen=True)
class Figure:
    """One number of a plan, with its unit and where it comes from."""

    name: str
    value: Any
    unit: str
    source: str  # sqs-limits, you, measured, assumed, model

    def text(self) -> str:
        value = self.value
        if isinstance(value, float):
            value = f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
        elif isinstance(value, int) and not isinstance(value, bool):
            value = f"{value:,}"
        return f"{self.name:<34} {value!s:>14} {self.unit:<18} [{self.source}]"


@dataclass(frozen=True)
class Workload:
    """What a team knows about its traffic. Rates in messages/s; ``peak_rate`` defaults to ``rate``.

    ``group_share`` is the fraction of the traffic that the busiest FIFO message group carries (default:
    traffic spread evenly, ``1 / groups``). ``latency_seconds`` is one SQS request's round trip
    (receive, delete, send); without it the planner assumes a typical in-region AWS figure.
    ``sources`` names inputs that came from somewhere other than the user (e.g. ``{"latency": "measured"}``).
    """

    rate: float
    handler: HandlerTime
    peak_rate: float | None = None
    message_bytes: int = 1024
    batch_size: int = MAX_BATCH_ENTRIES
    send_batch_size: int = 1  # messages per SendMessageBatch; 1 = each message sent on its own
    queue_type: str = "standard"
    groups: int = 1
    group_share: float | None = None
    latency_seconds: float | None = None
    consumers: int | None = None  # evaluate this many instead of computing the number needed
    visibility_timeout_seconds: int | None = None  # check this one instead of recommending one
    wait_time_seconds: int = MAX_WAIT_TIME_SECONDS
    utilization: float = DEFAULT_UTILIZATION
    failure_rate: float = DEFAULT_FAILURE_RATE
    high_throughput: bool = False
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def fifo(self) -> bool:
        return self.queue_type == "fifo"

    @property
    def peak(self) -> float:
        return self.rate if self.peak_rate is None else self.peak_rate

    @property
    def busiest_group_share(self) -> float:
        return self.group_share if self.group_share is not None else 1.0 / self.groups

    def source(self, name: str, given: bool = True) -> str:
        return self.sources.get(name, "you" if given else "assumed")

    def validate(self) -> Workload:
        """Check every input before planning; each refusal says what to change."""
        checks: list[tuple[bool, str, str]] = [
            (self.rate >= 0 and math.isfinite(self.rate), f"rate {self.rate:g} msg/s", "give a rate >= 0"),
            (
                self.peak >= self.rate and math.isfinite(self.peak),
                f"peak rate {self.peak:g} msg/s is below the steady rate {self.rate:g}",
                "give a peak >= the steady rate (or leave it out)",
            ),
            (self.peak > 0, "both rates are 0", "give the messages per second you expect"),
            (self.queue_type in QUEUE_TYPES, f"queue type {self.queue_type!r}", "use standard or fifo"),
            (
                1 <= self.batch_size <= MAX_BATCH_ENTRIES,
                f"batch size {self.batch_size}",
                f"SQS batches hold 1..{MAX_BATCH_ENTRIES} messages [{SQS_LIMITS}]",
            ),
            (
                1 <= self.message_bytes <= MAX_MESSAGE_BYTES,
                f"message size {self.message_bytes:,} bytes",
                f"SQS takes 1..{MAX_MESSAGE_BYTES:,} bytes [{SQS_LIMITS}]; store big payloads in S3 and "
                "send a pointer",
            ),
            (
                1 <= self.send_batch_size <= MAX_BATCH_ENTRIES,
                f"send batch size {self.send_batch_size}",
                f"SQS batches hold 1..{MAX_BATCH_ENTRIES} messages [{SQS_LIMITS}]",
            ),
            (self.groups >= 1, f"{self.groups} message groups", "give at least one group"),
            (
                self.group_share is None or 0 < self.group_share <= 1,
                f"busiest group share {self.group_share}",
                "give a fraction between 0 and 1 (0.25 = a quarter of the traffic)",
            ),
            (
                self.group_share is None or self.group_share >= 1 / self.groups - 1e-9,
                f"busiest group share {self.group_share} is below an even spread over {self.groups} groups",
                f"the busiest group carries at least 1/{self.groups} of the traffic",
            ),
            (
                self.latency_seconds is None or 0 <= self.latency_seconds <= 60,
                f"latency {self.latency_seconds} s",
                "give the request round trip in seconds (e.g. 0.02)",
            ),
            (self.consumers is None or self.consumers >= 1, f"{self.consumers} consumers", "give >= 1"),
            (
                self.visibility_timeout_seconds is None
                or 0 <= self.visibility_timeout_seconds <= MAX_VISIBILITY_TIMEOUT_SECONDS,
                f"visibility timeout {self.visibility_timeout_seconds} s",
                f"SQS allows 0..{MAX_VISIBILITY_TIMEOUT_SECONDS:,} s [{SQS_LIMITS}]",
            ),
            (
                0 <= self.wait_time_seconds <= MAX_WAIT_TIME_SECONDS,
                f"wait time {self.wait_time_seconds} s",
                f"long polls wait 0..{MAX_WAIT_TIME_SECONDS} s [{SQS_LIMITS}]",
            ),
            (0 < self.utilization <= 1, f"utilization {self.utilization}", "give a fraction, e.g. 0.7"),
            (0 <= self.failure_rate < 1, f"failure rate {self.failure_rate}", "give a fraction, e.g. 0.01"),
        ]
        for ok, what, hint in checks:
            if not ok:
                raise InvalidPlanInput(f"cannot plan with {what}", hint=hint)
        biggest_batch = max(self.batch_size, self.send_batch_size)
        if biggest_batch * self.message_bytes > MAX_MESSAGE_BYTES:
            raise InvalidPlanInput(
                f"a batch of {biggest_batch} messages of {self.message_bytes:,} bytes exceeds the "
                f"{MAX_MESSAGE_BYTES:,}-byte batch limit [{SQS_LIMITS}]",
                hint=f"use a batch size of at most {MAX_MESSAGE_BYTES // self.message_bytes}",
            )
        return self


@dataclass(frozen=True)
class Plan:
    """The planner's answer: figures (with sources), warnings that say what to change, and the inputs."""

    workload: Workload
    consumers: int
    per_consumer_rate: float
    capacity: float
    visibility_timeout_seconds: int
    max_receive_count: int
    requests_per_month: float
    usd_per_month: float
    figures: list[Figure]
    warnings: list[str]
    advice: list[str]

    def figure(self, name: str) -> Any:
        return next(f.value for f in self.figures if f.name == name)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: f.value for f in self.figures}

    def render(self) -> str:
        w = self.workload
        kind = f"FIFO, {w.groups} group(s)" if w.fifo else "standard"
        lines = [
            f"plan for {w.rate:g} msg/s (peak {w.peak:g}), {w.message_bytes:,}-byte messages, handler "
            f"{w.handler} s, receive batch {w.batch_size}, send batch {w.send_batch_size}, {kind}",
            "",
            *(f.text() for f in self.figures),
        ]
        if self.advice:
            lines += ["", "advice:", *(f"- {a}" for a in self.advice)]
        if self.warnings:
            lines += ["", "warnings:", *(f"- {x}" for x in self.warnings)]
        lines += [
            "",
            "sources: [sqs-limits] the lab's facts file of SQS limits and prices (check the AWS pages); "
            "[you] your input; [measured] the lab's engine; [assumed] the planner's default (override it); "
            "[model] computed here. Prices: " + AWS_PRICING_HINT + ".",
        ]
        return "\n".join(lines)


def held_seconds_p99(handler: HandlerTime, batch: int, delete_seconds: float) -> float:
    """How long a received batch stays hidden at its 99th percentile: its messages' handler times + delete.

    One message: the handler's own p99. A batch: its sum (mean × batch + z₉₉ × sd × √batch), and never less
    than one slow message among average ones."""
    single_slow = handler.quantile(0.99) + (batch - 1) * handler.mean_seconds
    summed = batch * handler.mean_seconds + _Z99 * handler.sd_seconds * math.sqrt(batch)
    return max(single_slow, summed) + delete_seconds


def recommended_max_receive_count(failure_rate: float, messages_per_month: float) -> int:
    """Smallest receive count for which less than one good message a month is dead-lettered by chance
    (each attempt fails independently with ``failure_rate``); at least 3 so a blip is retried."""
    if failure_rate <= 0 or messages_per_month <= 0:
        return MIN_MAX_RECEIVE_COUNT
    n = math.ceil(math.log(1.0 / messages_per_month) / math.log(failure_rate)) if failure_rate < 1 else 1000
    return max(MIN_MAX_RECEIVE_COUNT, min(n, 1000))


@dataclass
class _Draft:
    """What a plan collects on its way: figures with their sources, warnings, advice."""

    figures: list[Figure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Sizing:
    """How many consumers, and what they carry (the first step of a plan)."""

    latency: float
    cycle: float
    per_consumer: float
    needed: int
    consumers: int
    lanes: int
    capacity: float

    def utilization(self, rate: float) -> float:
        return rate / self.capacity if self.capacity else math.inf


def plan(workload: Workload) -> Plan:
    """Plan consumers, FIFO mode, visibility timeout, maxReceiveCount, monthly requests and cost.

    Raises :class:`InvalidPlanInput` for impossible inputs, :class:`FifoGroupTooHot` when one message
    group carries more than one consumer can process, :class:`VisibilityTooShort` when the given
    visibility timeout is below the handler's average batch time. Softer problems become ``warnings``.
    """
    w = workload.validate()
    latency = w.latency_seconds if w.latency_seconds is not None else TYPICAL_AWS_REQUEST_SECONDS
    draft = _Draft()
    draft.figures += [
        Figure("steady rate", w.rate, "msg/s", w.source("rate")),
        Figure("peak rate", w.peak, "msg/s", w.source("peak", w.peak_rate is not None)),
        Figure(
            "handler time mean / p99",
            f"{w.handler.mean_seconds:g} / {w.handler.quantile(0.99):.3g}",
            "s",
            w.source("handler"),
        ),
        Figure("request latency", latency, "s", w.source("latency", w.latency_seconds is not None)),
    ]
    sizing = _size_consumers(w, latency, draft)
    in_flight = _littles_law(w, sizing, draft)
    if w.fifo:
        _fifo_quota(w, sizing, draft)
    vt, max_receive = _timeouts(w, latency, draft)
    requests = monthly_requests(w, sizing.consumers, sizing.capacity, latency)
    total = sum(requests.values())
    usd = usd_for_requests(total, w.queue_type, free=FREE_REQUESTS_PER_MONTH)
    draft.figures += [
        Figure("seconds in a month", SECONDS_PER_MONTH, "s", "assumed"),
        Figure("messages per month", w.rate * SECONDS_PER_MONTH, "", "model"),
        *(Figure(f"requests/month: {k}", v, "", "model") for k, v in requests.items()),
        Figure("requests per month", total, "", "model"),
        Figure(
            "price per million requests",
            FIFO_USD_PER_MILLION_REQUESTS if w.fifo else STANDARD_USD_PER_MILLION_REQUESTS,
            "USD",
            SQS_LIMITS,
        ),
        Figure("free requests per month", FREE_REQUESTS_PER_MONTH, "", SQS_LIMITS),
        Figure("monthly cost", usd, "USD", "model"),
    ]
    _near_limits(w, in_flight, draft)
    return Plan(
        workload=w,
        consumers=sizing.consumers,
        per_consumer_rate=sizing.per_consumer,
        capacity=sizing.capacity,
        visibility_timeout_seconds=vt,
        max_receive_count=max_receive,
        requests_per_month=total,
        usd_per_month=usd,
        figures=draft.figures,
        warnings=draft.warnings,
        advice=draft.advice,
    )


def _size_consumers(w: Workload, latency: float, draft: _Draft) -> Sizing:
    """Consumers for the peak at the target utilization; FIFO: the busiest group within one consumer."""
    b, h = w.batch_size, w.handler
    cycle = consumer_cycle_seconds(b, h.mean_seconds, latency, latency)
    per_consumer = consumer_rate(b, h.mean_seconds, latency, latency)
    needed = max(1, math.ceil(w.peak / (per_consumer * w.utilization)))
    if w.fifo:
        share_rate = w.peak * w.busiest_group_share
        if share_rate > per_consumer:
            raise FifoGroupTooHot(
                f"the busiest message group carries {share_rate:,.1f} msg/s at the peak, but SQS delivers a "
                f"group to one consumer at a time and one consumer handles {per_consumer:,.1f} msg/s "
                f"(batch {b}, handler {h.mean_seconds:g} s, latency {latency:g} s)",
                hint="split that group's traffic over more group ids (e.g. per customer, not per tenant), "
                "make the handler faster, raise the batch size, or use a standard queue if order "
                "within the group does not matter",
            )
    consumers = w.consumers if w.consumers is not None else needed
    if w.fifo and needed > w.groups:
        draft.warnings.append(
            f"{w.groups} message group(s) keep at most {w.groups} consumer(s) busy, but {needed} are needed "
            f"for {w.utilization:.0%} utilization at the peak — use at least {needed} groups"
        )
        consumers = min(consumers, w.groups) if w.consumers is None else consumers
    lanes = parallel_lanes(w.queue_type, consumers, w.groups)
    capacity = lanes * per_consumer
    if w.consumers is not None and w.peak > capacity:
        draft.warnings.append(
            f"{consumers} consumer(s) process {capacity:,.1f} msg/s but the peak is {w.peak:,.1f}: "
            f"the backlog grows by {w.peak - capacity:,.1f} messages a second during the peak — use at "
            f"least {needed}"
        )
    if w.fifo and consumers > w.groups:
        draft.warnings.append(
            f"{consumers - w.groups} of {consumers} consumers only wait: FIFO delivers each of the "
            f"{w.groups} group(s) to one consumer at a time — add groups or drop consumers"
        )
    sizing = Sizing(latency, cycle, per_consumer, needed, consumers, lanes, capacity)
    rho, rho_peak = sizing.utilization(w.rate), sizing.utilization(w.peak)
    draft.figures += [
        Figure("consumer cycle (receive+batch+delete)", cycle, "s", "model"),
        Figure("one consumer processes", per_consumer, "msg/s", "model"),
        Figure("consumers needed at peak", needed, "", "model"),
        Figure("consumers planned", consumers, "", w.source("consumers") if w.consumers else "model"),
        Figure(
            "target utilization",
            w.utilization,
            "",
            w.source("utilization", w.utilization != DEFAULT_UTILIZATION),
        ),
        Figure("capacity", capacity, "msg/s", "model"),
        Figure("utilization steady / peak", f"{rho:.0%} / {rho_peak:.0%}", "", "model"),
    ]
    return sizing


def _littles_law(w: Workload, sizing: Sizing, draft: _Draft) -> float:
    """Wait, time in the system, backlog and messages in flight; returns the in-flight count at the peak."""
    b, h, latency = w.batch_size, w.handler, sizing.latency
    cycle = sizing.cycle
    cv2 = (b * h.sd_seconds**2) / (cycle**2) if cycle else 0.0
    wait = queue_wait_seconds(w.rate, sizing.lanes, cycle / b, cv2) if w.rate else 0.0
    fill = batch_fill(
        b, sizing.utilization(w.rate)
    )  # a receive returns what waits: small batches at low load
    in_system = wait + consumer_cycle_seconds(fill, h.mean_seconds, latency, latency)
    in_flight = w.peak * (batch_fill(b, sizing.utilization(w.peak)) * h.mean_seconds + latency)
    draft.figures += [
        Figure("wait before a consumer (steady)", wait, "s", "model"),
        Figure("time in queue+consumer (steady)", in_system, "s", "model"),
        Figure("backlog (steady, Little)", w.rate * wait, "messages", "model"),
        Figure("in flight at peak (Little)", in_flight, "messages", "model"),
    ]
    return in_flight


def _fifo_quota(w: Workload, sizing: Sizing, draft: _Draft) -> None:
    """FIFO's 300 requests/s per action (without high-throughput mode) against the busiest action."""
    sends_tps = w.peak / w.send_batch_size
    receives_tps = w.peak / batch_fill(w.batch_size, sizing.utilization(w.peak))  # receives carrying messages
    busiest_tps = max(sends_tps, receives_tps)
    tps_limit = HIGH_THROUGHPUT_FIFO_TPS if w.high_throughput else FIFO_TPS_PER_ACTION
    draft.figures += [
        Figure("FIFO send requests at peak", sends_tps, "req/s", "model"),
        Figure("FIFO receive requests at peak", receives_tps, "req/s", "model"),
        Figure("FIFO limit per action", tps_limit, "req/s", SQS_LIMITS),
        Figure("needs high-throughput FIFO", busiest_tps > FIFO_TPS_PER_ACTION, "", "model"),
        Figure("busiest group at peak", w.peak * w.busiest_group_share, "msg/s", w.source("groups")),
    ]
    if busiest_tps <= tps_limit:
        return
    if w.high_throughput:
        draft.warnings.append(
            f"{busiest_tps:,.0f} requests/s of one action exceed even high-throughput FIFO's "
            f"{tps_limit:,} TPS — spread the traffic over several queues"
        )
        return
    batching = (
        min(w.batch_size, w.send_batch_size) < MAX_BATCH_ENTRIES
        and w.peak <= FIFO_MESSAGES_PER_SECOND_BATCHED
    )
    draft.warnings.append(
        f"{busiest_tps:,.0f} requests/s of one action exceed FIFO's {FIFO_TPS_PER_ACTION} TPS per action "
        f"({FIFO_MESSAGES_PER_SECOND_BATCHED:,} msg/s in batches of 10) [{SQS_LIMITS}]: "
        + ("send and receive in batches of 10, or " if batching else "")
        + "turn on high-throughput mode (DeduplicationScope=messageGroup, "
        "FifoThroughputLimit=perMessageGroupId; scales per group, so keep many groups)"
    )


def _timeouts(w: Workload, latency: float, draft: _Draft) -> tuple[int, int]:
    """The visibility timeout (from the handler's p99), heartbeat advice and maxReceiveCount."""
    b, h = w.batch_size, w.handler
    held = b * h.mean_seconds + latency  # a full batch: what the visibility timeout must cover
    held_p99 = held_seconds_p99(h, b, latency)
    recommended_vt = min(MAX_VISIBILITY_TIMEOUT_SECONDS, max(1, math.ceil(held_p99 * VISIBILITY_MARGIN)))
    vt = w.visibility_timeout_seconds if w.visibility_timeout_seconds is not None else recommended_vt
    if w.visibility_timeout_seconds is not None:
        if held > vt:
            raise VisibilityTooShort(
                f"a batch of {b} is held {held:.3g} s on average but the visibility timeout is {vt} s: "
                "nearly every message would be delivered again while its handler still runs",
                hint=f"set the visibility timeout to at least {recommended_vt} s (p99 {held_p99:.3g} s × "
                f"{VISIBILITY_MARGIN}), use a smaller batch, or extend visibility with a heartbeat",
            )
        if held_p99 > vt:
            draft.warnings.append(
                f"the visibility timeout {vt} s is below the p99 time a batch is held ({held_p99:.3g} s): "
                f"about 1 % of batches come back while still being handled — raise it to {recommended_vt} s "
                "or turn on the consumer's heartbeat"
            )
    if held_p99 * VISIBILITY_MARGIN > MAX_VISIBILITY_TIMEOUT_SECONDS:
        draft.warnings.append(
            "the handler's p99 exceeds SQS's 12 h visibility limit: split the work into steps"
        )
    if not h.bounded or vt < 2 * held_p99:
        draft.advice.append(
            f"heartbeat: {'the handler time has no upper bound' if not h.bounded else 'little slack'} — "
            f"extend visibility every {max(1, vt // 3)} s while a batch is handled (labsqs.consumer's "
            "heartbeat=True does it; ChangeMessageVisibility is billed as a request)"
        )
    max_receive = recommended_max_receive_count(w.failure_rate, w.rate * SECONDS_PER_MONTH)
    draft.figures += [
        Figure("batch held, p99", held_p99, "s", "model"),
        Figure(
            "visibility timeout", vt, "s", w.source("visibility") if w.visibility_timeout_seconds else "model"
        ),
        Figure(
            "failure rate per attempt",
            w.failure_rate,
            "",
            w.source("failure_rate", w.failure_rate != DEFAULT_FAILURE_RATE),
        ),
        Figure("maxReceiveCount", max_receive, "", "model"),
    ]
    draft.advice.append(
        f"maxReceiveCount {max_receive}: fewer than one good message a month dead-lettered by chance at a "
        f"{w.failure_rate:g} failure rate; a poison message costs {max_receive} receives before the DLQ"
    )
    return vt, max_receive


def _near_limits(w: Workload, in_flight: float, draft: _Draft) -> None:
    """Warn about every AWS limit the plan uses more than half of."""
    in_flight_limit = MAX_IN_FLIGHT_FIFO if w.fifo else MAX_IN_FLIGHT_STANDARD
    for what, value, limit in (
        ("messages in flight", in_flight, in_flight_limit),
        ("message size (bytes)", w.message_bytes, MAX_MESSAGE_BYTES),
        ("batch payload (bytes)", w.message_bytes * max(w.batch_size, w.send_batch_size), MAX_MESSAGE_BYTES),
    ):
        if value > NEAR_LIMIT_FRACTION * limit:
            over = " — over it, receives fail (standard: OverLimit) or come back empty (FIFO)"
            draft.warnings.append(
                f"{what}: {value:,.0f} is {value / limit:.0%} of SQS's limit of {limit:,} [{SQS_LIMITS}]"
                + (over if value > limit else "")
            )
    draft.figures.append(Figure("in flight / limit", in_flight / in_flight_limit, "", "model"))


def monthly_requests(w: Workload, consumers: int, capacity: float, latency: float) -> dict[str, float]:
    """Requests a month by kind, each counted per 64 KB chunk of its payload.

    A receive returns what is waiting when it is answered, so at utilization ρ a batch is about ρ × batch
    full (at least one message); idle consumers' long polls that end empty are billed too."""
    messages = w.rate * SECONDS_PER_MONTH
    fill = batch_fill(w.batch_size, w.rate / capacity if capacity else 1.0)
    rho = w.rate / capacity if capacity else 1.0
    sends = messages / w.send_batch_size * billed_chunks(w.send_batch_size * w.message_bytes)
    attempts = 1.0 / (1.0 - w.failure_rate)  # each failure is received again
    receives = messages * attempts / fill * billed_chunks(fill * w.message_bytes)
    deletes = messages / fill
    empty = empty_receives_per_second(consumers, rho, w.rate, w.wait_time_seconds) * SECONDS_PER_MONTH
    counts = {"sends": sends, "receives": receives, "deletes": deletes, "empty receives": empty}
    return {k: float(round(v)) for k, v in counts.items()}


def sweep(workload: Workload, rates: Sequence[float], *, peak_factor: float = 1.0) -> Any:
    """Plans for several steady rates (peak = rate × ``peak_factor``) as a pandas DataFrame, for plots."""
    import pandas as pd

    rows = []
    for rate in rates:
        p = plan(replace(workload, rate=rate, peak_rate=rate * peak_factor))
        rows.append(
            {
                "rate": rate,
                "consumers": p.consumers,
                "capacity": p.capacity,
                "requests_per_month": p.requests_per_month,
                "usd_per_month": p.usd_per_month,
                "visibility_timeout_s": p.visibility_timeout_seconds,
                "max_receive_count": p.max_receive_count,
                "warnings": len(p.warnings),
            }
        )
    return pd.DataFrame(rows)


# ==================================================================================================
# What a planned load run costs on AWS (the cost guard of `labsqs bench`), and what AWS caps it at
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
    chunks = billed_chunks(config.batch_size * MESSAGE_BODY_BYTES_ESTIMATE)
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
# The planner checked against a measured load run (`labsqs bench`)
# ==================================================================================================
@dataclass(frozen=True)
class Cycle:
    """One consumer's request latencies and handler time (seconds)."""

    receive: float
    handler: float
    delete: float


@dataclass(frozen=True)
class RunInputs:
    """What one load run measured that the model takes as *inputs* (never its results): when each message
    was sent (the offered load as it happened), the request latencies and handler times the consumers saw,
    and how many messages the run processed (the sample its latency percentiles are taken over)."""

    queue_type: str
    groups: int
    consumers: int
    batch_size: int
    send_times: tuple[float, ...]  # seconds, ascending
    messages: int  # processed within the run's bounds
    receive_seconds: float  # mean receive that returned messages, + the consumer's turn-around before it
    delete_seconds: float  # mean duration of a delete request
    handler_seconds: float  # mean measured handler time per message
    handler_samples: tuple[float, ...] = ()  # measured handler times, in the order they happened
    groups_of: tuple[int, ...] = ()  # FIFO: each sent message's group, aligned with send_times
    send_seconds: float = 0.0  # mean send request: the latency clock starts before it, arrival after it
    # the cycle as measured window by window ((start, Cycle), ascending): client and engine share the cores,
    # so requests slow down while the producer sends flat out or the machine is busy with something else
    windows: tuple[tuple[float, Cycle], ...] = ()

    @property
    def sent_per_s(self) -> float:
        t = self.send_times
        return (len(t) - 1) / (t[-1] - t[0]) if len(t) > 1 and t[-1] > t[0] else math.inf


@dataclass(frozen=True)
class RunPrediction:
    processed_per_s: float
    e2e_p50_seconds: float
    lanes: int
    cycle_seconds: float
    notes: tuple[str, ...]


def handoff_seconds(round_trip_seconds: float) -> float:
    """What a long poll already waiting at the server costs once its message is there: the answer's way
    back, taken as half a plain round trip (an assumption of the model, checked by ``labsqs bench``)."""
    return round_trip_seconds / 2


def departures(
    arrivals: Sequence[float],
    lanes: int,
    batch: int,
    cycle: Cycle,
    *,
    windows: Sequence[tuple[float, Cycle]] = (),
    handler_samples: Sequence[float] = (),
    groups_of: Sequence[int] = (),
) -> list[float]:
    """When each message (in arrival order) is deleted, by playing the consumers' loop forward.

    ``lanes`` consumers poll; a free one takes the waiting messages up to ``batch`` (a long poll on an
    empty queue returns when the next message arrives), is answered ``receive`` seconds later, handles
    them one after another and deletes them together. Messages that arrive faster than the lanes turn over
    wait behind the backlog ahead of them — Little's law, step by step.

    FIFO (``groups_of`` gives each message's group): a receive takes as many messages of one group as it
    can, then of the next (oldest first), and a group is locked from its receive until its delete; a poll
    that waited for a group to unlock is already at the server, so it costs only :func:`handoff_seconds`.
    A poll uses the cycle of the ``windows`` entry it starts in (the latencies measured then), else
    ``cycle``. With ``handler_samples`` message *k* takes the *k*-th sample (cycling), not the mean."""
    import bisect
    import heapq
    from collections import deque

    n = len(arrivals)
    fifo = bool(groups_of)
    keys = list(groups_of) if fifo else [0] * n
    pending: dict[int, deque[int]] = {}
    for k in range(n):
        pending.setdefault(keys[k], deque()).append(k)
    unlock: dict[int, float] = {}
    done = [math.nan] * n
    free = [arrivals[0] if n else 0.0] * max(lanes, 1)
    heapq.heapify(free)
    starts = [t for t, _ in windows]
    left = n
    while left:
        lane_free = heapq.heappop(free)
        avail, group = min(
            (max(arrivals[q[0]], unlock.get(g, -math.inf)), g) for g, q in pending.items() if q
        )
        start = max(lane_free, avail)
        w = bisect.bisect_right(starts, start) - 1
        c = windows[w][1] if w >= 0 else cycle
        handed_over = (
            fifo and start > lane_free and unlock.get(group, -math.inf) > arrivals[pending[group][0]]
        )
        receive = handoff_seconds(c.delete) if handed_over else c.receive
        looks = start + receive / 2  # the server looks at the queue half-way through the round trip
        heads = sorted(
            (arrivals[q[0]], g)
            for g, q in pending.items()
            if q and arrivals[q[0]] <= looks and unlock.get(g, -math.inf) <= looks
        )
        taken: list[int] = []
        for _, g in heads:
            q = pending[g]
            while q and len(taken) < batch and arrivals[q[0]] <= looks:
                taken.append(q.popleft())
            if len(taken) >= batch:
                break
        if handler_samples:
            m = len(handler_samples)
            work = sum(handler_samples[k % m] for k in taken)  # measured in time order: stalls included
        else:
            work = len(taken) * c.handler
        end = start + receive + work + c.delete
        for k in taken:
            done[k] = end
            if fifo:
                unlock[keys[k]] = end
        left -= len(taken)
        heapq.heappush(free, end)
    return done


def predict_load_run(run: RunInputs) -> RunPrediction:
    """Predict a load run's processed msg/s and median end-to-end latency from its measured inputs.

    Throughput: ``lanes × batch / cycle`` (lanes = consumers, or message groups on FIFO), capped by the
    offered rate. With more FIFO consumers than groups, a group is handed to a long poll that already waits
    at the server: that lane's receive costs only the answer's way back, taken as half a plain round trip
    (half the delete's measured latency: a request that never waits); the cycle uses the run's mean latencies,
    which weigh each phase of the run by its requests. Latency (send → deleted): the send request, then each
    message in send order leaves when a place frees up (:func:`departures`), each poll with the latencies
    measured in its part of the run; the median is over the messages the run processed, as
    Locust's is.
    """
    b = run.batch_size
    lanes = parallel_lanes(run.queue_type, run.consumers, run.groups)
    waiting_poll = run.queue_type == "fifo" and run.consumers > lanes
    receive = handoff_seconds(run.delete_seconds) if waiting_poll else run.receive_seconds
    cycle = consumer_cycle_seconds(b, run.handler_seconds, receive, run.delete_seconds)
    capacity = lanes * b / cycle if cycle > 0 else math.inf
    notes: list[str] = []
    if waiting_poll:
        notes.append(
            f"FIFO: {run.consumers} consumers share {lanes} group lane(s); the next poll already waits, "
            "so a lane's receive costs only the answer's way back (half a round trip, assumed)"
        )
    offered = run.sent_per_s
    if abs(offered / capacity - 1) < NEAR_CAPACITY_FRACTION:
        notes.append(
            f"offered {offered:.0f} msg/s is within {NEAR_CAPACITY_FRACTION:.0%} of capacity {capacity:.0f}: "
            "whether a backlog builds (and so the median latency) hinges on noise the model cannot see"
        )
    elif offered < capacity:
        notes.append("offered rate below capacity: consumers keep up, latency = handling, not backlog")
    windows = tuple(
        (t, replace(c, receive=handoff_seconds(c.delete)) if waiting_poll else c) for t, c in run.windows
    )
    arrivals = run.send_times
    steady = Cycle(receive, run.handler_seconds, run.delete_seconds)
    leave = departures(
        arrivals,
        run.consumers,
        b,
        steady,
        windows=windows,
        handler_samples=run.handler_samples,
        groups_of=run.groups_of if run.queue_type == "fifo" else (),
    )
    # Locust's percentiles cover the messages the run processed: the first ones to leave
    order = sorted(range(len(leave)), key=leave.__getitem__)[: max(run.messages, 1)]
    waits = [run.send_seconds + leave[k] - arrivals[k] for k in order]
    e2e = statistics.median(waits) if waits else math.nan
    return RunPrediction(min(capacity, offered), e2e, lanes, cycle, tuple(notes))


# ==================================================================================================
# Inputs from the command line, a latency measured on the lab's engine, and `labsqs plan`
# ==================================================================================================
RATE_UNITS_SECONDS = {"s": 1, "sec": 1, "min": 60, "h": 3600, "hour": 3600, "day": 86_400}
RATE_UNITS_SECONDS["month"] = SECONDS_PER_MONTH


def parse_rate(text: str) -> float:
    """Messages per second from ``"12"``, ``"12/s"``, ``"300/min"``, ``"5000/day"``, ``"1e6/month"``."""
    raw = str(text).strip().lower().replace(",", "").replace("_", "")
    number, _, unit = raw.partition("/")
    unit = unit or "s"
    usage = "write a number of messages per s, min, h, day or month, e.g. 50, 300/min or 20000/day"
    if unit not in RATE_UNITS_SECONDS:
        raise InvalidPlanInput(f"unknown rate unit {unit!r} in {text!r}", hint=usage)
    try:
        value = float(number)
    except ValueError:
        raise InvalidPlanInput(f"rate {text!r} is not a number", hint=usage) from None
    if value < 0 or not math.isfinite(value):
        raise InvalidPlanInput(f"rate {text!r} is negative or not finite", hint="give a rate >= 0")
    return value / RATE_UNITS_SECONDS[unit]


def measure_request_latency(*, sqs: Any = None, samples: int = 15) -> float:
    """Median round trip of a send + a receive + a delete on the lab's engine, per request (seconds).

    Uses a scratch queue that it deletes again. On the laptop this measures the laptop's engine, not AWS.
    """
    import time
    import uuid

    from labsqs.client import sqs_client

    client = sqs if sqs is not None else sqs_client()
    url = client.create_queue(QueueName=f"labsqs-plan-latency-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    try:
        rounds = []
        for n in range(samples):
            t0 = time.perf_counter()
            client.send_message(QueueUrl=url, MessageBody=f"latency probe {n}")
            got = client.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1)
            for message in got.get("Messages", []):
                client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            rounds.append((time.perf_counter() - t0) / 3)
        return statistics.median(rounds)
    finally:
        client.delete_queue(QueueUrl=url)


def _plan_error(check: Callable[[str], Any]) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return check(text)
        except (InvalidPlanInput, InvalidLoadOption) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc

    convert.__name__ = check.__name__
    return convert


def workload_from_args(args: argparse.Namespace, *, sqs: Any = None) -> Workload:
    """The :class:`Workload` that ``labsqs plan``'s options describe (measures latency if asked)."""
    sources = {}
    latency = None
    if args.latency == "measured":
        latency = measure_request_latency(sqs=sqs)
        sources["latency"] = "measured"
    elif args.latency is not None:
        latency = float(args.latency)
    share = None
    if args.group_spread == "zipf":
        share = 1.0 / sum(1.0 / k for k in range(1, args.groups + 1))  # busiest of Zipf(1) over the groups
        sources["groups"] = "you (zipf spread)"
    elif args.group_spread not in (None, "even"):
        try:
            share = float(args.group_spread)
        except ValueError:
            raise InvalidPlanInput(
                f"--group-spread {args.group_spread!r}",
                hint="write even, zipf, or the busiest group's share of the traffic (e.g. 0.3)",
            ) from None
    for name in ("utilization", "failure_rate"):
        if getattr(args, name) is not None:
            sources[name] = "you"
    return Workload(
        rate=args.rate,
        peak_rate=args.peak,
        handler=args.handler_time,
        message_bytes=args.message_bytes,
        batch_size=args.batch_size,
        send_batch_size=args.send_batch_size,
        queue_type=args.queue_type,
        groups=args.groups,
        group_share=share,
        latency_seconds=latency,
        consumers=args.consumers,
        visibility_timeout_seconds=args.visibility_timeout,
        wait_time_seconds=args.wait_time,
        utilization=args.utilization if args.utilization is not None else DEFAULT_UTILIZATION,
        failure_rate=args.failure_rate if args.failure_rate is not None else DEFAULT_FAILURE_RATE,
        high_throughput=args.high_throughput,
        sources=sources,
    )


def cmd_plan(args: argparse.Namespace) -> int:
    result = plan(workload_from_args(args))
    print(result.render())
    return 0


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InvalidPlanInput(f"{text!r} is not a number") from None


def register_cli(subparsers: argparse._SubParsersAction, commands: dict[str, Callable]) -> None:
    """Add ``labsqs plan`` to the lab's command (called by :mod:`labsqs.cli`)."""
    p = subparsers.add_parser(
        "plan",
        help="capacity and cost plan: consumers, FIFO mode, visibility timeout, maxReceiveCount, $/month",
        description="Turn a workload into an SQS configuration and a monthly bill. Every figure says where "
        "it comes from: [sqs-limits] (the lab's facts file), [you], [measured] or [assumed].",
    )
    p.add_argument(
        "--rate", type=_plan_error(parse_rate), required=True, help="steady rate: 50, 300/min, 2e4/day"
    )
    p.add_argument("--peak", type=_plan_error(parse_rate), help="peak rate (default: the steady rate)")
    p.add_argument(
        "--handler-time",
        type=_plan_error(parse_handler_time),
        default=parse_handler_time("const:0.1"),
        help="handler time per message: const:S, uniform:LOW,HIGH, exp:MEAN, normal:MEAN,SD "
        "(default const:0.1)",
    )
    p.add_argument("--message-bytes", type=int, default=1024, help="message size in bytes (default 1024)")
    p.add_argument("--batch-size", type=int, default=MAX_BATCH_ENTRIES, help="messages per receive (1..10)")
    p.add_argument(
        "--send-batch-size", type=int, default=1, help="messages per send request (1..10; default 1)"
    )
    p.add_argument("--queue-type", choices=QUEUE_TYPES, default="standard")
    p.add_argument("--groups", type=int, default=1, help="FIFO message groups")
    p.add_argument(
        "--group-spread",
        default="even",
        help="how traffic spreads over the groups: even, zipf, or the busiest group's share (e.g. 0.3)",
    )
    p.add_argument(
        "--latency",
        help=f"SQS request round trip in seconds, or 'measured' (on the lab's engine); default "
        f"{TYPICAL_AWS_REQUEST_SECONDS:g} s (assumed, typical in-region AWS)",
    )
    p.add_argument("--consumers", type=int, help="evaluate this many consumers instead of sizing them")
    p.add_argument("--visibility-timeout", type=int, help="check this timeout instead of recommending one")
    p.add_argument(
        "--wait-time", type=int, default=MAX_WAIT_TIME_SECONDS, help="long poll seconds (default 20)"
    )
    p.add_argument(
        "--utilization", type=_plan_error(_number), help="target consumer utilization (default 0.7)"
    )
    p.add_argument("--failure-rate", type=_plan_error(_number), help="transient failure rate (default 0.01)")
    p.add_argument("--high-throughput", action="store_true", help="FIFO high-throughput mode is on")
    commands["plan"] = cmd_plan


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m labsqs.plan`` = ``labsqs plan``."""
    from labsqs.errors import LabSqsError

    parser = argparse.ArgumentParser(prog="labsqs")
    sub = parser.add_subparsers(dest="command", required=True)
    commands: dict[str, Callable] = {}
    register_cli(sub, commands)
    args = parser.parse_args(["plan", *(argv if argv is not None else sys.argv[1:])])
    try:
        return commands["plan"](args)
    except LabSqsError as exc:
        print(f"labsqs: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
