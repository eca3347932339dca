"""Checks on dead-letter queues: redrive after maxReceiveCount, the DLQ's type, the redrive allow policy,
the source listing, and the move tasks that send a DLQ's messages back (StartMessageMoveTask)."""

from __future__ import annotations

import contextlib
import json

from botocore.exceptions import ClientError

from labsqs.conformance.probe import Probe
from labsqs.conformance.registry import check


@check(
    "dlq.redrive",
    "with maxReceiveCount=2, the 3rd receive moves the message to the DLQ",
    doc="sqs-limits.md: 'the move to the DLQ happens on the receive after maxReceiveCount'; Developer Guide "
    "'Using dead-letter queues in Amazon SQS'",
)
def _redrive(p: Probe) -> str:
    dlq = p.queue("dlq")
    src = p.queue("src", RedrivePolicy=p.redrive_to(dlq, 2))
    mid = p.send(src, "poison")["MessageId"]
    for attempt in (1, 2):
        got = p.receive(src, n=1)
        p.expect(len(got) == 1, f"receive {attempt} got nothing (moved too early?)")
        p.hide(src, got[0], 0)
    third = p.receive(src, wait=1)
    p.expect(not third, "the 3rd receive still delivered the message from the source")
    moved = p.receive(dlq, wait=2)
    p.expect([m["MessageId"] for m in moved] == [mid], f"DLQ holds {[m['MessageId'] for m in moved]}")
    return "delivered twice, then in the DLQ with the same MessageId"


@check(
    "dlq.fifo-needs-fifo",
    "a FIFO queue's dead-letter queue must be FIFO",
    doc="sqs-limits.md: 'DLQ of a FIFO queue must be FIFO'",
)
def _dlq_fifo(p: Probe) -> str:
    dlq = p.queue("stddlq")
    code = p.rejected(
        p.sqs.create_queue,
        "a FIFO queue redriving to a standard DLQ",
        QueueName=p.name("fsrc", fifo=True),
        Attributes={"FifoQueue": "true", "RedrivePolicy": p.redrive_to(dlq, 3)},
    )
    return f"rejected: {code}"


@check(
    "dlq.allow-deny-all",
    "a DLQ with RedriveAllowPolicy denyAll cannot be a dead-letter target",
    doc="sqs-limits.md: redrive allow policy allowAll / denyAll / byQueue; API Reference "
    "'SetQueueAttributes': RedriveAllowPolicy",
)
def _allow_deny(p: Probe) -> str:
    dlq = p.queue("denydlq", RedriveAllowPolicy=json.dumps({"redrivePermission": "denyAll"}))
    code = p.rejected(
        p.sqs.create_queue,
        "a source redriving to a denyAll DLQ",
        QueueName=p.name("denysrc"),
        Attributes={"RedrivePolicy": p.redrive_to(dlq, 3)},
    )
    return f"rejected: {code}"


@check(
    "dlq.allow-by-queue",
    "RedriveAllowPolicy byQueue admits the listed source queue and rejects others",
    doc="sqs-limits.md: redrive allow policy byQueue (≤ 10 source ARNs)",
)
def _allow_by_queue(p: Probe) -> str:
    allowed = p.queue("byqok")
    stranger = p.queue("byqno")
    policy = {"redrivePermission": "byQueue", "sourceQueueArns": [p.arn(allowed)]}
    dlq = p.queue("byqdlq", RedriveAllowPolicy=json.dumps(policy))
    redrive = p.redrive_to(dlq, 3)
    p.sqs.set_queue_attributes(QueueUrl=allowed, Attributes={"RedrivePolicy": redrive})
    code = p.rejected(
        p.sqs.set_queue_attributes,
        "an unlisted source's RedrivePolicy",
        QueueUrl=stranger,
        Attributes={"RedrivePolicy": redrive},
    )
    return f"listed source accepted, other rejected ({code})"


@check(
    "dlq.list-sources",
    "ListDeadLetterSourceQueues names the queues that redrive to a DLQ",
    doc="API Reference 'ListDeadLetterSourceQueues'",
    apis=("ListDeadLetterSourceQueues",),
)
def _list_sources(p: Probe) -> str:
    dlq = p.queue("srcdlq")
    src = p.queue("srcsrc", RedrivePolicy=p.redrive_to(dlq, 3))
    got = p.sqs.list_dead_letter_source_queues(QueueUrl=dlq).get("queueUrls", [])
    p.expect(got == [src], f"listed {got}")
    return "the source queue listed"


# --- move tasks (DLQ redrive) ------------------------------------------------------------------------
_MOVE_APIS = ("StartMessageMoveTask", "ListMessageMoveTasks", "CancelMessageMoveTask")


def _dlq_with_messages(p: Probe, stem: str, n: int) -> tuple[str, str]:
    """A DLQ (of a fresh source queue) holding ``n`` messages sent straight to it: (source, dlq)."""
    dlq = p.queue(f"{stem}dlq")
    src = p.queue(f"{stem}src", RedrivePolicy=p.redrive_to(dlq, 3))
    for i in range(n):
        p.send(dlq, f"m{i}")
    return src, dlq


