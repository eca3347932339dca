"""A queue's depth: SQS's three gauges, read with one ``GetQueueAttributes``, and the wait until queues drain.

``ApproximateNumberOfMessages`` (visible: waiting for a consumer), ``...NotVisible`` (in flight: received,
not yet deleted) and ``...Delayed`` (sent with a delay that has not run out). On AWS they are approximate
and lag by up to a minute; LocalStack's are exact. A queue is *drained* when all three read zero several
times in a row.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from labsqs.base.calls import read_attributes

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

GAUGE_ATTRIBUTES = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)
DRAIN_POLL_SECONDS = 0.25
DRAIN_SETTLE_POLLS = 2  # zero readings in a row that count as drained (AWS's gauges lag: add a grace period)


@dataclass(frozen=True)
class Depth:
    """One queue's gauges: visible (waiting), in flight (received, not deleted), delayed."""

    visible: int
    in_flight: int
    delayed: int

    @property
    def total(self) -> int:
        """Every message not yet deleted: visible + in flight + delayed."""
        return self.visible + self.in_flight + self.delayed

    @classmethod
    def from_attributes(cls, attributes: Mapping[str, str]) -> Depth:
        """From a ``GetQueueAttributes`` answer that holds the three gauges (missing ones count 0)."""
        visible, in_flight, delayed = (int(attributes.get(name, 0)) for name in GAUGE_ATTRIBUTES)
        return cls(visible, in_flight, delayed)


def read_depth(sqs: SQSClient, url: str) -> Depth:
    """The gauges of the queue at ``url`` (one ``GetQueueAttributes``; ``QueueNotFound`` if it is gone)."""
    return Depth.from_attributes(read_attributes(sqs, url, GAUGE_ATTRIBUTES))


def wait_drained(
    sqs: SQSClient,
    urls: Sequence[str],
    *,
    poll_seconds: float = DRAIN_POLL_SECONDS,
    settle_polls: int = DRAIN_SETTLE_POLLS,
    timeout_seconds: float | None = None,
    on_poll: Callable[[dict[str, Depth]], None] | None = None,
    alive: Callable[[], bool] | None = None,
) -> bool:
    """Block until every queue reads zero (visible, in flight, delayed) ``settle_polls`` times in a row.

    True when drained; False when ``timeout_seconds`` passed first or ``alive()`` says whatever drains the
    queues is gone (nothing would drain them any more). ``on_poll(depths)`` sees each reading, keyed by URL.
    """
    deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
    zero_in_a_row = 0
    while True:
        depths = {url: read_depth(sqs, url) for url in urls}
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
