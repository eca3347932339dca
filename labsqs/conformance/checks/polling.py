"""Checks on when a receive answers and when a message may be received: short and long polling, the
queue's default wait, the receive limits, delay queues and message timers."""

from __future__ import annotations

import threading
import time

from labsqs.conformance.documented import MAX_DELAY_SECONDS, MAX_MESSAGES_PER_RECEIVE, MAX_WAIT_TIME_SECONDS
from labsqs.conformance.probe import Probe
from labsqs.conformance.registry import check


@check(
    "poll.short-empty",
    "a short poll (WaitTimeSeconds=0) of an empty queue returns at once",
    doc="Developer Guide 'Amazon SQS short and long polling': short polling returns immediately",
)
def _short_poll(p: Probe) -> str:
    url = p.queue("short")
    t0 = time.monotonic()
    got = p.receive(url, wait=0)
    took = time.monotonic() - t0
    p.expect(not got and took < 1.5, f"returned {len(got)} messages after {took:.2f} s")
    return "empty answer without waiting"


@check(
    "poll.long-waits",
    "a long poll of an empty queue waits WaitTimeSeconds (2 s) before answering empty",
    doc="Developer Guide 'Amazon SQS short and long polling': long polling waits until a message arrives "
    "or the wait time expires",
)
def _long_waits(p: Probe) -> str:
    url = p.queue("longwait")
    t0 = time.monotonic()
    got = p.receive(url, wait=2)
    took = time.monotonic() - t0
    p.expect(not got, f"returned {len(got)} messages from an empty queue")
    p.expect(1.5 <= took < 6, f"answered after {took:.2f} s instead of ~2 s")
    return "waited ~2 s"


@check(
    "poll.long-returns-early",
    "a long poll returns as soon as a message arrives",
    doc="Developer Guide 'Amazon SQS short and long polling': 'returns … as soon as a message is available'",
)
def _long_early(p: Probe) -> str:
    url = p.queue("longearly")
    failures: list[BaseException] = []

    def send_later() -> None:
        try:
            p.send(url, "wake")
        except BaseException as exc:  # noqa: BLE001 - reported by the check below
            failures.append(exc)

    timer = threading.Timer(0.5, send_later)
    t0 = time.monotonic()
    timer.start()
    got = p.receive(url, wait=6)
    took = time.monotonic() - t0
    timer.join()
    p.expect(not failures, f"the delayed send failed: {failures[:1]}")
    p.expect([m["Body"] for m in got] == ["wake"], f"no message after {took:.1f} s of a 6 s poll")
    p.expect(took < 4, f"answered after {took:.1f} s although the message arrived at 0.5 s")
    return "returned soon after the send at 0.5 s (poll of 6 s)"


@check(
    "poll.queue-wait-default",
    "a queue's ReceiveMessageWaitTimeSeconds makes receives long polls by default",
    doc="Developer Guide 'Amazon SQS short and long polling': ReceiveMessageWaitTimeSeconds on the queue",
)
def _queue_wait_default(p: Probe) -> str:
    url = p.queue("qwait", ReceiveMessageWaitTimeSeconds=1)
    t0 = time.monotonic()
    p.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)
    took = time.monotonic() - t0
    p.expect(took >= 0.7, f"answered after {took:.2f} s: a short poll, not the queue's 1 s wait")
    return "a receive without WaitTimeSeconds waited ~1 s"


@check(
    "poll.wait-max",
    "WaitTimeSeconds above 20 is rejected",
    doc="sqs-limits.md: long polling WaitTimeSeconds 0 – 20",
)
def _wait_max(p: Probe) -> str:
    url = p.queue("waitmax")
    p.send(url)  # an engine that accepts 21 still answers at once
    code = p.rejected(
        p.sqs.receive_message, "WaitTimeSeconds=21", QueueUrl=url, WaitTimeSeconds=MAX_WAIT_TIME_SECONDS + 1
    )
    return f"rejected: {code}"


@check(
    "poll.max-messages",
    "MaxNumberOfMessages outside 1–10 is rejected",
    doc="API Reference 'ReceiveMessage': MaxNumberOfMessages 'Valid values: 1 to 10'",
)
def _max_messages(p: Probe) -> str:
    url = p.queue("maxmsgs")
    codes = p.all_rejected(
        (f"MaxNumberOfMessages={n}", p.sqs.receive_message, {"QueueUrl": url, "MaxNumberOfMessages": n})
        for n in (MAX_MESSAGES_PER_RECEIVE + 1, 0)
    )
    return f"11 and 0 rejected ({codes[0]})"


# --- delay -------------------------------------------------------------------------------------------
@check(
    "delay.queue",
    "a queue's DelaySeconds hides new messages, counted as delayed",
    doc="Developer Guide 'Amazon SQS delay queues'",
)
def _delay_queue(p: Probe) -> str:
    url = p.queue("dq", DelaySeconds=1)
    mid = p.send(url)["MessageId"]
    now = p.receive(url)
    delayed = p.counts(url)[2]
    p.expect(not now, "delivered before the queue's delay")
    p.expect(delayed == 1, f"ApproximateNumberOfMessagesDelayed {delayed}, expected 1")
    later = p.receive(url, wait=4)
    p.expect([m["MessageId"] for m in later] == [mid], "not delivered within 4 s of a 1 s delay")
    return "hidden and counted as delayed, then delivered"


@check(
    "delay.message",
    "a message's DelaySeconds hides it (message timer)",
    doc="Developer Guide 'Amazon SQS message timers'",
)
def _delay_message(p: Probe) -> str:
    url = p.queue("dm")
    mid = p.send(url, DelaySeconds=1)["MessageId"]
    now = p.receive(url)
    p.expect(not now, "delivered before its delay")
    later = p.receive(url, wait=4)
    p.expect([m["MessageId"] for m in later] == [mid], "not delivered within 4 s of a 1 s delay")
    return "hidden, then delivered"


@check(
    "delay.fifo-per-message",
    "a FIFO queue rejects a per-message DelaySeconds",
    doc="Developer Guide 'Amazon SQS message timers': 'FIFO queues don't support timers on individual "
    "messages'",
)
def _delay_fifo(p: Probe) -> str:
    url = p.queue("dfifo", fifo=True, ContentBasedDeduplication="true")
    code = p.rejected(
        p.sqs.send_message,
        "DelaySeconds=1 on a FIFO message",
        QueueUrl=url,
        MessageBody="x",
        MessageGroupId="g",
        DelaySeconds=1,
    )
    return f"rejected: {code}"


@check(
    "delay.max",
    "a message DelaySeconds above 900 is rejected",
    doc="sqs-limits.md: delay 0 – 900 s",
)
def _delay_max(p: Probe) -> str:
    url = p.queue("dmax")
    code = p.rejected(
        p.sqs.send_message,
        "DelaySeconds=901",
        QueueUrl=url,
        MessageBody="x",
        DelaySeconds=MAX_DELAY_SECONDS + 1,
    )
    return f"rejected: {code}"
