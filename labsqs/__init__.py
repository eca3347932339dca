"""labsqs — a learning and load-testing lab for Amazon SQS, local first, then real AWS.

One module per SQS concept: ``engine`` (what gives you an endpoint), ``client`` (the boto3 client),
``queues``, ``producer``, ``consumer``, ``dlq``, ``metrics``, ``loadtest``; ``errors`` holds the errors.
Importing the package has no side effects: nothing connects until you call something.
"""

from __future__ import annotations

__version__ = "0.1.0"
