"""Pipeline 2 (seed 000): FIFO resume updates per user → SQLite → PDF jobs → PDFs in S3 → SES emails.

Unit tests cover the message, the state machine, the store's exactly-once apply, the PDF and the failure
injector; the integration tests run the whole flow on the real engine (1 s visibility, 1 s polls) with
3 update processors, 2 PDF workers, an email sender, injected failures and poison messages, and check the
effects where they land: the S3 bucket's objects and the engine's SES inbox.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter

import pytest

from labsqs import cli
from labsqs.client import s3_client, ses_client
from labsqs.consumer import Message
from labsqs.dlq import list_messages
from labsqs.errors import InvalidBucketName, InvalidResumeUpdate, ResumeStateError
from labsqs.mail import read_inbox, verify_sender
from labsqs.metrics import queue_depth
from labsqs.pipelines import resumes
from labsqs.pipelines.resumes import FailureInjector, ResumeState, ResumeStore, ResumeUpdate
from labsqs.producer import send

WAIT_SECONDS = 1
VISIBILITY_SECONDS = 1
RUN_TIMEOUT_SECONDS = 60


def _pages(pdf: bytes) -> int:
    """Count page objects with a regex of our own (independent of reportlab and of the module)."""
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def _assert_real_one_page_pdf(raw: bytes, what: str) -> None:
    assert raw.startswith(b"%PDF-"), f"{what} is not a PDF"
    assert raw.rstrip().endswith(b"%%EOF"), f"{what} is truncated"
    assert _pages(raw) == 1, f"{what} has {_pages(raw)} pages"
    page_tree = [obj for obj in raw.split(b"endobj") if re.search(rb"/Type\s*/Pages\b", obj)]
    assert len(page_tree) == 1 and re.search(rb"/Count\s+1\b", page_tree[0]), "page tree: not 1 page"


def _pdf_ids_in(subjects) -> Counter:
    """How many emails each PDF id got (the subject carries it in brackets)."""
    return Counter(re.search(r"\[(.+)\]", s).group(1) for s in subjects)


# --- the message --------------------------------------------------------------------------------------
def test_update_message_round_trips_in_the_seeds_shape():
    update = ResumeUpdate("u1-001", "u1", "resume-1", "CREATE", {"name": "Ada", "skills": ["SQS"]}, "modern")
    body = update.to_message()
    assert set(body) == {"updateId", "userId", "resumeId", "action", "template", "data"}
    assert ResumeUpdate.parse(json.dumps(body)) == update
    assert update.group_id == "user-u1"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"action": "ARCHIVE"}, "action must be one of"),
        ({"user_id": "user 1"}, "userId must be"),
        ({"update_id": ""}, "updateId must be"),
        ({"template": "fancy"}, "template must be one of"),
        ({"data": {}}, "CREATE needs data.name"),
        ({"data": ["not", "an", "object"]}, "data must be an object"),
        ({"data": {"name": "Ada", "when": object()}}, "data is not JSON"),
    ],
)
def test_malformed_updates_are_refused_with_a_reason(fields, reason):
    base = {
        "update_id": "u1-001",
        "user_id": "u1",
        "resume_id": "r1",
        "action": "CREATE",
        "data": {"name": "Ada"},
    }
    with pytest.raises(InvalidResumeUpdate, match=reason):
        ResumeUpdate(**{**base, **fields})


# --- what updates do ----------------------------------------------------------------------------------
def test_update_merges_fields_null_removes_and_order_matters():
    create = ResumeUpdate("a-1", "a", "r", "CREATE", {"name": "Ada", "headline": "Engineer", "email": "a@x"})
    senior = ResumeUpdate("a-2", "a", "r", "UPDATE", {"headline": "Senior"})
    staff = ResumeUpdate("a-3", "a", "r", "UPDATE", {"headline": "Staff", "email": None}, "minimal")
    # in order: the last headline wins, email removed, template changed, version counts changes
    assert resumes.expected_resumes([create, senior, staff]) == {
        ("a", "r"): ResumeState("minimal", {"name": "Ada", "headline": "Staff"}, 3)
    }
    # out of order: a different result — so comparing with the in-order replay detects reordering
    assert resumes.expected_resumes([create, staff, senior])[("a", "r")].data["headline"] == "Senior"
    # an UPDATE before its CREATE does not fit (it would go to the DLQ) and is skipped by the replay
    assert resumes.expected_resumes([senior, create]) == {("a", "r"): ResumeState("classic", create.data, 1)}


def test_state_errors_name_the_resume_and_the_fix():
    create = ResumeUpdate("a-1", "a", "r", "CREATE", {"name": "Ada"})
    with pytest.raises(ResumeStateError, match="already exists"):
        resumes.next_state(resumes.next_state(None, create), create)
    with pytest.raises(ResumeStateError, match="does not exist"):
        resumes.next_state(None, ResumeUpdate("a-2", "a", "r", "DELETE"))


def _message(body: dict | str, receive_count: int = 1) -> Message:
    text = body if isinstance(body, str) else json.dumps(body)
    return Message(
        f"m-{uuid.uuid4().hex[:6]}",
        "rh",
        text,
        "url",
        attributes={"ApproximateReceiveCount": str(receive_count)},
    )


def test_store_applies_an_update_once_with_its_pdf_job_in_the_same_transaction(tmp_path):
    create = ResumeUpdate("a-1", "a", "r", "CREATE", {"name": "Ada"})
    with ResumeStore(tmp_path / "r.sqlite") as store:
        # WHEN the same update is applied twice (a redelivery after a crash before the delete)
        assert store.apply(create, message_id="m1") == "applied"
        assert store.apply(create, message_id="m1") == "duplicate"
        # THEN the change, the update id and one PDF job exist once
        assert store.resumes() == {("a", "r"): ResumeState("classic", {"name": "Ada"}, 1)}
        assert store.applied_order() == ["a-1"]
        assert [j["pdfId"] for j in store.unsent_pdf_jobs()] == ["pdf-a-1"]
        # AND an update that does not fit changes nothing at all
        with pytest.raises(ResumeStateError):
            store.apply(create.__class__("a-2", "a", "r", "CREATE", {"name": "Twice"}), message_id="m2")
        assert store.counts() == {
            "resumes": 1, "applied": 1, "outbox_unsent": 1, "emails": 0, "failed_attempts": 0
        }  # fmt: skip


def test_sample_updates_are_valid_interleaved_and_deterministic():
    updates = resumes.sample_updates(users=3, updates_per_user=5)
    assert updates == resumes.sample_updates(users=3, updates_per_user=5)
    assert len(updates) == 15 and len({u.update_id for u in updates}) == 15
    assert [u.user_id for u in updates[:3]] == ["u001", "u002", "u003"]  # users interleaved
    assert {u.action for u in updates} == {"CREATE", "UPDATE", "DELETE"}
    # every update fits when applied in order: the replay applies all of them
    final = resumes.expected_resumes(updates)
    assert set(final) == {("u001", "resume-1"), ("u002", "resume-1"), ("u003", "resume-1")}


# --- the PDF ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("template", resumes.TEMPLATES)
def test_pdf_is_a_real_one_page_pdf_even_for_a_very_long_resume(template):
    data = {
        "name": "Grace Hopper",
        "headline": "Rear Admiral, compilers",
        "email": "grace@example.com",
        "summary": "Wrote the first compiler. " * 400,
        "experience": [{"role": f"Role {i}", "company": "Navy", "years": "1943–1986"} for i in range(60)],
        "skills": ["COBOL", "FLOW-MATIC"] * 50,
    }
    pdf = resumes.render_resume_pdf(data, template=template, version=3)
    _assert_real_one_page_pdf(pdf, template)
    assert b"Grace Hopper" in pdf  # the title metadata
    # rendering again gives the same bytes (so a retried job stores an identical object under its key)
    assert resumes.render_resume_pdf(data, template=template, version=3) == pdf


def test_a_pdf_job_fixes_its_object_key_and_its_notification_needs_an_address():
    job = resumes.PdfJob("pdf-a-2", "a-2", "a", "resume-1", 2, "modern", {"name": "Ada", "email": "a@x.org"})
    # GIVEN the same job twice: its key is fixed by the job, and its notification carries the PDF's id
    assert job.s3_key() == "a/resume-1/pdf-a-2.pdf"
    note = resumes.PdfReady.for_job(job, "bucket-1", job.s3_key())
    assert resumes.PdfReady.parse(json.dumps(note.to_message())) == note
    # AND a notification without an address to write to is refused with the reason
    no_email = {**note.to_message(), "email": None}
    with pytest.raises(InvalidResumeUpdate, match="no email address"):
        resumes.PdfReady.parse(json.dumps(no_email))


@pytest.mark.parametrize("bad", ["ab", "Upper-Case", "under_score", "-starts-with-dash", "x" * 64, "a..b"])
def test_bucket_names_are_checked_before_any_request(bad):
    class NoCalls:
        def __getattr__(self, name):
            raise AssertionError(f"S3 was called ({name}) for an invalid bucket name")

    with pytest.raises(InvalidBucketName, match="not a valid S3 bucket name"):
        resumes.ensure_pdf_bucket(bad, s3=NoCalls())


# --- injected failures --------------------------------------------------------------------------------
def test_failure_injector_is_deterministic_and_spares_the_last_try():
    injector = FailureInjector(0.5, seed=3)
    decisions = [injector.should_fail("p", f"k{i}", 1) for i in range(200)]
    assert decisions == [FailureInjector(0.5, seed=3).should_fail("p", f"k{i}", 1) for i in range(200)]
    assert 60 < sum(decisions) < 140
    assert not any(injector.should_fail("p", f"k{i}", resumes.DLQ_AFTER_RECEIVES) for i in range(200))
    failing = next(f"k{i}" for i, d in enumerate(decisions) if d)
    with pytest.raises(resumes.InjectedFailure):
        injector.maybe_fail("p", failing, 1)
    assert injector.fired == {"p": 1}


# --- the whole flow on the engine ---------------------------------------------------------------------
@pytest.fixture
def resume_queues(sqs):
    prefix = f"t-{uuid.uuid4().hex[:8]}"
    queues = resumes.ensure_resume_queues(
        prefix, visibility_timeout_seconds=VISIBILITY_SECONDS, receive_wait_seconds=WAIT_SECONDS, sqs=sqs
    )
    yield queues
    resumes.delete_resume_queues(queues, sqs=sqs)


@pytest.fixture(scope="session")
def s3(engine_state):
    return s3_client(engine_state.endpoint)


@pytest.fixture(scope="session")
def ses(engine_state):
    return ses_client(engine_state.endpoint)


@pytest.fixture
def outputs(resume_queues, s3, ses):
    """The run's S3 bucket and its own verified sender (its mail is told apart in the shared inbox)."""
    prefix = resume_queues.updates.name.removesuffix(resumes.UPDATES_SUFFIX)
    bucket = resumes.ensure_pdf_bucket(resumes.pdf_bucket_name(prefix), s3=s3)
    sender = verify_sender(resumes.resume_sender(prefix), ses=ses)
    yield {"bucket": bucket, "sender": sender, "s3": s3, "ses": ses}
    resumes.delete_pdf_bucket(bucket, s3=s3)


