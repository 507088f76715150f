"""Where user code runs: worker backends (the local pool, or actors on a Ray cluster).

The engine opens one :class:`WorkerBackend` from its settings (:func:`open_backend`) and asks it
for one runner per function definition (:class:`FunctionPlacement`). This package sits between
the leaves and the engine: it joins environments (``packages``) to workers (``workers``), which
a node of a cluster must do on its own. Ray is imported only by the Ray backend.
"""

from hoarfrost.cluster.backend import FunctionPlacement, LocalBackend, WorkerBackend, open_backend

__all__ = ["FunctionPlacement", "LocalBackend", "WorkerBackend", "open_backend"]
