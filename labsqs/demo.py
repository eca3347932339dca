"""``labsqs demo jobs|resumes``: the seeds' two applications, end to end, from the terminal.

Each demo creates its own queues (unique names, deleted at the end unless ``--keep``), runs the whole
pipeline against the lab's engine with a progress line, and prints a summary. The files it writes (the
SQLite databases, a picture of the flow) stay in ``--out`` (default: the lab folder's
``demo/``) for you to open.

``jobs``    seed 002: "Fetch Jobs" → one message per posting → the triggered filter scores and saves
            each (``batch_size=1``) → malformed postings end in the DLQ with their reason.
``resumes`` seed 000: resume edits through a FIFO queue (one group per user) → 3 update processors →
            SQLite → PDF jobs → PDF workers → S3 → notifications → email through SES, with injected
            failures and a poison update; prints the bucket's objects and the engine's SES inbox.

The seeds' timings (60 s / 30 s visibility, 20 s long polls) would make a failed message wait a minute
per retry; the demos default to 2 s visibility and 2 s polls so they end in seconds. ``--seed-timings``
uses the seeds' values.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEMO_VISIBILITY_SECONDS = 2
DEMO_WAIT_SECONDS = 2
DEFAULT_BAD_JOBS = 1
TOP_JOBS_SHOWN = 10
MAX_COLUMN_CHARS = 34

_BAD_JOB_BODIES = (
    '{"title": "Backend Engineer", "company": "Truncated Corp", "job_url": ',  # cut-off JSON
    json.dumps({"company": "No Title Inc", "job_url": "https://jobs.example.com/x/1"}),  # no title
    json.dumps({"title": "Data Engineer", "job_url": "https://jobs.example.com/x/2", "min_amount": "a lot"}),
)


def _progress_printer(render: Callable[[Any], str]) -> Callable[[Any], None]:
    """Print a progress line to stderr when the numbers change (one line rewritten on a terminal)."""
    last: list[str] = []
    tty = sys.stderr.isatty()

    def show(counts: Any) -> None:
        text = render(counts)
        if last and last[0] == text:
            return
        last[:] = [text]
        if tty:
            print(f"\r  {text}   ", end="", file=sys.stderr, flush=True)
        else:
            print(f"  {text}", file=sys.stderr, flush=True)

    def done() -> None:
        if tty and last:
            print(file=sys.stderr)

    show.done = done  # type: ignore[attr-defined]
    return show


def _table(frame: Any) -> str:
    import pandas as pd

    with pd.option_context("display.max_colwidth", MAX_COLUMN_CHARS, "display.width", 200):
        return frame.to_string(index=False)


def _out_dir(args: argparse.Namespace) -> Path:
    if args.out:
        out = Path(args.out)
    else:
        from labsqs.engine import lab_home

        out = lab_home() / "demo"
    out.mkdir(parents=True, exist_ok=True)
    return out.resolve()


def _timings(args: argparse.Namespace, seed_visibility: int, seed_wait: int) -> tuple[int, int]:
    if args.seed_timings:
        return seed_visibility, seed_wait
    return args.visibility, args.wait


def _fresh_databases(*paths: Path) -> None:
    """Remove what an earlier demo left: each SQLite file and its WAL and shared-memory files."""
    for path in paths:
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)


# --- labsqs demo jobs -------------------------------------------------------------------------------
def cmd_jobs(args: argparse.Namespace) -> int:
    from labsqs.client import sqs_client
    from labsqs.pipelines import jobs
    from labsqs.queues import delete_queue, ensure_queue

    sqs = sqs_client(args.endpoint)
    visibility, wait = _timings(args, jobs.VISIBILITY_TIMEOUT_SECONDS, jobs.LONG_POLL_SECONDS)
    db_path = _out_dir(args) / "jobs.sqlite"
    _fresh_databases(db_path)
    name = f"{jobs.DEFAULT_QUEUE_NAME}-{uuid.uuid4().hex[:6]}"
    queue = ensure_queue(
        jobs.jobs_queue_spec(name, visibility_timeout_seconds=visibility, receive_wait_seconds=wait), sqs=sqs
    )
    print(f"queue {queue.name} (visibility {visibility} s, long poll {wait} s, DLQ after 3 receives)")
    try:
        queued = _fetch_and_queue_jobs(jobs, queue, args, sqs)
        _filter_jobs(jobs, queue, db_path, queued, wait, args, sqs)
        print()
        print(f"database: {db_path}")
    finally:
        if args.keep:
            print(f"kept the queue {queue.name} and its DLQ (--keep)")
        else:
            delete_queue(queue, sqs=sqs, missing_ok=True)
    return 0


def _fetch_and_queue_jobs(jobs: Any, queue: Any, args: argparse.Namespace, sqs: Any) -> int:
    """Steps 1-2: fetch postings and send one message each (+ ``--bad`` malformed ones); the number sent."""
    from labsqs.producer import send

    print("1. the user clicks Fetch Jobs: the producer fetches postings ...")
    fetched = jobs.fetch_jobs(
        args.search,
        args.location,
        source=args.source,
        sample_rows=args.rows,
        results_wanted=args.rows or 15,
    )
    print(f"   {fetched.note}")
    started = time.perf_counter()
    result = jobs.queue_jobs(queue, fetched.jobs, source=fetched.source, sqs=sqs)
    took = (time.perf_counter() - started) * 1000
    print(f"2. ... sends one message per job and returns at once: {result}  ({took:.0f} ms)")
    bad = [_BAD_JOB_BODIES[i % len(_BAD_JOB_BODIES)] for i in range(args.bad)]
    for body in bad:
        send(queue, body, sqs=sqs)
    if bad:
        print(f"   (+ {len(bad)} malformed message(s), to show where failures go)")
    return int(result["jobs_queued"]) + len(bad)


def _filter_jobs(
    jobs: Any, queue: Any, db_path: Path, queued: int, wait: int, args: argparse.Namespace, sqs: Any
) -> None:
    """Step 3: the triggered filter until the queue drains; the summary, the top jobs, the failures."""
    print("3. the trigger invokes the filter once per message (batch_size=1) until the queue drains:")
    show = _progress_printer(
        lambda c: (
            f"saved {c['jobs']:>3}  waiting {c['waiting']:>3}  in flight {c['in_flight']}  "
            f"failed attempts {c['failed_attempts']}  in DLQ {c['dlq']}"
        )
    )
    with jobs.JobStore(db_path) as store:
        run = jobs.run_filter(
            queue, store, sqs=sqs, wait_time_seconds=wait, timeout_seconds=args.timeout, progress=show
        )
        show.done()  # type: ignore[attr-defined]
        counts = store.counts()
        print()
        print(
            f"summary: jobs_queued {queued}, saved {counts['jobs']} "
            f"({counts['matches']} matches), invocations {run.trigger.get('invocations', 0)}, "
            f"failed attempts {counts['failed_attempts']}, in DLQ {run.dead_letters}"
            + ("" if run.drained else "  (stopped by --timeout before the queue drained)")
        )
        print()
        print(f"top {TOP_JOBS_SHOWN} jobs by score:")
        print(_table(jobs.summary_table(store, top=TOP_JOBS_SHOWN)))
        failures = store.failures()
    if len(failures):
        _print_job_failures(failures, queue, sqs)


def _print_job_failures(failures: Any, queue: Any, sqs: Any) -> None:
    from labsqs.dlq import list_messages

    print()
    print("failures (one row per attempt):")
    shown = failures.assign(message=failures["message_id"].str[:8])[["message", "receive_count", "reason"]]
    print(_table(shown))
    if queue.dlq is not None:
        dead = list_messages(queue.dlq, sqs=sqs)
        dlq_name = queue.dlq.name
        print(f"the DLQ {dlq_name} holds {len(dead)} message(s): `labsqs dlq inspect {dlq_name}`")


# --- labsqs demo resumes ----------------------------------------------------------------------------
def cmd_resumes(args: argparse.Namespace) -> int:
    from labsqs.client import s3_client, ses_client, sqs_client
    from labsqs.mail import verify_sender
    from labsqs.pipelines import resumes

    sqs, s3, ses = sqs_client(args.endpoint), s3_client(args.endpoint), ses_client(args.endpoint)
    visibility, wait = _timings(args, resumes.VISIBILITY_TIMEOUT_SECONDS, resumes.LONG_POLL_SECONDS)
    out = _out_dir(args)
    db_path, keys_path = out / "resumes.sqlite", out / "resumes-pdf-keys.sqlite"
    _fresh_databases(db_path, keys_path)
    prefix = f"devresume-{uuid.uuid4().hex[:6]}"
    queues = resumes.ensure_resume_queues(
        prefix, visibility_timeout_seconds=visibility, receive_wait_seconds=wait, sqs=sqs
    )
    bucket = resumes.ensure_pdf_bucket(resumes.pdf_bucket_name(prefix), s3=s3)
    sender = verify_sender(resumes.resume_sender(prefix), ses=ses)
    print(f"queues {prefix}-* (visibility {visibility} s, long poll {wait} s, DLQ after 3 receives)")
    print(f"S3 bucket {bucket} for the PDFs; emails from {sender} (a verified SES identity)")
    try:
        updates = resumes.sample_updates(args.users, args.updates, seed=args.seed)
        _queue_resume_edits(resumes, queues, updates, args.poison, sqs)
        stage = _ResumeStage(queues, db_path, keys_path, bucket, sender, wait, sqs, s3, ses)
        run = _run_resume_stages(resumes, stage, args)
        counts = resumes.flow_counts(queues, db_path=db_path, bucket=bucket, sqs=sqs, s3=s3)
        _save_flow_picture(resumes, counts, out / "flow.png")
        _print_resume_summary(resumes, run, updates, db_path, counts)
        _print_bucket_and_inbox(resumes, bucket, sender, s3, ses)
        print()
        print(f"database: {db_path}\npicture of the flow: {out / 'flow.png'}")
    finally:
        if args.keep:
            print(f"kept the queues {prefix}-* and the bucket {bucket} (--keep)")
        else:
            resumes.delete_resume_queues(queues, sqs=sqs)
            resumes.delete_pdf_bucket(bucket, s3=s3)
    return 0


@dataclass(frozen=True)
class _ResumeStage:
    """What the resume demo's pipeline runs on: its queues, files, bucket, sender, long poll and clients."""

    queues: Any
    db_path: Path
    keys_path: Path
    bucket: str
    sender: str
    wait: int
    sqs: Any
    s3: Any
    ses: Any


