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
facts file of SQS limits and prices, :mod:`labsqs.base.limits`), ``you`` (an input), ``measured`` (the
lab's own engine, e.g. ``labsqs bench``), or ``assumed`` (a default the lab chose; override it).
``labsqs plan`` is the command; ``labsqs bench`` checks :func:`predict_load_run` against every
configuration it measures.

The package, by topic: :mod:`~labsqs.plan.assumptions` (the planner's defaults and source tags),
:mod:`~labsqs.plan.handler` (the handler-time distribution), :mod:`~labsqs.plan.laws` (the laws as small
functions), :mod:`~labsqs.plan.workload` (the inputs and their checks), :mod:`~labsqs.plan.planner` (the
plan, step by step), :mod:`~labsqs.plan.cost` (a load run's AWS bill and caps),
:mod:`~labsqs.plan.prediction` (the model against a measured load run) and :mod:`~labsqs.plan.command`
(``labsqs plan``). The names below are the package's public face; SQS's numbers are re-exported from
:mod:`labsqs.base.limits` for the lessons that read them as ``plan.X``.
"""

from __future__ import annotations

from labsqs.base.limits import (
    BILLING_CHUNK_BYTES,
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
    MAX_WAIT_TIME_SECONDS,
    STANDARD_USD_PER_MILLION_REQUESTS,
)
from labsqs.plan.assumptions import (
    AWS_PRICING_HINT,
    DEFAULT_FAILURE_RATE,
    DEFAULT_UTILIZATION,
    MESSAGE_BODY_BYTES_ESTIMATE,
    MIN_ADVISED_RECEIVE_COUNT,
    NEAR_CAPACITY_FRACTION,
    NEAR_LIMIT_FRACTION,
    QUEUE_TYPES,
    SECONDS_PER_MONTH,
    SQS_LIMITS,
    TYPICAL_AWS_REQUEST_SECONDS,
    VISIBILITY_MARGIN,
)
from labsqs.plan.command import (
    RATE_UNITS_SECONDS,
    cmd_plan,
    measure_request_latency,
    parse_rate,
    register_cli,
    workload_from_args,
)
from labsqs.plan.cost import (
    CostEstimate,
    aws_cap_messages_per_second,
    aws_cap_text,
    estimate_cost,
    estimate_requests,
)
from labsqs.plan.handler import MAX_HANDLER_SECONDS, HandlerTime, parse_handler_time
from labsqs.plan.laws import (
    batch_fill,
    billed_chunks,
    consumer_cycle_seconds,
    consumer_rate,
    empty_receives_per_second,
    erlang_c,
    held_seconds_p99,
    parallel_lanes,
    queue_wait_seconds,
    recommended_max_receive_count,
    usd_for_requests,
)
from labsqs.plan.planner import Figure, Plan, Sizing, monthly_requests, plan, sweep
from labsqs.plan.prediction import (
    Cycle,
    RunInputs,
    RunPrediction,
    departures,
    handoff_seconds,
    predict_load_run,
)
from labsqs.plan.workload import Workload

__all__ = [
    "AWS_PRICING_HINT", "BILLING_CHUNK_BYTES", "DEFAULT_FAILURE_RATE", "DEFAULT_UTILIZATION",
    "FIFO_MESSAGES_PER_SECOND_BATCHED", "FIFO_TPS_PER_ACTION", "FIFO_USD_PER_MILLION_REQUESTS",
    "FREE_REQUESTS_PER_MONTH", "HIGH_THROUGHPUT_FIFO_TPS", "MAX_BATCH_ENTRIES", "MAX_HANDLER_SECONDS",
    "MAX_IN_FLIGHT_FIFO", "MAX_IN_FLIGHT_STANDARD", "MAX_MESSAGE_BYTES", "MAX_VISIBILITY_TIMEOUT_SECONDS",
    "MAX_WAIT_TIME_SECONDS", "MESSAGE_BODY_BYTES_ESTIMATE", "MIN_ADVISED_RECEIVE_COUNT",
    "NEAR_CAPACITY_FRACTION", "NEAR_LIMIT_FRACTION", "QUEUE_TYPES", "RATE_UNITS_SECONDS",
    "SECONDS_PER_MONTH", "SQS_LIMITS", "STANDARD_USD_PER_MILLION_REQUESTS", "TYPICAL_AWS_REQUEST_SECONDS",
    "VISIBILITY_MARGIN", "CostEstimate", "Cycle", "Figure", "HandlerTime", "Plan", "RunInputs",
    "RunPrediction", "Sizing", "Workload", "aws_cap_messages_per_second", "aws_cap_text", "batch_fill",
    "billed_chunks", "cmd_plan", "consumer_cycle_seconds", "consumer_rate", "departures",
    "empty_receives_per_second", "erlang_c", "estimate_cost", "estimate_requests", "handoff_seconds",
    "held_seconds_p99", "measure_request_latency", "monthly_requests", "parallel_lanes",
    "parse_handler_time", "parse_rate", "plan", "predict_load_run", "queue_wait_seconds",
    "recommended_max_receive_count", "register_cli", "sweep", "usd_for_requests", "workload_from_args",
]  # fmt: skip
