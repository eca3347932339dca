"""The drill's account of every message: sent = processed ∪ DLQ, and every duplicate delivery explained.

:func:`account` reads the processing log the workers wrote (:mod:`labsqs.drill.log`) and what the drill
counted while it stopped and restarted them (:class:`Tally`), and returns a :class:`DrillReport`:

- *lost* — sent, but neither processed nor in the DLQ (must be empty);
- a *duplicate delivery* — a delivery whose receive count is higher than that of the delivery that
  committed its message; each must be a recorded skip (matched by its receipt handle) or a delivery to a
  process killed before it could ask the idempotency store;
- a healthy message in the DLQ is *behind poison* or lost its receives to *kills alone* (:func:`dlq_causes`);
- FIFO: a group's ``seq`` going backwards in commit order is an order violation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from labsqs.drill.log import ProcessingLog
from labsqs.drill.options import DrillOptions, body_uid, is_poison


@dataclass
class Tally:
    """What the drill did to its worker processes, counted as it happened."""

    spawned: int = 0
    stops: int = 0  # signals sent (SIGKILL or SIGTERM)
    stops_holding: int = 0  # ... to a process holding received, unsettled messages
    unclean_exits: int = 0  # processes that did not exit 0 after SIGTERM
    crashes: int = 0  # processes that exited on their own (a worker runs until stopped)
    exits: list[int] = field(default_factory=list)
    stopped_pids: set[int] = field(default_factory=set)  # killed with SIGKILL: deliveries cut short
    drained: bool = False
    elapsed_seconds: float = 0.0


@dataclass
class DrillReport:
    """Every figure of one drill. ``ok`` is True when nothing was lost, nothing was applied twice,
    every duplicate delivery is accounted for, and (FIFO) every group kept its order."""

    kind: str
    stop_signal: str
    sent: int
    poison_sent: int
    processed: int  # committed rows (one per uid: the log refuses a second)
    in_dlq: int
    dlq_poison: int  # DLQ messages that were poison (the rest went there through repeated kills)
    dlq_with_reason: int  # DLQ messages with a recorded failure reason
    dlq_healthy_by_poison: int  # healthy DLQ messages that lost a receive behind a failing poison message
    dlq_healthy_by_kills: int  # the other healthy DLQ messages: receives lost to kills alone (dlq_causes)
    lost: list[str]  # sent, but neither processed nor in the DLQ
    unexpected: list[str]  # processed or in the DLQ, but never sent
    processed_and_dlq: list[str]
    deliveries: int  # messages returned by receives (the tap)
    redeliveries: int  # deliveries with ApproximateReceiveCount > 1
    duplicate_deliveries: int  # deliveries of a message after it was committed
    duplicates_skipped: int  # ... recognised by the idempotency store (skips table)
    duplicates_cut_by_kill: int  # ... whose process was killed before it could check the store
    duplicates_unaccounted: int  # ... neither (must be 0)
    skips_unmatched: int  # skips that match no duplicate delivery (must be 0)
    duplicates_caught: int  # handler ran twice, caught at commit (must be 0 with the heartbeat on)
    order_violations: int  # FIFO: a group's seq going backwards in commit order
    stops: int  # signals sent (SIGKILL or SIGTERM)
    stops_holding_messages: int  # ... to a process holding received, unsettled messages
    restarts: int
    unclean_exits: int  # processes that did not exit 0 after SIGTERM
    crashes: int  # processes that exited on their own (a worker runs until stopped)
    drained: bool
    elapsed_seconds: float
    processes: int
    work_ms: float
    visibility_timeout: int
    max_receive_count: int
    exits: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.drained
            and not self.lost
            and not self.unexpected
            and self.duplicates_unaccounted == 0
            and self.skips_unmatched == 0
            and self.duplicates_caught == 0
            and self.order_violations == 0
            and self.dlq_healthy_by_poison == 0
            and self.dlq_with_reason >= self.dlq_poison
            and self.unclean_exits == 0
            and self.crashes == 0
        )

    def figures(self) -> dict[str, Any]:
        """The report as one flat dict (lists as counts) — a table row."""
        out = asdict(self)
        for name in ("lost", "unexpected", "processed_and_dlq"):
            out[name] = len(out[name])
        out.pop("exits")
        out["ok"] = self.ok
        return out


@dataclass(frozen=True)
class _Duplicates:
    """How the deliveries of already-committed messages were settled."""

    deliveries: int = 0
    cut_by_kill: int = 0
    unaccounted: int = 0
    skips_unmatched: int = 0


def account(
    db: Path,
    options: DrillOptions,
    tally: Tally,
    bodies: Sequence[tuple[str, str, str]],
    dlq_bodies: Sequence[tuple[str, str]],
) -> DrillReport:
    """Every figure of the drill: the log at ``db``, the ``tally`` of stops, the ``(uid, group, body)``
    sent and the ``(MessageId, body)`` found in the DLQ afterwards."""
    with ProcessingLog(db) as log:
        processed, deliveries, skips = log.rows("processed"), log.rows("deliveries"), log.rows("skips")
        failures, caught = log.rows("failures"), log.count("duplicates")
    sent = {uid for uid, _, _ in bodies}
    poison = {uid for uid, _, body in bodies if is_poison(body)}
    done = {r["uid"] for r in processed}
    dlq = {body_uid(body) for _, body in dlq_bodies}
    # a redrive to the DLQ keeps the MessageId: a DLQ'd message's failure rows are found by it
    failed_ids = {f["message_id"] for f in failures}
    healthy_in_dlq = {message_id for message_id, body in dlq_bodies if body_uid(body) not in poison}
    by_poison = dlq_causes(deliveries, failures, healthy_in_dlq)
    dup = _duplicates(processed, deliveries, skips, tally.stopped_pids)
    return DrillReport(
        kind=options.kind, stop_signal=options.stop_signal.name, sent=len(sent), poison_sent=len(poison),
        processed=len(processed), in_dlq=len(dlq_bodies), dlq_poison=len(dlq & poison),
        dlq_with_reason=sum(1 for message_id, _ in dlq_bodies if message_id in failed_ids),
        dlq_healthy_by_poison=len(by_poison), dlq_healthy_by_kills=len(healthy_in_dlq - by_poison),
        lost=sorted(sent - done - dlq), unexpected=sorted((done | dlq) - sent),
        processed_and_dlq=sorted(done & dlq), deliveries=len(deliveries),
        redeliveries=sum(1 for d in deliveries if d["receive_count"] > 1),
        duplicate_deliveries=dup.deliveries, duplicates_skipped=len(skips),
        duplicates_cut_by_kill=dup.cut_by_kill, duplicates_unaccounted=dup.unaccounted,
        skips_unmatched=dup.skips_unmatched, duplicates_caught=caught,
        order_violations=order_violations(processed) if options.kind == "fifo" else 0,
        stops=tally.stops, stops_holding_messages=tally.stops_holding,
        restarts=tally.spawned - options.processes, unclean_exits=tally.unclean_exits, crashes=tally.crashes,
        drained=tally.drained, elapsed_seconds=round(tally.elapsed_seconds, 1), processes=options.processes,
        work_ms=options.work_ms, visibility_timeout=options.visibility_timeout,
        max_receive_count=options.max_receive_count, exits=tally.exits,
    )  # fmt: skip


def _duplicates(
    processed: Sequence[Mapping[str, Any]],
    deliveries: Sequence[Mapping[str, Any]],
    skips: Sequence[Mapping[str, Any]],
    killed_pids: set[int],
) -> _Duplicates:
    """Each delivery of a message after the delivery that committed it: skipped by the store (its receipt
    handle is in ``skips``), cut short by a kill (its process is in ``killed_pids``), or unaccounted."""
    committed_at = {r["message_id"]: r["receive_count"] for r in processed}
    skipped_handles = {s["receipt_handle"] for s in skips}
    dup = cut = unaccounted = 0
    duplicate_handles: set[str] = set()
    for d in deliveries:
        first = committed_at.get(d["message_id"])
        if first is None or d["receive_count"] <= first:
            continue
        dup += 1
        duplicate_handles.add(d["receipt_handle"])
        if d["receipt_handle"] in skipped_handles:
            continue
        if d["pid"] in killed_pids:
            cut += 1
        else:
            unaccounted += 1
    unmatched = len(skipped_handles - duplicate_handles) + sum(s["receipt_handle"] is None for s in skips)
    return _Duplicates(dup, cut, unaccounted, unmatched)


def order_violations(processed: Sequence[Mapping[str, Any]]) -> int:
    """FIFO: how often a group's ``seq`` went backwards in commit order."""
    violations = 0
    last: dict[str, int] = defaultdict(lambda: -1)
    for r in processed:
        if r["seq"] <= last[r["grp"]]:
            violations += 1
        last[r["grp"]] = r["seq"]
    return violations


def dlq_causes(
    deliveries: Sequence[Mapping[str, Any]], failures: Sequence[Mapping[str, Any]], healthy_in_dlq: set[str]
) -> set[str]:
    """Which healthy messages in the DLQ got there *because of a poison message*: at least one of their
    receives came in the same batch as an earlier message of their group that then failed as poison —
    so it was handed back unprocessed. The others lost every receive to kills alone (delivered to a
    process killed before it could commit, or handed back behind a message such a kill left claimed).
    A message dragged once and then killed four times counts as poison's: the rule leans against the
    guard."""
    poison_failed = {f["receipt_handle"] for f in failures if is_poison(str(f["body"]))}
    receives: dict[tuple[int, int], list[Mapping[str, Any]]] = defaultdict(list)
    for d in deliveries:  # in insertion order: each receive's messages in the order SQS returned them
        receives[(d["pid"], d["receive_no"])].append(d)
    dragged: set[str] = set()
    for batch in receives.values():
        failing_groups: set[str] = set()
        for d in batch:
            if d["grp"] in failing_groups:
                dragged.add(d["message_id"])
            if d["receipt_handle"] in poison_failed and d["grp"] is not None:
                failing_groups.add(d["grp"])
    return healthy_in_dlq & dragged
