"""Checks on emptying a queue (PurgeQueue and its 60 s rate limit) and on the approximate counters that
split what a queue holds into visible, in flight and delayed."""

from __future__ import annotations

import time

from labsqs.conformance.probe import Probe
from labsqs.conformance.registry import check


@check(
    "purge.removes",
    "PurgeQueue deletes the queue's messages",
    doc="Developer Guide 'Purging messages from an Amazon SQS queue' (AWS: within 60 s; the check waits 5 s)",
)
def _purge_removes(p: Probe) -> str:
    url = p.queue("purge")
    for i in range(3):
        p.send(url, f"m{i}")
    p.sqs.purge_queue(QueueUrl=url)
    deadline = time.monotonic() + 5
    while p.counts(url)[0] and time.monotonic() < deadline:
        time.sleep(0.2)
    left = p.counts(url)[0]
    p.expect(left == 0, f"{left} messages left after 5 s")
    return "3 messages gone"


@check(
    "purge.in-progress",
    "a second PurgeQueue within 60 s is rejected with PurgeQueueInProgress",
    doc="API Reference 'PurgeQueue': 'only one PurgeQueue operation … is allowed every 60 seconds'; "
    "PurgeQueueInProgress",
)
def _purge_twice(p: Probe) -> str:
    url = p.queue("purge2")
    p.sqs.purge_queue(QueueUrl=url)
    code = p.rejected(
        p.sqs.purge_queue, "a second purge at once", codes=("PurgeQueueInProgress",), QueueUrl=url
    )
    return f"rejected: {code}"


# --- counters ----------------------------------------------------------------------------------------
@check(
    "counters.approximate",
    "the approximate counters split visible, in flight and delayed messages",
    doc="Developer Guide 'Available CloudWatch metrics for Amazon SQS' / API Reference "
    "'GetQueueAttributes': ApproximateNumberOfMessages, …NotVisible, …Delayed",
)
def _counters(p: Probe) -> str:
    url = p.queue("counters")
    p.send(url, "a")
    p.send(url, "b")
    p.send(url, "c", DelaySeconds=60)
    p.receive(url, n=1)
    got = p.counts(url)
    p.expect(got == (1, 1, 1), f"visible, in flight, delayed = {got}, expected (1, 1, 1)")
    return "visible 1, in flight 1, delayed 1"
