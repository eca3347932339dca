"""Trigger: what AWS does when "SQS automatically triggers a Lambda", run on your laptop.

In AWS you do not write the polling loop for a Lambda consumer: an **event source mapping** does it. A
fleet of pollers long-polls the queue, groups up to ``batch_size`` messages into one *event*, invokes your
function with it, and settles the batch from the result:

- the function returns normally → every message in the batch is deleted;
- the function raises (or, on AWS, times out) → *nothing* is deleted: every message comes back after the
  queue's visibility timeout, including the ones your code already handled (so handlers must be
  idempotent). Here a function is never killed: ``context.get_remaining_time_in_millis()`` only counts
  down from ``function_timeout_seconds``;
- with ``FunctionResponseTypes=["ReportBatchItemFailures"]`` the function may instead return
  ``{"batchItemFailures": [{"itemIdentifier": "<messageId>"}, ...]}``: those messages stay, all others are
  deleted. An empty or missing list means "all succeeded"; an answer Lambda cannot read (not an object,
  an identifier that is empty, null or not in the batch) fails the whole batch.

Failed messages are not made visible early: they wait out the visibility timeout, and after
``maxReceiveCount`` receives the queue's redrive policy moves them to the DLQ.

:func:`run_trigger` is that mapping, in-process: it builds the exact event shape Lambda sends
(``Records[].messageId/receiptHandle/body/attributes/messageAttributes/md5OfBody/eventSource/
eventSourceARN/awsRegion``, message attributes in Lambda's ``stringValue``/``binaryValue``/``dataType``
form) and a context object, so a handler written for Lambda — including one built on aws-lambda-powertools'
``BatchProcessor`` / ``SqsFifoPartialProcessor`` and ``process_partial_response`` — runs unchanged.

>>> stats = run_trigger(url, lambda_handler, batch_size=10, idle_polls=1)
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from labsqs.base.calls import default_sqs, delete_messages, read_attributes, receive_messages
from labsqs.base.limits import MAX_MESSAGES_PER_RECEIVE, MAX_WAIT_TIME_SECONDS
from labsqs.consumer.stats import MAX_FAILURES_KEPT
from labsqs.errors import InvalidConsumerOption
from labsqs.queues import queue_url

if TYPE_CHECKING:
    import pandas as pd
    from mypy_boto3_sqs import SQSClient

DEFAULT_FUNCTION_NAME = "labsqs-handler"
DEFAULT_FUNCTION_TIMEOUT_SECONDS = 30.0
DEFAULT_MEMORY_LIMIT_MB = 128
LAMBDA_ACCOUNT_ID = "000000000000"  # the local engines' account


# --- wire shapes: what Lambda hands the function ---------------------------------------------------
class SqsMessageAttribute(TypedDict):
    """Lambda's shape of a message attribute (camelCase; binary values base64; absent values null)."""

    stringValue: str | None
    binaryValue: str | None  # base64
    stringListValues: list[str]
    binaryListValues: list[str]
    dataType: str


class SqsEventRecord(TypedDict):
    messageId: str
    receiptHandle: str
    body: str
    attributes: dict[str, str]
    messageAttributes: dict[str, SqsMessageAttribute]
    md5OfBody: str
    md5OfMessageAttributes: NotRequired[str]
    eventSource: str
    eventSourceARN: str
    awsRegion: str


class SqsEvent(TypedDict):
    Records: list[SqsEventRecord]


def _lambda_attribute(attr: Mapping[str, Any]) -> SqsMessageAttribute:
    binary = attr.get("BinaryValue")
    return {
        "stringValue": attr.get("StringValue"),
        "binaryValue": base64.b64encode(binary).decode() if binary is not None else None,
        "stringListValues": list(attr.get("StringListValues", [])),
        "binaryListValues": [base64.b64encode(b).decode() for b in attr.get("BinaryListValues", [])],
        "dataType": attr["DataType"],
    }


