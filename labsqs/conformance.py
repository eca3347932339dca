"""Conformance: where an SQS engine behaves like Amazon SQS, and where it does not.

A local engine (LocalStack, moto, ElasticMQ) *speaks* the SQS API: the same requests, the same answers.
Speaking the API is not the same as keeping its promises. SQS documents behaviours your code relies on —
a FIFO group stays locked while one of its messages is in flight, a deduplication id is remembered for
five minutes even after the message was deleted, a message's size is counted in UTF-8 *bytes*, the
message moves to the dead-letter queue on the receive *after* ``maxReceiveCount`` — and an emulator may
get any of them wrong. Code that passes against the emulator then fails on AWS, or the other way round.

This module turns each documented behaviour into a small **check**: a function that creates its own
uniquely named queues, does what a user would do, compares what it observes with what the SQS Developer
Guide (or ``/work/shared/facts/sqs-limits.md``) says, and deletes its queues. A check ends in one of four
states:

``pass``           the engine did what SQS documents;
``fail``           it did something else (the result says what it observed);
``not-supported``  the engine answered "not implemented" (or HTTP 5xx) for the API the check is about;
``error``          the check itself could not run (anything else went wrong).

Run the suite against one endpoint with :func:`run_checks`; put several engines side by side with
:func:`matrix`; ``labsqs conformance --write-docs`` regenerates ``docs/conformance.md`` from LocalStack
and moto. The checks use raw boto3 on purpose: they test the *engine*, not the lab's own modules.

Timing checks use 1–2 s visibility timeouts and waits. LocalStack sweeps expired visibility once a
second, so a 1 s timeout becomes 1–2 s there: the checks allow for it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import hashlib
import json
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from labsqs.errors import ConformanceError, EndpointUnavailable, UnknownCheck

if TYPE_CHECKING:
    import pandas as pd
    from mypy_boto3_sqs import SQSClient

# --- what SQS documents (sqs-limits.md) ------------------------------------------------------------
MAX_MESSAGE_BYTES = 1_048_576  # 1 MiB, counted in UTF-8 bytes, attributes included
DEFAULT_VISIBILITY_TIMEOUT_SECONDS = 30
MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200
DEFAULT_RETENTION_SECONDS = 345_600  # 4 days
MIN_RETENTION_SECONDS = 60
MAX_RETENTION_SECONDS = 1_209_600  # 14 days
MAX_DELAY_SECONDS = 900
MAX_WAIT_TIME_SECONDS = 20
MAX_RECEIVE_MESSAGES = 10
MAX_BATCH_ENTRIES = 10
MAX_BATCH_BYTES = 1_048_576
MAX_BATCH_ID_CHARS = 80
MAX_QUEUE_NAME_CHARS = 80
MIN_MAXIMUM_MESSAGE_SIZE_BYTES = 1_024

# --- how the checks behave -------------------------------------------------------------------------
SWEEP_SLACK_SECONDS = 1.5  # LocalStack applies expired visibility/delay once a second
QUEUE_PREFIX = "cf"
DOCS_PATH = Path(__file__).resolve().parent.parent / "docs" / "conformance.md"
DATA_MARKER = "labsqs-conformance-data"

PASS, FAIL, NOT_SUPPORTED, ERROR = "pass", "fail", "not-supported", "error"
STATUSES = (PASS, FAIL, NOT_SUPPORTED, ERROR)
SYMBOLS = {PASS: "✅", FAIL: "❌", NOT_SUPPORTED: "➖", ERROR: "⚠️"}
# codes an engine uses to say "this API does not exist here"
NOT_IMPLEMENTED_CODES = frozenset(
    {"NotImplemented", "NotImplementedError", "InternalFailure", "InternalError", "InvalidAction"}
)
# error codes as botocore reports them: SQS's JSON protocol is query-compatible, so a modelled error
# (QueueDoesNotExist) may arrive under its old query code (AWS.SimpleQueueService.NonExistentQueue)
CODE_ALIASES = {
    "QueueDoesNotExist": ("AWS.SimpleQueueService.NonExistentQueue",),
    "QueueNameExists": ("QueueAlreadyExists",),
}


# --- results ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check against one endpoint."""

    id: str
    title: str
    status: str  # pass | fail | not-supported | error
    detail: str  # what was observed
    seconds: float
    doc: str  # the SQS documentation the check holds the engine to

    @property
    def ok(self) -> bool:
        return self.status == PASS


@dataclass(frozen=True)
class Check:
    """A documented SQS behaviour and the function that verifies it."""

    id: str
    title: str
    doc: str
    apis: tuple[str, ...]  # operations whose "not implemented" means not-supported
    run: Callable[[Probe], str]


@dataclass(frozen=True)
class ConformanceReport:
    """A stored matrix (read back from ``docs/conformance.md``)."""

    generated: str
    versions: dict[str, str]
    results: dict[str, list[CheckResult]] = field(default_factory=dict)


class CheckFailed(Exception):
    """Raised inside a check when the engine did not do what SQS documents."""

    def __init__(self, observed: str) -> None:
        super().__init__(observed)
        self.observed = observed


# --- the context a check runs in -------------------------------------------------------------------
def _code_matches(code: str, wanted: str) -> bool:
    return code == wanted or code.endswith("." + wanted) or code in CODE_ALIASES.get(wanted, ())


def _is_unsupported(exc: ClientError) -> bool:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return status >= 500 or exc.response.get("Error", {}).get("Code", "") in NOT_IMPLEMENTED_CODES


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "?"))


