"""Consumer: receive, process, delete — the loop every SQS worker runs, done carefully.

SQS never pushes. A consumer *asks* (``ReceiveMessage``) and the queue lends it up to 10 messages. A
received message is not gone: it is **in flight**, hidden from other consumers for the queue's
*visibility timeout*. If the consumer deletes it (``DeleteMessage``) before the timeout ends, it is done;
if not — the handler failed, the process crashed, or it was simply too slow — the message becomes visible
again and is delivered once more, with ``ApproximateReceiveCount`` one higher. After ``maxReceiveCount``
receives a queue with a redrive policy moves it to its dead-letter queue (DLQ). That is *at-least-once*
delivery: design handlers to be idempotent (see :mod:`labsqs.idempotency`).

What this module adds to that bare loop, each piece a small function of :class:`Consumer`:

**Long polling** (``wait_time_seconds``, default 20, the maximum)
    A receive waits up to 20 s for a message instead of answering "empty" at once: fewer requests
    (empty receives are billed too) and no busy loop. An empty queue costs ~3 requests a minute.
**Batching**
    Up to 10 messages a receive (``max_messages``); the successful ones are deleted together with one
    ``DeleteMessageBatch`` whose per-entry failures are reported as data, not raised.
**Failure = do nothing (or back off)**
    A failed message is simply not deleted: it comes back after its visibility timeout. With
    ``retry_backoff=lambda receive_count: seconds`` the consumer sets that message's visibility
    (``ChangeMessageVisibility``) so retries spread out: 1 s, 2 s, 4 s ...
**Visibility heartbeat** (``heartbeat=True``)
    A handler slower than the visibility timeout would see its message delivered to a second consumer
    while it still works on it. A background thread extends the visibility of every message this
    consumer holds (``ChangeMessageVisibilityBatch``) before it runs out.
**Workers**
    ``workers=N`` runs N receive-process-delete loops on threads sharing one boto3 client (clients are
    thread-safe; sessions and resources are not).
**Idempotency** (``idempotency=IdempotencyStore(path)``, ``key=``)
    Before the handler runs, the message's key (default: its MessageId) is claimed in a SQLite file; a
    redelivered message whose key is already done is deleted without running the handler again
    (``duplicates_skipped``). The claim lasts as long as the message stays hidden.
**Graceful stop** (``stop()``, SIGINT/SIGTERM with ``handle_signals=True``, Ctrl-C in a notebook)
    No new receives; the handler running now finishes and its message is deleted; messages received but
    not started are *released* (visibility 0) so another consumer gets them at once instead of waiting
    out the timeout. A receive already waiting finishes first (at most ``wait_time_seconds``).
**FIFO rules** (queues whose name ends in ``.fifo``)
    SQS delivers a message group in order and holds the group while any of its messages is in flight.
    One receive may return several messages of a group; they are processed in order, and after a
    failure the *rest of that group in the batch is not processed*: it is handed back (counted as
    ``released``) so the failed message is retried first, while other groups in the batch go on
    (Powertools' ``SqsFifoPartialProcessor(skip_group_on_error=True)`` model). The handed-back messages
    and the failed one come back together (one visibility for all, at least 1 s): on AWS the group lock
    alone would keep the order, but LocalStack reopens a group as soon as *any* of its older messages
    becomes visible again — even while later ones are in flight — so the lab does not rely on the lock.
    Mind the cost: each hand-back uses up one of the held messages' receives.
**FIFO guard** (FIFO queues with a redrive policy; ``fifo_guard=``, on by default)
    A head that fails ``maxReceiveCount`` times would take the followers handed back with it each time to
    the DLQ, unprocessed. So after a failure the consumer notes the group's head as *unsettled*
    (:class:`FifoGuard`) and, while such a head may be visible, receives **one** message at a time: if SQS
    picks that group it returns the head alone, and the followers stay behind the group lock, unreceived
    (you cannot choose the group a receive returns; you can choose how many). While every unsettled head
    is hidden — in its retry hold, or in flight again — no receive can return its group, so batches of 10
    go on, their long poll cut short so it ends before the head can reappear. A head is settled when it
    is processed, when it failed its last allowed receive (``maxReceiveCount``, read once from the
    queue's RedrivePolicy: SQS moves it to the DLQ on the next receive), or when a receive returns a later
    message of its group. Healthy runs never shrink a receive; the followers pay one receive (the batch
    that found the failure) instead of ``maxReceiveCount``. The guard knows what its consumer saw: give
    several ``Consumer`` objects on one queue one shared ``FifoGuard()``; worker processes share theirs
    through their SQLite log (:class:`labsqs.drill.SharedFifoGuard`). A long poll already waiting when
    the head failed was asked for 10 before anyone knew, and may still take the group in a batch.

The package: :mod:`~labsqs.consumer.message` (what a handler gets), :mod:`~labsqs.consumer.loop` (the
:class:`Consumer` and :func:`consume`), :mod:`~labsqs.consumer.inflight` (held messages, heartbeat, the
run's budget), :mod:`~labsqs.consumer.guard` (the FIFO guard), :mod:`~labsqs.consumer.stats`. The plain
requests (receive, batch delete, change visibility) are :mod:`labsqs.base.calls`.

``max_messages`` is the size of one receive (``Consumer(max_messages=...)``, 1–10); ``stop_after`` bounds
the whole run (``run(stop_after=...)``, ``consume(stop_after=...)``).

>>> stats = consume(url, lambda m: print(m.json()), idle_polls=1)
>>> stats.snapshot()["processed"]
"""

from labsqs.consumer.guard import FIFO_GUARD_MARGIN_SECONDS, FifoGuard, guarded_receive
from labsqs.consumer.loop import (
    FIFO_HOLD_MARGIN_SECONDS,
    JOIN_POLL_SECONDS,
    MAX_WORKERS,
    MIN_HEARTBEAT_EVERY_SECONDS,
    Consumer,
    consume,
    exponential_backoff,
)
from labsqs.consumer.message import Message, MessageFailure
from labsqs.consumer.stats import MAX_FAILURES_KEPT, ConsumerStats, latency_summary

__all__ = [
    "FIFO_GUARD_MARGIN_SECONDS",
    "FIFO_HOLD_MARGIN_SECONDS",
    "JOIN_POLL_SECONDS",
    "MAX_FAILURES_KEPT",
    "MAX_WORKERS",
    "MIN_HEARTBEAT_EVERY_SECONDS",
    "Consumer",
    "ConsumerStats",
    "FifoGuard",
    "Message",
    "MessageFailure",
    "consume",
    "exponential_backoff",
    "guarded_receive",
    "latency_summary",
]
