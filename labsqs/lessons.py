"""Lessons the learner does: one source notebook per lesson builds the learner's notebook and its solutions.

A lesson's **source** is its solutions version, ``notebooks/solutions/NN-topic.ipynb``: executed, with the
real outputs stored (nbval compares them in ``make test``). The learner's notebook,
``notebooks/NN-topic.ipynb``, is *built* from it by nbgrader's ``ClearSolutions`` preprocessor; nobody
edits it by hand (``make lessons`` rebuilds them, ``make lessons-check`` fails on a stale one).

An **exercise** is a code cell with a solution region. What stays outside the region is what the learner
sees, usually the blank they fill in::

    kind = ...  # the MessageType attribute your consumer read
    ### BEGIN SOLUTION
    kind = read_kind(q)
    ### END SOLUTION

In the learner's notebook the region becomes ``# YOUR CODE HERE`` (indented like the region, so a region that
is a function's whole body still leaves valid Python after a docstring). A **check** is a later code cell
tagged ``check``: it tests the state of the queue or the effect of the learner's code (never a value the
learner could type) and raises ``AssertionError`` with a hint that says what to look at and which call to use.
So "Run All" stops at the first unfinished exercise.

The rules :func:`exercise_problems` enforces (``tests/test_lessons.py`` runs them, and executes every learner
notebook to prove that every check fails while the blanks are empty): a lesson has at least one exercise;
every exercise is followed by a check before the next exercise; a check follows an exercise and holds no
solution. docs/exercises.md says how to write one.
"""

from __future__ import annotations

import argparse
import ast
import copy
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
CODE_STUB = "# YOUR CODE HERE"
CHECK_TAG = "check"
SOLUTIONS_DIR = "solutions"
NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"

Notebook = Any  # nbformat.NotebookNode (nbformat is part of the lab's Jupyter extra)


def tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def is_exercise(cell: Any) -> bool:
    return cell["cell_type"] == "code" and BEGIN_SOLUTION in cell["source"]


def is_check(cell: Any) -> bool:
    return cell["cell_type"] == "code" and CHECK_TAG in tags(cell)


def sources(notebooks_dir: Path = NOTEBOOKS_DIR) -> list[Path]:
    """Every lesson that has a source (solutions version), sorted by number."""
    return sorted((notebooks_dir / SOLUTIONS_DIR).glob("[0-9][0-9]-*.ipynb"))


def learner_path(source: Path) -> Path:
    return source.parent.parent / source.name


def exercise_problems(nb: Notebook) -> list[str]:
    """What is wrong with a source's exercises and checks (empty list: nothing)."""
    problems: list[str] = []
    cells = nb["cells"]
    exercises = [i for i, c in enumerate(cells) if is_exercise(c)]
    if not exercises:
        problems.append(f"no exercise: no code cell holds a `{BEGIN_SOLUTION}` region")
    for n, i in enumerate(exercises):
        end = exercises[n + 1] if n + 1 < len(exercises) else len(cells)
        if not any(is_check(c) for c in cells[i + 1:end]):
            problems.append(f"cell {i}: exercise without a check (tag a later code cell `{CHECK_TAG}`)")
    for i, c in enumerate(cells):
        src = c["source"]
        if (BEGIN_SOLUTION in src) != (END_SOLUTION in src):
            problems.append(f"cell {i}: a solution region needs both `{BEGIN_SOLUTION}` and `{END_SOLUTION}`")
        if is_check(c) and is_exercise(c):
            problems.append(f"cell {i}: a check holds a solution region (the learner would lose the check)")
        if is_check(c) and (not exercises or i < exercises[0]):
            problems.append(f"cell {i}: a check before any exercise")
        if is_check(c) and "assert" not in src and "raise" not in src:
            problems.append(f"cell {i}: a check that cannot fail (no assert, no raise)")
    return problems


def marker_problems(nb: Notebook) -> list[str]:
    """nbval obeys a comment marker only when it is the whole comment (``# NBVAL_IGNORE_OUTPUT``): a line such
    as ``# NBVAL_IGNORE_OUTPUT (timing)`` is silently not a marker, and the cell's output is compared. The
    reason goes on the next comment line."""
    from nbval.plugin import comment_markers  # the markers nbval obeys (dev extra, as nbgrader for build)

    problems = []
    for i, c in enumerate(nb["cells"]):
        for line in c["source"].splitlines() if c["cell_type"] == "code" else []:
            comment = line.strip().lstrip("#").strip() if line.strip().startswith("#") else ""
            if comment.startswith("NBVAL_") and comment not in comment_markers:
                problems.append(f"cell {i}: {line.strip()!r} is not an nbval marker: put the marker alone on "
                                f"its line, the reason on the next comment line")
    return problems