class Probe:
    """What a check uses to talk to the engine: uniquely named queues (deleted afterwards) and helpers."""

    def __init__(self, sqs: SQSClient) -> None:
        self.sqs = sqs
        self.run_id = uuid.uuid4().hex[:8]
        self._queues: list[str] = []

    # queues
    def name(self, stem: str, *, fifo: bool = False) -> str:
        name = f"{QUEUE_PREFIX}-{self.run_id}-{stem}"
        return f"{name}.fifo" if fifo else name

    def queue(
        self, stem: str, *, fifo: bool = False, tags: Mapping[str, str] | None = None, **attrs: Any
    ) -> str:
        attributes = {k: str(v) for k, v in attrs.items()}
        if fifo:
            attributes.setdefault("FifoQueue", "true")
        kwargs: dict[str, Any] = {"QueueName": self.name(stem, fifo=fifo), "Attributes": attributes}
        if tags:
            kwargs["tags"] = dict(tags)
        url = self.sqs.create_queue(**kwargs)["QueueUrl"]
        self._queues.append(url)
        return url

    def adopt(self, url: str) -> str:
        """Delete ``url`` with the check's other queues."""
        self._queues.append(url)
        return url

    def attributes(self, url: str) -> dict[str, str]:
        attrs = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        return {str(k): v for k, v in attrs.items()}

    def arn(self, url: str) -> str:
        return self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]

    def counts(self, url: str) -> tuple[int, int, int]:
        """(visible, in flight, delayed): the approximate counters."""
        a = self.attributes(url)
        return (
            int(a.get("ApproximateNumberOfMessages", -1)),
            int(a.get("ApproximateNumberOfMessagesNotVisible", -1)),
            int(a.get("ApproximateNumberOfMessagesDelayed", -1)),
        )

    def redrive_to(self, dlq_url: str, max_receive_count: int) -> str:
        return json.dumps({"deadLetterTargetArn": self.arn(dlq_url), "maxReceiveCount": max_receive_count})

    # messages
    def send(self, url: str, body: str = "x", **kwargs: Any) -> dict[str, Any]:
        return dict(self.sqs.send_message(QueueUrl=url, MessageBody=body, **kwargs))

    def receive(
        self, url: str, *, n: int = MAX_RECEIVE_MESSAGES, wait: int = 0, visibility: int | None = None
    ) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "QueueUrl": url,
            "MaxNumberOfMessages": n,
            "WaitTimeSeconds": wait,
            "MessageSystemAttributeNames": ["All"],
            "MessageAttributeNames": ["All"],
        }
        if visibility is not None:
            kwargs["VisibilityTimeout"] = visibility
        return [dict(m) for m in self.sqs.receive_message(**kwargs).get("Messages", [])]

    def drain(self, url: str, expected: int, *, timeout: float = 3.0, delete: bool = True) -> list[dict]:
        """Receive until ``expected`` messages arrived (deleting them) or ``timeout`` passed."""
        got: list[dict] = []
        deadline = time.monotonic() + timeout
        while len(got) < expected and time.monotonic() < deadline:
            batch = self.receive(url, wait=1)
            got.extend(batch)
            if delete:
                for m in batch:
                    self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return got

    def wait_for_count(self, url: str, visible: int, *, timeout: float = 5.0) -> int:
        """Poll the visible counter until it reaches ``visible``; return the last value seen."""
        deadline = time.monotonic() + timeout
        seen = self.counts(url)[0]
        while seen < visible and time.monotonic() < deadline:
            time.sleep(0.2)
            seen = self.counts(url)[0]
        return seen

    def hide(self, url: str, message: Mapping[str, Any], seconds: int) -> None:
        self.sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=seconds
        )

    # verdicts
    def expect(self, condition: bool, observed: str) -> None:
        if not condition:
            raise CheckFailed(observed)

    def rejected(
        self, call: Callable[..., Any], what: str, *, codes: Iterable[str] = (), **kwargs: Any
    ) -> str:
        """Call an API that SQS rejects; return the error code, or fail the check if it was accepted.

        A 5xx / "not implemented" answer is re-raised (it is not a rejection); with ``codes``, a rejection
        under another error code fails the check (user code catches the documented code).
        """
        wanted = tuple(codes)
        try:
            reply = call(**kwargs)
        except ClientError as exc:
            if _is_unsupported(exc):
                raise
            code = _error_code(exc)
            if wanted and not any(_code_matches(code, w) for w in wanted):
                raise CheckFailed(f"{what} was rejected with {code}, not {wanted[0]}") from exc
            return code
        if isinstance(reply, Mapping) and "QueueUrl" in reply:
            self.adopt(str(reply["QueueUrl"]))  # an accepted CreateQueue: delete it with the others
        raise CheckFailed(f"{what} was accepted")

    def all_rejected(self, cases: Iterable[tuple[str, Callable[..., Any], dict[str, Any]]]) -> list[str]:
        """Like :meth:`rejected` for several ``(what, call, kwargs)``; fail naming every accepted one."""
        codes, accepted = [], []
        for what, call, kwargs in cases:
            try:
                codes.append(self.rejected(call, what, **kwargs))
            except CheckFailed:
                accepted.append(what)
        if accepted:
            rejected = len(codes)
            others = f" ({rejected} other{'s' if rejected > 1 else ''} rejected)" if rejected else ""
            raise CheckFailed(f"accepted {', '.join(accepted)}{others}")
        return codes

    def cleanup(self) -> None:
        for url in reversed(self._queues):
            with contextlib.suppress(Exception):
                self.sqs.delete_queue(QueueUrl=url)
        self._queues.clear()


# --- the registry ----------------------------------------------------------------------------------
CHECKS: list[Check] = []


def check(check_id: str, title: str, *, doc: str, apis: Iterable[str] = ()) -> Callable:
    """Register a check function under ``check_id`` (``group.name``)."""

    def register(fn: Callable[[Probe], str]) -> Callable[[Probe], str]:
        if any(c.id == check_id for c in CHECKS):
            raise ValueError(f"duplicate check id {check_id}")
        CHECKS.append(Check(check_id, title, doc, tuple(apis), fn))
        return fn

    return register


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()  # noqa: S324 - SQS's own integrity digest, not security


def md5_of_message_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> str:
    """MD5OfMessageAttributes as the Developer Guide defines it.

    ("Calculating the MD5 message digest for message attributes"): for each attribute, sorted by name,
    append the name, the data type (each as a 4-byte big-endian length then UTF-8 bytes), one
    transport byte (1 = String/Number, 2 = Binary) and the value (length + bytes); MD5 the whole.
    """
    buf = bytearray()

    def put(data: bytes) -> None:
        buf.extend(len(data).to_bytes(4, "big"))
        buf.extend(data)

    for name in sorted(attributes):
        value = attributes[name]
        put(name.encode())
        put(value["DataType"].encode())
        if "BinaryValue" in value:
            buf.append(2)
            raw = value["BinaryValue"]
            put(raw if isinstance(raw, bytes) else bytes(raw))
        else:
            buf.append(1)
            put(value["StringValue"].encode())
    return _md5(bytes(buf))


# ===================================================================================================
# The checks. Each cites the documentation it holds the engine to.
# ===================================================================================================


# --- queues and their attributes -------------------------------------------------------------------
@check(
    "queue.standard-defaults",
    "a new standard queue has SQS's default attributes",
    doc="sqs-limits.md: visibility default 30 s, retention default 4 days, max message size 1 MiB "
    "(default since Aug 2025), delay 0; API Reference 'CreateQueue'",
)
def _standard_defaults(p: Probe) -> str:
    attrs = p.attributes(p.queue("defaults"))
    expected = {
        "VisibilityTimeout": str(DEFAULT_VISIBILITY_TIMEOUT_SECONDS),
        "MessageRetentionPeriod": str(DEFAULT_RETENTION_SECONDS),
        "MaximumMessageSize": str(MAX_MESSAGE_BYTES),
        "DelaySeconds": "0",
        "ReceiveMessageWaitTimeSeconds": "0",
    }
    wrong = {k: attrs.get(k) for k, v in expected.items() if attrs.get(k) != v}
    p.expect(not wrong, f"differs from the defaults: {wrong}")
    return "visibility 30 s, retention 345600 s, max size 1048576 B, delay 0 s, wait 0 s"


@check(
    "queue.fifo-attributes",
    "a new FIFO queue reports FifoQueue, content-based dedup off, queue-scoped dedup",
    doc="API Reference 'CreateQueue': ContentBasedDeduplication default false, DeduplicationScope "
    "default queue, FifoThroughputLimit default perQueue",
)
def _fifo_attributes(p: Probe) -> str:
    attrs = p.attributes(p.queue("fifoattrs", fifo=True))
    expected = {
        "FifoQueue": "true",
        "ContentBasedDeduplication": "false",
        "DeduplicationScope": "queue",
        "FifoThroughputLimit": "perQueue",
    }
    wrong = {k: attrs.get(k) for k, v in expected.items() if attrs.get(k) != v}
    p.expect(not wrong, f"differs: {wrong}")
    return "FifoQueue true, ContentBasedDeduplication false, DeduplicationScope queue, perQueue"


