"""The client: endpoint resolution, credentials isolation, retries/timeouts, clear errors when down."""

from __future__ import annotations

import time

import pytest

from labsqs import client as lc
from labsqs import engine
from labsqs.base.limits import MAX_WAIT_TIME_SECONDS
from labsqs.errors import AwsNotAllowed, EndpointUnavailable, LabSqsError


def test_explicit_endpoint_wins_over_environment(monkeypatch):
    # GIVEN an endpoint in the environment
    monkeypatch.setenv("LABSQS_ENDPOINT", "http://127.0.0.1:9999/")
    # WHEN an explicit endpoint is passed THEN it wins; without it the environment is used (no trailing /)
    assert lc.resolve_endpoint("http://127.0.0.1:1234") == "http://127.0.0.1:1234"
    assert lc.resolve_endpoint() == "http://127.0.0.1:9999"


def test_default_endpoint_is_loopback_4566(monkeypatch, tmp_path):
    monkeypatch.delenv("LABSQS_ENDPOINT", raising=False)
    monkeypatch.delenv("LABSQS_ENGINE", raising=False)
    monkeypatch.setenv("LABSQS_HOME", str(tmp_path))  # no engine recorded here
    assert lc.resolve_endpoint() == "http://127.0.0.1:4566"


def test_local_client_never_uses_the_users_aws_credentials(monkeypatch):
    # GIVEN real-looking AWS credentials in the environment
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "user-real-key-id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "user-secret")
    # WHEN the lab builds a client for a local endpoint
    sqs = lc.sqs_client("http://127.0.0.1:4566")
    creds = sqs._request_signer._credentials  # noqa: SLF001 - the point of the test
    # THEN it signs with the dummy local credentials
    assert (creds.access_key, creds.secret_key) == ("test", "test")


def test_client_config_standard_retries_and_long_poll_safe_read_timeout():
    sqs = lc.sqs_client("http://127.0.0.1:4566")
    cfg = sqs.meta.config
    assert cfg.retries["mode"] == "standard"
    assert cfg.read_timeout > MAX_WAIT_TIME_SECONDS  # a 20 s long poll is never cut by the client
    assert cfg.max_pool_connections >= 10  # concurrent consumers share one client


def test_aws_engine_requires_explicit_opt_in(monkeypatch, tmp_path):
    monkeypatch.setenv("LABSQS_HOME", str(tmp_path))
    monkeypatch.setenv("LABSQS_ENGINE", "aws")
    monkeypatch.delenv("LABSQS_ENDPOINT", raising=False)
    monkeypatch.delenv("LABSQS_ALLOW_AWS", raising=False)
    with pytest.raises(AwsNotAllowed, match="LABSQS_ALLOW_AWS=1"):
        lc.sqs_client()


def test_endpoint_down_gives_a_clear_lab_error_quickly():
    # GIVEN a port where nothing listens
    url = f"http://127.0.0.1:{engine.free_port()}"
    sqs = lc.sqs_client(url)
    # WHEN a request is made
    t0 = time.monotonic()
    with pytest.raises(EndpointUnavailable) as info:
        sqs.list_queues()
    elapsed = time.monotonic() - t0
    # THEN the lab's error names the endpoint and the fix, within the 3 s the lab promises (no hang)
    assert isinstance(info.value, LabSqsError)
    assert url in str(info.value) and "labsqs up" in str(info.value)
    assert elapsed < 3.0, f"took {elapsed:.2f} s"


@pytest.mark.engine
def test_send_receive_delete_against_the_real_engine(sqs, make_queue):
    # GIVEN a queue on the lab's engine
    url = make_queue("roundtrip")
    # WHEN a message is sent, received and deleted
    sqs.send_message(QueueUrl=url, MessageBody="hello, mailbox")
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2, MaxNumberOfMessages=1)["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
    # THEN the body round-trips and the queue is empty afterwards
    assert got[0]["Body"] == "hello, mailbox"
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []) == []


@pytest.mark.engine
def test_sns_client_shares_the_endpoint_and_dummy_credentials(engine_state):
    sns = lc.sns_client(engine_state.endpoint)
    assert sns.meta.endpoint_url == engine_state.endpoint
    assert sns._request_signer._credentials.access_key == "test"  # noqa: SLF001
    arn = sns.create_topic(Name="t-sns-client-check")["TopicArn"]
    try:
        assert arn.endswith(":t-sns-client-check")
    finally:
        sns.delete_topic(TopicArn=arn)


@pytest.mark.engine
def test_asking_for_aws_is_not_captured_by_a_running_local_engine(engine_state, monkeypatch):
    # GIVEN the lab's local engine is recorded as running, and the user asks for real AWS
    monkeypatch.delenv("LABSQS_ENDPOINT", raising=False)
    monkeypatch.setenv("LABSQS_ENGINE", "aws")
    # THEN the endpoint is AWS's own (None), not the local engine's
    assert lc.resolve_endpoint() is None
