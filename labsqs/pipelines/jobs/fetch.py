"""JobPing's producer (what the **Fetch Jobs** button runs): the queue, the postings (python-jobspy's, or the
lab's offline sample), one JSON message per job, and the answer ``{"jobs_queued": N}`` at once.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources
from typing import TYPE_CHECKING, Any

from labsqs.base.calls import default_sqs
from labsqs.errors import InvalidJobPosting
from labsqs.pipelines.jobs.sample import JOBSPY_COLUMNS
from labsqs.producer import send_many
from labsqs.queues import Queue, QueueSpec

if TYPE_CHECKING:
    import pandas as pd
    from mypy_boto3_sqs import SQSClient

# --- the seed's settings (the seed's values for its queue and trigger, not SQS's limits) ---------------
DEFAULT_QUEUE_NAME = "jobping-jobs-to-filter"
VISIBILITY_TIMEOUT_SECONDS = 60  # sqs.tf: visibility_timeout_seconds = 60
RETENTION_SECONDS = 86_400  # sqs.tf: message_retention_seconds = 86400 (1 day)
LONG_POLL_SECONDS = 20  # "Lambda waits up to 20 seconds for messages"
DLQ_AFTER_RECEIVES = 3  # "if a message fails 3 times, it goes to DLQ" (the redrive policy's maxReceiveCount)
BATCH_SIZE = 1  # aws_lambda_event_source_mapping.batch_size = 1

SAMPLE_FILE = "sample_jobs.csv"
MESSAGE_TYPE = "JOB_POSTING"
JOBSPY_LOGGER = "jobspy"
DEFAULT_SITES = ("indeed", "linkedin")
DEFAULT_RESULTS_WANTED = 15


# --- the queue ------------------------------------------------------------------------------------
def jobs_queue_spec(
    name: str = DEFAULT_QUEUE_NAME,
    *,
    visibility_timeout_seconds: int = VISIBILITY_TIMEOUT_SECONDS,
    receive_wait_seconds: int = LONG_POLL_SECONDS,
    max_receive_count: int = DLQ_AFTER_RECEIVES,
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
    client = default_sqs(sqs)
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