@check(
    "queue.sse-default",
    "new queues have SSE-SQS encryption on",
    doc="sqs-limits.md: 'SSE-SQS on by default for new queues'; Developer Guide 'Encryption at rest in "
    "Amazon SQS'",
)
def _sse_default(p: Probe) -> str:
    value = p.attributes(p.queue("sse")).get("SqsManagedSseEnabled")
    p.expect(value == "true", f"SqsManagedSseEnabled is {value!r}")
    return "SqsManagedSseEnabled true"


@check(
    "queue.create-idempotent",
    "CreateQueue with the same name and attributes returns the same URL",
    doc="API Reference 'CreateQueue': 'If you provide the name of an existing queue along with the exact "
    "names and values of all the queue's attributes, CreateQueue returns the queue URL'",
)
def _create_idempotent(p: Probe) -> str:
    url = p.queue("idem", VisibilityTimeout=20)
    again = p.sqs.create_queue(QueueName=p.name("idem"), Attributes={"VisibilityTimeout": "20"})["QueueUrl"]
    p.expect(again == url, f"second CreateQueue returned {again}, first {url}")
    return "same URL"


@check(
    "queue.create-conflict",
    "CreateQueue with an existing name but other attributes is rejected",
    doc="API Reference 'CreateQueue': QueueNameExists — 'a queue with this name already exists … with "
    "different attributes'",
)
def _create_conflict(p: Probe) -> str:
    p.queue("conflict", VisibilityTimeout=20)
    code = p.rejected(
        p.sqs.create_queue,
        "CreateQueue with VisibilityTimeout 40 on a queue created with 20",
        codes=("QueueNameExists",),
        QueueName=p.name("conflict"),
        Attributes={"VisibilityTimeout": "40"},
    )
    return f"rejected: {code}"


@check(
    "queue.name-chars",
    "queue names allow only [A-Za-z0-9_-]",
    doc="sqs-limits.md: queue names 1–80 chars [A-Za-z0-9_-]",
)
def _name_chars(p: Probe) -> str:
    codes = p.all_rejected(
        (f"queue name {bad!r}", p.sqs.create_queue, {"QueueName": p.name(bad)})
        for bad in ("has space", "dot.name", "bang!")
    )
    return f"space, dot and '!' rejected ({codes[0]})"


@check(
    "queue.name-length",
    "queue names of 80 chars are accepted, 81 rejected",
    doc="sqs-limits.md: queue names 1–80 chars",
)
def _name_length(p: Probe) -> str:
    stem = p.name("")
    ok = (stem + "n" * MAX_QUEUE_NAME_CHARS)[:MAX_QUEUE_NAME_CHARS]
    p.adopt(p.sqs.create_queue(QueueName=ok)["QueueUrl"])
    code = p.rejected(p.sqs.create_queue, "an 81-char queue name", QueueName=ok + "n")
    return f"80 accepted, 81 rejected ({code})"


@check(
    "fifo.name-suffix",
    "a FIFO queue's name must end in .fifo",
    doc="sqs-limits.md: 'FIFO names end in .fifo'; Developer Guide 'Amazon SQS FIFO queues'",
)
def _fifo_name_suffix(p: Probe) -> str:
    code = p.rejected(
        p.sqs.create_queue,
        "FifoQueue=true without .fifo",
        QueueName=p.name("nosuffix"),
        Attributes={"FifoQueue": "true"},
    )
    return f"rejected: {code}"


@check(
    "fifo.suffix-needs-attribute",
    "a standard queue cannot be named .fifo",
    doc="API Reference 'CreateQueue': 'A FIFO queue name must end with the .fifo suffix' and the suffix "
    "is only allowed with FifoQueue=true (names otherwise [A-Za-z0-9_-])",
)
def _fifo_suffix_attribute(p: Probe) -> str:
    code = p.rejected(p.sqs.create_queue, "a .fifo name without FifoQueue", QueueName=p.name("x", fifo=True))
    return f"rejected: {code}"


@check(
    "queue.attribute-ranges",
    "out-of-range queue attributes are rejected",
    doc="sqs-limits.md: retention 60 s–14 days, delay 0–900 s, max size 1 KiB–1 MiB, wait 0–20 s",
)
def _attribute_ranges(p: Probe) -> str:
    bad = {
        "MessageRetentionPeriod": [MIN_RETENTION_SECONDS - 1, MAX_RETENTION_SECONDS + 1],
        "DelaySeconds": [MAX_DELAY_SECONDS + 1],
        "MaximumMessageSize": [MIN_MAXIMUM_MESSAGE_SIZE_BYTES - 1, MAX_MESSAGE_BYTES + 1],
        "ReceiveMessageWaitTimeSeconds": [MAX_WAIT_TIME_SECONDS + 1],
    }
    cases = [(n, v) for n, vs in bad.items() for v in vs]
    p.all_rejected(
        (f"{n}={v}", p.sqs.create_queue, {"QueueName": p.name(f"range{i}"), "Attributes": {n: str(v)}})
        for i, (n, v) in enumerate(cases)
    )
    return "retention 59/1209601, delay 901, max size 1023/1048577, wait 21 rejected"


@check(
    "queue.visibility-max",
    "VisibilityTimeout above 43,200 s is rejected (queue and ChangeMessageVisibility)",
    doc="sqs-limits.md: visibility timeout 0 – 43,200 s (12 h)",
)
def _visibility_max(p: Probe) -> str:
    url = p.queue("vis12h", VisibilityTimeout=MAX_VISIBILITY_TIMEOUT_SECONDS)
    p.send(url)
    (m,) = p.receive(url, n=1)
    too_long = str(MAX_VISIBILITY_TIMEOUT_SECONDS + 1)
    codes = p.all_rejected(
        [
            (
                "CreateQueue with VisibilityTimeout 43201",
                p.sqs.create_queue,
                {"QueueName": p.name("vismax"), "Attributes": {"VisibilityTimeout": too_long}},
            ),
            (
                "ChangeMessageVisibility to 43201",
                p.sqs.change_message_visibility,
                {"QueueUrl": url, "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": int(too_long)},
            ),
        ]
    )
    return f"43200 accepted; 43201 rejected by CreateQueue and ChangeMessageVisibility ({codes[0]})"


@check(
    "queue.set-attributes",
    "SetQueueAttributes changes what GetQueueAttributes reports",
    doc="API Reference 'SetQueueAttributes'",
)
def _set_attributes(p: Probe) -> str:
    url = p.queue("setattrs")
    p.sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "45", "DelaySeconds": "3"})
    a = p.attributes(url)
    got = (a.get("VisibilityTimeout"), a.get("DelaySeconds"))
    p.expect(got == ("45", "3"), f"read back VisibilityTimeout, DelaySeconds = {got}")
    return "VisibilityTimeout 45, DelaySeconds 3 read back"


