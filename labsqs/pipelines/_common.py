"""Shared by the pipelines: when is a pipeline *done*?

A consumer cannot tell "the queue is empty" from "the queue is empty *for now*": a message that failed is
invisible while it waits out its visibility timeout, so a receive comes back empty although the message
will be delivered again. Stopping a consumer after a few empty receives (``idle_polls``) can therefore
stop it too early — exactly when retries are pending.

The queue itself knows better. ``GetQueueAttributes`` reports three gauges: ``ApproximateNumberOfMessages``
(visible, waiting), ``...NotVisible`` (in flight: received and not deleted — including failed messages
waiting for their retry) and ``...Delayed``. When all three are zero for a couple of readings in a row,
every message was deleted or moved to the DLQ: the pipeline stage is drained. On AWS the gauges are
*approximate* (eventually consistent, they can lag for about a minute), so production code adds a grace
period; the lab's engine reports exact counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from labsqs.client import sqs_client
from labsqs.queues import queue_url

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

DRAIN_POLL_SECONDS = 0.25
DRAIN_SETTLE_POLLS = 2  # readings of "all zero" in a row before a queue counts as drained

_GAUGES = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)


@dataclass(frozen=True)
class Depth:
    """One queue's gauges: visible (waiting), in flight (received, not deleted), delayed."""

    visible: int
    in_flight: int
    delayed: int

    @property
    def total(self) -> int:
        return self.visible + self.in_flight + self.delayed


def queue_depth(queue: Any, *, sqs: SQSClient | None = None) -> Depth:
    """The gauges of ``queue`` (a ``Queue``, URL or name), one ``GetQueueAttributes``."""
    sqs = sqs if sqs is not None else sqs_client()
    url = queue_url(queue, sqs=sqs)
    answer = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(_GAUGES))  # type: ignore[arg-type]
    raw = {str(k): v for k, v in answer.get("Attributes", {}).items()}
    visible, in_flight, delayed = (int(raw.get(name, "0")) for name in _GAUGES)
    return Depth(visible, in_flight, delayed)


def wait_until_drained(
    queues: Sequence[Any],
    *,
    sqs: SQSClient | None = None,
    poll_seconds: float = DRAIN_POLL_SECONDS,
    settle_polls: int = DRAIN_SETTLE_POLLS,
    timeout_seconds: float | None = None,
    on_poll: Callable[[dict[str, Depth]], None] | None = None,
    alive: Callable[[], bool] | None = None,
) -> bool:
    """Block until every queue in ``queues`` reads zero (visible, in flight, delayed) ``settle_polls``
    times in a row. Returns True when drained, False when ``timeout_seconds`` passed first or ``alive()``
    says the workers are gone (they raised: nothing would drain the queue any more).

    ``on_poll(depths)`` sees each reading, keyed by queue URL — a progress line, a live figure.
    """
    sqs = sqs if sqs is not None else sqs_client()
    deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
    urls = [queue_url(q, sqs=sqs) for q in queues]
    zero_in_a_row = 0
    while True:
        depths = {url: queue_depth(url, sqs=sqs) for url in urls}
        if on_poll is not None:
            on_poll(depths)
        zero_in_a_row = zero_in_a_row + 1 if all(d.total == 0 for d in depths.values()) else 0
        if zero_in_a_row >= settle_polls:
            return True
        if alive is not None and not alive():
            return False
        if deadline is not None and time.monotonic() >= deadline:
            return False
        time.sleep(poll_seconds)