def _assert_one_pdf_and_one_email_per_saved_change(outputs, updates, db_path):
    """The effects where they land: the bucket holds exactly one real PDF per CREATE/UPDATE, and the
    engine's SES inbox holds exactly one email per PDF, to the resume's owner, matching the ledger."""
    wanted = {resumes.pdf_id_for(u.update_id) for u in updates if u.action != "DELETE"}
    objects = resumes.list_pdfs(outputs["bucket"], s3=outputs["s3"])
    assert sorted(objects["pdf_id"]) == sorted(wanted)
    for key in objects["key"]:
        _assert_real_one_page_pdf(resumes.read_pdf(outputs["bucket"], key, s3=outputs["s3"]), key)
    inbox = read_inbox(outputs["sender"], ses=outputs["ses"])
    assert _pdf_ids_in(inbox["subject"]) == Counter(wanted)
    owner = {resumes.pdf_id_for(u.update_id): u.user_id for u in updates}
    address = {u.user_id: u.data["email"] for u in updates if u.action == "CREATE"}
    for to, subject, text in zip(inbox["to"], inbox["subject"], inbox["text"], strict=True):
        pdf_id = re.search(r"\[(.+)\]", subject).group(1)
        assert to == address[owner[pdf_id]], (to, pdf_id)
        assert f"/{outputs['bucket']}/{owner[pdf_id]}/resume-1/{pdf_id}.pdf?" in text  # the presigned link
    with ResumeStore(db_path) as store:
        ledger = store.emails()
    assert sorted(ledger["ses_message_id"]) == sorted(inbox["message_id"])


