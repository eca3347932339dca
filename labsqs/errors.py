"""Errors of the lab: one root, one subclass per condition, each saying what to do next.

SQS itself answers with an error *code* (``AWS.SimpleQueueService.NonExistentQueue``,
``InvalidParameterValue``, ``BatchEntryIdsNotDistinct`` ...). The lab keeps that code on the error
(``err.code``) so a learner can look it up, and adds a sentence a person can act on (``err.hint``).

Everything the lab raises on purpose is a :class:`LabSqsError`; catch that one class at a boundary
(the CLI, a notebook cell) and print it.
"""

from __future__ import annotations


class LabSqsError(Exception):
    """Root of every error the lab raises on purpose."""

    def __init__(self, message: str, *, code: str | None = None, hint: str | None = None) -> None:
        self.message = message
        self.code = code
        self.hint = hint
        text = message
        if hint:
            text = f"{text} — {hint}"
        if code:
            text = f"{text} [{code}]"
        super().__init__(text)


# --- engine and endpoint -------------------------------------------------------------------------
class EngineError(LabSqsError):
    """An engine could not be installed, started, stopped or found."""


class UnknownEngine(EngineError):
    """The engine name is not one the lab knows."""


class PythonNotFound(EngineError):
    """No Python on this machine runs one of the LocalStack lines (2026.3.0: >= 3.13, 4.13.1: 3.11/3.12)."""


class EngineInstallFailed(EngineError):
    """The LocalStack engine's environment could not be installed (no registry, a broken Python...)."""


class PortInUse(EngineError):
    """The engine's port is taken by a process that is not the lab's engine."""


class EndpointUnavailable(LabSqsError):
    """Nothing answers at the SQS endpoint (connection refused, timed out)."""


class AwsNotAllowed(LabSqsError):
    """The real-AWS engine was asked for without the explicit opt-in."""


# --- queues --------------------------------------------------------------------------------------
class InvalidQueueName(LabSqsError):
    """A queue name breaks SQS's naming rules."""


class InvalidAttribute(LabSqsError):
    """A queue attribute is out of range or malformed."""


class QueueNotFound(LabSqsError):
    """The queue does not exist on this endpoint."""


class QueueAttributesMismatch(LabSqsError):
    """The queue exists with attributes other than the ones asked for."""


class RedriveError(LabSqsError):
    """A redrive (DLQ) configuration or move task is invalid."""


# --- messages ------------------------------------------------------------------------------------
class InvalidMessage(LabSqsError):
    """A message body or attribute cannot be sent as it is."""


class MessageTooLarge(InvalidMessage):
    """A message (body + attributes, in UTF-8 bytes) exceeds the queue's maximum size."""


class FifoError(InvalidMessage):
    """A FIFO rule is broken (no MessageGroupId, no deduplication id, ...)."""


class BatchError(LabSqsError):
    """A batch request is malformed (too many entries, duplicate ids, too large)."""


class ReceiptHandleError(LabSqsError):
    """A receipt handle is invalid, expired, or from another queue."""


class ConfirmationRequired(LabSqsError):
    """A destructive operation (purge) was asked for without confirmation."""


# --- consumer and trigger ------------------------------------------------------------------------
class InvalidConsumerOption(LabSqsError):
    """A consumer or trigger option is out of range (workers, wait time, batch size, visibility)."""


class PurgeInProgress(LabSqsError):
    """A queue was purged less than 60 seconds ago; SQS allows one PurgeQueue per queue per 60 s."""


# --- load tests and benchmarks -------------------------------------------------------------------
class InvalidLoadOption(LabSqsError):
    """A load-test or bench option is out of range or malformed (batch size, distribution, matrix)."""


class AwsCostsNotAcknowledged(AwsNotAllowed):
    """A load run against real AWS was asked for without ``--i-understand-aws-costs``."""


class LoadRunFailed(LabSqsError):
    """A Locust run of ``labsqs bench`` did not start or ended abnormally (see its log)."""


# --- conformance ---------------------------------------------------------------------------------
class ConformanceError(LabSqsError):
    """The conformance suite cannot run as asked (unknown check, no stored matrix)."""


class UnknownCheck(ConformanceError):
    """No conformance check has this id or group name."""


# --- pipelines (the seeds' two applications) -------------------------------------------------------
class InvalidJobPosting(InvalidMessage):
    """A job-posting message (or row) lacks a field the filter needs, or has one of the wrong type."""


class InvalidResumeUpdate(InvalidMessage):
    """A resume update (or PDF job) message is malformed: unknown action, missing ids, data not an object."""


class ResumeStateError(LabSqsError):
    """A resume update does not fit the stored resume (CREATE of an existing one, UPDATE of a missing one)."""


# --- AWS services beside SQS (S3, SES, CloudWatch) -----------------------------------------------
class InvalidBucketName(LabSqsError):
    """An S3 bucket name breaks S3's naming rules (3–63 characters: lowercase letters, digits, '-', '.')."""


class SenderNotVerified(LabSqsError):
    """SES refused an email because its sender (``Source``) is not a verified identity."""


class AlarmError(LabSqsError):
    """A CloudWatch alarm does not exist, or did not reach the state waited for in time."""


# --- capacity and cost planning ------------------------------------------------------------------
class PlanError(LabSqsError):
    """The planner cannot produce a plan for this workload (see the hint for what to change)."""


class InvalidPlanInput(PlanError):
    """A planner input is impossible (negative rate, batch over 10, message over 1 MiB, ...)."""


class FifoGroupTooHot(PlanError):
    """A FIFO message group carries more than one consumer can process (a group is one lane)."""


class VisibilityTooShort(PlanError):
    """The handler needs longer than the visibility timeout allows: messages would be redelivered."""
