"""The drill: worker processes stopped at random and restarted under load, then every message accounted for.

A :class:`Drill` owns its run: the queue, the worker processes (``python -m labsqs.drill.worker``, each
in a slot), the random generator that picks when and whom to stop, and the :class:`Tally` of what it did.
Its steps are its methods — :meth:`~Drill.spawn`, :meth:`~Drill.stop`, :meth:`~Drill.restart`,
:meth:`~Drill.settle` — and :func:`~labsqs.drill.accounting.account` turns the log and the tally into a
:class:`DrillReport`.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labsqs.base.calls import receive_all
from labsqs.base.depth import read_depth, wait_drained
from labsqs.base.sqlite import BUSY_TIMEOUT_MILLISECONDS
from labsqs.drill.accounting import DrillReport, Tally, account
from labsqs.drill.log import ProcessingLog
from labsqs.drill.options import DrillOptions, QueueKind, body_uid, drill_bodies
from labsqs.idempotency import IdempotencyStore

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from labsqs.queues import Queue

WORKER_MODULE = "labsqs.drill.worker"  # what each worker process runs (python -m)
EXIT_WAIT_SECONDS = 20.0  # how long a stopped worker gets to exit before it is killed
QUEUE_RETENTION_SECONDS = 3_600  # the drill's queue keeps messages an hour: a drill is over long before


def run_drill(
    kind: QueueKind = "standard",
    messages: int = 400,
    *,
    sqs: SQSClient | None = None,
    progress: Callable[[str], None] | None = None,
    **options: Any,
) -> DrillReport:
    """Run one drill (:class:`DrillOptions` names the ``options``; ``workdir`` is required) and account for
    every message: ``Drill(DrillOptions(kind=kind, messages=messages, **options), ...).run()``.

    >>> run_drill("fifo", 300, workdir=tmp, max_stops=6, prefer_holding=True).ok
    True
    """
    return Drill(DrillOptions(kind=kind, messages=messages, **options), sqs=sqs, progress=progress).run()


@dataclass
class _Slot:
    proc: subprocess.Popen[bytes]
    started: float
    log_path: Path


class Drill:
    """Send the messages to a fresh queue (with a DLQ), run the worker processes on it, stop one every
    ``stop_every_seconds`` and start a new one in its place (``max_stops`` times, while the backlog
    lasts), wait until the queue is drained (visible, in flight and delayed all 0), stop the workers with
    SIGTERM and account for every message. The queue and its DLQ are deleted after.
    """

    def __init__(
        self, options: DrillOptions, *, sqs: SQSClient | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:  # fmt: skip
        from labsqs.client import client_endpoint, sqs_client

        self.options = options
        self.sqs = sqs or sqs_client(options.endpoint)
        self.endpoint = client_endpoint(self.sqs)
        self.say = progress or (lambda _text: None)
        self.rng = random.Random(options.seed)
        self.tally = Tally()
        self.work = Path(options.workdir)
        self.db = self.work / f"drill-{options.kind}.sqlite"
        self.bodies = drill_bodies(options.messages, groups=options.groups, poison_every=options.poison_every)
        self.slots: list[_Slot] = []

    # -- the run ----------------------------------------------------------------------------------
    def run(self) -> DrillReport:
        from labsqs.queues import delete_queue

        self.work.mkdir(parents=True, exist_ok=True)
        self.db.unlink(missing_ok=True)
        queue = self._create_queue()
        t0 = time.monotonic()
        deadline = t0 + self.options.timeout_seconds
        try:
            self._send(queue)
            self._start(queue)
            watcher = _Watcher(self.db)
            try:
                self._stop_at_random(queue, watcher, deadline)
            finally:
                watcher.close()
            self.settle(queue, deadline)
            self.tally.elapsed_seconds = time.monotonic() - t0
            dlq = receive_all(self.sqs, queue.dlq_url, then="delete") if queue.dlq_url else []
        finally:
            delete_queue(queue, sqs=self.sqs, missing_ok=True)
        dlq_bodies = [(m["MessageId"], m["Body"]) for m in dlq]
        return account(self.db, self.options, self.tally, self.bodies, dlq_bodies)

    def _create_queue(self) -> Queue:
        from labsqs.queues import QueueSpec, ensure_queue

        o = self.options
        name = f"drill-{uuid.uuid4().hex[:8]}-{o.kind}" + (".fifo" if o.kind == "fifo" else "")
        spec = QueueSpec(
            name, visibility_timeout_seconds=o.visibility_timeout, receive_wait_seconds=1,
            retention_seconds=QUEUE_RETENTION_SECONDS, max_receive_count=o.max_receive_count,
        )  # fmt: skip
        return ensure_queue(spec, sqs=self.sqs)

    def _send(self, queue: Queue) -> None:
        from labsqs.producer import send_many

        bodies = [body for _, _, body in self.bodies]
        if self.options.kind == "fifo":
            group_of = {body: group for _, group, body in self.bodies}
            report = send_many(queue, bodies, group_by=group_of.__getitem__, dedup_by=body_uid, sqs=self.sqs)
        else:
            report = send_many(queue, bodies, sqs=self.sqs)
        report.raise_for_failures()
        self.say(f"sent {self.options.messages} to {queue.name}")

    def _start(self, queue: Queue) -> None:
        o = self.options
        self._command = [
            sys.executable, "-m", WORKER_MODULE, "--queue", queue.url, "--db", str(self.db),
            "--endpoint", self.endpoint, "--wait", "1", "--workers", str(o.workers_per_process),
            "--work-ms", str(o.work_ms), "--retry-backoff", "0",
            *([] if o.fifo_guard else ["--no-fifo-guard"]),
        ]  # fmt: skip
        ProcessingLog(self.db).close()  # create the file and its tables before the workers race to
        IdempotencyStore(self.db).close()
        self.slots = [self.spawn() for _ in range(o.processes)]

    def _stop_at_random(self, queue: Queue, watcher: _Watcher, deadline: float) -> None:
        o = self.options
        while self.tally.stops < o.max_stops and time.monotonic() < deadline:
            time.sleep(self.rng.uniform(*o.stop_every_seconds))
            if read_depth(self.sqs, queue.url).visible == 0:
                break  # the backlog is gone: stopping now would only test the tail
            i = _pick(self.rng, self.slots, watcher if o.prefer_holding else None)
            victim = self.slots[i]
            if victim.proc.poll() is not None:  # it ended by itself: a crash (see its log)
                self.tally.exits.append(victim.proc.returncode)
                self.tally.crashes += 1
                self.restart(i)
                continue
            if not o.kills and not _started(victim, deadline):
                continue  # a graceful stop needs the worker's handler; SIGTERM during imports just kills
            self.tally.stops_holding += watcher.holding(victim.proc.pid)
            code = self.stop(victim)
            self.restart(i)
            self.say(
                f"{o.stop_signal.name} #{self.tally.stops} to pid {victim.proc.pid} (exit {code}); restarted"
            )

    # -- the steps --------------------------------------------------------------------------------
    def spawn(self) -> _Slot:
        """Start one worker process, its output in its own file in the work folder."""
        self.tally.spawned += 1
        log_path = self.work / f"worker-{self.options.kind}-{self.tally.spawned:03d}.log"
        with open(log_path, "wb") as out:
            proc = subprocess.Popen(
                self._command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        return _Slot(proc, time.monotonic(), log_path)

    def stop(self, slot: _Slot) -> int:
        """Send the drill's signal to one worker and wait for it to exit; its exit code."""
        slot.proc.send_signal(self.options.stop_signal)
        self.tally.stops += 1
        if self.options.kills:
            self.tally.stopped_pids.add(slot.proc.pid)
        code = _wait_exit(slot.proc, EXIT_WAIT_SECONDS)
        self.tally.exits.append(code)
        if not self.options.kills and code != 0:
            self.tally.unclean_exits += 1
        return code

    def restart(self, i: int) -> None:
        """A fresh worker process in slot ``i``."""
        self.slots[i] = self.spawn()

    def settle(self, queue: Queue, deadline: float) -> None:
        """Wait (until ``deadline``) for the queue to drain while a worker lives, then stop every worker
        gracefully (SIGTERM) and note how each exited."""
        left = max(0.0, deadline - time.monotonic())
        self.tally.drained = wait_drained(
            self.sqs, [queue.url], timeout_seconds=left,
            alive=lambda: any(s.proc.poll() is None for s in self.slots),
        )  # fmt: skip
        for s in self.slots:
            if s.proc.poll() is None:
                _started(s, time.monotonic() + EXIT_WAIT_SECONDS)  # SIGTERM before its handler is set kills
                s.proc.send_signal(signal.SIGTERM)
        for s in self.slots:
            code = _wait_exit(s.proc, EXIT_WAIT_SECONDS)
            self.tally.exits.append(code)
            if code != 0:
                self.tally.unclean_exits += 1