def test_fifo_dedup_drops_a_retried_send_of_the_same_updates(sqs, resume_queues):
    # GIVEN six updates sent, then the same six sent again (a producer retrying after a timeout)
    updates = resumes.sample_updates(users=2, updates_per_user=3)
    first = resumes.queue_resume_updates(resume_queues.updates, updates, sqs=sqs)
    again = resumes.queue_resume_updates(resume_queues.updates, updates, sqs=sqs)
    # THEN SQS kept six messages, and answered the retry with the original message ids
    assert queue_depth(resume_queues.updates, sqs=sqs).visible == 6
    assert [r.message_id for r in again.sent] == [r.message_id for r in first.sent]


def test_concurrent_consumers_with_failures_end_in_the_in_order_state_with_one_pdf_and_email_each(
    sqs, resume_queues, outputs, tmp_path
):
    # GIVEN 3 users' interleaved edits, and a poison update (unknown action) in the middle of user 2's
    updates = resumes.sample_updates(users=3, updates_per_user=4, seed=5)
    resumes.queue_resume_updates(resume_queues.updates, updates[:5], sqs=sqs)
    poison = {
        "updateId": "poison-1",
        "userId": "u002",
        "resumeId": "resume-1",
        "action": "ARCHIVE",
        "data": {},
    }
    poison_sent = send(resume_queues.updates, poison, group_id="user-u002", dedup_id="poison-1", sqs=sqs)
    resumes.queue_resume_updates(resume_queues.updates, updates[5:], sqs=sqs)
    injector = FailureInjector(0.12, seed=11)
    # WHEN 3 update processors, 2 PDF workers and an email sender run with transient failures everywhere
    run = resumes.run_resume_pipeline(
        resume_queues,
        db_path=tmp_path / "resumes.sqlite",
        bucket=outputs["bucket"],
        sender=outputs["sender"],
        consumers=3,
        pdf_workers=2,
        injector=injector,
        wait_time_seconds=WAIT_SECONDS,
        timeout_seconds=RUN_TIMEOUT_SECONDS,
        sqs=sqs,
        s3=outputs["s3"],
        ses=outputs["ses"],
    )
    # THEN failures really happened and were retried
    assert run.drained
    assert injector.total > 0 and run.total("updates", "redelivered") + run.total("pdf", "redelivered") > 0
    with ResumeStore(tmp_path / "resumes.sqlite") as store:
        # AND the database equals applying every user's updates in order
        assert store.resumes() == resumes.expected_resumes(updates)
        for user in ("u001", "u002", "u003"):
            assert store.applied_order(user) == [u.update_id for u in updates if u.user_id == user]
        failures = store.failures()
    # AND the poison update is in the updates DLQ, with its reason recorded for each try it got, the last
    # on its 3rd receive (with batches, its first receive may be the one handed back behind an earlier
    # update's injected failure: the one receive a follower still pays)
    dead = list_messages(resume_queues.updates.dlq, sqs=sqs)
    assert list(dead["message_id"]) == [poison_sent.message_id]
    poison_rows = failures[failures["message_id"] == poison_sent.message_id]
    tries = list(poison_rows["receive_count"])
    assert tries[-1] == 3 and len(tries) >= 2 and tries == sorted(set(tries))
    assert poison_rows["reason"].str.contains("action must be one of").all()
    # AND every saved change has exactly one PDF object in S3 and exactly one email in the SES inbox
    _assert_one_pdf_and_one_email_per_saved_change(outputs, updates, tmp_path / "resumes.sqlite")
    # AND nothing was left anywhere: no message waiting, nothing in the PDF or notification DLQ
    for queue in (
        resume_queues.updates,
        resume_queues.pdf.dlq,
        resume_queues.notifications,
        resume_queues.notifications.dlq,
    ):
        assert queue_depth(queue, sqs=sqs).total == 0, queue.name  # fmt: skip


