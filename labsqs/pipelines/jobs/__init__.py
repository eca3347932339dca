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

The package, one module a topic (imports go down this list):

============  ============================================================================================
``sample``    the offline sample's generator (invented postings with JobSpy's 34 columns)
``fetch``     the seed's settings, the queue, the producer (JobSpy or the sample → one message per job)
``scoring``   the filter's view of a message (:class:`JobPosting`) and the deterministic scorer
``store``     the SQLite database (jobs, failures) and the summary table
``filter``    the triggered filter (``HandleSQSEvent``) and :func:`run_filter`
============  ============================================================================================
"""

from __future__ import annotations

from labsqs.pipelines.jobs.fetch import (
    BATCH_SIZE,
    DEFAULT_QUEUE_NAME,
    DEFAULT_RESULTS_WANTED,
    DEFAULT_SITES,
    DLQ_AFTER_RECEIVES,
    JOBSPY_LOGGER,
    LONG_POLL_SECONDS,
    MESSAGE_TYPE,
    RETENTION_SECONDS,
    SAMPLE_FILE,
    VISIBILITY_TIMEOUT_SECONDS,
    JobsFetch,
    fetch_and_queue,
    fetch_jobs,
    job_messages,
    jobs_queue_spec,
    load_sample_jobs,
    queue_jobs,
    quiet_jobspy,
)
from labsqs.pipelines.jobs.filter import (
    FUNCTION_NAME,
    FilterRun,
    make_filter_handler,
    run_filter,
)
from labsqs.pipelines.jobs.sample import (
    JOBSPY_COLUMNS,
)
from labsqs.pipelines.jobs.scoring import (
    ANNUAL_FACTOR,
    DEFAULT_PROFILE,
    KEYWORD_IN_DESCRIPTION_POINTS,
    KEYWORD_IN_TITLE_POINTS,
    KEYWORD_POINTS_MAX,
    REMOTE_POINTS,
    SALARY_NEAR_FRACTION,
    SALARY_NEAR_POINTS,
    SALARY_POINTS,
    SALARY_UNKNOWN_POINTS,
    SENIORITY_NEAR_POINTS,
    SENIORITY_ORDER,
    SENIORITY_POINTS,
    USD_PER_UNIT,
    FilterProfile,
    JobPosting,
    JobScore,
    parse_job,
    score_job,
    seniority_of,
    yearly_salary_usd,
)
from labsqs.pipelines.jobs.store import (
    JobStore,
    summary_table,
)

__all__ = [
    "ANNUAL_FACTOR",
    "BATCH_SIZE",
    "DEFAULT_PROFILE",
    "DEFAULT_QUEUE_NAME",
    "DEFAULT_RESULTS_WANTED",
    "DEFAULT_SITES",
    "DLQ_AFTER_RECEIVES",
    "FUNCTION_NAME",
    "FilterProfile",
    "FilterRun",
    "JOBSPY_COLUMNS",
    "JOBSPY_LOGGER",
    "JobPosting",
    "JobScore",
    "JobStore",
    "JobsFetch",
    "KEYWORD_IN_DESCRIPTION_POINTS",
    "KEYWORD_IN_TITLE_POINTS",
    "KEYWORD_POINTS_MAX",
    "LONG_POLL_SECONDS",
    "MESSAGE_TYPE",
    "REMOTE_POINTS",
    "RETENTION_SECONDS",
    "SALARY_NEAR_FRACTION",
    "SALARY_NEAR_POINTS",
    "SALARY_POINTS",
    "SALARY_UNKNOWN_POINTS",
    "SAMPLE_FILE",
    "SENIORITY_NEAR_POINTS",
    "SENIORITY_ORDER",
    "SENIORITY_POINTS",
    "USD_PER_UNIT",
    "VISIBILITY_TIMEOUT_SECONDS",
    "fetch_and_queue",
    "fetch_jobs",
    "job_messages",
    "jobs_queue_spec",
    "load_sample_jobs",
    "make_filter_handler",
    "parse_job",
    "queue_jobs",
    "quiet_jobspy",
    "run_filter",
    "score_job",
    "seniority_of",
    "summary_table",
    "yearly_salary_usd",
]
