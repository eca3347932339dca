"""The conformance suite: every check runs, and each finds what is known about the engines.

The expectations below are *facts about the engines* (from ``/work/shared/facts/engines.md`` and from this
suite's own findings, checked by hand against the engines' source): LocalStack keeps FIFO order, dedup after
delete and move tasks; moto answers HTTP 500 for move tasks, forgets a dedup id once the message is
deleted, counts size in characters. A check that is broken (always passes, always fails, or crashes)
breaks one of these expectations, so these tests guard the checks, not only the engines.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from labsqs import conformance as cf
from labsqs import engine
from labsqs.client import service_client
from labsqs.errors import UnknownCheck

LABSQS = Path(sys.executable).parent / "labsqs"

# Where LocalStack 2026.3.0 differs from the SQS documentation (each confirmed in its source: it does not
# validate attribute ranges, message DelaySeconds or MaxNumberOfMessages=0, rate-limits purges only with
# SQS_DELAY_PURGE_RETRY=1, and does not enforce the DLQ type or RedriveAllowPolicy).
LOCALSTACK_FAILS = {
    "queue.attribute-ranges",
    "queue.visibility-max",
    "poll.max-messages",
    "delay.max",
    "purge.in-progress",
    "dlq.fifo-needs-fifo",
    "dlq.allow-deny-all",
    "dlq.allow-by-queue",
}
MOVE_TASK_CHECKS = {c.id for c in cf.CHECKS if c.id.startswith("move.")}
# Where moto 5.2.5 differs.
MOTO_FAILS = {
    "fifo.suffix-needs-attribute",
    "queue.attribute-ranges",
    "queue.visibility-max",
    "msg.empty-body",
    "msg.illegal-chars",
    "msg.size-utf8-bytes",
    "msg.size-includes-attributes",
    "fifo.dedup-same-message-id",
    "fifo.dedup-after-delete",
    "fifo.dedup-scope-group",
    "fifo.sequence-number",  # random, not increasing
    "fifo.sequence-number-content-dedup",
    "dlq.allow-deny-all",
    "dlq.allow-by-queue",
}


@pytest.fixture(scope="module")
def localstack_results(engine_state: engine.EngineState) -> dict[str, cf.CheckResult]:
    if engine_state.engine != "localstack":
        pytest.skip(f"the lab engine is {engine_state.engine}, not LocalStack")
    return {r.id: r for r in cf.run_checks(engine_state.endpoint)}


@pytest.fixture(scope="module")
def moto_server(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("moto-engine")
    port = engine.free_port()
    state = engine.up("moto", port=port, home=home, progress=lambda _: None)
    yield state
    engine.down(port=port, home=home, progress=lambda _: None)


@pytest.fixture(scope="module")
def moto_results(moto_server: engine.EngineState) -> dict[str, cf.CheckResult]:
    return {r.id: r for r in cf.run_checks(moto_server.endpoint)}


def _not_passing(results: dict[str, cf.CheckResult]) -> dict[str, str]:
    return {cid: f"{r.status}: {r.detail}" for cid, r in results.items() if r.status != cf.PASS}


# --- the suite itself --------------------------------------------------------------------------------
def test_suite_has_at_least_40_checks_each_tied_to_the_documentation():
    # GIVEN the registered checks
    ids = cf.check_ids()
    # THEN there are at least 40, with unique group.name ids, each citing what SQS documents
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids)
    for c in cf.CHECKS:
        assert "." in c.id and c.title, c.id
        assert any(src in c.doc for src in ("sqs-limits.md", "Developer Guide", "API Reference")), c.id


def test_the_brief_behaviours_each_have_a_check():
    # GIVEN the behaviours the issue lists
    must = {
        "queue.standard-defaults", "fifo.name-suffix", "fifo.order", "fifo.group-lock",
        "fifo.dedup-content", "fifo.dedup-explicit", "fifo.dedup-after-delete", "vis.expiry",
        "vis.change-zero", "vis.heartbeat", "dlq.redrive", "dlq.allow-deny-all",
        "dlq.allow-by-queue", "move.to-source", "move.to-destination", "move.list",
        "move.cancel", "poll.long-waits", "poll.long-returns-early", "poll.short-empty",
        "delay.queue", "delay.message", "delay.fifo-per-message", "msg.size-max-ok",
        "msg.size-over", "msg.size-utf8-bytes", "batch.too-many", "batch.ids-distinct",
        "batch.too-long", "batch.partial-failure", "purge.in-progress", "msg.md5-attributes",
        "msg.md5-body", "fifo.sequence-number", "fifo.sequence-number-content-dedup", "msg.receive-count",
        "counters.approximate", "queue.tags", "queue.url-format", "queue.get-url",
        "queue.list-prefix", "vis.receipt-old", "vis.receipt-invalid", "msg.illegal-chars",
        "msg.empty-body", "poll.wait-max", "queue.visibility-max", "msg.fair-group-standard",
    }  # fmt: skip
    # THEN each is in the suite
    assert must <= set(cf.check_ids())


def test_the_suite_runs_in_the_order_docs_conformance_md_records():
    # GIVEN the stored matrix (its rows follow the suite's order)
    recorded = cf.read_markdown().results
    # THEN the registered checks come in that order, on every engine's column: the topic modules of
    # labsqs.conformance.checks are imported in suite order, and a reordering would rewrite the page
    for engine_label, results in recorded.items():
        assert [r.id for r in results] == cf.check_ids(), engine_label


def test_the_suites_own_sqs_numbers_agree_with_the_labs():
    # GIVEN the numbers the checks hold an engine to (their own reading of the documentation, on purpose)
    from labsqs.base import limits
    from labsqs.conformance import documented

    numbers = {n: v for n, v in vars(documented).items() if n.isupper() and isinstance(v, int)}
    # THEN each is the number the lab itself uses, under the same name: two readings of the documentation
    # that disagree mean one of them is wrong
    assert len(numbers) >= 10
    assert {n: getattr(limits, n, None) for n in numbers} == numbers


def test_md5_of_message_attributes_follows_the_documented_byte_layout():
    # GIVEN one String attribute, laid out by hand as the Developer Guide describes:
    # 4-byte big-endian length + name, length + data type, transport byte 1, length + value
    layout = b"\x00\x00\x00\x04name" + b"\x00\x00\x00\x06String" + b"\x01" + b"\x00\x00\x00\x03\xc3\xa9!"
    # WHEN the lab computes the digest
    got = cf.md5_of_message_attributes({"name": {"DataType": "String", "StringValue": "é!"}})
    # THEN it is the MD5 of exactly that layout (lengths in UTF-8 bytes)
    assert got == hashlib.md5(layout).hexdigest()


def test_md5_of_message_attributes_sorts_names_and_marks_binary_with_2():
    one = {
        "b": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
        "a": {"DataType": "Number", "StringValue": "1"},
    }
    layout = (
        b"\x00\x00\x00\x01a" + b"\x00\x00\x00\x06Number" + b"\x01" + b"\x00\x00\x00\x011"
        + b"\x00\x00\x00\x01b" + b"\x00\x00\x00\x06Binary" + b"\x02" + b"\x00\x00\x00\x02\x00\xff"
    )  # fmt: skip
    assert cf.md5_of_message_attributes(one) == hashlib.md5(layout).hexdigest()


def test_select_takes_ids_and_groups_and_names_unknown_ones():
    # WHEN selecting a group and an id
    chosen = [c.id for c in cf.select(["purge", "fifo.order"])]
    # THEN the group's checks and the id come in suite order
    assert chosen == ["purge.removes", "purge.in-progress", "fifo.order"]
    # AND an unknown name is an error that names it before anything runs
    with pytest.raises(UnknownCheck, match="no-such-check"):
        cf.select(["no-such-check"])


# --- running against in-process moto (fast, no server) -----------------------------------------------
def test_run_checks_reports_progress_and_deletes_its_queues(moto_sqs):
    # GIVEN an injected client (in-process moto)
    seen: list[tuple[int, int, str]] = []
    # WHEN two fast checks run
    results = cf.run_checks(
        sqs=moto_sqs,
        only=["msg.md5-attributes", "fifo.order"],
        progress=lambda i, n, r: seen.append((i, n, r.id)),
    )
    # THEN both pass, progress was told about each, and no queue is left behind
    assert [(r.id, r.status) for r in results] == [("msg.md5-attributes", "pass"), ("fifo.order", "pass")]
    assert seen == [(1, 2, "msg.md5-attributes"), (2, 2, "fifo.order")]
    assert moto_sqs.list_queues().get("QueueUrls", []) == []


def test_a_check_of_your_own_runs_like_the_suites(moto_sqs):
    # GIVEN a check written by a learner: a message timer of 0 overrides a 60 s delay queue
    def timer_wins(p: cf.Probe) -> str:
        url = p.queue("timer", DelaySeconds=60)
        p.send(url, "now", DelaySeconds=0)
        p.expect(len(p.receive(url)) == 1, "the queue's delay won")
        return "delivered at once"

    mine = cf.Check(
        "my.timer", "a message timer overrides the queue's delay", "Developer Guide", (), timer_wins
    )
    # WHEN it runs instead of the registered suite
    (result,) = cf.run_checks(sqs=moto_sqs, checks=[mine])
    # THEN it is reported like any other check, and its queue is gone
    assert (result.id, result.status, result.detail) == ("my.timer", "pass", "delivered at once")
    assert moto_sqs.list_queues().get("QueueUrls", []) == []


def test_a_check_that_crashes_is_an_error_result_and_its_queues_are_deleted(moto_sqs):
    # GIVEN a check that creates a queue and then breaks
    def broken(p: cf.Probe) -> str:
        p.queue("broken")
        raise RuntimeError("bug in the check")

    # WHEN it runs
    (result,) = cf.run_checks(
        sqs=moto_sqs, checks=[cf.Check("x.broken", "broken", "API Reference", (), broken)]
    )
    # THEN the crash is a result, not an exception, and the queue is gone
    assert result.status == cf.ERROR and "bug in the check" in result.detail
    assert moto_sqs.list_queues().get("QueueUrls", []) == []


# --- looking at results ------------------------------------------------------------------------------
def _result(cid: str, status: str, detail: str = "seen") -> cf.CheckResult:
    return cf.CheckResult(cid, f"title of {cid}", status, detail, 0.1, "Developer Guide 'x'")


def test_matrix_summary_and_table_put_engines_side_by_side():
    # GIVEN results of two engines
    runs = {
        "one": [_result("fifo.order", "pass"), _result("move.list", "not-supported")],
        "two": [_result("fifo.order", "fail", "out of order"), _result("move.list", "pass")],
    }
    # WHEN they are put side by side
    m = cf.matrix(runs)
    s = cf.summary(runs)
    table = cf.render_table(runs["two"])
    # THEN one row per check, one column per engine, in suite order; counts per engine; a readable table
    assert list(m.columns) == ["title", "one", "two"]
    assert m.loc["fifo.order", "two"] == "fail" and m.loc["move.list", "one"] == "not-supported"
    assert s.loc["one", "pass"] == 1 and s.loc["one", "not-supported"] == 1 and s.loc["two", "checks"] == 2
    assert "out of order" in table and "1 pass, 1 fail" in table
    assert list(cf.to_frame(runs["one"]).columns) == ["id", "title", "status", "detail", "seconds", "doc"]


def test_write_markdown_renders_symbols_and_differences_and_reads_back(tmp_path):
    # GIVEN results of two engines, one detail containing markdown-hostile text
    runs = {
        "localstack": [_result("fifo.order", "pass"), _result("fifo.dedup-after-delete", "pass")],
        "moto": [
            _result("fifo.order", "pass"),
            _result("fifo.dedup-after-delete", "fail", "resent | --> kept"),
        ],
    }
    # WHEN the docs page is written
    path = cf.write_markdown(runs, tmp_path / "c.md", versions={"moto": "moto 5.2.5"}, generated="2026-01-02")
    text = path.read_text()
    # THEN it has the matrix with symbols, the difference with each engine's observation, the versions
    assert "| `fifo.dedup-after-delete` | title of fifo.dedup-after-delete | ✅ | ❌ |" in text
    assert "### `fifo.dedup-after-delete`" in text and "### `fifo.order`" not in text
    assert "resent \\| --> kept" in text and "moto 5.2.5" in text and "2026-01-02" in text
    # AND the raw results come back unchanged
    report = cf.read_markdown(path)
    assert report.results == runs and report.versions == {"moto": "moto 5.2.5"}


# --- the real engines --------------------------------------------------------------------------------
@pytest.mark.engine
def test_localstack_runs_every_check_without_errors(localstack_results):
    assert set(localstack_results) == set(cf.check_ids())
    errors = {cid: r.detail for cid, r in localstack_results.items() if r.status == cf.ERROR}
    assert errors == {}


@pytest.mark.engine
def test_localstack_keeps_the_behaviours_the_lessons_rely_on(localstack_results):
    # engines.md: FIFO order, group lock, dedup incl. after delete, visibility expiry and change,
    # redrive on the 3rd receive, move tasks, long-poll timing, 1 MiB limit, 11-entry batch rejected
    for cid in (
        "fifo.order", "fifo.group-lock", "fifo.dedup-content", "fifo.dedup-explicit",
        "fifo.dedup-after-delete", "vis.expiry", "vis.change-zero", "vis.heartbeat",
        "dlq.redrive", "move.to-source", "move.to-destination", "move.list",
        "move.cancel", "poll.long-waits", "poll.long-returns-early", "msg.size-max-ok",
        "msg.size-over", "msg.size-utf8-bytes", "batch.too-many", "fifo.sequence-number-content-dedup",
    ):  # fmt: skip
        assert localstack_results[cid].status == cf.PASS, f"{cid}: {localstack_results[cid].detail}"


@pytest.mark.engine
def test_localstack_differs_from_sqs_exactly_where_known(localstack_results):
    # every other check passes: a check that breaks (or an engine that changes) shows up here
    assert _not_passing(localstack_results).keys() == LOCALSTACK_FAILS, _not_passing(localstack_results)
    assert all(localstack_results[cid].status == cf.FAIL for cid in LOCALSTACK_FAILS)
    assert "DelaySeconds=901" in localstack_results["delay.max"].detail


@pytest.mark.engine
def test_moto_has_no_move_tasks(moto_results):
    for cid in MOVE_TASK_CHECKS:
        assert moto_results[cid].status == cf.NOT_SUPPORTED, f"{cid}: {moto_results[cid].detail}"
        assert "StartMessageMoveTask answered HTTP 500" in moto_results[cid].detail


@pytest.mark.engine
def test_moto_forgets_dedup_on_delete_and_counts_characters(moto_results):
    # engines.md: dedup forgotten once the original is deleted; size counted in characters;
    # no SequenceNumber on the first content-deduplicated send
    assert moto_results["fifo.dedup-after-delete"].status == cf.FAIL
    assert "forgot the dedup id" in moto_results["fifo.dedup-after-delete"].detail
    assert moto_results["msg.size-utf8-bytes"].status == cf.FAIL
    assert "counts characters" in moto_results["msg.size-utf8-bytes"].detail
    assert moto_results["fifo.sequence-number-content-dedup"].status == cf.FAIL
    # while the basics hold
    for cid in (
        "fifo.order",
        "fifo.group-lock",
        "vis.expiry",
        "dlq.redrive",
        "msg.size-over",
        "batch.too-many",
    ):
        assert moto_results[cid].status == cf.PASS, f"{cid}: {moto_results[cid].detail}"


@pytest.mark.engine
def test_moto_differs_from_sqs_exactly_where_known(moto_results):
    not_passing = _not_passing(moto_results)
    assert not_passing.keys() == MOTO_FAILS | MOVE_TASK_CHECKS, not_passing
    assert all(moto_results[cid].status == cf.FAIL for cid in MOTO_FAILS)


# --- the command -------------------------------------------------------------------------------------
@pytest.mark.engine
def test_cli_json_for_one_check_is_valid_json(engine_state):
    # WHEN one check runs through the command with --json
    env = dict(os.environ, LABSQS_ENDPOINT=str(engine_state.endpoint))
    out = subprocess.run(
        [str(LABSQS), "conformance", "--json", "--only", "fifo.order"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    # THEN stdout is JSON naming the check, its status and the summary; progress went to stderr
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert [r["id"] for r in data["results"]] == ["fifo.order"]
    assert data["results"][0]["status"] == "pass"
    assert data["summary"]["pass"] == 1
    assert "fifo.order" in out.stderr


def test_cli_rejects_an_unknown_check_before_running_anything():
    out = subprocess.run(
        [str(LABSQS), "conformance", "--only", "nope"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 2
    assert "no conformance check named nope" in out.stderr


# --- the LocalStack line a machine without Python 3.13 gets --------------------------------------------
@pytest.mark.engine
def test_without_python_3_13_labsqs_up_gets_localstack_4_13_with_the_same_results(tmp_path):
    # GIVEN a user's machine with no Python >= 3.13: PATH without pyenv, a HOME without ~/.pyenv, nothing
    # pointing at one (the engine environments of this lab home are reused: installed once per machine)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYENV", "LABSQS_", "VIRTUAL_ENV"))}
    env.update(PATH="/usr/bin:/bin", HOME=str(tmp_path), LABSQS_HOME=str(engine.lab_home()))
    env["LABSQS_PORT"] = str(engine.free_port())
    # WHEN the default engine is started as the README says
    up = subprocess.run([str(LABSQS), "up"], env=env, capture_output=True, text=True, timeout=600)
    try:
        # THEN it is LocalStack 4.13.1 on the lab's own Python (3.11 or 3.12), not moto
        assert up.returncode == 0, up.stderr
        assert "localstack 4.13.1 (Python 3.1" in up.stdout and "moto" not in up.stdout, up.stdout
        status = subprocess.run([str(LABSQS), "status"], env=env, capture_output=True, text=True, timeout=60)
        assert "version   4.13.1 (Python 3.1" in status.stdout
        # AND the services beside SQS answer on it too (4.13.1's KMS needs the launcher's uuid5 shim on 3.11)
        endpoint = f"http://127.0.0.1:{env['LABSQS_PORT']}"
        key = service_client("kms", endpoint).create_key(Description="4.13 line")["KeyMetadata"]
        assert key["KeyState"] == "Enabled"
        # AND conformance gives, check by check, what docs/conformance.md records for 2026.3.0
        run = subprocess.run([str(LABSQS), "conformance", "--json"], env=env, capture_output=True, text=True,
                             timeout=600)  # fmt: skip
        got = {r["id"]: r["status"] for r in json.loads(run.stdout)["results"]}
        recorded = {r.id: r.status for r in cf.read_markdown().results["localstack"]}
        assert cf.read_markdown().versions["localstack"].startswith("localstack 2026.3.0")
        assert got == recorded, {cid: (got.get(cid), s) for cid, s in recorded.items() if got.get(cid) != s}
    finally:
        subprocess.run([str(LABSQS), "down"], env=env, capture_output=True, timeout=60)


def test_a_lesson_gets_one_line_where_its_engine_differs_from_sqs():
    # GIVEN the recorded matrix: LocalStack keeps dedup ids after delete, moto forgets them
    # THEN on LocalStack a lesson's assertion holds (no note), and on moto it gets one line that says so
    assert cf.engine_difference("fifo.dedup-after-delete", "localstack") is None
    note = cf.engine_difference("fifo.dedup-after-delete", "moto")
    assert note is not None and note.startswith("note: on moto this differs from SQS") and "\n" not in note
    assert cf.engine_difference("fifo.order", "moto") is None
