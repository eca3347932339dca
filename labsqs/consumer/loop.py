"""The consumer's loop: :class:`Consumer` (receive → handle → delete, on worker threads) and :func:`consume`.

The rules it follows are in :mod:`labsqs.consumer`'s notes.
"""

from __future__ import annotations

import logging
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from labsqs.base.calls import (
    change_visibility,
    default_sqs,
    delete_messages,
    is_fifo_url,
    queue_missing,
    queue_not_found,
    read_attributes,
    receive_messages,
)
from labsqs.base.limits import MAX_MESSAGES_PER_RECEIVE, MAX_VISIBILITY_TIMEOUT_SECONDS, MAX_WAIT_TIME_SECONDS
from labsqs.consumer.guard import FifoGuard, guarded_receive
from labsqs.consumer.inflight import Budget, Heartbeat, InFlight
from labsqs.consumer.message import Message, MessageFailure
from labsqs.consumer.stats import ConsumerStats
from labsqs.errors import InvalidConsumerOption
from labsqs.idempotency import IdempotencyStore, message_id_key
from labsqs.queues import RedrivePolicy, queue_url

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

log = logging.getLogger("labsqs.consumer")

MAX_WORKERS = 64
FIFO_HOLD_MARGIN_SECONDS = 1  # a FIFO group handed back after a failure stays hidden at least this long
MIN_HEARTBEAT_EVERY_SECONDS = 0.1
JOIN_POLL_SECONDS = 0.2  # the calling thread wakes this often (so Ctrl-C is seen)


def exponential_backoff(base_seconds: int = 1, cap_seconds: int = 900) -> Callable[[int], int]:
    """``retry_backoff`` giving base, 2·base, 4·base ... seconds (by receive count), at most cap."""

    def backoff(receive_count: int) -> int:
        return int(min(cap_seconds, base_seconds * 2 ** max(0, receive_count - 1)))

    return backoff


# --- the consumer ----------------------------------------------------------------------------------
_PROCESSED, _FAILED, _DUPLICATE, _DEFERRED = "processed", "failed", "duplicate", "deferred"


