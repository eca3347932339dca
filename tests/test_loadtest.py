"""Load tests and `labsqs bench`: real, short Locust runs (in their own process) against the lab engine.

Locust patches the interpreter for gevent when imported, so these tests never import it: every run is a
subprocess, and only its files (Locust CSVs, the lab's event logs, the report) are read back.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from labsqs import cli, load, plan
from labsqs.client import sqs_client
from labsqs.errors import InvalidLoadOption

REPO = Path(__file__).resolve().parent.parent
LOCUST = Path(sys.executable).with_name("locust")


def _env(engine_state) -> dict[str, str]:
    return dict(os.environ, LABSQS_ENDPOINT=engine_state.endpoint)


def _bench(tmp_path: Path, engine_state, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "labsqs.cli", "bench", "--quick", "--out", str(tmp_path), *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=_env(engine_state), timeout=240, cwd=REPO)


def _report_dir(tmp_path: Path) -> Path:
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    return run_dir


# --- real runs -----------------------------------------------------------------------------------
@pytest.mark.engine
def test_throughput_bench_writes_locust_csvs_accounting_and_report(tmp_path, load_engine):
    engine_state = load_engine  # load runs use the metrics-off engine, as `labsqs bench` does
    # GIVEN the local engine and the quick throughput matrix (standard vs FIFO with one group)
    # WHEN labsqs bench runs it
    proc = _bench(tmp_path, engine_state, "--scenario", "throughput")

    # THEN it succeeds and prints a progress line per configuration and an accounting line that balances
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1/2" in proc.stdout and "2/2" in proc.stdout
    accounting = [line for line in proc.stdout.splitlines() if line.strip().startswith("sent ")]
    assert len(accounting) == 2
    assert all("= processed" in line and line.endswith("→ balances") for line in accounting)

    run_dir = _report_dir(tmp_path)
    # AND Locust's CSVs hold one entry per SQS action used, and the end-to-end latency entry
    for raw in sorted((run_dir / "raw").iterdir()):
        stats = pd.read_csv(raw / "locust_stats.csv").set_index(["Type", "Name"])
        for action in ("SendMessageBatch", "ReceiveMessage", "DeleteMessageBatch"):
            assert stats.loc[("SQS", action), "Request Count"] > 0
        assert stats.loc[("SQS", "SendMessageBatch"), "Failure Count"] == 0
        assert stats.loc[("E2E", "latency"), "Request Count"] == 200  # one per processed message
        assert (raw / "locust_failures.csv").exists()
        assert list(raw.glob("lab.*.events.csv")) and list(raw.glob("lab.*.counters.json"))

    # AND the tidy CSV has one row per configuration with figures that make sense
    results = pd.read_csv(run_dir / "results.csv")
    assert list(results.configuration) == ["standard c4 b10", "fifo g1 c4 b10"]
    assert (results.engine == engine_state.engine).all()
    assert (results.sent == 200).all() and (results.processed == 200).all()
    assert (results.processed_per_s > 0).all() and (results.sent_per_s > 0).all()
    assert (results.e2e_p50_ms > 0).all() and (results.e2e_p95_ms >= results.e2e_p50_ms).all()
    assert results.balanced.all()
    assert results.set_index("queue_type").loc["fifo", "aws_cap_msg_s"] == 3000

    # AND the plots and the summary exist; the summary names the engine, its version and AWS's cap
    for png in ("throughput.png", "latency.png"):
        assert (run_dir / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = (run_dir / "summary.md").read_text()
    assert f"{engine_state.engine} {engine_state.version}" in summary
    assert "fifo g1 c4 b10" in summary and "3,000 msg/s" in summary and "300" in summary


@pytest.mark.engine
def test_visibility_bench_measures_redeliveries_and_accounts_for_every_message(tmp_path, load_engine):
    engine_state = load_engine
    # GIVEN the quick visibility sweep: slow handlers, crashing consumers, DLQ after 2 receives
    # WHEN labsqs bench runs it
    proc = _bench(tmp_path, engine_state, "--scenario", "visibility")

    # THEN every configuration's messages are accounted for
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run_dir = _report_dir(tmp_path)
    results = pd.read_csv(run_dir / "results.csv")
    assert list(results.visibility_timeout_s) == [1, 3]
    assert results.balanced.all()
    dlq_only = results.dlq - results.dlq_also_processed  # a slow handler may finish after a dead-lettering
    assert (results.sent == results.processed + dlq_only + results.queued + results.in_flight).all()
    # AND redeliveries are counted from the lab's event logs: crashes and slow handlers cause them
    assert (results.deliveries >= results.processed).all()
    assert (results.redeliveries >= 0).all() and (results.duplicates <= results.redeliveries).all()
    crashed = results[results.crashes > 0]
    assert crashed.recovery_p50_s.notna().all()
    # AND the trade-off plot and the summary's table exist
    assert (run_dir / "visibility.png").stat().st_size > 0
    summary = (run_dir / "summary.md").read_text()
    assert "Scenario 2" in summary and "recovery" in summary


@pytest.mark.engine
def test_plain_locustfile_creates_its_queue_accounts_and_cleans_up(tmp_path, load_engine):
    engine_state, sqs = load_engine, sqs_client(load_engine.endpoint)
    # GIVEN the throughput locustfile run with plain `locust -f`, no --queue-url
    cmd = [
        str(LOCUST), "-f", str(REPO / "loadtests" / "throughput.py"), "--headless", "-u", "3", "-r", "3",
        "-t", "15s", "--csv", str(tmp_path / "run"), "--only-summary", "--max-messages", "40",
        "--batch-size", "1", "--queue-type", "fifo", "--groups", "4",
    ]  # fmt: skip
    # WHEN it runs
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(engine_state), timeout=90)

    # THEN it created a queue, sent single messages, printed a balanced accounting line and deleted the queue
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "sent 40 = processed 40" in out and "balances" in out
    created = re.search(r"created queue (\S+)", out)
    assert created
    name = created.group(1).rsplit("/", 1)[-1]
    assert name.endswith(".fifo")
    assert not [u for u in sqs.list_queues(QueueNamePrefix=name[:-5]).get("QueueUrls", [])]
    stats = pd.read_csv(tmp_path / "run_stats.csv").set_index(["Type", "Name"])
    assert stats.loc[("SQS", "SendMessage"), "Request Count"] == 40
    assert stats.loc[("SQS", "DeleteMessage"), "Request Count"] == 40


def _free_port_near_engine() -> int:
    """A free loopback port just above the engine's (LABSQS_PORT + 1 ...): parallel labs keep apart."""
    import socket

    base = int(os.environ.get("LABSQS_PORT", "4566"))
    for port in range(base + 1, base + 20):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    return 0  # bench then takes any free port


