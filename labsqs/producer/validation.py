"""What a message may be, checked before the first request: the body (JSON, characters, UTF-8 size),
message attributes (types, names, count), FIFO ids and options; a checked message is an
:class:`OutgoingMessage`, ready for a batch entry."""

from __future__ import annotations

import dataclasses
import decimal
import enum
import json
import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as dtime
from pathlib import PurePath
from typing import Any

from labsqs.base.limits import (
    MAX_ATTRIBUTE_NAME_CHARS,
    MAX_DELAY_SECONDS,
    MAX_FIFO_ID_CHARS,
    MAX_MESSAGE_ATTRIBUTES,
    MAX_MESSAGE_BYTES,
)
from labsqs.errors import FifoError, InvalidMessage, MessageTooLarge

_ILLEGAL_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# MessageGroupId / MessageDeduplicationId: alphanumerics and ASCII punctuation
_FIFO_ID = re.compile(r"[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]+")
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_.\-]+")
_RESERVED_ATTRIBUTE_PREFIXES = ("aws.", "amazon.")


@dataclass(frozen=True)
class Target:
    """What the producer knows of the queue it sends to (from the handle, or one ``GetQueueAttributes``)."""

    url: str
    fifo: bool
    content_based_dedup: bool | None  # None: unknown
    max_message_size_bytes: int | None  # None: unknown (SQS's ceiling applies locally)


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


def attributes_size(wire: Mapping[str, Mapping[str, Any]]) -> int:
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
    return _utf8_len(body) + attributes_size(message_attributes(attributes))


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


def prepare(
    index: int,
    body: Any,
    target: Target,
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
    limit = target.max_message_size_bytes or MAX_MESSAGE_BYTES
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


def check_fifo_options(
    target: Target,
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
