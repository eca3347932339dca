"""Dead-letter queues: look at what failed, send it back, or throw it away.

A *dead-letter queue* (DLQ) is an ordinary queue that another queue names in its ``RedrivePolicy``
(``{"deadLetterTargetArn": <DLQ ARN>, "maxReceiveCount": 3}``). Every receive of a message raises its
``ApproximateReceiveCount``; the receive *after* the count reached ``maxReceiveCount`` does not hand the
message to the consumer: SQS moves it to the DLQ instead. The DLQ stops a poison message from being
retried forever; it keeps the body, the attributes, the original ``SentTimestamp`` and (as the system
attribute ``DeadLetterQueueSourceArn``) the queue it came from. The DLQ of a FIFO queue must be FIFO.

What you do with a DLQ, and what this module offers:

- **list** (:func:`list_messages`) — read the messages without taking them away. SQS has no "peek":
  any ``ReceiveMessage`` hides the message for the visibility timeout and counts a receive. LocalStack
  has a developer endpoint (``/_aws/sqs/messages`` with ``ShowInvisible``/``ShowDelayed``) that lists
  messages with no side effect; :func:`list_messages` uses it when the engine has it
  (``method="peek"``). Elsewhere (AWS, moto) it receives the messages and releases them at once with
  ``ChangeMessageVisibility(0)`` (``method="receive+release"``): the messages stay in the queue, but each
  one's ``ApproximateReceiveCount`` goes up by one, and while the scan runs a consumer of that queue
  cannot get them. The method used is in ``df.attrs["method"]``.
- **redrive** — move the messages back to where they came from (or to a queue you choose) once the bug
  is fixed. SQS does it server-side with a *message move task* (``StartMessageMoveTask``: the source must
  be a DLQ, one running task per queue, at most 500 messages/s, no destination = each message back to its
  original source queue; ``ListMessageMoveTasks`` reports progress; ``CancelMessageMoveTask`` stops it).
  Engines without move tasks (moto) get the same end state from a client-side mover: receive from the
  DLQ, send to the destination, delete from the DLQ (``method="fallback"``).
- **purge** — ``PurgeQueue`` deletes every message of a queue, irrevocably, and SQS allows one purge per
  queue every 60 seconds. :func:`purge` refuses unless you pass ``confirm=True`` and tells you how many
  messages you would lose.

FIFO redrive keeps each message's group id and deduplication id, so order within a group survives. The
catch: a destination FIFO queue remembers deduplication ids for 5 minutes after the *original* send, so a
message redriven to its source within those 5 minutes is silently dropped as a duplicate. The fallback
mover detects it (SQS answers a duplicate with the original ``MessageId``) and leaves such messages in the
DLQ; LocalStack's move task (2026.3.0) reports them as moved and they are gone — redrive a FIFO DLQ to its
source only when its messages are older than 5 minutes, or redrive them to another queue.

The package: :mod:`~labsqs.dlq.listing` (list and peek), :mod:`~labsqs.dlq.redrive` (move task and the
client-side mover), :mod:`~labsqs.dlq.purge`, :mod:`~labsqs.dlq.cli` (``labsqs dlq ...``).
"""

from labsqs.dlq.cli import register_cli
from labsqs.dlq.listing import (
    DEFAULT_LIST_LIMIT,
    LIST_COLUMNS,
    LIST_HOLD_SECONDS,
    ListMethod,
    dead_letter_sources,
    list_messages,
    peek_messages,
)
from labsqs.dlq.purge import purge
from labsqs.dlq.redrive import (
    TASK_CANCELLED,
    TASK_COMPLETED,
    TASK_FAILED,
    TASK_RUNNING,
    Progress,
    RedriveMethod,
    RedriveResult,
    cancel_redrive,
    redrive,
)

__all__ = [
    "DEFAULT_LIST_LIMIT",
    "LIST_COLUMNS",
    "LIST_HOLD_SECONDS",
    "TASK_CANCELLED",
    "TASK_COMPLETED",
    "TASK_FAILED",
    "TASK_RUNNING",
    "ListMethod",
    "Progress",
    "RedriveMethod",
    "RedriveResult",
    "cancel_redrive",
    "dead_letter_sources",
    "list_messages",
    "peek_messages",
    "purge",
    "redrive",
    "register_cli",
]
