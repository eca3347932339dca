"""Checks on batch requests: the 10-entry and 1 MiB limits, entry ids, per-entry results, partial failure."""

from __future__ import annotations

from typing import Any

from labsqs.conformance.documented import MAX_BATCH_ENTRIES, MAX_BATCH_ENTRY_ID_CHARS, md5_hex
from labsqs.conformance.probe import Probe, code_matches
from labsqs.conformance.registry import check


def _entries(n: int, body: str = "x") -> list[dict[str, str]]:
    return [{"Id": f"e{i}", "MessageBody": body} for i in range(n)]


@check(
    "batch.too-many",
    "a batch of 11 entries is rejected",
    doc="sqs-limits.md: batch ≤ 10 entries; API Reference 'SendMessageBatch': TooManyEntriesInBatchRequest",
)
def _batch_too_many(p: Probe) -> str:
    url = p.queue("b11")
    code = p.rejected(
        p.sqs.send_message_batch,
        "11 entries",
        codes=("TooManyEntriesInBatchRequest",),
        QueueUrl=url,
        Entries=_entries(11),
    )
    return f"rejected: {code}"


@check(
    "batch.ids-distinct",
    "a batch with duplicate entry ids is rejected",
    doc="sqs-limits.md: 'entry Ids distinct'; API Reference 'SendMessageBatch': BatchEntryIdsNotDistinct",
)
def _batch_ids(p: Probe) -> str:
    url = p.queue("bdup")
    entries = [{"Id": "same", "MessageBody": "a"}, {"Id": "same", "MessageBody": "b"}]
    code = p.rejected(
        p.sqs.send_message_batch,
        "two entries with Id 'same'",
        codes=("BatchEntryIdsNotDistinct",),
        QueueUrl=url,
        Entries=entries,
    )
    return f"rejected: {code}"


@check(
    "batch.entry-id-rules",
    "batch entry ids allow only ≤ 80 chars of [A-Za-z0-9_-]",
    doc="sqs-limits.md: 'entry Ids … ≤ 80 chars [A-Za-z0-9_-]'; API Reference: InvalidBatchEntryId",
)
def _batch_entry_id(p: Probe) -> str:
    url = p.queue("bid")
    code = p.rejected(
        p.sqs.send_message_batch,
        "entry Id 'bad id!'",
        codes=("InvalidBatchEntryId",),
        QueueUrl=url,
        Entries=[{"Id": "bad id!", "MessageBody": "x"}],
    )
    p.rejected(
        p.sqs.send_message_batch,
        "an 81-char entry Id",
        codes=("InvalidBatchEntryId",),
        QueueUrl=url,
        Entries=[{"Id": "i" * (MAX_BATCH_ENTRY_ID_CHARS + 1), "MessageBody": "x"}],
    )
    return f"'bad id!' and 81 chars rejected ({code})"


@check(
    "batch.too-long",
    "a batch whose bodies total more than 1 MiB is rejected as a whole",
    doc="sqs-limits.md: batch ≤ 1 MiB total; API Reference 'SendMessageBatch': BatchRequestTooLong",
)
def _batch_too_long(p: Probe) -> str:
    url = p.queue("blong")
    entries = _entries(2, "a" * 600_000)
    code = p.rejected(
        p.sqs.send_message_batch,
        "2 × 600,000 bytes",
        codes=("BatchRequestTooLong",),
        QueueUrl=url,
        Entries=entries,
    )
    visible = p.counts(url)[0]
    p.expect(visible == 0, f"rejected, but {visible} of its messages were enqueued")
    return f"rejected: {code}; nothing enqueued"


@check(
    "batch.send-results",
    "SendMessageBatch reports each entry with its MessageId and body MD5",
    doc="API Reference 'SendMessageBatch': Successful entries carry Id, MessageId, MD5OfMessageBody",
)
def _batch_send(p: Probe) -> str:
    url = p.queue("bsend")
    entries: list[Any] = [{"Id": f"e{i}", "MessageBody": f"body-{i}"} for i in range(MAX_BATCH_ENTRIES)]
    reply = p.sqs.send_message_batch(QueueUrl=url, Entries=entries)
    ok = {e["Id"]: e for e in reply.get("Successful", [])}
    p.expect(
        len(ok) == MAX_BATCH_ENTRIES and not reply.get("Failed"),
        f"{len(ok)} ok, failed {reply.get('Failed')}",
    )
    wrong = [i for i, e in ok.items() if e["MD5OfMessageBody"] != md5_hex(f"body-{i[1:]}".encode())]
    p.expect(not wrong, f"wrong MD5 for {wrong}")
    return "10 entries, each with MessageId and the right MD5"


@check(
    "batch.partial-failure",
    "a batch with one bad entry succeeds for the others and reports the failure per entry",
    doc="Developer Guide 'Amazon SQS batch actions': 'check for batch errors even when the call returns an "
    "HTTP status code of 200'; API Reference 'DeleteMessageBatch': Failed entries with Id and Code",
)
def _batch_partial(p: Probe) -> str:
    url = p.queue("bpartial")
    p.send(url)
    (m,) = p.receive(url, n=1)
    reply = p.sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "good", "ReceiptHandle": m["ReceiptHandle"]},
            {"Id": "bad", "ReceiptHandle": "not-a-handle"},
        ],
    )
    ok = [e["Id"] for e in reply.get("Successful", [])]
    failed = {e["Id"]: e.get("Code") for e in reply.get("Failed", [])}
    p.expect(ok == ["good"] and list(failed) == ["bad"], f"successful {ok}, failed {failed}")
    p.expect(code_matches(str(failed["bad"]), "ReceiptHandleIsInvalid"), f"failure code {failed['bad']}")
    return f"good deleted; bad reported as {failed['bad']}"
