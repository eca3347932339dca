"""A received message as a handler sees it (:class:`Message`), and one failed handler call as data."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from labsqs.base.calls import message_attribute_value
from labsqs.errors import InvalidMessage

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Message:
    """One received message, as a handler sees it.

    ``attributes`` are SQS's system attributes (``ApproximateReceiveCount``, ``SentTimestamp``,
    ``MessageGroupId``, ``SequenceNumber`` ...); ``message_attributes`` are the producer's own, as values
    (String/Number → ``str``, Binary → ``bytes``).
    """

    message_id: str
    receipt_handle: str
    body: str
    queue_url: str
    attributes: Mapping[str, str] = field(default_factory=dict, compare=False)
    message_attributes: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_sqs(cls, raw: Mapping[str, Any], queue_url: str) -> Message:
        """Build from one entry of a ReceiveMessage answer."""
        # read-only views over the answer's own (fresh) dicts: no copies on the hot path
        attrs = raw.get("MessageAttributes")
        return cls(
            raw["MessageId"],
            raw["ReceiptHandle"],
            raw.get("Body", ""),
            queue_url,
            MappingProxyType(raw.get("Attributes") or {}),
            MappingProxyType({k: message_attribute_value(v) for k, v in attrs.items()}) if attrs else _EMPTY,
        )

    @property
    def receive_count(self) -> int:
        """How many times SQS has delivered this message (1 on the first delivery)."""
        return int(self.attributes.get("ApproximateReceiveCount", "1"))

    @property
    def group_id(self) -> str | None:
        """The FIFO message group (None on standard queues)."""
        return self.attributes.get("MessageGroupId")

    @property
    def sent_at(self) -> datetime:
        """When SQS accepted the message (UTC)."""
        return datetime.fromtimestamp(int(self.attributes["SentTimestamp"]) / 1000, tz=UTC)

    def json(self) -> Any:
        """The body parsed as JSON; :class:`~labsqs.errors.InvalidMessage` says why when it is not."""
        try:
            return json.loads(self.body)
        except json.JSONDecodeError as exc:
            preview = self.body[:40] + ("..." if len(self.body) > 40 else "")
            raise InvalidMessage(
                f"message {self.message_id} body is not JSON ({exc.msg} at line {exc.lineno} "
                f"column {exc.colno}): {preview!r}",
                hint="send JSON bodies (json.dumps) or read message.body as text",
            ) from exc


@dataclass(frozen=True, slots=True)
class MessageFailure:
    """One failed handler call, kept as data (``ConsumerStats.failures``)."""

    message_id: str
    group_id: str | None
    receive_count: int
    error: str
