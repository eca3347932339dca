"""Bad input: the issue's list, one row each — every case must raise a ``LabSqsError`` of the right class
whose text says what to do. Also: what the lab prints never contains a secret from the environment.

Other files test many of these in more depth (tests/test_queues.py, test_producer.py, test_consumer.py,
test_dlq.py, test_engine.py, test_client.py); this file is the consolidated table. Rows that need no
engine run first and make no request (a client that fails on any call proves it); rows marked ``moto``
use an in-process moto, rows marked ``engine`` the lab's LocalStack.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from labsqs import dlq, engine
from labsqs.base import calls
from labsqs.client import sqs_client
from labsqs.consumer import Consumer, Message
from labsqs.errors import (
    AwsNotAllowed,
    BatchError,
    EndpointUnavailable,
    FifoError,
    InvalidAttribute,
    InvalidConsumerOption,
    InvalidMessage,
    InvalidQueueName,
    LabSqsError,
    MessageTooLarge,
    PortInUse,
    QueueNotFound,
    ReceiptHandleError,
    RedriveError,
    UnknownEngine,
)
from labsqs.producer import OutgoingMessage, plan_batches, send
from labsqs.queues import Queue, QueueSpec, ensure_queue, queue_attributes, validate_queue_name, validate_spec
from labsqs.trigger import run_trigger

ONE_MIB = 1_048_576
LABSQS = str(Path(sys.executable).with_name("labsqs"))


class NoRequests:
    """A client that fails the test on any request: validation must happen before the first one."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a request ({name}) was made before the input was validated")


_URL = "http://127.0.0.1:4566/000000000000/"
STD = Queue(
    "std", _URL + "std", "arn:aws:sqs:us-east-1:000000000000:std", False, max_message_size_bytes=ONE_MIB
)
SMALL = dataclasses.replace(STD, max_message_size_bytes=1024)
FIFO = Queue("f.fifo", _URL + "f.fifo", "arn:aws:sqs:us-east-1:000000000000:f.fifo", True,
             content_based_dedup=False, max_message_size_bytes=ONE_MIB)  # fmt: skip


@dataclass(frozen=True)
class Ctx:
    """What a row may need: an in-process moto client, the real engine's client and queue factory."""

    moto: Any = None
    sqs: Any = None
    make_queue: Callable[..., str] | None = None
    tmp_path: Path | None = None


@dataclass(frozen=True)
class Case:
    id: str
    call: Callable[[Ctx], object]
    error: type[LabSqsError]
    todo: str  # regex: the words that tell the user what to do
    needs: str = ""  # "", "moto" or "engine"
    xfail: str = ""  # a known gap, reported (strict: the row fails once the gap is closed)


# --- rows that need an engine: small helpers ------------------------------------------------------
def _moto_pair(moto: Any, *, fifo: bool) -> tuple[str, str]:
    """A moto source queue and its DLQ (redrive after 2 receives); returns (source URL, DLQ URL)."""
    sfx = ".fifo" if fifo else ""
    attrs = {"FifoQueue": "true"} if fifo else {}
    dlq_url = moto.create_queue(QueueName=f"bad-dlq{sfx}", Attributes=attrs)["QueueUrl"]
    arn = moto.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 2})
    src = moto.create_queue(QueueName=f"bad-src{sfx}", Attributes={**attrs, "RedrivePolicy": policy})[
        "QueueUrl"
    ]
    return src, dlq_url


def _redrive_fifo_into_standard(ctx: Ctx) -> object:
    _, fifo_dlq = _moto_pair(ctx.moto, fifo=True)
    standard = ctx.moto.create_queue(QueueName="plain")["QueueUrl"]
    return dlq.redrive(fifo_dlq, destination=standard, sqs=ctx.moto, progress=lambda _: None)


def _received_handle(ctx: Ctx, url: str) -> str:
    assert ctx.sqs is not None
    ctx.sqs.send_message(QueueUrl=url, MessageBody="x")
    return ctx.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"][0]["ReceiptHandle"]


