"""The install path of the README's two commands: one universal lock, uv bootstrapped at its pin."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from labsqs import engine

ROOT = Path(__file__).resolve().parent.parent


def _locked() -> dict[str, list[dict]]:
    packages: dict[str, list[dict]] = {}
    for package in tomllib.loads((ROOT / "uv.lock").read_text())["package"]:
        packages.setdefault(package["name"], []).append(package)
    return packages


def test_the_makefile_bootstraps_the_uv_the_lock_pins():
    # GIVEN the Makefile's bootstrap pin and the lock (uv stays in the environment because it is locked)
    pinned = re.search(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M)
    assert pinned is not None
    # THEN they name the same uv, so `uv sync` neither up- nor downgrades the uv that runs it
    assert [p["version"] for p in _locked()["uv"]] == [pinned.group(1)]


def test_the_lock_holds_for_every_python_the_project_promises():
    # GIVEN the lock: it was resolved for requires-python >= 3.11, Debian 12's 3.11.2 included
    text = (ROOT / "uv.lock").read_text()
    assert 'requires-python = ">=3.11"' in text
    # THEN soupsieve (>= 3.11.5 since 4.x) is split by Python version rather than pinned for all
    versions = {p["version"]: p for p in _locked()["soupsieve"]}
    assert len(versions) == 2
    assert "python_full_version < '3.11.5'" in text


def test_each_localstack_line_has_its_constraints_with_moto_for_ses():
    for line in engine.LOCALSTACK_LINES:
        pins = line.constraints.read_text()
        assert f"localstack-core=={line.version}" in pins
        assert f"moto-ext=={engine.MOTO_EXT_VERSION}" in pins  # SES's provider runs on moto in the engine
