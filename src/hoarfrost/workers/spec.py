"""What the engine hands a runner about a function, and what comes back.

A :class:`FunctionSpec` is everything a worker needs to load a function; its ``id`` (a hash of
the code, handler, kind and types) is how a worker knows it already has it loaded, so CREATE OR
REPLACE with new code loads afresh without restarting anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from hoarfrost.config import SETTINGS
from hoarfrost.errors import UserCodeError, WorkerError
from hoarfrost.workers.types import SqlType

__all__ = [
    "FunctionKind",
    "FunctionSpec",
    "LoadInfo",
    "OnHttp",
    "OnSql",
    "ProcedureResult",
    "UdtfRows",
    "error_from_reply",
]

FunctionKind = Literal["scalar", "vectorized", "udtf", "procedure", "aggregate"]
# Runs SQL in the caller's session for a procedure: text -> (column names, rows).
OnSql = Callable[[str], tuple[Sequence[str], Sequence[Sequence[Any]]]]
# Serves one HTTP request of a procedure's Snowpark session: {method, url, headers, body} ->
# {status, headers, body}.
OnHttp = Callable[[dict[str, Any]], dict[str, Any]]
# Per partition, the output rows, each tagged with the index (within the partition) of the input
# row whose process() call produced it, or None for rows from end_partition().
UdtfRows = list[list[tuple[int | None, list[Any]]]]


@dataclass(frozen=True)
class FunctionSpec:
    name: str  # shown in errors and as the code's file name in tracebacks
    code: str
    handler: str
    kind: FunctionKind = "scalar"  # "scalar" is promoted to vectorized if the handler is marked
    arg_types: tuple[SqlType, ...] = ()
    returns: SqlType | tuple[tuple[str, SqlType], ...] | None = None
    strict: bool = False  # RETURNS NULL ON NULL INPUT / STRICT: NULL rows never reach the code
    id: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        key = "\0".join(
            [self.code, self.handler, self.kind, *(t.name for t in self.arg_types), self.name]
        )
        object.__setattr__(self, "id", hashlib.sha256(key.encode()).hexdigest()[:32])

    def load_message(self) -> dict[str, Any]:
        """The ``load`` payload: plain values only, since the worker cannot import hoarfrost."""
        return {
            "id": self.id,
            "name": self.name,
            "code": self.code,
            "handler": self.handler,
            "kind": self.kind,
            "arg_kinds": [t.worker_kind for t in self.arg_types],
            "return_kind": self.returns.kind if isinstance(self.returns, SqlType) else None,
        }


@dataclass(frozen=True)
class LoadInfo:
    kind: FunctionKind  # as loaded: a marked handler declared "scalar" says "vectorized"
    max_batch_size: int | None


@dataclass(frozen=True)
class ProcedureResult:
    value: Any = None  # a scalar result
    columns: list[str] | None = None  # a table result: column names when the code gave them
    rows: list[list[Any]] | None = None

    @property
    def is_table(self) -> bool:
        return self.rows is not None


def _mib(n: int) -> str:
    return f"{n / (1 << 20):g} MiB"


def error_from_reply(spec: FunctionSpec, payload: dict[str, Any], memory_limit: int) -> Exception:
    """The hoarfrost error for an ``error`` reply of a worker."""
    kind = payload.get("kind")
    where = f"function {spec.name} with handler {spec.handler}"
    if kind == "memory":
        return WorkerError(
            f"The worker running {where} ran out of memory: a worker may use at most "
            f"{_mib(memory_limit)} (setting {SETTINGS['worker_memory_limit'].env_var})."
        )
    if kind == "user":
        # The reference's wording: "Python Interpreter Error:" then the user's traceback.
        return UserCodeError(f"Python Interpreter Error:\n{payload.get('traceback', '')}in {where}")
    return UserCodeError(f"{payload.get('message', 'error')} ({where})")