@check(
    "queue.url-format",
    "a queue URL ends in /<12-digit account>/<name>, matching the queue ARN",
    doc="Developer Guide 'Amazon SQS queue and message identifiers': queue URL "
    "https://sqs.<region>.amazonaws.com/<account>/<name>; ARN arn:aws:sqs:<region>:<account>:<name>",
)
def _url_format(p: Probe) -> str:
    url = p.queue("urlfmt")
    name = p.name("urlfmt")
    *_, account, last = url.rstrip("/").split("/")
    arn = p.arn(url)
    parts = arn.split(":")
    p.expect(last == name, f"URL {url} does not end in the queue name")
    p.expect(len(account) == 12 and account.isdigit(), f"URL {url}: {account!r} is not a 12-digit account")
    p.expect(
        len(parts) == 6 and parts[:3] == ["arn", "aws", "sqs"] and parts[4] == account and parts[5] == name,
        f"ARN {arn} does not match URL {url}",
    )
    return "…/<account>/<name>; ARN arn:aws:sqs:<region>:<account>:<name>"


@check(
    "queue.get-url",
    "GetQueueUrl returns the URL CreateQueue returned",
    doc="API Reference 'GetQueueUrl'",
)
def _get_url(p: Probe) -> str:
    url = p.queue("geturl")
    got = p.sqs.get_queue_url(QueueName=p.name("geturl"))["QueueUrl"]
    p.expect(got == url, f"GetQueueUrl {got} != CreateQueue {url}")
    return "same URL"


@check(
    "queue.does-not-exist",
    "a deleted queue answers QueueDoesNotExist",
    doc="API Reference 'GetQueueUrl' / 'SendMessage': QueueDoesNotExist "
    "(AWS.SimpleQueueService.NonExistentQueue)",
)
def _does_not_exist(p: Probe) -> str:
    url = p.queue("gone")
    p.sqs.delete_queue(QueueUrl=url)
    code = p.rejected(
        p.sqs.get_queue_url,
        "GetQueueUrl of a deleted queue",
        codes=("QueueDoesNotExist",),
        QueueName=p.name("gone"),
    )
    p.rejected(
        p.sqs.send_message,
        "SendMessage to a deleted queue",
        codes=("QueueDoesNotExist",),
        QueueUrl=url,
        MessageBody="x",
    )
    return f"GetQueueUrl and SendMessage: {code}"


@check(
    "queue.list-prefix",
    "ListQueues with QueueNamePrefix returns exactly the matching queues",
    doc="API Reference 'ListQueues': QueueNamePrefix",
)
def _list_prefix(p: Probe) -> str:
    a, b = p.queue("lista"), p.queue("listb")
    p.queue("other")
    got = sorted(p.sqs.list_queues(QueueNamePrefix=p.name("list")).get("QueueUrls", []))
    p.expect(got == sorted([a, b]), f"got {got}")
    return "2 of 3 queues listed"


@check(
    "queue.list-pagination",
    "ListQueues with MaxResults pages with NextToken",
    doc="API Reference 'ListQueues': MaxResults 1–1000, NextToken",
)
def _list_pagination(p: Probe) -> str:
    urls = sorted([p.queue("pagea"), p.queue("pageb")])
    first = p.sqs.list_queues(QueueNamePrefix=p.name("page"), MaxResults=1)
    token = first.get("NextToken")
    p.expect(
        len(first.get("QueueUrls", [])) == 1 and bool(token),
        f"first page {first.get('QueueUrls')}, token {token!r}",
    )
    second = p.sqs.list_queues(QueueNamePrefix=p.name("page"), MaxResults=1, NextToken=str(token))
    got = sorted(first["QueueUrls"] + second.get("QueueUrls", []))
    p.expect(got == urls, f"two pages gave {got}")
    return "1 + 1 queues over two pages"


@check(
    "queue.tags",
    "queue tags: set at creation, TagQueue, UntagQueue, ListQueueTags",
    doc="Developer Guide 'Amazon SQS cost allocation tags'; API Reference 'TagQueue', 'UntagQueue'",
    apis=("TagQueue", "UntagQueue", "ListQueueTags"),
)
def _tags(p: Probe) -> str:
    url = p.queue("tags", tags={"team": "lab"})
    p.sqs.tag_queue(QueueUrl=url, Tags={"env": "test"})
    both = p.sqs.list_queue_tags(QueueUrl=url).get("Tags", {})
    p.expect(both == {"team": "lab", "env": "test"}, f"after TagQueue: {both}")
    p.sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
    left = p.sqs.list_queue_tags(QueueUrl=url).get("Tags", {})
    p.expect(left == {"env": "test"}, f"after UntagQueue: {left}")
    return "create-time tag, tag, untag, list all consistent"


# --- messages: digests, attributes, validation -------------------------------------------------------
@check(
    "msg.md5-body",
    "MD5OfMessageBody is the MD5 of the body's UTF-8 bytes",
    doc="API Reference 'SendMessage'/'ReceiveMessage': MD5OfMessageBody 'to verify that Amazon SQS "
    "received the message correctly'",
)
def _md5_body(p: Probe) -> str:
    url = p.queue("md5body")
    body = "héllo ✓ wörld"
    want = _md5(body.encode())
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


# --- visibility --------------------------------------------------------------------------------------
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
        if _is_unsupported(exc):
            raise
        raise CheckFailed(f"DeleteMessage with the old handle failed: {_error_code(exc)}") from exc
    visible, in_flight, _ = p.counts(url)
    kept = visible + in_flight
    return f"succeeded; the message was {'kept' if kept else 'deleted'}"


# --- polling -----------------------------------------------------------------------------------------
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
        for n in (MAX_RECEIVE_MESSAGES + 1, 0)
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


# --- batches -----------------------------------------------------------------------------------------
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
        Entries=[{"Id": "i" * (MAX_BATCH_ID_CHARS + 1), "MessageBody": "x"}],
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
    wrong = [i for i, e in ok.items() if e["MD5OfMessageBody"] != _md5(f"body-{i[1:]}".encode())]
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
    p.expect(_code_matches(str(failed["bad"]), "ReceiptHandleIsInvalid"), f"failure code {failed['bad']}")
    return f"good deleted; bad reported as {failed['bad']}"


# --- purge -------------------------------------------------------------------------------------------
@check(
    "purge.removes",
    "PurgeQueue deletes the queue's messages",
    doc="Developer Guide 'Purging messages from an Amazon SQS queue' (AWS: within 60 s; the check waits 5 s)",
)
def _purge_removes(p: Probe) -> str:
    url = p.queue("purge")
    for i in range(3):
        p.send(url, f"m{i}")
    p.sqs.purge_queue(QueueUrl=url)
    deadline = time.monotonic() + 5
    while p.counts(url)[0] and time.monotonic() < deadline:
        time.sleep(0.2)
    left = p.counts(url)[0]
    p.expect(left == 0, f"{left} messages left after 5 s")
    return "3 messages gone"


