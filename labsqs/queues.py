"""Queues: what a queue *is* in SQS, and creating one the way production code should.

A queue is a named, durable buffer with a handful of **attributes** that decide how messages move:

``VisibilityTimeout`` (0–43,200 s)
    after a consumer receives a message, the message stays in the queue but is hidden from other
    consumers for this long. Delete it before the timeout runs out, or it becomes visible again and is
    delivered once more (that is how SQS retries).
``MessageRetentionPeriod`` (60 s – 14 days)
    a message nobody deletes is dropped after this long.
``ReceiveMessageWaitTimeSeconds`` (0–20 s)
    the default long poll: an empty queue answers a receive only after waiting up to this long for a
    message, so idle consumers make few (billed) empty requests.
``DelaySeconds`` (0–900 s)
    every new message stays invisible this long before its first delivery.
``MaximumMessageSize`` (1 KiB – 1 MiB)
    counted in UTF-8 bytes of the body *plus* the message attributes.

A **FIFO** queue (its name ends in ``.fifo``) delivers messages of one *message group* in order and
drops duplicates sent within 5 minutes — by an explicit deduplication id, or, with
``ContentBasedDeduplication``, by the SHA-256 of the body. *High throughput* FIFO
(``DeduplicationScope=messageGroup`` + ``FifoThroughputLimit=perMessageGroupId``) scales per group.

A **dead-letter queue** (DLQ) catches the messages consumers keep failing on. The source queue's
``RedrivePolicy`` says where (``deadLetterTargetArn``) and after how many receives
(``maxReceiveCount``); the DLQ's ``RedriveAllowPolicy`` says which source queues may use it
(``byQueue`` with their ARNs). The DLQ of a FIFO queue must be FIFO too. A DLQ usually keeps messages
longer than its source (here 14 days), so someone has time to look at them.

:func:`ensure_queue` turns a :class:`QueueSpec` into that whole setup — queue, DLQ, both policies — and is
idempotent: run it again and it returns the same :class:`Queue`; if the queue exists with *other*
attributes it refuses (:class:`~labsqs.errors.QueueAttributesMismatch`) and lists every difference,
because silently reusing a queue with a 30 s visibility timeout when you asked for 60 s is how
duplicate processing starts. Everything is validated before the first request.

>>> from labsqs.queues import QueueSpec, ensure_queue, queue_attributes
>>> q = ensure_queue(QueueSpec("jobs-to-filter"))        # + jobs-to-filter-dlq, maxReceiveCount 3
>>> queue_attributes(q).visibility_timeout_seconds
60
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from labsqs.client import sqs_client
from labsqs.errors import InvalidAttribute, InvalidQueueName, QueueAttributesMismatch, QueueNotFound

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

# --- SQS limits ----------------------------------------------------------------------------------
MAX_QUEUE_NAME_CHARS = 80  # including the ".fifo" suffix
FIFO_SUFFIX = ".fifo"
DLQ_SUFFIX = "-dlq"
MIN_VISIBILITY_TIMEOUT_SECONDS, MAX_VISIBILITY_TIMEOUT_SECONDS = 0, 43_200
MIN_RETENTION_SECONDS, MAX_RETENTION_SECONDS = 60, 1_209_600
MIN_DELAY_SECONDS, MAX_DELAY_SECONDS = 0, 900
MIN_RECEIVE_WAIT_SECONDS, MAX_RECEIVE_WAIT_SECONDS = 0, 20
MIN_MESSAGE_SIZE_BYTES, MAX_MESSAGE_SIZE_BYTES = 1_024, 1_048_576
MIN_MAX_RECEIVE_COUNT, MAX_MAX_RECEIVE_COUNT = 1, 1_000
MAX_REDRIVE_SOURCE_QUEUES = 10  # sourceQueueArns of a byQueue RedriveAllowPolicy
MAX_TAGS = 50
MAX_TAG_KEY_CHARS, MAX_TAG_VALUE_CHARS = 128, 256

NON_EXISTENT_QUEUE_CODES = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"})
QUEUE_EXISTS_CODES = frozenset({"QueueAlreadyExists", "QueueNameExists"})

_NAME_CHARS = re.compile(r"[A-Za-z0-9_-]+")
_BAD_NAME_CHAR = re.compile(r"[^A-Za-z0-9_-]")


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
    max_message_size_bytes: int = MAX_MESSAGE_SIZE_BYTES
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


# --- parsed attributes ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RedrivePolicy:
    """A source queue's ``RedrivePolicy``: after ``max_receive_count`` receives, move to the DLQ."""

    dead_letter_target_arn: str
    max_receive_count: int

    @property
    def dlq_name(self) -> str:
        return arn_name(self.dead_letter_target_arn)

    def to_json(self) -> str:
        return json.dumps(
            {"deadLetterTargetArn": self.dead_letter_target_arn, "maxReceiveCount": self.max_receive_count}
        )

    @classmethod
    def parse(cls, text: str) -> RedrivePolicy:
        data = json.loads(text)
        return cls(str(data["deadLetterTargetArn"]), int(data["maxReceiveCount"]))


