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
"""

from __future__ import annotations

import dataclasses
import decimal
import enum
import json
import math
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as dtime
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from labsqs.client import sqs_client
from labsqs.errors import (
    BatchError,
    FifoError,
    InvalidMessage,
    LabSqsError,
    MessageTooLarge,
    QueueNotFound,
)
from labsqs.queues import FIFO_SUFFIX, Queue, queue_missing, queue_url

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MAX_BATCH_ENTRIES = 10
MAX_BATCH_BYTES = 1_048_576  # sum of the message sizes in one SendMessageBatch
MAX_MESSAGE_SIZE_BYTES = 1_048_576  # SQS's ceiling; a queue may set a lower MaximumMessageSize
MAX_DELAY_SECONDS = 900
MAX_MESSAGE_ATTRIBUTES = 10
MAX_ATTRIBUTE_NAME_CHARS = 256
MAX_FIFO_ID_CHARS = 128  # MessageGroupId and MessageDeduplicationId
DEFAULT_MAX_RETRIES = 3
RETRY_BASE_DELAY_SECONDS = 0.05  # before retry n: base * 2**(n-1)

_ILLEGAL_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# MessageGroupId / MessageDeduplicationId: alphanumerics and ASCII punctuation
_FIFO_ID = re.compile(r"[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]+")
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_.\-]+")
_RESERVED_ATTRIBUTE_PREFIXES = ("aws.", "amazon.")


# --- results -------------------------------------------------------------------------------------
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


# --- bodies and attributes -----------------------------------------------------------------------
def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date | dtime):
        return value.isoformat()
    if isinstance(value, uuid.UUID | PurePath):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# one encoder, built once (json.dumps with options builds a new one per call: ~2 µs a message)
_JSON = json.JSONEncoder(ensure_ascii=False, default=_json_default)


def encode_body(body: Any) -> str:
    """The message body as text: a ``str`` as is; dicts, lists, dataclasses (via ``asdict``), numbers as
    JSON (datetimes as ISO 8601, UUIDs and Decimals as strings). Non-ASCII text is kept, not escaped, so
    the size you see is the size SQS counts."""
    if isinstance(body, str):
        return body
    if body is None:
        raise InvalidMessage("the message body is None", hint="send a string, a dict/list or a dataclass")
    if isinstance(body, bytes | bytearray | memoryview):
        raise InvalidMessage(
            "the message body is bytes; SQS bodies are text",
            hint="decode it, base64-encode it, or send the bytes as a Binary message attribute",
        )
    if dataclasses.is_dataclass(body) and not isinstance(body, type):
        body = dataclasses.asdict(body)
    try:
        return _JSON.encode(body)
    except (TypeError, ValueError) as err:
        raise InvalidMessage(
            f"cannot turn the body into JSON: {err}", hint="send a str, or a value json.dumps accepts"
        ) from err


def _check_text(text: str, what: str) -> None:
    bad = _ILLEGAL_CHAR.search(text)
    if bad is not None:
        raise InvalidMessage(
            f"{what} has an illegal character U+{ord(bad.group()):04X} at position {bad.start()} "
            "(0-based character index); SQS allows #x9, #xA, #xD, #x20–#xD7FF, #xE000–#xFFFD, "
            "#x10000–#x10FFFF",
            hint="remove or escape it (e.g. send JSON, which escapes control characters)",
            code="InvalidMessageContents",
        )


def _utf8_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def _number_text(value: int | float | decimal.Decimal, name: str) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidMessage(f"message attribute {name!r} is {value}; SQS numbers must be finite")
        text = repr(value)
        return format(decimal.Decimal(text), "f") if "e" in text or "E" in text else text
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise InvalidMessage(f"message attribute {name!r} is {value}; SQS numbers must be finite")
        return format(value, "f")
    return str(value)


def _check_attribute_name(name: Any) -> None:
    if not isinstance(name, str) or not name:
        raise InvalidMessage(f"message attribute names are non-empty strings, got {name!r}")
    problem = None
    if len(name) > MAX_ATTRIBUTE_NAME_CHARS:
        problem = f"is {len(name)} characters (max {MAX_ATTRIBUTE_NAME_CHARS})"
    elif not _ATTRIBUTE_NAME.fullmatch(name):
        problem = "may use only letters, digits, '_', '-' and '.'"
    elif name.lower().startswith(_RESERVED_ATTRIBUTE_PREFIXES):
        problem = "starts with 'AWS.' or 'Amazon.', which SQS reserves"
    elif name.startswith(".") or name.endswith(".") or ".." in name:
        problem = "may not start or end with '.' or contain '..'"
    if problem:
        raise InvalidMessage(f"message attribute name {name[:40]!r} {problem}", code="InvalidParameterValue")


def message_attributes(attributes: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Python values → SQS's wire shape: ``str`` → String, ``int``/``float``/``Decimal`` → Number,
    ``bytes`` → Binary. A value that already is a wire dict (``{"DataType": ...}``) passes through."""
    if not attributes:
        return {}
    if len(attributes) > MAX_MESSAGE_ATTRIBUTES:
        raise InvalidMessage(
            f"{len(attributes)} message attributes; SQS allows at most {MAX_MESSAGE_ATTRIBUTES}",
            hint="put the rest in the body",
        )
    wire: dict[str, dict[str, Any]] = {}
    for name, value in attributes.items():
        _check_attribute_name(name)
        if isinstance(value, Mapping) and "DataType" in value:
            wire[name] = dict(value)
            continue
        if isinstance(value, bool):
            raise InvalidMessage(
                f"message attribute {name!r} is a bool; SQS has no boolean type",
                hint='send "true"/"false" (String) or 1/0 (Number)',
            )
        if isinstance(value, str):
            if not value:
                raise InvalidMessage(f"message attribute {name!r} is empty; SQS needs a value")
            _check_text(value, f"message attribute {name!r}")
            wire[name] = {"DataType": "String", "StringValue": value}
        elif isinstance(value, int | float | decimal.Decimal):
            wire[name] = {"DataType": "Number", "StringValue": _number_text(value, name)}
        elif isinstance(value, bytes | bytearray | memoryview):
            if not len(value):
                raise InvalidMessage(f"message attribute {name!r} is empty; SQS needs a value")
            wire[name] = {"DataType": "Binary", "BinaryValue": bytes(value)}
        else:
            raise InvalidMessage(
                f"message attribute {name!r} is a {type(value).__name__}; use str, int, float or bytes"
            )
    return wire


