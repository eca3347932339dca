"""The low-level layer (labsqs.base) against the real engine: chunked batch calls, receive-everything,
depth and drain, the developer endpoint, the shared failures table."""

from __future__ import annotations

import pytest

from labsqs.base import calls, depth, developer, limits
from labsqs.base.sqlite import MAX_FAILURE_BODY_CHARS, FailureLog
from labsqs.errors import QueueNotFound, ReceiptHandleError


def _send(sqs, url: str, count: int, **extra) -> None:
    for start, chunk in calls.chunked(range(count)):
        entries = [{"Id": str(i), "MessageBody": f"m{start + i}", **extra} for i, _ in enumerate(chunk)]
        assert not sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed")


def test_chunked_splits_at_the_batch_limit():
    chunks = list(calls.chunked(list(range(23))))
    assert [start for start, _ in chunks] == [0, 10, 20]
    assert [len(c) for _, c in chunks] == [10, 10, 3]
    assert limits.MAX_BATCH_ENTRIES == 10


def test_receive_all_releases_deletes_or_keeps(sqs, make_queue):
    url = make_queue("all")
    _send(sqs, url, 23)
    released = calls.receive_all(sqs, url)
    assert sorted(m["Body"] for m in released) == sorted(f"m{i}" for i in range(23))
    assert depth.read_depth(sqs, url) == depth.Depth(23, 0, 0)  # handed back at once
    kept = calls.receive_all(sqs, url, limit=5, then="keep", hold_seconds=30)
    assert len(kept) == 5 and depth.read_depth(sqs, url) == depth.Depth(18, 5, 0)
    deleted = calls.receive_all(sqs, url, then="delete")
    assert len(deleted) == 18 and depth.read_depth(sqs, url).total == 5


def test_batch_calls_report_refused_entries_as_data(sqs, make_queue):
    url = make_queue("refused")
    _send(sqs, url, 12)
    got = calls.receive_messages(sqs, url, wait_time_seconds=1) + calls.receive_messages(
        sqs, url, wait_time_seconds=1
    )
    handles = [m["ReceiptHandle"] for m in got]
    failed = calls.change_visibility(sqs, url, [("not-a-handle", 5), *[(h, 5) for h in handles]])
    assert [f["Id"] for f in failed] == ["0"]  # the refused entry, as data; the other 12 changed
    assert calls.delete_messages(sqs, url, handles) == []
    with pytest.raises(ReceiptHandleError) as info:
        calls.delete_message(sqs, url, "not-a-handle")
    assert "receive the message again" in info.value.hint


def test_missing_queue_is_queue_not_found_with_a_hint(sqs, make_queue):
    url = make_queue("gone")
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(QueueNotFound) as info:
        depth.read_depth(sqs, url)
    assert "ensure_queue" in info.value.hint


def test_wait_drained_sees_the_queue_empty_and_gives_up_on_a_full_one(sqs, make_queue):
    url = make_queue("drain")
    seen: list[dict] = []
    assert depth.wait_drained(sqs, [url], poll_seconds=0.05, timeout_seconds=5, on_poll=seen.append)
    assert len(seen) == depth.DRAIN_SETTLE_POLLS
    _send(sqs, url, 1)
    assert not depth.wait_drained(sqs, [url], poll_seconds=0.05, timeout_seconds=0.3)
    assert not depth.wait_drained(sqs, [url], poll_seconds=0.05, alive=lambda: False)


def test_peek_lists_hidden_messages_without_receiving(sqs, make_queue):
    url = make_queue("peek")
    _send(sqs, url, 3)
    calls.receive_all(sqs, url, limit=1, then="keep")
    peeked = developer.peek_messages(sqs, url)
    if peeked is None:
        pytest.skip("this engine has no developer endpoint (moto)")
    assert len(peeked) == 3
    assert sorted(m["Attributes"]["IsVisible"] for m in peeked) == ["false", "true", "true"]
    assert depth.read_depth(sqs, url) == depth.Depth(2, 1, 0)  # the peek changed nothing


def test_developer_endpoint_is_none_on_aws():
    class Meta:
        endpoint_url = "https://sqs.eu-west-1.amazonaws.com"

    class Client:
        meta = Meta()

    assert developer.developer_endpoint(Client()) is None


def test_failure_log_keeps_one_table_with_one_body_limit(tmp_path):
    with FailureLog(tmp_path / "f.sqlite", schema="CREATE TABLE IF NOT EXISTS other (x INTEGER);") as log:
        log.record_failure(message_id="m1", receive_count=1, reason="bad JSON", body="x" * 5000, stage="pdf")
        log.record_failure(message_id="m1", receive_count=2, reason="bad JSON", body="{", error="ValueError")
        rows = log.failure_rows()
        assert [r["receive_count"] for r in rows] == [1, 2]
        assert len(rows[0]["body"]) == MAX_FAILURE_BODY_CHARS and rows[0]["stage"] == "pdf"
        assert log.failure_counts() == (2, 1)
        assert list(log.failures().columns)[:2] == ["stage", "message_id"]
