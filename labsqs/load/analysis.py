"""One tidy row per load run: rates, latency, duplicates, recovery, the DLQ and the accounting, from what
Locust (its stats CSV) and the lab's event log wrote — and the planner's prediction beside it.

pandas is imported inside the functions (never at module level): the command and Locust start without it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labsqs.errors import LoadRunFailed
from labsqs.load.accounting import E2E_NAME, E2E_REQUEST_TYPE, REQUEST_TYPE, Accounting
from labsqs.load.spec import LoadConfig
from labsqs.plan import Cycle, RunInputs, aws_cap_messages_per_second, aws_cap_text, predict_load_run

if TYPE_CHECKING:
    import pandas as pd

PLANNER_TOLERANCE = 0.25  # the goal: predicted/measured within ±25 % on every throughput configuration
MODEL_WINDOW_SECONDS = 0.5


@dataclass(frozen=True)
class RunResult:
    """One configuration's run: its tidy row, its accounting, how long it took and where its files are."""

    config: LoadConfig
    row: dict[str, Any]
    accounting: Accounting
    elapsed_seconds: float
    directory: Path


def read_locust_stats(prefix: Path) -> pd.DataFrame:
    """Locust's ``<prefix>_stats.csv`` (one row per request type and name, plus ``Aggregated``)."""
    import pandas as pd

    path = Path(f"{prefix}_stats.csv")
    if not path.exists():
        raise LoadRunFailed(f"Locust wrote no {path.name}", hint=f"see {prefix.parent / 'locust.log'}")
    return pd.read_csv(path)


def _rate(count: int, start: float, end: float) -> float:
    span = end - start
    return count / span if count and span > 0 else 0.0