def _attributes_size(wire: Mapping[str, Mapping[str, Any]]) -> int:
    size = 0
    for name, attr in wire.items():
        size += _utf8_len(name) + _utf8_len(str(attr.get("DataType", "")))
        if "StringValue" in attr:
            size += _utf8_len(str(attr["StringValue"]))
        elif "BinaryValue" in attr:
            size += len(attr["BinaryValue"])
    return size


def message_size_bytes(body: str, attributes: Mapping[str, Any] | None = None) -> int:
    """The size SQS counts: UTF-8 bytes of the body plus each attribute's name, data type and value.

    >>> message_size_bytes("é"), message_size_bytes("x", {"kind": "job"})
    (2, 14)
    """
    return _utf8_len(body) + _attributes_size(message_attributes(attributes))


# --- a prepared message and batch planning -------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A validated message, ready to be one entry of a ``SendMessageBatch`` (``id`` = input position)."""

    id: str
    body: str
    size_bytes: int
    attributes: Mapping[str, Mapping[str, Any]] | None = None
    group_id: str | None = None
    dedup_id: str | None = None
    delay_seconds: int | None = None

    def entry(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Id": self.id, "MessageBody": self.body}
        if self.attributes:
            out["MessageAttributes"] = self.attributes
        if self.group_id is not None:
            out["MessageGroupId"] = self.group_id
        if self.dedup_id is not None:
            out["MessageDeduplicationId"] = self.dedup_id
        if self.delay_seconds is not None:
            out["DelaySeconds"] = self.delay_seconds
        return out


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


# --- queue facts the producer needs --------------------------------------------------------------
@dataclass(frozen=True)
class _Target:
    url: str
    fifo: bool
    content_based_dedup: bool | None  # None: unknown
    max_message_size_bytes: int | None  # None: unknown (SQS's ceiling applies locally)


def _target(queue: Queue | str, sqs: SQSClient) -> _Target:
    if isinstance(queue, Queue):
        return _Target(queue.url, queue.fifo, queue.content_based_dedup, queue.max_message_size_bytes)
    url = queue_url(queue, sqs=sqs)
    return _Target(url, url.rstrip("/").endswith(FIFO_SUFFIX), None, None)


def _learn(target: _Target, sqs: SQSClient) -> _Target:
    """Fill in what the handle did not say — one ``GetQueueAttributes``, once per ``send_many``."""
    if target.max_message_size_bytes is not None and (
        not target.fifo or target.content_based_dedup is not None
    ):
        return target
    try:
        raw = sqs.get_queue_attributes(
            QueueUrl=target.url, AttributeNames=["MaximumMessageSize", "ContentBasedDeduplication"]
        ).get("Attributes", {})
    except ClientError as err:
        raise _translate(err, target.url) from err
    return dataclasses.replace(
        target,
        content_based_dedup=raw.get("ContentBasedDeduplication", "false").lower() == "true",
        max_message_size_bytes=int(raw.get("MaximumMessageSize", MAX_MESSAGE_SIZE_BYTES)),
    )


def _fifo_id(value: Any, what: str, position: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise FifoError(f"{position}: {what} must be a non-empty string, got {value!r}")
    if len(value) > MAX_FIFO_ID_CHARS or not _FIFO_ID.fullmatch(value):
        raise FifoError(
            f"{position}: {what} {value[:40]!r} must be 1–{MAX_FIFO_ID_CHARS} characters of letters, digits "
            "and ASCII punctuation",
            hint="hash long or non-ASCII keys (e.g. hashlib.sha256(key.encode()).hexdigest())",
            code="InvalidParameterValue",
        )
    return value


def _prepare(
    index: int,
    body: Any,
    target: _Target,
    wire: Mapping[str, Mapping[str, Any]] | None,
    attributes_size: int,
    *,
    group_id: Any,
    dedup_id: Any,
    delay_seconds: int | None,
    position: str,
) -> OutgoingMessage:
    text = encode_body(body)
    if not text:
        raise InvalidMessage(f"{position}: the message body is empty; SQS needs at least one character")
    _check_text(text, f"{position}: the body")
    size = _utf8_len(text) + attributes_size
    limit = target.max_message_size_bytes or MAX_MESSAGE_SIZE_BYTES
    if size > limit:
        raise MessageTooLarge(
            f"{position} is {size:,} bytes in UTF-8 (body {size - attributes_size:,} + attributes "
            f"{attributes_size:,}); the queue's limit is {limit:,} bytes",
            hint="shrink it, or store the payload elsewhere (e.g. S3) and send a pointer",
            code="MessageTooLong",
        )
    gid = _fifo_id(group_id, "MessageGroupId", position) if group_id is not None else None
    did = _fifo_id(dedup_id, "MessageDeduplicationId", position) if dedup_id is not None else None
    return OutgoingMessage(str(index), text, size, wire or None, gid, did, delay_seconds)


def _check_fifo_options(
    target: _Target,
    *,
    has_group: bool,
    has_dedup: bool,
    delay_seconds: int | None,
    group_arg: str,
    dedup_arg: str,
) -> None:
    if delay_seconds is not None and (
        isinstance(delay_seconds, bool)
        or not isinstance(delay_seconds, int)
        or not 0 <= delay_seconds <= MAX_DELAY_SECONDS
    ):
        raise InvalidMessage(f"delay_seconds={delay_seconds}; SQS allows 0–{MAX_DELAY_SECONDS}")
    if not target.fifo:
        if has_dedup:
            raise FifoError(
                f"{dedup_arg} only applies to FIFO queues, and {target.url} is a standard queue",
                hint="drop it (standard queues do not deduplicate; make the consumer idempotent instead)",
            )
        return
    if not has_group:
        raise FifoError(
            f"a FIFO queue needs a MessageGroupId on every message: pass {group_arg} "
            "(order is kept within a group; e.g. one group per user)",
            hint='group_by=lambda m: m["userId"] for send_many, group_id="user-42" for send',
        )
    if delay_seconds is not None:
        raise FifoError(
            "FIFO queues do not take a per-message delay",
            hint="set the queue's DelaySeconds (QueueSpec.delay_seconds) instead",
        )
    if not has_dedup and target.content_based_dedup is False:
        raise FifoError(
            f"the FIFO queue {target.url} has no content-based deduplication and no {dedup_arg} was given",
            hint=f"pass {dedup_arg} (a stable id of the logical message), or create the queue with "
            "QueueSpec(..., content_based_dedup=True)",
        )


# --- errors from SQS -----------------------------------------------------------------------------
def _translate(err: ClientError, url: str) -> Exception:
    """A ClientError as the lab's error when it is one a user can act on; otherwise the original."""
    error = err.response.get("Error", {})
    code, message = str(error.get("Code", "")), str(error.get("Message", ""))
    if queue_missing(err):
        return QueueNotFound(
            f"queue {url} does not exist on this endpoint",
            hint="create it with labsqs.queues.ensure_queue(QueueSpec(...)), or check the URL and the engine",
            code=code,
        )
    if code == "InvalidMessageContents":
        return InvalidMessage(message, code=code)
    if "shorter than" in message or code in ("MessageTooLong", "InvalidParameterValue.MessageTooLong"):
        return MessageTooLarge(
            message, hint="the queue's MaximumMessageSize is lower than the message", code=code
        )
    if "ContentBasedDeduplication" in message:
        return FifoError(
            f"the FIFO queue {url} has no content-based deduplication and no deduplication id was given "
            f"(SQS: {message})",
            hint="pass dedup_id= / dedup_by=, or create the queue with content_based_dedup=True",
            code=code,
        )
    if "MessageGroupId" in message:
        return FifoError(message, hint="pass group_id= / group_by= (e.g. one group per user)", code=code)
    if "BatchRequestTooLong" in code or "TooManyEntries" in code or "BatchEntryIds" in code:
        return BatchError(message, code=code)
    return err


# --- sending -------------------------------------------------------------------------------------
def send(
    queue: Queue | str,
    body: Any,
    *,
    attributes: Mapping[str, str | int | float | bytes] | None = None,
    delay_seconds: int | None = None,
    group_id: str | None = None,
    dedup_id: str | None = None,
    sqs: SQSClient | None = None,
) -> SendResult:
    """Send one message (one ``SendMessage`` request). In a loop, prefer :func:`send_many`.

    A FIFO queue without content-based deduplication needs ``dedup_id``; when the handle does not say
    whether the queue deduplicates by content (a URL), SQS's own refusal is raised as
    :class:`~labsqs.errors.FifoError` — no extra request is made to find out.
    """
    client = sqs if sqs is not None else sqs_client()
    target = _target(queue, client)
    _check_fifo_options(
        target,
        has_group=group_id is not None,
        has_dedup=dedup_id is not None,
        delay_seconds=delay_seconds,
        group_arg="group_id=",
        dedup_arg="dedup_id=",
    )
    wire = message_attributes(attributes)
    message = _prepare(
        0,
        body,
        target,
        wire,
        _attributes_size(wire),
        group_id=group_id,
        dedup_id=dedup_id,
        delay_seconds=delay_seconds,
        position="the message",
    )
    request = message.entry()
    del request["Id"]
    try:
        answer = client.send_message(QueueUrl=target.url, **request)
    except ClientError as err:
        raise _translate(err, target.url) from err
    return SendResult(
        "0", answer["MessageId"], answer.get("SequenceNumber"), answer.get("MD5OfMessageBody", "")
    )


def send_many(
    queue: Queue | str,
    bodies: Iterable[Any],
    *,
    attributes: Mapping[str, str | int | float | bytes] | None = None,
    group_by: Callable[[Any], str] | str | None = None,
    dedup_by: Callable[[Any], str] | None = None,
    delay_seconds: int | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    sqs: SQSClient | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BatchReport:
    """Send every body, ten per ``SendMessageBatch`` (and at most 1 MiB per request), in input order.

    ``attributes`` go on every message. FIFO: ``group_by(body)`` gives each message's group (a plain
    string puts them all in one group, explicitly); ``dedup_by(body)`` its deduplication id (omit it on a
    queue with content-based deduplication). Entries that fail for a reason other than the sender's fault
    are retried, alone, right after their batch (so they do not fall behind later batches), at most
    ``max_retries`` times. ``progress(done, total)`` is called after each batch.

    Costs one ``GetQueueAttributes`` when ``queue`` is not a handle from ``ensure_queue``/``get_queue``
    (to learn the size limit and, for FIFO, content-based deduplication), plus one ``GetQueueUrl`` for a
    bare name. If a request fails as a whole (the queue vanished, the endpoint died) the error is raised
    with ``err.report`` describing what was sent before.
    """
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise InvalidMessage(f"max_retries must be a whole number >= 0, got {max_retries!r}")
    client = sqs if sqs is not None else sqs_client()
    target = _target(queue, client)
    items = list(bodies)
    _check_fifo_options(
        target,
        has_group=group_by is not None,
        has_dedup=dedup_by is not None,
        delay_seconds=delay_seconds,
        group_arg="group_by=",
        dedup_arg="dedup_by=",
    )
    wire = message_attributes(attributes)
    attributes_size = _attributes_size(wire)
    if items:
        target = _learn(target, client)
        _check_fifo_options(  # again, now that content-based dedup is known
            target,
            has_group=group_by is not None,
            has_dedup=dedup_by is not None,
            delay_seconds=delay_seconds,
            group_arg="group_by=",
            dedup_arg="dedup_by=",
        )
    group_of: Callable[[Any], Any] | None
    group_of = (lambda _item, g=group_by: g) if isinstance(group_by, str) else group_by
    messages = [
        _prepare(
            i,
            item,
            target,
            wire,
            attributes_size,
            group_id=group_of(item) if group_of is not None else None,
            dedup_id=dedup_by(item) if dedup_by is not None else None,
            delay_seconds=delay_seconds,
            position=f"message #{i}",
        )
        for i, item in enumerate(items)
    ]
    return _send_batches(client, target.url, messages, max_retries=max_retries, progress=progress)


def _send_batches(
    client: SQSClient,
    url: str,
    messages: Sequence[OutgoingMessage],
    *,
    max_retries: int,
    progress: Callable[[int, int], None] | None,
) -> BatchReport:
    sent: dict[int, SendResult] = {}
    failed: dict[int, FailedEntry] = {}
    requests = retried = done = 0
    total = len(messages)

    def report() -> BatchReport:
        return BatchReport(
            sent=tuple(sent[k] for k in sorted(sent)),
            failed=tuple(failed[k] for k in sorted(failed)),
            requests=requests,
            retried=retried,
        )

    for batch in plan_batches(messages):
        pending = batch
        attempt = 0
        while pending:
            try:
                entries: list[Any] = [m.entry() for m in pending]
                answer = client.send_message_batch(QueueUrl=url, Entries=entries)
            except ClientError as err:
                translated = _translate(err, url)
                translated.report = report()  # type: ignore[attr-defined]
                raise translated from err
            except LabSqsError as err:  # e.g. EndpointUnavailable from the client
                err.report = report()  # type: ignore[attr-defined]
                raise
            requests += 1
            by_id = {m.id: m for m in pending}
            for ok in answer.get("Successful", []):
                if by_id.pop(ok["Id"], None) is not None:
                    sent[int(ok["Id"])] = SendResult(
                        ok["Id"], ok["MessageId"], ok.get("SequenceNumber"), ok.get("MD5OfMessageBody", "")
                    )
            retry: list[OutgoingMessage] = []
            for bad in answer.get("Failed", []):
                message = by_id.pop(bad["Id"], None)
                if message is None:
                    continue
                sender_fault = bool(bad.get("SenderFault"))
                if sender_fault or attempt >= max_retries:
                    failed[int(bad["Id"])] = FailedEntry(
                        bad["Id"], str(bad.get("Code", "")), str(bad.get("Message", "")), sender_fault
                    )
                else:
                    retry.append(message)
            for lost in by_id.values():  # neither Successful nor Failed: treat as a failure, don't guess
                failed[int(lost.id)] = FailedEntry(
                    lost.id, "MissingFromResponse", "SQS did not report it", False
                )
            if retry:
                attempt += 1
                retried += len(retry)
                retry.sort(key=lambda m: int(m.id))  # keep input order among the retried
                time.sleep(RETRY_BASE_DELAY_SECONDS * 2 ** (attempt - 1))
            pending = retry
        done += len(batch)
        if progress is not None:
            progress(done, total)
    return report()