def learner_version(nb: Notebook, solutions_name: str | None = None) -> Notebook:
    """The learner's notebook: solution regions replaced by a stub, outputs cleared, a link to the answers."""
    from nbgrader.preprocessors import ClearSolutions  # dev extra; imported only to build

    out = copy.deepcopy(nb)
    clear = ClearSolutions(enforce_metadata=False, code_stub={"python": CODE_STUB})
    out, _ = clear.preprocess(out, {})
    for cell in out.cells:
        if cell.cell_type == "markdown":  # links are written from solutions/, one folder down
            cell.source = cell.source.replace("](../", "](")
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    if solutions_name:
        first = next((i for i, c in enumerate(out.cells) if is_exercise(nb.cells[i])), None)
        before = out.cells[:first] if first else []
        md = next((c for c in reversed(before) if c.cell_type == "markdown"), None)
        if md is not None:
            md.source += (f"\n\n*Stuck? Each exercise's worked answer, run for real, is in "
                          f"[{SOLUTIONS_DIR}/{solutions_name}]({SOLUTIONS_DIR}/{solutions_name}).*")
    return out


def learner_code_problems(nb: Notebook) -> list[str]:
    """The learner's notebook must hold no solution and still parse (a stub must leave valid Python)."""
    problems = []
    for i, c in enumerate(nb["cells"]):
        if c["cell_type"] != "code":
            continue
        if BEGIN_SOLUTION in c["source"] or END_SOLUTION in c["source"]:
            problems.append(f"cell {i}: a solution region survived")
        lines = c["source"].splitlines()
        code = "\n".join(line for line in lines if not line.lstrip().startswith(("%", "!")))
        try:
            ast.parse(code)
        except SyntaxError as err:
            problems.append(f"cell {i}: not valid Python without the solution ({err.msg}, line {err.lineno})")
    return problems


def run_problems(executed: Notebook) -> list[str]:
    """Given the learner's notebook executed with errors allowed: every check must fail with its hint
    (AssertionError), and no cell before the first exercise may fail."""
    problems = []
    cells = executed["cells"]
    first = next((i for i, c in enumerate(cells) if c["cell_type"] == "code" and CODE_STUB in c["source"]),
                 len(cells))
    for i, c in enumerate(cells):
        if c["cell_type"] != "code":
            continue
        errors = [o for o in c.get("outputs", []) if o.get("output_type") == "error"]
        if is_check(c) and not any(o.get("ename") == "AssertionError" for o in errors):
            got = errors[0].get("ename") if errors else "no error: it passes with the blank unfilled"
            problems.append(f"cell {i}: check does not fail with an AssertionError and a hint ({got})")
        if i < first and errors:
            problems.append(f"cell {i}: fails before the first exercise ({errors[0].get('ename')})")
    return problems


RUN_ALONE_KEY = "run_alone"  # notebook metadata labsqs.run_alone: true or "solutions" (see runs_alone)
SOLUTIONS_ONLY = "solutions"


def runs_alone(source: Path, learner: bool = False) -> bool:
    """Does this lesson need the machine to itself when it is executed? Notebook metadata
    ``labsqs.run_alone``: ``true`` in both directions (a Locust run: it starves beside other lessons, and
    starves them); ``"solutions"`` only for nbval's run of the source, whose stored outputs depend on timing
    (CloudWatch alarm periods): its learner run, whose outputs nobody compares, runs in the background."""
    import nbformat

    value = nbformat.read(source, as_version=4).metadata.get("labsqs", {}).get(RUN_ALONE_KEY)
    return value is True or (value == SOLUTIONS_ONLY and not learner)


def execute_learner(source: Path, timeout_seconds: int = 120) -> Notebook:
    """Run the learner's notebook of ``source`` as the learner gets it (blanks empty) against the engine, with
    errors allowed so every check runs; returns the executed notebook for :func:`run_problems`."""
    import nbformat
    from nbclient import NotebookClient

    path = learner_path(source)
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=timeout_seconds, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def _thread_pool(workers: int, name: str) -> Any:
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(workers, thread_name_prefix=name)


