"""Pipeline 1 — job postings (seed 002, "JobPing"): what happens when the user clicks **Fetch Jobs**.

::

    Python "Lambda" (JobSpy)        SQS queue                      "Go Lambda" (AI filter)
    1. scrape jobs          ──▶  jobping-jobs-to-filter   ──▶  4. triggered per message (batch_size=1)
    2. one message per job        (visibility 60 s,             5. score the job, save it to SQLite
    3. return {"jobs_queued": N}   3 tries, then the DLQ)       6. success → message deleted

**The producer returns at once.** :func:`fetch_jobs` asks python-jobspy's ``scrape_jobs`` for postings
(or, offline, loads the sample shipped with the lab: 60 invented postings with exactly JobSpy's 34
columns); :func:`queue_jobs` turns each row into one JSON message and returns ``{"jobs_queued": N}`` as
soon as SQS has accepted them — it never waits for the filter. It sends ten messages per request
(``SendMessageBatch``), which is the same as the seed's one ``send_message`` per job, ten times cheaper.

**The consumer is triggered.** In AWS an *event source mapping* polls the queue (long polls of 20 s) and
invokes the filter with one message per event (``batch_size=1``). :func:`run_filter` does the same with
:func:`labsqs.trigger.run_trigger`. The filter here is not a language model: :func:`score_job` is a
deterministic scorer (keywords, seniority, salary, remote) so that the lab runs offline and every run
gives the same scores. Each job is saved with its score into a real SQLite database (:class:`JobStore`).

**Nothing is silently dropped.** A message the filter cannot read (not JSON, no title, a salary that is
not a number) is *not* deleted: the handler reports it in ``batchItemFailures``, records the reason in
the ``failures`` table, and the message comes back after the visibility timeout. After 3 receives the
queue's redrive policy moves it to ``jobping-jobs-to-filter-dlq``, where
:func:`labsqs.dlq.list_messages` shows it; ``failures`` says why, one row per attempt, keyed by the same
``message_id``.

A job delivered twice (standard queues deliver *at least* once) is saved once: rows are keyed by the
job's id, so a second save overwrites the first with the same values.

>>> queue = ensure_queue(jobs_queue_spec())
>>> fetch = fetch_jobs("python developer", "Remote")     # offline: the sample, and fetch.note says so
>>> queue_jobs(queue, fetch.jobs)
{'jobs_queued': 60}
>>> with JobStore("jobs.sqlite") as store:
...     run = run_filter(queue, store)
...     store.jobs().head()
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources
from typing import TYPE_CHECKING, Any

from labsqs.base.sqlite import SqliteFile
from labsqs.client import sqs_client
from labsqs.errors import InvalidConsumerOption, InvalidJobPosting
from labsqs.metrics import Depth, queue_depth, wait_until_drained
from labsqs.pipelines._sample_jobs import JOBSPY_COLUMNS
from labsqs.producer import send_many
from labsqs.queues import Queue, QueueSpec
from labsqs.trigger import LambdaContext, TriggerStats, run_trigger

if TYPE_CHECKING:
    import os

    import pandas as pd
    from mypy_boto3_sqs import SQSClient

__all__ = [
    "JOBSPY_COLUMNS",
    "DEFAULT_PROFILE",
    "FilterProfile",
    "FilterRun",
    "JobPosting",
    "JobScore",
    "JobStore",
    "JobsFetch",
    "fetch_and_queue",
    "fetch_jobs",
    "job_messages",
    "jobs_queue_spec",
    "load_sample_jobs",
    "make_filter_handler",
    "parse_job",
    "queue_jobs",
    "run_filter",
    "score_job",
    "summary_table",
]

# --- the seed's settings --------------------------------------------------------------------------
DEFAULT_QUEUE_NAME = "jobping-jobs-to-filter"
VISIBILITY_TIMEOUT_SECONDS = 60  # sqs.tf: visibility_timeout_seconds = 60
RETENTION_SECONDS = 86_400  # sqs.tf: message_retention_seconds = 86400 (1 day)
LONG_POLL_SECONDS = 20  # "Lambda waits up to 20 seconds for messages"
MAX_RECEIVE_COUNT = 3  # "if a message fails 3 times, it goes to DLQ"
BATCH_SIZE = 1  # aws_lambda_event_source_mapping.batch_size = 1

SAMPLE_FILE = "sample_jobs.csv"
MESSAGE_TYPE = "JOB_POSTING"
MAX_FAILURE_BODY_CHARS = 2_000  # how much of a bad message the failures table keeps
JOBSPY_LOGGER = "jobspy"
DEFAULT_SITES = ("indeed", "linkedin")
DEFAULT_RESULTS_WANTED = 15

# salary normalisation: JobSpy's own annual factors, and fixed, rough exchange rates (deterministic scores)
ANNUAL_FACTOR = {"hourly": 2080, "daily": 260, "weekly": 52, "monthly": 12, "yearly": 1}
USD_PER_UNIT = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27, "CAD": 0.73, "AUD": 0.66, "INR": 0.012}

# score weights (points; they add up to 100)
KEYWORD_POINTS_MAX = 40
KEYWORD_IN_TITLE_POINTS = 12
KEYWORD_IN_DESCRIPTION_POINTS = 5
SENIORITY_POINTS = 20
SENIORITY_NEAR_POINTS = 10
SALARY_POINTS = 25
SALARY_NEAR_POINTS = 12
SALARY_UNKNOWN_POINTS = 8
REMOTE_POINTS = 15
SALARY_NEAR_FRACTION = 0.85  # within 85 % of the wanted minimum counts as "near"

log = logging.getLogger(__name__)


# --- the queue ------------------------------------------------------------------------------------
def jobs_queue_spec(
    name: str = DEFAULT_QUEUE_NAME,
    *,
    visibility_timeout_seconds: int = VISIBILITY_TIMEOUT_SECONDS,
    receive_wait_seconds: int = LONG_POLL_SECONDS,
    max_receive_count: int = MAX_RECEIVE_COUNT,
) -> QueueSpec:
    """The seed's ``jobs_to_filter`` queue (60 s visibility, 1 day retention, 20 s long polls, DLQ after
    3 receives). Tests and notebooks shorten the timings; the shape stays the same."""
    return QueueSpec(
        name,
        visibility_timeout_seconds=visibility_timeout_seconds,
        retention_seconds=RETENTION_SECONDS,
        receive_wait_seconds=receive_wait_seconds,
        max_receive_count=max_receive_count,
    )


# --- the producer: JobSpy, or the sample ----------------------------------------------------------
def load_sample_jobs(rows: int | None = None) -> pd.DataFrame:
    """The offline sample: invented postings with exactly JobSpy's 34 columns and dtypes close to its
    (``date_posted`` as ``datetime.date``, ``is_remote`` as bool, amounts as floats). ``rows`` keeps the
    first rows only."""
    import pandas as pd

    with resources.files("labsqs").joinpath("data", SAMPLE_FILE).open("r", encoding="utf-8") as fh:
        frame = pd.read_csv(fh, dtype={"company_reviews_count": "Int64", "vacancy_count": "Int64"})
    frame["date_posted"] = [
        date.fromisoformat(d) if isinstance(d, str) else None for d in frame["date_posted"]
    ]
    frame["is_remote"] = frame["is_remote"].astype(bool)
    frame = frame[list(JOBSPY_COLUMNS)]
    return frame.head(rows).reset_index(drop=True) if rows is not None else frame


@dataclass(frozen=True)
class JobsFetch:
    """What :func:`fetch_jobs` got: the postings, where they came from, and why.

    ``source`` is ``"jobspy"`` or ``"sample"``; ``errors`` holds JobSpy's per-site errors
    (``df.attrs["errors"]``); ``note`` is one sentence for a person.
    """

    jobs: pd.DataFrame = field(compare=False, repr=False)
    source: str
    errors: Mapping[str, str]
    note: str

    @property
    def count(self) -> int:
        return len(self.jobs)


@contextmanager
def quiet_jobspy() -> Iterator[None]:
    """Silence python-jobspy's loggers while it runs (it logs each failing site at ERROR level and adds
    its own stream handler); the errors are still returned, in ``df.attrs["errors"]``."""
    logger = logging.getLogger(JOBSPY_LOGGER)
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


def _scrape_with_jobspy(**kwargs: Any) -> pd.DataFrame:
    from jobspy import scrape_jobs

    return scrape_jobs(**kwargs)


def fetch_jobs(
    search_term: str = "python developer",
    location: str = "Remote",
    *,
    sites: Sequence[str] = DEFAULT_SITES,
    results_wanted: int = DEFAULT_RESULTS_WANTED,
    source: str = "auto",
    sample_rows: int | None = None,
    scraper: Callable[..., pd.DataFrame] | None = None,
) -> JobsFetch:
    """Job postings from python-jobspy, or the lab's sample when the network gives none.

    ``source="auto"`` asks JobSpy first. Offline, JobSpy does not raise: it returns an empty frame with
    its 34 columns and one error per site in ``df.attrs["errors"]`` (quickly when DNS fails; after its
    15 s timeout when a connection hangs) — then the sample is used and ``note`` says so.
    ``source="sample"`` skips the network; ``source="jobspy"`` never falls back. ``scraper`` replaces
    ``jobspy.scrape_jobs`` (tests).
    """
    if source not in ("auto", "jobspy", "sample"):
        raise InvalidJobPosting(f"source must be 'auto', 'jobspy' or 'sample', got {source!r}")
    if not isinstance(results_wanted, int) or results_wanted < 1:
        raise InvalidJobPosting(f"results_wanted must be a whole number >= 1, got {results_wanted!r}")
    if source == "sample":
        sample = load_sample_jobs(sample_rows)
        return JobsFetch(sample, "sample", {}, f"using the lab's sample of {len(sample)} invented postings")
    scrape = scraper or _scrape_with_jobspy
    with quiet_jobspy():
        frame = scrape(
            site_name=list(sites),
            search_term=search_term,
            location=location,
            results_wanted=results_wanted,
            verbose=None,  # keep jobspy from resetting its logger's level
        )
    errors = {str(k): str(v) for k, v in (frame.attrs.get("errors") or {}).items()}
    if len(frame) or source == "jobspy":
        failed = f" ({len(errors)} site(s) failed: {', '.join(sorted(errors))})" if errors else ""
        return JobsFetch(frame, "jobspy", errors, f"JobSpy returned {len(frame)} postings{failed}")
    sample = load_sample_jobs(sample_rows)
    why = "; ".join(f"{site}: {_first_line(err)}" for site, err in sorted(errors.items())) or "no postings"
    return JobsFetch(
        sample,
        "sample",
        errors,
        f"JobSpy returned no postings ({why}) — using the lab's sample of {len(sample)} invented postings",
    )


def _first_line(text: str, limit: int = 80) -> str:
    """Shorten an error to something readable: the cause inside urllib3's long messages, if any."""
    cause = re.search(r"Caused by \w+\(.*?'([^']*)'", text)
    line = cause.group(1) if cause else text.splitlines()[0] if text else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _json_value(value: Any) -> Any:
    """A DataFrame cell as a JSON value: missing → None, dates → ISO text, numpy scalars → Python."""
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy / pandas scalars
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    return value