@check(
    "move.to-source",
    "StartMessageMoveTask without a destination moves DLQ messages back to their source",
    doc="sqs-limits.md: StartMessageMoveTask 'no destination = back to original source queues'; Developer "
    "Guide 'Configure a dead-letter queue redrive'",
    apis=_MOVE_APIS,
)
def _move_to_source(p: Probe) -> str:
    dlq = p.queue("mvsdlq")
    src = p.queue("mvssrc", RedrivePolicy=p.redrive_to(dlq, 1))
    for i in range(2):
        p.send(src, f"m{i}")
    for m in p.receive(src):
        p.hide(src, m, 0)
    p.receive(src, wait=1)  # the 2nd receive moves both to the DLQ
    in_dlq = p.wait_for_count(dlq, 2, timeout=3)
    p.expect(in_dlq == 2, f"setup: {in_dlq} messages reached the DLQ by redrive")
    p.sqs.start_message_move_task(SourceArn=p.arn(dlq))
    back = p.wait_for_count(src, 2)
    p.expect(back == 2, f"{back} of 2 messages back in the source after 5 s")
    return "2 messages back in the source queue"


@check(
    "move.to-destination",
    "StartMessageMoveTask with DestinationArn moves DLQ messages there",
    doc="API Reference 'StartMessageMoveTask': DestinationArn",
    apis=_MOVE_APIS,
)
def _move_to_destination(p: Probe) -> str:
    _, dlq = _dlq_with_messages(p, "mvd", 3)
    dest = p.queue("mvddest")
    p.sqs.start_message_move_task(SourceArn=p.arn(dlq), DestinationArn=p.arn(dest))
    moved = p.wait_for_count(dest, 3)
    p.expect(moved == 3, f"{moved} of 3 messages in the destination after 5 s")
    left = p.counts(dlq)[0]
    p.expect(left == 0, f"{left} messages still in the DLQ")
    return "3 messages moved, DLQ empty"


@check(
    "move.list",
    "ListMessageMoveTasks reports a task with its status and counts",
    doc="API Reference 'ListMessageMoveTasks': Status RUNNING | COMPLETED | CANCELLING | CANCELLED | FAILED",
    apis=_MOVE_APIS,
)
def _move_list(p: Probe) -> str:
    _, dlq = _dlq_with_messages(p, "mvl", 2)
    dest = p.queue("mvldest")
    arn = p.arn(dlq)
    p.sqs.start_message_move_task(SourceArn=arn, DestinationArn=p.arn(dest))
    p.wait_for_count(dest, 2)
    tasks = p.sqs.list_message_move_tasks(SourceArn=arn).get("Results", [])
    p.expect(len(tasks) >= 1, "no task listed")
    t = tasks[0]
    p.expect(t.get("SourceArn") == arn and t.get("Status") in {"RUNNING", "COMPLETED"}, f"listed {t}")
    return f"status {t.get('Status')}, moved {t.get('ApproximateNumberOfMessagesMoved')}"


def _slow_task(p: Probe, stem: str) -> tuple[str, str]:
    """A running move task (1 msg/s over 5 messages): (task handle, DLQ ARN)."""
    _, dlq = _dlq_with_messages(p, stem, 5)
    dest = p.queue(f"{stem}dest")
    arn = p.arn(dlq)
    handle = p.sqs.start_message_move_task(
        SourceArn=arn, DestinationArn=p.arn(dest), MaxNumberOfMessagesPerSecond=1
    )["TaskHandle"]
    return handle, arn


@check(
    "move.cancel",
    "CancelMessageMoveTask stops a running task",
    doc="API Reference 'CancelMessageMoveTask': 'Only active (non-completed) message movement tasks can be "
    "cancelled'",
    apis=_MOVE_APIS,
)
def _move_cancel(p: Probe) -> str:
    handle, arn = _slow_task(p, "mvc")
    moved = p.sqs.cancel_message_move_task(TaskHandle=handle).get("ApproximateNumberOfMessagesMoved")
    status = p.sqs.list_message_move_tasks(SourceArn=arn).get("Results", [{}])[0].get("Status")
    p.expect(status in {"CANCELLING", "CANCELLED"}, f"status after cancel: {status}")
    p.expect(moved is not None and moved < 5, f"cancel reported {moved} of 5 messages moved")
    return f"cancelled before the 5 messages were moved (status {status})"


@check(
    "move.one-active",
    "only one active move task per queue: a second start is rejected",
    doc="sqs-limits.md: StartMessageMoveTask 'one active task per queue'",
    apis=_MOVE_APIS,
)
def _move_one_active(p: Probe) -> str:
    handle, arn = _slow_task(p, "mvo")
    try:
        code = p.rejected(p.sqs.start_message_move_task, "a second task while one runs", SourceArn=arn)
    finally:
        with contextlib.suppress(ClientError):
            p.sqs.cancel_message_move_task(TaskHandle=handle)
    return f"rejected: {code}"


@check(
    "move.source-must-be-dlq",
    "StartMessageMoveTask on a queue that is no DLQ is rejected",
    doc="sqs-limits.md: StartMessageMoveTask 'source must be a DLQ'",
    apis=_MOVE_APIS,
)
def _move_source_dlq(p: Probe) -> str:
    plain = p.queue("mvplain")
    p.send(plain)
    code = p.rejected(p.sqs.start_message_move_task, "a move task from a plain queue", SourceArn=p.arn(plain))
    return f"rejected: {code}"
