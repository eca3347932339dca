"""The catalogue: every check the suite runs, registered by the :func:`check` decorator, in suite order.

A check is a documented SQS behaviour (its ``doc`` cites where SQS states it) and a function that takes a
:class:`~labsqs.conformance.probe.Probe` and returns what it observed. Ids are ``group.name``
(``fifo.order``): :func:`select` takes ids or whole groups. The suite's order is the order the topic
modules of :mod:`labsqs.conformance.checks` register their checks; ``docs/conformance.md`` follows it.

A check ends in one of four states: ``pass`` (the engine did what SQS documents), ``fail`` (it did
something else), ``not-supported`` (the engine answered "not implemented" or HTTP 5xx for the API the
check is about) and ``error`` (the check itself could not run).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from labsqs.conformance.probe import Probe
from labsqs.errors import UnknownCheck

PASS, FAIL, NOT_SUPPORTED, ERROR = "pass", "fail", "not-supported", "error"
STATUSES = (PASS, FAIL, NOT_SUPPORTED, ERROR)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check against one endpoint."""

    id: str
    title: str
    status: str  # pass | fail | not-supported | error
    detail: str  # what was observed
    seconds: float
    doc: str  # the SQS documentation the check holds the engine to

    @property
    def ok(self) -> bool:
        return self.status == PASS


@dataclass(frozen=True)
class Check:
    """A documented SQS behaviour and the function that verifies it."""

    id: str
    title: str
    doc: str
    apis: tuple[str, ...]  # operations whose "not implemented" means not-supported
    run: Callable[[Probe], str]


CHECKS: list[Check] = []


def check(check_id: str, title: str, *, doc: str, apis: Iterable[str] = ()) -> Callable:
    """Register a check function under ``check_id`` (``group.name``)."""

    def register(fn: Callable[[Probe], str]) -> Callable[[Probe], str]:
        if any(c.id == check_id for c in CHECKS):
            raise ValueError(f"duplicate check id {check_id}")
        CHECKS.append(Check(check_id, title, doc, tuple(apis), fn))
        return fn

    return register


def check_ids() -> list[str]:
    """Every check id, in suite order."""
    return [c.id for c in CHECKS]


def select(only: Iterable[str] | None = None) -> list[Check]:
    """The checks named by id or by group (``fifo`` selects every ``fifo.*``), in suite order."""
    if only is None:
        return list(CHECKS)
    wanted = list(only)
    groups = {c.id.split(".")[0] for c in CHECKS}
    unknown = [w for w in wanted if w not in groups and w not in check_ids()]
    if unknown:
        raise UnknownCheck(
            f"no conformance check named {', '.join(unknown)}",
            hint=f"use a check id (`labsqs conformance --list`) or a group: {', '.join(sorted(groups))}",
        )
    return [c for c in CHECKS if c.id in wanted or c.id.split(".")[0] in wanted]
