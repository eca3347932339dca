"""Every lesson's exercises work in both directions.

With the solutions (``notebooks/solutions/NN-*.ipynb``, the lesson's source) every check passes: nbval runs
those notebooks and compares their stored outputs. Here the other direction: the learner's notebook, built
from the source with the blanks left empty, is executed against the engine, and every cell tagged ``check``
must fail with an AssertionError (its hint), while no cell before the first exercise fails. A check that
passes with the blank unfilled, or an exercise without a check, fails this test.
"""

from __future__ import annotations

import nbformat
import pytest

from labsqs import lessons

SOURCES = lessons.sources()


def test_lessons_have_sources():
    assert SOURCES, "no lesson has a source in notebooks/solutions/"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem[:2])
def test_exercises_have_checks_and_learner_notebook_is_built_from_the_source(source):
    nb = nbformat.read(source, as_version=4)
    assert lessons.exercise_problems(nb) == []
    assert lessons.marker_problems(nb) == []
    learner = nbformat.read(lessons.learner_path(source), as_version=4)
    assert lessons.learner_code_problems(learner) == []
    built = nbformat.writes(lessons.learner_version(nb, source.name)) + "\n"
    assert lessons.learner_path(source).read_text() == built, "stale learner notebook: run `make lessons`"
    assert not any(c.get("outputs") for c in learner.cells if c.cell_type == "code"), "learner stores outputs"


def test_rules_catch_a_check_that_is_missing_or_cannot_fail():
    ex = nbformat.v4.new_code_cell("x = ...\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION")
    check = nbformat.v4.new_code_cell("x")
    check.metadata["tags"] = ["check"]
    nb = nbformat.v4.new_notebook(cells=[ex, check, nbformat.v4.new_code_cell(ex.source)])
    problems = lessons.exercise_problems(nb)
    assert any("cannot fail" in p for p in problems) and any("without a check" in p for p in problems)
    assert lessons.exercise_problems(nbformat.v4.new_notebook(cells=[check])) != []


def test_a_marker_with_text_after_it_is_caught_because_nbval_would_compare_the_output():
    # GIVEN nbval's marker alone (obeyed), and one with its reason on the same line (silently not a marker)
    good = nbformat.v4.new_code_cell("# NBVAL_IGNORE_OUTPUT\n# (timing)\n1")
    bad = nbformat.v4.new_code_cell("# NBVAL_IGNORE_OUTPUT  (timing)\n1")
    # THEN only the second is a problem, and the hint says where the reason goes
    assert lessons.marker_problems(nbformat.v4.new_notebook(cells=[good])) == []
    (problem,) = lessons.marker_problems(nbformat.v4.new_notebook(cells=[good, bad]))
    assert problem.startswith("cell 1:") and "next comment line" in problem
    from nbval import plugin  # and every marker nbval obeys, written alone, is accepted

    every = nbformat.v4.new_code_cell("\n".join(f"# {marker}" for marker in plugin.comment_markers))
    assert lessons.marker_problems(nbformat.v4.new_notebook(cells=[every])) == []


def test_run_rules_catch_a_check_that_passes_blank_and_an_early_error():
    early = nbformat.v4.new_code_cell("import nothing", outputs=[
        nbformat.v4.new_output("error", ename="ModuleNotFoundError", evalue="", traceback=[])])
    ex = nbformat.v4.new_code_cell(f"x = ...\n{lessons.CODE_STUB}")
    check = nbformat.v4.new_code_cell("assert x")
    check.metadata["tags"] = ["check"]
    problems = lessons.run_problems(nbformat.v4.new_notebook(cells=[early, ex, check]))
    assert any("before the first exercise" in p for p in problems)
    assert any("passes with the blank unfilled" in p for p in problems)


# The learner runs are scheduled by the root conftest.py (fixture ``learner_runs``): in the background, a few
# at a time, beside nbval's runs of the solutions; a run-alone lesson runs last, alone.


@pytest.mark.engine
@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem[:2])
def test_learner_notebook_every_check_fails_with_blanks(source, engine_state, learner_runs):
    executed = learner_runs.result(source, timeout=600)
    assert lessons.run_problems(executed) == []