@dataclass(frozen=True)
class RedriveAllowPolicy:
    """A DLQ's ``RedriveAllowPolicy``: which source queues may send it their failures."""

    permission: str  # "allowAll" | "denyAll" | "byQueue"
    source_queue_arns: tuple[str, ...] = ()

    def allows(self, source_arn: str) -> bool:
        if self.permission == "allowAll":
            return True
        return self.permission == "byQueue" and source_arn in self.source_queue_arns

    def to_json(self) -> str:
        data: dict[str, Any] = {"redrivePermission": self.permission}
        if self.permission == "byQueue":
            data["sourceQueueArns"] = list(self.source_queue_arns)
        return json.dumps(data)

    @classmethod
    def parse(cls, text: str) -> RedriveAllowPolicy:
        data = json.loads(text)
        return cls(str(data["redrivePermission"]), tuple(data.get("sourceQueueArns") or ()))


@dataclass(frozen=True)
class QueueAttributes:
    """``GetQueueAttributes`` as typed values: seconds and bytes as ints, policies as dataclasses,
    timestamps as UTC datetimes. ``raw`` keeps every attribute exactly as SQS sent it."""

    name: str
    url: str
    arn: str
    fifo: bool
    visibility_timeout_seconds: int
    retention_seconds: int
    receive_wait_seconds: int
    delay_seconds: int
    max_message_size_bytes: int
    content_based_dedup: bool
    deduplication_scope: str | None  # FIFO: "queue" | "messageGroup"
    fifo_throughput_limit: str | None  # FIFO: "perQueue" | "perMessageGroupId"
    redrive_policy: RedrivePolicy | None
    redrive_allow_policy: RedriveAllowPolicy | None
    approximate_number_of_messages: int  # visible, waiting to be received
    approximate_number_of_messages_not_visible: int  # in flight: received, not yet deleted
    approximate_number_of_messages_delayed: int  # sent with a delay that has not passed yet
    created_at: datetime | None
    modified_at: datetime | None
    sqs_managed_sse: bool | None
    kms_master_key_id: str | None
    raw: Mapping[str, str]

    @property
    def high_throughput(self) -> bool:
        return (
            self.deduplication_scope == "messageGroup" and self.fifo_throughput_limit == "perMessageGroupId"
        )

    @classmethod
    def parse(cls, url: str, raw: Mapping[str, str]) -> QueueAttributes:
        def num(key: str, default: int = 0) -> int:
            return int(raw[key]) if key in raw else default

        def when(key: str) -> datetime | None:
            return datetime.fromtimestamp(float(raw[key]), tz=UTC) if key in raw else None

        def flag(key: str) -> bool | None:
            return raw[key].lower() == "true" if key in raw else None

        arn = raw.get("QueueArn", "")
        name = arn_name(arn) if arn else url.rstrip("/").rsplit("/", 1)[-1]
        return cls(
            name=name,
            url=url,
            arn=arn,
            fifo=bool(flag("FifoQueue")) or name.endswith(FIFO_SUFFIX),
            visibility_timeout_seconds=num("VisibilityTimeout", 30),
            retention_seconds=num("MessageRetentionPeriod", 345_600),
            receive_wait_seconds=num("ReceiveMessageWaitTimeSeconds"),
            delay_seconds=num("DelaySeconds"),
            max_message_size_bytes=num("MaximumMessageSize", MAX_MESSAGE_SIZE_BYTES),
            content_based_dedup=bool(flag("ContentBasedDeduplication")),
            deduplication_scope=raw.get("DeduplicationScope"),
            fifo_throughput_limit=raw.get("FifoThroughputLimit"),
            redrive_policy=RedrivePolicy.parse(raw["RedrivePolicy"]) if raw.get("RedrivePolicy") else None,
            redrive_allow_policy=(
                RedriveAllowPolicy.parse(raw["RedriveAllowPolicy"]) if raw.get("RedriveAllowPolicy") else None
            ),
            approximate_number_of_messages=num("ApproximateNumberOfMessages"),
            approximate_number_of_messages_not_visible=num("ApproximateNumberOfMessagesNotVisible"),
            approximate_number_of_messages_delayed=num("ApproximateNumberOfMessagesDelayed"),
            created_at=when("CreatedTimestamp"),
            modified_at=when("LastModifiedTimestamp"),
            sqs_managed_sse=flag("SqsManagedSseEnabled"),
            kms_master_key_id=raw.get("KmsMasterKeyId"),
            raw=FrozenMap(raw),
        )


