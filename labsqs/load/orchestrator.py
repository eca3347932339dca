"""Running load tests: each configuration's queue, Locust in its own process(es), the accounting after it.

:func:`bench` runs a scenario's matrix on an engine of its own (SQS metrics off), or on AWS only with the
cost acknowledged, and writes the report; :func:`run_config` runs one configuration — one Locust process,
``--processes N`` forked workers, or Locust's distributed mode (``workers=N``: a master and N worker
processes over loopback TCP, the wiring of a multi-machine run).

This module never imports Locust (its gevent patching must not reach the CLI, pytest or a notebook): Locust
runs as a subprocess on a locustfile of ``loadtests/``, and only its files are read back.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from labsqs.errors import AwsCostsNotAcknowledged, InvalidLoadOption, LoadRunFailed
from labsqs.load.accounting import (
    Accounting,
    dlq_contents,
    read_counters,
    read_events,
    settle,
)
from labsqs.load.analysis import RunResult, analyse, read_locust_stats
from labsqs.load.report import EngineInfo, write_report
from labsqs.load.spec import MAX_PROCESSES, LoadConfig, load_queue_spec, matrix
from labsqs.plan import CostEstimate, estimate_cost, parse_handler_time

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from labsqs.base.depth import Depth
    from labsqs.engine import EngineState

LOADTESTS_DIR = Path(__file__).resolve().parents[2] / "loadtests"
LOCUST_START_GRACE_SECONDS = 60  # on top of -t before a hung Locust is killed
# at the end of -t each user finishes the request it is in (at most this long) instead of being killed in
# the middle of it: a send the engine took but the producer never logged would break the accounting. Only
# for one process: a distributed master gives its workers 0.5 s after -t to report their counters before
# it stops listening, so workers must stop at once (a send cut in half can then leave one message unlogged)
LOCUST_STOP_TIMEOUT_SECONDS = 5
LOOPBACK = "127.0.0.1"
WORKER_STOP_SECONDS = 15  # a worker quits when its master does; after this long it is killed
WARM_UP_BATCHES = 20

Progress = Callable[[str], None]


# --- Locust as a subprocess ----------------------------------------------------------------------
def locust_command() -> list[str]:
    """The Locust executable of this environment (never imported here: gevent patching)."""
    exe = Path(sys.executable).with_name("locust")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("locust")
    if found:
        return [found]
    return [sys.executable, "-m", "locust"]


def locustfile(scenario: str) -> Path:
    path = LOADTESTS_DIR / f"{scenario}.py"
    if not path.exists():
        raise LoadRunFailed(
            f"no locustfile {path}",
            hint="run `labsqs bench` from the lab's source checkout (the loadtests/ folder ships there)",
        )
    return path


@dataclass(frozen=True)
class LocustLaunch:
    """How one configuration runs: where its files go, and its process layout."""

    directory: Path
    endpoint: str | None
    processes: int = 1
    workers: int = 0
    master_port: int = 0

    @property
    def stats_prefix(self) -> Path:
        return self.directory / "locust"

    @property
    def lab_prefix(self) -> Path:
        return self.directory / "lab"

    def commands(self, config: LoadConfig, queue_url: str) -> tuple[list[str], list[list[str]]]:
        """The master's (or single process's) command line, and each worker's."""
        users, single = config.producers + config.consumers, self.processes == 1 and not self.workers
        file = str(locustfile(config.scenario))
        cmd = [*locust_command(), "-f", file, "--headless", "-u", str(users), "-r", str(users)]
        cmd += ["-t", f"{config.duration_seconds}s", "--csv", str(self.stats_prefix), "--only-summary"]
        cmd += ["--stop-timeout", str(LOCUST_STOP_TIMEOUT_SECONDS if single else 0)]
        cmd += ["--queue-url", queue_url, "--lab-out", str(self.lab_prefix), *config.locust_options()]
        if self.endpoint:
            cmd += ["--host", self.endpoint]
        if self.processes > 1 and not self.workers:
            cmd += ["--processes", str(self.processes)]
        if not self.workers:
            return [*cmd, *_user_classes(config)], []
        from labsqs.engine import free_port

        port = str(self.master_port or free_port(LOOPBACK))
        cmd += ["--master", "--master-bind-host", LOOPBACK, "--master-bind-port", port]
        cmd += ["--expect-workers", str(self.workers)]
        cmd += ["--expect-workers-max-wait", str(LOCUST_START_GRACE_SECONDS)]
        worker = [*locust_command(), "-f", file, "--worker", "--master-host", LOOPBACK, "--master-port", port]
        return [*cmd, *_user_classes(config)], [worker] * self.workers