def _delete_with_another_queues_handle(ctx: Ctx) -> object:
    assert ctx.make_queue is not None
    handle = _received_handle(ctx, ctx.make_queue("rh-a"))
    return calls.delete_message(ctx.sqs, ctx.make_queue("rh-b"), handle)


def _change_visibility_with_an_expired_handle(ctx: Ctx) -> object:
    """Our handle expired: the message came back, another consumer took it and deleted it; now we try to
    extend it (AWS: "The receipt handle has expired"; LocalStack: "Message does not exist")."""
    assert ctx.make_queue is not None and ctx.sqs is not None
    url = ctx.make_queue("rh-old", VisibilityTimeout="1")
    old = _received_handle(ctx, url)
    deadline = time.monotonic() + 10
    while not (again := ctx.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages")):
        assert time.monotonic() < deadline, "the message never came back"
    ctx.sqs.delete_message(QueueUrl=url, ReceiptHandle=again[0]["ReceiptHandle"])
    return calls.change_message_visibility(ctx.sqs, url, old, 30)


def _dead_endpoint(ctx: Ctx) -> object:
    url = f"http://127.0.0.1:{engine.free_port()}"
    return queue_attributes(f"{url}/000000000000/q", sqs=sqs_client(url))


def _port_taken(ctx: Ctx) -> object:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        return engine.up("moto", port=squatter.getsockname()[1], home=ctx.tmp_path, progress=lambda _: None)


NR = NoRequests()


def QUIET(_: str) -> None:  # noqa: N802 - a constant-like progress sink
    pass


def _entries(*ids: str) -> list[OutgoingMessage]:
    return [OutgoingMessage(i, f"body {n}", 6) for n, i in enumerate(ids)]


def _message(body: str) -> Message:
    return Message("m-1", "rh-1", body, STD.url)


CASES = [
    # queue names
    Case("name too long", lambda c: validate_queue_name("a" * 81), InvalidQueueName, "shorten the name"),
    Case("name with '!'", lambda c: validate_queue_name("orders!"), InvalidQueueName, "replace it"),
    Case("name with a space", lambda c: validate_queue_name("my queue"), InvalidQueueName, "replace it"),
    Case("empty name", lambda c: validate_queue_name(""), InvalidQueueName, "1–80 characters"),
    Case("FIFO name without .fifo", lambda c: validate_queue_name("orders", fifo=True), InvalidQueueName,
         "use 'orders.fifo'"),
    Case("standard name with .fifo", lambda c: validate_queue_name("orders.fifo", fifo=False),
         InvalidQueueName, "drop the suffix"),
    Case("no room for the DLQ suffix", lambda c: validate_spec(QueueSpec("q" * 78)), InvalidQueueName,
         "shorten the queue name|with_dlq=False"),
    # attributes out of range (checked before any request)
    Case("visibility > 12 h", lambda c: ensure_queue(QueueSpec("q", visibility_timeout_seconds=43_201),
         sqs=NR), InvalidAttribute, "pick a value in 0–43,200"),
    Case("retention < 60 s", lambda c: ensure_queue(QueueSpec("q", retention_seconds=59), sqs=NR),
         InvalidAttribute, "pick a value in 60–1,209,600"),
    Case("retention > 14 days", lambda c: ensure_queue(QueueSpec("q", retention_seconds=1_209_601),
         sqs=NR), InvalidAttribute, "pick a value in 60–1,209,600"),
    Case("delay > 15 min", lambda c: ensure_queue(QueueSpec("q", delay_seconds=901), sqs=NR),
         InvalidAttribute, "pick a value in 0–900"),
    Case("queue long poll > 20 s", lambda c: ensure_queue(QueueSpec("q", receive_wait_seconds=21),
         sqs=NR), InvalidAttribute, "pick a value in 0–20"),
    Case("consumer wait > 20 s", lambda c: Consumer(STD.url, print, sqs=NR, wait_time_seconds=21),
         InvalidConsumerOption, "must be 0..20"),
    Case("maxReceiveCount 0", lambda c: ensure_queue(QueueSpec("q", max_receive_count=0), sqs=NR),
         InvalidAttribute, "pick a value in 1–1,000"),
    Case("content-based dedup on standard", lambda c: validate_spec(QueueSpec("q", content_based_dedup=True)),
         InvalidAttribute, "name the queue 'q.fifo'"),
    # messages
    Case("1 MiB + 1 byte", lambda c: send(STD, "x" * (ONE_MIB + 1), sqs=NR), MessageTooLarge,
         "store the payload elsewhere"),
    Case("under 1 MiB in characters, over in UTF-8 bytes", lambda c: send(STD, "😀" * 262_145, sqs=NR),
         MessageTooLarge, r"1,048,580 bytes in UTF-8.*store the payload elsewhere"),
    Case("multi-byte text over a 1 KiB queue limit", lambda c: send(SMALL, "é" * 600, sqs=NR),
         MessageTooLarge, r"1,200 bytes.*limit is 1,024.*shrink it"),
    Case("NUL character", lambda c: send(STD, "abc\x00", sqs=NR), InvalidMessage,
         "remove or escape it"),
    Case("lone surrogate", lambda c: send(STD, "ok\ud800", sqs=NR), InvalidMessage,
         "remove or escape it"),
    Case("empty body", lambda c: send(STD, "", sqs=NR), InvalidMessage, "needs at least one character"),
    Case("bytes body", lambda c: send(STD, b"raw", sqs=NR), InvalidMessage,
         "decode it|base64-encode it"),
    Case("send delay > 15 min", lambda c: send(STD, "x", delay_seconds=901, sqs=NR), InvalidMessage,
         "allows 0–900"),
    Case("FIFO without group id", lambda c: send(FIFO, "x", dedup_id="d", sqs=NR), FifoError,
         "group_id="),
    Case("FIFO without dedup id", lambda c: send(FIFO, "x", group_id="g", sqs=NR), FifoError,
         "pass dedup_id=|content_based_dedup=True"),
    Case("dedup id on a standard queue", lambda c: send(STD, "x", dedup_id="d", sqs=NR), FifoError,
         "drop it"),
    Case("FIFO per-message delay", lambda c: send(FIFO, "x", group_id="g", dedup_id="d", delay_seconds=5,
         sqs=NR), FifoError, "set the queue's DelaySeconds"),
    Case("non-JSON body for a JSON consumer", lambda c: _message("not json").json(), InvalidMessage,
         "send JSON bodies"),
    # batches
    Case("receive batch of 11", lambda c: Consumer(STD.url, print, sqs=NR, max_messages=11),
         InvalidConsumerOption, "run\\(stop_after=...\\)"),
    Case("trigger batch of 11", lambda c: run_trigger(STD.url, lambda e, ctx: None, batch_size=11,
         sqs=NR), InvalidConsumerOption, "batch_size must be 1..10"),
    Case("send batch of 11 entries", lambda c: plan_batches(_entries(*map(str, range(11))), max_entries=11),
         BatchError, "at most 10"),
    Case("send batch with duplicate ids", lambda c: plan_batches(_entries("1", "1")), BatchError,
         "distinct|unique"),
    # redrive
    Case("redrive to a missing destination", lambda c: dlq.redrive(_moto_pair(c.moto, fifo=False)[1],
         destination="nowhere", sqs=c.moto, progress=QUIET), RedriveError,
         "create the destination queue first", needs="moto"),
    Case("redrive from a missing DLQ", lambda c: dlq.redrive("no-such-dlq", sqs=c.moto, progress=QUIET),
         QueueNotFound, "ensure_queue", needs="moto"),
    Case("redrive from a queue that is not a DLQ", lambda c: dlq.redrive(c.moto.create_queue(QueueName="solo")
         ["QueueUrl"], sqs=c.moto, progress=QUIET), RedriveError, "redrive the DLQ named in",
         needs="moto"),
    Case("redrive FIFO into standard", _redrive_fifo_into_standard, RedriveError, "need a FIFO destination",
         needs="moto"),
    # receipt handles
    Case("receipt handle from another queue", _delete_with_another_queues_handle, ReceiptHandleError,
         "receive the message again", needs="engine"),
    Case("receipt handle expired (message taken and deleted by another consumer)",
         _change_visibility_with_an_expired_handle,
         ReceiptHandleError, "receive the message again", needs="engine"),
    # engines and endpoints
    Case("unknown engine name", lambda c: engine.engine_name("elasticmq"), UnknownEngine,
         "choose one of localstack, moto, docker, aws"),
    Case("endpoint down", _dead_endpoint, EndpointUnavailable, "start one with `labsqs up`"),
    Case("port taken by another program", _port_taken, PortInUse, "pick a free port"),
]  # fmt: skip


def _params() -> list[Any]:
    out = []
    for case in CASES:
        marks = [pytest.mark.engine] if case.needs == "engine" else []
        if case.xfail:
            marks.append(pytest.mark.xfail(reason=case.xfail, strict=True))
        out.append(pytest.param(case, id=case.id, marks=marks))
    return out


@pytest.fixture
def ctx(request: pytest.FixtureRequest, tmp_path: Path) -> Ctx:
    case: Case = request.node.callspec.params["case"]
    if case.needs == "moto":
        return Ctx(moto=request.getfixturevalue("moto_sqs"), tmp_path=tmp_path)
    if case.needs == "engine":
        return Ctx(sqs=request.getfixturevalue("sqs"), make_queue=request.getfixturevalue("make_queue"),
                   tmp_path=tmp_path)  # fmt: skip
    return Ctx(tmp_path=tmp_path)


def test_the_table_covers_the_issue_list():
    assert len(CASES) >= 25 and len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", _params())
def test_bad_input_is_a_lab_error_that_says_what_to_do(case: Case, ctx: Ctx):
    # GIVEN one bad input WHEN the lab is asked to use it
    with pytest.raises(case.error) as caught:
        case.call(ctx)
    # THEN it is the lab's error of the right class, and its text says what to do next
    err = caught.value
    assert isinstance(err, LabSqsError)
    assert re.search(case.todo, str(err)), f"{case.id}: no guidance ({case.todo!r}) in: {err}"


# --- non-JSON to a JSON consumer: to the DLQ, with the reason ---------------------------------------
@pytest.mark.engine
def test_a_non_json_body_goes_to_the_dlq_with_its_reason(sqs, queue_name, tmp_path):
    from labsqs.drill.worker import Worker
    from labsqs.queues import delete_queue

    # GIVEN a queue whose DLQ takes a message after 2 receives, one good and one non-JSON message
    queue = ensure_queue(QueueSpec(queue_name("json"), visibility_timeout_seconds=1, receive_wait_seconds=1,
                                   max_receive_count=2), sqs=sqs)  # fmt: skip
    try:
        sqs.send_message(QueueUrl=queue.url, MessageBody=json.dumps({"uid": "good-1"}))
        bad_id = sqs.send_message(QueueUrl=queue.url, MessageBody="<job>not json</job>")["MessageId"]
        # WHEN the lab's JSON worker consumes until the queue is idle, retrying failures at once
        worker = Worker(
            queue.url, tmp_path / "w.sqlite", sqs=sqs, wait_time_seconds=1, retry_backoff_seconds=0
        )
        summary = worker.run(idle_polls=3, timeout_seconds=30)
        failures = worker.log.rows("failures")
        worker.close()
        in_dlq = sqs.receive_message(QueueUrl=queue.dlq_url, WaitTimeSeconds=1, MaxNumberOfMessages=10)
    finally:
        delete_queue(queue, sqs=sqs, missing_ok=True)
    # THEN the good one was processed; the bad one is in the DLQ, unchanged, and its reason is recorded
    assert summary.processed == 1 and summary.failed == 2
    assert [(m["MessageId"], m["Body"]) for m in in_dlq["Messages"]] == [(bad_id, "<job>not json</job>")]
    assert {f["message_id"] for f in failures} == {bad_id} and len(failures) == 2
    assert failures[0]["error"] == "InvalidMessage"
    assert "is not JSON" in failures[0]["reason"] and "send JSON bodies" in failures[0]["reason"]


# --- security: nothing the lab prints carries a secret from the environment --------------------------
FAKE_KEY_ID = "AKIA" + "Z7Q3EXAMPLE4LABSQS"[:16]
FAKE_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYzEXAMPLEKEY1"
FAKE_TOKEN = "FwoGZXIvYXdzEXAMPLE" + "sessiontoken0123456789"


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {
        "AWS_ACCESS_KEY_ID": FAKE_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
        "AWS_SESSION_TOKEN": FAKE_TOKEN,
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return dict(os.environ)


def _leaks(text: str) -> list[str]:
    return [s for s in (FAKE_KEY_ID, FAKE_SECRET, FAKE_TOKEN) if s in text]


@pytest.mark.engine
def test_status_and_error_output_never_show_credentials_from_the_environment(
    engine_state, secret_env, tmp_path
):
    # GIVEN AWS credentials in the environment
    dead = f"http://127.0.0.1:{engine.free_port()}"
    runs = {
        "status": [LABSQS, "status"],
        "status, endpoint down": [LABSQS, "status", "--endpoint", dead],
        "up --engine aws without opt-in": [LABSQS, "up", "--engine", "aws"],
        "worker, endpoint down": [sys.executable, "-m", "labsqs.drill.worker", "--queue", f"{dead}/0/q",
                                  "--db", str(tmp_path / "w.sqlite"), "--endpoint", dead],
    }  # fmt: skip
    env = {**secret_env, "LABSQS_ALLOW_AWS": ""}
    # WHEN the lab's commands run, succeeding and failing
    outputs = {name: subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
               for name, cmd in runs.items()}  # fmt: skip
    # THEN they did what they should (the aws engine refused without the opt-in, saying how to opt in) ...
    assert outputs["status"].returncode == 0 and engine_state.endpoint in outputs["status"].stdout
    assert outputs["status, endpoint down"].returncode == 1
    aws = outputs["up --engine aws without opt-in"]
    assert aws.returncode == 2 and "LABSQS_ALLOW_AWS=1" in aws.stderr
    assert outputs["worker, endpoint down"].returncode == 2
    # ... AND no output carries any of the credentials
    for name, out in outputs.items():
        assert not _leaks(out.stdout + out.stderr), f"{name} printed a credential"


def test_errors_for_local_engines_carry_no_credentials(secret_env, monkeypatch, tmp_path):
    # GIVEN credentials in the environment; WHEN the lab raises its usual errors
    monkeypatch.setenv("LABSQS_HOME", str(tmp_path))
    monkeypatch.delenv("LABSQS_ALLOW_AWS", raising=False)
    errors: list[LabSqsError] = []
    calls = (lambda: _dead_endpoint(Ctx()), lambda: engine.up("aws", progress=lambda _: None),
             lambda: engine.engine_name("x"))  # fmt: skip
    for call in calls:
        with pytest.raises(LabSqsError) as caught:
            call()
        errors.append(caught.value)
    # THEN none of them carries a credential, in its text or its hint
    assert {type(e) for e in errors} == {EndpointUnavailable, AwsNotAllowed, UnknownEngine}
    for err in errors:
        assert not _leaks(f"{err} {err.hint} {err.code}")


def test_a_local_engine_process_gets_no_aws_credentials(secret_env, tmp_path):
    # GIVEN credentials in the lab's environment
    port = engine.free_port()
    # WHEN the lab starts a local engine (moto: the quickest to start; LocalStack's env is built the same way)
    state = engine.up("moto", port=port, home=tmp_path, progress=lambda _: None)
    try:
        environ = Path(f"/proc/{state.pid}/environ").read_bytes().decode(errors="replace")
    finally:
        engine.down(port=port, home=tmp_path, progress=lambda _: None)
    # THEN the engine process was not given them
    assert not _leaks(environ)
    assert "AWS_SECRET_ACCESS_KEY=" not in environ and "AWS_SESSION_TOKEN=" not in environ
