"""Batches: cut prepared messages into ``SendMessageBatch`` requests (:func:`plan_batches`: 10 entries,
1 MiB), send them with per-entry retries, and report every message in input order (:class:`BatchReport`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from labsqs.base.limits import MAX_BATCH_BYTES, MAX_BATCH_ENTRIES
from labsqs.errors import BatchError, LabSqsError
from labsqs.producer.validation import OutgoingMessage

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

DEFAULT_MAX_RETRIES = 3
RETRY_BASE_DELAY_SECONDS = 0.05  # before retry n: base * 2**(n-1)


@dataclass(frozen=True)
class SendResult:
    """One message SQS accepted. ``id`` is its position in the input (``"0"`` for :func:`send`);
    ``sequence_number`` is set on FIFO queues (it grows within a group)."""

    id: str
    message_id: str
    sequence_number: str | None
    md5_of_body: str


@dataclass(frozen=True)
class FailedEntry:
    """One message SQS refused, after the retries it was worth. ``sender_fault``: the message itself is
    wrong (resending it cannot help)."""

    id: str
    code: str
    message: str
    sender_fault: bool


@dataclass(frozen=True)
class BatchReport:
    """What :func:`send_many` did. ``sent`` and ``failed`` are in input order; ``requests`` counts the
    ``SendMessageBatch`` calls (retries included); ``retried`` counts entries sent again."""

    sent: tuple[SendResult, ...]
    failed: tuple[FailedEntry, ...]
    requests: int
    retried: int

    @property
    def ok(self) -> bool:
        """True when every message was accepted."""
        return not self.failed

    @property
    def count(self) -> int:
        """How many messages the report covers (sent + failed) — the length of the input."""
        return len(self.sent) + len(self.failed)

    def raise_for_failures(self) -> BatchReport:
        """Raise :class:`~labsqs.errors.BatchError` naming the failures, if any; else return ``self``."""
        if self.failed:
            first = "; ".join(f"#{f.id} {f.code}: {f.message}" for f in self.failed[:3])
            more = f" (+{len(self.failed) - 3} more)" if len(self.failed) > 3 else ""
            err = BatchError(
                f"{len(self.failed)} of {self.count} messages were not sent: {first}{more}",
                hint="see report.failed; sender_fault=True means fix the message, False means retry later",
                code=self.failed[0].code,
            )
            err.report = self  # type: ignore[attr-defined]
            raise err
        return self


def plan_batches(
    messages: Sequence[OutgoingMessage],
    *,
    max_entries: int = MAX_BATCH_ENTRIES,
    max_batch_bytes: int = MAX_BATCH_BYTES,
) -> list[list[OutgoingMessage]]:
    """Cut ``messages`` into consecutive batches of at most ``max_entries`` entries and ``max_batch_bytes``
    total size, keeping their order (FIFO groups rely on it). Greedy: a batch closes when the next
    message would not fit. Pure: no requests.
    """
    if not 1 <= max_entries <= MAX_BATCH_ENTRIES:
        raise BatchError(
            f"a batch of {max_entries} entries asked for: SQS takes at most {MAX_BATCH_ENTRIES} per batch",
            hint=f"use max_entries between 1 and {MAX_BATCH_ENTRIES}; send_many splits larger inputs for you",
        )
    ids = [m.id for m in messages]
    if len(set(ids)) != len(ids):
        twice = sorted({i for i in ids if ids.count(i) > 1})
        raise BatchError(
            f"entry ids {twice} appear more than once: SQS rejects a batch whose entry ids are not distinct "
            "(BatchEntryIdsNotDistinct)",
            hint="give every entry a unique id (send_many uses each message's input position)",
        )
    batches: list[list[OutgoingMessage]] = []
    current: list[OutgoingMessage] = []
    current_bytes = 0
    for message in messages:
        if message.size_bytes > max_batch_bytes:
            raise BatchError(
                f"message #{message.id} is {message.size_bytes:,} bytes, more than a whole batch "
                f"({max_batch_bytes:,} bytes)",
                hint="shrink it: store the payload elsewhere (e.g. S3) and send a pointer",
            )
        if current and (len(current) >= max_entries or current_bytes + message.size_bytes > max_batch_bytes):
            batches.append(current)
            current, current_bytes = [], 0
        current.append(message)
        current_bytes += message.size_bytes
    if current:
        batches.append(current)
    return batches


@dataclass
class _Sending:
    """A ``send_many`` in progress: what was sent and what failed (by input position), requests made."""

    sent: dict[int, SendResult] = field(default_factory=dict)
    failed: dict[int, FailedEntry] = field(default_factory=dict)
    requests: int = 0
    retried: int = 0

    def report(self) -> BatchReport:
        return BatchReport(
            sent=tuple(self.sent[k] for k in sorted(self.sent)),
            failed=tuple(self.failed[k] for k in sorted(self.failed)),
            requests=self.requests,
            retried=self.retried,
        )

    def settle(
        self, pending: Sequence[OutgoingMessage], answer: Any, *, last_try: bool
    ) -> list[OutgoingMessage]:
        """Record one answer: sent, failed for good (the sender's fault, or ``last_try``); returns the
        entries to retry, in input order. An entry the answer does not mention counts as failed."""
        by_id = {m.id: m for m in pending}
        for ok in answer.get("Successful", []):
            if by_id.pop(ok["Id"], None) is not None:
                self.sent[int(ok["Id"])] = SendResult(
                    ok["Id"], ok["MessageId"], ok.get("SequenceNumber"), ok.get("MD5OfMessageBody", "")
                )
        retry: list[OutgoingMessage] = []
        for bad in answer.get("Failed", []):
            message = by_id.pop(bad["Id"], None)
            if message is None:
                continue
            sender_fault = bool(bad.get("SenderFault"))
            if sender_fault or last_try:
                self.failed[int(bad["Id"])] = FailedEntry(
                    bad["Id"], str(bad.get("Code", "")), str(bad.get("Message", "")), sender_fault
                )
            else:
                retry.append(message)
        for lost in by_id.values():  # neither Successful nor Failed: treat as a failure, don't guess
            self.failed[int(lost.id)] = FailedEntry(
                lost.id, "MissingFromResponse", "SQS did not report it", False
            )
        retry.sort(key=lambda m: int(m.id))  # keep input order among the retried
        return retry


def send_batches(
    client: SQSClient,
    url: str,
    messages: Sequence[OutgoingMessage],
    *,
    max_retries: int,
    progress: Callable[[int, int], None] | None,
    translate: Callable[[ClientError, str], Exception],
) -> BatchReport:
    """Send ``messages`` in planned batches; a retryable failed entry is sent again right after its batch
    (at most ``max_retries`` times, with a doubling pause). A request refused as a whole raises
    (``translate(err, url)``) with ``err.report``: what was sent before."""
    state = _Sending()
    done, total = 0, len(messages)
    for batch in plan_batches(messages):
        pending: list[OutgoingMessage] = batch
        attempt = 0
        while pending:
            try:
                entries: list[Any] = [m.entry() for m in pending]
                answer = client.send_message_batch(QueueUrl=url, Entries=entries)
            except ClientError as err:
                translated = translate(err, url)
                translated.report = state.report()  # type: ignore[attr-defined]
                raise translated from err
            except LabSqsError as err:  # e.g. EndpointUnavailable from the client
                err.report = state.report()  # type: ignore[attr-defined]
                raise
            state.requests += 1
            pending = state.settle(pending, answer, last_try=attempt >= max_retries)
            if pending:
                attempt += 1
                state.retried += len(pending)
                time.sleep(RETRY_BASE_DELAY_SECONDS * 2 ** (attempt - 1))
        done += len(batch)
        if progress is not None:
            progress(done, total)
    return state.report()
