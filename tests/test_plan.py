"""The capacity and cost planner: its laws, its refusals, its sources, and `labsqs plan` (no engine needed).

Whether the model predicts real runs is checked by `labsqs bench` against measurements (its summary), not
asserted here: these tests pin the arithmetic a user relies on and the errors that say what to change.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from labsqs import cli, plan
from labsqs.errors import FifoGroupTooHot, InvalidLoadOption, InvalidPlanInput, VisibilityTooShort

HANDLER = plan.parse_handler_time("const:0.1")
BASE = plan.Workload(rate=50, handler=HANDLER, batch_size=10, latency_seconds=0.02)


def test_one_consumer_runs_a_batch_per_receive_handle_delete_cycle():
    # GIVEN batches of 10, a 0.1 s handler and 20 ms requests: one cycle = 0.02 + 10 × 0.1 + 0.02 s
    p = plan.plan(BASE)
    # THEN one consumer processes 10 / 1.04 msg/s, and 50 msg/s at 70 % utilization needs 8 of them
    assert p.per_consumer_rate == pytest.approx(10 / 1.04)
    assert p.consumers == math.ceil(50 / (10 / 1.04 * 0.7)) == 8
    assert p.capacity == pytest.approx(8 * 10 / 1.04)


def test_peak_rate_sizes_the_consumers_and_little_gives_in_flight():
    p = plan.plan(replace(BASE, peak_rate=200))
    assert p.consumers == math.ceil(200 / (10 / 1.04 * 0.7))
    # in flight = peak rate × time a batch is held (Little's law)
    held = plan.batch_fill(10, 200 / p.capacity) * 0.1 + 0.02
    assert p.figure("in flight at peak (Little)") == pytest.approx(200 * held)


def test_monthly_requests_count_batches_chunks_empty_receives_and_the_free_tier():
    # GIVEN a tiny rate: the free tier covers it, but idle long polls are still counted
    quiet = plan.plan(replace(BASE, rate=0.001, peak_rate=None))
    requests = {k: quiet.figure(f"requests/month: {k}") for k in ("sends", "empty receives")}
    assert requests["empty receives"] > requests["sends"]  # one poll per 20 s per idle consumer
    assert quiet.usd_per_month == 0.0 and quiet.requests_per_month < plan.FREE_REQUESTS_PER_MONTH
    # AND above the free tier every request costs the queue type's price per million
    busy = plan.plan(BASE)
    assert busy.usd_per_month == pytest.approx(
        (busy.requests_per_month - 1_000_000) * plan.STANDARD_USD_PER_MILLION_REQUESTS / 1e6
    )
    fifo = plan.plan(replace(BASE, queue_type="fifo", groups=50))
    assert fifo.usd_per_month > busy.usd_per_month
    # AND a 100 KB message bills as two 64 KB chunks: single sends cost twice as many requests
    small = plan.plan(replace(BASE, message_bytes=1_000))
    big = plan.plan(replace(BASE, message_bytes=100_000))
    assert big.figure("requests/month: sends") == pytest.approx(2 * small.figure("requests/month: sends"))


def test_every_figure_names_its_source():
    p = plan.plan(replace(BASE, queue_type="fifo", groups=20))
    sources = {f.source for f in p.figures}
    assert sources <= {"you", "measured", "assumed", "model", plan.SQS_LIMITS}
    by_name = {f.name: f for f in p.figures}
    assert by_name["price per million requests"].source == plan.SQS_LIMITS
    assert (
        by_name["FIFO limit per action"].value == 300
        and by_name["FIFO limit per action"].source == "sqs-limits"
    )
    assert by_name["request latency"].source == "you"
    default_latency = plan.plan(replace(BASE, latency_seconds=None))
    assert default_latency.figure("request latency") == plan.TYPICAL_AWS_REQUEST_SECONDS
    assert "[assumed]" in next(line for line in default_latency.render().splitlines() if "latency" in line)


def test_visibility_timeout_covers_the_handlers_p99_and_advises_a_heartbeat_for_unbounded_handlers():
    slow = replace(BASE, handler=plan.parse_handler_time("exp:0.5"), batch_size=1)
    p = plan.plan(slow)
    p99 = 0.5 * math.log(100)
    assert p.visibility_timeout_seconds == math.ceil((p99 + 0.02) * plan.VISIBILITY_MARGIN)
    assert any("heartbeat" in a for a in p.advice)
    assert plan.parse_handler_time("uniform:1,3").quantile(0.99) == pytest.approx(2.98)
    assert plan.parse_handler_time("normal:1,0.5").quantile(0.99) == pytest.approx(1 + 0.5 * 2.3263, rel=1e-3)


def test_max_receive_count_keeps_chance_dead_letters_under_one_a_month():
    p = plan.plan(replace(BASE, failure_rate=0.05))
    n = p.max_receive_count
    messages = BASE.rate * plan.SECONDS_PER_MONTH
    assert messages * 0.05**n < 1 <= messages * 0.05 ** (n - 1)


def test_fifo_above_300_tps_needs_high_throughput_mode_or_batches():
    # GIVEN single sends at 1,000 msg/s on FIFO with plenty of groups
    w = replace(
        BASE,
        queue_type="fifo",
        groups=2_000,
        rate=1_000,
        batch_size=1,
        handler=plan.HandlerTime("const", (0.01,)),
    )
    p = plan.plan(w)
    assert p.figure("needs high-throughput FIFO") is True
    assert any("300 TPS" in x and "batches of 10, or" in x and "high-throughput" in x for x in p.warnings)
    # WHEN high-throughput mode is on THEN the 300 TPS warning is gone
    assert not any("300 TPS" in x for x in plan.plan(replace(w, high_throughput=True)).warnings)


def test_one_hot_fifo_group_is_refused_with_what_to_change():
    # GIVEN one group carrying 30 % of 100 msg/s, but a consumer handles only ~9.6 msg/s
    w = replace(BASE, queue_type="fifo", groups=10, group_share=0.3, rate=100)
    with pytest.raises(FifoGroupTooHot) as exc:
        plan.plan(w)
    assert "one consumer at a time" in str(exc.value) and "split that group" in exc.value.hint
    # AND too few groups for the consumers needed (each group within one consumer's speed) is a warning
    few = plan.plan(replace(BASE, queue_type="fifo", groups=6))
    assert few.consumers == 6 and any("use at least 8 groups" in x for x in few.warnings)


def test_a_visibility_timeout_below_the_handler_is_refused_and_below_p99_is_a_warning():
    with pytest.raises(VisibilityTooShort) as exc:
        plan.plan(replace(BASE, visibility_timeout_seconds=0))  # a batch takes 1.02 s on average
    assert "at least" in exc.value.hint
    warned = plan.plan(
        replace(BASE, handler=plan.parse_handler_time("exp:0.5"), batch_size=1, visibility_timeout_seconds=1)
    )
    assert any("below the p99" in x for x in warned.warnings)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rate": -1}, "rate -1"),
        ({"rate": 10, "peak_rate": 5}, "below the steady rate"),
        ({"batch_size": 11}, "batch size 11"),
        ({"message_bytes": 2_000_000}, "message size"),
        ({"batch_size": 10, "message_bytes": 200_000}, "batch limit"),
        ({"group_share": 1.5}, "busiest group share"),
        ({"utilization": 0}, "utilization"),
    ],
)
def test_impossible_inputs_are_refused_with_a_hint(change, message):
    with pytest.raises(InvalidPlanInput) as exc:
        plan.plan(replace(BASE, **change))
    assert message in str(exc.value) and exc.value.hint


def test_plans_near_aws_limits_say_so():
    w = replace(
        BASE, rate=5_000, message_bytes=600_000, batch_size=1, handler=plan.parse_handler_time("const:30")
    )
    warnings = " ".join(plan.plan(w).warnings)
    assert "messages in flight" in warnings and "message size" in warnings


@pytest.mark.parametrize(
    ("text", "per_s"), [("50", 50), ("300/min", 5), ("86400/day", 1), ("2,592,000/month", 1)]
)
def test_rates_parse_per_unit(text, per_s):
    assert plan.parse_rate(text) == pytest.approx(per_s)


def test_laws_behave_at_their_edges():
    assert plan.erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait) = ρ
    assert plan.queue_wait_seconds(10, 1, 0.2, 1.0) == math.inf  # overloaded
    one = plan.Cycle(receive=0.1, handler=0.8, delete=0.1)
    # one consumer, batch 1, three messages at once: one per second, each waiting for the one before
    assert plan.departures([0, 0, 0], 1, 1, one) == pytest.approx([1.0, 2.0, 3.0])
    # a message that arrives to an idle consumer leaves one cycle after it arrives
    assert plan.departures([0, 5], 1, 1, one) == pytest.approx([1.0, 6.0])
    # batch 10 takes all three together
    assert plan.departures([0, 0, 0], 1, 10, one) == pytest.approx([2.6, 2.6, 2.6])
    # FIFO: one group is locked while in flight, so two consumers still go one after the other (the
    # second poll already waits at the server: it costs half a round trip)...
    assert plan.departures([0, 0], 2, 1, one, groups_of=[0, 0]) == pytest.approx([1.0, 1.95])
    # ...and two groups go side by side
    assert plan.departures([0, 0], 2, 1, one, groups_of=[0, 1]) == pytest.approx([1.0, 1.0])
    # a batch takes one group's messages first: g0's two messages, not the next in send order
    assert plan.departures([0, 0, 0], 1, 2, one, groups_of=[0, 1, 0]) == pytest.approx([1.8, 2.8, 1.8])


def test_bench_prediction_follows_the_backlog_when_the_producer_outruns_the_consumers():
    # GIVEN 600 messages sent in 0.3 s to one consumer that handles 10 messages per 0.22 s
    run = plan.RunInputs(
        queue_type="standard", groups=1, consumers=1, batch_size=10,
        send_times=tuple(i * 0.0005 for i in range(600)), messages=400,
        receive_seconds=0.01, delete_seconds=0.01, handler_seconds=0.02,
    )  # fmt: skip
    p = plan.predict_load_run(run)
    assert p.processed_per_s == pytest.approx(10 / 0.22)
    # THEN the median of the 400 processed waited behind ~200 messages: 200 / 45.45 msg/s ≈ 4.4 s
    assert p.e2e_p50_seconds == pytest.approx(200 / (10 / 0.22), rel=0.05)
    # AND a FIFO queue with one group and four consumers is one lane, with the poll already waiting
    fifo = plan.predict_load_run(replace(run, queue_type="fifo", consumers=4))
    assert fifo.lanes == 1 and fifo.cycle_seconds == pytest.approx(0.005 + 0.2 + 0.01)


def test_labsqs_plan_prints_a_plan_and_refuses_bad_input_in_one_line(capsys):
    rc = cli.main(
        ["plan", "--rate", "20000/day", "--peak", "5", "--handler-time", "exp:0.3", "--latency", "0.02"]
    )
    out = capsys.readouterr().out
    assert rc == 0 and "consumers needed at peak" in out and "monthly cost" in out and "[sqs-limits]" in out
    rc = cli.main(["plan", "--rate", "50", "--queue-type", "fifo", "--groups", "1", "--latency", "0.02"])
    err = capsys.readouterr().err
    assert rc == 2 and "message group" in err and "—" in err and "Traceback" not in err
    with pytest.raises(SystemExit):
        cli.main(["plan", "--rate=-3"])
    assert "negative" in capsys.readouterr().err


def test_handler_time_is_the_load_tests_distribution():
    from labsqs import load as bench

    assert bench.parse_handler_time is plan.parse_handler_time and bench.HandlerTime is plan.HandlerTime
    with pytest.raises(InvalidLoadOption):
        plan.parse_handler_time("gamma:1")
