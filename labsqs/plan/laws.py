"""The laws, as small functions (shared by the planner and by ``labsqs bench``'s check against measurements).

One consumer's speed, the lanes FIFO leaves, Erlang C for the wait, how full a receive comes back, the bill
per 64 KB chunk, and the two figures derived from a handler's distribution (a batch's p99 hold time and the
maxReceiveCount that dead-letters fewer than one good message a month).
"""

from __future__ import annotations

import math
import statistics

from labsqs.base.limits import (
    BILLING_CHUNK_BYTES,
    FIFO_USD_PER_MILLION_REQUESTS,
    MAX_MAX_RECEIVE_COUNT,
    STANDARD_USD_PER_MILLION_REQUESTS,
)
from labsqs.plan.assumptions import MIN_ADVISED_RECEIVE_COUNT
from labsqs.plan.handler import HandlerTime

_Z99 = statistics.NormalDist().inv_cdf(0.99)


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
        return MIN_ADVISED_RECEIVE_COUNT
    if failure_rate < 1:
        n = math.ceil(math.log(1.0 / messages_per_month) / math.log(failure_rate))
    else:
        n = MAX_MAX_RECEIVE_COUNT
    return max(MIN_ADVISED_RECEIVE_COUNT, min(n, MAX_MAX_RECEIVE_COUNT))