def _user_classes(config: LoadConfig) -> list[str]:
    """Only the user classes this configuration runs."""
    return [name for name, n in (("Producer", config.producers), ("Consumer", config.consumers)) if n]


def _run_locust(
    master: list[str], workers: list[list[str]], *, directory: Path, env: dict[str, str], timeout: float
) -> int:
    """Run the Locust master (or single process) and its worker processes; return the master's exit code.

    Logs: ``locust.log`` (master) and ``locust-worker-N.log``. Every process is stopped, killed if need be,
    before this returns."""
    logs = [(directory / "locust.log").open("w")]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(subprocess.Popen(master, stdout=logs[0], stderr=subprocess.STDOUT, env=env))
        for n, cmd in enumerate(workers, 1):
            logs.append((directory / f"locust-worker-{n}.log").open("w"))
            procs.append(subprocess.Popen(cmd, stdout=logs[-1], stderr=subprocess.STDOUT, env=env))
        try:
            returncode = procs[0].wait(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise LoadRunFailed(
                f"Locust did not stop within {timeout:.0f} s", hint=f"see {directory / 'locust.log'}"
            ) from exc
        for proc in procs[1:]:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=WORKER_STOP_SECONDS)
        return returncode
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for fh in logs:
            fh.close()


# --- one configuration ---------------------------------------------------------------------------
def run_config(
    config: LoadConfig,
    *,
    directory: Path,
    endpoint: str | None,
    env: dict[str, str],
    processes: int = 1,
    workers: int = 0,
    master_port: int = 0,
    sqs: SQSClient,
    queue_name: str,
) -> RunResult:
    """Create the run's queue and DLQ, run Locust headless on it, settle, account, delete the queues.

    ``workers=N`` runs Locust's distributed mode on this machine: a master (no users of its own) and N
    worker processes that connect to it over loopback TCP (``master_port``, 0 = any free port) — the same
    wiring as a multi-machine run. ``processes=N`` instead forks N workers under one ``--processes`` master.
    """
    from labsqs.queues import delete_queue, ensure_queue

    parse_handler_time(config.handler_time)  # the one field LoadConfig.validate leaves to the planner
    launch = LocustLaunch(directory, endpoint, processes, workers, master_port)
    directory.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    spec = load_queue_spec(
        queue_name,
        visibility_timeout_seconds=config.visibility_timeout_seconds,
        wait_time_seconds=config.wait_time_seconds,
        max_receive_count=config.max_receive_count,
    )
    queue = ensure_queue(spec, sqs=sqs)
    try:
        master, worker_cmds = launch.commands(config, queue.url)
        timeout = config.duration_seconds + LOCUST_START_GRACE_SECONDS
        returncode = _run_locust(master, worker_cmds, directory=directory, env=env, timeout=timeout)
        if returncode not in (0, 1):  # 1 = some requests failed: that is data, not a crash
            log = directory / "locust.log"
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
            raise LoadRunFailed(f"Locust exited with code {returncode}:\n{tail}", hint=f"see {log}")
        depth = settle(queue.url, sqs=sqs, visibility_timeout_seconds=config.visibility_timeout_seconds)
        dlq, dlq_ids = dlq_contents(queue.dlq_url, sqs=sqs)
    finally:
        delete_queue(queue, sqs=sqs, missing_ok=True)
    row, accounting = _tidy_row(config, launch, depth, dlq, dlq_ids)
    elapsed = time.monotonic() - t0
    row["wall_seconds"] = round(elapsed, 1)
    return RunResult(config, row, accounting, elapsed, directory)


