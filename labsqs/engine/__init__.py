"""Engines: what gives the lab an SQS endpoint, and how to start, stop and check one.

Real SQS lives in AWS. To learn and measure on a laptop you need something that *speaks* SQS on a local
port. The lab knows four engines:

``localstack`` (default)
    LocalStack's open-source core, run **on the host without Docker** in an environment of its own
    (``<lab home>/engine-venv-<version>``), one of two pinned lines (:data:`LOCALSTACK_LINES`):
    **2026.3.0** (the last open-source core; its repository was archived on 2026-03-23) where a Python
    >= 3.13 exists, else **4.13.1** (the last core that runs on Python 3.11/3.12) in a venv of the lab's
    own Python. Both give identical results on the lab's conformance checks. Fast, flat with backlog, and
    faithful to SQS on every behaviour the lessons use. It keeps nothing across restarts.

    Beside SQS it runs the AWS services the seeds use: SNS, CloudWatch (SQS publishes its metrics every
    :data:`METRICS_REPORT_INTERVAL_SECONDS`), S3 and SES. Publishing metrics costs SQS throughput (about 3x
    on batched sends), so load runs start their own engine with SQS metrics off (``metrics=False``).
``moto``
    moto's server, from the lab's own environment. The engine of last resort, when LocalStack cannot be
    installed at all. Its cost grows with the queue's length (a receive rescans the queue), so load figures
    against it measure moto, and a few lesson cells say where it differs from SQS.
``docker``
    LocalStack in Docker, from the repository's ``docker-compose.yml``, for users who have Docker.
``aws``
    Real AWS: no process, no endpoint, and only with an explicit opt-in (``LABSQS_ALLOW_AWS=1``).

The engine listens on loopback only. LocalStack's default (Twisted) gateway binds IPv4 on every interface
whatever ``GATEWAY_LISTEN`` says; the lab starts it through a tiny launcher
(``labsqs/_localstack_launcher.py``) that hands Twisted the loopback interface before the runtime starts.

The package: :mod:`~labsqs.engine.settings` (names, defaults, the lab home), :mod:`~labsqs.engine.state` (the
recorded engine and the endpoint), :mod:`~labsqs.engine.process` (spawn, wait, stop, ports),
:mod:`~labsqs.engine.lines` (LocalStack lines, their Python, the install) and :mod:`~labsqs.engine.starters`
(one starter per engine); this module runs them: :func:`up`, :func:`down`, :func:`started`, :func:`status`.

State lives in one lab-owned folder (``LABSQS_HOME``, default ``.labsqs/`` in the checkout): the engines'
environments, its data/config/cache folders, its log, and ``engine-<port>.json`` recording the running
engine's PID so ``labsqs down`` stops exactly that process.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from labsqs.engine.lines import (
    LOCALSTACK_LINES,
    LocalStackLine,
    _install_commands,
    _install_fingerprint,
    _lab_python,
    _python_candidates,
    _python_release,
    _python_version,
    _uv,
    _wanted_lines,
    engine_venv,
    ensure_localstack_env,
    find_engine_python,
    find_localstack_python,
)
from labsqs.engine.process import (
    _http_json,
    _spawn,
    _sqs_answers,
    _terminate,
    _wait_ready,
    free_port,
    listening_addresses,
    localstack_health,
    pid_alive,
    port_open,
)
from labsqs.engine.settings import (
    DEFAULT_ENGINE,
    DEFAULT_HOST,
    DEFAULT_PORT,
    ENGINES,
    LAUNCHER,
    LESSON_SERVICES,
    METRICS_REPORT_INTERVAL_SECONDS,
    MIN_ENGINE_PYTHON,
    MOTO_EXT_VERSION,
    MOTO_WARNING,
    PACKAGE_DIR,
    START_TIMEOUT_SECONDS,
    STOP_TIMEOUT_SECONDS,
    Progress,
    aws_allowed,
    engine_name,
    lab_home,
    lab_port,
)
from labsqs.engine.starters import (
    _localstack_env,
    _start_docker,
    _start_localstack,
    _start_moto,
    compose_file,
)
from labsqs.engine.state import (
    DEFAULT_ENDPOINT,
    EngineState,
    _read_state,
    _state_file,
    _write_state,
    current,
    resolve_endpoint,
)
from labsqs.errors import (
    AwsNotAllowed,
    EngineError,
    EngineInstallFailed,
    PortInUse,
    PythonNotFound,
    UnknownEngine,
)


def up(
    engine: str | None = None,
    *,
    port: int | None = None,
    host: str = DEFAULT_HOST,
    home: Path | None = None,
    services: str = ",".join(LESSON_SERVICES),
    metrics: bool = True,
    localstack: str | None = None,
    progress: Progress = print,
) -> EngineState:
    """Start the lab's SQS engine (or reuse the one already running) and return its state.

    ``metrics=False`` starts LocalStack with SQS's CloudWatch metrics off: the engine for load runs, which
    would otherwise spend about two thirds of their throughput publishing metrics. ``localstack`` picks a
    LocalStack line (``"4.13.1"``; default: the newest a Python here runs, or ``LABSQS_LOCALSTACK``).
    """
    name = engine_name(engine)
    port = port or lab_port()
    home = Path(home) if home else lab_home()
    home.mkdir(parents=True, exist_ok=True)
    if name == "aws":
        return _aws_state()
    running = _reuse(name, host, port, home, progress)
    if running is not None:
        return running
    if port_open(host, port):
        raise PortInUse(
            f"port {port} on {host} is taken by a process that is not the lab's engine",
            hint=f"stop that process, or pick a free port: `labsqs up --port {port + 1}` "
            f"and LABSQS_ENDPOINT=http://{host}:{port + 1}",
        )
    t0 = time.monotonic()
    if name == "localstack":
        state = _localstack_or_moto(engine, home, host, port, services, metrics, progress, localstack)
    elif name == "moto":
        state = _start_moto(home, host, port, progress)
    else:
        state = _start_docker(host, port, progress)
    _write_state(state, home)
    progress(f"{state.description} ready at {state.endpoint} in {time.monotonic() - t0:.1f} s")
    return state


def _aws_state() -> EngineState:
    """Real AWS: no process to start, only the opt-in to check."""
    if not aws_allowed():
        raise AwsNotAllowed(
            "the `aws` engine talks to real AWS and bills your account",
            hint="opt in explicitly with LABSQS_ALLOW_AWS=1, or use a local engine",
        )
    return EngineState("aws", None, "", 0, None, time.time(), "AWS")


def _reuse(name: str, host: str, port: int, home: Path, progress: Progress) -> EngineState | None:
    """The engine recorded on ``port`` if it is ``name`` and answers (one that does not answer is stopped)."""
    running = current(port, home)
    if running is None:
        return None
    if running.engine != name:
        raise EngineError(
            f"a {running.engine} engine already runs on port {port} (pid {running.pid})",
            hint=f"stop it with `labsqs down` before starting {name}, or use another --port",
        )
    endpoint = running.endpoint or f"http://{host}:{port}"
    if _sqs_answers(endpoint):
        progress(f"reusing the running {name} engine at {endpoint} (pid {running.pid})")
        return EngineState(**{**asdict(running), "reused": True})
    down(port=port, home=home, progress=progress)  # recorded but not answering: restart it
    return None


def _localstack_or_moto(
    asked: str | None,
    home: Path,
    host: str,
    port: int,
    services: str,
    metrics: bool,
    progress: Progress,
    line: str | None,
) -> EngineState:
    """LocalStack; moto when LocalStack cannot be installed here and nobody asked for LocalStack by name."""
    try:
        return _start_localstack(home, host, port, services, metrics, progress, line)
    except (PythonNotFound, EngineInstallFailed) as exc:
        if asked is not None or os.environ.get("LABSQS_ENGINE"):
            raise  # the user asked for LocalStack: say why it cannot run
        progress(f"warning: {exc.message}; LocalStack cannot be installed here, falling back to moto")
        return _start_moto(home, host, port, progress)


def load_port() -> int:
    """The port of the load runs' engine (metrics off): ``LABSQS_LOAD_PORT``, else the lab's port + 1."""
    return int(os.environ.get("LABSQS_LOAD_PORT", lab_port() + 1))


@contextlib.contextmanager
def started(engine: str | None = None, **kwargs: Any) -> Iterator[EngineState]:
    """``with started(...) as state:`` runs :func:`up`, and :func:`down` on exit unless it was running."""
    progress = kwargs.get("progress", print)
    state = up(engine, **kwargs)
    try:
        yield state
    finally:
        if not state.reused and state.engine not in {"aws", "docker"}:
            down(port=state.port, home=kwargs.get("home"), progress=progress)


def down(*, port: int | None = None, home: Path | None = None, progress: Progress = print) -> bool:
    """Stop the engine the lab started on ``port``. True if one was stopped."""
    port = port or lab_port()
    home = Path(home) if home else lab_home()
    state = _read_state(port, home)
    if state is None:
        progress(f"no lab engine recorded on port {port}")
        return False
    if state.engine == "docker":
        subprocess.run(["docker", "compose", "-f", str(compose_file()), "stop", "localstack"], check=False)
    elif state.pid is not None and pid_alive(state.pid):
        t0 = time.monotonic()
        _terminate(state.pid)
        progress(f"stopped {state.engine} (pid {state.pid}) in {time.monotonic() - t0:.1f} s")
    _state_file(port, home).unlink(missing_ok=True)
    return True


# --- status --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Status:
    """The engine behind the lab's endpoint: which one, where, which release, how long up, and whether it
    answers SQS requests. The queues and their depth are the queues' business: ``labsqs status`` adds them.
    """

    engine: str
    endpoint: str | None
    version: str
    uptime_seconds: float | None
    pid: int | None
    answering: bool
    python: str | None = None

    def render(self) -> str:
        up_s = f"{self.uptime_seconds:.0f} s" if self.uptime_seconds is not None else "-"
        return "\n".join(
            [
                f"engine    {self.engine}",
                f"endpoint  {self.endpoint or 'AWS (regional)'}",
                f"version   {self.version}" + (f" (Python {self.python})" if self.python else ""),
                f"pid       {self.pid or '-'}",
                f"uptime    {up_s}",
                f"answering {'yes' if self.answering else 'NO — start it with `labsqs up`'}",
            ]
        )


def status(*, port: int | None = None, home: Path | None = None, endpoint: str | None = None) -> Status:
    """Engine, endpoint, version, uptime, and whether it answers (real AWS is taken to answer)."""
    state = current(port, home) if endpoint is None and not os.environ.get("LABSQS_ENDPOINT") else None
    url = state.endpoint if state else resolve_endpoint(endpoint)
    answering = url is None or _sqs_answers(url)
    if state is None and url is not None:
        health = localstack_health(url) if answering else None
        name = "localstack" if health else ("external" if answering else "?")
        version = str(health.get("version")) if health else ("unknown" if answering else "?")
        return Status(name, url, version, None, None, answering)
    if state is None:
        return Status("aws", url, "AWS", None, None, answering)
    return Status(
        state.engine, url, state.version, state.uptime_seconds, state.pid, answering,
        state.python if answering else None,
    )  # fmt: skip


__all__ = [
    "DEFAULT_ENDPOINT", "DEFAULT_ENGINE", "DEFAULT_HOST", "DEFAULT_PORT", "ENGINES", "LAUNCHER",
    "LESSON_SERVICES", "LOCALSTACK_LINES", "METRICS_REPORT_INTERVAL_SECONDS", "MIN_ENGINE_PYTHON",
    "MOTO_EXT_VERSION", "MOTO_WARNING", "PACKAGE_DIR", "START_TIMEOUT_SECONDS", "STOP_TIMEOUT_SECONDS",
    "AwsNotAllowed", "EngineError", "EngineInstallFailed", "EngineState", "LocalStackLine", "PortInUse",
    "Progress", "PythonNotFound", "Status", "UnknownEngine", "_http_json", "_install_commands",
    "_install_fingerprint", "_lab_python", "_localstack_env", "_python_candidates", "_python_release",
    "_python_version", "_read_state", "_spawn", "_sqs_answers", "_state_file", "_terminate", "_uv",
    "_wait_ready", "_wanted_lines", "_write_state", "aws_allowed", "compose_file", "current", "down",
    "engine_name", "engine_venv", "ensure_localstack_env", "find_engine_python", "find_localstack_python",
    "free_port", "lab_home", "lab_port", "listening_addresses", "load_port", "localstack_health",
    "pid_alive", "port_open", "resolve_endpoint", "started", "status", "up",
]  # fmt: skip
