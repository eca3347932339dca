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

State lives in one lab-owned folder (``LABSQS_HOME``, default ``.labsqs/`` in the checkout): the engines'
environments, its data/config/cache folders, its log, and ``engine-<port>.json`` recording the running
engine's PID so ``labsqs down`` stops exactly that process.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from labsqs.errors import EngineError, EngineInstallFailed, PortInUse, PythonNotFound, UnknownEngine

ENGINES = ("localstack", "moto", "docker", "aws")
DEFAULT_ENGINE = "localstack"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4566
MIN_ENGINE_PYTHON = (3, 13)  # LocalStack 2026.3 uses PEP 695 generics and warnings.deprecated
START_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 15.0
LESSON_SERVICES = ("sqs", "sns", "cloudwatch", "s3", "ses", "kms", "iam")  # the seeds' + lesson 15's
METRICS_REPORT_INTERVAL_SECONDS = 5  # AWS publishes SQS metrics once a minute; a lesson cannot wait that long
MOTO_EXT_VERSION = "5.1.54"  # LocalStack's SES provider runs on moto inside the engine's environment
MOTO_WARNING = (
    "moto is the engine: its throughput falls as the backlog grows (a receive rescans the queue), "
    "so load-test figures measure moto, not SQS, and a few lessons note behaviours moto lacks. "
    "The LocalStack engine needs Python >= 3.11 with venv: see `labsqs up --engine localstack`."
)
Progress = Callable[[str], None]
PACKAGE_DIR = Path(__file__).resolve().parent
LAUNCHER = PACKAGE_DIR / "_localstack_launcher.py"


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class LocalStackLine:
    """One pinned LocalStack core release, the Pythons it runs on and its constraints file."""

    version: str
    python_min: tuple[int, int]
    python_below: tuple[int, int] | None
    constraints: Path
    label: str  # its column in docs/conformance.md

    @property
    def requirements(self) -> tuple[str, ...]:
        # without the three pins the install fails with misleading plugin-loader errors (facts/engines.md)
        return (
            f"localstack-core[base-runtime]=={self.version}", "cbor2<6", "pyopenssl<26.2", "service-identity",
            f"moto-ext[all]=={MOTO_EXT_VERSION}",
        )  # fmt: skip

    def runs_on(self, version: tuple[int, int]) -> bool:
        return version >= self.python_min and (self.python_below is None or version < self.python_below)

    @property
    def python_text(self) -> str:
        low = ".".join(map(str, self.python_min))
        if self.python_below is None:
            return f"Python >= {low}"
        return f"Python {low}-3.{self.python_below[1] - 1}"


# Newest first: the first line with a Python on the machine wins. LocalStack's open-source repository was
# archived on 2026-03-23, so these are pinned, not upgraded.
LOCALSTACK_LINES = (
    LocalStackLine("2026.3.0", MIN_ENGINE_PYTHON, None, PACKAGE_DIR / "engine-constraints.txt", "localstack"),
    LocalStackLine(
        "4.13.1", (3, 11), MIN_ENGINE_PYTHON, PACKAGE_DIR / "engine-constraints-4.13.txt", "localstack-4.13"
    ),
)


# --- where things live ---------------------------------------------------------------------------
def lab_home() -> Path:
    """The lab-owned folder for engine environments, state and logs.

    ``LABSQS_HOME`` if set; otherwise ``.labsqs/`` in the source checkout the package runs from; otherwise
    ``~/.cache/labsqs`` (an installed wheel).
    """
    env = os.environ.get("LABSQS_HOME")
    if env:
        home = Path(env)
    elif (PACKAGE_DIR.parent / "pyproject.toml").exists():
        home = PACKAGE_DIR.parent / ".labsqs"
    else:
        home = Path.home() / ".cache" / "labsqs"
    home.mkdir(parents=True, exist_ok=True)
    return home.resolve()


def engine_name(name: str | None = None) -> str:
    """The engine to use: the argument, else ``LABSQS_ENGINE``, else ``localstack``."""
    chosen = (name or os.environ.get("LABSQS_ENGINE") or DEFAULT_ENGINE).strip().lower()
    if chosen not in ENGINES:
        raise UnknownEngine(
            f"unknown engine {chosen!r}",
            hint=f"choose one of {', '.join(ENGINES)} (--engine or LABSQS_ENGINE)",
        )
    return chosen


