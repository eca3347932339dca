"""Email through SES (labsqs.mail): the verified sender AWS requires, SendEmail, and the engine's inbox."""

from __future__ import annotations

import socket
import uuid

import boto3
import pytest

from labsqs.client import ses_client
from labsqs.errors import SenderNotVerified
from labsqs.mail import email_address, read_inbox, send_email, verify_sender


@pytest.fixture(scope="module")
def ses(engine_state):
    return ses_client(engine_state.endpoint)


def _sender() -> str:
    return f"Lab Tests <tests+{uuid.uuid4().hex[:8]}@devresume.example>"


def test_ses_refuses_an_unverified_sender_and_says_how_to_verify_it(ses):
    sender = _sender()
    with pytest.raises(SenderNotVerified, match="verify_sender") as caught:
        send_email(sender, "ada@example.com", "Hello", "never sent", ses=ses)
    assert caught.value.code == "MessageRejected"
    assert read_inbox(sender, ses=ses).empty


def test_a_verified_sender_sends_and_the_inbox_lists_exactly_its_emails(ses):
    # GIVEN two verified senders ("Name <address>": SES verifies the bare address)
    sender, other = verify_sender(_sender(), ses=ses), verify_sender(_sender(), ses=ses)
    status = ses.get_identity_verification_attributes(Identities=[email_address(sender)])
    assert status["VerificationAttributes"][email_address(sender)]["VerificationStatus"] == "Success"
    # WHEN each sends; SendEmail is not idempotent: the same call twice is two emails
    first = send_email(sender, "ada@example.com", "Your PDF", "line 1\nline 2", ses=ses)
    second = send_email(sender, "ada@example.com", "Your PDF", "line 1\nline 2", ses=ses)
    send_email(other, ["grace@example.com", "linus@example.com"], "Other", "x", ses=ses)
    # THEN the inbox, read per sender, holds exactly what each sent
    inbox = read_inbox(sender, ses=ses)
    assert sorted(inbox["message_id"]) == sorted([first, second]) and first != second
    assert list(inbox["to"]) == ["ada@example.com"] * 2 and list(inbox["text"]) == ["line 1\nline 2"] * 2
    assert list(read_inbox(other, ses=ses)["to"]) == ["grace@example.com, linus@example.com"]


def test_on_aws_there_is_no_inbox_to_read_and_no_request_is_made(monkeypatch):
    # GIVEN a client for AWS's regional SES endpoint (no developer endpoint there)
    for var in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    aws = boto3.client("ses", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y")
    monkeypatch.setattr("urllib.request.urlopen", lambda *a, **k: pytest.fail("no request on AWS"))
    # THEN the mail went to the users' real inboxes: read_inbox says so with None
    assert read_inbox(ses=aws) is None


def test_on_the_moto_engine_the_inbox_is_read_from_its_model_dump():
    from moto.server import ThreadedMotoServer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        # GIVEN moto's server (the lab's engine of last resort), which has no /_aws/ses
        ses = ses_client(f"http://127.0.0.1:{port}")
        sender = verify_sender(_sender(), ses=ses)
        # WHEN an email is sent
        sent = send_email(sender, "ada@example.com", "Your PDF", "the link", ses=ses)
        # THEN the inbox reader still finds it, with everything but the time
        inbox = read_inbox(sender, ses=ses)
        assert list(inbox["message_id"]) == [sent] and list(inbox["text"]) == ["the link"]
        assert list(inbox["to"]) == ["ada@example.com"] and inbox["sent_at"].isna().all()
    finally:
        server.stop()