# --- small helpers -------------------------------------------------------------------------------
def arn_name(arn: str) -> str:
    """The queue name at the end of an SQS ARN (``arn:aws:sqs:region:account:name``)."""
    return arn.rsplit(":", 1)[-1]


def queue_missing(err: ClientError) -> bool:
    """True when SQS answered "this queue does not exist" (old and new error codes)."""
    return err.response.get("Error", {}).get("Code", "") in NON_EXISTENT_QUEUE_CODES


def _not_found(what: str, err: ClientError | None = None) -> QueueNotFound:
    code = err.response.get("Error", {}).get("Code") if err is not None else None
    return QueueNotFound(
        f"queue {what} does not exist on this endpoint",
        hint="create it with labsqs.queues.ensure_queue(QueueSpec(...)), or check the name and the engine "
        "(`labsqs status` lists the queues)",
        code=code,
    )


def queue_url(queue: Queue | str, *, sqs: SQSClient | None = None) -> str:
    """The URL of a queue given as a :class:`Queue`, a URL, or a bare name (one ``GetQueueUrl``)."""
    if isinstance(queue, Queue):
        return queue.url
    url = getattr(queue, "url", None)  # any handle-like object
    if isinstance(url, str):
        return url
    if not isinstance(queue, str) or not queue:
        raise InvalidQueueName(
            f"expected a Queue, a queue URL or a queue name, got {queue!r}",
            hint="get a handle with labsqs.queues.get_queue(name) or ensure_queue(QueueSpec(name))",
        )
    if "://" in queue:
        return queue
    validate_queue_name(queue)
    client = sqs or sqs_client()
    try:
        return client.get_queue_url(QueueName=queue)["QueueUrl"]
    except ClientError as err:
        if queue_missing(err):
            raise _not_found(repr(queue), err) from err
        raise


def _client(sqs: SQSClient | None) -> SQSClient:
    return sqs if sqs is not None else sqs_client()


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