@dataclass(frozen=True)
class EngineState:
    """A running (or recorded) engine."""

    engine: str
    endpoint: str | None
    host: str
    port: int
    pid: int | None
    started_at: float
    version: str
    log: str | None = None
    reused: bool = False
    python: str | None = None  # the engine's Python version (LocalStack), for status and reports

    @property
    def description(self) -> str:
        """``localstack 4.13.1 (Python 3.11.2)``: which engine, which release, on which Python."""
        python = f" (Python {self.python})" if self.python else ""
        version = self.version.removeprefix(f"{self.engine} ")
        return f"{self.engine} {version}{python}"

    @property
    def uptime_seconds(self) -> float:
        return time.time() - self.started_at


def _state_file(port: int, home: Path | None = None) -> Path:
    return (home or lab_home()) / f"engine-{port}.json"


def _read_state(port: int, home: Path | None = None) -> EngineState | None:
    path = _state_file(port, home)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    data.pop("reused", None)
    return EngineState(**data)


def _write_state(state: EngineState, home: Path | None = None) -> None:
    data = asdict(state)
    data.pop("reused")
    _state_file(state.port, home).write_text(json.dumps(data, indent=2))


def current(port: int | None = None, home: Path | None = None) -> EngineState | None:
    """The engine the lab started on ``port`` (default: ``LABSQS_PORT`` or 4566) if it still runs."""
    port = port or int(os.environ.get("LABSQS_PORT", DEFAULT_PORT))
    state = _read_state(port, home)
    if state is None:
        return None
    if state.pid is not None and not pid_alive(state.pid):
        return None
    return state


# --- processes and ports -------------------------------------------------------------------------
def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child still answers kill(0); read its state
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def port_open(host: str, port: int, timeout: float = 0.3) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        return s.connect_ex((host, port)) == 0


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the OS picks it): for a second engine, a Locust master."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a TCP socket LISTENing on ``port`` (read from /proc/net/tcp{,6})."""
    found: set[str] = set()
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, st = fields[1], fields[3]
            if st != "0A":  # LISTEN
                continue
            hex_addr, hex_port = local.split(":")
            if int(hex_port, 16) != port:
                continue
            raw = bytes.fromhex(hex_addr)
            if family == socket.AF_INET:
                addr = socket.inet_ntop(family, raw[::-1])
            else:
                words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                addr = socket.inet_ntop(family, words)
            found.add(addr)
    return found


def _http_json(url: str, timeout: float = 1.0) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (loopback only)
            return json.loads(resp.read().decode() or "{}")
    except (urllib.error.URLError, OSError, ValueError):
        return None


def localstack_health(endpoint: str) -> dict | None:
    """LocalStack's health document, or ``None`` if nothing LocalStack-like answers."""
    return _http_json(f"{endpoint}/_localstack/health")


def _sqs_answers(endpoint: str) -> bool:
    """True if an SQS ListQueues request succeeds at ``endpoint`` (any engine)."""
    import boto3
    from botocore.config import Config

    sqs = boto3.session.Session().client(
        "sqs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=3),
    )
    try:
        sqs.list_queues()
    except Exception:  # noqa: BLE001 - any failure means "not an SQS endpoint (yet)"
        return False
    return True


