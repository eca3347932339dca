"""The workload: what a team knows about its traffic, checked before anything is planned."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from labsqs.base.limits import (
    MAX_BATCH_ENTRIES,
    MAX_MESSAGE_BYTES,
    MAX_VISIBILITY_TIMEOUT_SECONDS,
    MAX_WAIT_TIME_SECONDS,
)
from labsqs.errors import InvalidPlanInput
from labsqs.plan.assumptions import DEFAULT_FAILURE_RATE, DEFAULT_UTILIZATION, QUEUE_TYPES, SQS_LIMITS
from labsqs.plan.handler import HandlerTime

Check = tuple[bool, str, str]  # (input is fine, what was given, what to do instead)


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
        for ok, what, hint in [*self._rate_checks(), *self._sqs_checks(), *self._model_checks()]:
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

    def _rate_checks(self) -> list[Check]:
        return [
            (self.rate >= 0 and math.isfinite(self.rate), f"rate {self.rate:g} msg/s", "give a rate >= 0"),
            (
                self.peak >= self.rate and math.isfinite(self.peak),
                f"peak rate {self.peak:g} msg/s is below the steady rate {self.rate:g}",
                "give a peak >= the steady rate (or leave it out)",
            ),
            (self.peak > 0, "both rates are 0", "give the messages per second you expect"),
            (self.queue_type in QUEUE_TYPES, f"queue type {self.queue_type!r}", "use standard or fifo"),
        ]

    def _sqs_checks(self) -> list[Check]:
        """The inputs SQS bounds: batch sizes and message size (the FIFO groups are checked among them)."""
        return [
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
        ]

    def _model_checks(self) -> list[Check]:
        """Latency, consumers, timeouts and the model's fractions."""
        return [
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
