"""The resume builder's messages and rules: the seed's settings, the three message types (a resume update,
a PDF job, a "PDF ready" notification), the state machine every update goes through, and the injected
failures that stand for crashes.

Nothing here talks to AWS: the database (:mod:`.store`), the PDFs (:mod:`.pdf`), the queues and handlers
(:mod:`.stages`) and the run (:mod:`.run`) build on it.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from labsqs.errors import InvalidConsumerOption, InvalidResumeUpdate, ResumeStateError

# --- the seed's settings (the seed's values for its queues, not SQS's limits) -----------------------
DEFAULT_PREFIX = "devresume"
UPDATES_SUFFIX = "-resume-updates.fifo"
PDF_SUFFIX = "-pdf-generation"
NOTIFICATIONS_SUFFIX = "-notifications.fifo"
PDF_BUCKET_SUFFIX = "-pdfs"
VISIBILITY_TIMEOUT_SECONDS = 30  # the seed's CreateQueue: VisibilityTimeout '30'
RETENTION_SECONDS = 86_400  # MessageRetentionPeriod '86400' (1 day)
LONG_POLL_SECONDS = 20  # WaitTimeSeconds: 20
DLQ_AFTER_RECEIVES = 3  # RedrivePolicy maxReceiveCount: 3
DEFAULT_CONSUMERS = 3
DEFAULT_PDF_WORKERS = 2
UPDATES_PER_RECEIVE = 10  # a shared FIFO guard protects the followers (see "FIFO batches and the DLQ")
PDF_JOBS_PER_RECEIVE = 1  # spreads a small backlog over every worker
NOTIFICATIONS_PER_RECEIVE = 1  # one email per receive: a failure hands back nothing of the user's group
DEFAULT_EMAIL_SENDERS = 1

ACTIONS = ("CREATE", "UPDATE", "DELETE")
TEMPLATES = ("classic", "modern", "minimal")
DEFAULT_TEMPLATE = "classic"
MESSAGE_TYPE = "RESUME_UPDATE"
MAX_ID_CHARS = 64  # the lab's own bound on the ids it puts into SQS's group and deduplication ids

_ID = re.compile(r"[A-Za-z0-9_-]+")


# --- the message ------------------------------------------------------------------------------------
def _check_id(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_ID_CHARS or not _ID.fullmatch(value):
        raise InvalidResumeUpdate(
            f"{name} must be 1–{MAX_ID_CHARS} characters of letters, digits, '_' and '-', got {value!r}",
            hint=f"{name} ends up in SQS ids (message group user-{{userId}}, deduplication id updateId)",
        )
    return value


def _json_copy(value: Any, what: str) -> Any:
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError) as exc:
        raise InvalidResumeUpdate(f"{what} is not JSON: {exc}") from exc


@dataclass(frozen=True)
class ResumeUpdate:
    """The seed's ``ResumeUpdateMessage`` (``userId``, ``resumeId``, ``action``, ``template?``, ``data``)
    plus the ``updateId`` that makes it deduplicable. Checked when built.

    ``data`` of a CREATE is the whole resume (``name`` required); of an UPDATE, the top-level fields to
    change (a ``null`` value removes the field); of a DELETE, ignored.
    """

    update_id: str
    user_id: str
    resume_id: str
    action: str
    data: Mapping[str, Any] = field(default_factory=dict)
    template: str | None = None

    def __post_init__(self) -> None:
        _check_id(self.update_id, "updateId")
        _check_id(self.user_id, "userId")
        _check_id(self.resume_id, "resumeId")
        if self.action not in ACTIONS:
            raise InvalidResumeUpdate(f"action must be one of {', '.join(ACTIONS)}, got {self.action!r}")
        if self.template is not None and self.template not in TEMPLATES:
            raise InvalidResumeUpdate(
                f"template must be one of {', '.join(TEMPLATES)}, got {self.template!r}"
            )
        if not isinstance(self.data, Mapping):
            raise InvalidResumeUpdate(f"data must be an object, got {type(self.data).__name__}")
        object.__setattr__(self, "data", _json_copy(dict(self.data), "data"))
        if self.action == "CREATE" and not (isinstance(self.data.get("name"), str) and self.data["name"]):
            raise InvalidResumeUpdate("a CREATE needs data.name (the resume's owner)")
        if self.action == "UPDATE" and not self.data and self.template is None:
            raise InvalidResumeUpdate("an UPDATE needs data to change or a new template")

    @property
    def group_id(self) -> str:
        """The FIFO message group: one per user, so each user's updates stay in order."""
        return f"user-{self.user_id}"

    def to_message(self) -> dict[str, Any]:
        """The JSON body, in the seed's camelCase."""
        return {
            "updateId": self.update_id,
            "userId": self.user_id,
            "resumeId": self.resume_id,
            "action": self.action,
            "template": self.template,
            "data": dict(self.data),
        }

    @classmethod
    def from_message(cls, body: Any) -> ResumeUpdate:
        """From a parsed JSON body; :class:`~labsqs.errors.InvalidResumeUpdate` says what is wrong."""
        if not isinstance(body, Mapping):
            raise InvalidResumeUpdate(f"a resume update is a JSON object, got {type(body).__name__}")
        unknown = set(body) - {"updateId", "userId", "resumeId", "action", "template", "data"}
        if unknown:
            raise InvalidResumeUpdate(f"unknown fields {sorted(unknown)}")
        data = body.get("data")
        return cls(
            update_id=body.get("updateId"),  # type: ignore[arg-type]
            user_id=body.get("userId"),  # type: ignore[arg-type]
            resume_id=body.get("resumeId"),  # type: ignore[arg-type]
            action=body.get("action"),  # type: ignore[arg-type]
            data={} if data is None else data,
            template=body.get("template"),
        )

    @classmethod
    def parse(cls, text: str) -> ResumeUpdate:
        """From a message body (JSON text)."""
        try:
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidResumeUpdate(f"body is not JSON ({exc.msg} at column {exc.colno})") from exc
        return cls.from_message(body)


