"""Looking at the resume builder's flow: where the messages are (:func:`flow_counts`), drawn as the seed's
diagram with live numbers (:func:`plot_flow`), and redrawn while the pipeline runs (:class:`LiveFlow`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from labsqs.base.calls import default_sqs, error_code
from labsqs.client import s3_client
from labsqs.metrics import queue_depth
from labsqs.pipelines.resumes.store import ResumeStore

if TYPE_CHECKING:
    import os

    import pandas as pd
    from matplotlib.axes import Axes
    from mypy_boto3_sqs import SQSClient

    from labsqs.pipelines.resumes.stages import ResumeQueues


# --- where the messages are ---------------------------------------------------------------------------
def flow_counts(
    queues: ResumeQueues,
    *,
    db_path: str | os.PathLike[str] | None = None,
    bucket: str | None = None,
    sqs: SQSClient | None = None,
    s3: Any | None = None,
) -> pd.DataFrame:
    """One row per box of the seed's diagram: each queue and DLQ (``waiting``, ``in_flight``) and, when
    given, the database (resumes stored, and the emails its ledger says SES accepted) and the S3 bucket
    (PDF objects stored). ``total`` sums a row."""
    import pandas as pd

    client = default_sqs(sqs)
    rows = _queue_rows(queues, client)
    if db_path is not None:
        counts = {"resumes": 0, "emails": 0}
        if Path(db_path).exists():
            with ResumeStore(db_path) as store:
                counts = store.counts()
        rows.append({"stage": "database", "kind": "store", "waiting": counts["resumes"], "in_flight": 0})
        rows.append({"stage": "SES emails", "kind": "store", "waiting": counts["emails"], "in_flight": 0})
    if bucket is not None:
        n = _object_count(bucket, s3 if s3 is not None else s3_client())
        rows.append({"stage": "S3 bucket", "kind": "store", "waiting": n, "in_flight": 0})
    frame = pd.DataFrame(rows, columns=["stage", "kind", "waiting", "in_flight"])
    frame["total"] = frame["waiting"] + frame["in_flight"]
    return frame


def _queue_rows(queues: ResumeQueues, sqs: SQSClient) -> list[dict[str, Any]]:
    labels = {
        queues.updates.url: ("resume updates", "fifo"),
        queues.pdf.url: ("PDF generation", "standard"),
        queues.notifications.url: ("notifications", "fifo"),
    }
    rows = []
    for q in (queues.updates, queues.pdf, queues.notifications):
        label, kind = labels[q.url]
        for name, handle, k in ((label, q, kind), (f"{label} DLQ", q.dlq, "dlq")):
            if handle is None:
                continue
            d = queue_depth(handle, sqs=sqs)
            rows.append(
                {"stage": name, "kind": k, "waiting": d.visible + d.delayed, "in_flight": d.in_flight}
            )
    return rows


def _object_count(bucket: str, s3: Any) -> int:
    """Objects in the bucket (0 while it does not exist yet)."""
    try:
        return sum(
            page.get("KeyCount", 0) for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        )
    except ClientError as exc:
        if error_code(exc) == "NoSuchBucket":
            return 0
        raise


# --- the picture --------------------------------------------------------------------------------------
# where each box of the seed's diagram goes (centre x, y in axes fractions) and its size
_LAYOUT = {
    "editor": (0.11, 0.89),
    "resume updates": (0.37, 0.89),
    "processor": (0.63, 0.89),
    "database": (0.89, 0.89),
    "resume updates DLQ": (0.11, 0.66),
    "PDF generation": (0.37, 0.40),
    "worker": (0.63, 0.40),
    "S3 bucket": (0.89, 0.40),
    "PDF generation DLQ": (0.11, 0.40),
    "notifications": (0.37, 0.10),
    "sender": (0.63, 0.10),
    "SES emails": (0.89, 0.10),
    "notifications DLQ": (0.11, 0.10),
}
_BOX_WIDTH, _BOX_HEIGHT = 0.2, 0.14
_ARROWS = (
    ("editor", "resume updates"),
    ("resume updates", "processor"),
    ("processor", "database"),
    ("resume updates", "resume updates DLQ"),
    ("processor", "PDF generation"),
    ("PDF generation", "worker"),
    ("worker", "S3 bucket"),
    ("PDF generation", "PDF generation DLQ"),
    ("worker", "notifications"),
    ("notifications", "sender"),
    ("sender", "SES emails"),
    ("notifications", "notifications DLQ"),
)
_STORE_LABELS = {
    "database": ("SQLite", "resumes"),
    "S3 bucket": ("S3 bucket", "PDFs"),
    "SES emails": ("SES", "emails sent"),
}


def _edge_points(start: str, end: str) -> tuple[tuple[float, float], tuple[float, float]]:
    """Where the line between two box centres leaves the first box and enters the second."""
    (x1, y1), (x2, y2) = _LAYOUT[start], _LAYOUT[end]
    dx, dy = x2 - x1, y2 - y1
    # fraction of the centre-to-centre segment that lies inside one box
    t = min(
        (_BOX_WIDTH / 2) / abs(dx) if dx else float("inf"),
        (_BOX_HEIGHT / 2) / abs(dy) if dy else float("inf"),
    )
    return (x1 + dx * t, y1 + dy * t), (x2 - dx * t, y2 - dy * t)


def plot_flow(counts: pd.DataFrame, ax: Axes | None = None, title: str | None = None) -> Axes:
    """The seed's diagram with live numbers: each queue shows its waiting / in-flight messages, DLQs turn
    red when they hold something, the database, the S3 bucket and SES show what they hold or sent.

    ``counts`` is a :func:`flow_counts` frame.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 6))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    texts = _box_texts(counts)
    for stage, (text, color) in texts.items():
        if stage in _LAYOUT:
            _draw_box(ax, _LAYOUT[stage], text, color)
    for start, end in _ARROWS:
        if start in texts and end in texts:
            tail, head = _edge_points(start, end)
            ax.annotate(
                "",
                xy=head,
                xytext=tail,
                xycoords="axes fraction",
                arrowprops={"arrowstyle": "-|>", "color": "#555555", "shrinkA": 2, "shrinkB": 2},
                zorder=2,
            )
    ax.set_title(title or "Resume builder: where the messages are")
    return ax