def _tidy_row(
    config: LoadConfig, launch: LocustLaunch, depth: Depth, dlq: int, dlq_ids: set[str]
) -> tuple[dict, Accounting]:
    """The run's accounting (the merged event logs against the queue's gauges) and its tidy row."""
    events = read_events(launch.lab_prefix)
    stats = read_locust_stats(launch.stats_prefix)
    processed = set(events.loc[events.event == "deleted", "msg_id"].astype(str)) if len(events) else set()
    accounting = Accounting.of(
        sent=int((events.event == "sent").sum()) if len(events) else 0,
        processed=len(processed),
        queue=depth,
        dlq=dlq,
        dlq_also_processed=len(dlq_ids & processed),
    )
    row = analyse(config, events, stats, accounting)
    counters = [c for c in read_counters(launch.lab_prefix) if c.get("sent") or c.get("received")]
    row["load_processes"] = len(counters)  # processes that ran users (workers; not an idle master)
    row["counters_sent"] = sum(int(c.get("sent", 0)) for c in counters)
    row["counters_processed"] = sum(int(c.get("processed_unique", 0)) for c in counters)
    return row, accounting


# --- the whole matrix ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """Where a bench sends its requests: the engine (or AWS), the client, the environment for Locust."""

    info: EngineInfo
    endpoint: str | None
    sqs: SQSClient
    env: dict[str, str]


def _check_process_options(processes: int, workers: int) -> None:
    if not 1 <= processes <= MAX_PROCESSES:
        raise InvalidLoadOption(f"--processes must be between 1 and {MAX_PROCESSES}, got {processes}")
    if not 0 <= workers <= MAX_PROCESSES or (workers and processes > 1):
        raise InvalidLoadOption(
            f"--workers must be between 0 and {MAX_PROCESSES}, got {workers}",
            hint="use either --workers (master + workers over TCP) or --processes (forked), not both",
        )


def _aws_target(estimate: CostEstimate, aws_costs_ok: bool, progress: Progress) -> Target:
    """Real AWS: print the estimate first; refuse without the acknowledgement."""
    from labsqs.client import sqs_client

    progress(estimate.render())
    if not aws_costs_ok:
        raise AwsCostsNotAcknowledged(
            "`labsqs bench --engine aws` sends real, billed requests to AWS",
            hint="re-run with --i-understand-aws-costs once the estimate above is acceptable, "
            "or use a local engine (`labsqs up`)",
        )
    env = dict(os.environ, LABSQS_ENGINE="aws", LABSQS_ALLOW_AWS="1")
    env.pop("LABSQS_ENDPOINT", None)
    return Target(_engine_info("aws", None, "AWS"), None, sqs_client(None, allow_aws=True), env)


def started_load_engine(
    engine_name: str | None = None, *, progress: Progress = print
) -> contextlib.AbstractContextManager[EngineState]:
    """``with started_load_engine() as state:`` — the engine of load runs, as :func:`bench` and the tests
    start it: SQS's CloudWatch metrics off, on :func:`labsqs.engine.load_port` (the lab's port + 1);
    reused if it runs already, stopped on exit only if this started it."""
    from labsqs import engine

    return engine.started(engine_name, port=engine.load_port(), metrics=False, progress=progress)


def _local_target(engine_name: str | None, progress: Progress, stack: contextlib.ExitStack) -> Target:
    """``LABSQS_ENDPOINT``'s engine, else an engine of the run's own with SQS's CloudWatch metrics off:
    publishing them costs the lessons' engine about two thirds of its throughput (benchmarks/engine.py)."""
    from labsqs import engine
    from labsqs.client import resolve_endpoint, sqs_client

    if os.environ.get("LABSQS_ENDPOINT"):
        endpoint = resolve_endpoint()
        health = engine.localstack_health(endpoint or "")
        version = str(health.get("version")) if health else "unknown"
        name = "localstack" if health else "external"
    else:
        state = stack.enter_context(started_load_engine(engine_name, progress=progress))
        endpoint, name = state.endpoint, state.engine
        version = state.description.removeprefix(f"{name} ") + ", SQS metrics off"
        if not state.reused:
            _warm_up(sqs_client(endpoint))
    if name == "moto":
        progress(f"warning: {engine.MOTO_WARNING}")
    env = dict(os.environ, LABSQS_ENDPOINT=endpoint or "")
    return Target(_engine_info(name, endpoint, version), endpoint, sqs_client(endpoint), env)


def _engine_info(name: str, endpoint: str | None, version: str) -> EngineInfo:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as pkg_version

    extra = {"machine": f"{os.cpu_count()} CPU cores (client and engine share them)"}
    for pkg in ("locust", "boto3"):
        with contextlib.suppress(PackageNotFoundError):
            extra[pkg] = pkg_version(pkg)
    extra["date"] = datetime.now().isoformat(timespec="seconds")
    return EngineInfo(name, version, endpoint, extra)


