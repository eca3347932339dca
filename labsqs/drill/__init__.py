"""The fault drill: the worker process (:mod:`labsqs.drill.worker`) and the drill that kills it."""