def event_record(raw: Mapping[str, Any], queue_arn: str, region: str) -> SqsEventRecord:
    """One ReceiveMessage entry in the shape of a Lambda SQS event record."""
    record: SqsEventRecord = {
        "messageId": raw["MessageId"],
        "receiptHandle": raw["ReceiptHandle"],
        "body": raw.get("Body", ""),
        "attributes": dict(raw.get("Attributes") or {}),
        "messageAttributes": {
            k: _lambda_attribute(v) for k, v in (raw.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": raw.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if raw.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = raw["MD5OfMessageAttributes"]
    return record


def sqs_event(raws: Sequence[Mapping[str, Any]], queue_arn: str, region: str) -> SqsEvent:
    """A whole Lambda SQS event for a received batch."""
    return {"Records": [event_record(r, queue_arn, region) for r in raws]}


@dataclass(frozen=True)
class LambdaContext:
    """The context object Lambda passes as the second argument (the attributes handlers use)."""

    function_name: str
    aws_request_id: str
    invoked_function_arn: str
    deadline_monotonic: float
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = DEFAULT_MEMORY_LIMIT_MB
    log_group_name: str = ""
    log_stream_name: str = ""
    identity: Any = None
    client_context: Any = None

    @classmethod
    def new(cls, function_name: str, region: str, timeout_seconds: float) -> LambdaContext:
        day = time.strftime("%Y/%m/%d")
        return cls(
            function_name=function_name,
            aws_request_id=str(uuid.uuid4()),
            invoked_function_arn=f"arn:aws:lambda:{region}:{LAMBDA_ACCOUNT_ID}:function:{function_name}",
            deadline_monotonic=time.monotonic() + timeout_seconds,
            log_group_name=f"/aws/lambda/{function_name}",
            log_stream_name=f"{day}/[$LATEST]{uuid.uuid4().hex}",
        )

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline_monotonic - time.monotonic()) * 1000))


# --- results -----------------------------------------------------------------------------------------
@dataclass
class TriggerStats:
    """What the trigger did: per invocation, per record, and per delete."""

    receives: int = 0
    empty_receives: int = 0
    invocations: int = 0
    records: int = 0
    succeeded: int = 0
    failed: int = 0
    deleted: int = 0
    delete_failed: int = 0
    handler_errors: int = 0  # invocations that raised: whole batch failed
    invalid_responses: int = 0  # unreadable batchItemFailures: whole batch failed
    failed_message_ids: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_FAILURES_KEPT))
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None

    def snapshot(self) -> dict[str, Any]:
        data = {
            k: getattr(self, k)
            for k in (
                "receives",
                "empty_receives",
                "invocations",
                "records",
                "succeeded",
                "failed",
                "deleted",
                "delete_failed",
                "handler_errors",
                "invalid_responses",
            )
        }
        data["elapsed_seconds"] = round((self.finished_at or time.time()) - self.started_at, 3)
        return data

    as_dict = snapshot

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([self.snapshot()])


# --- settling one invocation -----------------------------------------------------------------------
def failed_ids(
    response: Any, message_ids: Sequence[str], *, report_batch_item_failures: bool
) -> tuple[set[str], bool]:
    """Which messages of a batch failed, from the function's return value (Lambda's rules).

    Returns ``(failed, valid)``; an invalid partial-failure answer fails the whole batch.
    """
    if not report_batch_item_failures or response is None:
        return set(), True
    if not isinstance(response, Mapping):
        return set(message_ids), False
    items = response.get("batchItemFailures")
    if not items:
        return set(), True
    if not isinstance(items, list):
        return set(message_ids), False
    known, failed = set(message_ids), set()
    for item in items:
        ident = item.get("itemIdentifier") if isinstance(item, Mapping) else None
        if not isinstance(ident, str) or not ident or ident not in known:
            return set(message_ids), False
        failed.add(ident)
    return failed, True


def _check(batch_size: int, wait_time_seconds: int, max_batches: int | None, idle_polls: int | None) -> None:
    if not 1 <= batch_size <= MAX_MESSAGES_PER_RECEIVE:
        raise InvalidConsumerOption(
            f"batch_size must be 1..{MAX_MESSAGES_PER_RECEIVE} here (one receive per event), got {batch_size}"
        )
    if not 0 <= wait_time_seconds <= MAX_WAIT_TIME_SECONDS:
        raise InvalidConsumerOption(
            f"wait_time_seconds must be 0..{MAX_WAIT_TIME_SECONDS}, got {wait_time_seconds}"
        )
    for name, value in (("max_batches", max_batches), ("idle_polls", idle_polls)):
        if value is not None and value < 1:
            raise InvalidConsumerOption(f"{name} must be >= 1 (or None for no limit), got {value}")


def _queue_arn(queue: Any, sqs: SQSClient, url: str) -> str:
    arn = getattr(queue, "arn", None)
    if isinstance(arn, str) and arn:
        return arn
    return read_attributes(sqs, url, ["QueueArn"])["QueueArn"]


