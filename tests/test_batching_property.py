"""Properties of the batch planner, for any list of message sizes SQS would accept one by one:
every message lands in exactly one batch, order is kept, no batch breaks SQS's limits (10 entries,
1 MiB total), and no batch is cut early (which would cost extra requests)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labsqs.base.limits import MAX_BATCH_BYTES, MAX_BATCH_ENTRIES
from labsqs.errors import BatchError
from labsqs.producer import OutgoingMessage, plan_batches


def messages_of(sizes: list[int]) -> list[OutgoingMessage]:
    return [OutgoingMessage(id=str(i), body="x", size_bytes=size) for i, size in enumerate(sizes)]


# small messages (many per batch), large ones (few per batch), and the exact limit
sizes = st.lists(
    st.one_of(
        st.integers(1, 2_000),
        st.integers(100_000, MAX_BATCH_BYTES),
        st.just(MAX_BATCH_BYTES),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(sizes)
def test_every_message_in_exactly_one_batch_in_order(sizes: list[int]):
    messages = messages_of(sizes)
    batches = plan_batches(messages)
    flattened = [m for batch in batches for m in batch]
    assert flattened == messages  # each once, same order
    assert all(batch for batch in batches)  # no empty batch


@settings(max_examples=300, deadline=None)
@given(sizes)
def test_no_batch_over_ten_entries_or_one_mib(sizes: list[int]):
    for batch in plan_batches(messages_of(sizes)):
        assert len(batch) <= MAX_BATCH_ENTRIES
        assert sum(m.size_bytes for m in batch) <= MAX_BATCH_BYTES


@settings(max_examples=300, deadline=None)
@given(sizes)
def test_a_batch_closes_only_when_the_next_message_does_not_fit(sizes: list[int]):
    batches = plan_batches(messages_of(sizes))
    for batch, following in zip(batches, batches[1:], strict=False):
        full = len(batch) == MAX_BATCH_ENTRIES
        overflow = sum(m.size_bytes for m in batch) + following[0].size_bytes > MAX_BATCH_BYTES
        assert full or overflow


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(1, 1_000), min_size=1, max_size=200), st.integers(1, 10), st.integers(1_000, 5_000)
)
def test_custom_limits_are_honoured(sizes: list[int], max_entries: int, max_bytes: int):
    batches = plan_batches(messages_of(sizes), max_entries=max_entries, max_batch_bytes=max_bytes)
    assert [m.id for b in batches for m in b] == [str(i) for i in range(len(sizes))]
    assert all(len(b) <= max_entries and sum(m.size_bytes for m in b) <= max_bytes for b in batches)


def test_a_message_larger_than_a_batch_is_refused():
    with pytest.raises(BatchError, match="more than a whole batch"):
        plan_batches(messages_of([10, MAX_BATCH_BYTES + 1]))


def test_empty_input_plans_no_batch():
    assert plan_batches([]) == []