def _lesson(tmp_path, name, alone=False):
    nb = nbformat.v4.new_notebook()
    if alone:
        nb.metadata["labsqs"] = {lessons.RUN_ALONE_KEY: alone}
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def test_learner_runs_overlap_but_a_run_alone_lesson_runs_with_nothing_beside_it(tmp_path):
    import threading
    import time

    shared = [_lesson(tmp_path, f"0{n}-shared.ipynb") for n in range(3)]
    shared.append(_lesson(tmp_path, "08-solutions-alone.ipynb", alone=lessons.SOLUTIONS_ONLY))
    alone = _lesson(tmp_path, "09-alone.ipynb", alone=True)
    lock, active, seen = threading.Lock(), set(), {}

    def execute(source):
        with lock:
            active.add(source.name)
            seen[source.name] = set(active)
        time.sleep(0.2)
        with lock:
            active.discard(source.name)
        return source.name

    runs = lessons.LearnerRuns([*shared, alone], at_once=2, execute=execute)
    try:
        assert runs.alone == [alone] and not runs.started  # "solutions": only nbval's run is alone
        assert [lessons.runs_alone(s) for s in (shared[0], shared[-1], alone)] == [False, True, True]
        assert runs.result(alone) == alone.name  # asked first: still waits for every shared run, then runs
        assert seen[alone.name] == {alone.name}
        assert [runs.result(s, timeout=5) for s in shared] == [s.name for s in shared]
        assert max(len(s) for s in seen.values()) == 2  # the shared ones did overlap, two at a time
    finally:
        runs.close()


def test_nbval_chain_answers_each_cell_from_a_second_pytest_process(tmp_path):
    # GIVEN a lesson whose first stored output is right and whose second is wrong
    outputs = [nbformat.v4.new_output("execute_result", {"text/plain": text}, execution_count=n)
               for n, text in ((1, "2"), (2, "5"))]
    cells = [nbformat.v4.new_code_cell(code, outputs=[out], execution_count=n)
             for n, (code, out) in enumerate(zip(("1 + 1", "2 + 2"), outputs, strict=True), 1)]
    nb = nbformat.v4.new_notebook(cells=cells)
    path = tmp_path / "01-chain.ipynb"
    nbformat.write(nb, path)
    # WHEN nbval runs it in a second pytest process
    chain = lessons.NbvalChain([path], rootdir=tmp_path, options=["--nbval", "--nbval-current-env"])
    try:
        chain.start()
        passed, failed = chain.result(path.name, "Cell 0"), chain.result(path.name, "Cell 1")
        missing = chain.result(path.name, "Cell 7")
    finally:
        chain.close()
    # THEN each cell's outcome is nbval's, with its report; a cell it never ran fails and says why
    assert passed == ("passed", "")
    assert failed[0] == "failed" and "4" in failed[1] and "5" in failed[1], failed
    assert missing[0] == "failed" and "exit code 1" in missing[1] and "1 failed" in missing[1], missing
    assert chain.returncode == 1 and chain.log.exists()  # kept: it did not pass


def test_spare_kernel_hands_out_the_kernel_started_in_the_background():
    started, stopped = [], []

    class Kernel:
        def __init__(self, *args):
            self.args = args
            started.append(self)

        def stop(self):
            stopped.append(self)

    spare = lessons.SpareKernel(Kernel)
    first = spare("python3", "/nb", 60)  # started here; a spare starts in the background
    second = spare("python3", "/nb", 60)  # that spare; the next one starts
    other = spare("python3", "/elsewhere", 60)  # other arguments: the spare does not fit and is stopped
    spare.close()  # stops the last spare
    assert first is started[0] and second is started[1] and other is started[3]
    assert other.args == ("python3", "/elsewhere", 60)
    assert stopped == [started[2], started[4]] and started[4].args == other.args and len(started) == 5
    counted = lessons.SpareKernel(Kernel, kernels=2)
    counted("python3", "/nb", 60), counted("python3", "/nb", 60)
    counted.close()
    assert len(started) == 5 + 2, "no spare after the last kernel that will be asked for"
