"""Checks on messages: digests, system attributes, the allowed body characters and the size limit in UTF-8
bytes (attributes included), fair groups on a standard queue, deletion."""

from __future__ import annotations

import time
from typing import Any

from labsqs.conformance.documented import MAX_MESSAGE_BYTES, md5_hex, md5_of_message_attributes
from labsqs.conformance.probe import CheckFailed, Probe
from labsqs.conformance.registry import check


@check(
    "msg.md5-body",
    "MD5OfMessageBody is the MD5 of the body's UTF-8 bytes",
    doc="API Reference 'SendMessage'/'ReceiveMessage': MD5OfMessageBody 'to verify that Amazon SQS "
    "received the message correctly'",
)
def _md5_body(p: Probe) -> str:
    url = p.queue("md5body")
    body = "héllo ✓ wörld"
    want = md5_hex(body.encode())
    sent = p.send(url, body)["MD5OfMessageBody"]
    (m,) = p.receive(url, n=1)
    p.expect(
        sent == want and m["MD5OfBody"] == want, f"send {sent}, receive {m['MD5OfBody']}, expected {want}"
    )
    return "send and receive digests match md5(utf8(body))"


@check(
    "msg.md5-attributes",
    "MD5OfMessageAttributes follows the documented algorithm; attributes round-trip",
    doc="Developer Guide 'Calculating the MD5 message digest for message attributes'",
)
def _md5_attributes(p: Probe) -> str:
    url = p.queue("md5attrs")
    attrs: dict[str, Any] = {
        "zeta": {"DataType": "String", "StringValue": "grüße ✓"},
        "alpha": {"DataType": "Number", "StringValue": "42"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xfe"},
        "kind": {"DataType": "String.custom", "StringValue": "x"},
    }
    want = md5_of_message_attributes(attrs)
    sent = p.send(url, "body", MessageAttributes=attrs).get("MD5OfMessageAttributes")
    (m,) = p.receive(url, n=1)
    got = m.get("MD5OfMessageAttributes")
    p.expect(sent == want, f"SendMessage MD5OfMessageAttributes {sent}, documented algorithm gives {want}")
    p.expect(got == want, f"ReceiveMessage MD5OfMessageAttributes {got}, expected {want}")
    p.expect(m.get("MessageAttributes") == attrs, f"attributes came back as {m.get('MessageAttributes')}")
    return "String, Number, Binary and custom types: digests match, values round-trip"


@check(
    "msg.system-attributes",
    "a received message carries SentTimestamp, SenderId, ApproximateReceiveCount=1 and FirstReceiveTimestamp",
    doc="API Reference 'ReceiveMessage': MessageSystemAttributeNames",
)
def _system_attributes(p: Probe) -> str:
    url = p.queue("sysattrs")
    before = time.time() * 1000
    p.send(url)
    (m,) = p.receive(url, n=1)
    a = m.get("Attributes", {})
    missing = [
        k
        for k in ("SentTimestamp", "SenderId", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp")
        if k not in a
    ]
    p.expect(not missing, f"missing {missing}")
    p.expect(a["ApproximateReceiveCount"] == "1", f"ApproximateReceiveCount {a['ApproximateReceiveCount']}")
    sent = int(a["SentTimestamp"])
    p.expect(abs(sent - before) < 60_000, f"SentTimestamp {sent} is not epoch milliseconds near now")
    first = int(a["ApproximateFirstReceiveTimestamp"])
    p.expect(first >= sent - 1000, f"ApproximateFirstReceiveTimestamp {first} before SentTimestamp {sent}")
    return "all four present; timestamps in epoch ms"


@check(
    "msg.receive-count",
    "each receive increments ApproximateReceiveCount; FirstReceiveTimestamp stays; a new receipt handle",
    doc="API Reference 'ReceiveMessage' (ApproximateReceiveCount, ApproximateFirstReceiveTimestamp); "
    "'DeleteMessage': the receipt handle is different each time you receive a message",
)
def _receive_count(p: Probe) -> str:
    url = p.queue("rcount")
    p.send(url)
    (m1,) = p.receive(url, n=1)
    p.hide(url, m1, 0)
    (m2,) = p.receive(url, n=1)
    a1, a2 = m1["Attributes"], m2["Attributes"]
    p.expect(
        a2.get("ApproximateReceiveCount") == "2", f"second receive count {a2.get('ApproximateReceiveCount')}"
    )
    p.expect(
        a1.get("ApproximateFirstReceiveTimestamp") == a2.get("ApproximateFirstReceiveTimestamp"),
        f"first-receive timestamp moved: {a1.get('ApproximateFirstReceiveTimestamp')} → "
        f"{a2.get('ApproximateFirstReceiveTimestamp')}",
    )
    p.expect(m1["ReceiptHandle"] != m2["ReceiptHandle"], "the second receive reused the receipt handle")
    return "count 1 → 2, first-receive timestamp unchanged, new receipt handle"


@check(
    "msg.empty-body",
    "an empty message body is rejected",
    doc="API Reference 'SendMessage': 'The minimum size is one character'",
)
def _empty_body(p: Probe) -> str:
    url = p.queue("empty")
    return f"rejected: {p.rejected(p.sqs.send_message, 'an empty body', QueueUrl=url, MessageBody='')}"


@check(
    "msg.illegal-chars",
    "bodies with characters outside the allowed set are rejected",
    doc="sqs-limits.md: allowed body characters #x9, #xA, #xD, #x20–#xD7FF, #xE000–#xFFFD, #x10000–#x10FFFF",
)
def _illegal_chars(p: Probe) -> str:
    url = p.queue("illegal")
    codes = p.all_rejected(
        (f"a body with {ch!r}", p.sqs.send_message, {"QueueUrl": url, "MessageBody": f"a{ch}b"})
        for ch in ("\x00", "\x08", "\ufffe")
    )
    return f"U+0000, U+0008, U+FFFE rejected ({codes[0]})"


@check(
    "msg.allowed-chars",
    "tab, newline, carriage return and astral characters round-trip exactly",
    doc="sqs-limits.md: allowed body characters #x9, #xA, #xD, … #x10000–#x10FFFF",
)
def _allowed_chars(p: Probe) -> str:
    url = p.queue("allowed")
    body = "tab\there\r\nline 😀 \ue000 end"
    p.send(url, body)
    (m,) = p.receive(url, n=1)
    p.expect(m["Body"] == body, f"body came back as {m['Body']!r}")
    return "round-trips byte for byte"


@check(
    "msg.size-max-ok",
    "a body of exactly 1 MiB (1,048,576 bytes) is accepted",
    doc="sqs-limits.md: max message size 1 MiB (1,048,576 bytes)",
)
def _size_max_ok(p: Probe) -> str:
    url = p.queue("size1mib")
    reply = p.send(url, "a" * MAX_MESSAGE_BYTES)
    p.expect(bool(reply.get("MessageId")), "no MessageId")
    return "accepted"


@check(
    "msg.size-over",
    "a body of 1 MiB + 1 byte is rejected",
    doc="sqs-limits.md: max message size 1 MiB (1,048,576 bytes)",
)
def _size_over(p: Probe) -> str:
    url = p.queue("sizeover")
    code = p.rejected(
        p.sqs.send_message, "1,048,577 bytes", QueueUrl=url, MessageBody="a" * (MAX_MESSAGE_BYTES + 1)
    )
    return f"rejected: {code}"


@check(
    "msg.size-utf8-bytes",
    "size is counted in UTF-8 bytes: 524,289 × 'é' (1,048,578 bytes) is rejected",
    doc="sqs-limits.md: 'counted in UTF-8 bytes incl. attributes'",
)
def _size_utf8(p: Probe) -> str:
    url = p.queue("sizeutf8")
    chars = MAX_MESSAGE_BYTES // 2 + 1
    body = "é" * chars
    try:
        code = p.rejected(
            p.sqs.send_message,
            f"{chars:,} chars = {len(body.encode()):,} UTF-8 bytes",
            QueueUrl=url,
            MessageBody=body,
        )
    except CheckFailed as exc:
        raise CheckFailed(f"{exc.observed} (the engine counts characters, not bytes)") from None
    p.send(url, "é" * (MAX_MESSAGE_BYTES // 2))
    return f"1,048,578 bytes rejected ({code}); 1,048,576 bytes of 'é' accepted"


@check(
    "msg.size-includes-attributes",
    "message attributes count toward the 1 MiB limit",
    doc="sqs-limits.md: 'counted in UTF-8 bytes incl. attributes'; Developer Guide 'Amazon SQS message "
    "attributes': name, type and value count toward the message size",
)
def _size_attributes(p: Probe) -> str:
    url = p.queue("sizeattrs")
    code = p.rejected(
        p.sqs.send_message,
        "1 MiB − 8 bytes of body + a 14-byte attribute",
        QueueUrl=url,
        MessageBody="a" * (MAX_MESSAGE_BYTES - 8),
        MessageAttributes={"k": {"DataType": "String", "StringValue": "1234567"}},
    )
    return f"rejected: {code}"


@check(
    "msg.fair-group-standard",
    "MessageGroupId on a standard queue is accepted (fair queues)",
    doc="sqs-limits.md: fair queues (standard, 2025) 'turned on by sending MessageGroupId to a standard "
    "queue'; Developer Guide 'Amazon SQS fair queues'",
)
def _fair_group(p: Probe) -> str:
    url = p.queue("fair")
    p.send(url, "tenant-a", MessageGroupId="tenant-a")
    got = p.drain(url, 1)
    p.expect([m["Body"] for m in got] == ["tenant-a"], f"received {[m['Body'] for m in got]}")
    return "accepted and delivered"


@check(
    "msg.delete",
    "DeleteMessage removes the message for good",
    doc="API Reference 'DeleteMessage'",
)
def _delete(p: Probe) -> str:
    url = p.queue("delete", VisibilityTimeout=1)
    p.send(url)
    (m,) = p.receive(url, n=1)
    p.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    again = p.receive(url, wait=2)
    p.expect(not again, f"deleted message came back: {len(again)}")
    return "not delivered again after the visibility timeout"
