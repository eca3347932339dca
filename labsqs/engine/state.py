"""What the lab records about the engine it started (``<lab home>/engine-<port>.json``), and the endpoint
the lab's clients talk to."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from labsqs.engine.process import pid_alive
from labsqs.engine.settings import DEFAULT_HOST, DEFAULT_PORT, engine_name, lab_home, lab_port

DEFAULT_ENDPOINT = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"


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
    port = port or lab_port()
    state = _read_state(port, home)
    if state is None:
        return None
    if state.pid is not None and not pid_alive(state.pid):
        return None
    return state


def resolve_endpoint(endpoint: str | None = None) -> str | None:
    """The endpoint URL the lab talks to, or ``None`` for real AWS; first match wins: the argument,
    ``LABSQS_ENDPOINT``, real AWS when the engine is ``aws``, the engine the lab started, the default."""
    if endpoint:
        return endpoint.rstrip("/")
    env = os.environ.get("LABSQS_ENDPOINT")
    if env:
        return env.rstrip("/")
    if engine_name() == "aws":
        return None  # asked for real AWS: a recorded local engine must not capture the traffic
    state = current()
    if state is not None:
        return state.endpoint
    return DEFAULT_ENDPOINT
