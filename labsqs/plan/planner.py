"""The planner: from a :class:`Workload` to consumers, FIFO mode, timeouts, limits and a monthly bill.

:func:`plan` runs the steps in order — size the consumers (one consumer's speed, the FIFO groups), Little's
law (wait, backlog, in flight), FIFO's request quota, the timeouts (visibility, heartbeat, maxReceiveCount),
the monthly requests and their price, and the limits a plan comes near — each adding its figures, with their
sources, to a draft.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from labsqs.base.limits import (
    FIFO_MESSAGES_PER_SECOND_BATCHED,
    FIFO_TPS_PER_ACTION,
    FIFO_USD_PER_MILLION_REQUESTS,
    FREE_REQUESTS_PER_MONTH,
    HIGH_THROUGHPUT_FIFO_TPS,
    MAX_BATCH_ENTRIES,
    MAX_IN_FLIGHT_FIFO,
    MAX_IN_FLIGHT_STANDARD,
    MAX_MESSAGE_BYTES,
    MAX_VISIBILITY_TIMEOUT_SECONDS,
    STANDARD_USD_PER_MILLION_REQUESTS,
)
from labsqs.errors import FifoGroupTooHot, VisibilityTooShort
from labsqs.plan.assumptions import (
    AWS_PRICING_HINT,
    DEFAULT_FAILURE_RATE,
    DEFAULT_UTILIZATION,
    NEAR_LIMIT_FRACTION,
    SECONDS_PER_MONTH,
    SQS_LIMITS,
    TYPICAL_AWS_REQUEST_SECONDS,
    VISIBILITY_MARGIN,
)
from labsqs.plan.laws import (
    batch_fill,
    billed_chunks,
    consumer_cycle_seconds,
    consumer_rate,
    empty_receives_per_second,
    held_seconds_p99,
    parallel_lanes,
    queue_wait_seconds,
    recommended_max_receive_count,
    usd_for_requests,
)
from labsqs.plan.workload import Workload


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
