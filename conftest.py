"""The lessons in both directions, scheduled so their waits overlap (issue 13: the notebook suite < 4 min).

nbval runs each lesson's source (``notebooks/solutions/``) in two chains at once: this process runs one half
(the timing-sensitive lessons) and a second pytest process, :class:`labsqs.lessons.NbvalChain`, runs the other
(``SECOND_CHAIN_LESSONS``); the second half's cells stay in this session and report the second process's
outcome, with nbval's own failure text. The learner notebooks (``tests/test_lessons.py``) are executed in the
background by :class:`labsqs.lessons.LearnerRuns`, a few at a time. All three start with the first lesson test
and mostly wait on long polls and timers. The collected tests are ordered so::

    every other test  →  nbval of the lessons (this chain, then the second chain's answers)
                      →  nbval of the run-alone lessons  →  the learner tests

and a run-alone lesson (notebook metadata ``labsqs.run_alone``) has the machine to itself: nbval reaches it
only after every background run and the second chain ended (09: its stored outputs follow CloudWatch's alarm
periods; 10: a Locust run). With ``true`` (10) its learner notebook is executed in its own test, after every
other one; with ``"solutions"`` (09) its learner run, whose outputs nobody compares, is one of the background
runs. With no learner test selected nothing moves and nothing runs in a second process.

nbval starts a fresh kernel for each notebook; :class:`labsqs.lessons.SpareKernel` starts the next one while
the current notebook runs (a kernel start costs seconds on this 2-core machine): nbval's chain does not wait.
The kernel is as fresh as nbval's own: nothing runs in it before the notebook's first cell. The terminal
summary ends with the lesson block's wall time.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from labsqs import lessons

LEARNER_TEST = "test_learner_notebook_every_check_fails_with_blanks"
LEARNER_RUNS_AT_ONCE = 2
RUNS = pytest.StashKey[lessons.LearnerRuns]()
ALONE_NBVAL = pytest.StashKey[set[str]]()  # node ids: nbval cells of run-alone lessons
LESSON_BLOCK = pytest.StashKey[set[str]]()  # node ids: every lesson item (nbval cells and learner tests)
SPARE = pytest.StashKey[lessons.SpareKernel]()
BLOCK_TIMES = pytest.StashKey[list[float]]()  # monotonic: the lesson block's first setup, its last item's end
CHAIN = pytest.StashKey[lessons.NbvalChain]()
# nbval of these lessons runs in a second pytest process beside this one's chain (about half of the shared
# chain's time, the calmer half: the timing-sensitive 02, 04, 05, 07 stay here); their cells report here
SECOND_CHAIN_LESSONS = ("06", "08", "11", "12", "13", "14", "15", "16")


def _learner_source(item: pytest.Item) -> Path | None:
    if getattr(item, "originalname", "") != LEARNER_TEST:
        return None
    return item.callspec.params["source"]  # type: ignore[attr-defined]


@pytest.hookimpl(trylast=True)  # after -k / -m deselection
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]):
    learner = [item for item in items if _learner_source(item)]
    wanted = [_learner_source(item) for item in learner]
    runs = lessons.LearnerRuns([s for s in wanted if s], at_once=LEARNER_RUNS_AT_ONCE)
    config.stash[RUNS] = runs
    sources = {s.resolve() for s in lessons.sources()}
    alone = {s.resolve() for s in lessons.sources() if lessons.runs_alone(s)}  # nbval's direction
    nbval = [item for item in items if item not in learner and Path(item.path).resolve() in sources]
    nbval_alone = [item for item in nbval if Path(item.path).resolve() in alone]
    config.stash[ALONE_NBVAL] = {item.nodeid for item in nbval_alone}
    config.stash[LESSON_BLOCK] = {item.nodeid for item in nbval + learner}
    if not learner:
        return
    learner_alone = [item for item in learner if _learner_source(item) in runs.alone]
    split = not os.environ.get(lessons.SECOND_CHAIN_ENV)  # the second process does not split again
    second = [item for item in nbval
              if split and item not in nbval_alone and Path(item.path).name[:2] in SECOND_CHAIN_LESSONS]
    chain = lessons.NbvalChain(sorted({Path(item.path) for item in second}))
    config.stash[CHAIN] = chain
    for item in second:
        _answer_from(chain, item)
    moved = set(nbval + learner)
    items[:] = ([item for item in items if item not in moved]
                + [item for item in nbval if item not in nbval_alone and item not in second]
                + second + nbval_alone
                + [item for item in learner if item not in learner_alone] + learner_alone)


def _answer_from(chain: lessons.NbvalChain, item: pytest.Item) -> None:
    """This nbval cell's outcome comes from the second process's run of its notebook, not a kernel here."""
    original = item.repr_failure

    def runtest() -> None:
        outcome, report = chain.result(Path(item.path).name, item.name)
        if outcome == "skipped":
            pytest.skip(report or "skipped in the second nbval process")
        if outcome == "failed":
            raise lessons.ChainFailure(report)

    def repr_failure(excinfo, style=None):  # type: ignore[no-untyped-def]
        if isinstance(excinfo.value, lessons.ChainFailure):
            return f"nbval in the second process (its output: {chain.log}):\n{excinfo.value}"
        return original(excinfo)

    item.runtest = runtest  # type: ignore[method-assign]
    item.repr_failure = repr_failure  # type: ignore[method-assign]
    item.parent.setup = lambda: None  # type: ignore[method-assign, union-attr]  # no kernel here


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    runs, chain = item.config.stash.get(RUNS, None), item.config.stash.get(CHAIN, None)
    if runs is None or item.nodeid not in item.config.stash[LESSON_BLOCK]:
        return
    item.config.stash.setdefault(BLOCK_TIMES, [time.monotonic()])
    if not runs.shared and (chain is None or not chain.sources):
        return
    if item.nodeid in item.config.stash[ALONE_NBVAL]:
        runs.wait_shared()
        if chain is not None:
            chain.wait()
    elif not runs.started:
        from labsqs import engine

        engine.up(progress=lambda _: None)  # as the engine_state fixture: reused when running (make test)
        runs.start()
        if chain is not None:
            chain.start()


def pytest_runtest_teardown(item: pytest.Item) -> None:
    times = item.config.stash.get(BLOCK_TIMES, None)
    if times is not None and item.nodeid in item.config.stash[LESSON_BLOCK]:
        times[1:] = [time.monotonic()]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    times, block = config.stash.get(BLOCK_TIMES, None), config.stash.get(LESSON_BLOCK, set())
    if times is not None and len(times) == 2:
        minutes, seconds = divmod(round(times[1] - times[0]), 60)
        terminalreporter.write_line(f"lesson block ({len(block)} tests, both directions): "
                                    f"{minutes} min {seconds:02d} s")


def pytest_collection_finish(session: pytest.Session) -> None:
    if session.config.getoption("nbval", False) and not session.config.getoption("collectonly", False):
        from nbval import plugin

        chain = session.config.stash.get(CHAIN, None)
        elsewhere = {str(path) for path in chain.sources} if chain is not None else set()
        notebooks = {item.path for item in session.items
                     if isinstance(item, plugin.IPyNbCell) and str(item.path) not in elsewhere}
        if notebooks:
            session.config.stash[SPARE] = spare = lessons.SpareKernel(plugin.RunningKernel, len(notebooks))
            plugin.RunningKernel = spare  # type: ignore[misc, assignment]


def pytest_sessionfinish(session: pytest.Session) -> None:
    runs = session.config.stash.get(RUNS, None)
    if runs is not None:
        runs.close()
    spare = session.config.stash.get(SPARE, None)
    if spare is not None:
        spare.close()
    chain = session.config.stash.get(CHAIN, None)
    if chain is not None:
        chain.close()


@pytest.fixture(scope="session")
def learner_runs(request: pytest.FixtureRequest) -> lessons.LearnerRuns:
    return request.config.stash[RUNS]
