"""Sample data for the resume builder: a deterministic editing session of a few users, interleaved as if
they typed at the same time (:func:`sample_updates`)."""

from __future__ import annotations

import random
from typing import Any

from labsqs.errors import InvalidResumeUpdate
from labsqs.pipelines.resumes.model import TEMPLATES, ResumeUpdate

_FIRST = ("Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Alan", "Radia")
_LAST = (
    "Lovelace",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Thompson",
    "Liskov",
    "Ritchie",
    "Allen",
    "Kay",
    "Perlman",
)
_HEADLINES = (
    "Backend Engineer",
    "Senior Backend Engineer",
    "Staff Engineer, Messaging",
    "Platform Engineer",
    "Senior Platform Engineer",
    "Engineering Lead, Queues",
)
_SKILLS = ("Python", "SQS", "Lambda", "PostgreSQL", "Terraform", "Go", "Kafka", "Docker", "React", "SQLite")
_COMPANIES = ("Northwind", "Contoso", "Fabrikam", "Globex", "Initech", "Umbrella")


def _resume(rng: random.Random, user_index: int) -> dict[str, Any]:
    name = f"{_FIRST[user_index % len(_FIRST)]} {_LAST[(user_index * 3) % len(_LAST)]}"
    handle = name.lower().replace(" ", ".")
    jobs = rng.sample(_COMPANIES, 2)
    return {
        "name": name,
        "headline": _HEADLINES[0],
        "email": f"{handle}@example.com",
        "location": rng.choice(["Berlin", "Lisbon", "Toronto", "Austin", "Remote"]),
        "summary": "Builds reliable, message-driven backends; likes small services that fail loudly "
        "and recover on their own.",
        "experience": [
            {"role": "Software Engineer", "company": jobs[0], "years": "2019–2022"},
            {"role": "Backend Engineer", "company": jobs[1], "years": "2022–today"},
        ],
        "skills": sorted(rng.sample(_SKILLS, 4)),
    }


def sample_updates(users: int = 4, updates_per_user: int = 5, *, seed: int = 0) -> list[ResumeUpdate]:
    """A deterministic editing session: each user CREATEs a resume, then UPDATEs it (headline, skills,
    template — later values overwrite earlier ones, so order shows); every third user DELETEs it and
    CREATEs it again. Users' updates are interleaved, as if they typed at the same time."""
    if users < 1 or updates_per_user < 1:
        raise InvalidResumeUpdate(
            f"need users >= 1 and updates_per_user >= 1, got {users}, {updates_per_user}"
        )
    rng = random.Random(seed)
    per_user: list[list[ResumeUpdate]] = []
    for u in range(users):
        user_id = f"u{u + 1:03d}"
        resume = _resume(rng, u)
        steps: list[ResumeUpdate] = []
        exists = False
        for n in range(updates_per_user):
            update_id = f"{user_id}-{n + 1:03d}"
            recreate = u % 3 == 2 and n == updates_per_user - 2 and n > 0
            if not exists:
                template = rng.choice(TEMPLATES)
                steps.append(ResumeUpdate(update_id, user_id, "resume-1", "CREATE", resume, template))
                exists = True
            elif recreate:
                steps.append(ResumeUpdate(update_id, user_id, "resume-1", "DELETE"))
                exists = False
            else:
                change = rng.choice(("headline", "skills", "template", "summary"))
                if change == "headline":
                    data: dict[str, Any] = {
                        "headline": f"{_HEADLINES[(n + u) % len(_HEADLINES)]} (rev {n + 1})"
                    }
                    steps.append(ResumeUpdate(update_id, user_id, "resume-1", "UPDATE", data))
                elif change == "skills":
                    skills = sorted(rng.sample(_SKILLS, 3 + n % 3))
                    steps.append(ResumeUpdate(update_id, user_id, "resume-1", "UPDATE", {"skills": skills}))
                elif change == "template":
                    template = TEMPLATES[(n + u) % len(TEMPLATES)]
                    data = {"headline": f"{_HEADLINES[n % len(_HEADLINES)]} (rev {n + 1})"}
                    steps.append(ResumeUpdate(update_id, user_id, "resume-1", "UPDATE", data, template))
                else:
                    data = {"summary": f"Revision {n + 1}: " + resume["summary"]}
                    steps.append(ResumeUpdate(update_id, user_id, "resume-1", "UPDATE", data))
        per_user.append(steps)
    interleaved: list[ResumeUpdate] = []
    for n in range(updates_per_user):
        interleaved.extend(steps[n] for steps in per_user)
    return interleaved
