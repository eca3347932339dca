"""``labsqs conformance``: pick the engine, run the suite with a progress bar, print or write the results.

The engine comes from :func:`engine_endpoint`: an explicit endpoint, a throwaway engine on a free port
(moto, or one LocalStack line), ``labsqs up`` for another engine name, or the engine the lab already runs.
Engines started here go through :func:`labsqs.engine.started`, so they are stopped whatever happens.
``--write-docs`` runs every LocalStack line this machine's Pythons can run, then moto, and writes
``docs/conformance.md``. Progress goes to stderr; stdout holds only the table or the JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from labsqs import engine
from labsqs.conformance.registry import CHECKS, ERROR, FAIL, NOT_SUPPORTED, PASS, CheckResult, select
from labsqs.conformance.report import DOCS_PATH, SYMBOLS, counts, render_table, write_markdown
from labsqs.conformance.run import run_checks


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def engine_endpoint(
    name: str | None = None, endpoint: str | None = None, localstack: str | None = None
) -> Iterator[tuple[str | None, str, str]]:
    """Yield ``(endpoint, engine label, version)`` for the suite to run against.

    ``endpoint`` wins; ``moto`` or a LocalStack line (``localstack="4.13.1"``) starts a throwaway engine on
    a free port (stopped afterwards); other engine names use ``labsqs up`` (reusing a running engine; one
    started here is stopped again); nothing at all means the engine the lab already runs.
    """
    from labsqs.client import resolve_endpoint  # boto3 loads only when a suite runs, not for `labsqs --help`

    if endpoint:
        health = engine.localstack_health(endpoint.rstrip("/"))
        label = "localstack" if health else "endpoint"
        yield endpoint, label, str(health.get("version")) if health else "unknown"
        return
    if name == "moto" or localstack:
        with tempfile.TemporaryDirectory(prefix="labsqs-conformance-") as home:
            kind = "moto" if name == "moto" else "localstack"
            with engine.started(
                kind, port=engine.free_port(), home=Path(home), localstack=localstack, progress=_log
            ) as state:
                line = engine.find_localstack_python(localstack)[0] if localstack else None
                yield state.endpoint, line.label if line else "moto", state.description
        return
    if name is not None:
        with engine.started(name, progress=_log) as state:
            yield state.endpoint, state.engine, state.version
        return
    url = resolve_endpoint(None)
    running = engine.current()
    if running is not None and running.endpoint == url:
        yield url, running.engine, running.version
    else:
        health = engine.localstack_health(url) if url else None
        yield url, "localstack" if health else "endpoint", str(health.get("version")) if health else "unknown"


def _bar(i: int, total: int, result: CheckResult, width: int = 20) -> str:
    done = round(width * i / total)
    return (
        f"[{'#' * done}{'.' * (width - done)}] {i:>3}/{total} "
        f"{SYMBOLS[result.status]} {result.status:<13} {result.id} ({result.seconds:.1f} s)"
    )


def _run_engine(
    name: str | None, endpoint: str | None, only: list[str] | None, localstack: str | None = None
) -> dict[str, Any]:
    with engine_endpoint(name, endpoint, localstack) as (url, label, version):
        _log(f"conformance: {len(select(only))} checks against {label} {version} at {url or 'AWS'}")
        t0 = time.monotonic()
        results = run_checks(url, only=only, progress=lambda i, n, r: _log(_bar(i, n, r)))
        wall = time.monotonic() - t0
    _log(f"conformance: {label} done in {wall:.1f} s")
    return {
        "engine": label,
        "endpoint": url,
        "version": version,
        "seconds": round(wall, 1),
        "results": results,
    }


def _installable_lines() -> list[Any]:
    """The LocalStack lines a Python on this machine runs (each gets a column in docs/conformance.md)."""
    found = []
    for line in engine.LOCALSTACK_LINES:
        try:
            engine.find_localstack_python(line.version)
        except engine.PythonNotFound as exc:
            _log(f"conformance: skipping LocalStack {line.version}: {exc.message}")
            continue
        found.append(line)
    return found


def _as_json(run: dict[str, Any]) -> dict[str, Any]:
    return {**run, "summary": counts(run["results"]), "results": [asdict(r) for r in run["results"]]}


def _cmd_conformance(args: argparse.Namespace) -> int:
    if args.list:
        for c in CHECKS:
            print(f"{c.id:<36} {c.title}")
        return 0
    select(args.only)  # unknown ids fail before any engine starts
    if args.write_docs:
        return _write_docs(args)
    run = _run_engine(args.engine, args.endpoint, args.only)
    if args.json:
        print(json.dumps(_as_json(run), indent=2, ensure_ascii=False))
    else:
        print(render_table(run["results"]))
    return 1 if any(r.status == ERROR for r in run["results"]) else 0


def _write_docs(args: argparse.Namespace) -> int:
    """Every check against each LocalStack line and moto, written to ``args.docs_path``."""
    if args.only or args.endpoint or args.engine:
        _log(
            "labsqs: --write-docs runs every check against each LocalStack line and moto; "
            "drop --only/--engine/--endpoint"
        )
        return 2
    runs = [_run_engine("localstack", None, None, line.version) for line in _installable_lines()]
    runs.append(_run_engine("moto", None, None))
    versions = {
        r["engine"]: f"{r['version']} on the host (`labsqs up`)"
        if r["engine"] != "moto"
        else f"{r['version']} server (`python -m moto.server`)"
        for r in runs
    }
    path = write_markdown({r["engine"]: r["results"] for r in runs}, args.docs_path, versions=versions)
    if args.json:
        print(json.dumps([_as_json(r) for r in runs], indent=2, ensure_ascii=False))
    else:
        for r in runs:
            t = counts(r["results"])
            print(f"{r['engine']:<11} {t[PASS]} pass, {t[FAIL]} fail, {t[NOT_SUPPORTED]} not-supported, "
                  f"{t[ERROR]} error in {r['seconds']} s")  # fmt: skip
        print(f"wrote {path}")
    return 1 if any(r.status == ERROR for run in runs for r in run["results"]) else 0


def register_cli(
    subparsers: argparse._SubParsersAction, commands: dict[str, Callable[[argparse.Namespace], int]]
) -> None:
    """Add ``labsqs conformance`` to the lab's command."""
    p = subparsers.add_parser(
        "conformance",
        help="run behavioural checks: where an SQS engine behaves like SQS (exit 1 if a check errored)",
    )
    p.add_argument(
        "--engine", choices=engine.ENGINES, help="moto: a throwaway moto server; others: `labsqs up`"
    )
    p.add_argument("--endpoint", help="any SQS endpoint (default: the lab's running engine)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument(
        "--only", nargs="+", action="extend", metavar="ID", help="check ids or groups (fifo, dlq, …)"
    )
    p.add_argument("--list", action="store_true", help="list the checks and exit")
    p.add_argument(
        "--write-docs",
        action="store_true",
        help="run against every LocalStack line and moto and write the matrix to docs/conformance.md",
    )
    p.add_argument("--docs-path", default=str(DOCS_PATH), help=argparse.SUPPRESS)
    commands["conformance"] = _cmd_conformance
