"""Producer: putting messages into a queue — one at a time, or ten per request.

**A message** is a text body (any Unicode except control characters: allowed are ``#x9 #xA #xD
#x20–#xD7FF #xE000–#xFFFD #x10000–#x10FFFF``) plus up to 10 typed *message attributes* (``String``,
``Number``, ``Binary``) that consumers can read without parsing the body. Its size is counted in **UTF-8
bytes** of the body *and* of every attribute's name, type and value; it must not exceed the queue's
``MaximumMessageSize`` (at most 1 MiB). Text that is under the limit in characters can be over it in bytes:
``"é"`` is one character but two bytes, ``"😀"`` four.

**Batching.** ``SendMessageBatch`` carries up to 10 messages whose sizes add up to at most 1 MiB, in one
request — and SQS bills per request (per 64 KB chunk), so batching is ~10× cheaper and, on a laptop,
~7× faster than one ``SendMessage`` per message. A batch can *partially* fail: the answer lists
``Successful`` and ``Failed`` entries, and each failure says whether it is the sender's fault
(``SenderFault``: a bad message — sending it again will fail again) or not (a server hiccup — worth
retrying). :func:`send_many` retries only the failed, retryable entries, at most ``max_retries`` times, and
reports everything per message, in input order. Partial failure is *data* in the :class:`BatchReport`,
not an exception.

**FIFO queues** need a ``MessageGroupId`` on every message: order is kept *within* a group, groups are
independent. One group per user (``group_by=lambda m: m["userId"]``) keeps each user's updates in order
while users are processed in parallel. There is no default group here: a hidden constant group would
silently serialize the whole queue. FIFO queues also drop a message whose *deduplication id* was seen in
the last 5 minutes: give one (``dedup_id=`` / ``dedup_by=``) or create the queue with content-based
deduplication (the id is then the SHA-256 of the body). A random id would defeat the purpose — a retried
send would not be recognised as a duplicate — so the producer never invents one.

Every check (sizes, characters, FIFO ids) happens before the first request: a bad message in position 5,000
stops ``send_many`` before anything was sent.

>>> q = ensure_queue(QueueSpec("jobs"))
>>> send(q, {"title": "Engineer"}).message_id
'6c0b...'
>>> report = send_many(q, jobs, progress=lambda done, total: None)
>>> report.ok, report.count, report.requests
(True, 2000, 200)

The package: :mod:`~labsqs.producer.validation` (what a message may be), :mod:`~labsqs.producer.batching`
(batch planning, the send loop, the report), :mod:`~labsqs.producer.send` (:func:`send`, :func:`send_many`).
SQS's sizes are :mod:`labsqs.base.limits`'s.
"""

from labsqs.producer.batching import (
    DEFAULT_MAX_RETRIES,
    RETRY_BASE_DELAY_SECONDS,
    BatchReport,
    FailedEntry,
    SendResult,
    plan_batches,
)
from labsqs.producer.send import send, send_many
from labsqs.producer.validation import (
    OutgoingMessage,
    encode_body,
    message_attributes,
    message_size_bytes,
)

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "RETRY_BASE_DELAY_SECONDS",
    "BatchReport",
    "FailedEntry",
    "OutgoingMessage",
    "SendResult",
    "encode_body",
    "message_attributes",
    "message_size_bytes",
    "plan_batches",
    "send",
    "send_many",
]
