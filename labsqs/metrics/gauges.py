"""A queue's gauges now: :func:`queue_depth`, :func:`snapshot` (with the age of the oldest message) and
:func:`wait_until_drained`, on :mod:`labsqs.base.depth` (the one :class:`Depth` type and drain wait).

pandas is imported by the functions that build frames, not with this module: the load generator imports
:func:`queue_depth` and stays light.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from labsqs.base import developer
from labsqs.base.calls import default_sqs, queue_name
from labsqs.base.depth import DRAIN_POLL_SECONDS, DRAIN_SETTLE_POLLS, Depth, read_depth, wait_drained
from labsqs.errors import InvalidAttribute
from labsqs.queues import queue_url

if TYPE_CHECKING:
    import pandas as pd
    from mypy_boto3_sqs import SQSClient

    from labsqs.queues import Queue

    QueueRefs = Queue | str | Iterable[Queue | str]

SNAPSHOT_COLUMNS = ["time", "queue", "visible", "in_flight", "delayed", "oldest_age_seconds"]


@dataclass(frozen=True)
class DepthSample:
    """One reading of one queue's gauges (a :class:`Depth`), with when and which queue."""

    time: pd.Timestamp  # UTC wall clock
    t_seconds: float  # since the sampler started (0 for a snapshot)
    queue: str
    gauges: Depth

    @property
    def visible(self) -> int:
        return self.gauges.visible

    @property
    def in_flight(self) -> int:
        return self.gauges.in_flight

    @property
    def delayed(self) -> int:
        return self.gauges.delayed


def resolve_queues(queues: QueueRefs, sqs: SQSClient) -> list[tuple[str, str]]:
    """``[(name, url)]`` for one queue (Queue, URL or name) or an iterable of them, each once."""
    single = isinstance(queues, str) or hasattr(queues, "url")
    items: list[Queue | str] = [queues] if single else list(queues)  # type: ignore[list-item,arg-type]
    if not items:
        raise InvalidAttribute(
            "no queue to measure", hint="pass a queue (Queue, URL or name) or a list of them"
        )
    resolved = [(queue_name(url), url) for url in (queue_url(q, sqs=sqs) for q in items)]
    return list(dict.fromkeys(resolved))  # the same queue twice is measured once


def queue_depth(queue: Queue | str, *, sqs: SQSClient | None = None) -> Depth:
    """The gauges of ``queue`` (a ``Queue``, URL or name): one ``GetQueueAttributes``."""
    client = default_sqs(sqs)
    return read_depth(client, queue_url(queue, sqs=client))


def wait_until_drained(
    queues: Iterable[Queue | str],
    *,
    sqs: SQSClient | None = None,
    poll_seconds: float = DRAIN_POLL_SECONDS,
    settle_polls: int = DRAIN_SETTLE_POLLS,
    timeout_seconds: float | None = None,
    on_poll: Callable[[dict[str, Depth]], None] | None = None,
    alive: Callable[[], bool] | None = None,
) -> bool:
    """Block until every queue reads zero (visible, in flight, delayed) ``settle_polls`` times in a row.

    Returns True when drained, False when ``timeout_seconds`` passed first or ``alive()`` says the workers
    are gone (they raised: nothing would drain the queue any more). ``on_poll(depths)`` sees each reading,
    keyed by queue URL — a progress line, a live figure. :func:`labsqs.base.depth.wait_drained` with the
    queues given as ``Queue`` handles, URLs or names.
    """
    client = default_sqs(sqs)
    urls = [queue_url(q, sqs=client) for q in queues]
    return wait_drained(
        client, urls, poll_seconds=poll_seconds, settle_polls=settle_polls, timeout_seconds=timeout_seconds,
        on_poll=on_poll, alive=alive,
    )  # fmt: skip


def _oldest_age_seconds(sqs: SQSClient, url: str, now: pd.Timestamp) -> float | None:
    messages = developer.peek_messages(sqs, url)
    if messages is None:
        return None
    sent = [int(m.get("Attributes", {}).get("SentTimestamp", 0)) for m in messages]
    sent = [s for s in sent if s > 0]
    if not sent:
        return 0.0 if messages == [] else None
    return max(0.0, now.timestamp() - min(sent) / 1000)


def snapshot(queues: QueueRefs, *, sqs: SQSClient | None = None, oldest_age: bool = True) -> pd.DataFrame:
    """One row per queue: ``time`` (UTC), ``queue``, ``visible``, ``in_flight``, ``delayed``,
    ``oldest_age_seconds``.

    ``oldest_age_seconds`` (CloudWatch's ApproximateAgeOfOldestMessage: seconds since the oldest message
    still in the queue was sent, 0 for an empty queue) needs LocalStack's developer endpoint, which lists
    every message: it is ``None`` on other engines, and ``oldest_age=False`` skips it on long queues.
    """
    import pandas as pd

    sqs = default_sqs(sqs)
    rows = []
    for name, url in resolve_queues(queues, sqs):
        now = pd.Timestamp.now(tz="UTC")
        depth = read_depth(sqs, url)
        age = _oldest_age_seconds(sqs, url, now) if oldest_age else None
        rows.append([now, name, depth.visible, depth.in_flight, depth.delayed, age])
    return pd.DataFrame(rows, columns=SNAPSHOT_COLUMNS)
