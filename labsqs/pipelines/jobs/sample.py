"""The offline sample of JobPing's job postings: invented, deterministic, with exactly JobSpy's 34 columns.

Nothing here was scraped. Companies are fictional, URLs use the reserved ``example.com`` / ``.example``
domains, and salaries are plausible ranges by role, level and country. The same seed always gives the
same rows, so the shipped file can be checked against this generator (``tests/test_pipeline_jobs.py``)
and rebuilt with::

    python -c 'from labsqs.pipelines.jobs.sample import main; main()'   # rewrites labsqs/data/sample_jobs.csv

(not ``python -m``: the package imports this module first, and runpy warns about running it again).
"""

from __future__ import annotations

import random
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

SAMPLE_SEED = 2024
SAMPLE_ROWS = 60
POSTED_BEFORE = date(2025, 6, 2)  # rows are dated within the 21 days before this day
HOURS_PER_YEAR = 2080
MONTHS_PER_YEAR = 12

# JobSpy 1.4's JobPost fields, in its DataFrame's column order (checked against jobspy in the tests).
JOBSPY_COLUMNS: tuple[str, ...] = (
    "id", "site", "job_url", "job_url_direct", "title", "company", "location", "date_posted",
    "job_type", "salary_source", "interval", "min_amount", "max_amount", "currency", "is_remote",
    "job_level", "job_function", "listing_type", "emails", "description", "company_industry",
    "company_url", "company_logo", "company_url_direct", "company_addresses", "company_num_employees",
    "company_revenue", "company_description", "skills", "experience_range", "company_rating",
    "company_reviews_count", "vacancy_count", "work_from_home_type",
)  # fmt: skip

SITES = {"indeed": "in", "linkedin": "li", "glassdoor": "gd", "zip_recruiter": "zr", "google": "go"}

# (name, industry, size, revenue, one-line description)
COMPANIES = (
    ("Northwind Analytics", "Software Development", "201 to 500", "$25M to $100M (USD)",
     "Northwind Analytics turns retail sales data into weekly forecasts for 300 grocery chains."),
    ("Bluefin Payments", "Financial Services", "501 to 1,000", "$100M to $500M (USD)",
     "Bluefin Payments runs card acceptance for small merchants in North America and Europe."),
    ("Maple Grid Energy", "Utilities", "1,001 to 5,000", "$500M to $1B (USD)",
     "Maple Grid Energy balances solar and wind supply for regional power networks."),
    ("Orbitly", "Software Development", "51 to 200", "$5M to $25M (USD)",
     "Orbitly builds scheduling software for field-service teams."),
    ("Quillstack", "Internet Publishing", "11 to 50", "$1M to $5M (USD)",
     "Quillstack is a writing platform for technical documentation teams."),
    ("Lumen Freight", "Transportation & Logistics", "1,001 to 5,000", "$1B to $5B (USD)",
     "Lumen Freight moves less-than-truckload shipments across 40 states."),
    ("Cedar & Pine Insurance", "Insurance", "5,001 to 10,000", "$1B to $5B (USD)",
     "Cedar & Pine Insurance covers homes and small businesses."),
    ("Harbor Health Systems", "Hospitals and Health Care", "10,000+", "$5B to $10B (USD)",
     "Harbor Health Systems operates clinics and a patient portal used by two million people."),
    ("Pixelforge Games", "Computer Games", "201 to 500", "$25M to $100M (USD)",
     "Pixelforge Games makes online strategy games with seasonal live events."),
    ("Tidewater Bank", "Banking", "5,001 to 10,000", "$1B to $5B (USD)",
     "Tidewater Bank is a regional retail bank modernising its core systems."),
    ("Nimbus Retail Cloud", "Software Development", "501 to 1,000", "$100M to $500M (USD)",
     "Nimbus Retail Cloud hosts e-commerce storefronts for mid-size brands."),
    ("Greenleaf Robotics", "Automation Machinery Manufacturing", "51 to 200", "$5M to $25M (USD)",
     "Greenleaf Robotics builds picking robots for warehouses."),
    ("Atlas Learning", "E-Learning Providers", "201 to 500", "$25M to $100M (USD)",
     "Atlas Learning runs online courses for professional certifications."),
    ("Sundial Travel", "Travel Arrangements", "501 to 1,000", "$100M to $500M (USD)",
     "Sundial Travel sells package holidays through its apps and partner agencies."),
    ("Copperline Telecom", "Telecommunications", "1,001 to 5,000", "$500M to $1B (USD)",
     "Copperline Telecom provides fibre broadband to rural communities."),
)  # fmt: skip

