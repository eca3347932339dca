"""Create, look up and delete queues: :func:`ensure_queue` (idempotent, with its DLQ and both policies),
:func:`get_queue`, :func:`queue_attributes`, :func:`queue_url`, :func:`delete_queue`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from labsqs.base.calls import default_sqs, queue_missing, queue_not_found, read_attributes
from labsqs.base.limits import MAX_REDRIVE_SOURCE_QUEUES
from labsqs.errors import InvalidQueueName, QueueAttributesMismatch, QueueNotFound
from labsqs.queues.policies import QueueAttributes, RedriveAllowPolicy, RedrivePolicy
from labsqs.queues.spec import Queue, QueueSpec, arn_name, validate_queue_name, validate_spec

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

QUEUE_EXISTS_CODES = frozenset({"QueueAlreadyExists", "QueueNameExists"})


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
    client = default_sqs(sqs)
    try:
        return client.get_queue_url(QueueName=queue)["QueueUrl"]
    except ClientError as err:
        if queue_missing(err):
            raise queue_not_found(queue, err) from err
        raise


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
        raise queue_not_found(name)
    return url


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
    client = default_sqs(sqs)
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
    arn = read_attributes(client, url)["QueueArn"]
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
    raw = read_attributes(client, url)
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
    raw = read_attributes(client, url)
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
            dlq_raw = read_attributes(client, dlq_url)
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
    client = default_sqs(sqs)
    url = queue_url(name, sqs=client)
    attrs = QueueAttributes.parse(url, read_attributes(client, url))
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
    client = default_sqs(sqs)
    url = queue_url(queue, sqs=client)
    return QueueAttributes.parse(url, read_attributes(client, url))


def delete_queue(
    queue: Queue | str, *, sqs: SQSClient | None = None, with_dlq: bool = True, missing_ok: bool = False
) -> None:
    """Delete a queue and (``with_dlq``) its DLQ — unless other queues still use that DLQ.

    Deleting is immediate for the lab's engines; on AWS the name stays reserved for 60 s.
    ``missing_ok=True`` makes deleting a queue that is already gone a no-op.
    """
    client = default_sqs(sqs)
    try:
        url = queue_url(queue, sqs=client)
    except QueueNotFound:
        if missing_ok:
            return
        raise
    dlq_url = queue.dlq_url if isinstance(queue, Queue) else None
    if with_dlq and dlq_url is None:
        try:
            text = read_attributes(client, url, ["RedrivePolicy"]).get("RedrivePolicy")
        except QueueNotFound:
            if missing_ok:
                return
            raise
        if text:
            dlq_url = _find_url(client, RedrivePolicy.parse(text).dlq_name)
    try:
        client.delete_queue(QueueUrl=url)
    except ClientError as err:
        if not queue_missing(err):
            raise
        if not missing_ok:
            raise queue_not_found(url, err) from err
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
