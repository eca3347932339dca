"""The report of a load run: a tidy CSV (a row per configuration), PNG plots and a one-page Markdown summary.

matplotlib (no pyplot: no global state, no GUI backend) and pandas are imported inside the functions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labsqs.base.limits import FIFO_MESSAGES_PER_SECOND_BATCHED, FIFO_TPS_PER_ACTION, MAX_BATCH_ENTRIES
from labsqs.load.analysis import PLANNER_TOLERANCE

if TYPE_CHECKING:
    import pandas as pd

    from labsqs.load.analysis import RunResult


@dataclass(frozen=True)
class EngineInfo:
    name: str
    version: str
    endpoint: str | None
    extra: dict[str, str] = field(default_factory=dict)


def write_report(results: Sequence[RunResult], run_dir: Path, engine_info: EngineInfo) -> dict[str, Path]:
    """Write ``results.csv``, the PNG plots and ``summary.md`` into ``run_dir``; returns their paths."""
    import pandas as pd

    frame = pd.DataFrame([r.row for r in results])
    frame.insert(0, "engine", engine_info.name)
    frame.insert(1, "engine_version", engine_info.version)
    paths = {"csv": run_dir / "results.csv"}
    frame.to_csv(paths["csv"], index=False)
    throughput = frame[frame.scenario == "throughput"]
    visibility = frame[frame.scenario == "visibility"]
    if len(throughput):
        paths["throughput_png"] = plot_throughput(throughput, run_dir / "throughput.png", engine_info)
    paths["latency_png"] = plot_latency(frame, run_dir / "latency.png", engine_info)
    if len(visibility):
        paths["visibility_png"] = plot_visibility(visibility, run_dir / "visibility.png", engine_info)
    paths["summary"] = run_dir / "summary.md"
    paths["summary"].write_text(render_summary(frame, results, engine_info, paths))
    return paths


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _kind_label(row: Any) -> str:
    return "standard" if row["queue_type"] == "standard" else f"FIFO {int(row['groups'])} group(s)"


def plot_throughput(frame: pd.DataFrame, path: Path, engine_info: EngineInfo) -> Path:
    """Processed msg/s by queue kind, consumers as bars, one panel per batch size."""
    frame = frame.assign(kind=frame.apply(_kind_label, axis=1))
    kinds = list(dict.fromkeys(frame.kind))
    batches = sorted(frame.batch_size.unique())
    consumers = sorted(frame.consumers.unique())
    fig = _figure(5.2 * len(batches), 4.2)
    axes = fig.subplots(1, len(batches), squeeze=False)[0]
    width = 0.8 / len(consumers)
    for ax, batch in zip(axes, batches, strict=True):
        sub = frame[frame.batch_size == batch]
        for j, n in enumerate(consumers):
            values = [sub[(sub.kind == k) & (sub.consumers == n)].processed_per_s.sum() for k in kinds]
            xs = [i + (j - (len(consumers) - 1) / 2) * width for i in range(len(kinds))]
            bars = ax.bar(xs, values, width, label=f"{n} consumer(s)")
            ax.bar_label(bars, fmt="%.0f", fontsize=7)
        ax.set_xticks(range(len(kinds)), kinds, rotation=20, ha="right", fontsize=8)
        ax.set_title(f"batch size {batch}")
        ax.set_ylabel("processed messages/s")
        ax.legend(fontsize=8)
    fig.suptitle(f"Throughput by configuration — {engine_info.name} {engine_info.version}", fontsize=10)
    fig.savefig(path)
    return path


def plot_latency(frame: pd.DataFrame, path: Path, engine_info: EngineInfo) -> Path:
    """End-to-end latency percentiles (send → processed) per configuration."""
    frame = frame.reset_index(drop=True)
    fig = _figure(8, 0.32 * len(frame) + 1.6)
    ax = fig.subplots()
    ys = range(len(frame))
    for column, label, shift in (
        ("e2e_p50_ms", "p50", -0.2),
        ("e2e_p95_ms", "p95", 0.0),
        ("e2e_p99_ms", "p99", 0.2),
    ):
        ax.barh([y + shift for y in ys], frame[column].fillna(0), 0.2, label=label)
    ax.set_yticks(
        list(ys),
        [f"{s[:3]} · {c}" for s, c in zip(frame.scenario, frame.configuration, strict=True)],
        fontsize=7,
    )
    ax.invert_yaxis()
    positive = frame[["e2e_p50_ms", "e2e_p95_ms", "e2e_p99_ms"]].to_numpy().ravel()
    positive = positive[positive > 0]
    ax.set_xscale("log")
    if len(positive):
        ax.set_xlim(left=max(1.0, float(positive.min()) / 2))
    ax.set_xlabel("end-to-end latency, ms (send → deleted after processing)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(f"Latency percentiles — {engine_info.name} {engine_info.version}", fontsize=10)
    fig.savefig(path)
    return path


def plot_visibility(frame: pd.DataFrame, path: Path, engine_info: EngineInfo) -> Path:
    """Duplicates and DLQ arrivals, and recovery time after a crash, against the visibility timeout."""
    frame = frame.sort_values("visibility_timeout_s")
    vt = frame.visibility_timeout_s
    fig = _figure(10, 4)
    left, right = fig.subplots(1, 2)
    left.plot(vt, frame.duplicates, "o-", label="duplicate processing")
    left.plot(vt, frame.dlq, "s-", label="messages in the DLQ")
    left.plot(vt, frame.dlq_also_processed, "v:", label="… of which processed anyway")
    left.plot(vt, frame.redeliveries, "^--", label="redeliveries (all causes)", alpha=0.6)
    left.set_xlabel("visibility timeout (s)")
    left.set_ylabel("messages")
    left.set_title("too short: duplicates and dead letters", fontsize=9)
    left.legend(fontsize=8)
    right.plot(vt, frame.recovery_p50_s, "o-", label="recovery after a crash, median")
    right.plot(vt, frame.recovery_max_s, "s--", label="recovery after a crash, max")
    right.plot(vt, frame.e2e_p95_ms / 1000.0, "^-", label="end-to-end latency p95")
    right.set_xlabel("visibility timeout (s)")
    right.set_ylabel("seconds")
    right.set_title("too long: slow recovery", fontsize=9)
    right.legend(fontsize=8)
    fig.suptitle(f"Visibility timeout trade-off — {engine_info.name} {engine_info.version}", fontsize=10)
    fig.savefig(path)
    return path


def _md_table(frame: pd.DataFrame, columns: Sequence[str]) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return "–" if math.isnan(value) else f"{value:,.1f}".rstrip("0").rstrip(".")
        return str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for _, row in frame.iterrows():
        lines.append("| " + " | ".join(cell(row[c]) for c in columns) + " |")
    return "\n".join(lines)


def _speedup(frame: pd.DataFrame, kind: str, batch: int) -> float | None:
    sub = frame[(frame.kind == kind) & (frame.batch_size == batch)]
    one = sub[sub.consumers == sub.consumers.min()].processed_per_s
    many = sub[sub.consumers == sub.consumers.max()].processed_per_s
    if len(one) and len(many) and one.iloc[0] > 0 and sub.consumers.nunique() > 1:
        return float(many.iloc[0] / one.iloc[0])
    return None


THROUGHPUT_TABLE = (
    "configuration sent_per_s processed_per_s e2e_p50_ms e2e_p95_ms duplicates queued balanced aws_cap"
).split()
VISIBILITY_TABLE = (
    "visibility_timeout_s processed_per_s duplicates redeliveries crashes recovery_p50_s recovery_max_s dlq "
    "dlq_also_processed e2e_p50_ms e2e_p95_ms balanced"
).split()
FIFO_FINDING = (
    "- with one FIFO group the group lock makes a single lane: extra consumers wait; with many groups they "
    "work in parallel, as on a standard queue."
)
LATENCY_FINDING = (
    "- end-to-end latency here includes the wait behind the backlog a flat-out producer builds; "
    "scenario 2's paced producer shows latency set by the handlers."
)
AWS_FINDING = (
    f"- real AWS caps FIFO at {FIFO_TPS_PER_ACTION} requests/s per action and partition "
    f"({FIFO_MESSAGES_PER_SECOND_BATCHED:,} msg/s with batches of {MAX_BATCH_ENTRIES}; high-throughput "
    "FIFO scales per group); standard queues have no such cap. The lab engine's figures "
    "measure this machine (client and engine on the same cores), not AWS."
)
VISIBILITY_FINDING = (
    "- too short → slow handlers are overtaken (duplicates; good messages dead-lettered); too long → a "
    "crashed consumer's message waits out the whole timeout. Choose a timeout above the handler's p99 "
    "and extend the visibility (heartbeat) for the rare slow message."
)


def _visibility_point(row: Any) -> str:
    return (
        f"- {row.visibility_timeout_s} s: {row.duplicates} duplicate processing(s), {row.dlq} message(s) in "
        f"the DLQ, recovery after a crash {row.recovery_p50_s} s (median)"
    )


def _load_processes_line(frame: pd.DataFrame) -> list[str]:
    if "load_processes" not in frame.columns:
        return []
    counts = sorted({int(n) for n in frame.load_processes if n == n})
    text = ", ".join(str(n) for n in counts)
    return [f"- load processes per run (that ran users, each with its own event log): {text}"]


PLANNER_TABLE = (
    "configuration processed_per_s model_processed_per_s ratio_processed e2e_p50_ms model_e2e_p50_ms "
    "ratio_e2e_p50 model_notes"
).split()


def ratio_range(frame: pd.DataFrame, column: str) -> str:
    ratios = frame[column].dropna()
    if not len(ratios):
        return f"{column}: no figures"
    worst = frame.loc[(frame[column] - 1).abs().idxmax()]
    inside = int(((ratios - 1).abs() <= PLANNER_TOLERANCE).sum())
    return (
        f"{ratios.min():.2f}–{ratios.max():.2f}, worst {worst[column]:.2f} ({worst.configuration}); "
        f"{inside} of {len(ratios)} within ±{PLANNER_TOLERANCE:.0%}"
    )


def render_planner_check(frame: pd.DataFrame) -> list[str]:
    """Predicted (labsqs.plan, from each run's measured latency and handler time) beside measured."""
    if "ratio_processed" not in frame.columns or not frame.ratio_processed.notna().any():
        return []
    lines = [
        "## The planner's prediction beside the measurement",
        "",
        "`labsqs.plan` predicts each run from that run's own inputs (when each message was sent, mean send, "
        "receive and delete latency, measured handler time, processed count): processed msg/s = lanes × "
        "batch / (receive + batch × handler + delete), lanes = consumers (FIFO: at most one per group); "
        "e2e p50 = the send + the backlog ahead of the median message (Little's law, step by step) + its "
        "handling. Ratios are predicted / measured; a note names the model assumption a run broke.",
        "",
    ]
    for scenario, sub in frame.groupby("scenario", sort=False):
        lines.append(f"- {scenario}: processed msg/s {ratio_range(sub, 'ratio_processed')}")
        lines.append(f"- {scenario}: e2e p50 {ratio_range(sub, 'ratio_e2e_p50')}")
    table = frame.assign(
        ratio_processed=frame.ratio_processed.map("{:.2f}".format),
        ratio_e2e_p50=frame.ratio_e2e_p50.map("{:.2f}".format),
    )
    return [*lines, "", _md_table(table, PLANNER_TABLE), ""]


def _summary_head(frame: pd.DataFrame, engine_info: EngineInfo) -> list[str]:
    where = engine_info.endpoint or "AWS (regional)"
    return [
        "# labsqs bench — summary",
        "",
        f"- engine: **{engine_info.name} {engine_info.version}** at {where}",
        *(f"- {k}: {v}" for k, v in engine_info.extra.items()),
        f"- configurations: {len(frame)}; each run bounded in time and messages; Locust CSVs and the lab's "
        "event logs in `raw/`",
        *_load_processes_line(frame),
        "",
    ]


def _throughput_section(frame: pd.DataFrame) -> list[str]:
    throughput = frame[frame.scenario == "throughput"].copy()
    if not len(throughput):
        return []
    throughput["kind"] = throughput.apply(_kind_label, axis=1)
    handler = throughput.handler_time.iloc[0]
    lines = [f"## Scenario 1 — throughput (handler time {handler} s a message)", ""]
    for batch in sorted(throughput.batch_size.unique()):
        speedups = [(k, _speedup(throughput, k, batch)) for k in dict.fromkeys(throughput.kind)]
        found = [f"{k} ×{s:.1f}" for k, s in speedups if s is not None]
        if found:
            lines.append(f"- 1 → 4 consumers, batch {batch}: " + ", ".join(found))
    lines += [FIFO_FINDING, LATENCY_FINDING, AWS_FINDING, "", _md_table(throughput, THROUGHPUT_TABLE), ""]
    return [*lines, "![throughput](throughput.png)", ""]


def _visibility_section(frame: pd.DataFrame) -> list[str]:
    visibility = frame[frame.scenario == "visibility"].sort_values("visibility_timeout_s")
    if not len(visibility):
        return []
    first, last = visibility.iloc[0], visibility.iloc[-1]
    return [
        f"## Scenario 2 — visibility timeout (handler time {first.handler_time} s, crash probability "
        f"{first.crash_probability:g} per batch, DLQ after {first.max_receive_count} receives)",
        "",
        _visibility_point(first),
        _visibility_point(last),
        VISIBILITY_FINDING,
        "",
        _md_table(visibility, VISIBILITY_TABLE),
        "",
        "![visibility](visibility.png)",
        "",
    ]


def render_summary(
    frame: pd.DataFrame, results: Sequence[RunResult], engine_info: EngineInfo, paths: dict[str, Path]
) -> str:
    """The one-page Markdown summary: engine, findings, tables, AWS ceilings, accounting."""
    lines = [*_summary_head(frame, engine_info), *_throughput_section(frame), *_visibility_section(frame)]
    lines += render_planner_check(frame)
    lines += ["## Latency", "", "![latency](latency.png)", "", "## Accounting", ""]
    lines += [f"- {r.config.label}: {r.accounting.line()}" for r in results]
    lines += ["", f"Tidy data: `{paths['csv'].name}` (one row per configuration)."]
    return "\n".join(lines) + "\n"