def validate_spec(spec: QueueSpec) -> None:
    """Raise :class:`InvalidQueueName` / :class:`InvalidAttribute` for anything SQS would refuse."""
    validate_queue_name(spec.name)
    _check_range(
        "visibility_timeout_seconds",
        "VisibilityTimeout",
        spec.visibility_timeout_seconds,
        MIN_VISIBILITY_TIMEOUT_SECONDS,
        MAX_VISIBILITY_TIMEOUT_SECONDS,
        "seconds",
    )
    _check_range(
        "retention_seconds",
        "MessageRetentionPeriod",
        spec.retention_seconds,
        MIN_RETENTION_SECONDS,
        MAX_RETENTION_SECONDS,
        "seconds",
    )
    _check_range(
        "receive_wait_seconds",
        "ReceiveMessageWaitTimeSeconds",
        spec.receive_wait_seconds,
        MIN_RECEIVE_WAIT_SECONDS,
        MAX_RECEIVE_WAIT_SECONDS,
        "seconds",
    )
    _check_range(
        "delay_seconds", "DelaySeconds", spec.delay_seconds, MIN_DELAY_SECONDS, MAX_DELAY_SECONDS, "seconds"
    )
    _check_range(
        "max_message_size_bytes",
        "MaximumMessageSize",
        spec.max_message_size_bytes,
        MIN_MESSAGE_SIZE_BYTES,
        MAX_MESSAGE_SIZE_BYTES,
        "bytes",
    )
    if not spec.fifo:
        for flag, aws in (
            ("content_based_dedup", "ContentBasedDeduplication"),
            ("high_throughput", "FifoQueue"),
        ):
            if getattr(spec, flag):
                raise InvalidAttribute(
                    f"{flag}=True needs a FIFO queue, and {spec.name!r} is a standard queue",
                    hint=f"name the queue {spec.name + FIFO_SUFFIX!r} to make it FIFO, or drop {flag}",
                    code=aws,
                )
    if spec.with_dlq:
        _check_range(
            "max_receive_count",
            "RedrivePolicy.maxReceiveCount",
            spec.max_receive_count,
            MIN_MAX_RECEIVE_COUNT,
            MAX_MAX_RECEIVE_COUNT,
            "receives",
        )
        _check_range(
            "dlq_retention_seconds",
            "MessageRetentionPeriod (DLQ)",
            spec.dlq_retention_seconds,
            MIN_RETENTION_SECONDS,
            MAX_RETENTION_SECONDS,
            "seconds",
        )
        if len(spec.dlq_name) > MAX_QUEUE_NAME_CHARS:
            raise InvalidQueueName(
                f"the DLQ name {spec.dlq_name!r} would be {len(spec.dlq_name)} characters "
                f"(max {MAX_QUEUE_NAME_CHARS})",
                hint=f"shorten the queue name to leave room for {DLQ_SUFFIX!r}, or set with_dlq=False",
            )
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


# --- what the spec means on the wire -------------------------------------------------------------
# spec field -> SQS attribute, for the attributes ensure_queue sets and compares
_FIELDS = (
    ("visibility_timeout_seconds", "VisibilityTimeout"),
    ("retention_seconds", "MessageRetentionPeriod"),
    ("receive_wait_seconds", "ReceiveMessageWaitTimeSeconds"),
    ("delay_seconds", "DelaySeconds"),
    ("max_message_size_bytes", "MaximumMessageSize"),
)


def _wire_bool(value: bool) -> str:
    return "true" if value else "false"


def _queue_attributes_for(spec: QueueSpec) -> dict[str, str]:
    attrs = {aws: str(getattr(spec, f)) for f, aws in _FIELDS}
    if spec.fifo:
        attrs["FifoQueue"] = "true"
        attrs["ContentBasedDeduplication"] = _wire_bool(spec.content_based_dedup)
        attrs["DeduplicationScope"] = "messageGroup" if spec.high_throughput else "queue"
        attrs["FifoThroughputLimit"] = "perMessageGroupId" if spec.high_throughput else "perQueue"
    return attrs


def _dlq_attributes_for(spec: QueueSpec) -> dict[str, str]:
    attrs = {"MessageRetentionPeriod": str(spec.dlq_retention_seconds)}
    if spec.fifo:
        attrs["FifoQueue"] = "true"
    return attrs


