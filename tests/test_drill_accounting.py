"""The drill's account, without an engine: a processing log written by hand, then :func:`account` on it.

The drills in tests/test_faults.py prove the workers on the real engine; these prove the bookkeeping that
judges them — each duplicate delivery settled exactly one way, a DLQ'd healthy message blamed on poison
only when a poison head dragged it, and bad options refused before any request.
"""

from __future__ import annotations

import json

import pytest

from labsqs.consumer import Message
from labsqs.drill import DrillOptions, ProcessingLog, Tally, account, dlq_causes, drill_bodies, run_drill
from labsqs.errors import InvalidConsumerOption
from labsqs.idempotency import IdempotencyStore

URL = "http://127.0.0.1:1/000000000000/q"


def _raw(message_id: str, handle: str, receive_count: int, group: str | None = None) -> dict:
    attributes = {"ApproximateReceiveCount": str(receive_count)}
    if group is not None:
        attributes["MessageGroupId"] = group
    return {"MessageId": message_id, "ReceiptHandle": handle, "Body": "{}", "Attributes": attributes}


def _deliver(log: ProcessingLog, pid: int, receive_no: int, *raws: dict) -> list[Message]:
    log.pid = pid  # the log writes as the process that holds it: play several processes
    log.record_deliveries(raws, receive_no)
    return [Message.from_sqs(raw, URL) for raw in raws]


def test_each_duplicate_delivery_is_settled_one_way_and_an_unsettled_one_fails_the_drill(tmp_path):
    # GIVEN three messages (u000000 to u000002; the last is poison) and a log in which
    bodies = drill_bodies(3, groups=1, poison_every=3)
    db = tmp_path / "drill.sqlite"
    IdempotencyStore(db).close()  # the marks' table, as every worker opens it beside the log
    with ProcessingLog(db) as log:
        # m0 is committed by pid 1, redelivered to pid 2 (which skips it) and to pid 3 (killed before asking)
        (m0,) = _deliver(log, 1, 1, _raw("m0", "h0-1", 1))
        assert log.commit(m0, uid="u000000")
        _deliver(log, 2, 1, _raw("m0", "h0-2", 2))
        log.record_skip("m0", "h0-2")
        _deliver(log, 3, 1, _raw("m0", "h0-3", 3))
        # m1 is committed by pid 1, then redelivered to pid 4 — alive, and it never asked the store
        (m1,) = _deliver(log, 1, 2, _raw("m1", "h1-1", 1))
        assert log.commit(m1, uid="u000001")
        _deliver(log, 4, 1, _raw("m1", "h1-2", 2))
        # the poison message fails with its reason recorded, and SQS moves it to the DLQ
        (m2,) = _deliver(log, 2, 2, _raw("m2", "h2-1", 1))
        log.record_error(m2, ValueError("not JSON"))
    tally = Tally(spawned=5, stops=1, stopped_pids={3}, drained=True)

    # WHEN the drill accounts for every message
    report = account(db, DrillOptions(workdir=tmp_path), tally, bodies, [("m2", bodies[2][2])])

    # THEN nothing is lost and the poison message is in the DLQ with its reason
    assert report.lost == [] and report.unexpected == [] and report.processed == 2
    assert report.in_dlq == report.dlq_poison == report.dlq_with_reason == 1
    # AND of the three duplicate deliveries one was skipped, one cut by the kill, one left unaccounted
    assert report.duplicate_deliveries == 3 and report.duplicates_skipped == 1
    assert report.duplicates_cut_by_kill == 1 and report.duplicates_unaccounted == 1
    assert report.skips_unmatched == 0 and report.restarts == 2
    # AND that unaccounted delivery fails the drill
    assert not report.ok and report.figures()["ok"] is False


def test_a_healthy_message_is_blamed_on_poison_only_when_a_failing_poison_head_dragged_it():
    # GIVEN one receive that returned a poison head and its follower of group g, and another receive of
    # group h whose follower came back alone (its first delivery went to a killed process)
    deliveries = [
        {"pid": 1, "receive_no": 1, "message_id": "p", "receipt_handle": "hp", "grp": "g"},
        {"pid": 1, "receive_no": 1, "message_id": "a", "receipt_handle": "ha", "grp": "g"},
        {"pid": 2, "receive_no": 1, "message_id": "b", "receipt_handle": "hb", "grp": "h"},
    ]
    failures = [{"message_id": "p", "receipt_handle": "hp", "body": "not-json:u1"}]
    # WHEN both healthy messages end up in the DLQ
    # THEN only the one in the poison head's batch is poison's
    assert dlq_causes(deliveries, failures, {"a", "b"}) == {"a"}


@pytest.mark.parametrize(
    "options",
    [{"processes": 0}, {"messages": 0}, {"max_stops": -1}],
    ids=["no processes", "no messages", "negative stops"],
)
def test_a_drill_refuses_bad_options_before_any_request(options, tmp_path):
    # GIVEN a bad option WHEN a drill is asked to run with it (no engine at the endpoint)
    with pytest.raises(InvalidConsumerOption, match="a drill needs"):
        run_drill("standard", **{"messages": 10, **options}, workdir=tmp_path, endpoint="http://127.0.0.1:1")
    # THEN it is refused before the work folder was even used
    assert list(tmp_path.iterdir()) == []


def test_drill_bodies_number_each_group_in_order_and_poison_every_nth():
    # GIVEN 6 messages over 2 groups, every 3rd poison WHEN the drill makes its bodies
    bodies = drill_bodies(6, groups=2, poison_every=3)
    # THEN the groups alternate, each group's seq counts up, and messages 3 and 6 are non-JSON poison
    assert [group for _, group, _ in bodies] == ["g00", "g01"] * 3
    assert [body for _, _, body in bodies if not body.startswith("{")] == [
        "not-json:u000002",
        "not-json:u000005",
    ]
    assert json.loads(bodies[3][2]) == {"uid": "u000003", "group": "g01", "seq": 1}
