"""The planner's own assumptions and the tags that say where each figure comes from.

SQS's limits and prices are not here: they live once in :mod:`labsqs.base.limits` (tagged ``sqs-limits``).
Every assumption below is shown as ``assumed`` in a plan and can be overridden.
"""

from __future__ import annotations

AWS_PRICING_HINT = (
    "check the current prices on the AWS SQS pricing page; the first 1 M requests a month are free"
)
SQS_LIMITS = "sqs-limits"  # the source tag of every figure taken from labsqs.base.limits

SECONDS_PER_MONTH = 30 * 24 * 3600  # a 30-day month
TYPICAL_AWS_REQUEST_SECONDS = 0.020  # an in-region SQS round trip; measure yours, pass --latency
DEFAULT_UTILIZATION = 0.7  # plan consumers busy at most 70 % of the time at the peak rate
DEFAULT_FAILURE_RATE = 0.01  # chance one handling attempt fails transiently (then retried)
NEAR_LIMIT_FRACTION = 0.5  # a figure above half an AWS limit is reported as "near"
NEAR_CAPACITY_FRACTION = 0.1  # a load run offered within 10 % of its capacity sits on a knife edge
VISIBILITY_MARGIN = 1.5  # visibility timeout = held time at p99 × this margin
MIN_ADVISED_RECEIVE_COUNT = 3  # the lowest maxReceiveCount the planner advises: a blip is retried
MESSAGE_BODY_BYTES_ESTIMATE = 120  # the load tests' JSON body: id, send timestamp, group

QUEUE_TYPES = ("standard", "fifo")
