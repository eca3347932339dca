"""The consumer's FIFO guard rules, in memory (no engine, milliseconds): when a receive may be a batch, and
when a failed head counts as settled. tests/test_consumer.py shows the same rules on the real engine (a
poison head's followers are processed on their 2nd receive instead of dead-lettered)."""

from __future__ import annotations

import time

from labsqs.consumer import FIFO_GUARD_MARGIN_SECONDS, FifoGuard, Message, guarded_receive


def msg(message_id: str, group: str) -> Message:
    return Message(message_id, f"rh-{message_id}", "{}", "url", {"MessageGroupId": group})


def test_batches_go_on_while_no_failed_head_can_come_back_during_the_receive():
    # GIVEN no unsettled head: a batch with the full long poll
    assert guarded_receive(10, 20, None) == (10, 20)
    # a head hidden for longer than the long poll (+ margin): still a full batch
    assert guarded_receive(10, 20, 20 + FIFO_GUARD_MARGIN_SECONDS) == (10, 20)
    # hidden for a few more seconds: a batch whose long poll ends before the head may reappear
    assert guarded_receive(10, 20, 5.8) == (10, 5)
    # visible now, or within a second: one message at a time (the head would come alone)
    assert guarded_receive(10, 20, 1.2) == (1, 20)
    assert guarded_receive(10, 1, -3.0) == (1, 1)
    # a consumer that receives one at a time anyway is left alone
    assert guarded_receive(1, 20, -3.0) == (1, 20)


def test_a_failed_head_settles_when_processed_or_when_a_later_message_of_its_group_arrives():
    guard = FifoGuard()
    now = time.time()
    guard.put("A", "a1", now + 1)
    guard.put("B", "b1", now + 1)
    assert 0 < (guard.visible_in() or 0) <= 1
    # WHEN the head of A comes back (a receive returned it, alone): hidden again until its new deadline
    guard.received([msg("a1", "A")], now + 30)
    assert guard.heads()["A"] == ("a1", now + 30)
    # WHEN a receive returns a later message of B: B's head is gone (processed elsewhere, or in the DLQ)
    guard.received([msg("b2", "B"), msg("c1", "C")], now + 30)
    assert set(guard.heads()) == {"A"}
    # a batch holding the head and later messages (LocalStack reopening a group) keeps the head unsettled
    guard.received([msg("a1", "A"), msg("a7", "A")], now + 40)
    assert guard.heads() == {"A": ("a1", now + 40)}
    # WHEN a processed message is deleted: only the head itself settles its group
    guard.settled([msg("a7", "A")])
    assert set(guard.heads()) == {"A"}
    guard.settled([msg("a1", "A")])
    assert guard.heads() == {} and guard.visible_in() is None


def test_dropping_a_head_that_was_replaced_keeps_the_new_one():
    # GIVEN a group whose head moved on (a1 settled elsewhere, a2 failed since)
    guard = FifoGuard()
    guard.put("A", "a2", time.time() + 1)
    # WHEN a stale record of a1 is dropped
    guard.drop({"A": "a1"})
    # THEN a2 stays unsettled
    assert guard.heads()["A"][0] == "a2"
