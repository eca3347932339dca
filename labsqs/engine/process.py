"""The engine's process and port: spawn it detached, wait until it answers, stop it, and read which
addresses listen on a port (the lab's engines listen on loopback only)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from labsqs.engine.settings import STOP_TIMEOUT_SECONDS
from labsqs.errors import EngineError


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
