"""Every SQS number the lab uses, defined once (``../shared/facts/sqs-limits.md``; botocore's SQS service
model; the SQS Developer Guide's "Amazon SQS quotas" pages).

The rest of the package imports these names; only the conformance checks keep their own copies, on purpose:
they test an engine *against the documentation*, so they must not trust the values the lab itself uses.
"""

from __future__ import annotations

# --- messages -------------------------------------------------------------------------------------
MAX_MESSAGE_BYTES = 1_048_576  # 1 MiB in UTF-8 bytes, body + attributes (since Aug 2025; was 256 KiB)
MIN_MESSAGE_SIZE_BYTES = 1_024  # the lowest MaximumMessageSize a queue may set
MAX_BATCH_BYTES = MAX_MESSAGE_BYTES  # the sum of the message sizes in one SendMessageBatch
MAX_MESSAGE_ATTRIBUTES = 10
MAX_ATTRIBUTE_NAME_CHARS = 256
MAX_FIFO_ID_CHARS = 128  # MessageGroupId and MessageDeduplicationId
MAX_BATCH_ENTRY_ID_CHARS = 80  # a batch entry's Id: [A-Za-z0-9_-]

# --- batches and receives -------------------------------------------------------------------------
MAX_BATCH_ENTRIES = 10  # SendMessageBatch, DeleteMessageBatch, ChangeMessageVisibilityBatch
MAX_MESSAGES_PER_RECEIVE = 10  # ReceiveMessage's MaxNumberOfMessages ceiling
MIN_WAIT_TIME_SECONDS, MAX_WAIT_TIME_SECONDS = 0, 20  # long polling: WaitTimeSeconds

# --- queue attributes ------------------------------------------------------------------------------
MIN_VISIBILITY_TIMEOUT_SECONDS, MAX_VISIBILITY_TIMEOUT_SECONDS = 0, 43_200  # 12 h
DEFAULT_VISIBILITY_TIMEOUT_SECONDS = 30
MIN_RETENTION_SECONDS, MAX_RETENTION_SECONDS = 60, 1_209_600  # 1 minute – 14 days
DEFAULT_RETENTION_SECONDS = 345_600  # 4 days
MIN_DELAY_SECONDS, MAX_DELAY_SECONDS = 0, 900  # 15 minutes
MIN_MAX_RECEIVE_COUNT, MAX_MAX_RECEIVE_COUNT = 1, 1_000  # RedrivePolicy's maxReceiveCount
MAX_QUEUE_NAME_CHARS = 80  # [A-Za-z0-9_-], including the ".fifo" suffix
FIFO_SUFFIX = ".fifo"
MAX_REDRIVE_SOURCE_QUEUES = 10  # sourceQueueArns of a byQueue RedriveAllowPolicy
MAX_TAGS = 50
MAX_TAG_KEY_CHARS, MAX_TAG_VALUE_CHARS = 128, 256

# --- FIFO -----------------------------------------------------------------------------------------
DEDUPLICATION_INTERVAL_SECONDS = 300  # a FIFO queue remembers a deduplication id for 5 minutes
FIFO_TPS_PER_ACTION = 300  # requests/s per API action per partition, without high-throughput mode
FIFO_MESSAGES_PER_SECOND_BATCHED = FIFO_TPS_PER_ACTION * MAX_BATCH_ENTRIES  # 3,000 with batches of 10
HIGH_THROUGHPUT_FIFO_TPS = 70_000  # non-batched, largest regions; needs perMessageGroupId throughput limit

# --- in flight ------------------------------------------------------------------------------------
MAX_IN_FLIGHT_STANDARD = 120_000  # approximate; an OverLimit error beyond
MAX_IN_FLIGHT_FIFO = 120_000  # no error at the limit: receives just come back empty

# --- DLQ redrive ----------------------------------------------------------------------------------
MAX_MOVE_MESSAGES_PER_SECOND = 500  # StartMessageMoveTask's MaxNumberOfMessagesPerSecond ceiling
PURGE_INTERVAL_SECONDS = 60  # one PurgeQueue per queue every 60 s

# --- billing (check the AWS pricing page) ---------------------------------------------------------
BILLING_CHUNK_BYTES = 64 * 1024  # every 64 KB of a request bills as one request
FREE_REQUESTS_PER_MONTH = 1_000_000
STANDARD_USD_PER_MILLION_REQUESTS = 0.40
FIFO_USD_PER_MILLION_REQUESTS = 0.50

# --- CloudWatch (the metrics SQS publishes) ------------------------------------------------------
METRIC_PERIOD_SECONDS = 60  # SQS publishes its metrics once a minute on AWS
MAX_METRIC_QUERIES_PER_CALL = 500  # GetMetricData's limit