# --- what an update does: the state machine (shared by the database and the reference replay) ---------
@dataclass(frozen=True)
class ResumeState:
    """A stored resume: its template, its data, and how many changes it has had since its CREATE."""

    template: str
    data: Mapping[str, Any]
    version: int


def next_state(current: ResumeState | None, update: ResumeUpdate) -> ResumeState | None:
    """The resume after ``update`` (None: deleted). Raises :class:`~labsqs.errors.ResumeStateError` for
    a CREATE of a resume that exists, and an UPDATE or DELETE of one that does not."""
    where = f"resume {update.resume_id!r} of user {update.user_id!r}"
    if update.action == "CREATE":
        if current is not None:
            raise ResumeStateError(
                f"CREATE of {where}, which already exists", hint="send an UPDATE, or DELETE it first"
            )
        return ResumeState(update.template or DEFAULT_TEMPLATE, dict(update.data), 1)
    if current is None:
        raise ResumeStateError(f"{update.action} of {where}, which does not exist", hint="CREATE it first")
    if update.action == "DELETE":
        return None
    data = dict(current.data)
    for key, value in update.data.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return ResumeState(update.template or current.template, data, current.version + 1)


def expected_resumes(updates: Iterable[ResumeUpdate]) -> dict[tuple[str, str], ResumeState]:
    """The reference: apply ``updates`` one by one, in the given order, in memory — skipping repeated
    update ids (SQS deduplication) and updates that do not fit (they end in the DLQ).

    Sending each user's updates in order and processing them through the FIFO queue must give exactly
    this (only the order *within* a user matters: users never touch each other's resumes).
    """
    state: dict[tuple[str, str], ResumeState] = {}
    seen: set[str] = set()
    for update in updates:
        if update.update_id in seen:
            continue
        seen.add(update.update_id)
        key = (update.user_id, update.resume_id)
        try:
            after = next_state(state.get(key), update)
        except ResumeStateError:
            continue
        if after is None:
            state.pop(key, None)
        else:
            state[key] = after
    return state


# --- the PDF job ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PdfJob:
    """A message of the PDF queue: render this version of this resume. ``pdf_id`` names the file and
    deduplicates the notification."""

    pdf_id: str
    update_id: str
    user_id: str
    resume_id: str
    version: int
    template: str
    data: Mapping[str, Any]

    def to_message(self) -> dict[str, Any]:
        return {
            "pdfId": self.pdf_id,
            "updateId": self.update_id,
            "userId": self.user_id,
            "resumeId": self.resume_id,
            "version": self.version,
            "template": self.template,
            "data": dict(self.data),
        }

    @classmethod
    def parse(cls, text: str) -> PdfJob:
        try:
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidResumeUpdate(f"PDF job is not JSON ({exc.msg} at column {exc.colno})") from exc
        if not isinstance(body, Mapping):
            raise InvalidResumeUpdate(f"a PDF job is a JSON object, got {type(body).__name__}")
        version, template, data = body.get("version"), body.get("template"), body.get("data")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise InvalidResumeUpdate(f"PDF job version must be a whole number >= 1, got {version!r}")
        if template not in TEMPLATES:
            raise InvalidResumeUpdate(
                f"PDF job template must be one of {', '.join(TEMPLATES)}, got {template!r}"
            )
        if not isinstance(data, Mapping) or not isinstance(data.get("name"), str):
            raise InvalidResumeUpdate("PDF job data must be an object with a name")
        return cls(
            pdf_id=_check_id(body.get("pdfId"), "pdfId"),
            update_id=_check_id(body.get("updateId"), "updateId"),
            user_id=_check_id(body.get("userId"), "userId"),
            resume_id=_check_id(body.get("resumeId"), "resumeId"),
            version=version,
            template=template,
            data=dict(data),
        )

    def s3_key(self) -> str:
        """The PDF's object key in the bucket, ``{userId}/{resumeId}/{pdfId}.pdf``: fixed by the job, so a
        redelivered job overwrites its own object instead of adding one."""
        return f"{self.user_id}/{self.resume_id}/{self.pdf_id}.pdf"


