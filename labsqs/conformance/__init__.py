"""Conformance: where an SQS engine behaves like Amazon SQS, and where it does not.

A local engine (LocalStack, moto, ElasticMQ) *speaks* the SQS API: the same requests, the same answers.
Speaking the API is not the same as keeping its promises. SQS documents behaviours your code relies on —
a FIFO group stays locked while one of its messages is in flight, a deduplication id is remembered for
five minutes even after the message was deleted, a message's size is counted in UTF-8 *bytes*, the
message moves to the dead-letter queue on the receive *after* ``maxReceiveCount`` — and an emulator may
get any of them wrong. Code that passes against the emulator then fails on AWS, or the other way round.

This package turns each documented behaviour into a small **check**: a function that creates its own
uniquely named queues, does what a user would do, compares what it observes with what the SQS Developer
Guide (or ``/work/shared/facts/sqs-limits.md``) says, and deletes its queues. A check ends in one of four
states:

``pass``           the engine did what SQS documents;
``fail``           it did something else (the result says what it observed);
``not-supported``  the engine answered "not implemented" (or HTTP 5xx) for the API the check is about;
``error``          the check itself could not run (anything else went wrong).

Run the suite against one endpoint with :func:`run_checks`; put several engines side by side with
:func:`matrix`; ``labsqs conformance --write-docs`` regenerates ``docs/conformance.md`` from LocalStack
and moto. The checks use raw boto3 on purpose: they test the *engine*, not the lab's own modules. For the
same reason they keep **their own copies of SQS's numbers** (:mod:`~labsqs.conformance.documented`)
instead of importing :mod:`labsqs.base.limits`: a check that trusted the lab's values could not catch a
mistake in them.

Timing checks use 1–2 s visibility timeouts and waits. LocalStack sweeps expired visibility once a
second, so a 1 s timeout becomes 1–2 s there: the checks allow for it.

The rooms: :mod:`~labsqs.conformance.probe` (what a check talks to the engine through),
:mod:`~labsqs.conformance.registry` (the catalogue and the ``@check`` decorator),
:mod:`~labsqs.conformance.checks` (the checks, by topic), :mod:`~labsqs.conformance.run` (running them),
:mod:`~labsqs.conformance.report` (tables, frames, ``docs/conformance.md``) and
:mod:`~labsqs.conformance.command` (the engine to run against, ``labsqs conformance``).
"""

from __future__ import annotations

from labsqs.conformance import checks as checks  # registers every check, in suite order
from labsqs.conformance.command import engine_endpoint, register_cli
from labsqs.conformance.documented import md5_of_message_attributes
from labsqs.conformance.probe import CheckFailed, Probe
from labsqs.conformance.registry import (
    CHECKS,
    ERROR,
    FAIL,
    NOT_SUPPORTED,
    PASS,
    STATUSES,
    Check,
    CheckResult,
    check,
    check_ids,
    select,
)
from labsqs.conformance.report import (
    DOCS_PATH,
    SYMBOLS,
    ConformanceReport,
    counts,
    engine_difference,
    matrix,
    read_markdown,
    render_table,
    summary,
    to_frame,
    write_markdown,
)
from labsqs.conformance.run import ProgressFn, run_checks

__all__ = [
    "CHECKS",
    "DOCS_PATH",
    "ERROR",
    "FAIL",
    "NOT_SUPPORTED",
    "PASS",
    "STATUSES",
    "SYMBOLS",
    "Check",
    "CheckFailed",
    "CheckResult",
    "ConformanceReport",
    "ProgressFn",
    "Probe",
    "check",
    "check_ids",
    "counts",
    "engine_difference",
    "engine_endpoint",
    "matrix",
    "md5_of_message_attributes",
    "read_markdown",
    "register_cli",
    "render_table",
    "run_checks",
    "select",
    "summary",
    "to_frame",
    "write_markdown",
]