def _differences(label: str, wanted: Mapping[str, str], actual: Mapping[str, str]) -> list[str]:
    """``["VisibilityTimeout: queue has 30, spec wants 60", ...]`` for attributes that differ."""
    out = []
    for key, want in wanted.items():
        have = actual.get(key)
        if have is None and key in ("DeduplicationScope", "FifoThroughputLimit", "ContentBasedDeduplication"):
            # some engines omit FIFO attributes at their defaults
            have = {"DeduplicationScope": "queue", "FifoThroughputLimit": "perQueue"}.get(key, "false")
        if have is None or have.lower() != want.lower():
            out.append(
                f"{label}{key}: queue has {have if have is not None else '(unset)'}, spec wants {want}"
            )
    return out


# --- requests ------------------------------------------------------------------------------------
def _find_url(sqs: SQSClient, name: str) -> str | None:
    try:
        return sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except ClientError as err:
        if queue_missing(err):
            return None
        raise


def _require_url(sqs: SQSClient, name: str) -> str:
    """The URL of a queue that must exist (it was just reported as existing)."""
    url = _find_url(sqs, name)
    if url is None:  # created and deleted again by someone else in between
        raise _not_found(repr(name))
    return url


def _all_attributes(sqs: SQSClient, url: str) -> dict[str, str]:
    try:
        answer = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
        return {str(k): v for k, v in answer.get("Attributes", {}).items()}
    except ClientError as err:
        if queue_missing(err):
            raise _not_found(url, err) from err
        raise


def _create(sqs: SQSClient, name: str, attributes: Mapping[str, str], tags: Mapping[str, str]) -> str | None:
    """CreateQueue; None when a queue of that name appeared meanwhile with other attributes."""
    kwargs: dict[str, Any] = {"QueueName": name, "Attributes": dict(attributes)}
    if tags:
        kwargs["tags"] = dict(tags)
    try:
        return sqs.create_queue(**kwargs)["QueueUrl"]
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in QUEUE_EXISTS_CODES:
            return None
        raise


def _mismatch(spec: QueueSpec, diffs: list[str]) -> QueueAttributesMismatch:
    err = QueueAttributesMismatch(
        f"queue {spec.name!r} already exists with other attributes: " + "; ".join(diffs),
        hint="change the QueueSpec to match, or delete the queue first (labsqs.queues.delete_queue) "
        "— on AWS wait 60 s before re-creating a queue of the same name",
        code="QueueAlreadyExists",
    )
    err.differences = tuple(diffs)  # type: ignore[attr-defined]
    return err


def ensure_queue(spec: QueueSpec, *, sqs: SQSClient | None = None) -> Queue:
    """Create the queue of ``spec`` with its DLQ and redrive policies, or return it if it already exists
    exactly as specified.

    Order: the DLQ first (a RedrivePolicy needs its ARN), then the queue with
    ``RedrivePolicy={deadLetterTargetArn, maxReceiveCount}``, then the DLQ's
    ``RedriveAllowPolicy=byQueue[<queue ARN>]``. Raises :class:`~labsqs.errors.QueueAttributesMismatch`
    naming every attribute that differs (of the queue and of its DLQ) — nothing is changed then.
    """
    validate_spec(spec)
    client = _client(sqs)
    wanted = _queue_attributes_for(spec)
    url = _find_url(client, spec.name)
    if url is not None:
        return _adopt_existing(client, spec, url, wanted)

    dlq_url = dlq_arn = None
    if spec.with_dlq:
        dlq_url, dlq_raw = _ensure_dlq(client, spec)
        dlq_arn = dlq_raw["QueueArn"]
        wanted = {
            **wanted,
            "RedrivePolicy": RedrivePolicy(dlq_arn, spec.max_receive_count).to_json(),
        }
    url = _create(client, spec.name, wanted, spec.tags)
    if url is None:  # created concurrently by someone else: compare like any existing queue
        return _adopt_existing(client, spec, _require_url(client, spec.name), _queue_attributes_for(spec))
    arn = _all_attributes(client, url)["QueueArn"]
    if dlq_url is not None:
        _allow_source(client, dlq_url, dlq_raw, arn)
    return _handle(spec, url, arn, dlq_url, dlq_arn)


