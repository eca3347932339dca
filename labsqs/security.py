"""Who may do what with a queue: IAM actions, least-privilege policies and how to check them.

On AWS every SQS request is authorised twice over: the caller's **identity policies** (IAM users and roles)
and the queue's own **resource policy** (its ``Policy`` attribute; lesson 8's SNS → SQS statement is one).
An action is allowed when some statement allows it and none denies it. **Least privilege** means the
producer's role may ``sqs:SendMessage`` to its queue and nothing else, the consumer's may receive, delete
and extend the visibility of messages of *its* queue, and neither holds ``sqs:*`` or ``Resource: *``.

IAM knows no batch actions: ``SendMessageBatch`` is authorised by ``sqs:SendMessage``,
``DeleteMessageBatch`` by ``sqs:DeleteMessage``, ``ChangeMessageVisibilityBatch`` by
``sqs:ChangeMessageVisibility`` (:func:`iam_action`). With SSE-KMS and a customer managed key the producer
also needs ``kms:GenerateDataKey`` and the consumer ``kms:Decrypt`` on that key.

LocalStack's open-source core **does not enforce IAM**: every request is allowed, whatever the policy. So
the lab checks policies another honest way: :class:`CallRecorder` records the API calls the lab's own
producer and consumer code really makes against the engine, and :func:`evaluate` asks moto's IAM policy
evaluator (the one moto uses when it enforces IAM) whether a policy allows each of those actions on the
queue's ARN. The evaluator follows AWS's order (an explicit deny wins, then an allow, else denied by
default); it ignores most ``Condition`` keys, which the lab's checks do not rely on.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

POLICY_VERSION = "2012-10-17"
ALLOWED, DENIED, IMPLICIT_DENY = "allowed", "denied", "not allowed (no statement allows it)"


def iam_action(operation: str, service: str = "sqs") -> str:
    """The IAM action that authorises one API operation (``SendMessageBatch`` → ``sqs:SendMessage``)."""
    if service == "sqs" and operation.endswith("Batch"):
        operation = operation.removesuffix("Batch")
    return f"{service}:{operation}"


def iam_actions(operations: Iterable[str], service: str = "sqs") -> list[str]:
    """The distinct IAM actions a set of API operations needs, sorted."""
    return sorted({iam_action(op, service) for op in operations})


class CallRecorder:
    """Records every API operation a boto3 client makes while the ``with`` block runs.

    >>> with CallRecorder(sqs) as calls:
    ...     send_many(q, jobs, sqs=sqs)
    >>> calls.actions()                      # ['sqs:GetQueueUrl', 'sqs:SendMessage']
    """

    def __init__(self, client: Any) -> None:
        self.client = client
        self.operations: Counter[str] = Counter()
        self._service = client.meta.service_model.signing_name or client.meta.service_model.service_name
        self._event = f"before-call.{client.meta.service_model.service_id.hyphenize()}"

    def _record(self, model: Any, **_: Any) -> None:
        self.operations[model.name] += 1

    def __enter__(self) -> CallRecorder:
        self.client.meta.events.register(self._event, self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.meta.events.unregister(self._event, self._record)

    def actions(self) -> list[str]:
        return iam_actions(self.operations, self._service)


def policy(*statements: Mapping[str, Any]) -> dict[str, Any]:
    """A policy document from statements (dicts with Effect, Action, Resource, ...)."""
    return {"Version": POLICY_VERSION, "Statement": [dict(s) for s in statements]}


def evaluate(document: Mapping[str, Any] | str, actions: Iterable[str], resource: str) -> dict[str, str]:
    """For each action: is it allowed on ``resource`` by this identity policy? (moto's IAM evaluator)."""
    from moto.iam.access_control import IAMPolicy, PermissionResult

    text = document if isinstance(document, str) else json.dumps(document)
    evaluator = IAMPolicy(text)
    verdict = {PermissionResult.PERMITTED: ALLOWED, PermissionResult.DENIED: DENIED}
    return {a: verdict.get(evaluator.is_action_permitted(a, resource), IMPLICIT_DENY) for a in actions}


def broad_grants(document: Mapping[str, Any] | str) -> list[str]:
    """Statements that allow more than least privilege would: wildcard actions or resources."""
    doc = json.loads(document) if isinstance(document, str) else document
    statements = doc.get("Statement", [])
    found = []
    for s in statements if isinstance(statements, list) else [statements]:
        if s.get("Effect") != "Allow":
            continue
        for key in ("Action", "Resource"):
            values = s.get(key, [])
            for v in [values] if isinstance(values, str) else values:
                if "*" in v:
                    found.append(f"{key} {v}")
        if "NotAction" in s or "NotResource" in s:
            found.append("Allow with NotAction/NotResource")
    return found
