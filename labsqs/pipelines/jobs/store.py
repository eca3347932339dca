"""JobPing's SQLite database: one row per scored job (keyed by the job's id, so a redelivered job is saved
once) and, from :class:`~labsqs.base.sqlite.FailureLog`, the ``failures`` table; and the summary table of
the best jobs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from labsqs.base.sqlite import FailureLog

if TYPE_CHECKING:
    import os

    import pandas as pd

    from labsqs.pipelines.jobs.scoring import JobPosting, JobScore

# --- the database -----------------------------------------------------------------------------------
_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id            TEXT PRIMARY KEY,
    title             TEXT NOT NULL,
    company           TEXT,
    location          TEXT,
    site              TEXT,
    job_url           TEXT NOT NULL,
    date_posted       TEXT,
    is_remote         INTEGER,
    interval          TEXT,
    min_amount        REAL,
    max_amount        REAL,
    currency          TEXT,
    salary_usd_yearly REAL,
    seniority         TEXT NOT NULL,
    score             INTEGER NOT NULL,
    verdict           TEXT NOT NULL,
    reasons           TEXT NOT NULL,
    message_id        TEXT NOT NULL,
    receive_count     INTEGER NOT NULL,
    saved_at          REAL NOT NULL
);
"""


class JobStore(FailureLog):
    """The filter's SQLite database: ``jobs`` (one row per job, keyed by its id) and ``failures``
    (one row per failed attempt, keyed by the SQS message id). Safe to share between threads.

    >>> with JobStore("jobs.sqlite") as store:
    ...     store.counts()
    {'jobs': 0, 'matches': 0, 'failed_attempts': 0, 'failed_messages': 0}
    """

    failure_frame_columns = ("message_id", "receive_count", "reason", "body", "failed_at")

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(path, schema=_SCHEMA, synchronous_normal=False)

    def save(self, posting: JobPosting, score: JobScore, *, message_id: str, receive_count: int = 1) -> None:
        """Insert or replace the job (a redelivered job overwrites itself with the same values)."""
        row = (
            posting.job_id, posting.title, posting.company, posting.location, posting.site, posting.job_url,
            posting.date_posted, None if posting.is_remote is None else int(posting.is_remote),
            posting.interval, posting.min_amount, posting.max_amount, posting.currency,
            score.salary_usd_yearly, score.seniority, score.score, score.verdict, json.dumps(score.reasons),
            message_id, receive_count, time.time(),
        )  # fmt: skip
        with self._lock:
            self._db.execute(
                "INSERT INTO jobs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (job_id) DO UPDATE SET title=excluded.title, company=excluded.company, "
                "location=excluded.location, site=excluded.site, job_url=excluded.job_url, "
                "date_posted=excluded.date_posted, is_remote=excluded.is_remote, interval=excluded.interval, "
                "min_amount=excluded.min_amount, max_amount=excluded.max_amount, currency=excluded.currency, "
                "salary_usd_yearly=excluded.salary_usd_yearly, seniority=excluded.seniority, "
                "score=excluded.score, verdict=excluded.verdict, reasons=excluded.reasons, "
                "message_id=excluded.message_id, receive_count=excluded.receive_count, "
                "saved_at=excluded.saved_at",
                row,
            )

    def jobs(self) -> pd.DataFrame:
        """Every saved job, best score first (``reasons`` as a tuple)."""
        import pandas as pd

        with self._lock:
            frame = pd.read_sql_query("SELECT * FROM jobs ORDER BY score DESC, job_id", self._db)
        frame["reasons"] = [tuple(json.loads(r)) for r in frame["reasons"]]
        frame["is_remote"] = frame["is_remote"].map(lambda v: None if v is None or v != v else bool(v))
        return frame

    def counts(self) -> dict[str, int]:
        """Jobs saved, matches among them, failed attempts and distinct failed messages."""
        with self._lock:
            jobs, matches = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(verdict = 'match'), 0) FROM jobs"
            ).fetchone()
        attempts, messages = self.failure_counts()
        return {"jobs": jobs, "matches": matches, "failed_attempts": attempts, "failed_messages": messages}


# --- the summary ----------------------------------------------------------------------------------------
def _salary_text(row: Mapping[str, Any]) -> str:
    low, high, interval = row.get("min_amount"), row.get("max_amount"), row.get("interval")
    present = [v for v in (low, high) if v is not None and v == v]
    if not present:
        return "—"
    per = {"yearly": "yr", "monthly": "mo", "weekly": "wk", "daily": "day", "hourly": "h"}.get(
        interval or "", ""
    )

    def amount(v: float) -> str:
        return f"{v / 1000:.0f}k" if v >= 10_000 else f"{v:.0f}"

    span = "–".join(amount(v) for v in present)
    return f"{row.get('currency') or ''} {span}/{per}".strip()


def summary_table(store: JobStore, *, top: int = 10) -> pd.DataFrame:
    """The best ``top`` jobs: score, verdict, title, company, location, salary, remote."""
    import pandas as pd

    jobs = store.jobs().head(top)
    return pd.DataFrame(
        {
            "score": jobs["score"],
            "verdict": jobs["verdict"],
            "title": jobs["title"],
            "company": jobs["company"],
            "location": jobs["location"],
            "salary": [_salary_text(r) for r in jobs.to_dict(orient="records")],
            "remote": jobs["is_remote"].map(lambda v: "yes" if v else "no"),
        }
    )
