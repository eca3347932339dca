"""Scenario 2 — visibility timeout: slow handlers, crashing consumers, duplicates vs slow recovery.

Handlers take 0.7 s on average, a few 2–3 s (--handler-time exp:0.7); a consumer crashes holding
its message with probability 0.1 (--crash-probability). A short --visibility-timeout lets slow handlers
be overtaken (duplicate processing, good messages dead-lettered after --max-receive-count receives); a
long one makes a crashed consumer's message wait out the whole timeout. Sweep it:

    locust -f loadtests/visibility.py --headless -u 17 -r 17 -t 25s --visibility-timeout 1
    locust -f loadtests/visibility.py --headless -u 17 -r 17 -t 25s --visibility-timeout 5
"""

import locust  # noqa: F401 — first: gevent patches sockets before boto3 is imported
from locust import events

from labsqs.load import users


@events.init_command_line_parser.add_listener
def _options(parser):
    users.add_options(parser, scenario="visibility")


users.attach(events)


class Producer(users.ProducerUser):
    weight = 1


class Consumer(users.ConsumerUser):
    weight = 16
