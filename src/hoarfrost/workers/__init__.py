"""User Python code in isolated worker processes (DESIGN.md decision 5). Imports only
``errors`` and ``config``; the worker bootstrap itself only the standard library.

The engine's surface: build a :class:`FunctionSpec`, get a :class:`Runner` (a :class:`WorkerPool`
per runtime + environment, or a :class:`FakeRunner` in engine tests), convert Arrow batches with
:func:`arrow_to_python_columns` / :func:`python_to_arrow`; :func:`isolation_layers` names the
kernel isolation layers a worker actually runs under here.
"""

from hoarfrost.workers.pool import WorkerPool, isolation_layers
from hoarfrost.workers.runner import FakeRunner, Runner
from hoarfrost.workers.spec import FunctionSpec, LoadInfo, ProcedureResult
from hoarfrost.workers.types import (
    SqlType,
    arrow_to_python_columns,
    python_to_arrow,
    python_to_arrow_table,
)

__all__ = [
    "FakeRunner",
    "FunctionSpec",
    "LoadInfo",
    "ProcedureResult",
    "Runner",
    "SqlType",
    "WorkerPool",
    "arrow_to_python_columns",
    "isolation_layers",
    "python_to_arrow",
    "python_to_arrow_table",
]
