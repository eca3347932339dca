"""Pipeline 1 (seed 002): fetch jobs → one message per job → triggered filter → SQLite, failures → DLQ.

Unit tests need no engine (the sample, the JobSpy fallback, the scorer, message checks); the end-to-end
tests run against the real engine with a 1 s visibility timeout and 1 s long polls.
"""

from __future__ import annotations

import json
import logging
from importlib import resources

import pandas as pd
import pytest

from labsqs import cli
from labsqs.dlq import list_messages
from labsqs.errors import InvalidJobPosting
from labsqs.metrics import queue_depth
from labsqs.pipelines import jobs
from labsqs.pipelines.jobs.sample import generate_csv_text
from labsqs.producer import send
from labsqs.queues import delete_queue, ensure_queue

WAIT_SECONDS = 1
VISIBILITY_SECONDS = 1
RUN_TIMEOUT_SECONDS = 30


# --- the sample -------------------------------------------------------------------------------------
def test_sample_has_exactly_jobspys_columns_and_realistic_rows():
    # GIVEN the sample shipped with the package WHEN it is loaded
    sample = jobs.load_sample_jobs()
    from jobspy.model import JobPost

    # THEN its columns are JobSpy's, in JobSpy's order, and it reads like job postings
    assert list(sample.columns) == list(JobPost.model_fields) == list(jobs.JOBSPY_COLUMNS)
    assert len(jobs.JOBSPY_COLUMNS) == 34
    assert 50 <= len(sample) <= 70
    assert sample["id"].is_unique
    assert sample["title"].str.len().min() > 5 and sample["description"].str.contains("About us").all()
    assert set(sample["interval"].dropna()) <= set(jobs.ANNUAL_FACTOR)
    assert (sample["max_amount"].dropna() >= sample["min_amount"].dropna()).all()
    assert sample["is_remote"].any() and not sample["is_remote"].all()
    # no scraped data: every URL points at a reserved example domain
    urls = pd.concat([sample["job_url"], sample["job_url_direct"], sample["company_url"].dropna()])
    assert urls.str.contains(r"(?:\.example/|example\.com/)").all()


def test_shipped_sample_is_what_the_deterministic_generator_writes():
    # GIVEN the generator script WHEN it runs again THEN it writes the shipped file byte for byte
    shipped = resources.files("labsqs").joinpath("data", jobs.SAMPLE_FILE).read_text(encoding="utf-8")
    assert generate_csv_text() == shipped


# --- the producer: JobSpy or the sample ---------------------------------------------------------------
def _offline_jobspy(**kwargs):
    """What python-jobspy does offline: logs each site's error at ERROR level, returns an empty 34-column
    frame with the errors in ``attrs`` (seen on this machine with jobspy 1.4.1)."""
    errors = {}
    for site in kwargs["site_name"]:
        message = f"HTTPSConnectionPool(host='{site}.example'): Max retries exceeded (NameResolutionError)"
        logging.getLogger(f"jobspy.{site}").error(message)
        errors[site] = message
    frame = pd.DataFrame(columns=list(jobs.JOBSPY_COLUMNS))
    frame.attrs = {"errors": errors, "warnings": {}}
    return frame


def test_offline_jobspy_falls_back_to_the_sample_and_its_errors_are_kept_not_printed(caplog):
    # GIVEN a JobSpy that is offline (proof that its log records would show without the filter's guard)
    caplog.set_level(logging.INFO)
    _offline_jobspy(site_name=["indeed"])
    assert any(r.name.startswith("jobspy") for r in caplog.records)
    caplog.clear()
    # WHEN the producer fetches jobs through it
    fetched = jobs.fetch_jobs(
        "python developer", "Remote", sites=("indeed", "linkedin"), scraper=_offline_jobspy
    )
    # THEN the sample is used, the note says so and why, the errors are kept, and nothing was logged
    assert fetched.source == "sample" and fetched.count == len(jobs.load_sample_jobs())
    assert "sample" in fetched.note and "indeed" in fetched.note and "linkedin" in fetched.note
    assert set(fetched.errors) == {"indeed", "linkedin"}
    assert not [r for r in caplog.records if r.name.startswith("jobspy")]