class _Watcher:
    """Read-only look at the drill's log while the workers run."""

    def __init__(self, db: Path) -> None:
        self._db = sqlite3.connect(db, timeout=BUSY_TIMEOUT_MILLISECONDS / 1000)

    def holding(self, pid: int) -> int:
        """1 when ``pid`` has received messages it has not settled (committed, skipped or failed)."""
        (got,) = self._db.execute("SELECT COUNT(*) FROM deliveries WHERE pid = ?", (pid,)).fetchone()
        settled = 0
        for table in ("processed", "skips", "failures", "duplicates"):
            (n,) = self._db.execute(f"SELECT COUNT(*) FROM {table} WHERE pid = ?", (pid,)).fetchone()  # noqa: S608
            settled += n
        return int(got > settled)

    def close(self) -> None:
        self._db.close()


def _pick(rng: random.Random, slots: list[_Slot], watcher: _Watcher | None, patience_s: float = 3.0) -> int:
    """A random slot; with a watcher, a random one among those holding unsettled messages — waiting up to
    ``patience_s`` for one (workers that are still starting hold nothing) — else a random one."""
    deadline = time.monotonic() + patience_s
    while watcher is not None:
        holding = [i for i, s in enumerate(slots) if s.proc.poll() is None and watcher.holding(s.proc.pid)]
        if holding:
            return rng.choice(holding)
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
    return rng.randrange(len(slots))


def _started(slot: _Slot, deadline: float) -> bool:
    """Wait until a worker process has said it is consuming (its signal handlers are in place)."""
    while time.monotonic() < deadline and slot.proc.poll() is None:
        if b" consuming " in slot.log_path.read_bytes():
            return True
        time.sleep(0.05)
    return False


def _wait_exit(proc: subprocess.Popen[bytes], seconds: float) -> int:
    try:
        return proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()
