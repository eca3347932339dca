"""Load-testing SQS with Locust: producers, consumers, and the latency a message really sees.

Locust simulates many *users*, each a small loop of *tasks*, on gevent greenlets: thousands of them fit
in one process because a user waiting on the network costs nothing. For SQS the users are:

:class:`ProducerUser`
    sends messages — one at a time (``SendMessage``) or in batches of up to 10 (``SendMessageBatch``),
    to a standard queue or to a FIFO queue, spreading messages over N *message groups*. Each message
    carries its send time in its body, and each producer stops after ``--max-messages``.
:class:`ConsumerUser`
    receives up to ``--batch-size`` messages (long polling ``--wait-time`` s), runs a simulated handler
    for each — its duration drawn from ``--handler-time`` (``const:0.02``, ``uniform:0.05,0.2``,
    ``exp:0.1`` ...) — then deletes them with one ``DeleteMessageBatch``. With ``--crash-probability p``
    a consumer *crashes* while holding a batch: it stops without deleting, and the messages come back
    only when their visibility timeout runs out. A consumer that is *stopped* (end of the run) behaves
    well instead: it deletes what it finished and hands the rest back (visibility 0).

Every SQS call is timed with ``environment.events.request.measure("SQS", "<Action>")`` — one Locust
entry per API action, failures recorded as failures, never encoded in the request type. A second kind of
entry, ``E2E latency``, is the time from a message's send to its deletion after processing: what a user
of your system waits, queueing included. (The send time travels in the body; across machines that needs
synchronised clocks.)

The lab also keeps its own books, per process: an event log (sent, received, handled, deleted, crashed,
released — with the message id) and counters, written at the end of the test to
``<--lab-out>.<pid>.events.csv`` / ``.counters.json``. ``labsqs bench`` merges them across processes to
count duplicate processing (a message handled twice), redeliveries, and the delay before a crashed
consumer's message is delivered again — and to check that every sent message is accounted for.

Run it through a thin locustfile (``loadtests/throughput.py``, ``loadtests/visibility.py``), which adds the
lab's options (:func:`add_options`), attaches the listeners (:func:`attach`) and subclasses the users::

    locust -f loadtests/throughput.py --headless -u 5 -r 5 -t 20s --queue-type fifo --groups 10

Without ``--queue-url`` the queue (and its DLQ) is created when the test starts and deleted when Locust
quits (``--keep-queue`` keeps it). With one process (no ``--processes``/``--master``) the run also stops by
itself once every producer is done and the queue is empty.

Import order matters: ``import locust`` patches sockets and SSL for gevent and must come before boto3
is imported, which is why this module imports it first. Never import this module in a Jupyter kernel or
a pytest process: run Locust as a subprocess (``labsqs bench`` does). The Locust side stands on the load
spec and the accounting (:mod:`labsqs.load.spec`, :mod:`labsqs.load.accounting`), never on the
orchestrator, and imports no pandas: Locust starts in a fraction of a second.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gevent
import locust  # noqa: I001 — first: gevent patches sockets/ssl before boto3 and urllib3 are imported
from locust import User, task
from locust.runners import MasterRunner, WorkerRunner
from locust.stats import CSV_STATS_INTERVAL_SEC

from labsqs.load.accounting import E2E_NAME, E2E_REQUEST_TYPE, REQUEST_TYPE, lab_message
from labsqs.load.process import LoadRun, add_options, run_of
from labsqs.load.spec import MAX_RUN_SECONDS, LoadConfig
from labsqs.plan import parse_handler_time

if TYPE_CHECKING:
    from locust.env import Environment

__all__ = [
    "ConsumerUser",
    "LoadRun",
    "ProducerUser",
    "Received",
    "SqsUser",
    "add_options",
    "attach",
    "run_of",
]

log = logging.getLogger("labsqs.load")

COUNTERS_MESSAGE = "labsqs_counters"  # worker → master, at the end of a test
IDLE_SLEEP_SECONDS = 0.5  # a producer past its quota, or a user after an error, rests this long


# --- lifecycle listeners -------------------------------------------------------------------------
def on_init(environment: Environment, **_: Any) -> None:
    """Per process: the run's state; exact user counts from --producers/--consumers."""
    run = run_of(environment)
    o = environment.parsed_options
    if o is not None:
        for cls in environment.user_classes:
            if issubclass(cls, ProducerUser) and o.producers:
                cls.fixed_count = o.producers
            if issubclass(cls, ConsumerUser) and o.consumers:
                cls.fixed_count = o.consumers
    if o is not None and not isinstance(environment.runner, WorkerRunner) and run.endpoint is None:
        guard_aws_costs(environment)
    if isinstance(environment.runner, MasterRunner):

        def on_counters(environment: Environment, msg: Any, **_: Any) -> None:
            run.worker_counters[str(msg.node_id)] = dict(msg.data)

        environment.runner.register_message(COUNTERS_MESSAGE, on_counters)