def _run_resume_stages(resumes: Any, stage: _ResumeStage, args: argparse.Namespace) -> Any:
    """Step 2: the update processors, PDF workers and email sender, with a progress line, until drained."""
    injector = resumes.FailureInjector(args.failure_rate, seed=args.seed) if args.failure_rate else None
    print(
        f"2. {args.consumers} update processors, {args.pdf_workers} PDF workers and 1 email sender run"
        + (f", failing {args.failure_rate:.0%} of the time at each step (transient)" if injector else "")
    )
    show = _progress_printer(
        lambda f: "  ".join(
            f"{name.replace('resume ', '')} {total}"
            for name, total in zip(f["stage"], f["total"], strict=True)
            if "DLQ" not in name or total
        )
    )
    run = resumes.run_resume_pipeline(
        stage.queues,
        db_path=stage.db_path,
        bucket=stage.bucket,
        sender=stage.sender,
        consumers=args.consumers,
        pdf_workers=args.pdf_workers,
        injector=injector,
        wait_time_seconds=stage.wait,
        timeout_seconds=args.timeout,
        idempotency_path=stage.keys_path,
        sqs=stage.sqs,
        s3=stage.s3,
        ses=stage.ses,
        progress=show,
    )
    show.done()  # type: ignore[attr-defined]
    return run


