"""The lab's settings for its engines: the engine names, defaults, where the lab keeps its state, and the
environment variables that choose an engine (``LABSQS_ENGINE``, ``LABSQS_HOME``, ``LABSQS_ALLOW_AWS``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from labsqs.errors import UnknownEngine

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
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the labsqs package
LAUNCHER = PACKAGE_DIR / "_localstack_launcher.py"


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


def aws_allowed(allow_aws: bool | None = None) -> bool:
    """True when the user opted in to real AWS (argument, or ``LABSQS_ALLOW_AWS=1``)."""
    if allow_aws is not None:
        return allow_aws
    return os.environ.get("LABSQS_ALLOW_AWS", "").lower() in {"1", "true", "yes"}


def lab_port() -> int:
    """The lab engine's port: ``LABSQS_PORT``, else 4566."""
    return int(os.environ.get("LABSQS_PORT", DEFAULT_PORT))