def _box_texts(counts: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Each box's text and colour: the workers' fixed labels, then one box per row of ``counts``."""
    texts = {
        "editor": ("Resume editor", "#eeeeee"),
        "processor": ("Update processors", "#eeeeee"),
        "worker": ("PDF workers", "#eeeeee"),
        "sender": ("Email sender", "#eeeeee"),
    }
    for row in counts.to_dict(orient="records"):
        stage = row["stage"]
        if row["kind"] == "store":
            label, noun = _STORE_LABELS[stage]
            texts[stage] = (f"{label}\n{row['waiting']} {noun}", "#d9f2d9")
        elif row["kind"] == "dlq":
            texts[stage] = (f"DLQ\n{row['total']} failed", "#f8c9c4" if row["total"] else "#fbeeed")
        else:
            kind = "FIFO" if row["kind"] == "fifo" else "standard"
            texts[stage] = (
                f"{stage}\n({kind})\n{row['waiting']} waiting · {row['in_flight']} in flight",
                "#d6e6f5",
            )
    return texts


def _draw_box(ax: Axes, centre: tuple[float, float], text: str, color: str) -> None:
    from matplotlib.patches import FancyBboxPatch

    x, y = centre
    ax.add_patch(
        FancyBboxPatch(
            (x - _BOX_WIDTH / 2, y - _BOX_HEIGHT / 2),
            _BOX_WIDTH,
            _BOX_HEIGHT,
            boxstyle="round,pad=0.005",
            facecolor=color,
            edgecolor="#555555",
            transform=ax.transAxes,
            zorder=1,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=8.5, transform=ax.transAxes, zorder=3)


class LiveFlow:
    """The flow picture, redrawn while the pipeline runs: ``run_resume_pipeline(..., progress=live)``.

    In a notebook it updates one figure in place — every ``every_seconds``, and whenever a reading repeats
    (so the final, drained state is always shown); ``history`` keeps
    every reading as a tidy frame (``t_seconds``, ``queue``, ``visible``, ``in_flight``) that
    :func:`labsqs.metrics.plot_depth` draws as counts per queue over time.
    """

    def __init__(self, every_seconds: float = 1.0, title: str = "Resume builder, live") -> None:
        self.every_seconds = every_seconds
        self.title = title
        self._frames: list[pd.DataFrame] = []
        self._started: float | None = None
        self._last_draw = float("-inf")
        self._previous_key: tuple[int, ...] | None = None
        self._drawn_key: tuple[int, ...] | None = None
        self._figure: Any = None
        self._handle: Any = None

    def __call__(self, counts: pd.DataFrame) -> None:
        now = time.monotonic()
        if self._started is None:
            self._started = now
        self._frames.append(counts.assign(t_seconds=round(now - self._started, 2)))
        key = tuple(counts["waiting"]) + tuple(counts["in_flight"])
        settled = key == self._previous_key and key != self._drawn_key  # the same reading twice: show it
        self._previous_key = key
        if settled or now - self._last_draw >= self.every_seconds:
            self.draw(counts)
            self._last_draw, self._drawn_key = now, key

    def draw(self, counts: pd.DataFrame | None = None) -> None:
        """Draw ``counts`` (default: the last reading) into the live figure."""
        import matplotlib.pyplot as plt
        from IPython.display import display

        if counts is None:
            if not self._frames:
                return
            counts = self._frames[-1]
        if self._figure is None:
            self._figure, _ = plt.subplots(figsize=(10, 6))
            plt.close(self._figure)  # shown through the display handle only, not again at the cell's end
        ax = self._figure.axes[0]
        ax.clear()
        plot_flow(counts, ax=ax, title=self.title)
        if self._handle is None:
            self._handle = display(self._figure, display_id=True)
        else:
            self._handle.update(self._figure)

    @property
    def history(self) -> pd.DataFrame:
        """Every reading of the queues (stores left out), for :func:`labsqs.metrics.plot_depth`."""
        import pandas as pd

        if not self._frames:
            return pd.DataFrame(columns=["t_seconds", "queue", "visible", "in_flight"])
        frame = pd.concat(self._frames, ignore_index=True)
        frame = frame[frame["kind"] != "store"].rename(columns={"stage": "queue", "waiting": "visible"})
        return frame[["t_seconds", "queue", "visible", "in_flight"]].reset_index(drop=True)
