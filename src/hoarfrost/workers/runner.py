"""The seam between the engine and whatever runs user code.

:class:`Runner` is what the engine calls; it owns the semantics that do not depend on where code
runs (STRICT null skipping, turning replies into results or hoarfrost errors). Subclasses only
implement :meth:`Runner._request`: the real one is :class:`hoarfrost.workers.pool.WorkerPool`
(separate interpreters); :class:`FakeRunner` runs the same bootstrap code in-process, for engine
tests that need functions but not isolation.
"""

from __future__ import annotations

import array
import secrets
import sys
import threading
from collections.abc import Sequence
from typing import Any, TypeVar

import pyarrow as pa

from hoarfrost.errors import WorkerError
from hoarfrost.workers import bootstrap
from hoarfrost.workers.spec import (
    FunctionSpec,
    LoadInfo,
    OnHttp,
    OnSql,
    ProcedureResult,
    UdtfRows,
    error_from_reply,
)
from hoarfrost.workers.types import Column, SqlType, arrow_to_python_columns, python_to_arrow

__all__ = ["FakeRunner", "Runner"]

Reply = tuple[str, Any]
_R = TypeVar("_R", bound="Runner")


class Runner:
    """Runs functions. Thread-safe: the engine calls it from several DuckDB threads."""

    memory_limit: int = 0
    size: int = 1  # calls it can run at once (the batched evaluation keeps this many in flight)

    @property
    def isolation(self) -> str:
        """What isolation is in force for user code, stated truthfully."""
        raise NotImplementedError

    def _request(
        self,
        spec: FunctionSpec,
        tag: str,
        payload: dict[str, Any],
        on_sql: OnSql | None,
        on_http: OnHttp | None = None,
    ) -> Reply:
        """Send one request for ``spec`` (loaded first if need be) and return the final reply."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self: _R) -> _R:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public API --------------------------------------------------------------------------

    def request(
        self,
        spec: FunctionSpec,
        tag: str,
        payload: dict[str, Any],
        on_sql: OnSql | None = None,
        on_http: OnHttp | None = None,
    ) -> Reply:
        """One raw request and its final reply, uninterpreted: what a runner that forwards to
        another runner (a Ray actor's pool on a node) relays."""
        return self._request(spec, tag, payload, on_sql, on_http)

    def call_arrow(
        self,
        spec: FunctionSpec,
        arrays: Sequence[pa.Array | pa.ChunkedArray],
        nrows: int,
        returns: SqlType,
    ) -> pa.Array:
        """:meth:`call` on Arrow arrays, returning an Arrow array of ``returns``. Here the
        conversions happen in this process; a runner that ships batches elsewhere overrides it
        so that they happen where the code runs."""
        columns = arrow_to_python_columns(list(arrays), spec.arg_types)
        return python_to_arrow(self.call(spec, columns, nrows), returns)

    def load(self, spec: FunctionSpec) -> LoadInfo:
        """Load ``spec`` (at CREATE: checks the code runs and the handler exists)."""
        info = self._ok(spec, self._request(spec, "load", spec.load_message(), None))
        return LoadInfo(kind=info["kind"], max_batch_size=info["max_batch_size"])

    def call(self, spec: FunctionSpec, columns: Sequence[Column], nrows: int) -> Column:
        """Results of a scalar or vectorized function for one batch (one column per argument)."""
        if not spec.strict:
            return self._call(spec, list(columns), nrows)
        keep = _non_null_rows(columns, nrows)
        if len(keep) == nrows:
            return self._call(spec, list(columns), nrows)
        out: list[Any] = [None] * nrows
        if keep:
            sub = self._call(spec, [_take(c, keep) for c in columns], len(keep))
            for i, v in zip(keep, sub, strict=True):
                out[i] = v
        return out

    def call_udtf(self, spec: FunctionSpec, partitions: Sequence[Sequence[Column]]) -> UdtfRows:
        """Output rows per partition; each partition is a list of argument columns."""
        if not spec.strict:
            return self._udtf(spec, [list(p) for p in partitions])
        keeps = [_non_null_rows(p, len(p[0]) if p else 0) for p in partitions]
        parts = [[_take(c, k) for c in p] for p, k in zip(partitions, keeps, strict=True)]
        result = self._udtf(spec, parts)
        return [
            [(None if src is None else k[src], row) for src, row in rows]
            for rows, k in zip(result, keeps, strict=True)
        ]

    def call_procedure(
        self,
        spec: FunctionSpec,
        args: Sequence[Any],
        on_sql: OnSql,
        on_http: OnHttp | None = None,
        wire: dict[str, Any] | None = None,
    ) -> ProcedureResult:
        """Run a procedure; ``on_sql(text) -> (columns, rows)`` serves its ``session.sql``.
        With ``on_http`` and ``wire`` (login token and context), a procedure whose environment
        has Snowpark gets a real Snowpark Session whose requests ``on_http`` serves."""
        # The call's own token: SQL that arrives without it (from a thread an earlier call left
        # running) is refused, so the channel serves this call and its session only.
        payload = {"id": spec.id, "args": list(args), "call": secrets.token_hex(16), "wire": wire}
        res = self._ok(spec, self._request(spec, "proc", payload, on_sql, on_http))
        if res["table"]:
            return ProcedureResult(columns=res["columns"], rows=res["rows"])
        return ProcedureResult(value=res["value"])

    # -- shared plumbing -----------------------------------------------------------------------

    def _call(self, spec: FunctionSpec, columns: list[Column], nrows: int) -> Column:
        payload = {"id": spec.id, "columns": columns, "nrows": nrows}
        result: Column = self._ok(spec, self._request(spec, "call", payload, None))
        if len(result) != nrows:
            raise WorkerError(f"Function {spec.name} returned {len(result)} rows for {nrows}.")
        return result

    def _udtf(self, spec: FunctionSpec, partitions: list[list[Column]]) -> UdtfRows:
        payload = {"id": spec.id, "partitions": partitions}
        rows: UdtfRows = self._ok(spec, self._request(spec, "udtf", payload, None))
        return [[(src, list(row)) for src, row in part] for part in rows]

    def _ok(self, spec: FunctionSpec, reply: Reply) -> Any:
        tag, payload = reply
        if tag == "ok":
            return payload
        raise error_from_reply(spec, payload, self.memory_limit)


def _non_null_rows(columns: Sequence[Column], nrows: int) -> list[int]:
    nullable = [c for c in columns if not isinstance(c, array.array)]  # flat columns: no NULLs
    if not nullable:
        return list(range(nrows))
    return [
        i for i, row in enumerate(zip(*nullable, strict=True)) if not any(v is None for v in row)
    ]


def _take(column: Column, rows: list[int]) -> Column:
    if isinstance(column, array.array):
        return array.array(column.typecode, (column[i] for i in rows))
    return [column[i] for i in rows]


class FakeRunner(Runner):
    """Runs functions in the engine's own process with the worker's code: no isolation at all.

    For engine tests only. It installs the ``_snowflake`` module in this process and user code
    shares the engine's ``sys.path``, so it must never serve real users.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._on_sql: OnSql | None = None
        self._call_token: str | None = None
        self._worker = bootstrap.Worker(self._sql)
        sys.modules.setdefault("_snowflake", bootstrap.make_snowflake_module())

    @property
    def isolation(self) -> str:
        return "none (in-process fake runner for tests)"

    def _sql(self, call: str, query: str) -> tuple[list[str], list[list[Any]]]:
        if self._on_sql is None or call != self._call_token:
            raise bootstrap.SnowparkSQLException("SQL is only available to procedures.")
        try:
            cols, rows = self._on_sql(query)
        except Exception as exc:
            raise bootstrap.SnowparkSQLException(str(exc)) from None
        return list(cols), [list(r) for r in rows]

    def _request(
        self,
        spec: FunctionSpec,
        tag: str,
        payload: dict[str, Any],
        on_sql: OnSql | None,
        on_http: OnHttp | None = None,
    ) -> Reply:
        with self._lock:  # one call at a time, like one worker
            if tag != "load" and spec.id not in self._worker.functions:
                reply = self._worker.handle("load", spec.load_message())
                if reply[0] != "ok":
                    return reply
            self._on_sql, self._call_token = on_sql, payload.get("call")
            try:
                return self._worker.handle(tag, payload)
            finally:
                self._on_sql = self._call_token = None