@pytest.mark.engine
def test_distributed_run_merges_every_workers_counters_and_event_logs(
    tmp_path, load_engine, queue_name
):
    engine_state, sqs = load_engine, sqs_client(load_engine.endpoint)  # the load runs' engine (metrics off)
    # GIVEN a short configuration: 2 producers (100 messages each) and 2 consumers
    config = load.LoadConfig(
        "throughput", producers=2, consumers=2, batch_size=10, messages=200, duration_seconds=4
    ).validate()
    # WHEN bench runs it as a Locust master and two worker processes talking over loopback TCP
    result = load.run_config(
        config,
        directory=tmp_path / "run",
        endpoint=engine_state.endpoint,
        env=_env(engine_state),
        workers=2,
        master_port=_free_port_near_engine(),
        sqs=sqs,
        queue_name=queue_name("dist"),
    )

    # THEN the master saw two workers, and each worker ran users and kept its own books
    master_log = (tmp_path / "run" / "locust.log").read_text()
    assert "2 workers connected" in master_log or "workers connected: 2" in master_log.lower(), master_log
    counters = load.read_counters(tmp_path / "run" / "lab")
    assert len(counters) == 2 and all(c.get("sent", 0) + c.get("received", 0) > 0 for c in counters)
    events = load.read_events(tmp_path / "run" / "lab")
    assert events.pid.nunique() == 2  # one merged event log from both workers
    # AND the master's accounting merged every worker's counters: all 200 sent, all accounted for
    line = re.search(r"labsqs accounting at stop: (.*)", master_log)
    assert line and line.group(1).startswith("sent 200 ") and line.group(1).endswith("balances"), master_log
    a = result.accounting
    assert a.sent == sum(c.get("sent", 0) for c in counters) == 200
    assert a.sent == a.processed + a.dlq_only + a.queued + a.in_flight and a.balanced
    # AND the merged event log becomes one report that says how many load processes ran
    assert result.row["load_processes"] == 2 and result.row["counters_sent"] == 200
    paths = load.write_report(
        [result], tmp_path, load.EngineInfo("localstack", "test", engine_state.endpoint)
    )
    summary = paths["summary"].read_text()
    assert "load processes per run (that ran users, each with its own event log): 2" in summary
    assert pd.read_csv(paths["csv"]).sent.tolist() == [200]


