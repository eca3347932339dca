"""The resume builder's PDFs: rendered with reportlab (one deterministic A4 page per resume version) and
stored in S3 under a key fixed by the PDF job, so a redelivered job overwrites its own object.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from labsqs.base.calls import chunked, error_code
from labsqs.client import s3_client
from labsqs.errors import InvalidBucketName, InvalidResumeUpdate
from labsqs.pipelines.resumes.model import (
    DEFAULT_PREFIX,
    DEFAULT_TEMPLATE,
    PDF_BUCKET_SUFFIX,
    TEMPLATES,
    PdfJob,
)

if TYPE_CHECKING:
    import os

    import pandas as pd

# --- rendering ------------------------------------------------------------------------------------------
_TEMPLATE_STYLES = {
    # template: (bold font, regular font, accent RGB, centred header, side band)
    "classic": ("Times-Bold", "Times-Roman", (0.10, 0.20, 0.45), True, False),
    "modern": ("Helvetica-Bold", "Helvetica", (0.0, 0.50, 0.50), False, True),
    "minimal": ("Helvetica-Bold", "Helvetica", (0.35, 0.35, 0.35), False, False),
}
PAGE_MARGIN_POINTS = 56  # ~2 cm
SIDE_BAND_POINTS = 14


@dataclass
class _Page:
    """One A4 page being written top to bottom: ``y`` is where the next line goes; a line that does not
    fit above the bottom margin is dropped (the page never overflows onto a second one)."""

    pdf: Any  # reportlab's Canvas
    bold: str
    regular: str
    accent: tuple[float, float, float]
    centred: bool
    left: float
    width: float
    y: float

    @property
    def text_width(self) -> float:
        return self.width - self.left - PAGE_MARGIN_POINTS

    def line(
        self, text: str, font: str, size: float, *, color: tuple[float, float, float] = (0, 0, 0)
    ) -> bool:
        if self.y < PAGE_MARGIN_POINTS + size:
            return False
        self.pdf.setFont(font, size)
        self.pdf.setFillColorRGB(*color)
        if self.centred and font == self.bold and size >= 20:
            self.pdf.drawCentredString(self.width / 2, self.y, text)
        else:
            self.pdf.drawString(self.left, self.y, text)
        self.y -= size * 1.35
        return True

    def paragraph(self, text: str, font: str | None = None, size: float = 10.5) -> None:
        from reportlab.lib.utils import simpleSplit

        font = font or self.regular
        for chunk in simpleSplit(text, font, size, self.text_width):
            if not self.line(chunk, font, size):
                return

    def heading(self, text: str) -> None:
        self.y -= 6
        self.line(text.upper(), self.bold, 11, color=self.accent)
        self.pdf.setStrokeColorRGB(*self.accent)
        self.pdf.line(self.left, self.y + 9, self.left + self.text_width, self.y + 9)
        self.y -= 2


def render_resume_pdf(
    data: Mapping[str, Any], *, template: str = DEFAULT_TEMPLATE, version: int = 1
) -> bytes:
    """Render a resume as a one-page A4 PDF (with reportlab) and return its bytes.

    Text that does not fit is cut, never carried to a second page. The output is byte-for-byte the same
    for the same input (``invariant`` mode: no timestamps or random ids), so a re-rendered job stores the
    very same object again.
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    if template not in _TEMPLATE_STYLES:
        raise InvalidResumeUpdate(f"template must be one of {', '.join(TEMPLATES)}, got {template!r}")
    bold, regular, accent, centred, band = _TEMPLATE_STYLES[template]
    buffer = io.BytesIO()
    width, height = A4
    name = str(data.get("name", ""))
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    pdf.setTitle(f"Resume of {name}")
    pdf.setAuthor(name)
    pdf.setSubject(f"template {template}, version {version}")
    if band:
        pdf.setFillColorRGB(*accent)
        pdf.rect(0, 0, SIDE_BAND_POINTS, height, stroke=0, fill=1)
    left = PAGE_MARGIN_POINTS + (SIDE_BAND_POINTS if band else 0)
    page = _Page(pdf, bold, regular, accent, centred, left, width, height - PAGE_MARGIN_POINTS)
    _write_resume(page, data, name)
    pdf.setFont(regular, 8)
    pdf.setFillColorRGB(0.5, 0.5, 0.5)
    pdf.drawString(left, PAGE_MARGIN_POINTS / 2, f"{template} template · version {version}")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _write_resume(page: _Page, data: Mapping[str, Any], name: str) -> None:
    """The resume's sections, top to bottom: name, headline, contact, summary, experience, skills."""
    page.line(name, page.bold, 24, color=page.accent)
    if data.get("headline"):
        page.paragraph(str(data["headline"]), page.regular, 13)
    contact = " · ".join(str(data[k]) for k in ("email", "location") if data.get(k))
    if contact:
        page.paragraph(contact, page.regular, 10)
    if data.get("summary"):
        page.heading("Summary")
        page.paragraph(str(data["summary"]))
    experience = data.get("experience") or []
    if isinstance(experience, list) and experience:
        page.heading("Experience")
        for item in experience:
            if isinstance(item, Mapping):
                role = " — ".join(str(item[k]) for k in ("role", "company") if item.get(k))
                years = f" ({item['years']})" if item.get("years") else ""
                page.paragraph(role + years)
            else:
                page.paragraph(str(item))
    skills = data.get("skills") or []
    if isinstance(skills, list) and skills:
        page.heading("Skills")
        page.paragraph(", ".join(str(s) for s in skills))


_PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def pdf_page_count(pdf: bytes | str | os.PathLike[str]) -> int:
    """How many ``/Type /Page`` objects a PDF holds (a quick check without a PDF library)."""
    raw = pdf if isinstance(pdf, bytes) else Path(pdf).read_bytes()
    return len(_PAGE_OBJECT.findall(raw))


# --- S3: where the PDFs are stored (the seed's "Store in S3") --------------------------------------------
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
MAX_KEYS_PER_DELETE = 1_000  # DeleteObjects takes at most 1,000 keys
PDF_CONTENT_TYPE = "application/pdf"


def pdf_bucket_name(prefix: str = DEFAULT_PREFIX) -> str:
    """The PDF bucket of a pipeline: ``{prefix}-pdfs`` (bucket names are global on AWS: keep it unique)."""
    return f"{prefix}{PDF_BUCKET_SUFFIX}"


def ensure_pdf_bucket(bucket: str, *, s3: Any | None = None) -> str:
    """Create the S3 bucket the PDF workers store into (an existing bucket of yours is fine); returns it."""
    if not _BUCKET_NAME.fullmatch(bucket) or ".." in bucket:
        raise InvalidBucketName(
            f"{bucket!r} is not a valid S3 bucket name",
            hint="3–63 characters: lowercase letters, digits, '-' and '.', starting and ending with a "
            "letter or digit",
        )
    client = s3 if s3 is not None else s3_client()
    region = client.meta.region_name
    options: dict[str, Any] = {}
    if region and region != "us-east-1":  # us-east-1 is S3's default and refuses a LocationConstraint
        options["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        client.create_bucket(Bucket=bucket, **options)
    except ClientError as exc:
        code = error_code(exc)
        if code == "BucketAlreadyExists":
            raise InvalidBucketName(
                f"the bucket name {bucket!r} is taken by another AWS account",
                hint="bucket names are global across AWS: choose another prefix",
                code=code,
            ) from exc
        if code != "BucketAlreadyOwnedByYou":
            raise
    return bucket


def store_pdf(bucket: str, job: PdfJob, pdf: bytes, *, s3: Any | None = None) -> str:
    """``PutObject`` the PDF under the job's fixed key (:meth:`PdfJob.s3_key`); returns the key.

    A put is idempotent: storing the same job again replaces the object with the same bytes.
    """
    client = s3 if s3 is not None else s3_client()
    key = job.s3_key()
    client.put_object(
        Bucket=bucket,
        Key=key,
        Body=pdf,
        ContentType=PDF_CONTENT_TYPE,
        Metadata={"pdf-id": job.pdf_id, "version": str(job.version), "template": job.template},
    )
    return key


def list_pdfs(bucket: str, *, s3: Any | None = None) -> pd.DataFrame:
    """The bucket's objects (``ListObjectsV2``, every page): ``key``, ``pdf_id``, ``size``, ``etag``."""
    import pandas as pd

    client = s3 if s3 is not None else s3_client()
    rows = [
        {
            "key": o["Key"],
            "pdf_id": Path(o["Key"]).stem,
            "size": o["Size"],
            "etag": str(o.get("ETag", "")).strip('"'),
        }
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for o in page.get("Contents", [])
    ]
    return pd.DataFrame(rows, columns=["key", "pdf_id", "size", "etag"])


def read_pdf(bucket: str, key: str, *, s3: Any | None = None) -> bytes:
    """The bytes of one stored PDF (``GetObject``)."""
    client = s3 if s3 is not None else s3_client()
    return bytes(client.get_object(Bucket=bucket, Key=key)["Body"].read())


def pdf_versions(bucket: str, *, s3: Any | None = None) -> pd.DataFrame:
    """Every stored version of every object (``ListObjectVersions``): ``key``, ``version_id``, ``etag``,
    ``latest``. With versioning on (``PutBucketVersioning``) each put of a key keeps a version, so this
    shows how often a key was written — a redelivered PDF job adds a version of its key, not an object."""
    import pandas as pd

    client = s3 if s3 is not None else s3_client()
    rows = [
        {
            "key": v["Key"],
            "version_id": v.get("VersionId"),
            "etag": str(v.get("ETag", "")).strip('"'),
            "latest": bool(v.get("IsLatest")),
        }
        for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket)
        for v in page.get("Versions", [])
    ]
    return pd.DataFrame(rows, columns=["key", "version_id", "etag", "latest"])


def delete_pdf_bucket(bucket: str, *, s3: Any | None = None) -> None:
    """Delete every object of the bucket (every version, if versioning was on), then the bucket (a
    missing bucket is fine)."""
    client = s3 if s3 is not None else s3_client()
    try:
        entries = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket)
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for _, chunk in chunked(entries, MAX_KEYS_PER_DELETE):
            client.delete_objects(Bucket=bucket, Delete={"Objects": list(chunk), "Quiet": True})
        client.delete_bucket(Bucket=bucket)
    except ClientError as exc:
        if error_code(exc) != "NoSuchBucket":
            raise