@check(
    "purge.in-progress",
    "a second PurgeQueue within 60 s is rejected with PurgeQueueInProgress",
    doc="API Reference 'PurgeQueue': 'only one PurgeQueue operation … is allowed every 60 seconds'; "
    "PurgeQueueInProgress",
)
def _purge_twice(p: Probe) -> str:
    url = p.queue("purge2")
    p.sqs.purge_queue(QueueUrl=url)
    code = p.rejected(
        p.sqs.purge_queue, "a second purge at once", codes=("PurgeQueueInProgress",), QueueUrl=url
    )
    return f"rejected: {code}"


# --- counters ----------------------------------------------------------------------------------------
@check(
    "counters.approximate",
    "the approximate counters split visible, in flight and delayed messages",
    doc="Developer Guide 'Available CloudWatch metrics for Amazon SQS' / API Reference "
    "'GetQueueAttributes': ApproximateNumberOfMessages, …NotVisible, …Delayed",
)
def _counters(p: Probe) -> str:
    url = p.queue("counters")
    p.send(url, "a")
    p.send(url, "b")
    p.send(url, "c", DelaySeconds=60)
    p.receive(url, n=1)
    got = p.counts(url)
    p.expect(got == (1, 1, 1), f"visible, in flight, delayed = {got}, expected (1, 1, 1)")
    return "visible 1, in flight 1, delayed 1"


# --- FIFO --------------------------------------------------------------------------------------------
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


# --- dead-letter queues ------------------------------------------------------------------------------
@check(
    "dlq.redrive",
    "with maxReceiveCount=2, the 3rd receive moves the message to the DLQ",
    doc="sqs-limits.md: 'the move to the DLQ happens on the receive after maxReceiveCount'; Developer Guide "
    "'Using dead-letter queues in Amazon SQS'",
)
def _redrive(p: Probe) -> str:
    dlq = p.queue("dlq")
    src = p.queue("src", RedrivePolicy=p.redrive_to(dlq, 2))
    mid = p.send(src, "poison")["MessageId"]
    for attempt in (1, 2):
        got = p.receive(src, n=1)
        p.expect(len(got) == 1, f"receive {attempt} got nothing (moved too early?)")
        p.hide(src, got[0], 0)
    third = p.receive(src, wait=1)
    p.expect(not third, "the 3rd receive still delivered the message from the source")
    moved = p.receive(dlq, wait=2)
    p.expect([m["MessageId"] for m in moved] == [mid], f"DLQ holds {[m['MessageId'] for m in moved]}")
    return "delivered twice, then in the DLQ with the same MessageId"


@check(
    "dlq.fifo-needs-fifo",
    "a FIFO queue's dead-letter queue must be FIFO",
    doc="sqs-limits.md: 'DLQ of a FIFO queue must be FIFO'",
)
def _dlq_fifo(p: Probe) -> str:
    dlq = p.queue("stddlq")
    code = p.rejected(
        p.sqs.create_queue,
        "a FIFO queue redriving to a standard DLQ",
        QueueName=p.name("fsrc", fifo=True),
        Attributes={"FifoQueue": "true", "RedrivePolicy": p.redrive_to(dlq, 3)},
    )
    return f"rejected: {code}"


@check(
    "dlq.allow-deny-all",
    "a DLQ with RedriveAllowPolicy denyAll cannot be a dead-letter target",
    doc="sqs-limits.md: redrive allow policy allowAll / denyAll / byQueue; API Reference "
    "'SetQueueAttributes': RedriveAllowPolicy",
)
def _allow_deny(p: Probe) -> str:
    dlq = p.queue("denydlq", RedriveAllowPolicy=json.dumps({"redrivePermission": "denyAll"}))
    code = p.rejected(
        p.sqs.create_queue,
        "a source redriving to a denyAll DLQ",
        QueueName=p.name("denysrc"),
        Attributes={"RedrivePolicy": p.redrive_to(dlq, 3)},
    )
    return f"rejected: {code}"


@check(
    "dlq.allow-by-queue",
    "RedriveAllowPolicy byQueue admits the listed source queue and rejects others",
    doc="sqs-limits.md: redrive allow policy byQueue (≤ 10 source ARNs)",
)
def _allow_by_queue(p: Probe) -> str:
    allowed = p.queue("byqok")
    stranger = p.queue("byqno")
    policy = {"redrivePermission": "byQueue", "sourceQueueArns": [p.arn(allowed)]}
    dlq = p.queue("byqdlq", RedriveAllowPolicy=json.dumps(policy))
    redrive = p.redrive_to(dlq, 3)
    p.sqs.set_queue_attributes(QueueUrl=allowed, Attributes={"RedrivePolicy": redrive})
    code = p.rejected(
        p.sqs.set_queue_attributes,
        "an unlisted source's RedrivePolicy",
        QueueUrl=stranger,
        Attributes={"RedrivePolicy": redrive},
    )
    return f"listed source accepted, other rejected ({code})"


@check(
    "dlq.list-sources",
    "ListDeadLetterSourceQueues names the queues that redrive to a DLQ",
    doc="API Reference 'ListDeadLetterSourceQueues'",
    apis=("ListDeadLetterSourceQueues",),
)
def _list_sources(p: Probe) -> str:
    dlq = p.queue("srcdlq")
    src = p.queue("srcsrc", RedrivePolicy=p.redrive_to(dlq, 3))
    got = p.sqs.list_dead_letter_source_queues(QueueUrl=dlq).get("queueUrls", [])
    p.expect(got == [src], f"listed {got}")
    return "the source queue listed"


# --- move tasks (DLQ redrive) ------------------------------------------------------------------------
_MOVE_APIS = ("StartMessageMoveTask", "ListMessageMoveTasks", "CancelMessageMoveTask")


def _dlq_with_messages(p: Probe, stem: str, n: int) -> tuple[str, str]:
    """A DLQ (of a fresh source queue) holding ``n`` messages sent straight to it: (source, dlq)."""
    dlq = p.queue(f"{stem}dlq")
    src = p.queue(f"{stem}src", RedrivePolicy=p.redrive_to(dlq, 3))
    for i in range(n):
        p.send(dlq, f"m{i}")
    return src, dlq


@check(
    "move.to-source",
    "StartMessageMoveTask without a destination moves DLQ messages back to their source",
    doc="sqs-limits.md: StartMessageMoveTask 'no destination = back to original source queues'; Developer "
    "Guide 'Configure a dead-letter queue redrive'",
    apis=_MOVE_APIS,
)
def _move_to_source(p: Probe) -> str:
    dlq = p.queue("mvsdlq")
    src = p.queue("mvssrc", RedrivePolicy=p.redrive_to(dlq, 1))
    for i in range(2):
        p.send(src, f"m{i}")
    for m in p.receive(src):
        p.hide(src, m, 0)
    p.receive(src, wait=1)  # the 2nd receive moves both to the DLQ
    in_dlq = p.wait_for_count(dlq, 2, timeout=3)
    p.expect(in_dlq == 2, f"setup: {in_dlq} messages reached the DLQ by redrive")
    p.sqs.start_message_move_task(SourceArn=p.arn(dlq))
    back = p.wait_for_count(src, 2)
    p.expect(back == 2, f"{back} of 2 messages back in the source after 5 s")
    return "2 messages back in the source queue"