class LearnerRuns:
    """The learner notebooks of ``sources`` executed in the background, ``at_once`` at a time (they mostly
    wait on long polls and timers), from :meth:`start` on. A lesson whose learner run :func:`runs_alone` is
    executed by :meth:`result` in the caller, after every background run ended, so nothing else runs beside
    it as long as the caller runs nothing else meanwhile (tests/ orders the lesson tests so)."""

    def __init__(self, sources: Sequence[Path], at_once: int = 3, execute: Any = None) -> None:
        self.alone = [s for s in sources if runs_alone(s, learner=True)]
        self.shared = [s for s in sources if s not in self.alone]
        self.at_once = at_once
        self._execute = execute or execute_learner
        self._pool: Any = None
        self._runs: dict[Path, Any] = {}

    @property
    def started(self) -> bool:
        return self._pool is not None

    def start(self) -> None:
        if self._pool is None:
            self._pool = _thread_pool(self.at_once, "learner-run")
            self._runs = {source: self._pool.submit(self._execute, source) for source in self.shared}

    def wait_shared(self) -> None:
        """Start the background runs if needed and wait until every one ended (before a run-alone lesson)."""
        from concurrent.futures import wait

        self.start()
        wait(self._runs.values())

    def result(self, source: Path, timeout: float | None = None) -> Notebook:
        if source in self.alone:
            self.wait_shared()
            return self._execute(source)
        self.start()
        if source not in self._runs:
            raise KeyError(f"{source.name} is not one of the learner runs")
        return self._runs[source].result(timeout=timeout)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


class SpareKernel:
    """Stands in for nbval's ``RunningKernel``: hands out the kernel started in the background for the same
    arguments (or starts one) and starts the next spare: the next notebook's kernel is up when it starts."""

    def __init__(self, start: Callable[..., Any], kernels: int | None = None) -> None:
        self._start = start
        self.kernels = kernels  # how many will be asked for, if known: no spare is started after the last
        self._pool = _thread_pool(1, "spare-kernel")
        self._spare: tuple[tuple[Any, ...], Any] | None = None
        self.handed_out = 0

    def __call__(self, kernel_name: str, cwd: str | None = None, startup_timeout: int = 60) -> Any:
        args = (kernel_name, cwd, startup_timeout)
        spare, self._spare = self._spare, None
        kernel = None
        if spare and spare[0] == args:
            try:
                kernel = spare[1].result()
            except Exception:  # noqa: BLE001 - the spare failed to start: start one here, which reports why
                kernel = None
        elif spare:
            self._stop(spare[1])
        if kernel is None:
            kernel = self._start(*args)
        self.handed_out += 1
        if self.kernels is None or self.handed_out < self.kernels:
            self._spare = (args, self._pool.submit(self._start, *args))
        return kernel

    @staticmethod
    def _stop(future: Any) -> None:
        try:
            future.result().stop()
        except Exception:  # noqa: BLE001 - a spare that failed to start has nothing to stop
            pass

    def close(self) -> None:
        if self._spare:
            self._stop(self._spare[1])
        self._pool.shutdown(wait=True)


SECOND_CHAIN_ENV = "LABSQS_NBVAL_SECOND_CHAIN"  # set in the second process: it does not split again


class ChainFailure(Exception):
    """A cell that failed in the second nbval process; the message is that process's report of it."""


