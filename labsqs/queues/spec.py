"""What a queue should look like (:class:`QueueSpec`, validated before any request), and the handle to
one that exists (:class:`Queue`)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from labsqs.base.calls import queue_name
from labsqs.base.limits import (
    FIFO_SUFFIX,
    MAX_DELAY_SECONDS,
    MAX_MAX_RECEIVE_COUNT,
    MAX_MESSAGE_BYTES,
    MAX_QUEUE_NAME_CHARS,
    MAX_RETENTION_SECONDS,
    MAX_TAG_KEY_CHARS,
    MAX_TAG_VALUE_CHARS,
    MAX_TAGS,
    MAX_VISIBILITY_TIMEOUT_SECONDS,
    MAX_WAIT_TIME_SECONDS,
    MIN_DELAY_SECONDS,
    MIN_MAX_RECEIVE_COUNT,
    MIN_MESSAGE_SIZE_BYTES,
    MIN_RETENTION_SECONDS,
    MIN_VISIBILITY_TIMEOUT_SECONDS,
    MIN_WAIT_TIME_SECONDS,
)
from labsqs.errors import InvalidAttribute, InvalidQueueName

DLQ_SUFFIX = "-dlq"

_NAME_CHARS = re.compile(r"[A-Za-z0-9_-]+")
_BAD_NAME_CHAR = re.compile(r"[^A-Za-z0-9_-]")

arn_name = queue_name  # the queue name at the end of an SQS ARN (``arn:aws:sqs:region:account:name``)


# --- a hashable, read-only mapping (frozen dataclasses stay hashable) -----------------------------
class FrozenMap(Mapping[str, str]):
    """A read-only ``dict`` that can be hashed: ``QueueSpec.tags`` and ``QueueAttributes.raw``."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, str] | None = None) -> None:
        self._data = dict(data or {})

    def __getitem__(self, key: str) -> str:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return repr(self._data)


# --- the spec and the handle ---------------------------------------------------------------------
@dataclass(frozen=True)
class QueueSpec:
    """What a queue should look like. Defaults are the seeds' values (60 s visibility, 1 day retention,
    20 s long poll, DLQ after 3 receives).

    >>> QueueSpec("resume-updates.fifo", content_based_dedup=True).dlq_name
    'resume-updates-dlq.fifo'
    """

    name: str
    visibility_timeout_seconds: int = 60
    retention_seconds: int = 86_400
    receive_wait_seconds: int = 20
    delay_seconds: int = 0
    max_message_size_bytes: int = MAX_MESSAGE_BYTES
    content_based_dedup: bool = False
    high_throughput: bool = False
    with_dlq: bool = True
    max_receive_count: int = 3
    dlq_retention_seconds: int = MAX_RETENTION_SECONDS
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.tags, FrozenMap):
            object.__setattr__(self, "tags", FrozenMap(self.tags))

    @property
    def fifo(self) -> bool:
        return self.name.endswith(FIFO_SUFFIX)

    @property
    def dlq_name(self) -> str:
        """``<name>-dlq``, or ``<base>-dlq.fifo`` for a FIFO queue (a FIFO queue's DLQ is FIFO)."""
        return dlq_name_for(self.name)


def dlq_name_for(name: str) -> str:
    """The lab's DLQ name for a queue name: ``orders`` → ``orders-dlq``, ``a.fifo`` → ``a-dlq.fifo``."""
    if name.endswith(FIFO_SUFFIX):
        return name[: -len(FIFO_SUFFIX)] + DLQ_SUFFIX + FIFO_SUFFIX
    return name + DLQ_SUFFIX


@dataclass(frozen=True)
class Queue:
    """A handle to a queue that exists: pass it to ``send``, ``send_many``, the consumer, ``delete_queue``.

    ``content_based_dedup`` and ``max_message_size_bytes`` are filled in by :func:`ensure_queue` and
    :func:`get_queue` so the producer can check FIFO dedup and message sizes without asking SQS again;
    ``None`` means "not known" (the producer then asks once per ``send_many``).
    """

    name: str
    url: str
    arn: str
    fifo: bool
    dlq_url: str | None = None
    dlq_arn: str | None = None
    content_based_dedup: bool | None = None
    max_message_size_bytes: int | None = None

    @property
    def dlq(self) -> Queue | None:
        """The dead-letter queue as a handle of its own (None when the queue has no DLQ)."""
        if self.dlq_url is None or self.dlq_arn is None:
            return None
        return Queue(name=arn_name(self.dlq_arn), url=self.dlq_url, arn=self.dlq_arn, fifo=self.fifo)


