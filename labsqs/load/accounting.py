"""Where every message of a load run went, and the books each Locust process keeps.

Both sides of the load package stand on this module: a Locust process writes its event log and counters
(:func:`side_file`) and prints an :class:`Accounting` line when it stops; the orchestrator reads every
process's files back (:func:`read_events`, :func:`read_counters`) and accounts again after the queue settled.
Nothing here imports Locust, and pandas only inside :func:`read_events`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labsqs.base.calls import receive_all
from labsqs.base.depth import Depth, read_depth

if TYPE_CHECKING:
    import pandas as pd
    from mypy_boto3_sqs import SQSClient

EVENT_FIELDS = ("t", "event", "msg_id", "receive_count", "pid", "seconds")  # one row of the event log
# the entries the users add to Locust's statistics: one per SQS action, and the end-to-end latency
REQUEST_TYPE = "SQS"
E2E_REQUEST_TYPE, E2E_NAME = "E2E", "latency"
SETTLE_CAP_SECONDS = 10.0  # longest wait for in-flight messages to come back before the accounting
SETTLE_POLL_SECONDS = 0.5
DLQ_PEEK_HOLD_SECONDS = 60  # a peeked DLQ message stays hidden this long at most (it is released at once)


@dataclass(frozen=True)
class Accounting:
    """Where every sent message ended: processed (deleted), in the DLQ, still queued, or in flight.

    A message can be processed *and* dead-lettered: its handler outlived the visibility timeout, later
    receives pushed it to the DLQ, and the first handler's delete still succeeded. Such messages are
    counted once, as processed (``dlq_also_processed`` of the ``dlq`` messages).
    """

    sent: int
    processed: int
    dlq: int
    queued: int
    in_flight: int
    dlq_also_processed: int = 0

    @classmethod
    def of(cls, *, sent: int, processed: int, queue: Depth, dlq: int, dlq_also_processed: int) -> Accounting:
        """From the lab's books (messages sent, processed) and the queue's gauges after the run."""
        return cls(sent, processed, dlq, queue.visible + queue.delayed, queue.in_flight, dlq_also_processed)

    @property
    def dlq_only(self) -> int:
        return self.dlq - self.dlq_also_processed

    @property
    def accounted(self) -> int:
        return self.processed + self.dlq_only + self.queued + self.in_flight

    @property
    def balanced(self) -> bool:
        return self.sent == self.accounted

    def line(self) -> str:
        sign = "=" if self.balanced else "≠"
        verdict = (
            "balances" if self.balanced else f"does NOT balance (off by {self.accounted - self.sent:+d})"
        )
        text = (
            f"sent {self.sent} {sign} processed {self.processed} + in DLQ {self.dlq_only} + still queued "
            f"{self.queued} (+ in flight {self.in_flight})  → {verdict}"
        )
        if self.dlq_also_processed:
            text += f"; the DLQ also holds {self.dlq_also_processed} message(s) that were processed"
        return text


# --- the lab's message ids -----------------------------------------------------------------------
def lab_message(message: Mapping[str, Any]) -> tuple[str, float | None]:
    """A received message's lab id and send time (from its JSON body); a message the lab did not send
    counts by its MessageId, with no send time."""
    try:
        body = json.loads(message["Body"])
        return str(body["id"]), float(body["sent_at"])
    except (ValueError, KeyError, TypeError):
        return str(message.get("MessageId")), None


def dlq_message_ids(url: str, *, sqs: SQSClient, expected: int) -> set[str]:
    """Peek at the lab ids of the messages in a DLQ: receive them all, then hand them back (visibility 0).

    Reads at most ``expected`` messages (:func:`labsqs.base.calls.receive_all`)."""
    if expected <= 0:
        return set()
    messages = receive_all(sqs, url, limit=expected, hold_seconds=DLQ_PEEK_HOLD_SECONDS, then="release")
    return {lab_message(m)[0] for m in messages}


def settle(url: str, *, sqs: SQSClient, visibility_timeout_seconds: int) -> Depth:
    """Wait (bounded) until no message of the queue is in flight or delayed, then return its gauges.

    A consumer killed at the end of a run may hold messages; they come back after the visibility
    timeout (LocalStack sweeps once a second, so up to a second more)."""
    deadline = time.monotonic() + min(visibility_timeout_seconds + 2.0, SETTLE_CAP_SECONDS)
    depth = read_depth(sqs, url)
    while (depth.in_flight or depth.delayed) and time.monotonic() < deadline:
        time.sleep(SETTLE_POLL_SECONDS)
        depth = read_depth(sqs, url)
    return depth


def dlq_contents(dlq_url: str | None, *, sqs: SQSClient, with_ids: bool = True) -> tuple[int, set[str]]:
    """How many messages a run's DLQ holds, and (``with_ids``) their lab ids; ``(0, set())`` without one."""
    if not dlq_url:
        return 0, set()
    count = read_depth(sqs, dlq_url).total
    return count, dlq_message_ids(dlq_url, sqs=sqs, expected=count) if with_ids and count else set()


# --- the per-process side files --------------------------------------------------------------------
def side_file(lab_prefix: Path | str, pid: int | str, kind: str) -> Path:
    """``<prefix>.<pid>.events.csv`` or ``<prefix>.<pid>.counters.json``: one Locust process's books."""
    return Path(f"{lab_prefix}.{pid}.{kind}")


def _side_files(lab_prefix: Path, kind: str) -> list[Path]:
    return sorted(lab_prefix.parent.glob(side_file(lab_prefix.name, "*", kind).name))


def read_events(lab_prefix: Path) -> pd.DataFrame:
    """Every process's event log (``<prefix>.<pid>.events.csv``) as one DataFrame, sorted by time."""
    import pandas as pd

    frames = [pd.read_csv(p) for p in _side_files(lab_prefix, "events.csv")]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=list(EVENT_FIELDS))
    return pd.concat(frames, ignore_index=True).sort_values("t", kind="stable").reset_index(drop=True)


def read_counters(lab_prefix: Path) -> list[dict[str, Any]]:
    """Every process's lab counters (``<prefix>.<pid>.counters.json``)."""
    return [json.loads(p.read_text()) for p in _side_files(lab_prefix, "counters.json")]