# (city, state or None, jobspy country value, currency, salary factor vs. the US)
LOCATIONS = (
    ("San Francisco", "CA", "usa", "USD", 1.25),
    ("Seattle", "WA", "usa", "USD", 1.15),
    ("New York", "NY", "usa", "USD", 1.2),
    ("Austin", "TX", "usa", "USD", 1.0),
    ("Chicago", "IL", "usa", "USD", 0.98),
    ("Denver", "CO", "usa", "USD", 0.97),
    ("Atlanta", "GA", "usa", "USD", 0.93),
    ("Boston", "MA", "usa", "USD", 1.12),
    ("Raleigh", "NC", "usa", "USD", 0.9),
    ("Toronto", "ON", "canada", "CAD", 1.05),
    ("London", None, "uk", "GBP", 0.62),
    ("Berlin", None, "germany", "EUR", 0.62),
    ("Amsterdam", None, "netherlands", "EUR", 0.66),
)

# role -> (base US yearly salary for a mid-level engineer, skills the description names)
ROLES = {
    "Software Engineer": (135_000, ("Python", "Go", "PostgreSQL", "AWS", "Docker")),
    "Backend Engineer": (140_000, ("Python", "AWS SQS", "REST APIs", "PostgreSQL", "Kubernetes")),
    "Data Engineer": (138_000, ("Python", "SQL", "Airflow", "Spark", "AWS")),
    "Python Developer": (120_000, ("Python", "Django", "Celery", "Redis", "PostgreSQL")),
    "Site Reliability Engineer": (145_000, ("Linux", "Terraform", "AWS", "Prometheus", "Python")),
    "DevOps Engineer": (130_000, ("Terraform", "GitHub Actions", "AWS", "Docker", "Bash")),
    "Machine Learning Engineer": (155_000, ("Python", "PyTorch", "SQL", "AWS SageMaker", "Docker")),
    "Frontend Engineer": (125_000, ("TypeScript", "React", "CSS", "GraphQL", "Jest")),
    "Full Stack Developer": (128_000, ("TypeScript", "Node.js", "React", "PostgreSQL", "AWS Lambda")),
    "Platform Engineer": (148_000, ("Kubernetes", "Go", "AWS", "Event-driven architecture", "Terraform")),
    "Cloud Architect": (165_000, ("AWS", "Serverless", "SQS and SNS", "IAM", "Cost optimisation")),
    "Data Analyst": (95_000, ("SQL", "Python", "Tableau", "Excel", "Statistics")),
    "QA Automation Engineer": (110_000, ("Python", "Playwright", "CI pipelines", "API testing", "SQL")),
}

# level prefix -> (salary factor, LinkedIn's job_level, years of experience wanted)
LEVELS = {
    "Junior": (0.7, "entry level", "1+"),
    "": (1.0, "associate", "3+"),
    "Senior": (1.25, "mid-senior level", "5+"),
    "Staff": (1.45, "mid-senior level", "8+"),
    "Principal": (1.6, "director", "10+"),
    "Lead": (1.35, "mid-senior level", "7+"),
}
LEVEL_WEIGHTS = (3, 4, 5, 2, 1, 2)


def _slug(name: str) -> str:
    return "".join(c.lower() if c.isalnum() else "-" for c in name).strip("-").replace("--", "-")


def _location_text(city: str, state: str | None, country: str) -> str:
    """The way JobSpy shows a location: ``City, ST, USA`` / ``City, Germany``."""
    shown = country.upper() if country in ("usa", "uk") else country.title()
    return ", ".join(p for p in (city, state, shown) if p)


def _description(rng: random.Random, company: tuple[Any, ...], role: str, level: str, remote: bool) -> str:
    skills = list(ROLES[role][1])
    rng.shuffle(skills)
    years = LEVELS[level][2]
    title = f"{level} {role}".strip()
    where = "fully remote (we meet twice a year)" if remote else "hybrid, three days a week in the office"
    duties = rng.sample(
        [
            "design and run services that handle millions of events a day",
            "own features from the first sketch to production",
            "keep our queues, workers and databases healthy and observable",
            "review code and mentor engineers who joined recently",
            "work with product managers on what to build next",
            "turn slow batch jobs into asynchronous pipelines",
            "improve the reliability of our on-call rotation",
        ],
        3,
    )
    return (
        f"**About us**\n\n{company[4]}\n\n"
        f"**The role**\n\nAs a {title} you will {duties[0]}, {duties[1]} and {duties[2]}. "
        f"The position is {where}.\n\n"
        f"**You bring**\n\n"
        f"- {years} years of professional experience\n"
        + "".join(f"- hands-on experience with {s}\n" for s in skills[:4])
        + "\n**We offer** health insurance, a learning budget and 25 days of paid leave."
    )


