"""Start LocalStack's runtime bound to loopback only. Runs in the *engine's* Python (>= 3.13).

LocalStack 2026.3's Twisted gateway passes the listen host to Twisted only for IPv6 addresses; for IPv4 it
listens on every interface (0.0.0.0) whatever GATEWAY_LISTEN says (`runtime/server/twisted.py`,
`# TODO: interface = host?`). This launcher gives Twisted's IPv4 endpoint the host from LABSQS_BIND_HOST
before the runtime starts, then runs `python -m localstack.runtime.main` unchanged.
"""

import os
import runpy

from twisted.internet import endpoints

_TCP4ServerEndpoint = endpoints.TCP4ServerEndpoint
_BIND_HOST = os.environ.get("LABSQS_BIND_HOST", "127.0.0.1")


def _bound_tcp4_endpoint(reactor, port, backlog=50, interface=""):
    return _TCP4ServerEndpoint(reactor, port, backlog, interface or _BIND_HOST)


endpoints.TCP4ServerEndpoint = _bound_tcp4_endpoint
runpy.run_module("localstack.runtime.main", run_name="__main__", alter_sys=True)