@check(
    "move.to-destination",
    "StartMessageMoveTask with DestinationArn moves DLQ messages there",
    doc="API Reference 'StartMessageMoveTask': DestinationArn",
    apis=_MOVE_APIS,
)
def _move_to_destination(p: Probe) -> str:
    _, dlq = _dlq_with_messages(p, "mvd", 3)
    dest = p.queue("mvddest")
    p.sqs.start_message_move_task(SourceArn=p.arn(dlq), DestinationArn=p.arn(dest))
    moved = p.wait_for_count(dest, 3)
    p.expect(moved == 3, f"{moved} of 3 messages in the destination after 5 s")
    left = p.counts(dlq)[0]
    p.expect(left == 0, f"{left} messages still in the DLQ")
    return "3 messages moved, DLQ empty"


@check(
    "move.list",
    "ListMessageMoveTasks reports a task with its status and counts",
    doc="API Reference 'ListMessageMoveTasks': Status RUNNING | COMPLETED | CANCELLING | CANCELLED | FAILED",
    apis=_MOVE_APIS,
)
def _move_list(p: Probe) -> str:
    _, dlq = _dlq_with_messages(p, "mvl", 2)
    dest = p.queue("mvldest")
    arn = p.arn(dlq)
    p.sqs.start_message_move_task(SourceArn=arn, DestinationArn=p.arn(dest))
    p.wait_for_count(dest, 2)
    tasks = p.sqs.list_message_move_tasks(SourceArn=arn).get("Results", [])
    p.expect(len(tasks) >= 1, "no task listed")
    t = tasks[0]
    p.expect(t.get("SourceArn") == arn and t.get("Status") in {"RUNNING", "COMPLETED"}, f"listed {t}")
    return f"status {t.get('Status')}, moved {t.get('ApproximateNumberOfMessagesMoved')}"


def _slow_task(p: Probe, stem: str) -> tuple[str, str]:
    """A running move task (1 msg/s over 5 messages): (task handle, DLQ ARN)."""
    _, dlq = _dlq_with_messages(p, stem, 5)
    dest = p.queue(f"{stem}dest")
    arn = p.arn(dlq)
    handle = p.sqs.start_message_move_task(
        SourceArn=arn, DestinationArn=p.arn(dest), MaxNumberOfMessagesPerSecond=1
    )["TaskHandle"]
    return handle, arn


@check(
    "move.cancel",
    "CancelMessageMoveTask stops a running task",
    doc="API Reference 'CancelMessageMoveTask': 'Only active (non-completed) message movement tasks can be "
    "cancelled'",
    apis=_MOVE_APIS,
)
def _move_cancel(p: Probe) -> str:
    handle, arn = _slow_task(p, "mvc")
    moved = p.sqs.cancel_message_move_task(TaskHandle=handle).get("ApproximateNumberOfMessagesMoved")
    status = p.sqs.list_message_move_tasks(SourceArn=arn).get("Results", [{}])[0].get("Status")
    p.expect(status in {"CANCELLING", "CANCELLED"}, f"status after cancel: {status}")
    p.expect(moved is not None and moved < 5, f"cancel reported {moved} of 5 messages moved")
    return f"cancelled before the 5 messages were moved (status {status})"


@check(
    "move.one-active",
    "only one active move task per queue: a second start is rejected",
    doc="sqs-limits.md: StartMessageMoveTask 'one active task per queue'",
    apis=_MOVE_APIS,
)
def _move_one_active(p: Probe) -> str:
    handle, arn = _slow_task(p, "mvo")
    try:
        code = p.rejected(p.sqs.start_message_move_task, "a second task while one runs", SourceArn=arn)
    finally:
        with contextlib.suppress(ClientError):
            p.sqs.cancel_message_move_task(TaskHandle=handle)
    return f"rejected: {code}"


@check(
    "move.source-must-be-dlq",
    "StartMessageMoveTask on a queue that is no DLQ is rejected",
    doc="sqs-limits.md: StartMessageMoveTask 'source must be a DLQ'",
    apis=_MOVE_APIS,
)
def _move_source_dlq(p: Probe) -> str:
    plain = p.queue("mvplain")
    p.send(plain)
    code = p.rejected(p.sqs.start_message_move_task, "a move task from a plain queue", SourceArn=p.arn(plain))
    return f"rejected: {code}"


# ===================================================================================================
# Running the suite
# ===================================================================================================
ProgressFn = Callable[[int, int, CheckResult], None]


def check_ids() -> list[str]:
    """Every check id, in suite order."""
    return [c.id for c in CHECKS]


def select(only: Iterable[str] | None = None) -> list[Check]:
    """The checks named by id or by group (``fifo`` selects every ``fifo.*``), in suite order."""
    if only is None:
        return list(CHECKS)
    wanted = list(only)
    groups = {c.id.split(".")[0] for c in CHECKS}
    unknown = [w for w in wanted if w not in groups and w not in check_ids()]
    if unknown:
        raise UnknownCheck(
            f"no conformance check named {', '.join(unknown)}",
            hint=f"use a check id (`labsqs conformance --list`) or a group: {', '.join(sorted(groups))}",
        )
    return [c for c in CHECKS if c.id in wanted or c.id.split(".")[0] in wanted]


def _run_one(chk: Check, sqs: SQSClient) -> CheckResult:
    probe = Probe(sqs)
    t0 = time.monotonic()
    try:
        status, detail = PASS, chk.run(probe) or ""
    except CheckFailed as exc:
        status, detail = FAIL, exc.observed
    except ClientError as exc:
        op = exc.operation_name
        code = _error_code(exc)
        http = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if _is_unsupported(exc) and op in chk.apis:
            said = "" if code == str(http) else f" {code}"
            status, detail = NOT_SUPPORTED, f"{op} answered HTTP {http}{said}"
        else:
            message = exc.response.get("Error", {}).get("Message", "")
            status, detail = ERROR, f"{op} failed: HTTP {http} {code} {message}".strip()
    except EndpointUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken check is a result, not a crash of the suite
        status, detail = ERROR, f"{type(exc).__name__}: {exc}"
    finally:
        probe.cleanup()
    return CheckResult(chk.id, chk.title, status, detail, round(time.monotonic() - t0, 3), chk.doc)


def run_checks(
    endpoint: str | None = None,
    *,
    sqs: SQSClient | None = None,
    only: Iterable[str] | None = None,
    progress: ProgressFn | None = None,
    checks: Iterable[Check] | None = None,
) -> list[CheckResult]:
    """Run the conformance checks against one endpoint (default: the lab's engine).

    ``only`` picks registered checks by id or group; ``checks`` runs these instead (a check of your own:
    ``Check(id, title, doc, apis, run)`` with ``run(probe) -> detail``).

    >>> results = run_checks(only=["fifo"])        # every FIFO check against the running engine
    >>> print(render_table(results))
    """
    checks = list(checks) if checks is not None else select(only)
    if sqs is None:
        from labsqs.client import sqs_client

        sqs = sqs_client(endpoint)
    results: list[CheckResult] = []
    for i, chk in enumerate(checks, 1):
        result = _run_one(chk, sqs)
        results.append(result)
        if progress is not None:
            progress(i, len(checks), result)
    return results


