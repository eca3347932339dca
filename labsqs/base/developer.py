"""LocalStack's developer endpoints: what a local engine can show that SQS itself cannot.

LocalStack serves them beside the AWS APIs: ``/_aws/sqs/messages`` lists a queue's messages without
receiving them (no receive count spent, no message hidden), ``/_aws/ses`` lists the emails SES sent. AWS
has no such thing, and neither has moto's in-process ``mock_aws``, which poses as AWS's regional hosts:
every function here answers ``None`` there, and its callers say so instead of guessing.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any

from labsqs.base.calls import NON_EXISTENT_QUEUE_CODES, queue_name
from labsqs.errors import QueueNotFound

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

PEEK_PATH = "/_aws/sqs/messages"  # LocalStack's side-effect-free message listing
PEEK_TIMEOUT_SECONDS = 5.0
GET_TIMEOUT_SECONDS = 5.0


def developer_endpoint(client: Any) -> str | None:
    """The base URL of the local engine a boto3 client talks to, or ``None`` on real AWS."""
    endpoint = str(client.meta.endpoint_url or "").rstrip("/")
    host = urllib.parse.urlsplit(endpoint).hostname or ""
    if not endpoint or host.endswith("amazonaws.com"):
        return None
    return endpoint


def get_json(url: str, *, timeout: float = GET_TIMEOUT_SECONDS) -> Any:
    """``GET url`` as JSON, or ``None`` when the engine has no such endpoint (or is not answering)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return json.loads(response.read().decode())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def peek_messages(sqs: SQSClient, url: str) -> list[dict[str, Any]] | None:
    """Every message of the queue at ``url`` (visible, in flight and delayed) with no side effect, or
    ``None`` when the engine has no developer endpoint (AWS, moto).

    ``POST {endpoint}/_aws/sqs/messages?ShowInvisible=true&ShowDelayed=true`` in the JSON protocol: each
    message has the shape ``ReceiveMessage`` returns, plus the attributes ``IsVisible`` and ``IsDelayed``.
    """
    endpoint = developer_endpoint(sqs)
    if endpoint is None:
        return None
    request = urllib.request.Request(
        f"{endpoint}{PEEK_PATH}?ShowInvisible=true&ShowDelayed=true",
        data=json.dumps({"QueueUrl": url}).encode(),
        method="POST",
        headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.ReceiveMessage"},
    )
    try:
        with urllib.request.urlopen(request, timeout=PEEK_TIMEOUT_SECONDS) as response:
            answer = json.loads(response.read().decode())
    except urllib.error.HTTPError as exc:
        text = exc.read().decode(errors="replace")
        if exc.code == 400 and any(code in text for code in NON_EXISTENT_QUEUE_CODES):
            raise QueueNotFound(
                f"queue {queue_name(url)} does not exist",
                hint="check the URL or create the queue first",
                code="QueueDoesNotExist",
            ) from exc
        return None
    except (urllib.error.URLError, OSError, ValueError):
        return None
    if not isinstance(answer, dict) or not isinstance(answer.get("Messages", []), list):
        return None
    return list(answer.get("Messages", []))