def _ensure_dlq(client: SQSClient, spec: QueueSpec) -> tuple[str, dict[str, str]]:
    wanted = _dlq_attributes_for(spec)
    url = _find_url(client, spec.dlq_name)
    if url is None:
        url = _create(client, spec.dlq_name, wanted, spec.tags)
        if url is None:
            url = _require_url(client, spec.dlq_name)
    raw = _all_attributes(client, url)
    diffs = _differences(f"DLQ {spec.dlq_name} ", wanted, raw)
    if diffs:
        raise _mismatch(spec, diffs)
    return url, raw


def _allow_source(client: SQSClient, dlq_url: str, dlq_raw: Mapping[str, str], source_arn: str) -> None:
    """Set the DLQ's RedriveAllowPolicy to byQueue, keeping sources it already allowed by name."""
    current = dlq_raw.get("RedriveAllowPolicy")
    sources: tuple[str, ...] = ()
    if current:
        policy = RedriveAllowPolicy.parse(current)
        if policy.permission == "byQueue":
            sources = policy.source_queue_arns
    if source_arn in sources:
        return
    sources = (*sources, source_arn)[-MAX_REDRIVE_SOURCE_QUEUES:]
    client.set_queue_attributes(
        QueueUrl=dlq_url, Attributes={"RedriveAllowPolicy": RedriveAllowPolicy("byQueue", sources).to_json()}
    )


def _handle(spec: QueueSpec, url: str, arn: str, dlq_url: str | None, dlq_arn: str | None) -> Queue:
    """The handle ensure_queue returns: what the producer needs to know comes from the spec (no request)."""
    return Queue(
        name=spec.name,
        url=url,
        arn=arn,
        fifo=spec.fifo,
        dlq_url=dlq_url,
        dlq_arn=dlq_arn,
        content_based_dedup=spec.content_based_dedup if spec.fifo else None,
        max_message_size_bytes=spec.max_message_size_bytes,
    )


def _adopt_existing(client: SQSClient, spec: QueueSpec, url: str, wanted: Mapping[str, str]) -> Queue:
    raw = _all_attributes(client, url)
    arn = raw["QueueArn"]
    diffs = _differences("", wanted, raw)
    current_redrive = RedrivePolicy.parse(raw["RedrivePolicy"]) if raw.get("RedrivePolicy") else None
    dlq_url = dlq_arn = None
    dlq_raw: dict[str, str] = {}
    if spec.with_dlq:
        if current_redrive is None:
            diffs.append(
                f"RedrivePolicy: queue has none, spec wants maxReceiveCount={spec.max_receive_count} "
                f"to {spec.dlq_name}"
            )
        else:
            if current_redrive.dlq_name != spec.dlq_name:
                diffs.append(
                    f"RedrivePolicy.deadLetterTargetArn: queue sends to {current_redrive.dlq_name}, "
                    f"spec wants {spec.dlq_name}"
                )
            if current_redrive.max_receive_count != spec.max_receive_count:
                diffs.append(
                    f"RedrivePolicy.maxReceiveCount: queue has {current_redrive.max_receive_count}, "
                    f"spec wants {spec.max_receive_count}"
                )
        dlq_url = _find_url(client, spec.dlq_name)
        if dlq_url is None:
            diffs.append(f"DLQ {spec.dlq_name}: missing")
        else:
            dlq_raw = _all_attributes(client, dlq_url)
            dlq_arn = dlq_raw["QueueArn"]
            diffs += _differences(f"DLQ {spec.dlq_name} ", _dlq_attributes_for(spec), dlq_raw)
            allow = dlq_raw.get("RedriveAllowPolicy")
            if allow and not RedriveAllowPolicy.parse(allow).allows(arn):
                diffs.append(f"DLQ {spec.dlq_name} RedriveAllowPolicy: does not allow {spec.name}")
    elif current_redrive is not None:
        diffs.append(
            f"RedrivePolicy: queue sends failures to {current_redrive.dlq_name}, spec has with_dlq=False"
        )
    if spec.tags:
        have = client.list_queue_tags(QueueUrl=url).get("Tags", {})
        for key, value in spec.tags.items():
            if have.get(key) != value:
                diffs.append(f"tag {key}: queue has {have.get(key, '(unset)')}, spec wants {value}")
    if diffs:
        raise _mismatch(spec, diffs)
    if dlq_url is not None and not dlq_raw.get("RedriveAllowPolicy"):
        _allow_source(client, dlq_url, dlq_raw, arn)  # finish a setup an earlier run left half-done
    return _handle(spec, url, arn, dlq_url, dlq_arn)