def planned_config(environment: Environment) -> LoadConfig:
    """The :class:`LoadConfig` this Locust command line plans: users by --producers/--consumers or by class
    weight over -u, messages = --max-messages per producer, duration = -t (else the lab's longest run)."""
    o: Any = environment.parsed_options
    users = int(getattr(o, "num_users", None) or 1)
    weights = {"producers": 0, "consumers": 0}
    for cls in environment.user_classes:
        if issubclass(cls, ProducerUser):
            weights["producers"] += cls.weight
        elif issubclass(cls, ConsumerUser):
            weights["consumers"] += cls.weight
    total = sum(weights.values()) or 1
    producers = o.producers or max(1, round(users * weights["producers"] / total))
    consumers = o.consumers or max(0, users - producers)
    return LoadConfig(
        "throughput",
        queue_type=o.queue_type,
        groups=o.groups,
        producers=producers,
        consumers=consumers,
        batch_size=o.batch_size,
        visibility_timeout_seconds=o.visibility_timeout,
        handler_time=o.handler_time,
        crash_probability=o.crash_probability,
        max_receive_count=o.max_receive_count,
        messages=o.max_messages * producers,
        wait_time_seconds=o.wait_time,
        duration_seconds=int(getattr(o, "run_time", None) or MAX_RUN_SECONDS),
    )


def guard_aws_costs(environment: Environment) -> None:
    """Against real AWS: print the planned run's requests and cost (labsqs.plan); exit 2 unless the user
    passed --i-understand-aws-costs. Runs on the master or the single process, before any request."""
    from labsqs.plan import estimate_cost

    estimate = estimate_cost([planned_config(environment)])
    print(f"labsqs: {estimate.render()}", flush=True)
    if not getattr(environment.parsed_options, "i_understand_aws_costs", False):
        print(
            "labsqs: this Locust run sends real, billed requests to AWS — re-run with "
            "--i-understand-aws-costs once the estimate above is acceptable",
            file=sys.stderr,
            flush=True,
        )
        raise SystemExit(2)


def on_test_start(environment: Environment, **_: Any) -> None:
    run = run_of(environment)
    run.prepare_queue()
    runner = environment.runner
    keep_running = getattr(run.options, "keep_running", False)
    if not keep_running and not isinstance(runner, MasterRunner | WorkerRunner):
        gevent.spawn(run.watch_until_drained)


def on_test_stop(environment: Environment, **_: Any) -> None:
    run = run_of(environment)
    run.write_side_files()
    if isinstance(environment.runner, WorkerRunner):
        environment.runner.send_message(COUNTERS_MESSAGE, run.totals())


def on_quitting(environment: Environment, **_: Any) -> None:
    """Print where every message went; delete the queue this run created (unless --keep-queue)."""
    run = run_of(environment)
    if isinstance(environment.runner, WorkerRunner):
        return
    if getattr(run.options, "csv_prefix", None):
        # Locust rewrites its stats CSV once a second and not again at exit: let it catch up
        gevent.sleep(CSV_STATS_INTERVAL_SEC + 0.2)
    if not run.queue_url:
        return
    try:
        print(f"labsqs accounting at stop: {run.accounting().line()}", flush=True)
    except Exception as exc:  # noqa: BLE001 - reporting must not hide Locust's own summary
        log.warning("accounting failed: %s", exc)
    if run.created is not None and not getattr(run.options, "keep_queue", False):
        from labsqs.queues import delete_queue

        delete_queue(run.created, sqs=run.client(), missing_ok=True)
        print(f"labsqs: deleted {run.created.name} and its DLQ (--keep-queue keeps them)", flush=True)


def attach(events: Any) -> None:
    """Register the lab's lifecycle listeners on ``locust.events`` (call once per locustfile)."""
    events.init.add_listener(on_init)
    events.test_start.add_listener(on_test_start)
    events.test_stop.add_listener(on_test_stop)
    events.quitting.add_listener(on_quitting)