# ===================================================================================================
# Looking at results
# ===================================================================================================
def counts(results: Iterable[CheckResult]) -> dict[str, int]:
    """How many checks ended in each status."""
    tally = dict.fromkeys(STATUSES, 0)
    for r in results:
        tally[r.status] += 1
    return tally


def to_frame(results: Iterable[CheckResult]) -> pd.DataFrame:
    """One row per check: id, title, status, detail, seconds, doc."""
    import pandas as pd

    columns = ["id", "title", "status", "detail", "seconds", "doc"]
    return pd.DataFrame([asdict(r) for r in results], columns=columns)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render_table(results: Iterable[CheckResult], *, detail_width: int = 70) -> str:
    """A plain-text pass/fail/not-supported table with a summary line."""
    rows = list(results)
    if not rows:
        return "no checks ran"
    width = max(len(r.id) for r in rows)
    lines = [f"{'check'.ljust(width)}  {'status'.ljust(13)}  detail"]
    for r in rows:
        lines.append(f"{r.id.ljust(width)}  {r.status.ljust(13)}  {_clip(r.detail, detail_width)}")
    tally = counts(rows)
    lines.append("")
    lines.append(
        ", ".join(f"{n} {s}" for s, n in tally.items())
        + f" — {len(rows)} check{'s' if len(rows) != 1 else ''}"
    )
    return "\n".join(lines)


def matrix(results_by_engine: Mapping[str, Iterable[CheckResult]]) -> pd.DataFrame:
    """Checks × engines: index = check id, a ``title`` column, then one status column per engine."""
    import pandas as pd

    titles: dict[str, str] = {}
    columns: dict[str, dict[str, str]] = {}
    for engine_name, results in results_by_engine.items():
        columns[engine_name] = {}
        for r in results:
            titles.setdefault(r.id, r.title)
            columns[engine_name][r.id] = r.status
    order = [c.id for c in CHECKS if c.id in titles] + [i for i in titles if i not in check_ids()]
    frame = pd.DataFrame({"title": titles, **columns}).reindex(order)
    frame.index.name = "check"
    return frame


def summary(results_by_engine: Mapping[str, Iterable[CheckResult]]) -> pd.DataFrame:
    """Engines × statuses: how many checks ended in each."""
    import pandas as pd

    frame = pd.DataFrame({name: counts(rs) for name, rs in results_by_engine.items()}).T
    frame["checks"] = frame.sum(axis=1)
    frame.index.name = "engine"
    return frame


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write_markdown(
    results_by_engine: Mapping[str, Iterable[CheckResult]],
    path: str | Path = DOCS_PATH,
    *,
    versions: Mapping[str, str] | None = None,
    generated: str | None = None,
) -> Path:
    """Write the engine × check matrix, the differences in detail, and the raw results (for
    :func:`read_markdown`) to ``path``."""
    import boto3

    by_engine = {name: list(rs) for name, rs in results_by_engine.items()}
    versions = dict(versions or {})
    generated = generated or _dt.date.today().isoformat()
    engines = list(by_engine)
    index = {name: {r.id: r for r in rs} for name, rs in by_engine.items()}
    ids = list(matrix(by_engine).index)
    out = [
        "# Engine conformance: where each local engine behaves like Amazon SQS",
        "",
        "Generated by `labsqs conformance --write-docs` (do not edit by hand) on "
        f"{generated} with boto3 {boto3.__version__}.",
        "",
        *[f"- **{name}**: {versions.get(name, 'version unknown')}" for name in engines],
        "",
        "Each check holds the engine to one behaviour the SQS documentation states (the `doc` cited in the "
        "details below). ✅ behaves as SQS documents · ❌ differs · ➖ not supported (the engine answered "
        '"not implemented" / HTTP 5xx for the API) · ⚠️ the check itself errored.',
        "",
        "## Summary",
        "",
        "| engine | ✅ pass | ❌ fail | ➖ not supported | ⚠️ error | checks |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in engines:
        t = counts(by_engine[name])
        out.append(
            f"| {name} | {t[PASS]} | {t[FAIL]} | {t[NOT_SUPPORTED]} | {t[ERROR]} | {sum(t.values())} |"
        )
    out += ["", "## Matrix", "", "| check | behaviour | " + " | ".join(engines) + " |"]
    out.append("|---|---|" + "---|" * len(engines))
    for cid in ids:
        title = next(index[n][cid].title for n in engines if cid in index[n])
        cells = [SYMBOLS.get(index[n][cid].status, "?") if cid in index[n] else " " for n in engines]
        out.append(f"| `{cid}` | {_cell(title)} | " + " | ".join(cells) + " |")
    differing = [cid for cid in ids if any(cid in index[n] and not index[n][cid].ok for n in engines)]
    out += ["", "## Where an engine differs from SQS", ""]
    if not differing:
        out.append("Every engine passed every check.")
    for cid in differing:
        first = next(index[n][cid] for n in engines if cid in index[n])
        out += [f"### `{cid}` — {first.title}", "", f"SQS: {first.doc}", ""]
        for n in engines:
            if cid in index[n]:
                r = index[n][cid]
                out.append(f"- **{n}** {SYMBOLS[r.status]} {r.status}: {_cell(r.detail)}")
        out.append("")
    out += ["", f"<!-- {DATA_MARKER}", _data_block(generated, versions, by_engine), "-->", ""]
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(out), encoding="utf-8")
    return target


def _data_block(
    generated: str, versions: Mapping[str, str], by_engine: Mapping[str, list[CheckResult]]
) -> str:
    """The raw results as JSON, one result a line (small diffs when the page is regenerated)."""

    def dump(value: Any) -> str:
        # "-->" would end the HTML comment the block lives in; JSON may spell ">" as \u003e instead
        return json.dumps(value, ensure_ascii=False).replace("-->", "--\\u003e")

    engines = []
    for name, results in by_engine.items():
        rows = ",\n".join(f"  {dump({**asdict(r), 'seconds': round(r.seconds, 1)})}" for r in results)
        engines.append(f" {dump(name)}: [\n{rows}\n ]")
    results_json = ",\n".join(engines)
    return (
        f'{{"generated": {dump(generated)}, "versions": {dump(dict(versions))},\n"results": {{\n'
        f"{results_json}\n}}}}"
    )


def read_markdown(path: str | Path = DOCS_PATH) -> ConformanceReport:
    """Read back the results :func:`write_markdown` stored in ``path`` (e.g. the committed docs)."""
    text = Path(path).read_text(encoding="utf-8")
    start = text.find(f"<!-- {DATA_MARKER}")
    if start < 0:
        raise ConformanceError(
            f"{path} holds no conformance data",
            hint="regenerate it with `labsqs conformance --write-docs`",
        )
    body = text[start + len(f"<!-- {DATA_MARKER}") :]
    payload = json.loads(body[: body.rindex("-->")])
    results = {n: [CheckResult(**r) for r in rs] for n, rs in payload["results"].items()}
    return ConformanceReport(payload["generated"], dict(payload["versions"]), results)