# --- refusals and bad options (no request is made) -----------------------------------------------
def test_aws_engine_refuses_without_the_flag_and_prints_the_estimate_first(monkeypatch, capsys):
    # GIVEN no way to reach AWS: any client creation would fail the test
    def no_client(*_args, **_kwargs):
        raise AssertionError("an SQS client was created: a request could have been made")

    monkeypatch.setattr("labsqs.client.sqs_client", no_client)
    monkeypatch.setattr("boto3.session.Session.client", no_client)

    # WHEN labsqs bench is asked to run against AWS without --i-understand-aws-costs
    rc = cli.main(["bench", "--engine", "aws", "--scenario", "all", "--quick"])

    # THEN it refuses (exit 2), after printing the request count and the estimated cost
    out, err = capsys.readouterr()
    assert rc == 2
    assert "SQS requests" in out and "$" in out and "FIFO" in out and "pricing" in out
    assert "--i-understand-aws-costs" in err
    assert "locust" not in sys.modules  # the CLI never imports Locust (gevent patching)


def test_plain_locust_master_against_aws_prints_the_planned_cost_and_refuses_without_the_flag(tmp_path):
    # GIVEN a distributed-mode master pointed at real AWS (the lab client's opt-in), without the cost flag
    env = {k: v for k, v in os.environ.items() if k not in ("LABSQS_ENDPOINT", "AWS_ENDPOINT_URL")}
    env.update(
        LABSQS_ENGINE="aws", LABSQS_ALLOW_AWS="1", AWS_ACCESS_KEY_ID="none", AWS_SECRET_ACCESS_KEY="none"
    )
    cmd = [
        str(LOCUST), "-f", str(REPO / "loadtests" / "throughput.py"), "--master", "--headless", "-u", "20",
        "-r", "10", "-t", "60s", "--expect-workers", "2", "--master-bind-host", "127.0.0.1",
        "--master-bind-port", str(_free_port_near_engine() or 5557), "--queue-type", "fifo",
        "--groups", "100",
    ]  # fmt: skip
    # WHEN it starts
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path)
    # THEN it printed the planned run's requests and cost first, then refused (exit 2) before any request
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert re.search(r"about [\d,]+ SQS requests .* FIFO at \$0\.50/M", proc.stdout)
    assert "--i-understand-aws-costs" in proc.stderr and "Traceback" not in proc.stderr
    assert "created queue" not in proc.stdout + proc.stderr