# --- the users -----------------------------------------------------------------------------------
class SqsUser(User):
    """A Locust user with its own boto3 SQS client; every call is timed as one Locust request."""

    abstract = True

    def on_start(self) -> None:
        self.lab = run_of(self.environment)
        self.options = self.lab.options
        self.sqs = self.lab.client()
        self.queue_url = self.lab.queue_url
        self.fifo = self.options.queue_type == "fifo"
        self.batch_size = int(self.options.batch_size)
        if not self.queue_url:
            log.error(
                "no queue: give --queue-url, or let the test_start listener create one (attach(events))"
            )
            raise locust.exception.StopUser()

    def call(self, action: str, method: Any, *, length: Any = None, **kwargs: Any) -> Any:
        """Call ``method(**kwargs)`` timed as Locust request ``SQS <action>``; ``None`` if it failed."""
        with self.environment.events.request.measure(REQUEST_TYPE, action) as meta:
            response = method(**kwargs)
            if length is not None:
                meta["response_length"] = length(response)
            return response
        return None  # the exception was recorded as this request's failure


class ProducerUser(SqsUser):
    """Sends ``--max-messages`` messages, singly or in batches, at ``--send-rate`` (0 = flat out)."""

    abstract = True
    weight = 1

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        # counted when Locust creates the user, before the runner says "running": the drain watch must
        # not mistake a producer that has not started yet for one that has finished
        run_of(environment).producers_spawned += 1

    def on_start(self) -> None:
        super().on_start()
        self.number = next(self.lab.user_numbers)
        self.quota = int(self.options.max_messages)
        self.attempted = 0
        self.finished = False
        self.groups = int(self.options.groups)
        self.rate = float(self.options.send_rate)
        self.due = time.monotonic()

    def wait_time(self) -> float:
        if self.finished:
            return IDLE_SLEEP_SECONDS
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        self.due = max(self.due + self.batch_size / self.rate, now - 1.0)  # catch up at most 1 s
        return max(0.0, self.due - now)

    def message(self, index: int, now: float) -> tuple[str, dict[str, Any]]:
        seq = self.attempted + index
        msg_id = f"{self.lab.pid:x}-{self.number}-{seq}"
        group = f"g{seq % self.groups}"
        # JSON written by hand: ids and groups are [0-9a-z-] only, and this runs once per message
        body = f'{{"id": "{msg_id}", "sent_at": {now:.6f}, "group": "{group}"}}'
        entry: dict[str, Any] = {"Id": str(index), "MessageBody": body}
        if self.fifo:
            entry["MessageGroupId"] = group
            entry["MessageDeduplicationId"] = msg_id
        return msg_id, entry

    @task
    def send(self) -> None:
        n = min(self.batch_size, self.quota - self.attempted)
        if n <= 0:
            if not self.finished:
                self.finished = True
                self.lab.producers_done += 1
            return
        now = time.time()
        messages = [self.message(i, now) for i in range(n)]
        self.attempted += n
        started = time.perf_counter()
        if self.batch_size == 1:
            msg_id, entry = messages[0]
            entry.pop("Id")
            ok = self.call("SendMessage", self.sqs.send_message, QueueUrl=self.queue_url, **entry)
            sent_ids = [msg_id] if ok is not None else []
        else:
            response = self.call(
                "SendMessageBatch",
                self.sqs.send_message_batch,
                length=lambda r: len(r.get("Successful", [])),
                QueueUrl=self.queue_url,
                Entries=[entry for _, entry in messages],
            )
            done = {e["Id"] for e in (response or {}).get("Successful", [])}
            sent_ids = [msg_id for msg_id, entry in messages if entry["Id"] in done]
        now, took = time.time(), time.perf_counter() - started
        for msg_id in sent_ids:
            self.lab.record("sent", msg_id, t=now, seconds=took)
        self.lab.counters["send_failed"] += n - len(sent_ids)


@dataclass(frozen=True, slots=True)
class Received:
    """A received message, its body parsed once: the lab's id and send time, and its receipt handle."""

    msg_id: str
    sent_at: float | None
    receipt_handle: str
    receive_count: int

    @classmethod
    def parse(cls, message: dict[str, Any]) -> Received:
        count = int(message.get("Attributes", {}).get("ApproximateReceiveCount", 1))
        msg_id, sent_at = lab_message(message)  # not sent by the lab: counted by its MessageId
        return cls(msg_id, sent_at, message["ReceiptHandle"], count)