# --- validation ----------------------------------------------------------------------------------
def validate_queue_name(name: str, *, fifo: bool | None = None) -> None:
    """Raise :class:`InvalidQueueName` unless ``name`` is a legal SQS queue name.

    1–80 characters (the ``.fifo`` suffix included) of ``A-Z a-z 0-9 _ -``; FIFO queue names end in
    ``.fifo``. ``fifo=True``/``False`` also checks the suffix matches the kind of queue asked for.
    """
    if not isinstance(name, str):
        raise InvalidQueueName(f"a queue name is a string, got {type(name).__name__} {name!r}")
    if not name:
        raise InvalidQueueName("the queue name is empty", hint="SQS names are 1–80 characters")
    if len(name) > MAX_QUEUE_NAME_CHARS:
        raise InvalidQueueName(
            f"queue name {name[:20]}… is {len(name)} characters; SQS allows 1–{MAX_QUEUE_NAME_CHARS} "
            f"(the {FIFO_SUFFIX} suffix included)",
            hint="shorten the name",
        )
    has_suffix = name.endswith(FIFO_SUFFIX)
    base = name[: -len(FIFO_SUFFIX)] if has_suffix else name
    if fifo is True and not has_suffix:
        raise InvalidQueueName(
            f"FIFO queue names end in {FIFO_SUFFIX}: {name!r} does not",
            hint=f"use {base[: MAX_QUEUE_NAME_CHARS - len(FIFO_SUFFIX)] + FIFO_SUFFIX!r}",
        )
    if fifo is False and has_suffix:
        raise InvalidQueueName(
            f"{name!r} ends in {FIFO_SUFFIX}, which SQS reserves for FIFO queues, but a standard queue "
            "was asked for",
            hint=f"drop the suffix ({base!r}) or create a FIFO queue",
        )
    if not base:
        raise InvalidQueueName(
            f"{name!r} has nothing before {FIFO_SUFFIX}", hint="add a name before the suffix"
        )
    if not _NAME_CHARS.fullmatch(base):
        bad = _BAD_NAME_CHAR.search(base)
        assert bad is not None
        raise InvalidQueueName(
            f"queue name {name!r} has {bad.group()!r} at position {bad.start()}; SQS allows only "
            "letters, digits, '_' and '-'"
            + (f" (and the {FIFO_SUFFIX} suffix)" if "." in bad.group() else ""),
            hint="replace it, e.g. with '-'",
        )


def _check_range(field_name: str, aws_name: str, value: Any, low: int, high: int, unit: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAttribute(
            f"{field_name} ({aws_name}) must be a whole number of {unit}, got {value!r}", code=aws_name
        )
    if not low <= value <= high:
        raise InvalidAttribute(
            f"{field_name}={value} is out of range: SQS allows {aws_name} from {low:,} to {high:,} {unit}",
            hint=f"pick a value in {low:,}–{high:,}",
            code=aws_name,
        )


_RANGES = (  # spec field, SQS attribute, lowest, highest, unit
    ("visibility_timeout_seconds", "VisibilityTimeout", MIN_VISIBILITY_TIMEOUT_SECONDS,
     MAX_VISIBILITY_TIMEOUT_SECONDS, "seconds"),
    ("retention_seconds", "MessageRetentionPeriod", MIN_RETENTION_SECONDS, MAX_RETENTION_SECONDS, "seconds"),
    ("receive_wait_seconds", "ReceiveMessageWaitTimeSeconds", MIN_WAIT_TIME_SECONDS, MAX_WAIT_TIME_SECONDS,
     "seconds"),
    ("delay_seconds", "DelaySeconds", MIN_DELAY_SECONDS, MAX_DELAY_SECONDS, "seconds"),
    ("max_message_size_bytes", "MaximumMessageSize", MIN_MESSAGE_SIZE_BYTES, MAX_MESSAGE_BYTES, "bytes"),
)  # fmt: skip


def validate_spec(spec: QueueSpec) -> None:
    """Raise :class:`InvalidQueueName` / :class:`InvalidAttribute` for anything SQS would refuse."""
    validate_queue_name(spec.name)
    for field_name, aws_name, low, high, unit in _RANGES:
        _check_range(field_name, aws_name, getattr(spec, field_name), low, high, unit)
    if not spec.fifo:
        _check_standard_flags(spec)
    if spec.with_dlq:
        _check_dlq(spec)
    _check_tags(spec)


def _check_standard_flags(spec: QueueSpec) -> None:
    for flag, aws in (("content_based_dedup", "ContentBasedDeduplication"), ("high_throughput", "FifoQueue")):
        if getattr(spec, flag):
            raise InvalidAttribute(
                f"{flag}=True needs a FIFO queue, and {spec.name!r} is a standard queue",
                hint=f"name the queue {spec.name + FIFO_SUFFIX!r} to make it FIFO, or drop {flag}",
                code=aws,
            )


def _check_dlq(spec: QueueSpec) -> None:
    _check_range(
        "max_receive_count", "RedrivePolicy.maxReceiveCount", spec.max_receive_count,
        MIN_MAX_RECEIVE_COUNT, MAX_MAX_RECEIVE_COUNT, "receives",
    )  # fmt: skip
    _check_range(
        "dlq_retention_seconds", "MessageRetentionPeriod (DLQ)", spec.dlq_retention_seconds,
        MIN_RETENTION_SECONDS, MAX_RETENTION_SECONDS, "seconds",
    )  # fmt: skip
    if len(spec.dlq_name) > MAX_QUEUE_NAME_CHARS:
        raise InvalidQueueName(
            f"the DLQ name {spec.dlq_name!r} would be {len(spec.dlq_name)} characters "
            f"(max {MAX_QUEUE_NAME_CHARS})",
            hint=f"shorten the queue name to leave room for {DLQ_SUFFIX!r}, or set with_dlq=False",
        )


def _check_tags(spec: QueueSpec) -> None:
    if len(spec.tags) > MAX_TAGS:
        raise InvalidAttribute(f"{len(spec.tags)} tags; SQS allows at most {MAX_TAGS} per queue", code="Tags")
    for key, value in spec.tags.items():
        if not isinstance(key, str) or not 1 <= len(key) <= MAX_TAG_KEY_CHARS:
            raise InvalidAttribute(f"tag key {key!r} must be 1–{MAX_TAG_KEY_CHARS} characters", code="Tags")
        if not isinstance(value, str) or len(value) > MAX_TAG_VALUE_CHARS:
            raise InvalidAttribute(
                f"tag {key!r} has value {value!r}; values are strings of 0–{MAX_TAG_VALUE_CHARS} characters",
                code="Tags",
            )
