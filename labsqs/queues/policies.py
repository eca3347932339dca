"""A queue's attributes as typed values: the two redrive policies and :class:`QueueAttributes`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from labsqs.base.calls import queue_name
from labsqs.base.depth import Depth
from labsqs.base.limits import (
    DEFAULT_RETENTION_SECONDS,
    DEFAULT_VISIBILITY_TIMEOUT_SECONDS,
    FIFO_SUFFIX,
    MAX_MESSAGE_BYTES,
)
from labsqs.queues.spec import FrozenMap, arn_name


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
    depth: Depth  # the three gauges: visible, in flight, delayed (SQS's ApproximateNumberOfMessages...)
    created_at: datetime | None
    modified_at: datetime | None
    sqs_managed_sse: bool | None
    kms_master_key_id: str | None
    raw: Mapping[str, str]

    @property
    def approximate_number_of_messages(self) -> int:
        """Visible: waiting to be received (``depth.visible``)."""
        return self.depth.visible

    @property
    def approximate_number_of_messages_not_visible(self) -> int:
        """In flight: received, not yet deleted (``depth.in_flight``)."""
        return self.depth.in_flight

    @property
    def approximate_number_of_messages_delayed(self) -> int:
        """Sent with a delay that has not passed yet (``depth.delayed``)."""
        return self.depth.delayed

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
        name = queue_name(arn or url)
        return cls(
            name=name,
            url=url,
            arn=arn,
            fifo=bool(flag("FifoQueue")) or name.endswith(FIFO_SUFFIX),
            visibility_timeout_seconds=num("VisibilityTimeout", DEFAULT_VISIBILITY_TIMEOUT_SECONDS),
            retention_seconds=num("MessageRetentionPeriod", DEFAULT_RETENTION_SECONDS),
            receive_wait_seconds=num("ReceiveMessageWaitTimeSeconds"),
            delay_seconds=num("DelaySeconds"),
            max_message_size_bytes=num("MaximumMessageSize", MAX_MESSAGE_BYTES),
            content_based_dedup=bool(flag("ContentBasedDeduplication")),
            deduplication_scope=raw.get("DeduplicationScope"),
            fifo_throughput_limit=raw.get("FifoThroughputLimit"),
            redrive_policy=RedrivePolicy.parse(raw["RedrivePolicy"]) if raw.get("RedrivePolicy") else None,
            redrive_allow_policy=(
                RedriveAllowPolicy.parse(raw["RedriveAllowPolicy"]) if raw.get("RedriveAllowPolicy") else None
            ),
            depth=Depth.from_attributes(raw),
            created_at=when("CreatedTimestamp"),
            modified_at=when("LastModifiedTimestamp"),
            sqs_managed_sse=flag("SqsManagedSseEnabled"),
            kms_master_key_id=raw.get("KmsMasterKeyId"),
            raw=FrozenMap(raw),
        )