def job_messages(jobs: pd.DataFrame | Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One JSON-ready dict per job (all of its columns; missing values as ``null``), as in the seed's
    ``job_message = {"title": ..., "company": ..., ...}``.

    Checked here, before anything is sent: every job needs a non-empty ``title`` and ``job_url`` (the two
    fields JobSpy itself requires).
    """
    rows: Iterable[Mapping[str, Any]]
    if hasattr(jobs, "to_dict") and hasattr(jobs, "columns"):
        missing = [c for c in ("title", "job_url") if c not in jobs.columns]  # type: ignore[union-attr]
        if missing:
            raise InvalidJobPosting(
                f"the jobs frame has no {', '.join(missing)} column",
                hint=f"pass JobSpy's frame (columns {', '.join(JOBSPY_COLUMNS[:6])}, ...) or the sample",
            )
        rows = jobs.to_dict(orient="records")  # type: ignore[union-attr]
    else:
        rows = jobs  # type: ignore[assignment]
    out = []
    for i, row in enumerate(rows):
        message = {str(k): _json_value(v) for k, v in row.items()}
        for required in ("title", "job_url"):
            value = message.get(required)
            if not isinstance(value, str) or not value.strip():
                raise InvalidJobPosting(
                    f"job #{i} has no {required} (got {value!r}); nothing was sent",
                    hint="drop or fix that row first (every JobSpy posting has a title and a job_url)",
                )
        out.append(message)
    return out


def queue_jobs(
    queue: Queue | str,
    jobs: pd.DataFrame | Iterable[Mapping[str, Any]],
    *,
    source: str | None = None,
    sqs: SQSClient | None = None,
) -> dict[str, int]:
    """The seed's producer: each job becomes one JSON message; returns ``{"jobs_queued": N}`` as soon as
    SQS accepted them (nothing waits for the filter).

    Messages carry the attributes ``MessageType=JOB_POSTING`` and, if given, ``Source`` (``jobspy`` or
    ``sample``), which a consumer can read without parsing the body. Raises
    :class:`~labsqs.errors.BatchError` if SQS refused some of them (``err.report`` says which).
    """
    messages = job_messages(jobs)
    attributes: dict[str, str] = {"MessageType": MESSAGE_TYPE}
    if source:
        attributes["Source"] = source
    client = sqs if sqs is not None else sqs_client()
    report = send_many(queue, messages, attributes=attributes, sqs=client).raise_for_failures()
    return {"jobs_queued": len(report.sent)}


def fetch_and_queue(
    queue: Queue | str,
    search_term: str = "python developer",
    location: str = "Remote",
    *,
    source: str = "auto",
    sample_rows: int | None = None,
    sqs: SQSClient | None = None,
    scraper: Callable[..., pd.DataFrame] | None = None,
) -> dict[str, Any]:
    """The seed's Python Lambda behind ``POST /jobs/fetch``: fetch, queue, return at once.

    Returns ``{"jobs_queued": N, "source": "jobspy" | "sample", "note": ...}``.
    """
    fetched = fetch_jobs(search_term, location, source=source, sample_rows=sample_rows, scraper=scraper)
    result: dict[str, Any] = queue_jobs(queue, fetched.jobs, source=fetched.source, sqs=sqs)
    result.update(source=fetched.source, note=fetched.note)
    return result


# --- the consumer's view of a message -------------------------------------------------------------
@dataclass(frozen=True)
class JobPosting:
    """The fields of a job message the filter uses, checked."""

    job_id: str
    title: str
    job_url: str
    company: str | None = None
    location: str | None = None
    site: str | None = None
    description: str | None = None
    job_level: str | None = None
    job_type: str | None = None
    date_posted: str | None = None
    interval: str | None = None
    min_amount: float | None = None
    max_amount: float | None = None
    currency: str | None = None
    is_remote: bool | None = None


_TEXT_FIELDS = ("company", "location", "site", "description", "job_level", "job_type", "date_posted")


def parse_job(body: str) -> JobPosting:
    """A message body as a :class:`JobPosting`; :class:`~labsqs.errors.InvalidJobPosting` says what is
    wrong (the reason the ``failures`` table records)."""
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        preview = body[:40] + ("…" if len(body) > 40 else "")
        raise InvalidJobPosting(f"body is not JSON ({exc.msg} at column {exc.colno}): {preview!r}") from exc
    if not isinstance(data, dict):
        raise InvalidJobPosting(f"body is JSON but not an object (a {type(data).__name__})")
    for required in ("title", "job_url"):
        if not isinstance(data.get(required), str) or not data[required].strip():
            raise InvalidJobPosting(f"field {required!r} is missing or empty (got {data.get(required)!r})")
    text: dict[str, str | None] = {}
    for name in _TEXT_FIELDS:
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            raise InvalidJobPosting(f"field {name!r} must be text or null, got {type(value).__name__}")
        text[name] = value
    amounts: dict[str, float | None] = {}
    for name in ("min_amount", "max_amount"):
        value = data.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise InvalidJobPosting(f"field {name!r} must be a number or null, got {value!r}")
        amounts[name] = float(value) if value is not None else None
    interval = data.get("interval")
    if interval is not None and interval not in ANNUAL_FACTOR:
        raise InvalidJobPosting(
            f"field 'interval' must be one of {', '.join(ANNUAL_FACTOR)} or null, got {interval!r}"
        )
    currency = data.get("currency")
    if currency is not None and not isinstance(currency, str):
        raise InvalidJobPosting(f"field 'currency' must be text or null, got {currency!r}")
    remote = data.get("is_remote")
    if remote is not None and not isinstance(remote, bool):
        raise InvalidJobPosting(f"field 'is_remote' must be true, false or null, got {remote!r}")
    job_id = data.get("id")
    if job_id is not None and (not isinstance(job_id, str) or not job_id):
        raise InvalidJobPosting(f"field 'id' must be a non-empty text or null, got {job_id!r}")
    return JobPosting(
        job_id=job_id or data["job_url"],
        title=data["title"].strip(),
        job_url=data["job_url"],
        interval=interval,
        currency=currency,
        is_remote=remote,
        **text,  # type: ignore[arg-type]
        **amounts,  # type: ignore[arg-type]
    )


# --- the "AI filter": a deterministic scorer ------------------------------------------------------
SENIORITY_ORDER = ("intern", "junior", "mid", "senior", "staff", "manager")


@dataclass(frozen=True)
class FilterProfile:
    """What the user is looking for. Keywords are matched as whole words, case-insensitively."""

    keywords: tuple[str, ...] = ("python", "aws", "sqs", "backend", "distributed", "event-driven")
    levels: tuple[str, ...] = ("senior", "staff")
    min_salary_usd: float = 130_000.0
    remote: bool = True
    match_threshold: int = 60

    def __post_init__(self) -> None:
        if not self.keywords or not all(isinstance(k, str) and k.strip() for k in self.keywords):
            raise InvalidJobPosting(f"keywords must be non-empty words, got {self.keywords!r}")
        unknown = [lvl for lvl in self.levels if lvl not in SENIORITY_ORDER]
        if unknown:
            raise InvalidJobPosting(f"unknown seniority {unknown}; choose from {', '.join(SENIORITY_ORDER)}")
        if not 0 <= self.match_threshold <= 100:
            raise InvalidJobPosting(f"match_threshold is a score 0–100, got {self.match_threshold}")


_SENIORITY_PATTERNS = (  # first match wins
    ("intern", r"\bintern(ship)?\b"),
    ("manager", r"\b(manager|director|head of|vp)\b"),
    ("staff", r"\b(staff|principal|distinguished)\b"),
    ("senior", r"\b(senior|sr\.?|lead)\b"),
    ("junior", r"\b(junior|jr\.?|entry[- ]level|graduate)\b"),
)
DEFAULT_PROFILE = FilterProfile()


@dataclass(frozen=True)
class JobScore:
    """The filter's verdict on one job: ``score`` 0–100, ``verdict`` ``match``/``skip``, and why."""

    score: int
    verdict: str
    seniority: str
    salary_usd_yearly: float | None
    reasons: tuple[str, ...]


def seniority_of(title: str, job_level: str | None = None) -> str:
    """``intern``, ``junior``, ``mid``, ``senior``, ``staff`` or ``manager``, from the title (then
    LinkedIn's ``job_level``)."""
    for text in (title, job_level or ""):
        lowered = text.lower()
        for level, pattern in _SENIORITY_PATTERNS:
            if re.search(pattern, lowered):
                return level
    return "mid"


def yearly_salary_usd(posting: JobPosting) -> float | None:
    """The midpoint of the posted range, per year, in US dollars (rough fixed rates); None if unknown."""
    amounts = [a for a in (posting.min_amount, posting.max_amount) if a is not None and a > 0]
    if not amounts:
        return None
    rate = USD_PER_UNIT.get((posting.currency or "USD").upper())
    if rate is None:
        return None
    factor = ANNUAL_FACTOR.get(posting.interval or "yearly", 1)
    return round(sum(amounts) / len(amounts) * factor * rate, 2)


def score_job(posting: JobPosting, profile: FilterProfile = DEFAULT_PROFILE) -> JobScore:
    """Score a job 0–100: keywords (≤ 40: a keyword in the title counts more than in the text),
    seniority (20, or 10 one step away), salary (25 when the midpoint reaches the wanted minimum,
    12 within 85 %, 8 when unknown), remote (15). Same input, same score — always."""
    reasons: list[str] = []
    title, text = posting.title.lower(), (posting.description or "").lower()
    keyword_points = 0
    for word in profile.keywords:
        pattern = rf"(?<![a-z0-9]){re.escape(word.lower())}(?![a-z0-9])"
        if re.search(pattern, title):
            keyword_points += KEYWORD_IN_TITLE_POINTS
            reasons.append(f"'{word}' in title")
        elif re.search(pattern, text):
            keyword_points += KEYWORD_IN_DESCRIPTION_POINTS
            reasons.append(f"'{word}' in description")
    score = min(KEYWORD_POINTS_MAX, keyword_points)

    level = seniority_of(posting.title, posting.job_level)
    if level in profile.levels:
        score += SENIORITY_POINTS
        reasons.append(f"{level} level")
    elif any(abs(SENIORITY_ORDER.index(level) - SENIORITY_ORDER.index(w)) == 1 for w in profile.levels):
        score += SENIORITY_NEAR_POINTS
        reasons.append(f"{level} level (close)")

    salary = yearly_salary_usd(posting)
    if salary is None:
        score += SALARY_UNKNOWN_POINTS
        reasons.append("salary not posted")
    elif salary >= profile.min_salary_usd:
        score += SALARY_POINTS
        reasons.append(f"pays ~${salary / 1000:.0f}k/yr")
    elif salary >= SALARY_NEAR_FRACTION * profile.min_salary_usd:
        score += SALARY_NEAR_POINTS
        reasons.append(f"pays ~${salary / 1000:.0f}k/yr (a bit low)")

    if profile.remote and posting.is_remote:
        score += REMOTE_POINTS
        reasons.append("remote")
    verdict = "match" if score >= profile.match_threshold else "skip"
    return JobScore(score, verdict, level, salary, tuple(reasons))


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
CREATE TABLE IF NOT EXISTS failures (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id    TEXT NOT NULL,
    receive_count INTEGER NOT NULL,
    reason        TEXT NOT NULL,
    body          TEXT NOT NULL,
    failed_at     REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS failures_by_message ON failures (message_id);
"""
BUSY_TIMEOUT_SECONDS = 5.0


class JobStore(SqliteFile):
    """The filter's SQLite database: ``jobs`` (one row per job, keyed by its id) and ``failures``
    (one row per failed attempt, keyed by the SQS message id). Safe to share between threads.

    >>> with JobStore("jobs.sqlite") as store:
    ...     store.counts()
    {'jobs': 0, 'matches': 0, 'failed_attempts': 0, 'failed_messages': 0}
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(
            path, schema=_SCHEMA, busy_timeout_seconds=BUSY_TIMEOUT_SECONDS, synchronous_normal=False
        )

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

    def record_failure(self, *, message_id: str, receive_count: int, reason: str, body: str) -> None:
        """Keep why a message failed (one row per attempt), so a message in the DLQ has its story."""
        with self._lock:
            self._db.execute(
                "INSERT INTO failures (message_id, receive_count, reason, body, failed_at) "
                "VALUES (?,?,?,?,?)",
                (message_id, receive_count, reason, body[:MAX_FAILURE_BODY_CHARS], time.time()),
            )

    def jobs(self) -> pd.DataFrame:
        """Every saved job, best score first (``reasons`` as a tuple)."""
        import pandas as pd

        with self._lock:
            frame = pd.read_sql_query("SELECT * FROM jobs ORDER BY score DESC, job_id", self._db)
        frame["reasons"] = [tuple(json.loads(r)) for r in frame["reasons"]]
        frame["is_remote"] = frame["is_remote"].map(lambda v: None if v is None or v != v else bool(v))
        return frame

    def failures(self) -> pd.DataFrame:
        """Every failed attempt, oldest first."""
        import pandas as pd

        with self._lock:
            return pd.read_sql_query(
                "SELECT message_id, receive_count, reason, body, failed_at FROM failures ORDER BY id",
                self._db,
            )

    def counts(self) -> dict[str, int]:
        """Jobs saved, matches among them, failed attempts and distinct failed messages."""
        with self._lock:
            jobs, matches = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(verdict = 'match'), 0) FROM jobs"
            ).fetchone()
            attempts, messages = self._db.execute(
                "SELECT COUNT(*), COUNT(DISTINCT message_id) FROM failures"
            ).fetchone()
        return {"jobs": jobs, "matches": matches, "failed_attempts": attempts, "failed_messages": messages}


