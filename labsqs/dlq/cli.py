"""``labsqs dlq inspect|redrive|purge QUEUE``: the DLQ tools from the command line."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from labsqs.base.calls import queue_name
from labsqs.base.limits import MAX_MOVE_MESSAGES_PER_SECOND
from labsqs.dlq.listing import DEFAULT_LIST_LIMIT, list_messages
from labsqs.dlq.purge import purge
from labsqs.dlq.redrive import TASK_COMPLETED, redrive

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


def _cli_client(args: argparse.Namespace) -> SQSClient:
    from labsqs.client import sqs_client

    return sqs_client(args.endpoint)


def _cmd_inspect(args: argparse.Namespace) -> int:
    frame = list_messages(args.queue, sqs=_cli_client(args), limit=args.limit)
    print(
        f"{len(frame)} message(s) in {queue_name(frame.attrs['queue_url'])} (read by {frame.attrs['method']})"
    )
    if len(frame):
        shown = frame[["message_id", "receive_count", "sent_at", "source_queue", "group_id", "body"]].copy()
        shown["body"] = shown["body"].str.slice(0, 60)
        print(shown.to_string(index=False))
    return 0


def _cmd_redrive(args: argparse.Namespace) -> int:
    result = redrive(
        args.queue,
        destination=args.to,
        sqs=_cli_client(args),
        max_messages_per_second=args.rate,
        timeout_seconds=args.timeout,
    )
    print(f"{result.status}: {result.moved} message(s) moved ({result.method})")
    if result.failure_reason:
        print(f"  {result.failure_reason}")
    return 0 if result.status == TASK_COMPLETED else 1


def _cmd_purge(args: argparse.Namespace) -> int:
    count = purge(args.queue, confirm=args.yes, sqs=_cli_client(args))
    print(f"purged {args.queue}: {count} message(s) deleted")
    return 0


def register_cli(subparsers: argparse._SubParsersAction, commands: dict[str, Callable[..., int]]) -> None:
    """Add ``labsqs dlq inspect|redrive|purge QUEUE`` to the ``labsqs`` command."""
    dlq_parser = subparsers.add_parser("dlq", help="dead-letter queues: inspect, redrive, purge")
    actions = dlq_parser.add_subparsers(dest="dlq_command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("queue", help="queue name or URL")
        p.add_argument("--endpoint", help="SQS endpoint (default: the lab's engine)")

    p = actions.add_parser("inspect", help="list a DLQ's messages without consuming them")
    common(p)
    p.add_argument("--limit", type=int, default=DEFAULT_LIST_LIMIT)
    p.set_defaults(dlq_handler=_cmd_inspect)
    p = actions.add_parser("redrive", help="move a DLQ's messages back to their source (or --to QUEUE)")
    common(p)
    p.add_argument("--to", help="destination queue (default: each message's source queue)")
    p.add_argument("--rate", type=int, help=f"messages per second, 1–{MAX_MOVE_MESSAGES_PER_SECOND}")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the move (default 60)")
    p.set_defaults(dlq_handler=_cmd_redrive)
    p = actions.add_parser("purge", help="delete every message of a queue (asks for --yes)")
    common(p)
    p.add_argument("--yes", action="store_true", help="really delete the messages")
    p.set_defaults(dlq_handler=_cmd_purge)

    commands["dlq"] = lambda args: int(args.dlq_handler(args))