class ConsumerUser(SqsUser):
    """Receive up to ``--batch-size``, handle each (``--handler-time``), delete in one batch; may crash."""

    abstract = True
    weight = 4

    def on_start(self) -> None:
        super().on_start()
        self.handler_time = parse_handler_time(self.options.handler_time)
        self.crash_probability = float(self.options.crash_probability)
        self.held: list[Received] = []  # received, not yet deleted
        self.finished: list[Received] = []  # handled, not yet deleted
        self.deleted_at: float | None = None  # perf_counter when this consumer's last delete returned

    @task
    def consume(self) -> None:
        messages = self.receive()
        if not messages:
            return
        self.held, self.finished = list(messages), []
        rng = self.lab.rng
        crash_at = rng.randrange(len(messages)) if rng.random() < self.crash_probability else None
        for i, message in enumerate(messages):
            seconds = self.handler_time.draw(rng)
            if i == crash_at:
                time.sleep(seconds / 2)  # dies half-way through this message
                self.crash()
                return
            started = time.perf_counter()
            if seconds > 0:
                time.sleep(seconds)  # gevent-patched: the other users run meanwhile
            if message.msg_id in self.lab.handled_ids:
                self.lab.counters["duplicates"] += 1
            self.lab.handled_ids.add(message.msg_id)
            self.lab.record("handled", message.msg_id, seconds=time.perf_counter() - started)
            self.finished.append(message)
        self.delete(self.finished)
        self.held, self.finished = [], []

    def receive(self) -> list[Received]:
        started = time.perf_counter()
        # timed from when this consumer was ready: its last delete's return, so the turn-around between
        # the two (bookkeeping, Locust's loop, waiting for the CPU while other users run) counts too
        ready, self.deleted_at = self.deleted_at or started, None
        response = self.call(
            "ReceiveMessage",
            self.sqs.receive_message,
            length=lambda r: len(r.get("Messages", [])),
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=int(self.options.wait_time),
            VisibilityTimeout=int(self.options.visibility_timeout),
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        if response is None:
            time.sleep(IDLE_SLEEP_SECONDS)  # a failing endpoint must not become a busy loop
            return []
        took = time.perf_counter() - ready
        messages = [Received.parse(m) for m in response.get("Messages", [])]
        now = time.time()
        for message in messages:
            self.lab.record("received", message.msg_id, message.receive_count, t=now, seconds=took)
            if message.receive_count > 1:
                self.lab.counters["redeliveries"] += 1
        return messages

    def delete(self, messages: list[Received]) -> None:
        if not messages:
            return
        started = time.perf_counter()
        if len(messages) == 1 and self.batch_size == 1:
            ok = self.call(
                "DeleteMessage",
                self.sqs.delete_message,
                QueueUrl=self.queue_url,
                ReceiptHandle=messages[0].receipt_handle,
            )
            deleted = messages if ok is not None else []
        else:
            response = self.call(
                "DeleteMessageBatch",
                self.sqs.delete_message_batch,
                length=lambda r: len(r.get("Successful", [])),
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(messages)],
            )
            done = {e["Id"] for e in (response or {}).get("Successful", [])}
            deleted = [m for i, m in enumerate(messages) if str(i) in done]
        now, took = time.time(), time.perf_counter() - started
        fire = self.environment.events.request.fire
        for message in deleted:
            self.lab.record("deleted", message.msg_id, t=now, seconds=took)
            self.lab.deleted_ids.add(message.msg_id)
            if message.sent_at is not None:
                fire(
                    request_type=E2E_REQUEST_TYPE,
                    name=E2E_NAME,
                    response_time=(now - message.sent_at) * 1000.0,
                    response_length=0,
                    exception=None,
                    context={},
                )
        self.lab.counters["delete_failed"] += len(messages) - len(deleted)
        self.deleted_at = time.perf_counter()

    def crash(self) -> None:
        """The consumer dies holding its batch: nothing is deleted or handed back."""
        self.lab.counters["crashes"] += 1
        now = time.time()
        for message in self.held:
            self.lab.record("crashed", message.msg_id, t=now)
        self.held, self.finished = [], []

    def on_stop(self) -> None:
        """Stopped (not crashed): delete what was handled, hand the rest back at once (visibility 0)."""
        rest = [m for m in self.held if m not in self.finished]
        self.delete(self.finished)
        if rest:
            self.call(
                "ChangeMessageVisibilityBatch",
                self.sqs.change_message_visibility_batch,
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": 0}
                    for i, m in enumerate(rest)
                ],
            )
            for message in rest:
                self.lab.record("released", message.msg_id)
        self.held, self.finished = [], []