def test_crashes_right_after_storing_notifying_and_emailing_still_give_one_object_and_one_email_each(
    sqs, resume_queues, outputs, tmp_path
):
    # GIVEN workers that crash (90 % of first and second tries) right after the S3 put, right after
    # queueing the notification, and right after SES accepted the email: the three effects a naive
    # retry would repeat
    updates = resumes.sample_updates(users=2, updates_per_user=3, seed=2)
    resumes.queue_resume_updates(resume_queues.updates, updates, sqs=sqs)
    points = ("pdf:after-store", "pdf:after-notify", "email:after-send")
    injector = FailureInjector(0.9, seed=1, points=points)
    # (with versioning on, the bucket keeps every put: we can count how often each key was written)
    outputs["s3"].put_bucket_versioning(
        Bucket=outputs["bucket"], VersioningConfiguration={"Status": "Enabled"}
    )
    # WHEN the pipeline runs
    run = resumes.run_resume_pipeline(
        resume_queues, db_path=tmp_path / "r.sqlite", bucket=outputs["bucket"], sender=outputs["sender"],
        consumers=2, pdf_workers=2, injector=injector, wait_time_seconds=WAIT_SECONDS,
        timeout_seconds=RUN_TIMEOUT_SECONDS, sqs=sqs, s3=outputs["s3"], ses=outputs["ses"],
    )  # fmt: skip
    # THEN every point fired and the notifications really came back
    assert run.drained
    assert all(injector.fired[p] > 0 for p in points), injector.fired
    assert run.total("emails", "redelivered") >= injector.fired["email:after-send"]
    # AND still: one object per saved change in the bucket, one email per PDF in the inbox
    _assert_one_pdf_and_one_email_per_saved_change(outputs, updates, tmp_path / "r.sqlite")
    # AND the retried jobs really wrote their key again — the same bytes over the same key
    versions = resumes.pdf_versions(outputs["bucket"], s3=outputs["s3"])
    writes = versions.groupby("key")["etag"].agg(["count", "nunique"])
    assert (writes["count"] > 1).sum() >= 1, writes
    assert (writes["nunique"] == 1).all(), writes