def test_real_jobspy_rows_are_used_when_the_network_gives_some():
    # GIVEN a JobSpy that found two postings on one site and failed on another
    def partial(**kwargs):
        frame = jobs.load_sample_jobs(2)
        frame.attrs = {"errors": {"linkedin": "HTTP 429 Too Many Requests"}}
        return frame

    # WHEN fetched THEN its rows are used (no sample), and the failed site is named
    fetched = jobs.fetch_jobs(scraper=partial)
    assert fetched.source == "jobspy" and fetched.count == 2 and "linkedin" in fetched.note


def test_job_messages_are_json_with_nulls_and_refuse_rows_without_title_before_any_request():
    # GIVEN the sample WHEN it becomes messages THEN each is plain JSON, missing values as null
    messages = jobs.job_messages(jobs.load_sample_jobs(5))
    text = json.dumps(messages)  # would raise on numpy scalars or dates
    assert "NaN" not in text and messages[0]["title"] and messages[0]["skills"] is None
    assert set(messages[0]) == set(jobs.JOBSPY_COLUMNS)
    # AND a row without a title stops queue_jobs before the client is used at all
    broken = jobs.load_sample_jobs(3)
    broken.loc[1, "title"] = None
    with pytest.raises(InvalidJobPosting, match="job #1 has no title"):
        jobs.queue_jobs("never-used", broken, sqs=object())  # type: ignore[arg-type]


# --- the filter -------------------------------------------------------------------------------------
def _posting(**fields) -> jobs.JobPosting:
    base = {"title": "Engineer", "job_url": "https://jobs.example.com/1"}
    return jobs.parse_job(json.dumps({**base, **fields}))


def test_score_ranks_what_the_profile_asks_for_and_is_deterministic():
    # GIVEN a senior remote Python/AWS job with good pay and a junior on-site frontend job without pay
    good = _posting(
        title="Senior Python Backend Engineer",
        description="We run event-driven services on AWS with SQS.",
        is_remote=True,
        interval="yearly",
        min_amount=150_000,
        max_amount=180_000,
        currency="USD",
    )
    weak = _posting(title="Junior Frontend Engineer", description="React and CSS.", is_remote=False)
    # WHEN scored THEN the first is a match for the default profile and the second is not
    best, worst = jobs.score_job(good), jobs.score_job(weak)
    assert best.verdict == "match" and worst.verdict == "skip" and best.score > worst.score
    assert best.seniority == "senior" and worst.seniority == "junior"
    assert (
        "remote" in best.reasons and "'python' in title" in best.reasons and best.salary_usd_yearly == 165_000
    )
    assert 0 <= worst.score <= best.score <= 100
    # AND the same job always gets the same score
    assert jobs.score_job(good) == best


def test_salary_is_annualised_and_converted_before_comparing():
    # GIVEN an hourly contract in USD and a monthly salary in EUR
    hourly = _posting(interval="hourly", min_amount=70, max_amount=90, currency="USD")
    monthly = _posting(interval="monthly", min_amount=9000, max_amount=11000, currency="EUR")
    # THEN both become yearly US dollars (JobSpy's factors: 2080 h, 12 months; a fixed EUR rate)
    assert jobs.yearly_salary_usd(hourly) == 80 * 2080
    assert jobs.yearly_salary_usd(monthly) == pytest.approx(10_000 * 12 * jobs.USD_PER_UNIT["EUR"])
    assert jobs.yearly_salary_usd(_posting()) is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('{"title": "Cut off', "not JSON"),
        ('["a", "list"]', "not an object"),
        ('{"job_url": "https://jobs.example.com/1"}', "'title' is missing"),
        ('{"title": "Engineer"}', "'job_url' is missing"),
        ('{"title": "E", "job_url": "u", "min_amount": "a lot"}', "'min_amount' must be a number"),
        ('{"title": "E", "job_url": "u", "interval": "fortnightly"}', "'interval' must be one of"),
        ('{"title": "E", "job_url": "u", "is_remote": "yes"}', "'is_remote' must be true"),
    ],
)
def test_malformed_job_messages_say_why(body, reason):
    with pytest.raises(InvalidJobPosting, match=reason):
        jobs.parse_job(body)