def test_cost_estimate_prices_fifo_above_standard():
    # GIVEN the same configuration on a standard and on a FIFO queue
    standard = load.LoadConfig("throughput", messages=10_000, batch_size=10)
    fifo = load.LoadConfig("throughput", queue_type="fifo", messages=10_000, batch_size=10)
    # WHEN the cost is estimated
    s, f = plan.estimate_cost([standard]), plan.estimate_cost([fifo])
    # THEN the request counts match and FIFO costs $0.50/M against $0.40/M
    assert s.requests == f.requests > 3 * 1_000  # sends + receives + deletes, batched by 10
    assert f.usd == pytest.approx(s.usd * 0.50 / 0.40)
    assert (
        plan.aws_cap_messages_per_second(fifo) == 3000
        and plan.aws_cap_messages_per_second(standard) is None
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--processes", "0"], "--processes must be between 1 and"),
        (["--workers", "17"], "--workers must be between 0 and 16"),
        (["--scenario", "soak"], "invalid choice: 'soak'"),
    ],
)
def test_bench_rejects_bad_options_with_one_clear_line(args, message, capsys):
    # GIVEN a bad bench option WHEN parsed THEN argparse exits 2 naming the problem, before any run
    with pytest.raises(SystemExit) as exc:
        cli.main(["bench", *args])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--handler-time", "bogus:1"], "unknown handler-time distribution 'bogus'"),
        (["--batch-size", "11"], "batch size must be between 1 and 10"),
        (["--crash-probability", "1.5"], "crash probability must be between 0 and 1"),
        (["--queue-type", "priority"], "invalid choice: 'priority'"),
    ],
)
def test_locustfile_rejects_bad_options_before_running(args, message, tmp_path):
    # GIVEN a bad lab option on the locustfile's command line
    cmd = [str(LOCUST), "-f", str(REPO / "loadtests" / "throughput.py"), "--headless", "-t", "2s", *args]
    # WHEN Locust starts
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    # THEN it exits at once with the reason, not a traceback
    assert proc.returncode != 0
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("text", "kind", "mean"),
    [("const:0.02", "const", 0.02), ("0.05", "const", 0.05), ("uniform:0.05,0.2", "uniform", 0.125),
     ("exp:0.1", "exp", 0.1), ("normal:0.2,0.05", "normal", 0.2)],
)  # fmt: skip
def test_handler_time_distributions_parse_and_draw_non_negative_seconds(text, kind, mean):
    import random

    dist = plan.parse_handler_time(text)
    assert dist.kind == kind and dist.mean_seconds == pytest.approx(mean)
    rng = random.Random(7)
    draws = [dist.draw(rng) for _ in range(200)]
    assert min(draws) >= 0
    assert plan.parse_handler_time(str(dist)) == dist  # round-trips through the option string


@pytest.mark.parametrize("text", ["uniform:0.3,0.1", "exp", "exp:-1", "uniform:1", "gamma:1,2", "const:abc"])
def test_bad_handler_times_are_refused(text):
    with pytest.raises(InvalidLoadOption):
        plan.parse_handler_time(text)


def test_accounting_line_says_whether_it_balances():
    ok = load.Accounting(sent=10, processed=7, dlq=1, queued=1, in_flight=1)
    off = load.Accounting(sent=10, processed=7, dlq=1, queued=0, in_flight=0)
    assert ok.line() == "sent 10 = processed 7 + in DLQ 1 + still queued 1 (+ in flight 1)  → balances"
    assert "≠" in off.line() and "does NOT balance (off by -2)" in off.line()


def test_matrices_cover_the_issue_and_stay_bounded():
    full = load.matrix("all")
    throughput = [c for c in full if c.scenario == "throughput"]
    # standard × consumers (1, 4) × batch (1, 10) + FIFO × groups (1, 10, 100) × consumers × batch
    assert len(throughput) == 4 + 12
    assert {c.groups for c in throughput if c.fifo} == {1, 10, 100}
    assert {c.visibility_timeout_seconds for c in full if c.scenario == "visibility"} == {1, 2, 5}
    assert all(c.duration_seconds <= 30 and c.messages <= 1_000 for c in full)
    with pytest.raises(InvalidLoadOption):
        load.LoadConfig("throughput", batch_size=11).validate()


def test_the_locust_side_loads_neither_the_orchestrator_nor_pandas():
    # GIVEN a fresh interpreter that imports what a locustfile imports (locust first, then the users)
    code = (
        "import sys, locust\n"
        "from labsqs.load import users\n"
        "heavy = sorted(m for m in sys.modules if m == 'pandas' or m.startswith(('labsqs.load.orchestrator',"
        " 'labsqs.load.report', 'labsqs.load.analysis', 'labsqs.load.command', 'matplotlib')))\n"
        "print(users.ProducerUser.__name__, users.ConsumerUser.__name__, heavy)\n"
    )
    # WHEN it runs
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    # THEN the users load, and nothing of the orchestrator, the report or pandas came with them
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ProducerUser ConsumerUser []"
