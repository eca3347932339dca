"""labsqs — a learning and load-testing lab for Amazon SQS, local first, then real AWS.

One module per SQS concept:

- ``engine`` (what gives you an endpoint), ``client`` (the boto3 clients), ``errors``;
- ``queues`` (specs, DLQ wiring, typed attributes), ``producer`` (send, batching, FIFO ids);
- ``consumer`` (polling, heartbeat, graceful stop, FIFO rules), ``idempotency`` (processed-keys store),
  ``trigger`` (Lambda-style event source mapping);
- ``dlq`` (inspect, redrive, purge), ``metrics`` (gauges, drain, sampler, alarms);
- ``loadtest``, ``bench`` (Locust), ``conformance`` (engine vs SQS), ``pipelines`` (the seeds' apps).

Importing the package has no side effects: nothing connects until you call something.
"""

from __future__ import annotations

__version__ = "0.1.0"