@dataclass(frozen=True)
class EventSourceMapping:
    """The settings an AWS event source mapping holds for one queue → function pair."""

    queue_url: str
    queue_arn: str
    region: str
    batch_size: int = MAX_MESSAGES_PER_RECEIVE
    report_batch_item_failures: bool = True
    wait_time_seconds: int = MAX_WAIT_TIME_SECONDS
    function_name: str = DEFAULT_FUNCTION_NAME
    function_timeout_seconds: float = DEFAULT_FUNCTION_TIMEOUT_SECONDS


def run_trigger(
    queue: Any,
    handler: Callable[[dict[str, Any], LambdaContext], dict[str, Any] | None],
    *,
    batch_size: int = MAX_MESSAGES_PER_RECEIVE,
    report_batch_item_failures: bool = True,
    sqs: SQSClient | None = None,
    max_batches: int | None = None,
    idle_polls: int | None = None,
    wait_time_seconds: int = MAX_WAIT_TIME_SECONDS,
    function_name: str = DEFAULT_FUNCTION_NAME,
    function_timeout_seconds: float = DEFAULT_FUNCTION_TIMEOUT_SECONDS,
    stop: threading.Event | None = None,
) -> TriggerStats:
    """Poll ``queue`` like a Lambda event source mapping and invoke ``handler(event, context)``.

    Runs until ``max_batches`` invocations, ``idle_polls`` empty receives in a row, or ``stop`` is set
    (checked between receives). ``report_batch_item_failures`` is the mapping's
    ``FunctionResponseTypes=["ReportBatchItemFailures"]``.
    """
    _check(batch_size, wait_time_seconds, max_batches, idle_polls)
    if function_timeout_seconds <= 0:
        raise InvalidConsumerOption(f"function_timeout_seconds must be > 0, got {function_timeout_seconds}")
    if not callable(handler):
        raise InvalidConsumerOption(f"handler must be callable (event, context), got {handler!r}")
    sqs = default_sqs(sqs)
    url = queue_url(queue, sqs=sqs)
    mapping = EventSourceMapping(
        queue_url=url,
        queue_arn=_queue_arn(queue, sqs, url),
        region=sqs.meta.region_name or "us-east-1",
        batch_size=batch_size,
        report_batch_item_failures=report_batch_item_failures,
        wait_time_seconds=wait_time_seconds,
        function_name=function_name,
        function_timeout_seconds=function_timeout_seconds,
    )
    stats = TriggerStats()
    idle = 0
    try:
        while (max_batches is None or stats.invocations < max_batches) and not (stop and stop.is_set()):
            raws = receive_messages(sqs, url, max_messages=batch_size, wait_time_seconds=wait_time_seconds)
            stats.receives += 1
            if raws:
                idle = 0
                invoke_and_settle(sqs, mapping, raws, handler, stats)
                continue
            stats.empty_receives += 1
            idle += 1
            if idle_polls is not None and idle >= idle_polls:
                break
    finally:
        stats.finished_at = time.time()
    return stats


def invoke_and_settle(
    sqs: SQSClient,
    mapping: EventSourceMapping,
    raws: Sequence[Mapping[str, Any]],
    handler: Callable[[dict[str, Any], LambdaContext], Any],
    stats: TriggerStats,
) -> set[str]:
    """One invocation: build the event, call the function, delete what succeeded; returns failed ids."""
    event = sqs_event(raws, mapping.queue_arn, mapping.region)
    context = LambdaContext.new(mapping.function_name, mapping.region, mapping.function_timeout_seconds)
    ids = [r["MessageId"] for r in raws]
    stats.invocations += 1
    stats.records += len(raws)
    try:
        response = handler(dict(event), context)
    except Exception:  # noqa: BLE001 - a raising function fails its whole batch, like Lambda
        stats.handler_errors += 1
        failed = set(ids)
    else:
        failed, valid = failed_ids(
            response, ids, report_batch_item_failures=mapping.report_batch_item_failures
        )
        stats.invalid_responses += 0 if valid else 1
    stats.failed += len(failed)
    stats.succeeded += len(raws) - len(failed)
    stats.failed_message_ids.extend(i for i in ids if i in failed)
    to_delete = [r["ReceiptHandle"] for r in raws if r["MessageId"] not in failed]
    if to_delete:
        errors = delete_messages(sqs, mapping.queue_url, to_delete)
        stats.deleted += len(to_delete) - len(errors)
        stats.delete_failed += len(errors)
    return failed
