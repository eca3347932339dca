"""Starting each local engine: LocalStack on the host (through the loopback launcher), moto's server, and
LocalStack in Docker. Each returns the :class:`EngineState` to record."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from labsqs.engine.lines import _python_release, ensure_localstack_env
from labsqs.engine.process import _spawn, _sqs_answers, _wait_ready, localstack_health, port_open
from labsqs.engine.settings import (
    LAUNCHER,
    METRICS_REPORT_INTERVAL_SECONDS,
    MOTO_WARNING,
    PACKAGE_DIR,
    START_TIMEOUT_SECONDS,
    Progress,
)
from labsqs.engine.state import EngineState
from labsqs.errors import EngineError


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
