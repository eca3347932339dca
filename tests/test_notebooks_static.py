"""Every lesson stores the real outputs of a run (nbval compares them) and none stores an error.

A lesson with a source (``notebooks/solutions/NN-*.ipynb``) stores its outputs there; its learner notebook is
built from it without outputs (tests/test_lessons.py). A lesson not converted yet stores them in place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted([*(_DIR / "solutions").glob("*.ipynb"),
                    *(p for p in _DIR.glob("*.ipynb") if not (_DIR / "solutions" / p.name).exists())])


def test_there_are_lessons():
    assert len(NOTEBOOKS) >= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_stored_outputs_and_no_errors(path: Path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, f"{path.name} has no code cells"
    assert all(c.get("execution_count") for c in code), f"{path.name}: some cells were never executed"
    assert any(c.get("outputs") for c in code), f"{path.name} stores no outputs: nbval would compare nothing"
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    expected = [c for c in code if "NBVAL_RAISES_EXCEPTION" in "".join(c["source"])]
    assert len(errors) <= len(expected), f"{path.name} stores an error output: {errors[0].get('ename')}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_ends_with_exercises_that_are_checked(path: Path):
    nb = json.loads(path.read_text())
    text = "".join("".join(c["source"]) for c in nb["cells"])
    assert "Exercise" in text, f"{path.name} has no exercises"
    checks = [c for c in nb["cells"] if c["cell_type"] == "code" and "assert " in "".join(c["source"])
              and ("check" in c.get("metadata", {}).get("tags", []) or path.parent.name != "solutions")]
    assert checks, f"{path.name} has no assert-based check cell"
