"""Security: no credential-looking strings anywhere in the repository or in notebooks' stored outputs."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ACCESS_KEY = re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")
SECRET_KEY = re.compile(r"(?i)aws_?secret_?access_?key\W{1,4}[A-Za-z0-9/+]{40}\b")
PRIVATE_KEY = re.compile(r"-----BEGIN (RSA |EC |OPENSSH )?PRIVATE KEY-----")


def _tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / line for line in out.splitlines() if (ROOT / line).is_file()]


def _leaks(text: str) -> list[str]:
    return [m.group(0) for rx in (ACCESS_KEY, SECRET_KEY, PRIVATE_KEY) for m in rx.finditer(text)]


def test_the_scanner_finds_what_it_looks_for():
    # a scanner that cannot fail proves nothing: these made-up values have the real shapes
    assert _leaks("key AKIA" + "ABCDEFGHIJKLMNOP")
    assert _leaks("aws_secret_access_key = " + "a" * 40)


def test_no_credentials_in_tracked_files():
    found = {}
    for path in _tracked_files():
        try:
            text = path.read_text(errors="ignore")
        except OSError:
            continue
        if leaks := _leaks(text):
            found[str(path.relative_to(ROOT))] = leaks
    assert not found, f"credential-looking strings: {found}"


def test_no_credentials_in_notebook_outputs():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        outputs = json.dumps([c.get("outputs", []) for c in nb["cells"] if c["cell_type"] == "code"])
        assert not _leaks(outputs), f"{path.name} stores a credential-looking string in its outputs"
