"""The handler's time: a distribution, drawn per message (the load tests' ``--handler-time`` forms)."""

from __future__ import annotations

import math
import random
import statistics
from dataclasses import dataclass

from labsqs.errors import InvalidLoadOption

MAX_HANDLER_SECONDS = 60.0  # the lab's own bound on a simulated handler, not an SQS limit
_DISTRIBUTION_ARITY = {"const": 1, "uniform": 2, "exp": 1, "normal": 2}


@dataclass(frozen=True)
class HandlerTime:
    """How long a handler works on one message, in seconds, drawn per message.

    Written as ``kind:params``: ``const:0.02``, ``uniform:0.05,0.2``, ``exp:0.1`` (mean), ``normal:0.2,0.05``
    (mean, standard deviation; clipped at 0). A bare number is ``const``.
    """

    kind: str
    params: tuple[float, ...]

    def draw(self, rng: random.Random) -> float:
        if self.kind == "const":
            return self.params[0]
        if self.kind == "uniform":
            return rng.uniform(*self.params)
        if self.kind == "exp":
            return rng.expovariate(1.0 / self.params[0]) if self.params[0] > 0 else 0.0
        return max(0.0, rng.gauss(*self.params))

    @property
    def mean_seconds(self) -> float:
        if self.kind == "uniform":
            return (self.params[0] + self.params[1]) / 2
        return self.params[0]

    @property
    def sd_seconds(self) -> float:
        if self.kind == "const":
            return 0.0
        if self.kind == "uniform":
            return (self.params[1] - self.params[0]) / math.sqrt(12)
        if self.kind == "exp":
            return self.params[0]
        return self.params[1]

    def quantile(self, q: float) -> float:
        """The handler time that a fraction ``q`` of messages stay under (``quantile(0.99)`` = p99)."""
        if self.kind == "const":
            return self.params[0]
        if self.kind == "uniform":
            return self.params[0] + q * (self.params[1] - self.params[0])
        if self.kind == "exp":
            return -self.params[0] * math.log(1.0 - q)
        mean, sd = self.params
        return max(0.0, mean + sd * statistics.NormalDist().inv_cdf(q)) if sd else mean

    @property
    def bounded(self) -> bool:
        """Whether the handler has a longest time (const, uniform); exp and normal have none."""
        return self.kind in ("const", "uniform")

    def __str__(self) -> str:
        return f"{self.kind}:{','.join(f'{p:g}' for p in self.params)}"


def parse_handler_time(text: str) -> HandlerTime:
    """``"uniform:0.05,0.2"`` → ``HandlerTime("uniform", (0.05, 0.2))``; raises :class:`InvalidLoadOption`."""
    raw = str(text).strip().lower()
    kind, _, rest = raw.partition(":")
    if not rest:
        kind, rest = "const", raw
    usage = "write const:S, uniform:LOW,HIGH, exp:MEAN or normal:MEAN,SD (seconds), e.g. uniform:0.05,0.2"
    if kind not in _DISTRIBUTION_ARITY:
        raise InvalidLoadOption(f"unknown handler-time distribution {kind!r} in {text!r}", hint=usage)
    try:
        params = tuple(float(p) for p in rest.split(","))
    except ValueError:
        raise InvalidLoadOption(f"handler time {text!r}: a parameter is not a number", hint=usage) from None
    if len(params) != _DISTRIBUTION_ARITY[kind]:
        raise InvalidLoadOption(
            f"{kind} takes {_DISTRIBUTION_ARITY[kind]} parameter(s), {text!r} has {len(params)}", hint=usage
        )
    if any(p < 0 or p > MAX_HANDLER_SECONDS or math.isnan(p) for p in params):
        raise InvalidLoadOption(
            f"handler time {text!r}: parameters must be between 0 and {MAX_HANDLER_SECONDS:g} s", hint=usage
        )
    if kind == "uniform" and params[0] > params[1]:
        raise InvalidLoadOption(f"uniform:{rest}: LOW is above HIGH", hint=usage)
    return HandlerTime(kind, params)
