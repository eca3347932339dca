"""Checks on FIFO queues: order within a group, the group lock, group and deduplication ids (content-based,
explicit, remembered after delete, scoped to a group) and sequence numbers."""

from __future__ import annotations

from labsqs.conformance.probe import Probe
from labsqs.conformance.registry import check


@check(
    "fifo.order",
    "a FIFO queue delivers one group's messages in send order",
    doc="sqs-limits.md FIFO groups; Developer Guide 'Amazon SQS FIFO queue message ordering'",
)
def _fifo_order(p: Probe) -> str:
    url = p.queue("order", fifo=True, ContentBasedDeduplication="true")
    bodies = [f"m{i}" for i in range(6)]
    for b in bodies:
        p.send(url, b, MessageGroupId="g")
    got = [m["Body"] for m in p.drain(url, len(bodies))]
    p.expect(got == bodies, f"received {got}")
    return "m0…m5 in order"


@check(
    "fifo.group-lock",
    "while a group's message is in flight, that group is locked; other groups flow",
    doc="sqs-limits.md: 'while one message of a group is in flight, no later message of that group is "
    "delivered; other groups flow'",
)
def _group_lock(p: Probe) -> str:
    url = p.queue("lock", fifo=True, ContentBasedDeduplication="true")
    for group in ("A", "B"):
        for i in (1, 2):
            p.send(url, f"{group}{i}", MessageGroupId=group)
    (first,) = p.receive(url, n=1)
    locked = first["Body"][0]
    other = "B" if locked == "A" else "A"
    rest = [m["Body"] for m in p.receive(url)]
    p.expect(
        not any(b.startswith(locked) for b in rest),
        f"group {locked} delivered {rest} while {first['Body']} was in flight",
    )
    p.expect(f"{other}1" in rest, f"group {other} did not flow: {rest}")
    p.sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    after = [m["Body"] for m in p.receive(url)]
    p.expect(f"{locked}2" in after, f"after deleting {first['Body']}, received {after}")
    return f"{locked} locked while {first['Body']} in flight, {other} delivered; unlocked after delete"


@check(
    "fifo.group-id-required",
    "a FIFO send without MessageGroupId is rejected",
    doc="API Reference 'SendMessage': MessageGroupId 'is required for FIFO queues'",
)
def _group_required(p: Probe) -> str:
    url = p.queue("nogroup", fifo=True, ContentBasedDeduplication="true")
    code = p.rejected(p.sqs.send_message, "a FIFO send without a group", QueueUrl=url, MessageBody="x")
    return f"rejected: {code}"


@check(
    "fifo.dedup-id-required",
    "without content-based dedup, a FIFO send needs MessageDeduplicationId",
    doc="API Reference 'SendMessage': MessageDeduplicationId — 'If you aren't using "
    "ContentBasedDeduplication, you must provide a MessageDeduplicationId'",
)
def _dedup_required(p: Probe) -> str:
    url = p.queue("nodedup", fifo=True)
    code = p.rejected(
        p.sqs.send_message, "a send without a dedup id", QueueUrl=url, MessageBody="x", MessageGroupId="g"
    )
    return f"rejected: {code}"


@check(
    "fifo.dedup-content",
    "content-based dedup: the same body sent twice is delivered once",
    doc="API Reference 'SendMessage': 'messages with identical content sent within the deduplication "
    "interval are treated as duplicates and only one copy of the message is delivered'",
)
def _dedup_content(p: Probe) -> str:
    url = p.queue("dcontent", fifo=True, ContentBasedDeduplication="true")
    p.send(url, "same", MessageGroupId="g")
    p.send(url, "same", MessageGroupId="g")
    got = [m["Body"] for m in p.drain(url, 1) + p.receive(url)]
    p.expect(got == ["same"], f"received {got}")
    return "delivered once"


@check(
    "fifo.dedup-explicit",
    "an explicit MessageDeduplicationId dedups different bodies",
    doc="API Reference 'SendMessage': 'any messages sent with the same MessageDeduplicationId are accepted "
    "successfully but aren't delivered during the 5-minute deduplication interval'",
)
def _dedup_explicit(p: Probe) -> str:
    url = p.queue("dexplicit", fifo=True)
    p.send(url, "one", MessageGroupId="g", MessageDeduplicationId="d1")
    p.send(url, "two", MessageGroupId="g", MessageDeduplicationId="d1")
    got = [m["Body"] for m in p.drain(url, 1) + p.receive(url)]
    p.expect(got == ["one"], f"received {got}")
    return "second send accepted, not delivered"


