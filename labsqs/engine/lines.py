"""The LocalStack lines the lab pins, the Python each runs on (found on this machine), and the engine's own
environment, installed once with uv (or venv + pip) under the lab's home."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from labsqs.engine.settings import MIN_ENGINE_PYTHON, MOTO_EXT_VERSION, PACKAGE_DIR, Progress, lab_home
from labsqs.errors import EngineError, EngineInstallFailed, PythonNotFound


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
