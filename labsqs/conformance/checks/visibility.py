"""Checks on the visibility timeout: expiry, the per-receive override, ChangeMessageVisibility (to 0, as a
heartbeat), and receipt handles (malformed, old)."""

from __future__ import annotations

import time

from botocore.exceptions import ClientError

from labsqs.conformance.probe import SWEEP_SLACK_SECONDS, CheckFailed, Probe, error_code, is_unsupported
from labsqs.conformance.registry import check


@check(
    "vis.expiry",
    "a received message is hidden, then visible again after the visibility timeout",
    doc="Developer Guide 'Amazon SQS visibility timeout'",
)
def _vis_expiry(p: Probe) -> str:
    url = p.queue("visexp", VisibilityTimeout=1)
    mid = p.send(url)["MessageId"]
    p.receive(url, n=1)
    hidden = p.receive(url)
    p.expect(not hidden, "the message was delivered again while in flight")
    back = p.receive(url, wait=4)
    p.expect([m["MessageId"] for m in back] == [mid], "did not reappear within 4 s of a 1 s timeout")
    return "hidden while in flight, visible again after the 1 s timeout"


@check(
    "vis.receive-override",
    "ReceiveMessage's VisibilityTimeout overrides the queue's for that receive",
    doc="API Reference 'ReceiveMessage': VisibilityTimeout 'The duration … that the received messages are "
    "hidden from subsequent retrieve requests'",
)
def _vis_override(p: Probe) -> str:
    url = p.queue("visover")  # 30 s by default
    mid = p.send(url)["MessageId"]
    p.receive(url, n=1, visibility=1)
    back = p.receive(url, wait=4)
    p.expect(
        [m["MessageId"] for m in back] == [mid], "still hidden 4 s after a receive with VisibilityTimeout=1"
    )
    return "back within 1–2 s on a 30 s queue"


@check(
    "vis.change-zero",
    "ChangeMessageVisibility to 0 makes the message visible at once",
    doc="Developer Guide 'Amazon SQS visibility timeout': 'you can … set the visibility timeout to 0 to "
    "make the message immediately visible'",
)
def _vis_zero(p: Probe) -> str:
    url = p.queue("viszero")
    mid = p.send(url)["MessageId"]
    (m,) = p.receive(url, n=1)
    p.hide(url, m, 0)
    back = p.receive(url)
    p.expect([x["MessageId"] for x in back] == [mid], "not visible right after ChangeMessageVisibility(0)")
    return "visible immediately"


@check(
    "vis.heartbeat",
    "ChangeMessageVisibility extends the timeout of a message in flight (heartbeat)",
    doc="Developer Guide 'Amazon SQS visibility timeout': extend the timeout with ChangeMessageVisibility "
    "while processing",
)
def _vis_heartbeat(p: Probe) -> str:
    url = p.queue("vishb", VisibilityTimeout=1)
    p.send(url)
    (m,) = p.receive(url, n=1)
    p.hide(url, m, 4)
    time.sleep(1 + SWEEP_SLACK_SECONDS)
    early = p.receive(url)
    p.expect(not early, "visible again after 2.5 s although the timeout was extended to 4 s")
    p.hide(url, m, 0)
    back = p.receive(url)
    p.expect(len(back) == 1, "the extended message could not be made visible again with the old handle")
    return "still hidden at 2.5 s (1 s timeout extended to 4 s)"


@check(
    "vis.receipt-invalid",
    "a malformed receipt handle is rejected with ReceiptHandleIsInvalid",
    doc="API Reference 'DeleteMessage' / 'ChangeMessageVisibility': ReceiptHandleIsInvalid",
)
def _receipt_invalid(p: Probe) -> str:
    url = p.queue("rhinvalid")
    code = p.rejected(
        p.sqs.delete_message,
        "DeleteMessage('not-a-handle')",
        codes=("ReceiptHandleIsInvalid",),
        QueueUrl=url,
        ReceiptHandle="not-a-handle",
    )
    p.rejected(
        p.sqs.change_message_visibility,
        "ChangeMessageVisibility('not-a-handle')",
        codes=("ReceiptHandleIsInvalid",),
        QueueUrl=url,
        ReceiptHandle="not-a-handle",
        VisibilityTimeout=0,
    )
    return f"DeleteMessage and ChangeMessageVisibility: {code}"


@check(
    "vis.receipt-old",
    "DeleteMessage with an earlier receive's (old) receipt handle succeeds",
    doc="API Reference 'DeleteMessage': 'If you use an old ReceiptHandle, the request will succeed, but the "
    "message might not be deleted'",
)
def _receipt_old(p: Probe) -> str:
    url = p.queue("rhold")
    p.send(url)
    (m1,) = p.receive(url, n=1)
    p.hide(url, m1, 0)
    (m2,) = p.receive(url, n=1)
    try:
        p.sqs.delete_message(QueueUrl=url, ReceiptHandle=m1["ReceiptHandle"])
    except ClientError as exc:
        if is_unsupported(exc):
            raise
        raise CheckFailed(f"DeleteMessage with the old handle failed: {error_code(exc)}") from exc
    visible, in_flight, _ = p.counts(url)
    kept = visible + in_flight
    return f"succeeded; the message was {'kept' if kept else 'deleted'}"