def _warm_up(sqs: SQSClient, batches: int = WARM_UP_BATCHES) -> None:
    """A fresh engine answers its first requests slowly (code paths load on first use): exercise send,
    receive and delete once on a throwaway queue so the first configuration measures SQS, not the start."""
    from labsqs.base.calls import delete_messages, receive_messages

    url = sqs.create_queue(QueueName=f"bench-warm-up-{os.getpid()}")["QueueUrl"]
    try:
        for i in range(batches):
            batch = [{"Id": str(j), "MessageBody": f"{i}.{j}"} for j in range(10)]
            sqs.send_message_batch(QueueUrl=url, Entries=batch)  # type: ignore[arg-type]
            got = receive_messages(sqs, url, wait_time_seconds=0)
            delete_messages(sqs, url, [m["ReceiptHandle"] for m in got])
    finally:
        sqs.delete_queue(QueueUrl=url)


def _new_run_dir(out: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = out / stamp
    n = 1
    while run_dir.exists():
        n += 1
        run_dir = out / f"{stamp}-{n}"
    run_dir.mkdir(parents=True)
    return run_dir


def _bar(done: int, total: int, width: int = 20) -> str:
    filled = round(width * done / total) if total else width
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def bench(
    scenario: str = "all",
    *,
    quick: bool = False,
    engine_name: str | None = None,
    processes: int = 1,
    workers: int = 0,
    master_port: int = 0,
    out: Path | str = "reports",
    aws_costs_ok: bool = False,
    progress: Progress = print,
) -> tuple[list[RunResult], dict[str, Path]]:
    """Run a scenario's matrix (or ``all``) and write the report; returns the results and report paths.

    Locally the run starts its own engine with SQS metrics off on :func:`labsqs.engine.load_port` and stops
    it afterwards (``LABSQS_ENDPOINT`` points it at an engine you run instead).
    """
    from labsqs import engine

    _check_process_options(processes, workers)
    configs = matrix(scenario, quick)
    estimate = estimate_cost(configs)
    with contextlib.ExitStack() as stack:
        if engine.engine_name(engine_name) == "aws":
            target = _aws_target(estimate, aws_costs_ok, progress)
        else:
            progress(
                f"{len(configs)} configuration(s); about {estimate.requests:,} requests to the local engine"
            )
            target = _local_target(engine_name, progress, stack)
        run_dir = _new_run_dir(Path(out))
        progress(f"report folder {run_dir}")
        launch = LocustLaunch(run_dir / "raw", target.endpoint, processes, workers, master_port)
        results = _run_matrix(configs, target, launch, progress)
        return results, write_report(results, run_dir, target.info)


def _run_matrix(
    configs: Sequence[LoadConfig], target: Target, launch: LocustLaunch, progress: Progress
) -> list[RunResult]:
    """Each configuration in turn, on a queue of its own, with a progress line before and after."""
    results: list[RunResult] = []
    t_start = time.monotonic()
    stamp = launch.directory.parent.name.replace("-", "")[-10:]
    for k, config in enumerate(configs, 1):
        progress(f"{_bar(k - 1, len(configs))} {k}/{len(configs)} {config.scenario}: {config.label} ...")
        result = run_config(
            config,
            directory=launch.directory / f"{k:02d}-{config.label.replace(' ', '-')}",
            endpoint=target.endpoint,
            env=target.env,
            processes=launch.processes,
            workers=launch.workers,
            master_port=launch.master_port,
            sqs=target.sqs,
            queue_name=f"bench-{stamp}-{k:02d}" + (".fifo" if config.fifo else ""),
        )
        results.append(result)
        row = result.row
        progress(
            f"{_bar(k, len(configs))} {k}/{len(configs)} {config.label}: sent {row['sent_per_s']:.0f}/s, "
            f"processed {row['processed_per_s']:.0f}/s, e2e p95 {row['e2e_p95_ms']:.0f} ms, "
            f"duplicates {row['duplicates']}, DLQ {row['dlq']} — {result.elapsed_seconds:.0f} s "
            f"(total {time.monotonic() - t_start:.0f} s)"
        )
        progress(f"    {result.accounting.line()}")
    return results
