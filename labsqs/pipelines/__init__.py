"""Pipelines: the two applications the lab grew from, built only from the lab's own pieces.

A queue is never the point by itself: it sits *between* two parts of a system so that neither waits for the
other, and so that a failure in one does not lose the work of the other. These modules run two such
systems end to end on the laptop, against the same engine as every lesson:

:mod:`labsqs.pipelines.jobs` (seed 002, "JobPing")
    a producer that scrapes job postings and returns at once, one SQS message per job, and a triggered
    "AI filter" that scores each job and saves it to SQLite — malformed postings end in the DLQ with the
    reason recorded. *Standard queue, Lambda-style trigger with batch_size=1, redrive after 3 tries.*
:mod:`labsqs.pipelines.resumes` (seed 000, "DevResume-Forge")
    resume edits applied in order per user by several consumers, PDFs rendered by workers and a
    notification per PDF — exactly one of each even when handlers crash half-way. *FIFO message groups,
    deduplication ids, idempotent consumers, a transactional outbox.*

Both are driven from ``labsqs demo jobs|resumes`` and from notebooks 12 and 13. Importing this package
imports neither pipeline; each is a package of modules by topic (reportlab and matplotlib load only when
used).
"""

from __future__ import annotations

__all__ = ["jobs", "resumes"]