class NbvalChain:
    """nbval's run of ``sources`` in a second pytest process, started by :meth:`start` and running beside the
    first process's own chain of lessons (both mostly wait on long polls and timers). :meth:`result` waits for
    it to end and answers one cell's outcome from its JUnit XML, keyed like nbval's items: the notebook's
    file name and ``Cell N``. The process is plain ``python -m pytest`` with the project's options, so nbval
    compares outputs there exactly as it does here."""

    def __init__(self, sources: Sequence[Path], rootdir: Path = NOTEBOOKS_DIR.parent,
                 options: Sequence[str] = ()) -> None:
        import tempfile

        self.sources = list(sources)
        self.rootdir = rootdir
        self.options = list(options)  # beyond the project's own (pyproject.toml's addopts, in rootdir)
        self._workdir = Path(tempfile.gettempdir()) / "labsqs-nbval-chain-unstarted"  # a fresh one on start
        self.returncode: int | None = None
        self._proc: Any = None
        self._results: dict[tuple[str, str], tuple[str, str]] | None = None

    @property
    def xml(self) -> Path:
        return self._workdir / "nbval.xml"

    @property
    def log(self) -> Path:
        return self._workdir / "nbval.log"

    @property
    def command(self) -> list[str]:
        return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--color=no",
                f"--junitxml={self.xml}", *self.options, *(str(s) for s in self.sources)]

    def start(self) -> None:
        import os
        import signal
        import subprocess
        import tempfile

        if self._proc is None and self.sources:
            self._workdir = Path(tempfile.mkdtemp(prefix="labsqs-nbval-chain-"))
            env = {**os.environ, SECOND_CHAIN_ENV: "1"}
            with open(self.log, "wb") as log:  # the child keeps its own handle
                self._proc = subprocess.Popen(  # Ctrl-C not ignored, even if this process was started so
                    self.command, cwd=self.rootdir, stdout=log, stderr=subprocess.STDOUT, env=env,
                    preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))

    def wait(self) -> dict[tuple[str, str], tuple[str, str]]:
        """Start it if needed, wait until it ended; every cell's (outcome, report) by (notebook, cell)."""
        if self._results is None:
            self.start()
            self.returncode = self._proc.wait() if self._proc is not None else 0
            self._results = read_junit(self.xml) if self._proc is not None and self.xml.exists() else {}
        return self._results

    def result(self, notebook: str, cell: str) -> tuple[str, str]:
        found = self.wait().get((notebook, cell))
        if found is None:
            tail = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            return "failed", (f"no result for {notebook}::{cell}: the second nbval process "
                              f"({' '.join(self.command)}) ended with exit code {self.returncode}; "
                              f"its output ends with:\n{tail}")
        return found

    def close(self) -> None:
        """Stop the process if it still runs; its output is kept only when it did not pass."""
        import shutil
        import signal
        import subprocess

        if self._proc is not None and self._proc.poll() is None:  # the first process was interrupted
            self._proc.send_signal(signal.SIGINT)  # as Ctrl-C: pytest stops and nbval stops its kernels
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc is not None and self.returncode == 0:
            shutil.rmtree(self._workdir, ignore_errors=True)


def read_junit(path: Path) -> dict[tuple[str, str], tuple[str, str]]:
    """(outcome, report) of each test case in pytest's JUnit XML, by (the file's name, the test's name):
    ``failed`` (failure or error), ``skipped`` (skip or xfail) or ``passed``."""
    import xml.etree.ElementTree as ET

    results = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        module, _, suffix = case.get("classname", "").rpartition(".")
        key = (f"{module.rpartition('.')[2]}.{suffix}", case.get("name", ""))
        outcome, report = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = "skipped" if child.tag == "skipped" else "failed"
                report = (child.text or "").strip() or child.get("message", "")
        results[key] = outcome, report
    return results


def build(notebooks_dir: Path = NOTEBOOKS_DIR, check: bool = False) -> list[str]:
    """Write (or with ``check`` only compare) every learner notebook; returns the problems found."""
    import nbformat

    problems = []
    for source in sources(notebooks_dir):
        nb = nbformat.read(source, as_version=4)
        problems += [f"{source.name}: {p}" for p in exercise_problems(nb) + marker_problems(nb)]
        learner = learner_version(nb, source.name)
        problems += [f"{source.name} (learner): {p}" for p in learner_code_problems(learner)]
        target = learner_path(source)
        text = nbformat.writes(learner) + "\n"
        if check:
            if not target.exists() or target.read_text() != text:
                problems.append(f"{target.name} is stale: `make lessons` rebuilds it from {SOLUTIONS_DIR}/")
        else:
            target.write_text(text)
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only check the learner notebooks are current")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS_DIR)
    args = parser.parse_args(argv)
    problems = build(args.notebooks, check=args.check)
    for p in problems:
        print(p, file=sys.stderr)
    names = [s.name for s in sources(args.notebooks)]
    print(f"{len(names)} lesson(s) {'checked' if args.check else 'built'}: {', '.join(names) or 'none'}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