def get_queue(name: str, *, sqs: SQSClient | None = None) -> Queue:
    """A handle to an existing queue (by name, or URL), with its DLQ read from its RedrivePolicy."""
    client = _client(sqs)
    url = queue_url(name, sqs=client)
    attrs = QueueAttributes.parse(url, _all_attributes(client, url))
    dlq_url = dlq_arn = None
    if attrs.redrive_policy is not None:
        dlq_arn = attrs.redrive_policy.dead_letter_target_arn
        account = dlq_arn.split(":")[4] if dlq_arn.count(":") >= 5 else None
        try:
            kwargs: dict[str, Any] = {"QueueName": arn_name(dlq_arn)}
            if account:
                kwargs["QueueOwnerAWSAccountId"] = account
            dlq_url = client.get_queue_url(**kwargs)["QueueUrl"]
        except ClientError as err:
            if not queue_missing(err):
                raise  # a DLQ deleted from under its queue leaves dlq_url None
    return Queue(
        name=attrs.name,
        url=url,
        arn=attrs.arn,
        fifo=attrs.fifo,
        dlq_url=dlq_url,
        dlq_arn=dlq_arn,
        content_based_dedup=attrs.content_based_dedup if attrs.fifo else None,
        max_message_size_bytes=attrs.max_message_size_bytes,
    )


def queue_attributes(queue: Queue | str, *, sqs: SQSClient | None = None) -> QueueAttributes:
    """All of a queue's attributes, parsed (one ``GetQueueAttributes``; a name costs one more request)."""
    client = _client(sqs)
    url = queue_url(queue, sqs=client)
    return QueueAttributes.parse(url, _all_attributes(client, url))


def delete_queue(
    queue: Queue | str, *, sqs: SQSClient | None = None, with_dlq: bool = True, missing_ok: bool = False
) -> None:
    """Delete a queue and (``with_dlq``) its DLQ — unless other queues still use that DLQ.

    Deleting is immediate for the lab's engines; on AWS the name stays reserved for 60 s.
    ``missing_ok=True`` makes deleting a queue that is already gone a no-op.
    """
    client = _client(sqs)
    try:
        url = queue_url(queue, sqs=client)
    except QueueNotFound:
        if missing_ok:
            return
        raise
    dlq_url = queue.dlq_url if isinstance(queue, Queue) else None
    if with_dlq and dlq_url is None:
        try:
            redrive = client.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
        except ClientError as err:
            if queue_missing(err) and missing_ok:
                return
            if queue_missing(err):
                raise _not_found(url, err) from err
            raise
        text = redrive.get("Attributes", {}).get("RedrivePolicy")
        if text:
            dlq_url = _find_url(client, RedrivePolicy.parse(text).dlq_name)
    try:
        client.delete_queue(QueueUrl=url)
    except ClientError as err:
        if not queue_missing(err):
            raise
        if not missing_ok:
            raise _not_found(url, err) from err
    if with_dlq and dlq_url is not None:
        _delete_dlq_unless_shared(client, dlq_url, deleted_source=url)


def _delete_dlq_unless_shared(client: SQSClient, dlq_url: str, *, deleted_source: str) -> None:
    try:
        page = client.list_dead_letter_source_queues(QueueUrl=dlq_url)
        sources = [u for u in page.get("queueUrls", []) if u != deleted_source]
        if sources:
            return  # still the DLQ of other queues: deleting it would silently drop their failures
        client.delete_queue(QueueUrl=dlq_url)
    except ClientError as err:
        if not queue_missing(err):
            raise