def test_a_poison_pdf_job_is_retried_then_dead_lettered_and_stores_nothing(
    sqs, resume_queues, outputs, tmp_path
):
    # GIVEN a PDF job whose data has no name (a bug in some producer), next to a good one
    good = resumes.PdfJob(
        "pdf-g-1", "g-1", "g", "resume-1", 1, "minimal", {"name": "Good", "email": "g@x.org"}
    )
    send(resume_queues.pdf, good.to_message(), sqs=sqs)
    bad = send(resume_queues.pdf, {**good.to_message(), "pdfId": "pdf-b-1", "data": {}}, sqs=sqs)
    # WHEN the pipeline runs (no updates at all)
    run = resumes.run_resume_pipeline(
        resume_queues,
        db_path=tmp_path / "r.sqlite",
        bucket=outputs["bucket"],
        sender=outputs["sender"],
        consumers=1,
        pdf_workers=2,
        wait_time_seconds=WAIT_SECONDS,
        timeout_seconds=RUN_TIMEOUT_SECONDS,
        sqs=sqs,
        s3=outputs["s3"],
        ses=outputs["ses"],
    )
    # THEN the good job is in S3 and emailed, the bad one failed 3 times with its reason and is in the DLQ
    assert run.drained
    assert list(resumes.list_pdfs(outputs["bucket"], s3=outputs["s3"])["key"]) == ["g/resume-1/pdf-g-1.pdf"]
    assert _pdf_ids_in(read_inbox(outputs["sender"], ses=outputs["ses"])["subject"]) == {"pdf-g-1": 1}
    assert list(list_messages(resume_queues.pdf.dlq, sqs=sqs)["message_id"]) == [bad.message_id]
    with ResumeStore(tmp_path / "r.sqlite") as store:
        failures = store.failures()
    assert list(failures["stage"]) == ["pdf"] * 3
    assert failures["reason"].str.contains("must be an object with a name").all()