# --- the LocalStack engine's own Python environment ----------------------------------------------
def _python_version(python: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    major, minor = out.stdout.split()
    return int(major), int(minor)


def _python_release(python: str | Path) -> str | None:
    """``3.11.2``: the full version of an interpreter (for status lines and reports)."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(
            [str(python), "-c", "import platform; print(platform.python_version())"],
            capture_output=True, text=True, timeout=20,
        )  # fmt: skip
        if out.returncode == 0:
            return out.stdout.strip()
    return None


def _python_candidates() -> list[str]:
    """Pythons >= 3.13 on this machine (``LABSQS_ENGINE_PYTHON`` first, then PATH, pyenv, /usr/bin)."""
    found: list[str] = []
    env = os.environ.get("LABSQS_ENGINE_PYTHON")
    if env:
        found.append(env)
    for name in ("python3.14", "python3.13"):
        path = shutil.which(name)
        if path:
            found.append(path)
    roots = [os.environ.get("PYENV_ROOT"), str(Path.home() / ".pyenv")]
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=10)
        roots.insert(0, out.stdout.strip())
    for root in filter(None, roots):
        versions = Path(root) / "versions"
        if versions.is_dir():
            for v in sorted(versions.iterdir(), reverse=True):
                if v.name.startswith(("3.13", "3.14", "3.15")):
                    found.append(str(v / "bin" / "python"))
    for minor in (15, 14, 13):
        found.append(f"/usr/bin/python3.{minor}")
    return list(dict.fromkeys(found))


def _lab_python() -> str:
    """The interpreter the lab's own environment was made from (3.11+): LocalStack 4.13.1 runs on it."""
    return str(getattr(sys, "_base_executable", None) or sys.executable)


def _wanted_lines(wanted: str | None = None) -> tuple[LocalStackLine, ...]:
    """The LocalStack lines to consider: all, or the one asked for (argument, else ``LABSQS_LOCALSTACK``)."""
    wanted = (wanted or os.environ.get("LABSQS_LOCALSTACK", "")).strip()
    if not wanted:
        return LOCALSTACK_LINES
    lines = tuple(line for line in LOCALSTACK_LINES if line.version.startswith(wanted))
    if not lines:
        raise EngineError(
            f"unknown LocalStack line {wanted!r} in LABSQS_LOCALSTACK",
            hint=f"choose one of {', '.join(line.version for line in LOCALSTACK_LINES)}, or unset it",
        )
    return lines


def find_localstack_python(wanted: str | None = None) -> tuple[LocalStackLine, str]:
    """The newest LocalStack line that a Python on this machine runs, and that Python.

    2026.3.0 wants Python >= 3.13 (looked for on PATH, in pyenv, in /usr/bin, or ``LABSQS_ENGINE_PYTHON``);
    without one, 4.13.1 runs in a venv of the lab's own Python (3.11 or 3.12).
    """
    candidates = [c for c in [*_python_candidates(), _lab_python()] if Path(c).exists() or shutil.which(c)]
    versions: dict[str, tuple[int, int] | None] = {}  # asked lazily: each answer is a subprocess
    lines = _wanted_lines(wanted)
    for line in lines:
        for candidate in candidates:
            if candidate not in versions:
                versions[candidate] = _python_version(candidate)
            version = versions[candidate]
            if version is not None and line.runs_on(version):
                return line, candidate
    raise PythonNotFound(
        "no Python for the LocalStack engine: "
        + "; ".join(f"{line.version} needs {line.python_text}" for line in lines),
        hint="install one (e.g. `pyenv install 3.13`) and point LABSQS_ENGINE_PYTHON at it, "
        "or use the moto engine: `labsqs up --engine moto`",
    )


def find_engine_python() -> str:
    """The Python the LocalStack engine will run on (see :func:`find_localstack_python`)."""
    return find_localstack_python()[1]


def engine_venv(home: Path | None = None, line: LocalStackLine = LOCALSTACK_LINES[0]) -> Path:
    return (home or lab_home()) / f"engine-venv-{line.version}"


def _install_fingerprint(line: LocalStackLine, python: str) -> str:
    digest = hashlib.sha256()
    digest.update(line.constraints.read_bytes())
    digest.update("\n".join(line.requirements).encode())
    digest.update(python.encode())
    digest.update(b"compiled")  # environments installed before bytecode was compiled at install are redone
    return digest.hexdigest()


def _uv() -> str | None:
    """uv from the lab's environment (it is in the lock), else on PATH: installs the engine in seconds."""
    here = Path(sys.executable).with_name("uv")
    return str(here) if here.exists() else shutil.which("uv")


def _install_commands(line: LocalStackLine, base_python: str, venv: Path) -> list[list[str]]:
    """uv when the lab has it, else venv + pip. Bytecode is compiled at install, as pip does: uv does not by
    default, and where PYTHONDONTWRITEBYTECODE is set every engine start would compile LocalStack again
    (measured: 2.8 s instead of 1.1 s to a healthy engine)."""
    python = str(venv / "bin" / "python")
    uv = _uv()
    if uv is not None:
        return [
            [uv, "venv", "--quiet", "--python", base_python, str(venv)],
            [uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", python,
             "-c", str(line.constraints), *line.requirements],
        ]  # fmt: skip
    return [
        [base_python, "-m", "venv", str(venv)],
        [python, "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off",
         "-c", str(line.constraints), *line.requirements],
    ]  # fmt: skip


def ensure_localstack_env(
    home: Path | None = None, progress: Progress = print, wanted: str | None = None
) -> tuple[LocalStackLine, Path]:
    """Create (once) the environment of the LocalStack line this machine runs; return the line and its python.

    ``wanted`` picks a line (``4.13.1``); by default the newest one a Python here runs. Fast when already
    done (a fingerprint of the constraints, requirements and base Python is kept).
    """
    line, base_python = find_localstack_python(wanted)
    venv = engine_venv(home, line)
    marker = venv / ".labsqs-installed"
    python = venv / "bin" / "python"
    fingerprint = _install_fingerprint(line, base_python)
    if marker.exists() and python.exists() and marker.read_text().split("\n", 1)[0] == fingerprint:
        return line, python
    progress(f"installing LocalStack {line.version} into {venv} (Python {base_python}) — once, ~10-60 s")
    t0 = time.monotonic()
    if venv.exists():
        shutil.rmtree(venv)
    env = dict(os.environ, UV_PYTHON_DOWNLOADS="never", UV_SYSTEM_CERTS="1")  # certificates as pip sees them
    for cmd in _install_commands(line, base_python, venv):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
            tool = Path(cmd[0]).name
            raise EngineInstallFailed(
                f"installing LocalStack {line.version} failed ({tool} exit {proc.returncode}):\n{tail}",
                hint="check the package registry is reachable, or use `labsqs up --engine moto`",
            )
    marker.write_text(f"{fingerprint}\n{base_python}\n")
    progress(f"LocalStack {line.version} installed in {time.monotonic() - t0:.0f} s")
    return line, python


# --- start / stop --------------------------------------------------------------------------------
def _localstack_env(home: Path, host: str, port: int, services: str, metrics: bool) -> dict[str, str]:
    data = home / f"localstack-{port}"
    for sub in ("fs", "config", "cache", "tmp"):
        (data / sub).mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LOCALSTACK_", "SQS_"))}
    env.update(
        SERVICES=services,
        STRICT_SERVICE_LOADING="1",
        EAGER_SERVICE_LOADING="0",  # the launcher loads SQS eagerly; the others load on their first request
        GATEWAY_LISTEN=f"{host}:{port}",
        LOCALSTACK_HOST=f"{host}:{port}",
        SQS_ENDPOINT_STRATEGY="path",
        OVERRIDE_IN_DOCKER="0",
        DNS_ADDRESS="0",
        DISABLE_EVENTS="1",
        SKIP_SSL_CERT_DOWNLOAD="1",
        FILESYSTEM_ROOT=str(data / "fs"),
        CONFIG_DIR=str(data / "config"),
        XDG_CACHE_HOME=str(data / "cache"),
        TMPDIR=str(data / "tmp"),
        LS_LOG=os.environ.get("LABSQS_ENGINE_LOG", "warn"),
        LABSQS_BIND_HOST=host,
        PYTHONUNBUFFERED="1",
    )
    if metrics:
        env["SQS_CLOUDWATCH_METRICS_REPORT_INTERVAL"] = str(METRICS_REPORT_INTERVAL_SECONDS)
    else:
        env["SQS_DISABLE_CLOUDWATCH_METRICS"] = "1"
    return env


def _spawn(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            cmd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the user's terminal is handled by the lab, not the engine
        )


def _wait_ready(
    proc: subprocess.Popen[bytes], ready: Callable[[], str | None], log: Path, timeout: float
) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        version = ready()
        if version is not None:
            return version
        if proc.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            raise EngineError(
                f"the engine exited with code {proc.returncode} before it was ready; log {log}:\n{tail}",
                hint="read the log above; `labsqs up --engine moto` is the fallback",
            )
        time.sleep(0.1)
    _terminate(proc.pid)
    raise EngineError(
        f"the engine was not ready within {timeout:.0f} s (log: {log})",
        hint="the machine may be overloaded; try `labsqs up` again",
    )


def _start_localstack(
    home: Path, host: str, port: int, services: str, metrics: bool, progress: Progress, wanted: str | None
) -> EngineState:
    line, python = ensure_localstack_env(None, progress, wanted)  # one environment per line and lab
    log = home / f"engine-localstack-{port}.log"
    log.write_text("")
    endpoint = f"http://{host}:{port}"
    proc = _spawn([str(python), str(LAUNCHER)], _localstack_env(home, host, port, services, metrics), log)

    def ready() -> str | None:
        # services load lazily (EAGER_SERVICE_LOADING=0: 5 services eagerly take ~6.7 s to start); the first
        # SQS request loads SQS, so the engine is ready when one answers. The others load on first use.
        health = localstack_health(endpoint)
        sqs_state = (health or {}).get("services", {}).get("sqs")
        if health and sqs_state in {"running", "available"} and _sqs_answers(endpoint):
            return str(health.get("version", "?"))
        return None

    version = _wait_ready(proc, ready, log, START_TIMEOUT_SECONDS)
    release = _python_release(python)
    t = time.time()
    return EngineState("localstack", endpoint, host, port, proc.pid, t, version, str(log), python=release)


def _start_moto(home: Path, host: str, port: int, progress: Progress) -> EngineState:
    import moto

    progress(f"warning: {MOTO_WARNING}")
    log = home / f"engine-moto-{port}.log"
    log.write_text("")
    endpoint = f"http://{host}:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = _spawn([sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)], env, log)

    def ready() -> str | None:
        return f"moto {moto.__version__}" if port_open(host, port) and _sqs_answers(endpoint) else None

    version = _wait_ready(proc, ready, log, START_TIMEOUT_SECONDS)
    return EngineState("moto", endpoint, host, port, proc.pid, time.time(), version, str(log))


def compose_file() -> Path:
    return PACKAGE_DIR.parent / "docker-compose.yml"


def _start_docker(host: str, port: int, progress: Progress) -> EngineState:
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "info"], capture_output=True).returncode != 0:
        raise EngineError(
            "no Docker engine answers on this machine",
            hint="start Docker, or use the host engine: `labsqs up --engine localstack`",
        )
    progress(f"docker compose -f {compose_file()} up -d localstack")
    subprocess.run([docker, "compose", "-f", str(compose_file()), "up", "-d", "localstack"], check=True)
    endpoint = f"http://{host}:{port}"
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        health = localstack_health(endpoint)
        if health and health.get("services", {}).get("sqs") in {"running", "available"}:
            return EngineState("docker", endpoint, host, port, None, time.time(), str(health.get("version")))
        time.sleep(0.5)
    raise EngineError(f"the Docker LocalStack was not ready within {START_TIMEOUT_SECONDS:.0f} s")


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
    port = port or int(os.environ.get("LABSQS_PORT", DEFAULT_PORT))
    home = Path(home) if home else lab_home()
    home.mkdir(parents=True, exist_ok=True)
    if name == "aws":
        from labsqs.client import aws_allowed

        if not aws_allowed():
            from labsqs.errors import AwsNotAllowed

            raise AwsNotAllowed(
                "the `aws` engine talks to real AWS and bills your account",
                hint="opt in explicitly with LABSQS_ALLOW_AWS=1, or use a local engine",
            )
        return EngineState("aws", None, "", 0, None, time.time(), "AWS")

    running = current(port, home)
    if running is not None:
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

    if port_open(host, port):
        raise PortInUse(
            f"port {port} on {host} is taken by a process that is not the lab's engine",
            hint=f"stop that process, or pick a free port: `labsqs up --port {port + 1}` "
            f"and LABSQS_ENDPOINT=http://{host}:{port + 1}",
        )
    t0 = time.monotonic()
    if name == "localstack":
        try:
            state = _start_localstack(home, host, port, services, metrics, progress, localstack)
        except (PythonNotFound, EngineInstallFailed) as exc:
            if engine is not None or os.environ.get("LABSQS_ENGINE"):
                raise  # the user asked for LocalStack: say why it cannot run
            progress(f"warning: {exc.message}; LocalStack cannot be installed here, falling back to moto")
            state = _start_moto(home, host, port, progress)
    elif name == "moto":
        state = _start_moto(home, host, port, progress)
    else:
        state = _start_docker(host, port, progress)
    _write_state(state, home)
    progress(f"{state.description} ready at {state.endpoint} in {time.monotonic() - t0:.1f} s")
    return state



