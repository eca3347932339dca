"""Shared fixtures.

- ``engine_state`` / ``sqs``: the real engine, started by ``labsqs up`` (reused when already running,
  as under ``make test``), and a client for it. Tests using them are integration tests.
- ``load_engine``: the engine of load runs (SQS metrics off), started once for the session.
- ``moto_sqs``: an in-process moto ``mock_aws`` client, for fast unit tests.
- ``queue_name`` / ``make_queue`` / ``ensure``: unique queue names (tests may run against a shared engine),
  raw queues and ``ensure_queue`` queues (with their DLQs), deleted after the test.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import boto3
import pytest

from labsqs import engine
from labsqs.client import sqs_client
from labsqs.queues import Queue, QueueSpec, delete_queue, ensure_queue


@pytest.fixture(scope="session")
def engine_state() -> engine.EngineState:
    return engine.up(progress=lambda _: None)


@pytest.fixture(scope="session")
def load_engine() -> Iterator[engine.EngineState]:
    """The engine load runs use (as ``labsqs bench`` starts it): SQS metrics off, on the lab's port + 1."""
    from labsqs.load import started_load_engine

    with started_load_engine(progress=lambda _: None) as state:
        yield state


@pytest.fixture(scope="session")
def sqs(engine_state: engine.EngineState):
    return sqs_client(engine_state.endpoint)


@pytest.fixture
def moto_sqs(monkeypatch: pytest.MonkeyPatch):
    from moto import mock_aws

    for var in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    with mock_aws():
        yield boto3.client(
            "sqs", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
        )


@pytest.fixture
def queue_name() -> Callable[[str], str]:
    """``queue_name("orders")`` → ``t-1a2b3c4d-orders`` (unique per call)."""

    def make(stem: str = "q", fifo: bool = False) -> str:
        name = f"t-{uuid.uuid4().hex[:8]}-{stem}"
        return f"{name}.fifo" if fifo else name

    return make


@pytest.fixture
def make_queue(sqs, queue_name) -> Iterator[Callable[..., str]]:
    """Create a raw queue on the real engine (deleted after the test); returns its URL."""
    created: list[str] = []

    def make(stem: str = "q", fifo: bool = False, **attributes: str) -> str:
        attrs = {k: str(v) for k, v in attributes.items()}
        if fifo:
            attrs.setdefault("FifoQueue", "true")
        url = sqs.create_queue(QueueName=queue_name(stem, fifo), Attributes=attrs)["QueueUrl"]
        created.append(url)
        return url

    yield make
    for url in created:
        try:
            sqs.delete_queue(QueueUrl=url)
        except Exception:  # noqa: BLE001 - the test may have deleted it already
            pass


@pytest.fixture
def ensure(sqs) -> Iterator[Callable[..., Queue]]:
    """``ensure(spec)``: ensure_queue on the real engine; queue and DLQ are deleted after the test."""
    made: list[Queue] = []

    def make(spec: QueueSpec) -> Queue:
        queue = ensure_queue(spec, sqs=sqs)
        made.append(queue)
        return queue

    yield make
    for queue in made:
        delete_queue(queue, sqs=sqs, missing_ok=True)