def _by_event(events: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The event log split by kind: sent, received, handled, deleted, crashed."""
    kinds = ("sent", "received", "handled", "deleted", "crashed")
    return {kind: events[events.event == kind] for kind in kinds}


def recovery_seconds(received: pd.DataFrame, crashed: pd.DataFrame) -> list[float]:
    """For each message a consumer crashed holding: the time until it was received again."""
    if not len(crashed):
        return []
    later = received[["msg_id", "t"]].rename(columns={"t": "t_next"})
    joined = crashed[["msg_id", "t"]].merge(later, on="msg_id")
    joined = joined[joined.t_next > joined.t]
    first = joined.groupby(["msg_id", "t"]).t_next.min().reset_index()
    return [float(x) for x in first.t_next - first.t]


def _config_columns(config: LoadConfig) -> dict[str, Any]:
    return {
        "scenario": config.scenario,
        "configuration": config.label,
        "queue_type": config.queue_type,
        "groups": config.groups if config.fifo else math.nan,
        "producers": config.producers,
        "consumers": config.consumers,
        "batch_size": config.batch_size,
        "visibility_timeout_s": config.visibility_timeout_seconds,
        "handler_time": config.handler_time,
        "crash_probability": config.crash_probability,
        "max_receive_count": config.max_receive_count,
    }


def _rate_columns(kinds: dict[str, pd.DataFrame], accounting: Accounting) -> dict[str, Any]:
    sent, received, deleted = kinds["sent"], kinds["received"], kinds["deleted"]
    first_receive = received.t.min() if len(received) else math.nan
    return {
        "sent": accounting.sent,
        "processed": accounting.processed,
        "sent_per_s": round(_rate(len(sent), sent.t.min(), sent.t.max()) if len(sent) > 1 else 0.0, 1),
        "processed_per_s": round(
            _rate(deleted.msg_id.nunique(), first_receive, deleted.t.max()) if len(deleted) else 0.0, 1
        ),
    }


def _latency_columns(stats: pd.DataFrame) -> dict[str, Any]:
    """End-to-end percentiles from Locust's ``E2E latency`` row; requests and failures of the SQS rows."""
    import pandas as pd

    e2e = stats[(stats["Type"] == E2E_REQUEST_TYPE) & (stats["Name"] == E2E_NAME)]
    requests = stats[stats["Type"] == REQUEST_TYPE]
    row = e2e.iloc[0] if len(e2e) else None

    def pct(column: str) -> float:
        return float(row[column]) if row is not None and column in row and pd.notna(row[column]) else math.nan

    return {
        "e2e_p50_ms": pct("50%"),
        "e2e_p95_ms": pct("95%"),
        "e2e_p99_ms": pct("99%"),
        "e2e_count": int(row["Request Count"]) if row is not None else 0,
        "requests": int(requests["Request Count"].sum()),
        "failures": int(requests["Failure Count"].sum()),
    }


def _delivery_columns(kinds: dict[str, pd.DataFrame], accounting: Accounting) -> dict[str, Any]:
    import pandas as pd

    received, handled, crashed = kinds["received"], kinds["handled"], kinds["crashed"]
    recovery = recovery_seconds(received, crashed)
    return {
        "deliveries": len(received),
        "redeliveries": int(len(received) - received.msg_id.nunique()) if len(received) else 0,
        "duplicates": int(len(handled) - handled.msg_id.nunique()) if len(handled) else 0,
        "crashes": int(crashed.groupby(["pid", "t"]).ngroups) if len(crashed) else 0,
        "recovery_p50_s": round(float(pd.Series(recovery).median()), 2) if recovery else math.nan,
        "recovery_max_s": round(float(max(recovery)), 2) if recovery else math.nan,
        "dlq": accounting.dlq,
        "dlq_also_processed": accounting.dlq_also_processed,
        "queued": accounting.queued,
        "in_flight": accounting.in_flight,
        "balanced": accounting.balanced,
    }


def analyse(config: LoadConfig, events: pd.DataFrame, stats: pd.DataFrame, accounting: Accounting) -> dict:
    """One tidy row for a configuration: rates, latency, duplicates, recovery, DLQ, accounting, and the
    planner's prediction beside the measurement."""
    kinds = _by_event(events)
    latency = _latency_columns(stats)
    requests = {"requests": latency.pop("requests"), "failures": latency.pop("failures")}
    cap = aws_cap_messages_per_second(config)
    row = {
        **_config_columns(config),
        **_rate_columns(kinds, accounting),
        **latency,
        **_delivery_columns(kinds, accounting),
        **requests,
        "aws_cap_msg_s": cap if cap is not None else math.nan,
        "aws_cap": aws_cap_text(config),
    }
    row.update(planner_check(config, events, row))
    return row


# --- the planner's check -------------------------------------------------------------------------
def _cycle_windows(
    receive_latency: pd.Series, deleted: pd.DataFrame, handled: pd.DataFrame
) -> tuple[tuple[float, Any], ...]:
    """Mean receive latency, handler time and delete latency per 0.5 s of the run (the model's windows);
    a window without a sample of one of them takes the run's mean for it."""
    import pandas as pd

    deletes = deleted.groupby(["pid", "t"]).seconds.first()
    series = {
        "receive": pd.Series(
            receive_latency.values, receive_latency.index.get_level_values("t"), dtype=float
        ),
        "handler": pd.Series(handled.seconds.values, handled.t.values, dtype=float),
        "delete": pd.Series(deletes.values, deletes.index.get_level_values("t"), dtype=float),
    }
    series = {k: v.dropna() for k, v in series.items()}
    if not all(len(v) for v in series.values()):
        return ()
    start = min(float(v.index.min()) for v in series.values())
    means = {
        k: v.groupby(((v.index - start) // MODEL_WINDOW_SECONDS).astype(int)).mean()
        for k, v in series.items()
    }
    overall = {k: float(v.mean()) for k, v in series.items()}
    last = max(int(m.index.max()) for m in means.values())
    return tuple(
        (
            start + k * MODEL_WINDOW_SECONDS,
            Cycle(*(float(means[name].get(k, overall[name])) for name in series)),
        )
        for k in range(last + 1)
    )


def _group_of(msg_id: Any, groups: int) -> int:
    """The FIFO group a load-test message went to (the producer's sequence number modulo the groups)."""
    try:
        return int(str(msg_id).rsplit("-", 1)[1]) % groups
    except (IndexError, ValueError):
        return 0


def _mean_or_zero(values: pd.Series) -> float:
    mean = float(values.mean()) if len(values) else math.nan
    return 0.0 if math.isnan(mean) else mean


def _receives(events: pd.DataFrame) -> pd.DataFrame:
    """One row per receive that returned messages: how many, and its latency.

    A receive is timed from when its consumer was ready (the turn-around after its last delete counts);
    one that started before its messages were sent waited for the producer, not for SQS: only the time
    after the last of its messages was sent counts as its latency."""
    sent_at = events[events.event == "sent"].drop_duplicates("msg_id").set_index("msg_id").t
    received = events[events.event == "received"]
    received = received.assign(since_sent=received.t - received.msg_id.map(sent_at))
    receives = received.groupby(["pid", "t"]).agg(
        n=("msg_id", "size"), seconds=("seconds", "first"), since_sent=("since_sent", "min")
    )
    return receives.assign(latency=receives[["seconds", "since_sent"]].min(axis=1).clip(lower=0))


def run_inputs(config: LoadConfig, events: pd.DataFrame, processed: int, receives: pd.DataFrame) -> RunInputs:
    """The planner's inputs, taken from the run (the lab's event log): when each message was sent, mean
    receive, delete and send latency, measured handler time, processed count — overall and per window
    (client and engine share the cores, so requests slow down while the producer sends flat out)."""
    sent = events[events.event == "sent"]
    deleted = events[events.event == "deleted"]
    handled = events[events.event == "handled"]
    in_order = sent.drop_duplicates("msg_id").sort_values("t", kind="stable")
    return RunInputs(
        queue_type=config.queue_type,
        groups=config.groups,
        consumers=config.consumers,
        batch_size=config.batch_size,
        send_times=tuple(float(t) for t in in_order.t),
        groups_of=tuple(_group_of(m, config.groups) for m in in_order.msg_id) if config.fifo else (),
        messages=processed,
        receive_seconds=float(receives.latency.mean()),
        delete_seconds=float(deleted.groupby(["pid", "t"]).seconds.first().mean()),
        handler_seconds=float(handled.seconds.mean()),
        handler_samples=tuple(float(x) for x in handled.seconds.dropna()),
        send_seconds=_mean_or_zero(sent.groupby(["pid", "t"]).seconds.first()),
        windows=_cycle_windows(receives.latency, deleted, handled),
    )


def _broken_assumptions(config: LoadConfig, receives: pd.DataFrame, row: dict[str, Any]) -> list[str]:
    """Notes on what this run did that the model does not: partly filled receives, crashes, redeliveries."""
    notes = []
    fill = float(receives.n.mean())
    if fill < 0.9 * min(config.batch_size, max(1, row["processed"])):
        notes.append(f"receives returned {fill:.1f} messages on average, not a batch of {config.batch_size}")
    if row["redeliveries"] or row["crashes"]:
        notes.append(
            f"{row['crashes']} crash(es) and {row['redeliveries']} redelivery(ies): the model has neither "
            "(it assumes every message is handled once)"
        )
    return notes


NO_PREDICTION = {
    "model_processed_per_s": math.nan,
    "model_e2e_p50_ms": math.nan,
    "ratio_processed": math.nan,
    "ratio_e2e_p50": math.nan,
    "model_notes": "no messages processed",
}


def planner_check(config: LoadConfig, events: pd.DataFrame, row: dict[str, Any]) -> dict[str, Any]:
    """The planner's prediction for this run beside the measurement, from the run's own inputs
    (:func:`run_inputs`). Returns the predicted processed msg/s and e2e p50, their ratios to the measured
    figures, and notes on any model assumption the run broke."""
    has_seconds = "seconds" in events.columns
    if not has_seconds or not (events.event == "deleted").any() or not (events.event == "received").any():
        return dict(NO_PREDICTION)
    receives = _receives(events)
    inputs = run_inputs(config, events, int(row["processed"]), receives)
    prediction = predict_load_run(inputs)
    notes = [*prediction.notes, *_broken_assumptions(config, receives, row)]
    measured_rate, measured_p50 = float(row["processed_per_s"]), float(row["e2e_p50_ms"])
    predicted_p50_ms = prediction.e2e_p50_seconds * 1000
    ratio_rate = prediction.processed_per_s / measured_rate if measured_rate > 0 else math.nan
    ratio_p50 = predicted_p50_ms / measured_p50 if measured_p50 > 0 else math.nan
    return {
        "model_receive_ms": round(inputs.receive_seconds * 1000, 2),
        "model_delete_ms": round(inputs.delete_seconds * 1000, 2),
        "model_handler_ms": round(inputs.handler_seconds * 1000, 2),
        "model_send_ms": round(inputs.send_seconds * 1000, 2),
        "model_lanes": prediction.lanes,
        "model_processed_per_s": round(prediction.processed_per_s, 1),
        "model_e2e_p50_ms": round(predicted_p50_ms, 1),
        "ratio_processed": round(ratio_rate, 3),
        "ratio_e2e_p50": round(ratio_p50, 3),
        "model_notes": "; ".join(notes),
    }