class Consumer:
    """Receive → handle → delete, with batching, heartbeat, workers, graceful stop and FIFO rules.

    >>> c = Consumer(url, handle, workers=4, visibility_timeout=30)
    >>> stats = c.run(idle_polls=3)          # until 3 empty receives in a row
    >>> c.stop()                             # from another thread: graceful
    """

    def __init__(
        self,
        queue: Any,
        handler: Callable[[Message], Any],
        *,
        sqs: SQSClient | None = None,
        workers: int = 1,
        wait_time_seconds: int = MAX_WAIT_TIME_SECONDS,
        max_messages: int = MAX_MESSAGES_PER_RECEIVE,
        visibility_timeout: int | None = None,
        heartbeat: bool = True,
        heartbeat_every_seconds: float | None = None,
        retry_backoff: Callable[[int], int] | None = None,
        idempotency: IdempotencyStore | None = None,
        key: Callable[[Message], str] | None = None,
        on_error: Callable[[Message, BaseException], None] | None = None,
        handle_signals: bool = False,
        fifo_guard: FifoGuard | bool = True,
    ) -> None:
        _check_options(
            handler, workers, wait_time_seconds, max_messages, visibility_timeout, heartbeat_every_seconds,
            key=key, idempotency=idempotency,
        )  # fmt: skip
        self.sqs = default_sqs(sqs)
        self.queue, self.handler, self.workers = queue, handler, workers
        self.wait_time_seconds, self.max_messages = wait_time_seconds, max_messages
        self.visibility_timeout = visibility_timeout
        self.heartbeat, self.heartbeat_every_seconds = heartbeat, heartbeat_every_seconds
        self.retry_backoff, self.on_error, self.handle_signals = retry_backoff, on_error, handle_signals
        self.idempotency, self.key = idempotency, key or message_id_key
        # FIFO queues with a redrive policy only; False turns it off (to measure what it saves)
        self.fifo_guard = FifoGuard() if fifo_guard is True else fifo_guard or None
        self._url: str | None = None
        self._fifo = False
        self._visibility = 0
        self._guard: FifoGuard | None = None  # self.fifo_guard while the queue is FIFO with a redrive policy
        self._max_receive_count: int | None = None
        self._idle_lock = threading.Lock()
        self._running = False
        self._reset_run(None, None, None)

    def _reset_run(self, stop_after: int | None, idle_polls: int | None, timeout: float | None) -> None:
        """Fresh counters, events and bounds for one run."""
        self.stats = ConsumerStats()
        self._stopping = threading.Event()  # graceful stop: finish the running handler, release the rest
        self._no_receives = threading.Event()  # soft stop (idle, timeout): no new receives
        self._inflight = InFlight()
        self._budget = Budget(stop_after)
        self._idle_in_a_row, self._idle_limit = 0, idle_polls
        self._deadline = time.monotonic() + timeout if timeout is not None else None
        self._errors: list[BaseException] = []

    # -- public ---------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._url is None:
            self._url = queue_url(self.queue, sqs=self.sqs)
        return self._url

    def run(
        self,
        *,
        stop_after: int | None = None,
        idle_polls: int | None = None,
        timeout_seconds: float | None = None,
    ) -> ConsumerStats:
        """Consume until ``stop_after`` messages are handled (processed, failed or skipped as duplicates),
        ``idle_polls`` empty receives in a row, ``timeout_seconds``, or :meth:`stop`. Returns the stats.

        Without any bound it runs until stopped (``stop()``, a signal, Ctrl-C).
        """
        for name, value in (("stop_after", stop_after), ("idle_polls", idle_polls)):
            if value is not None and value < 1:
                raise InvalidConsumerOption(f"{name} must be >= 1 (or None for no limit), got {value}")
        if timeout_seconds is not None and timeout_seconds <= 0:
            raise InvalidConsumerOption(f"timeout_seconds must be > 0, got {timeout_seconds}")
        if self._running:
            raise InvalidConsumerOption("this consumer is already running", hint="create a second Consumer")
        self._prepare(stop_after, idle_polls, timeout_seconds)
        heartbeat = self._start_heartbeat()
        threads = [
            threading.Thread(target=self._worker_main, name=f"labsqs-consumer-{i}", daemon=True)
            for i in range(self.workers)
        ]
        try:
            with self._signals():
                for t in threads:
                    t.start()
                self._wait(threads)
        finally:
            if heartbeat is not None:
                heartbeat.done.set()
                heartbeat.join()
            self._finish()
        if self._errors:
            raise self._errors[0]
        return self.stats

    def stop(self, reason: str = "stop") -> None:
        """Graceful stop: no new receives, the running handlers finish, unstarted messages are released."""
        if not self._stopping.is_set():
            self._set_reason(reason)
            self._stopping.set()
            self._no_receives.set()

    # -- run lifecycle ----------------------------------------------------------------------------
    def _prepare(self, stop_after: int | None, idle_polls: int | None, timeout_seconds: float | None) -> None:
        self._fifo = is_fifo_url(self.url)
        names = [] if self.visibility_timeout is not None else ["VisibilityTimeout"]
        if self._fifo and self.fifo_guard is not None:
            names.append("RedrivePolicy")
        attributes = read_attributes(self.sqs, self.url, names) if names else {}
        self._visibility = (
            self.visibility_timeout
            if self.visibility_timeout is not None
            else int(attributes["VisibilityTimeout"])
        )
        redrive = attributes.get("RedrivePolicy")
        self._max_receive_count = RedrivePolicy.parse(redrive).max_receive_count if redrive else None
        # without a DLQ a follower's receive count does not matter: no guard, batches always
        self._guard = self.fifo_guard if self._max_receive_count is not None else None
        self._reset_run(stop_after, idle_polls, timeout_seconds)
        self._running = True

    def _start_heartbeat(self) -> Heartbeat | None:
        if not self.heartbeat or self._visibility < 1:
            return None
        every = self.heartbeat_every_seconds or self._visibility / 3
        beat = Heartbeat(
            self.sqs,
            self.url,
            self._inflight,
            self._visibility,
            max(MIN_HEARTBEAT_EVERY_SECONDS, every),
            self.stats,
            self.idempotency,
        )
        beat.start()
        return beat

    def _wait(self, threads: list[threading.Thread]) -> None:
        try:
            for t in threads:
                while t.is_alive():
                    t.join(JOIN_POLL_SECONDS)
        except KeyboardInterrupt:  # Ctrl-C (a notebook's interrupt): stop gracefully, then re-raise
            self.stop("interrupt")
            for t in threads:
                t.join()
            raise

    def _finish(self) -> None:
        self._running = False
        self.stats.finished_at = time.time()
        if self.stats.stop_reason is None:
            self.stats.stop_reason = "stop_after" if self._budget.exhausted else "done"

    def _set_reason(self, reason: str) -> None:
        if self.stats.stop_reason is None:
            self.stats.stop_reason = reason

    @contextmanager
    def _signals(self) -> Iterator[None]:
        if not self.handle_signals or threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

        def on_signal(signum: int, _frame: Any) -> None:
            log.info("%s: stopping gracefully (again to force)", signal.Signals(signum).name)
            for sig, handler in previous.items():  # a second signal acts as it did before
                signal.signal(sig, handler)
            self.stop(signal.Signals(signum).name)

        for sig in previous:
            signal.signal(sig, on_signal)
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    # -- one worker: receive, dispatch, settle -------------------------------------------------------
    def _worker_main(self) -> None:
        try:
            while not self._no_receives.is_set():
                wanted = self._budget.take(self.max_messages)
                if wanted == 0:
                    return
                batch = self._receive(wanted)
                self._budget.give_back(wanted - len(batch))
                if batch:
                    self._dispatch(batch)
        except BaseException as exc:  # noqa: BLE001 - handed to run()'s caller
            self._errors.append(exc)
            self.stop("error")

    def _past_deadline(self) -> bool:
        if self._deadline is None or time.monotonic() < self._deadline:
            return False
        self._set_reason("timeout")
        self._stopping.set()
        self._no_receives.set()
        return True

    def _wait_time(self) -> int:
        if self._deadline is None:
            return self.wait_time_seconds
        if self._past_deadline():
            return 0
        return min(self.wait_time_seconds, math.ceil(self._deadline - time.monotonic()))

    def _receive(self, wanted: int) -> list[Message]:
        wait = self._wait_time()
        if self._no_receives.is_set():
            return []
        asked_at = time.time()
        if self._guard is not None:
            size = guarded_receive(wanted, wait, self._guard.visible_in())
            if size[0] < wanted:
                self.stats.add(guarded_receives=1)
            wanted, wait = size
        try:
            raw = receive_messages(
                self.sqs,
                self.url,
                max_messages=wanted,
                wait_time_seconds=wait,
                visibility_timeout=self.visibility_timeout,
            )
        except ClientError as exc:
            if queue_missing(exc):  # the queue vanished mid-run (deleted, or the engine restarted)
                raise queue_not_found(self.url, exc) from exc
            raise
        received_at = time.monotonic()
        batch = [Message.from_sqs(m, self.url) for m in raw]
        self._inflight.add(batch, received_at + self._visibility)
        if self._guard is not None and batch:
            self._guard.received(batch, asked_at + self._visibility)  # SQS's clock started after asked_at
        redelivered = sum(1 for m in batch if m.receive_count > 1)
        self.stats.add(
            receives=1, empty_receives=0 if batch else 1, received=len(batch), redelivered=redelivered
        )
        self._note_poll(empty=not batch)
        return batch

    def _note_poll(self, *, empty: bool) -> None:
        with self._idle_lock:
            self._idle_in_a_row = self._idle_in_a_row + 1 if empty else 0
            idle = self._idle_limit is not None and self._idle_in_a_row >= self._idle_limit
        if idle:
            self._set_reason("idle")
            self._no_receives.set()

    def _dispatch(self, batch: list[Message]) -> None:
        """Handle a batch in order; FIFO gating after failures; on stop, release what has not started."""
        to_delete: list[Message] = []
        unstarted: list[Message] = []
        settled: set[str] = set()  # receipt handles already handed back (FIFO group after a failure)
        for i, message in enumerate(batch):
            if message.receipt_handle in settled:
                continue
            if self._stopping.is_set() or self._past_deadline():
                unstarted = [m for m in batch[i:] if m.receipt_handle not in settled]
                break
            outcome = self._handle(message)
            if outcome in (_PROCESSED, _DUPLICATE):
                to_delete.append(message)
            elif outcome == _FAILED:
                settled |= self._after_failure(message, batch[i + 1 :])
            else:  # _DEFERRED: another worker holds it; let it come back after its visibility timeout
                settled |= self._after_failure(message, batch[i + 1 :], backoff=False)
                self._budget.give_back(1)
        self._delete(to_delete)
        self._release(unstarted)

    def _handle(self, message: Message) -> str:
        """Run the handler once (or skip a duplicate); returns the outcome."""
        store, key = self.idempotency, None  # key is set once this worker holds the claim
        try:
            if store is not None:
                wanted = self.key(message)
                # the claim lasts as long as the message stays hidden (the heartbeat renews both)
                lease = max(1.0, self._inflight.seconds_left(message))
                if not store.claim(wanted, lease_seconds=lease):
                    if store.seen(wanted):
                        self.stats.add(duplicates_skipped=1)
                        return _DUPLICATE
                    self.stats.add(deferred=1)
                    return _DEFERRED
                key = wanted
                self._inflight.claimed(message, key)
            self.handler(message)
        except Exception as exc:  # noqa: BLE001 - a failed message is data, not a crash
            if store is not None and key is not None:
                store.release(key)
            self._record_failure(message, exc)
            return _FAILED
        if store is not None and key is not None:
            store.mark(key)
        sent_ms = int(message.attributes.get("SentTimestamp", 0)) or None
        self.stats.record_success(time.time() * 1000 - sent_ms if sent_ms else 0.0)
        return _PROCESSED

    def _record_failure(self, message: Message, exc: BaseException) -> None:
        self.stats.record_failure(
            MessageFailure(
                message.message_id, message.group_id, message.receive_count, f"{type(exc).__name__}: {exc}"
            )
        )
        if self.on_error is not None:
            try:
                self.on_error(message, exc)
            except Exception:  # noqa: BLE001
                log.exception("on_error callback failed for message %s", message.message_id)

    def _after_failure(self, failed: Message, rest: Sequence[Message], *, backoff: bool = True) -> set[str]:
        """Leave the failed (or deferred) message to come back (after ``retry_backoff`` if set); on FIFO
        queues hand back the rest of its group in this batch so it cannot overtake, and note the head as
        unsettled (:class:`FifoGuard`). Returns the handed-back receipt handles."""
        held = [m for m in rest if m.group_id == failed.group_id] if self._fifo and failed.group_id else []
        deadlines = self._inflight.drop([failed, *held])
        backoff_seconds = self._backoff_seconds(failed) if backoff else None
        visible_in = (
            backoff_seconds
            if backoff_seconds is not None
            else deadlines[failed.receipt_handle] - time.monotonic()
        )
        changes: list[tuple[str, int]] = []
        if held:
            # The group comes back as one: held messages and the failed one get the same visibility, held
            # ones first so theirs ends no later. LocalStack reopens a group as soon as an older message
            # is visible again, even while later ones are still in flight (then it hands out messages
            # *behind* the held ones), and re-queues expired messages in receive order, stopping at the
            # first still hidden: so the failed one must not come back alone, nor the held ones before it.
            visible_in = min(
                MAX_VISIBILITY_TIMEOUT_SECONDS, max(FIFO_HOLD_MARGIN_SECONDS, math.ceil(visible_in))
            )
            changes.extend((m.receipt_handle, visible_in) for m in held)
            changes.append((failed.receipt_handle, visible_in))
            self.stats.add(released=len(held))
            self._budget.give_back(len(held))
        elif backoff_seconds is not None:
            changes.append((failed.receipt_handle, backoff_seconds))
        if self._guard is not None:  # noted before the hand-back: no receive may batch the group once back
            self._guard_failed(failed, time.time() + visible_in)
        if changes:
            for f in change_visibility(self.sqs, self.url, changes):
                log.warning("could not change a failed message's visibility: %s", f.get("Message"))
        return {m.receipt_handle for m in held}

    def _guard_failed(self, failed: Message, visible_at: float) -> None:
        """A failed FIFO head stays unsettled until it succeeds — or it has used its last allowed receive:
        then SQS moves it to the DLQ on the group's next receive, and the followers may come in batches."""
        group = failed.group_id
        if self._guard is None or group is None:
            return
        if self._max_receive_count is not None and failed.receive_count >= self._max_receive_count:
            self._guard.drop({group: failed.message_id})
        else:
            self._guard.put(group, failed.message_id, visible_at)

    def _backoff_seconds(self, message: Message) -> int | None:
        if self.retry_backoff is None:
            return None
        seconds = int(self.retry_backoff(message.receive_count))
        return min(MAX_VISIBILITY_TIMEOUT_SECONDS, max(0, seconds))

    def _delete(self, messages: list[Message]) -> None:
        if not messages:
            return
        self._inflight.drop(messages)
        failed = delete_messages(self.sqs, self.url, [m.receipt_handle for m in messages])
        for f in failed:
            log.warning(
                "delete failed for message %s (%s): it will be delivered again",
                messages[int(f["Id"])].message_id,
                f.get("Code"),
            )
        self.stats.add(deleted=len(messages) - len(failed), delete_failed=len(failed))
        if self._guard is not None:
            refused = {int(f["Id"]) for f in failed}
            self._guard.settled([m for i, m in enumerate(messages) if i not in refused])

    def _release(self, messages: list[Message]) -> None:
        """Hand unstarted messages back at once (visibility 0): another consumer may take them now."""
        if not messages:
            return
        self._inflight.drop(messages)
        failed = change_visibility(self.sqs, self.url, [(m.receipt_handle, 0) for m in messages])
        if self._guard is not None:  # an unsettled head among them is visible again now
            self._guard.received(messages, time.time())
        self.stats.add(released=len(messages) - len(failed))
        self._budget.give_back(len(messages))


