"""Running the suite: each check against one endpoint, its queues deleted whatever happened.

A check's outcome is data, never a crash of the suite: the engine refusing or missing an API, or the check
itself breaking, each becomes a :class:`~labsqs.conformance.registry.CheckResult` with what was observed.
Only an unreachable endpoint stops the run (nothing after it could run either).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from labsqs.conformance.probe import CheckFailed, Probe, error_code, is_unsupported
from labsqs.conformance.registry import ERROR, FAIL, NOT_SUPPORTED, PASS, Check, CheckResult, select
from labsqs.errors import EndpointUnavailable

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

ProgressFn = Callable[[int, int, CheckResult], None]


def _client_error(chk: Check, exc: ClientError) -> tuple[str, str]:
    """A request the check did not expect to fail: not-supported for the check's own APIs, else error."""
    op = exc.operation_name
    code = error_code(exc)
    http = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if is_unsupported(exc) and op in chk.apis:
        said = "" if code == str(http) else f" {code}"
        return NOT_SUPPORTED, f"{op} answered HTTP {http}{said}"
    message = exc.response.get("Error", {}).get("Message", "")
    return ERROR, f"{op} failed: HTTP {http} {code} {message}".strip()


def _run_one(chk: Check, sqs: SQSClient) -> CheckResult:
    probe = Probe(sqs)
    t0 = time.monotonic()
    try:
        status, detail = PASS, chk.run(probe) or ""
    except CheckFailed as exc:
        status, detail = FAIL, exc.observed
    except ClientError as exc:
        status, detail = _client_error(chk, exc)
    except EndpointUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken check is a result, not a crash of the suite
        status, detail = ERROR, f"{type(exc).__name__}: {exc}"
    finally:
        probe.cleanup()
    return CheckResult(chk.id, chk.title, status, detail, round(time.monotonic() - t0, 3), chk.doc)


def run_checks(
    endpoint: str | None = None,
    *,
    sqs: SQSClient | None = None,
    only: Iterable[str] | None = None,
    progress: ProgressFn | None = None,
    checks: Iterable[Check] | None = None,
) -> list[CheckResult]:
    """Run the conformance checks against one endpoint (default: the lab's engine).

    ``only`` picks registered checks by id or group; ``checks`` runs these instead (a check of your own:
    ``Check(id, title, doc, apis, run)`` with ``run(probe) -> detail``).

    >>> results = run_checks(only=["fifo"])        # every FIFO check against the running engine
    >>> print(render_table(results))
    """
    checks = list(checks) if checks is not None else select(only)
    if sqs is None:
        from labsqs.client import sqs_client

        sqs = sqs_client(endpoint)
    results: list[CheckResult] = []
    for i, chk in enumerate(checks, 1):
        result = _run_one(chk, sqs)
        results.append(result)
        if progress is not None:
            progress(i, len(checks), result)
    return results
