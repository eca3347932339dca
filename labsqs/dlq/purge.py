"""Purge: delete every message of a queue, irrevocably (``PurgeQueue``; one per queue every 60 s)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from labsqs.base.calls import default_sqs, error_code, queue_missing, queue_name, queue_not_found
from labsqs.base.depth import read_depth
from labsqs.errors import ConfirmationRequired, PurgeInProgress
from labsqs.queues import queue_url

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from labsqs.queues import Queue


def purge(queue: Queue | str, *, confirm: bool = False, sqs: SQSClient | None = None) -> int:
    """Delete every message of ``queue`` (``PurgeQueue``); returns how many messages were there.

    Irreversible, so it refuses with :class:`ConfirmationRequired` (saying how many messages would be
    lost) unless ``confirm=True``. SQS allows one purge per queue every 60 seconds
    (:class:`PurgeInProgress` otherwise); on AWS the purge itself can take up to 60 seconds, and messages
    sent meanwhile may be deleted too. The count is SQS's approximate one (visible + in flight + delayed).
    """
    sqs = default_sqs(sqs)
    url = queue_url(queue, sqs=sqs)
    depth = read_depth(sqs, url)
    visible, in_flight, delayed, total = depth.visible, depth.in_flight, depth.delayed, depth.total
    name = queue_name(url)
    if not confirm:
        raise ConfirmationRequired(
            f"purging {name} would delete {total} message(s) for good "
            f"({visible} visible, {in_flight} in flight, {delayed} delayed)",
            hint="pass confirm=True to purge (CLI: --yes)",
        )
    try:
        sqs.purge_queue(QueueUrl=url)
    except ClientError as exc:
        code = error_code(exc)
        if "PurgeQueueInProgress" in code:
            raise PurgeInProgress(
                f"{name} was purged less than 60 seconds ago; SQS allows one purge per queue every 60 s",
                hint="wait a minute and purge again (the earlier purge may already have emptied it)",
                code=code,
            ) from exc
        if queue_missing(exc):
            raise queue_not_found(url, exc) from exc
        raise
    return total
