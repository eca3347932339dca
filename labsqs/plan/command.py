"""``labsqs plan``: a workload from the command line (rates with units, a latency measured on the lab's
engine if asked), planned and printed."""

from __future__ import annotations

import argparse
import math
import statistics
from collections.abc import Callable
from typing import Any

from labsqs.base.limits import MAX_BATCH_ENTRIES, MAX_WAIT_TIME_SECONDS
from labsqs.errors import InvalidLoadOption, InvalidPlanInput
from labsqs.plan.assumptions import (
    DEFAULT_FAILURE_RATE,
    DEFAULT_UTILIZATION,
    QUEUE_TYPES,
    SECONDS_PER_MONTH,
    TYPICAL_AWS_REQUEST_SECONDS,
)
from labsqs.plan.handler import parse_handler_time
from labsqs.plan.planner import plan
from labsqs.plan.workload import Workload

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
