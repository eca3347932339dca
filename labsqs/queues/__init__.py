"""Queues: what a queue *is* in SQS, and creating one the way production code should.

A queue is a named, durable buffer with a handful of **attributes** that decide how messages move:

``VisibilityTimeout`` (0–43,200 s)
    after a consumer receives a message, the message stays in the queue but is hidden from other
    consumers for this long. Delete it before the timeout runs out, or it becomes visible again and is
    delivered once more (that is how SQS retries).
``MessageRetentionPeriod`` (60 s – 14 days)
    a message nobody deletes is dropped after this long.
``ReceiveMessageWaitTimeSeconds`` (0–20 s)
    the default long poll: an empty queue answers a receive only after waiting up to this long for a
    message, so idle consumers make few (billed) empty requests.
``DelaySeconds`` (0–900 s)
    every new message stays invisible this long before its first delivery.
``MaximumMessageSize`` (1 KiB – 1 MiB)
    counted in UTF-8 bytes of the body *plus* the message attributes.

A **FIFO** queue (its name ends in ``.fifo``) delivers messages of one *message group* in order and
drops duplicates sent within 5 minutes — by an explicit deduplication id, or, with
``ContentBasedDeduplication``, by the SHA-256 of the body. *High throughput* FIFO
(``DeduplicationScope=messageGroup`` + ``FifoThroughputLimit=perMessageGroupId``) scales per group.

A **dead-letter queue** (DLQ) catches the messages consumers keep failing on. The source queue's
``RedrivePolicy`` says where (``deadLetterTargetArn``) and after how many receives
(``maxReceiveCount``); the DLQ's ``RedriveAllowPolicy`` says which source queues may use it
(``byQueue`` with their ARNs). The DLQ of a FIFO queue must be FIFO too. A DLQ usually keeps messages
longer than its source (here 14 days), so someone has time to look at them.

:func:`ensure_queue` turns a :class:`QueueSpec` into that whole setup — queue, DLQ, both policies — and is
idempotent: run it again and it returns the same :class:`Queue`; if the queue exists with *other*
attributes it refuses (:class:`~labsqs.errors.QueueAttributesMismatch`) and lists every difference,
because silently reusing a queue with a 30 s visibility timeout when you asked for 60 s is how
duplicate processing starts. Everything is validated before the first request.

>>> from labsqs.queues import QueueSpec, ensure_queue, queue_attributes
>>> q = ensure_queue(QueueSpec("jobs-to-filter"))        # + jobs-to-filter-dlq, maxReceiveCount 3
>>> queue_attributes(q).visibility_timeout_seconds
60

The package: :mod:`~labsqs.queues.spec` (the spec, its validation, the handle), :mod:`~labsqs.queues.policies`
(attributes and redrive policies as types), :mod:`~labsqs.queues.setup` (the requests). SQS's ranges are
:mod:`labsqs.base.limits`'s.
"""

from labsqs.base.calls import NON_EXISTENT_QUEUE_CODES, queue_missing
from labsqs.base.limits import FIFO_SUFFIX
from labsqs.queues.policies import QueueAttributes, RedriveAllowPolicy, RedrivePolicy
from labsqs.queues.setup import (
    QUEUE_EXISTS_CODES,
    delete_queue,
    ensure_queue,
    get_queue,
    queue_attributes,
    queue_url,
)
from labsqs.queues.spec import (
    DLQ_SUFFIX,
    FrozenMap,
    Queue,
    QueueSpec,
    arn_name,
    dlq_name_for,
    validate_queue_name,
    validate_spec,
)

__all__ = [
    "DLQ_SUFFIX",
    "FIFO_SUFFIX",
    "NON_EXISTENT_QUEUE_CODES",
    "QUEUE_EXISTS_CODES",
    "FrozenMap",
    "Queue",
    "QueueAttributes",
    "QueueSpec",
    "RedriveAllowPolicy",
    "RedrivePolicy",
    "arn_name",
    "delete_queue",
    "dlq_name_for",
    "ensure_queue",
    "get_queue",
    "queue_attributes",
    "queue_missing",
    "queue_url",
    "validate_queue_name",
    "validate_spec",
]
