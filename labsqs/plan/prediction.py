"""The planner checked against a measured load run (``labsqs bench``): :func:`predict_load_run` takes what a
run measured as *inputs* (when messages were sent, the latencies and handler times its consumers saw) and
plays the consumers' loop forward (:func:`departures`) to predict its throughput and median latency."""

from __future__ import annotations

import bisect
import heapq
import math
import statistics
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from labsqs.plan.assumptions import NEAR_CAPACITY_FRACTION
from labsqs.plan.laws import consumer_cycle_seconds, parallel_lanes


@dataclass(frozen=True)
class Cycle:
    """One consumer's request latencies and handler time (seconds)."""

    receive: float
    handler: float
    delete: float


@dataclass(frozen=True)
class RunInputs:
    """What one load run measured that the model takes as *inputs* (never its results): when each message
    was sent (the offered load as it happened), the request latencies and handler times the consumers saw,
    and how many messages the run processed (the sample its latency percentiles are taken over)."""

    queue_type: str
    groups: int
    consumers: int
    batch_size: int
    send_times: tuple[float, ...]  # seconds, ascending
    messages: int  # processed within the run's bounds
    receive_seconds: float  # mean receive that returned messages, + the consumer's turn-around before it
    delete_seconds: float  # mean duration of a delete request
    handler_seconds: float  # mean measured handler time per message
    handler_samples: tuple[float, ...] = ()  # measured handler times, in the order they happened
    groups_of: tuple[int, ...] = ()  # FIFO: each sent message's group, aligned with send_times
    send_seconds: float = 0.0  # mean send request: the latency clock starts before it, arrival after it
    # the cycle as measured window by window ((start, Cycle), ascending): client and engine share the cores,
    # so requests slow down while the producer sends flat out or the machine is busy with something else
    windows: tuple[tuple[float, Cycle], ...] = ()

    @property
    def sent_per_s(self) -> float:
        t = self.send_times
        return (len(t) - 1) / (t[-1] - t[0]) if len(t) > 1 and t[-1] > t[0] else math.inf


@dataclass(frozen=True)
class RunPrediction:
    processed_per_s: float
    e2e_p50_seconds: float
    lanes: int
    cycle_seconds: float
    notes: tuple[str, ...]


def handoff_seconds(round_trip_seconds: float) -> float:
    """What a long poll already waiting at the server costs once its message is there: the answer's way
    back, taken as half a plain round trip (an assumption of the model, checked by ``labsqs bench``)."""
    return round_trip_seconds / 2


@dataclass
class _Backlog:
    """The messages no consumer took yet, queued per group (one group on a standard queue), and when each
    FIFO group unlocks (its last receive's delete)."""

    arrivals: Sequence[float]
    keys: list[int]
    fifo: bool
    pending: dict[int, deque[int]] = field(default_factory=dict)
    unlock: dict[int, float] = field(default_factory=dict)

    @classmethod
    def of(cls, arrivals: Sequence[float], groups_of: Sequence[int]) -> _Backlog:
        fifo = bool(groups_of)
        backlog = cls(arrivals, list(groups_of) if fifo else [0] * len(arrivals), fifo)
        for k, key in enumerate(backlog.keys):
            backlog.pending.setdefault(key, deque()).append(k)
        return backlog

    def _unlocks(self, group: int) -> float:
        return self.unlock.get(group, -math.inf)

    def next_ready(self) -> tuple[float, int]:
        """When the oldest message a consumer may take is there (arrived, group unlocked), and its group."""
        return min((max(self.arrivals[q[0]], self._unlocks(g)), g) for g, q in self.pending.items() if q)

    def handed_over(self, group: int, start: float, lane_free: float) -> bool:
        """Whether a poll that waited got ``group`` as it unlocked (the poll was already at the server)."""
        waited_for_unlock = self._unlocks(group) > self.arrivals[self.pending[group][0]]
        return self.fifo and start > lane_free and waited_for_unlock

    def take(self, looks: float, batch: int) -> list[int]:
        """A receive answered at ``looks`` gets: up to ``batch`` messages, group by group, oldest first."""
        heads = sorted(
            (self.arrivals[q[0]], g)
            for g, q in self.pending.items()
            if q and self.arrivals[q[0]] <= looks and self._unlocks(g) <= looks
        )
        taken: list[int] = []
        for _, g in heads:
            q = self.pending[g]
            while q and len(taken) < batch and self.arrivals[q[0]] <= looks:
                taken.append(q.popleft())
            if len(taken) >= batch:
                break
        return taken

    def deleted(self, taken: list[int], end: float, done: list[float]) -> None:
        for k in taken:
            done[k] = end
            if self.fifo:
                self.unlock[self.keys[k]] = end


def _handling_seconds(taken: list[int], handler_samples: Sequence[float], mean_handler: float) -> float:
    if handler_samples:
        m = len(handler_samples)
        return sum(handler_samples[k % m] for k in taken)  # measured in time order: stalls included
    return len(taken) * mean_handler