def _salary(
    rng: random.Random, role: str, level: str, factor: float, job_type: str
) -> tuple[str | None, float | None, float | None]:
    """(interval, min, max) — None for postings that show no pay."""
    if rng.random() < 0.2:
        return None, None, None
    base = ROLES[role][0] * LEVELS[level][0] * factor
    low = round(base * rng.uniform(0.85, 0.95), -3)
    high = round(base * rng.uniform(1.08, 1.22), -3)
    if job_type == "contract":
        return "hourly", round(low / HOURS_PER_YEAR, 0), round(high / HOURS_PER_YEAR, 0)
    if factor < 0.7 and rng.random() < 0.3:
        return "monthly", round(low / MONTHS_PER_YEAR, -2), round(high / MONTHS_PER_YEAR, -2)
    return "yearly", low, high


def _row(rng: random.Random, index: int) -> dict[str, Any]:
    site = rng.choice(list(SITES))
    job_id = f"{SITES[site]}-{rng.getrandbits(48):012x}"
    company = rng.choice(COMPANIES)
    slug = _slug(company[0])
    role = rng.choice(list(ROLES))
    level = rng.choices(list(LEVELS), weights=LEVEL_WEIGHTS)[0]
    intern = rng.random() < 0.05
    if intern:
        level = "Junior"
    title = f"{role} Intern" if intern else f"{level} {role}".strip()
    if not intern and role in ("Data Analyst", "QA Automation Engineer") and level in ("Staff", "Principal"):
        title = f"Senior {role}"
        level = "Senior"
    city, state, country, currency, factor = rng.choice(LOCATIONS)
    remote = rng.random() < 0.3
    job_type = "internship" if intern else rng.choices(["fulltime", "contract", "parttime"], [14, 3, 1])[0]
    interval, low, high = _salary(rng, role, level, factor * (0.35 if intern else 1.0), job_type)
    posted = POSTED_BEFORE - timedelta(days=rng.randint(0, 20))
    linkedin, indeed, glassdoor = site == "linkedin", site == "indeed", site == "glassdoor"
    return {
        "id": job_id,
        "site": site,
        "job_url": f"https://jobs.example.com/{site}/{job_id}",
        "job_url_direct": f"https://careers.{slug}.example/jobs/{1000 + index}",
        "title": title,
        "company": company[0],
        "location": _location_text(city, state, country),
        "date_posted": posted.isoformat(),
        "job_type": job_type,
        "salary_source": ("direct_data" if rng.random() < 0.8 else "description") if interval else None,
        "interval": interval,
        "min_amount": low,
        "max_amount": high,
        "currency": currency if interval else None,
        "is_remote": remote,
        "job_level": ("internship" if intern else LEVELS[level][1]) if linkedin else None,
        "job_function": rng.choice(["Engineering", "Information Technology"]) if linkedin else None,
        "listing_type": rng.choice(["organic", "organic", "sponsored"]) if site == "zip_recruiter" else None,
        "emails": f"jobs@{slug}.example" if rng.random() < 0.15 else None,
        "description": _description(rng, company, role, level, remote),
        "company_industry": company[1] if (indeed or linkedin) else None,
        "company_url": f"https://jobs.example.com/companies/{slug}" if not site == "google" else None,
        "company_logo": f"https://jobs.example.com/logos/{slug}.png" if indeed else None,
        "company_url_direct": f"https://www.{slug}.example" if (indeed or glassdoor) else None,
        "company_addresses": _location_text(*rng.choice(LOCATIONS)[:3]) if indeed else None,
        "company_num_employees": company[2] if indeed else None,
        "company_revenue": company[3] if indeed else None,
        "company_description": company[4] if indeed else None,
        "skills": None,  # JobSpy fills these four from Naukri only
        "experience_range": None,
        "company_rating": round(rng.uniform(3.1, 4.7), 1) if glassdoor else None,
        "company_reviews_count": rng.randint(12, 2400) if glassdoor else None,
        "vacancy_count": None,
        "work_from_home_type": None,
    }


def generate_rows(rows: int = SAMPLE_ROWS, seed: int = SAMPLE_SEED) -> list[dict[str, Any]]:
    """``rows`` invented postings, sorted like JobSpy sorts them (site, then newest first)."""
    rng = random.Random(seed)
    out = [_row(rng, i) for i in range(rows)]
    out.sort(key=lambda r: (r["site"], -date.fromisoformat(r["date_posted"]).toordinal(), r["id"]))
    return out


def generate_csv_text(rows: int = SAMPLE_ROWS, seed: int = SAMPLE_SEED) -> str:
    """The sample as CSV text (what ``labsqs/data/sample_jobs.csv`` holds)."""
    import pandas as pd

    frame = pd.DataFrame(generate_rows(rows, seed), columns=list(JOBSPY_COLUMNS))
    return frame.to_csv(index=False, lineterminator="\n")


def main(argv: list[str] | None = None) -> int:
    target = Path(argv[0]) if argv else Path(__file__).resolve().parents[2] / "data" / "sample_jobs.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(generate_csv_text(), encoding="utf-8")
    print(f"wrote {SAMPLE_ROWS} invented job postings to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