def load_port() -> int:
    """The port of the load runs' engine (metrics off): ``LABSQS_LOAD_PORT``, else the lab's port + 1."""
    lab_port = int(os.environ.get("LABSQS_PORT", DEFAULT_PORT))
    return int(os.environ.get("LABSQS_LOAD_PORT", lab_port + 1))


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


def _terminate(pid: int, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            if not pid_alive(pid):
                return
            time.sleep(0.05)


def down(*, port: int | None = None, home: Path | None = None, progress: Progress = print) -> bool:
    """Stop the engine the lab started on ``port``. True if one was stopped."""
    port = port or int(os.environ.get("LABSQS_PORT", DEFAULT_PORT))
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
class QueueDepth:
    name: str
    visible: int
    in_flight: int
    delayed: int


@dataclass(frozen=True)
class Status:
    engine: str
    endpoint: str | None
    version: str
    uptime_seconds: float | None
    pid: int | None
    answering: bool
    queues: tuple[QueueDepth, ...]
    python: str | None = None

    def render(self) -> str:
        up_s = f"{self.uptime_seconds:.0f} s" if self.uptime_seconds is not None else "-"
        lines = [
            f"engine    {self.engine}",
            f"endpoint  {self.endpoint or 'AWS (regional)'}",
            f"version   {self.version}" + (f" (Python {self.python})" if self.python else ""),
            f"pid       {self.pid or '-'}",
            f"uptime    {up_s}",
            f"answering {'yes' if self.answering else 'NO — start it with `labsqs up`'}",
            f"queues    {len(self.queues)}",
        ]
        if self.queues:
            width = max(len(q.name) for q in self.queues)
            lines.append(f"  {'name'.ljust(width)}  visible  in-flight  delayed")
            for q in self.queues:
                lines.append(f"  {q.name.ljust(width)}  {q.visible:7d}  {q.in_flight:9d}  {q.delayed:7d}")
        return "\n".join(lines)


def status(*, port: int | None = None, home: Path | None = None, endpoint: str | None = None) -> Status:
    """Engine, endpoint, version, uptime, and every queue with its depth."""
    from labsqs.client import resolve_endpoint, sqs_client

    state = current(port, home) if endpoint is None and not os.environ.get("LABSQS_ENDPOINT") else None
    url = state.endpoint if state else resolve_endpoint(endpoint)
    if url is not None and not _sqs_answers(url):
        return Status(
            state.engine if state else "?", url, state.version if state else "?",
            state.uptime_seconds if state else None, state.pid if state else None, False, (),
        )  # fmt: skip
    sqs = sqs_client(url)
    depths = []
    for queue_url in sqs.list_queues().get("QueueUrls", []):
        attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
        depths.append(
            QueueDepth(
                queue_url.rsplit("/", 1)[-1],
                int(attrs.get("ApproximateNumberOfMessages", 0)),
                int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
                int(attrs.get("ApproximateNumberOfMessagesDelayed", 0)),
            )
        )
    if state is None and url is not None:
        health = localstack_health(url)
        version = str(health.get("version")) if health else "unknown"
        name = "localstack" if health else "external"
    else:
        name = state.engine if state else "aws"
        version = state.version if state else "AWS"
    return Status(
        name, url, version, state.uptime_seconds if state else None, state.pid if state else None,
        True, tuple(sorted(depths, key=lambda d: d.name)), state.python if state else None,
    )  # fmt: skip