def departures(
    arrivals: Sequence[float],
    lanes: int,
    batch: int,
    cycle: Cycle,
    *,
    windows: Sequence[tuple[float, Cycle]] = (),
    handler_samples: Sequence[float] = (),
    groups_of: Sequence[int] = (),
) -> list[float]:
    """When each message (in arrival order) is deleted, by playing the consumers' loop forward.

    ``lanes`` consumers poll; a free one takes the waiting messages up to ``batch`` (a long poll on an
    empty queue returns when the next message arrives), is answered ``receive`` seconds later, handles
    them one after another and deletes them together. Messages that arrive faster than the lanes turn over
    wait behind the backlog ahead of them — Little's law, step by step.

    FIFO (``groups_of`` gives each message's group): a receive takes as many messages of one group as it
    can, then of the next (oldest first), and a group is locked from its receive until its delete; a poll
    that waited for a group to unlock is already at the server, so it costs only :func:`handoff_seconds`.
    A poll uses the cycle of the ``windows`` entry it starts in (the latencies measured then), else
    ``cycle``. With ``handler_samples`` message *k* takes the *k*-th sample (cycling), not the mean."""
    backlog = _Backlog.of(arrivals, groups_of)
    done = [math.nan] * len(arrivals)
    free = [arrivals[0] if arrivals else 0.0] * max(lanes, 1)
    heapq.heapify(free)
    starts = [t for t, _ in windows]
    left = len(arrivals)
    while left:
        lane_free = heapq.heappop(free)
        ready, group = backlog.next_ready()
        start = max(lane_free, ready)
        w = bisect.bisect_right(starts, start) - 1
        c = windows[w][1] if w >= 0 else cycle
        receive = handoff_seconds(c.delete) if backlog.handed_over(group, start, lane_free) else c.receive
        taken = backlog.take(start + receive / 2, batch)  # the server looks half-way through the round trip
        end = start + receive + _handling_seconds(taken, handler_samples, c.handler) + c.delete
        backlog.deleted(taken, end, done)
        left -= len(taken)
        heapq.heappush(free, end)
    return done


def predict_load_run(run: RunInputs) -> RunPrediction:
    """Predict a load run's processed msg/s and median end-to-end latency from its measured inputs.

    Throughput: ``lanes × batch / cycle`` (lanes = consumers, or message groups on FIFO), capped by the
    offered rate. With more FIFO consumers than groups, a group is handed to a long poll that already waits
    at the server: that lane's receive costs only the answer's way back, taken as half a plain round trip
    (half the delete's measured latency: a request that never waits); the cycle uses the run's mean latencies,
    which weigh each phase of the run by its requests. Latency (send → deleted): the send request, then each
    message in send order leaves when a place frees up (:func:`departures`), each poll with the latencies
    measured in its part of the run; the median is over the messages the run processed, as
    Locust's is.
    """
    b = run.batch_size
    lanes = parallel_lanes(run.queue_type, run.consumers, run.groups)
    waiting_poll = run.queue_type == "fifo" and run.consumers > lanes
    receive = handoff_seconds(run.delete_seconds) if waiting_poll else run.receive_seconds
    cycle = consumer_cycle_seconds(b, run.handler_seconds, receive, run.delete_seconds)
    capacity = lanes * b / cycle if cycle > 0 else math.inf
    notes: list[str] = []
    if waiting_poll:
        notes.append(
            f"FIFO: {run.consumers} consumers share {lanes} group lane(s); the next poll already waits, "
            "so a lane's receive costs only the answer's way back (half a round trip, assumed)"
        )
    offered = run.sent_per_s
    if abs(offered / capacity - 1) < NEAR_CAPACITY_FRACTION:
        notes.append(
            f"offered {offered:.0f} msg/s is within {NEAR_CAPACITY_FRACTION:.0%} of capacity {capacity:.0f}: "
            "whether a backlog builds (and so the median latency) hinges on noise the model cannot see"
        )
    elif offered < capacity:
        notes.append("offered rate below capacity: consumers keep up, latency = handling, not backlog")
    windows = tuple(
        (t, replace(c, receive=handoff_seconds(c.delete)) if waiting_poll else c) for t, c in run.windows
    )
    arrivals = run.send_times
    steady = Cycle(receive, run.handler_seconds, run.delete_seconds)
    leave = departures(
        arrivals,
        run.consumers,
        b,
        steady,
        windows=windows,
        handler_samples=run.handler_samples,
        groups_of=run.groups_of if run.queue_type == "fifo" else (),
    )
    # Locust's percentiles cover the messages the run processed: the first ones to leave
    order = sorted(range(len(leave)), key=leave.__getitem__)[: max(run.messages, 1)]
    waits = [run.send_seconds + leave[k] - arrivals[k] for k in order]
    e2e = statistics.median(waits) if waits else math.nan
    return RunPrediction(min(capacity, offered), e2e, lanes, cycle, tuple(notes))
