"""Looking at results: a plain-text table, pandas frames, and ``docs/conformance.md``.

:func:`render_table` prints one run; :func:`matrix` and :func:`summary` put several engines side by side
as DataFrames; :func:`write_markdown` writes the page ``labsqs conformance --write-docs`` regenerates (the
engine × check matrix, each difference in detail, and the raw results as JSON in an HTML comment) and
:func:`read_markdown` reads those results back, so a lesson can quote them without running an engine
(:func:`engine_difference`).
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labsqs import engine
from labsqs.conformance.registry import (
    CHECKS,
    ERROR,
    FAIL,
    NOT_SUPPORTED,
    PASS,
    STATUSES,
    CheckResult,
    check_ids,
)
from labsqs.errors import ConformanceError

if TYPE_CHECKING:
    import pandas as pd

DOCS_PATH = Path(__file__).resolve().parents[2] / "docs" / "conformance.md"
DATA_MARKER = "labsqs-conformance-data"
SYMBOLS = {PASS: "✅", FAIL: "❌", NOT_SUPPORTED: "➖", ERROR: "⚠️"}


@dataclass(frozen=True)
class ConformanceReport:
    """A stored matrix (read back from ``docs/conformance.md``)."""

    generated: str
    versions: dict[str, str]
    results: dict[str, list[CheckResult]] = field(default_factory=dict)


# --- one run, several runs -------------------------------------------------------------------------
def counts(results: Iterable[CheckResult]) -> dict[str, int]:
    """How many checks ended in each status."""
    tally = dict.fromkeys(STATUSES, 0)
    for r in results:
        tally[r.status] += 1
    return tally


def to_frame(results: Iterable[CheckResult]) -> pd.DataFrame:
    """One row per check: id, title, status, detail, seconds, doc."""
    import pandas as pd

    columns = ["id", "title", "status", "detail", "seconds", "doc"]
    return pd.DataFrame([asdict(r) for r in results], columns=columns)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render_table(results: Iterable[CheckResult], *, detail_width: int = 70) -> str:
    """A plain-text pass/fail/not-supported table with a summary line."""
    rows = list(results)
    if not rows:
        return "no checks ran"
    width = max(len(r.id) for r in rows)
    lines = [f"{'check'.ljust(width)}  {'status'.ljust(13)}  detail"]
    for r in rows:
        lines.append(f"{r.id.ljust(width)}  {r.status.ljust(13)}  {_clip(r.detail, detail_width)}")
    tally = counts(rows)
    lines.append("")
    lines.append(
        ", ".join(f"{n} {s}" for s, n in tally.items())
        + f" — {len(rows)} check{'s' if len(rows) != 1 else ''}"
    )
    return "\n".join(lines)


def matrix(results_by_engine: Mapping[str, Iterable[CheckResult]]) -> pd.DataFrame:
    """Checks × engines: index = check id, a ``title`` column, then one status column per engine."""
    import pandas as pd

    titles: dict[str, str] = {}
    columns: dict[str, dict[str, str]] = {}
    for engine_name, results in results_by_engine.items():
        columns[engine_name] = {}
        for r in results:
            titles.setdefault(r.id, r.title)
            columns[engine_name][r.id] = r.status
    order = [c.id for c in CHECKS if c.id in titles] + [i for i in titles if i not in check_ids()]
    frame = pd.DataFrame({"title": titles, **columns}).reindex(order)
    frame.index.name = "check"
    return frame


def summary(results_by_engine: Mapping[str, Iterable[CheckResult]]) -> pd.DataFrame:
    """Engines × statuses: how many checks ended in each."""
    import pandas as pd

    frame = pd.DataFrame({name: counts(rs) for name, rs in results_by_engine.items()}).T
    frame["checks"] = frame.sum(axis=1)
    frame.index.name = "engine"
    return frame


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# --- docs/conformance.md -----------------------------------------------------------------------------
def write_markdown(
    results_by_engine: Mapping[str, Iterable[CheckResult]],
    path: str | Path = DOCS_PATH,
    *,
    versions: Mapping[str, str] | None = None,
    generated: str | None = None,
) -> Path:
    """Write the engine × check matrix, the differences in detail, and the raw results (for
    :func:`read_markdown`) to ``path``."""
    by_engine = {name: list(rs) for name, rs in results_by_engine.items()}
    versions = dict(versions or {})
    generated = generated or _dt.date.today().isoformat()
    index = {name: {r.id: r for r in rs} for name, rs in by_engine.items()}
    ids = list(matrix(by_engine).index)  # suite order
    out = [
        *_header_lines(generated, versions, list(by_engine)),
        *_summary_lines(by_engine),
        *_matrix_lines(ids, index),
        *_difference_lines(ids, index),
        "",
        f"<!-- {DATA_MARKER}",
        _data_block(generated, versions, by_engine),
        "-->",
        "",
    ]
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(out), encoding="utf-8")
    return target


def _header_lines(generated: str, versions: Mapping[str, str], engines: list[str]) -> list[str]:
    """The title, where the page came from (date, boto3, each engine's version) and the legend."""
    import boto3

    return [
        "# Engine conformance: where each local engine behaves like Amazon SQS",
        "",
        "Generated by `labsqs conformance --write-docs` (do not edit by hand) on "
        f"{generated} with boto3 {boto3.__version__}.",
        "",
        *[f"- **{name}**: {versions.get(name, 'version unknown')}" for name in engines],
        "",
        "Each check holds the engine to one behaviour the SQS documentation states (the `doc` cited in the "
        "details below). ✅ behaves as SQS documents · ❌ differs · ➖ not supported (the engine answered "
        '"not implemented" / HTTP 5xx for the API) · ⚠️ the check itself errored.',
        "",
    ]


def _summary_lines(by_engine: Mapping[str, list[CheckResult]]) -> list[str]:
    """One row an engine: how many checks ended in each status."""
    out = [
        "## Summary",
        "",
        "| engine | ✅ pass | ❌ fail | ➖ not supported | ⚠️ error | checks |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, results in by_engine.items():
        t = counts(results)
        out.append(
            f"| {name} | {t[PASS]} | {t[FAIL]} | {t[NOT_SUPPORTED]} | {t[ERROR]} | {sum(t.values())} |"
        )
    return out


# ``index``: engine -> check id -> its result there; ``ids``: every check id some engine ran, in suite order
def _matrix_lines(ids: list[str], index: Mapping[str, Mapping[str, CheckResult]]) -> list[str]:
    """One row a check, one column an engine, a symbol a cell (blank where the engine did not run it)."""
    engines = list(index)
    out = ["", "## Matrix", "", "| check | behaviour | " + " | ".join(engines) + " |"]
    out.append("|---|---|" + "---|" * len(engines))
    for cid in ids:
        title = next(index[n][cid].title for n in engines if cid in index[n])
        cells = [SYMBOLS.get(index[n][cid].status, "?") if cid in index[n] else " " for n in engines]
        out.append(f"| `{cid}` | {_cell(title)} | " + " | ".join(cells) + " |")
    return out


def _difference_lines(ids: list[str], index: Mapping[str, Mapping[str, CheckResult]]) -> list[str]:
    """Each check some engine did not pass: what SQS documents, then what each engine did."""
    engines = list(index)
    differing = [cid for cid in ids if any(cid in index[n] and not index[n][cid].ok for n in engines)]
    out = ["", "## Where an engine differs from SQS", ""]
    if not differing:
        out.append("Every engine passed every check.")
    for cid in differing:
        first = next(index[n][cid] for n in engines if cid in index[n])
        out += [f"### `{cid}` — {first.title}", "", f"SQS: {first.doc}", ""]
        for n in engines:
            if cid in index[n]:
                r = index[n][cid]
                out.append(f"- **{n}** {SYMBOLS[r.status]} {r.status}: {_cell(r.detail)}")
        out.append("")
    return out


def _data_block(
    generated: str, versions: Mapping[str, str], by_engine: Mapping[str, list[CheckResult]]
) -> str:
    """The raw results as JSON, one result a line (small diffs when the page is regenerated)."""

    def dump(value: Any) -> str:
        # "-->" would end the HTML comment the block lives in; JSON may spell ">" as \u003e instead
        return json.dumps(value, ensure_ascii=False).replace("-->", "--\\u003e")

    engines = []
    for name, results in by_engine.items():
        rows = ",\n".join(f"  {dump({**asdict(r), 'seconds': round(r.seconds, 1)})}" for r in results)
        engines.append(f" {dump(name)}: [\n{rows}\n ]")
    results_json = ",\n".join(engines)
    return (
        f'{{"generated": {dump(generated)}, "versions": {dump(dict(versions))},\n"results": {{\n'
        f"{results_json}\n}}}}"
    )


def read_markdown(path: str | Path = DOCS_PATH) -> ConformanceReport:
    """Read back the results :func:`write_markdown` stored in ``path`` (e.g. the committed docs)."""
    text = Path(path).read_text(encoding="utf-8")
    start = text.find(f"<!-- {DATA_MARKER}")
    if start < 0:
        raise ConformanceError(
            f"{path} holds no conformance data",
            hint="regenerate it with `labsqs conformance --write-docs`",
        )
    body = text[start + len(f"<!-- {DATA_MARKER}") :]
    payload = json.loads(body[: body.rindex("-->")])
    results = {n: [CheckResult(**r) for r in rs] for n, rs in payload["results"].items()}
    return ConformanceReport(payload["generated"], dict(payload["versions"]), results)


def engine_difference(check_id: str, engine_label: str | None = None) -> str | None:
    """One line for a lesson when the engine in use is recorded as differing from SQS on ``check_id``.

    ``None`` when the engine behaves as SQS documents (so the lesson's assertion holds). Otherwise — on moto,
    the engine of last resort — the line says what SQS does and what this engine did, from
    docs/conformance.md, so a lesson never teaches the engine's behaviour as SQS's.
    """
    if engine_label is None:  # both LocalStack lines give the same results (a test checks it)
        running = engine.current()
        engine_label = running.engine if running is not None else "localstack"
    try:
        results = read_markdown().results.get(engine_label, [])
    except (OSError, ConformanceError):
        return None
    found = next((r for r in results if r.id == check_id), None)
    if found is None or found.ok:
        return None
    return (
        f"note: on {engine_label} this differs from SQS ({found.title}); observed: {found.detail}. "
        "The lesson's result holds on SQS and on LocalStack (docs/conformance.md)."
    )
