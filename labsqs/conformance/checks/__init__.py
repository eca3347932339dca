"""The checks, one module a topic. Importing this package registers every check in suite order.

The order of the imports below is the suite's order (and ``docs/conformance.md``'s rows): queues and their
attributes, messages, visibility, polling and delay, batches, purge and the counters, FIFO, dead-letter
queues and their move tasks. Each check cites the documentation it holds the engine to; the SQS numbers
they use are the suite's own copies (:mod:`labsqs.conformance.documented`), on purpose.
"""

# the order is the suite's order: keep it when adding a topic
# isort: off
from labsqs.conformance.checks import queues as queues
from labsqs.conformance.checks import messages as messages
from labsqs.conformance.checks import visibility as visibility
from labsqs.conformance.checks import polling as polling
from labsqs.conformance.checks import batches as batches
from labsqs.conformance.checks import purge as purge
from labsqs.conformance.checks import fifo as fifo
from labsqs.conformance.checks import dlq as dlq
# isort: on