def _queue_resume_edits(resumes: Any, queues: Any, updates: list[Any], poison: int, sqs: Any) -> None:
    from labsqs.producer import send

    report = resumes.queue_resume_updates(queues.updates, updates, sqs=sqs)
    users = len({u.user_id for u in updates})
    print(f"1. {len(report.sent)} resume updates from {users} users → FIFO queue, a group per user")
    for i in range(poison):
        user = updates[i % len(updates)].user_id
        body = {"updateId": f"poison-{i + 1}", "userId": user, "resumeId": "resume-1", "action": "ARCHIVE"}
        send(queues.updates, body, group_id=f"user-{user}", dedup_id=body["updateId"], sqs=sqs)
    if poison:
        print(f"   (+ {poison} poison update(s) with the unknown action ARCHIVE)")


def _print_resume_summary(resumes: Any, run: Any, updates: list[Any], db_path: Path, counts: Any) -> None:
    with resumes.ResumeStore(db_path) as store:
        same = store.resumes() == resumes.expected_resumes(updates)
        table = store.frame()
        failures = store.failures()
    print()
    print(
        f"summary: updates processed {run.total('updates', 'processed')}, "
        f"retried {run.total('updates', 'redelivered')}, PDF jobs retried {run.total('pdf', 'redelivered')}, "
        f"notifications retried {run.total('emails', 'redelivered')}, injected failures "
        f"{sum(run.injected.values())}"
    )
    print(f"database matches the in-order replay of every user's updates: {'yes' if same else 'NO'}")
    print()
    print(_table(table))
    print()
    print(_table(counts[["stage", "waiting", "in_flight"]]))
    real = failures[~failures["reason"].str.startswith("injected")]
    if len(real):
        print()
        print("failures that were not injected (one row per attempt):")
        shown = real.assign(message=real["message_id"].str[:8])[
            ["stage", "message", "receive_count", "reason"]
        ]
        print(_table(shown))


