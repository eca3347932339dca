"""Email through Amazon SES: a verified sender, ``SendEmail``, and (on the lab's engine) the inbox.

SQS does not send email; a consumer does, by calling a mail service. On AWS that is SES (Simple Email
Service), and SES checks two things before it sends:

- **The sender is a verified identity.** ``VerifyEmailIdentity`` registers an address; on AWS, SES then
  mails it a link and refuses (``MessageRejected``: "Email address not verified") to send from it until
  someone clicks that link. A verified *domain* (DNS records) covers every address at it. The lab's
  LocalStack verifies at once, but refuses unverified senders just like AWS — so the code is the same.
- **In the SES sandbox** (every new AWS account) recipients must be verified too, and you may send 200
  emails a day, 1 a second; botocore's ``standard`` retries back off on SES's ``Throttling`` answer.

``SendEmail`` is **not idempotent**: it has no idempotency token, and every call is one more email in
someone's inbox. A consumer that may see a message twice (SQS delivers at least once) must remember what
it sent — see the email sender of :mod:`labsqs.pipelines.resumes`.

What was sent? On AWS the mail goes to the recipient's real inbox, and SES has no API that lists sent
emails. The lab's LocalStack keeps every email it "sent" and lists them at its developer endpoint
``GET /_aws/ses`` (``?email=<sender>`` filters by the exact ``Source``): :func:`read_inbox` reads it (and
moto's model dump on the moto engine).

>>> sender = verify_sender("DevResume <no-reply@devresume.example>")
>>> send_email(sender, "ada@example.com", "Hello", "Your resume is ready.")
'...'
>>> read_inbox(sender)[["to", "subject"]]
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from labsqs.base.developer import developer_endpoint
from labsqs.client import ses_client
from labsqs.errors import SenderNotVerified

if TYPE_CHECKING:
    import pandas as pd

INBOX_PATH = "/_aws/ses"  # LocalStack's list of the emails SES sent
MOTO_MODELS_PATH = "/moto-api/data.json"  # moto's server: every model instance, sent emails included
INBOX_TIMEOUT_SECONDS = 5.0
INBOX_COLUMNS = ["message_id", "sent_at", "source", "to", "subject", "text"]


def email_address(sender: str) -> str:
    """The bare address of ``"Name <address>"`` (or of a bare address): what SES verifies."""
    return parseaddr(sender)[1]


def verify_sender(sender: str, *, ses: Any | None = None) -> str:
    """Register ``sender`` (``"Name <address>"`` or an address) as an SES identity; returns ``sender``.

    On the lab's engine it is verified at once. On AWS, SES mails the address a confirmation link and
    refuses to send from it until the link is clicked (``VerificationStatus`` ``Pending``, then ``Success``).
    """
    client = ses if ses is not None else ses_client()
    client.verify_email_identity(EmailAddress=email_address(sender))
    return sender


def send_email(
    sender: str, to: str | Sequence[str], subject: str, text: str, *, ses: Any | None = None
) -> str:
    """One plain-text email through SES's ``SendEmail``; returns SES's ``MessageId``.

    Every call sends one more email (SES cannot deduplicate). :class:`~labsqs.errors.SenderNotVerified`
    when SES refuses the sender.
    """
    client = ses if ses is not None else ses_client()
    recipients = [to] if isinstance(to, str) else list(to)
    try:
        answer = client.send_email(
            Source=sender,
            Destination={"ToAddresses": recipients},
            Message={
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": text, "Charset": "UTF-8"}},
            },
        )
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") == "MessageRejected" and "not verified" in str(error.get("Message", "")):
            raise SenderNotVerified(
                f"SES refused to send from {sender!r}: it is not a verified identity",
                hint="verify it first with labsqs.mail.verify_sender(sender) (on AWS: click the link SES "
                "mails to that address)",
                code="MessageRejected",
            ) from exc
        raise
    return str(answer["MessageId"])


def read_inbox(sender: str | None = None, *, ses: Any | None = None) -> pd.DataFrame | None:
    """The emails SES sent (from ``sender``'s address, or all), oldest first — on a local engine only.

    Reads LocalStack's developer endpoint ``GET /_aws/ses`` (on moto's server, the engine of last resort,
    its model dump ``/moto-api/data.json``, which has no send times). One row per email: ``message_id``
    (SES's ``MessageId``, as ``SendEmail`` returned it), ``sent_at``, ``source``, ``to`` (the
    ``ToAddresses``, comma-separated), ``subject`` and ``text`` (the plain-text body).

    ``None`` on AWS: there the mail went to each recipient's real inbox, and SES cannot list what it sent
    (its sending statistics only count).
    """
    import pandas as pd

    client = ses if ses is not None else ses_client()
    endpoint = developer_endpoint(client)
    if endpoint is None:
        return None
    messages = _localstack_inbox(endpoint)
    if messages is None:
        messages = _moto_inbox(endpoint)
    if messages is None:
        return None
    wanted = email_address(sender) if sender is not None else None
    rows = [m for m in messages if wanted is None or email_address(str(m["source"] or "")) == wanted]
    frame = pd.DataFrame(rows, columns=INBOX_COLUMNS)
    frame["sent_at"] = pd.to_datetime(frame["sent_at"], utc=True)
    return frame.sort_values(["sent_at", "message_id"], kind="stable").reset_index(drop=True)


def _get_json(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=INBOX_TIMEOUT_SECONDS) as response:
            return json.loads(response.read().decode())
    except (urllib.error.URLError, OSError, ValueError):
        return None  # not this engine's endpoint


def _localstack_inbox(endpoint: str) -> list[dict[str, Any]] | None:
    answer = _get_json(f"{endpoint}{INBOX_PATH}")
    if not isinstance(answer, dict) or not isinstance(answer.get("messages"), list):
        return None
    return [
        {
            "message_id": m.get("Id"),
            "sent_at": m.get("Timestamp"),
            "source": m.get("Source"),
            "to": ", ".join((m.get("Destination") or {}).get("ToAddresses", [])),
            "subject": m.get("Subject"),
            "text": (m.get("Body") or {}).get("text_part"),
        }
        for m in answer["messages"]
    ]


def _moto_inbox(endpoint: str) -> list[dict[str, Any]] | None:
    answer = _get_json(f"{endpoint}{MOTO_MODELS_PATH}")
    if not isinstance(answer, dict) or not isinstance(answer.get("ses"), dict):
        return None
    return [
        {
            "message_id": m.get("id"),
            "sent_at": None,
            "source": m.get("source"),
            "to": ", ".join((m.get("destinations") or {}).get("ToAddresses", [])),
            "subject": m.get("subject"),
            "text": m.get("body"),
        }
        for m in answer["ses"].get("Message", [])
    ]
