"""What a planned load run costs on AWS (the cost guard of ``labsqs bench``), and what AWS caps it at."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from labsqs.base.limits import (
    FIFO_TPS_PER_ACTION,
    FIFO_USD_PER_MILLION_REQUESTS,
    STANDARD_USD_PER_MILLION_REQUESTS,
)
from labsqs.plan.assumptions import AWS_PRICING_HINT, MESSAGE_BODY_BYTES_ESTIMATE
from labsqs.plan.laws import billed_chunks

if TYPE_CHECKING:
    from labsqs.load.spec import LoadConfig


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