def _print_bucket_and_inbox(resumes: Any, bucket: str, sender: str, s3: Any, ses: Any) -> None:
    """What the run left in S3 and in SES's inbox: one object and one email per saved change."""
    from labsqs.mail import read_inbox

    objects = resumes.list_pdfs(bucket, s3=s3)
    print()
    print(f"S3 bucket {bucket}: {len(objects)} PDF objects")
    print(_table(objects[["key", "size"]]))
    inbox = read_inbox(sender, ses=ses)
    print()
    if inbox is None:
        print("the emails went to the users' real inboxes (SES on AWS cannot list what it sent)")
        return
    per_pdf = inbox["subject"].str.extract(r"\[(.+)\]")[0].value_counts()
    print(
        f"SES inbox (LocalStack's /_aws/ses) from {sender}: {len(inbox)} emails, "
        f"{int((per_pdf == 1).sum())} PDFs emailed once, {int((per_pdf > 1).sum())} more than once"
    )
    print(_table(inbox.sort_values(["to", "subject"])[["to", "subject"]]))


def _save_flow_picture(resumes: Any, counts: Any, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    ax = resumes.plot_flow(counts, title="Resume builder after the run")
    ax.figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(ax.figure)


# --- wiring -------------------------------------------------------------------------------------------
def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--visibility", type=int, default=DEMO_VISIBILITY_SECONDS, help="visibility timeout, s")
    p.add_argument("--wait", type=int, default=DEMO_WAIT_SECONDS, help="long poll, s (0–20)")
    p.add_argument("--seed-timings", action="store_true", help="use the seed's visibility and long poll")
    p.add_argument(
        "--timeout", type=float, default=300.0, help="give up waiting for the queues after this, s"
    )
    p.add_argument("--out", help="folder for the database and files (default: <lab folder>/demo)")
    p.add_argument("--keep", action="store_true", help="keep the queues (and bucket) after the demo")
    p.add_argument("--endpoint", help="SQS endpoint (default: the lab's engine)")


def register_cli(subparsers: argparse._SubParsersAction, commands: dict[str, Callable[..., int]]) -> None:
    """Add ``labsqs demo jobs|resumes`` to the ``labsqs`` command."""
    demo = subparsers.add_parser("demo", help="the seeds' two pipelines, end to end (jobs, resumes)")
    which = demo.add_subparsers(dest="demo_command", required=True)

    p = which.add_parser("jobs", help="seed 002: fetch jobs → queue → triggered filter → SQLite (+ DLQ)")
    p.add_argument("--source", choices=("auto", "sample", "jobspy"), default="auto", help="default: auto")
    p.add_argument("--search", default="python developer")
    p.add_argument("--location", default="Remote")
    p.add_argument("--rows", type=int, help="at most this many postings (default: all)")
    p.add_argument("--bad", type=int, default=DEFAULT_BAD_JOBS, help="malformed messages to add (default 1)")
    _common(p)
    p.set_defaults(demo_handler=cmd_jobs)

    p = which.add_parser("resumes", help="seed 000: FIFO resume updates → SQLite → PDFs in S3 → SES emails")
    p.add_argument("--users", type=int, default=4)
    p.add_argument("--updates", type=int, default=5, help="updates per user")
    p.add_argument("--consumers", type=int, default=3, help="update processors (default 3)")
    p.add_argument("--pdf-workers", type=int, default=2)
    p.add_argument("--failure-rate", type=float, default=0.1, help="injected, per step (default 0.1)")
    p.add_argument("--poison", type=int, default=1, help="poison updates to add (default 1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sample data and the injected failures")
    _common(p)
    p.set_defaults(demo_handler=cmd_resumes)

    commands["demo"] = lambda args: int(args.demo_handler(args))
