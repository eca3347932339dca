"""Start LocalStack's runtime bound to loopback only. Runs in the *engine's* Python.

LocalStack 2026.3's Twisted gateway passes the listen host to Twisted only for IPv6 addresses; for IPv4 it
listens on every interface (0.0.0.0) whatever GATEWAY_LISTEN says (`runtime/server/twisted.py`,
`# TODO: interface = host?`). This launcher gives Twisted's IPv4 endpoint the host from LABSQS_BIND_HOST
before the runtime starts, then runs `python -m localstack.runtime.main` unchanged.

It also makes CloudWatch's dimension filter exact. LocalStack's CloudWatch (provider v2) stores a metric's
dimensions as ``Name=Value<TAB>`` and finds them with ``LIKE '%Name=Value%'``
(``services/cloudwatch/cloudwatch_database_helper.py``), so asking for ``QueueName=orders`` also sums the
data of ``orders-dlq``, ``orders-alerts``...: every lab queue's numbers would include its DLQ's. The search
pattern here ends each dimension with the stored TAB, as AWS matches dimension values exactly. The module is
patched when LocalStack first imports it (CloudWatch loads lazily), so start-up pays nothing.
"""

import importlib.abc
import importlib.util
import os
import runpy
import sys

from twisted.internet import endpoints

_TCP4ServerEndpoint = endpoints.TCP4ServerEndpoint
_BIND_HOST = os.environ.get("LABSQS_BIND_HOST", "127.0.0.1")


def _bound_tcp4_endpoint(reactor, port, backlog=50, interface=""):
    return _TCP4ServerEndpoint(reactor, port, backlog, interface or _BIND_HOST)


endpoints.TCP4ServerEndpoint = _bound_tcp4_endpoint

_CLOUDWATCH_DATABASE = "localstack.services.cloudwatch.cloudwatch_database_helper"


def _exact_dimension_search(module):
    database = getattr(module, "CloudwatchDatabase", None)
    original = getattr(database, "_get_ordered_dimensions_with_separator", None)
    if original is None:  # another LocalStack line: leave it as it is
        return

    def ordered_dimensions(self, dims, for_search=False):
        if not for_search or not dims:
            return original(self, dims, for_search)
        ordered = sorted(dims, key=lambda d: d["Name"])
        return "".join(f"%{d.get('Name')}={d.get('Value', '')}\t%" for d in ordered)

    database._get_ordered_dimensions_with_separator = ordered_dimensions


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Runs ``patch(module)`` right after ``name`` is first imported."""

    def __init__(self, name, patch):
        self.name, self.patch = name, patch

    def find_spec(self, fullname, path, target=None):
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        loader, patch = spec.loader, self.patch

        class PatchingLoader(importlib.abc.Loader):
            def create_module(self, spec):
                return loader.create_module(spec)

            def exec_module(self, module):
                loader.exec_module(module)
                patch(module)

        spec.loader = PatchingLoader()
        return spec


sys.meta_path.insert(0, _PatchOnImport(_CLOUDWATCH_DATABASE, _exact_dimension_search))
runpy.run_module("localstack.runtime.main", run_name="__main__", alter_sys=True)
