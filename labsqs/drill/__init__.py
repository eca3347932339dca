"""The fault drill: a consumer *process* that survives crashes — and a drill that kills it to prove it.

SQS promises *at-least-once* delivery, and a process can die at any instruction. Follow one message
through a worker that is killed (``SIGKILL``: no cleanup, no ``finally``) at the worst moments:

1. **killed after the receive, before the work** — the message is in flight, hidden from everyone for
   the visibility timeout. Nobody deletes it, so it reappears and another worker processes it. Nothing
   is lost; SQS's clock is the safety net.
2. **killed halfway through the work** — same as 1, *provided the work left no half-done trace*.
3. **killed after the work, before the delete** — the dangerous one. The effect happened, but SQS does
   not know: the message comes back and, unless the worker can tell, the work runs twice.

The cure for 2 and 3 is one rule: **commit the work's effect and the idempotency mark in one
transaction**. The worker's effect is a row in a *processing log* (a stand-in for "write the order to the
database"), and the log lives in the same SQLite file as the :class:`~labsqs.idempotency.IdempotencyStore`,
so one ``BEGIN IMMEDIATE … COMMIT`` writes the row and marks the message done — both or neither. Then a
redelivery after case 3 finds the mark and is skipped (``duplicates_skipped``), and case 2 leaves nothing
behind. *Processed* here means exactly "committed": that is what lets the drill's counts balance.

The rooms:

- :mod:`labsqs.drill.log` — :class:`ProcessingLog` (what the workers record, in one SQLite file) and
  :class:`SharedFifoGuard` (the consumer's FIFO guard, shared by every worker process through that file);
- :mod:`labsqs.drill.worker` — the worker process, ``python -m labsqs.drill.worker --queue URL --db FILE``
  (:class:`~labsqs.drill.worker.Worker`; not imported here, so ``-m`` runs it cleanly);
- :mod:`labsqs.drill.options` — :class:`DrillOptions` and the bodies a drill sends;
- :mod:`labsqs.drill.drill` — :class:`Drill`: N messages, three worker processes, each stopped (``SIGKILL``)
  at random moments and restarted; :func:`run_drill` runs one (``python benchmarks/faults.py``);
- :mod:`labsqs.drill.accounting` — :class:`DrillReport`: an account of every message.
"""

from labsqs.drill.accounting import DrillReport, Tally, account, dlq_causes
from labsqs.drill.drill import Drill, run_drill
from labsqs.drill.log import ProcessingLog, SharedFifoGuard
from labsqs.drill.options import POISON_PREFIX, DrillOptions, QueueKind, body_uid, drill_bodies

__all__ = [
    "POISON_PREFIX",
    "Drill",
    "DrillOptions",
    "DrillReport",
    "ProcessingLog",
    "QueueKind",
    "SharedFifoGuard",
    "Tally",
    "account",
    "body_uid",
    "dlq_causes",
    "drill_bodies",
    "run_drill",
]