@check(
    "fifo.dedup-same-message-id",
    "a deduplicated send returns the first send's MessageId",
    doc="sqs-limits.md FIFO dedup: 'a duplicate still returns the first MessageId'",
)
def _dedup_message_id(p: Probe) -> str:
    url = p.queue("dmid", fifo=True)
    first = p.send(url, "one", MessageGroupId="g", MessageDeduplicationId="d1")["MessageId"]
    second = p.send(url, "one", MessageGroupId="g", MessageDeduplicationId="d1")["MessageId"]
    p.expect(second == first, "the duplicate got a MessageId of its own")
    return "same MessageId"


@check(
    "fifo.dedup-after-delete",
    "a dedup id is remembered after its message was deleted (within 5 min)",
    doc="Developer Guide 'Amazon SQS FIFO queue key terms': 'Amazon SQS continues tracking the deduplication "
    "ID even after the message has been received and deleted'",
)
def _dedup_after_delete(p: Probe) -> str:
    url = p.queue("ddelete", fifo=True)
    p.send(url, "one", MessageGroupId="g", MessageDeduplicationId="d1")
    p.drain(url, 1)
    p.send(url, "one again", MessageGroupId="g", MessageDeduplicationId="d1")
    again = [m["Body"] for m in p.receive(url)]
    p.expect(not again, f"the resend was delivered: {again} (the engine forgot the dedup id on delete)")
    return "resend accepted, not delivered"


@check(
    "fifo.dedup-scope-group",
    "with DeduplicationScope=messageGroup, the same dedup id in two groups is two messages",
    doc="sqs-limits.md high-throughput FIFO: DeduplicationScope=messageGroup; API Reference 'CreateQueue'",
)
def _dedup_scope(p: Probe) -> str:
    url = p.queue(
        "dscope", fifo=True, DeduplicationScope="messageGroup", FifoThroughputLimit="perMessageGroupId"
    )
    a = p.send(url, "a", MessageGroupId="g1", MessageDeduplicationId="d")["MessageId"]
    b = p.send(url, "b", MessageGroupId="g2", MessageDeduplicationId="d")["MessageId"]
    got = sorted(m["Body"] for m in p.drain(url, 2))
    p.expect(a != b and got == ["a", "b"], f"received {got} (the dedup id was shared across groups)")
    return "both delivered"


@check(
    "fifo.sequence-number",
    "FIFO sends return increasing SequenceNumbers, echoed on receive",
    doc="API Reference 'SendMessage': SequenceNumber 'only for FIFO … the large, non-consecutive number … "
    "increases'",
)
def _sequence(p: Probe) -> str:
    url = p.queue("seq", fifo=True)
    sends = 8  # random numbers would come out increasing once in 40,320 runs
    seqs = [
        p.send(url, f"m{i}", MessageGroupId="g", MessageDeduplicationId=f"d{i}").get("SequenceNumber")
        for i in range(sends)
    ]
    p.expect(all(s and s.isdigit() for s in seqs), f"SequenceNumbers {seqs}")
    nums = [int(s) for s in seqs if s]
    p.expect(nums == sorted(set(nums)), f"{sends} sends in a row got SequenceNumbers that do not increase")
    received = [m["Attributes"].get("SequenceNumber") for m in p.drain(url, sends)]
    p.expect(received == seqs, "received SequenceNumbers differ from the ones the sends returned")
    return f"{sends} increasing numbers, the same on receive"


@check(
    "fifo.sequence-number-content-dedup",
    "the first content-deduplicated FIFO send returns a SequenceNumber",
    doc="API Reference 'SendMessage': SequenceNumber is returned for FIFO sends",
)
def _sequence_content(p: Probe) -> str:
    url = p.queue("seqcbd", fifo=True, ContentBasedDeduplication="true")
    seq = p.send(url, "only", MessageGroupId="g").get("SequenceNumber")
    p.expect(bool(seq), f"SequenceNumber is {seq!r}")
    return "present"


@check(
    "fifo.system-attributes",
    "a received FIFO message carries MessageGroupId and MessageDeduplicationId",
    doc="API Reference 'ReceiveMessage': MessageSystemAttributeNames MessageGroupId, MessageDeduplicationId",
)
def _fifo_attrs(p: Probe) -> str:
    url = p.queue("fattrs", fifo=True)
    p.send(url, "x", MessageGroupId="grp", MessageDeduplicationId="dd")
    (m,) = p.receive(url, n=1)
    a = m.get("Attributes", {})
    got = (a.get("MessageGroupId"), a.get("MessageDeduplicationId"))
    p.expect(got == ("grp", "dd"), f"MessageGroupId, MessageDeduplicationId = {got}")
    return "both present"
