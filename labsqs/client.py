"""The one place a boto3 SQS client is built.

An SQS *endpoint* is the HTTP address your SDK talks to. On real AWS it is regional
(``https://sqs.us-east-1.amazonaws.com``); in the lab it is a local engine on your laptop
(``http://127.0.0.1:4566``, LocalStack). Everything else — the API, the requests, the answers — is the
same, which is why code written against the lab runs unchanged against AWS.

Where the endpoint comes from (:func:`labsqs.engine.resolve_endpoint`), first match wins:

1. the ``endpoint=`` argument,
2. the ``LABSQS_ENDPOINT`` environment variable (any running SQS-compatible endpoint),
3. the engine the lab started (``labsqs up`` records it),
4. ``http://127.0.0.1:4566``.

Local engines get dummy credentials (``test``/``test``): the lab never reads your AWS credentials unless
the engine is ``aws`` *and* you opted in (``LABSQS_ALLOW_AWS=1`` or ``allow_aws=True``).

The client uses botocore's ``standard`` retry mode, a short connect timeout (a dead endpoint is reported
within ~3 s as :class:`~labsqs.errors.EndpointUnavailable`, naming the endpoint and ``labsqs up``), and a
read timeout above the 20 s long poll, so a long poll is never cut short by the client.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
)

from labsqs.engine import aws_allowed, resolve_endpoint  # re-exported: the lab's endpoint
from labsqs.errors import AwsNotAllowed, EndpointUnavailable

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

DEFAULT_REGION = "us-east-1"
LOCAL_ACCESS_KEY = "test"  # LocalStack and moto accept any key; "test" is their convention
LOCAL_SECRET_KEY = "test"
# longer than SQS's 20 s long-poll ceiling (labsqs.base.limits.MAX_WAIT_TIME_SECONDS, a layer above: the
# client cannot import it; tests/test_client.py checks the margin), so a long poll is never cut
READ_TIMEOUT_SECONDS = 30
CONNECT_TIMEOUT_SECONDS = 1.0
DEFAULT_POOL_CONNECTIONS = 50  # enough for the consumer's workers and Locust users sharing one client

_UNAVAILABLE = (EndpointConnectionError, ConnectTimeoutError, ConnectionClosedError)


def _raise_unavailable(endpoint: str | None, **kwargs: Any) -> None:
    exc = kwargs.get("exception")
    if isinstance(exc, _UNAVAILABLE):
        where = endpoint or "the AWS regional endpoint"
        raise EndpointUnavailable(
            f"no SQS endpoint answers at {where}",
            hint="start one with `labsqs up` (or set LABSQS_ENDPOINT to a running endpoint)",
            code=type(exc).__name__,
        ) from exc


def _client(
    service: str,
    endpoint: str | None,
    *,
    region: str | None,
    max_pool_connections: int,
    allow_aws: bool | None,
    read_timeout: float,
) -> Any:
    url = resolve_endpoint(endpoint)
    local = url is not None
    config = Config(
        retries={"mode": "standard", "max_attempts": 2 if local else 5},
        connect_timeout=CONNECT_TIMEOUT_SECONDS if local else 5,
        read_timeout=read_timeout,
        max_pool_connections=max_pool_connections,
        tcp_keepalive=True,
    )
    if local:
        client = boto3.session.Session().client(
            service,
            endpoint_url=url,
            region_name=region or os.environ.get("LABSQS_REGION", DEFAULT_REGION),
            aws_access_key_id=LOCAL_ACCESS_KEY,
            aws_secret_access_key=LOCAL_SECRET_KEY,
            config=config,
        )
    else:
        if not aws_allowed(allow_aws):
            raise AwsNotAllowed(
                "the `aws` engine talks to real AWS and bills your account",
                hint="opt in explicitly with LABSQS_ALLOW_AWS=1 (or allow_aws=True), "
                "or use a local engine: `labsqs up`",
            )
        client = boto3.session.Session().client(service, region_name=region, config=config)
    client.meta.events.register(f"after-call-error.{service}.*", lambda **kw: _raise_unavailable(url, **kw))
    return client


def sqs_client(
    endpoint: str | None = None,
    *,
    region: str | None = None,
    max_pool_connections: int = DEFAULT_POOL_CONNECTIONS,
    allow_aws: bool | None = None,
    read_timeout: float = READ_TIMEOUT_SECONDS,
) -> SQSClient:
    """Build a boto3 SQS client for the lab's endpoint (or real AWS, with the opt-in).

    >>> sqs = sqs_client()                       # the running lab engine
    >>> sqs = sqs_client("http://127.0.0.1:4566")  # any endpoint
    """
    return _client(
        "sqs", endpoint, region=region, max_pool_connections=max_pool_connections,
        allow_aws=allow_aws, read_timeout=read_timeout,
    )  # fmt: skip


def service_client(
    service: str, endpoint: str | None = None, *, region: str | None = None, allow_aws: bool | None = None
) -> Any:
    """A boto3 client for another AWS service the seeds use beside SQS, built like :func:`sqs_client`.

    Same endpoint, credential rules and retries: on the lab's LocalStack, ``sns`` (fan-out, alarm actions),
    ``cloudwatch`` (SQS metrics, alarms), ``s3`` (the resume PDFs) and ``ses`` (the users' emails) answer at
    the SQS endpoint; with the ``aws`` engine they are the real regional services.
    """
    return _client(
        service, endpoint, region=region, max_pool_connections=10, allow_aws=allow_aws,
        read_timeout=READ_TIMEOUT_SECONDS,
    )  # fmt: skip


def sns_client(
    endpoint: str | None = None, *, region: str | None = None, allow_aws: bool | None = None
) -> Any:
    """An SNS client (topics: the fan-out pattern, CloudWatch alarm actions)."""
    return service_client("sns", endpoint, region=region, allow_aws=allow_aws)


def cloudwatch_client(
    endpoint: str | None = None, *, region: str | None = None, allow_aws: bool | None = None
) -> Any:
    """A CloudWatch client (SQS's metrics in namespace ``AWS/SQS``, metric alarms)."""
    return service_client("cloudwatch", endpoint, region=region, allow_aws=allow_aws)


def s3_client(
    endpoint: str | None = None, *, region: str | None = None, allow_aws: bool | None = None
) -> Any:
    """An S3 client (seed 1's "Store in S3": the resume PDFs)."""
    return service_client("s3", endpoint, region=region, allow_aws=allow_aws)


def ses_client(
    endpoint: str | None = None, *, region: str | None = None, allow_aws: bool | None = None
) -> Any:
    """An SES client (seed 1's "Send Email to User")."""
    return service_client("ses", endpoint, region=region, allow_aws=allow_aws)


def client_endpoint(sqs: SQSClient) -> str:
    """The endpoint URL a client talks to (for messages and reports)."""
    return str(sqs.meta.endpoint_url)
