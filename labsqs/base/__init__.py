"""The low-level layer: what every part of the lab needs from SQS, written once.

The core modules (queues, producer, consumer, dlq, metrics, trigger, idempotency) stand on it; it stands on
the client and the errors only. Nothing here knows about lessons, load runs, drills or pipelines.

================  =========================================================================================
``limits``        every SQS number the lab uses (sizes, ranges, quotas), once, with its source
``calls``         the plain requests done right: receive with every attribute, delete and change visibility
                  in chunks of 10 with per-entry failures as data, receive-everything, SQS's error codes
``depth``         a queue's gauges (visible, in flight, delayed) and the wait until queues are drained
``developer``     LocalStack's developer endpoints (list a queue's messages without receiving them)
``sqlite``        the shared SQLite file (WAL, busy timeout, one lock) and the one ``failures`` table
================  =========================================================================================
"""