def pdf_id_for(update_id: str) -> str:
    return f"pdf-{update_id}"


# --- the notification: the PDF is in S3, tell the user --------------------------------------------------
@dataclass(frozen=True)
class PdfReady:
    """A message of the notification queue: this user's PDF is in the bucket, tell them by email.
    ``notification_id`` is the PDF's id (the queue's deduplication id)."""

    notification_id: str
    user_id: str
    resume_id: str
    version: int
    name: str
    email: str
    bucket: str
    key: str

    @classmethod
    def for_job(cls, job: PdfJob, bucket: str, key: str) -> PdfReady:
        return cls(
            job.pdf_id,
            job.user_id,
            job.resume_id,
            job.version,
            str(job.data.get("name", "")),
            str(job.data.get("email") or ""),
            bucket,
            key,
        )

    def to_message(self) -> dict[str, Any]:
        return {
            "notificationId": self.notification_id,
            "type": "PDF_READY",
            "userId": self.user_id,
            "resumeId": self.resume_id,
            "version": self.version,
            "name": self.name,
            "email": self.email,
            "bucket": self.bucket,
            "key": self.key,
        }

    @classmethod
    def parse(cls, text: str) -> PdfReady:
        try:
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidResumeUpdate(f"notification is not JSON ({exc.msg} at column {exc.colno})") from exc
        if not isinstance(body, Mapping) or body.get("type") != "PDF_READY":
            raise InvalidResumeUpdate("a notification is a JSON object of type PDF_READY")
        email = body.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise InvalidResumeUpdate(
                f"notification {body.get('notificationId')!r} has no email address to send to, got {email!r}",
                hint="the resume's data needs an email field",
            )
        version, name, bucket, key = (body.get(k) for k in ("version", "name", "bucket", "key"))
        if not isinstance(version, int) or not isinstance(bucket, str) or not isinstance(key, str):
            raise InvalidResumeUpdate("a notification needs version, bucket and key")
        return cls(
            notification_id=_check_id(body.get("notificationId"), "notificationId"),
            user_id=_check_id(body.get("userId"), "userId"),
            resume_id=_check_id(body.get("resumeId"), "resumeId"),
            version=version,
            name=str(name or ""),
            email=email,
            bucket=bucket,
            key=key,
        )


# --- injected failures --------------------------------------------------------------------------------
class InjectedFailure(RuntimeError):
    """A failure injected on purpose: it stands for a crash at that point of the handler."""


class FailureInjector:
    """Fail handlers on purpose, deterministically: at ``point`` for message ``key`` on receive
    ``attempt``, fail when a hash of ``(seed, point, key, attempt)`` falls under ``rate``.

    Failures are *transient*: from receive ``spare_from_attempt`` on (default 3, the DLQ threshold) the
    message is spared, so injected failures cause retries, never dead letters. ``fired`` counts the
    failures per point. ``points`` limits injection to some points (default: all).
    """

    def __init__(
        self,
        rate: float,
        *,
        seed: int = 0,
        spare_from_attempt: int = DLQ_AFTER_RECEIVES,
        points: Iterable[str] | None = None,
    ) -> None:
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate < 1:
            raise InvalidConsumerOption(f"failure rate must be in [0, 1), got {rate!r}")
        if spare_from_attempt < 2:
            raise InvalidConsumerOption(
                f"spare_from_attempt must be >= 2 (1 would inject nothing), got {spare_from_attempt}"
            )
        self.rate = float(rate)
        self.seed = seed
        self.spare_from_attempt = spare_from_attempt
        self.points = frozenset(points) if points is not None else None
        self.fired: Counter[str] = Counter()
        self._lock = threading.Lock()

    def should_fail(self, point: str, key: str, attempt: int) -> bool:
        if self.rate == 0 or attempt >= self.spare_from_attempt:
            return False
        if self.points is not None and point not in self.points:
            return False
        digest = hashlib.sha256(f"{self.seed}|{point}|{key}|{attempt}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < self.rate

    def maybe_fail(self, point: str, key: str, attempt: int) -> None:
        """Raise :class:`InjectedFailure` if this (point, key, attempt) is one to fail."""
        if self.should_fail(point, key, attempt):
            with self._lock:
                self.fired[point] += 1
            raise InjectedFailure(f"{point} for {key} on receive {attempt}")

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.fired.values())

    def __repr__(self) -> str:
        return f"FailureInjector(rate={self.rate}, seed={self.seed}, fired={dict(self.fired)})"


def maybe_inject(injector: FailureInjector | None, point: str, key: str, attempt: int) -> None:
    if injector is not None:
        injector.maybe_fail(point, key, attempt)