def test_flow_counts_and_picture_show_every_queue_of_the_seeds_diagram(sqs, resume_queues, outputs, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    resumes.queue_resume_updates(
        resume_queues.updates, resumes.sample_updates(users=2, updates_per_user=2), sqs=sqs
    )
    job = resumes.PdfJob("pdf-a-1", "a-1", "a", "resume-1", 1, "classic", {"name": "Ada"})
    resumes.store_pdf(outputs["bucket"], job, b"%PDF-1.4 not rendered", s3=outputs["s3"])
    counts = resumes.flow_counts(
        resume_queues, db_path=tmp_path / "none.sqlite", bucket=outputs["bucket"], sqs=sqs, s3=outputs["s3"]
    )
    assert list(counts["stage"]) == [
        "resume updates", "resume updates DLQ", "PDF generation", "PDF generation DLQ",
        "notifications", "notifications DLQ", "database", "SES emails", "S3 bucket",
    ]  # fmt: skip
    assert counts.set_index("stage").loc["resume updates", "waiting"] == 4
    assert counts.set_index("stage").loc["S3 bucket", "waiting"] == 1
    ax = resumes.plot_flow(counts)
    labels = " ".join(t.get_text() for t in ax.texts)
    assert "4 waiting · 0 in flight" in labels and "Update processors" in labels
    assert "S3 bucket\n1 PDFs" in labels and "SES\n0 emails sent" in labels and "Email sender" in labels


def test_live_flow_keeps_every_reading_as_a_depth_series(sqs, resume_queues, tmp_path, capsys):
    import matplotlib

    matplotlib.use("Agg")
    from labsqs.metrics import plot_depth

    # GIVEN a live view fed three readings: 4 updates waiting, then 1 in flight, then the same again
    live = resumes.LiveFlow(every_seconds=60)
    resumes.queue_resume_updates(
        resume_queues.updates, resumes.sample_updates(users=2, updates_per_user=2), sqs=sqs
    )
    first = resumes.flow_counts(resume_queues, sqs=sqs)
    later = first.assign(waiting=[3, 0, 0, 0, 0, 0], in_flight=[1, 0, 0, 0, 0, 0])
    for reading in (first, later, later):
        live(reading)
    # THEN its history is a tidy series per queue that plot_depth draws
    history = live.history
    assert list(history.columns) == ["t_seconds", "queue", "visible", "in_flight"]
    updates = history[history["queue"] == "resume updates"]
    assert list(updates["visible"]) == [4, 3, 3] and list(updates["in_flight"]) == [0, 1, 1]
    assert plot_depth(history).get_legend() is not None
    capsys.readouterr()  # outside a notebook the figure's repr was printed


def test_labsqs_demo_resumes_reports_the_in_order_replay_and_draws_the_flow(engine_state, tmp_path, capsys):
    rc = cli.main(
        ["demo", "resumes", "--users", "2", "--updates", "3", "--failure-rate", "0.1", "--poison", "1",
         "--visibility", "1", "--wait", "1", "--out", str(tmp_path)]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert rc == 0
    assert "database matches the in-order replay of every user's updates: yes" in out
    assert "action must be one of" in out  # the poison update's reason
    assert (tmp_path / "flow.png").read_bytes().startswith(b"\x89PNG")
    # the bucket's objects and the inbox: 6 saved changes, 6 PDFs, each emailed once
    assert re.search(r"S3 bucket devresume-[0-9a-f]{6}-pdfs: 6 PDF objects", out)
    assert "6 emails, 6 PDFs emailed once, 0 more than once" in out
    assert "Your resume PDF is ready [pdf-u001-001]" in out
