"""JobPing's "AI filter", which is not a language model: a message body checked into a :class:`JobPosting`
(:func:`parse_job`) and scored 0–100 by a deterministic scorer (:func:`score_job`: keywords, seniority,
salary, remote), so the lab runs offline and every run gives the same scores.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from labsqs.errors import InvalidJobPosting

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