# --- end to end on the engine -----------------------------------------------------------------------
@pytest.fixture
def jobs_queue(sqs, queue_name):
    spec = jobs.jobs_queue_spec(
        queue_name("jobs-to-filter"),
        visibility_timeout_seconds=VISIBILITY_SECONDS,
        receive_wait_seconds=WAIT_SECONDS,
    )
    queue = ensure_queue(spec, sqs=sqs)
    yield queue
    delete_queue(queue, sqs=sqs, missing_ok=True)


def test_seed_queue_settings_are_the_seeds():
    spec = jobs.jobs_queue_spec()
    assert (spec.visibility_timeout_seconds, spec.receive_wait_seconds, spec.max_receive_count) == (60, 20, 3)
    assert spec.retention_seconds == 86_400 and jobs.BATCH_SIZE == 1


def test_fetch_jobs_end_to_end_saves_every_job_and_sends_a_malformed_one_to_the_dlq(
    sqs, jobs_queue, tmp_path
):
    # GIVEN eight postings queued by the producer, plus one malformed message and one duplicate delivery
    sample = jobs.load_sample_jobs(8)
    result = jobs.queue_jobs(jobs_queue, sample, source="sample", sqs=sqs)
    # THEN the producer answered with the count, before any consumer ran: all eight are waiting
    assert result == {"jobs_queued": 8}
    assert queue_depth(jobs_queue, sqs=sqs).visible == 8
    bad = send(jobs_queue, '{"title": "Backend Engineer", "job_url": ', sqs=sqs)
    send(jobs_queue, jobs.job_messages(sample.head(1))[0], sqs=sqs)  # the same job again
    # WHEN the filter runs like the seed's event source mapping until the queue drains
    with jobs.JobStore(tmp_path / "jobs.sqlite") as store:
        run = jobs.run_filter(
            jobs_queue, store, sqs=sqs, wait_time_seconds=WAIT_SECONDS, timeout_seconds=RUN_TIMEOUT_SECONDS
        )
        saved = store.jobs()
        failures = store.failures()
    # THEN every job is saved once, with the score the scorer gives it
    assert run.drained
    assert sorted(saved["job_id"]) == sorted(sample["id"])
    for message in jobs.job_messages(sample):
        expected = jobs.score_job(jobs.parse_job(json.dumps(message)))
        row = saved[saved["job_id"] == message["id"]].iloc[0]
        assert (row["score"], row["verdict"], row["seniority"]) == (
            expected.score,
            expected.verdict,
            expected.seniority,
        )
    # AND one message per invocation (batch_size=1)
    assert run.trigger["records"] == run.trigger["invocations"]
    # AND the malformed message was tried 3 times, each failure recorded with its reason, then dead-lettered
    assert list(failures["message_id"]) == [bad.message_id] * 3
    assert list(failures["receive_count"]) == [1, 2, 3]
    assert failures["reason"].str.contains("not JSON").all()
    dead = list_messages(jobs_queue.dlq, sqs=sqs)
    assert list(dead["message_id"]) == [bad.message_id] and run.dead_letters == 1
    assert queue_depth(jobs_queue, sqs=sqs).total == 0


def test_fetch_and_queue_is_the_seeds_lambda_answer(sqs, jobs_queue):
    # GIVEN an offline JobSpy WHEN the "Fetch Jobs" handler runs THEN it queues the sample and says so
    answer = jobs.fetch_and_queue(jobs_queue, sample_rows=4, sqs=sqs, scraper=_offline_jobspy)
    assert answer["jobs_queued"] == 4 and answer["source"] == "sample"
    depth = queue_depth(jobs_queue, sqs=sqs)
    assert depth.visible == 4


def test_labsqs_demo_jobs_prints_a_summary_table(engine_state, tmp_path, capsys):
    # GIVEN the demo on five sample postings and one malformed message, with short timings
    rc = cli.main(
        ["demo", "jobs", "--source", "sample", "--rows", "5", "--bad", "1", "--visibility", "1",
         "--wait", "1", "--out", str(tmp_path)]
    )  # fmt: skip
    out = capsys.readouterr().out
    # THEN it succeeded, printed the producer's answer, the summary and the table, and left a database
    assert rc == 0
    assert "{'jobs_queued': 5}" in out
    assert "saved 5" in out and "in DLQ 1" in out
    assert "score verdict" in out and "body is not JSON" in out
    with jobs.JobStore(tmp_path / "jobs.sqlite") as store:
        assert store.counts()["jobs"] == 5
