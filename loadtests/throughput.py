"""Scenario 1 — throughput: standard vs FIFO, message groups, consumers, batch size.

Producers send as fast as they can (single or batches of 10; FIFO messages spread over --groups);
consumers receive up to --batch-size, handle each message for --handler-time (20 ms) and delete in a
batch. With one FIFO group more consumers do not help (the group is locked while a message is in
flight); with many groups they do. A queue (+ DLQ) is created at test start unless --queue-url is given.

    locust -f loadtests/throughput.py --headless -u 5 -r 5 -t 20s --queue-type fifo --groups 1
    locust -f loadtests/throughput.py --headless -u 5 -r 5 -t 20s --queue-type fifo --groups 100
"""

import locust  # noqa: F401 — first: gevent patches sockets before boto3 is imported
from locust import events

from labsqs.load import users


@events.init_command_line_parser.add_listener
def _options(parser):
    users.add_options(parser, scenario="throughput")


users.attach(events)


class Producer(users.ProducerUser):
    weight = 1


class Consumer(users.ConsumerUser):
    weight = 4