def engine_difference(check_id: str, engine_label: str | None = None) -> str | None:
    """One line for a lesson when the engine in use is recorded as differing from SQS on ``check_id``.

    ``None`` when the engine behaves as SQS documents (so the lesson's assertion holds). Otherwise — on moto,
    the engine of last resort — the line says what SQS does and what this engine did, from
    docs/conformance.md, so a lesson never teaches the engine's behaviour as SQS's.
    """
    from labsqs import engine

    if engine_label is None:  # both LocalStack lines give the same results (a test checks it)
        running = engine.current()
        engine_label = running.engine if running is not None else "localstack"
    try:
        results = read_markdown().results.get(engine_label, [])
    except (OSError, ConformanceError):
        return None
    found = next((r for r in results if r.id == check_id), None)
    if found is None or found.ok:
        return None
    return (
        f"note: on {engine_label} this differs from SQS ({found.title}); observed: {found.detail}. "
        "The lesson's result holds on SQS and on LocalStack (docs/conformance.md)."
    )


# ===================================================================================================
# The command line
# ===================================================================================================
def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def engine_endpoint(
    name: str | None = None, endpoint: str | None = None, localstack: str | None = None
) -> Iterator[tuple[str | None, str, str]]:
    """Yield ``(endpoint, engine label, version)`` for the suite to run against.

    ``endpoint`` wins; ``moto`` or a LocalStack line (``localstack="4.13.1"``) starts a throwaway engine on
    a free port (stopped afterwards); other engine names use ``labsqs up`` (reusing a running engine; one
    started here is stopped again); nothing at all means the engine the lab already runs.
    """
    from labsqs import engine
    from labsqs.client import resolve_endpoint

    if endpoint:
        health = engine.localstack_health(endpoint.rstrip("/"))
        label = "localstack" if health else "endpoint"
        yield endpoint, label, str(health.get("version")) if health else "unknown"
        return
    if name == "moto" or localstack:
        with tempfile.TemporaryDirectory(prefix="labsqs-conformance-") as home:
            kind = "moto" if name == "moto" else "localstack"
            with engine.started(
                kind, port=engine.free_port(), home=Path(home), localstack=localstack, progress=_log
            ) as state:
                line = engine.find_localstack_python(localstack)[0] if localstack else None
                yield state.endpoint, line.label if line else "moto", state.description
        return
    if name is not None:
        with engine.started(name, progress=_log) as state:
            yield state.endpoint, state.engine, state.version
        return
    url = resolve_endpoint(None)
    running = engine.current()
    if running is not None and running.endpoint == url:
        yield url, running.engine, running.version
    else:
        health = engine.localstack_health(url) if url else None
        yield url, "localstack" if health else "endpoint", str(health.get("version")) if health else "unknown"


def _bar(i: int, total: int, result: CheckResult, width: int = 20) -> str:
    done = round(width * i / total)
    return (
        f"[{'#' * done}{'.' * (width - done)}] {i:>3}/{total} "
        f"{SYMBOLS[result.status]} {result.status:<13} {result.id} ({result.seconds:.1f} s)"
    )


def _run_engine(
    name: str | None, endpoint: str | None, only: list[str] | None, localstack: str | None = None
) -> dict[str, Any]:
    with engine_endpoint(name, endpoint, localstack) as (url, label, version):
        _log(f"conformance: {len(select(only))} checks against {label} {version} at {url or 'AWS'}")
        t0 = time.monotonic()
        results = run_checks(url, only=only, progress=lambda i, n, r: _log(_bar(i, n, r)))
        wall = time.monotonic() - t0
    _log(f"conformance: {label} done in {wall:.1f} s")
    return {
        "engine": label,
        "endpoint": url,
        "version": version,
        "seconds": round(wall, 1),
        "results": results,
    }


def _installable_lines() -> list[Any]:
    """The LocalStack lines a Python on this machine runs (each gets a column in docs/conformance.md)."""
    from labsqs import engine

    found = []
    for line in engine.LOCALSTACK_LINES:
        try:
            engine.find_localstack_python(line.version)
        except engine.PythonNotFound as exc:
            _log(f"conformance: skipping LocalStack {line.version}: {exc.message}")
            continue
        found.append(line)
    return found


def _as_json(run: dict[str, Any]) -> dict[str, Any]:
    return {**run, "summary": counts(run["results"]), "results": [asdict(r) for r in run["results"]]}


def _cmd_conformance(args: argparse.Namespace) -> int:
    if args.list:
        for c in CHECKS:
            print(f"{c.id:<36} {c.title}")
        return 0
    select(args.only)  # unknown ids fail before any engine starts
    if args.write_docs:
        if args.only or args.endpoint or args.engine:
            _log(
                "labsqs: --write-docs runs every check against each LocalStack line and moto; "
                "drop --only/--engine/--endpoint"
            )
            return 2
        runs = [_run_engine("localstack", None, None, line.version) for line in _installable_lines()]
        runs.append(_run_engine("moto", None, None))
        versions = {
            r["engine"]: f"{r['version']} on the host (`labsqs up`)"
            if r["engine"] != "moto"
            else f"{r['version']} server (`python -m moto.server`)"
            for r in runs
        }
        path = write_markdown({r["engine"]: r["results"] for r in runs}, args.docs_path, versions=versions)
        if args.json:
            print(json.dumps([_as_json(r) for r in runs], indent=2, ensure_ascii=False))
        else:
            for r in runs:
                t = counts(r["results"])
                print(f"{r['engine']:<11} {t[PASS]} pass, {t[FAIL]} fail, {t[NOT_SUPPORTED]} not-supported, "
                      f"{t[ERROR]} error in {r['seconds']} s")  # fmt: skip
            print(f"wrote {path}")
        return 1 if any(r.status == ERROR for run in runs for r in run["results"]) else 0
    run = _run_engine(args.engine, args.endpoint, args.only)
    if args.json:
        print(json.dumps(_as_json(run), indent=2, ensure_ascii=False))
    else:
        print(render_table(run["results"]))
    return 1 if any(r.status == ERROR for r in run["results"]) else 0


def register_cli(
    subparsers: argparse._SubParsersAction, commands: dict[str, Callable[[argparse.Namespace], int]]
) -> None:
    """Add ``labsqs conformance`` to the lab's command."""
    from labsqs import engine

    p = subparsers.add_parser(
        "conformance",
        help="run behavioural checks: where an SQS engine behaves like SQS (exit 1 if a check errored)",
    )
    p.add_argument(
        "--engine", choices=engine.ENGINES, help="moto: a throwaway moto server; others: `labsqs up`"
    )
    p.add_argument("--endpoint", help="any SQS endpoint (default: the lab's running engine)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument(
        "--only", nargs="+", action="extend", metavar="ID", help="check ids or groups (fifo, dlq, …)"
    )
    p.add_argument("--list", action="store_true", help="list the checks and exit")
    p.add_argument(
        "--write-docs",
        action="store_true",
        help="run against every LocalStack line and moto and write the matrix to docs/conformance.md",
    )
    p.add_argument("--docs-path", default=str(DOCS_PATH), help=argparse.SUPPRESS)
    commands["conformance"] = _cmd_conformance
