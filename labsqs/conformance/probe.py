"""The probe: what a conformance check uses to talk to the engine.

A check gets a :class:`Probe` and nothing else: it creates uniquely named queues through it (all deleted
when the check ends, whatever happened), sends and receives with every attribute asked for, and states its
verdicts with :meth:`Probe.expect` (fail with what was observed) and :meth:`Probe.rejected` (SQS refuses
this request: fail if the engine accepted it). The probe sends plain boto3 requests on purpose (a receive
goes through :func:`labsqs.base.calls.receive_messages`, which adds nothing but "every attribute"): the
checks test the *engine*, not the lab's own modules.

An engine says "this API does not exist here" in several ways (``NotImplemented``, ``InternalFailure``,
HTTP 5xx): :func:`is_unsupported` recognises them, so a check about a missing API ends as
``not-supported`` rather than ``fail``.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from labsqs.base.calls import error_code as _bare_error_code
from labsqs.base.calls import receive_messages
from labsqs.conformance.documented import MAX_MESSAGES_PER_RECEIVE

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

# --- how the checks behave -------------------------------------------------------------------------
SWEEP_SLACK_SECONDS = 1.5  # LocalStack applies expired visibility/delay once a second
QUEUE_PREFIX = "cf"
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


class CheckFailed(Exception):
    """Raised inside a check when the engine did not do what SQS documents."""

    def __init__(self, observed: str) -> None:
        super().__init__(observed)
        self.observed = observed


# --- reading an engine's refusal -------------------------------------------------------------------
def code_matches(code: str, wanted: str) -> bool:
    """``code`` is the documented ``wanted`` code, or one of its query-protocol spellings."""
    return code == wanted or code.endswith("." + wanted) or code in CODE_ALIASES.get(wanted, ())


def is_unsupported(exc: ClientError) -> bool:
    """The engine answered "not implemented" (or HTTP 5xx): the API is missing, not refusing."""
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return status >= 500 or exc.response.get("Error", {}).get("Code", "") in NOT_IMPLEMENTED_CODES


def error_code(exc: ClientError) -> str:
    """The refusal's error code, ``?`` when the answer had none (a result's detail always names one)."""
    return _bare_error_code(exc) or "?"


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
        self, url: str, *, n: int = MAX_MESSAGES_PER_RECEIVE, wait: int = 0, visibility: int | None = None
    ) -> list[dict[str, Any]]:
        """One ReceiveMessage asking for every system and message attribute (the request itself)."""
        got = receive_messages(
            self.sqs, url, max_messages=n, wait_time_seconds=wait, visibility_timeout=visibility
        )
        return [dict(m) for m in got]

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
            if is_unsupported(exc):
                raise
            code = error_code(exc)
            if wanted and not any(code_matches(code, w) for w in wanted):
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