# --- the triggered function and its run ---------------------------------------------------------------
def make_filter_handler(
    store: JobStore, profile: FilterProfile = DEFAULT_PROFILE
) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The seed's ``HandleSQSEvent``: for each record, parse → score → save; a record that fails is
    recorded in ``failures`` and reported in ``batchItemFailures`` (so only it is retried)."""

    def handle_sqs_event(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        failures = []
        for record in event["Records"]:
            receive_count = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
            try:
                posting = parse_job(record["body"])
                store.save(
                    posting,
                    score_job(posting, profile),
                    message_id=record["messageId"],
                    receive_count=receive_count,
                )
            except Exception as exc:  # noqa: BLE001 - every failure is recorded, then retried by SQS
                reason = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
                store.record_failure(
                    message_id=record["messageId"],
                    receive_count=receive_count,
                    reason=reason,
                    body=record["body"],
                )
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    return handle_sqs_event


@dataclass(frozen=True)
class FilterRun:
    """What :func:`run_filter` did: the trigger's counters, the database's, whether the queue drained,
    and how many messages wait in the DLQ."""

    trigger: Mapping[str, Any]
    store: Mapping[str, int]
    drained: bool
    dead_letters: int | None


def run_filter(
    queue: Queue,
    store: JobStore,
    *,
    profile: FilterProfile = DEFAULT_PROFILE,
    sqs: SQSClient | None = None,
    batch_size: int = BATCH_SIZE,
    wait_time_seconds: int = LONG_POLL_SECONDS,
    timeout_seconds: float | None = None,
    progress: Callable[[dict[str, int]], None] | None = None,
) -> FilterRun:
    """Run the filter the way the seed's event source mapping does (``batch_size=1``, 20 s long polls)
    until the queue is drained: every message saved, or failed 3 times and moved to the DLQ.

    Drained means the queue's gauges (visible, in flight, delayed) read zero twice in a row — retries
    waiting out their visibility timeout count as in flight, so the run does not stop early. The last
    long poll may still wait up to ``wait_time_seconds`` before the run returns.

    ``progress(counts)`` is called about four times a second with ``waiting``, ``in_flight``, ``dlq``,
    ``jobs`` and ``failed_attempts``.
    """
    if not isinstance(queue, Queue):
        raise InvalidConsumerOption(
            "run_filter needs the Queue handle from ensure_queue(jobs_queue_spec(...))",
            hint="it watches the queue and its DLQ",
        )
    client = sqs if sqs is not None else sqs_client()
    stop = threading.Event()
    result: dict[str, TriggerStats] = {}
    errors: list[BaseException] = []

    def trigger() -> None:
        try:
            result["stats"] = run_trigger(
                queue,
                make_filter_handler(store, profile),
                batch_size=batch_size,
                wait_time_seconds=wait_time_seconds,
                sqs=client,
                stop=stop,
                function_name="jobping-ai-filter",
            )
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(exc)

    def on_poll(depths: dict[str, Depth]) -> None:
        if progress is None:
            return
        depth = depths[queue.url]
        dlq = queue_depth(queue.dlq, sqs=client).total if queue.dlq is not None else 0
        counts = store.counts()
        progress(
            {
                "waiting": depth.visible,
                "in_flight": depth.in_flight,
                "dlq": dlq,
                "jobs": counts["jobs"],
                "failed_attempts": counts["failed_attempts"],
            }
        )

    worker = threading.Thread(target=trigger, name="jobping-trigger", daemon=True)
    worker.start()
    try:
        drained = wait_until_drained(
            [queue], sqs=client, timeout_seconds=timeout_seconds, on_poll=on_poll, alive=worker.is_alive
        )
    finally:
        stop.set()
        worker.join()
    if errors:
        raise errors[0]
    dead = queue_depth(queue.dlq, sqs=client).total if queue.dlq is not None else None
    stats = result["stats"].snapshot() if "stats" in result else {}
    return FilterRun(trigger=stats, store=store.counts(), drained=drained, dead_letters=dead)


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