def _check_options(
    handler: Any,
    workers: int,
    wait_time_seconds: int,
    max_messages: int,
    visibility_timeout: int | None,
    heartbeat_every_seconds: float | None,
    *,
    key: Any,
    idempotency: Any,
) -> None:
    if not callable(handler):
        raise InvalidConsumerOption(f"handler must be callable (Message -> Any), got {handler!r}")
    if not 1 <= workers <= MAX_WORKERS:
        raise InvalidConsumerOption(f"workers must be 1..{MAX_WORKERS}, got {workers}")
    if not 0 <= wait_time_seconds <= MAX_WAIT_TIME_SECONDS:
        raise InvalidConsumerOption(
            f"wait_time_seconds must be 0..{MAX_WAIT_TIME_SECONDS} (SQS's long-poll limit), "
            f"got {wait_time_seconds}"
        )
    if not 1 <= max_messages <= MAX_MESSAGES_PER_RECEIVE:
        raise InvalidConsumerOption(
            f"max_messages must be 1..{MAX_MESSAGES_PER_RECEIVE} per receive, got {max_messages}",
            hint="bound the whole run with run(stop_after=...)",
        )
    if visibility_timeout is not None and not 0 <= visibility_timeout <= MAX_VISIBILITY_TIMEOUT_SECONDS:
        raise InvalidConsumerOption(
            f"visibility_timeout must be 0..{MAX_VISIBILITY_TIMEOUT_SECONDS} s, got {visibility_timeout}"
        )
    if heartbeat_every_seconds is not None and heartbeat_every_seconds <= 0:
        raise InvalidConsumerOption(f"heartbeat_every_seconds must be > 0, got {heartbeat_every_seconds}")
    if key is not None and idempotency is None:
        raise InvalidConsumerOption(
            "key= is the idempotency key", hint="pass idempotency=IdempotencyStore(path) with it"
        )


def consume(
    queue: Any,
    handler: Callable[[Message], Any],
    *,
    stop_after: int | None = None,
    idle_polls: int | None = None,
    timeout_seconds: float | None = None,
    messages_per_receive: int = MAX_MESSAGES_PER_RECEIVE,
    **options: Any,
) -> ConsumerStats:
    """Run a :class:`Consumer` once and return its stats.

    ``stop_after`` bounds the *run* (as in :meth:`Consumer.run`); the per-receive size is
    ``messages_per_receive`` (``Consumer(max_messages=...)``). Other options go to :class:`Consumer`
    (``workers``, ``heartbeat`` ...).

    >>> consume(url, handle, idle_polls=1, wait_time_seconds=1).processed
    """
    consumer = Consumer(queue, handler, max_messages=messages_per_receive, **options)
    return consumer.run(stop_after=stop_after, idle_polls=idle_polls, timeout_seconds=timeout_seconds)
