"""Running a query's Python UDF calls over large batches (the plan: hoarfrost.sql.batching).

The inner query streams out of DuckDB in batches of ``BATCH_ROWS`` rows; each batch goes to a
thread that evaluates every call through the same Arrow UDF DuckDB would have called (so the
policy check, type conversions, NOT NULL check and errors are the same), with as many batches in
flight as the pool has workers. The evaluated batches form an Arrow table the outer query reads.

The inner result is held in memory, like a query's result already is. Past the setting
``udf_batch_memory`` (bytes) the batched run stops and the statement runs as written, UDFs per
DuckDB vector, which streams: rows evaluated before the switch are then evaluated again (UDFs
must not count on how often they are called; Snowflake gives no such promise either).
"""

from __future__ import annotations

import functools
import itertools
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from hoarfrost.engine.batch_views import with_views_inlined
from hoarfrost.engine.udf import udf_service
from hoarfrost.sql.batching import Call, Site, plan
from hoarfrost.workers import Runner, python_to_arrow
from hoarfrost.workers.types import SqlType

if TYPE_CHECKING:
    from hoarfrost.engine.context import Context

__all__ = ["BATCH_ROWS", "run_batched", "scatter"]

# Rows per round trip to a worker: ~5 ms of a trivial Python function, so the trip itself
# (tens of microseconds) no longer counts; small enough that LIMIT wastes little.
BATCH_ROWS = 65_536


R = TypeVar("R")


class _TooBig(Exception):
    pass


def run_batched(session: Context, sql: str, run: Callable[[str], R]) -> R | None:
    """``run`` of the text of ``sql`` with its UDF calls evaluated in batches (the text reads
    them from tables registered on the session's connection while ``run`` runs), or ``None``
    to run ``sql`` as it is: not of a batchable shape, a UDF not registered here (registered on
    demand by the per-vector path: views, new sessions), an inner query DuckDB cannot bind on its
    own (it reads an outer query's column, a select alias), or inputs over the setting
    ``udf_batch_memory``."""
    limit = int(session.engine.settings.udf_batch_memory)
    batch_plan = plan(with_views_inlined(session, sql)) if limit > 0 else None
    if batch_plan is None:
        return None
    service = udf_service(session.engine)
    functions: dict[str, tuple[Any, Runner, SqlType]] = {}
    for site in batch_plan.sites:
        for call in site.calls:
            found = service.batchable.get(call.duck_name)
            if found is None:
                return None
            functions[call.duck_name] = found
    duck = session.duck
    registered: list[str] = []
    try:
        budget = _Budget(limit)
        for site in batch_plan.sites:
            table = _evaluate(duck, site, functions, budget)
            if table is None:
                return None
            duck.register(site.stream, table)
            registered.append(site.stream)
        return run(batch_plan.outer)
    finally:
        for name in registered:
            duck.unregister(name)


class _Budget:
    """Bytes of input the batched run may still hold (all sites together)."""

    def __init__(self, limit: int):
        self.left = limit


def _evaluate(
    duck: duckdb.DuckDBPyConnection,
    site: Site,
    functions: dict[str, tuple[Any, Runner, SqlType]],
    budget: _Budget,
) -> pa.Table | None:
    """The table ``site``'s rewritten SELECT reads, or ``None`` to run the statement as it is."""
    try:
        probe = duck.sql(site.probe)
        types = {c.lower(): str(t) for c, t in zip(probe.columns, probe.types, strict=True)}
        projected = {c.lower(): c for c in probe.columns if c.lower() in site.referenced}
        columns = list(projected.values())
        # An argument that is a projected column cast to its own type reads that column.
        reused = {
            argument: projected[column.lower()]
            for argument, column, to in site.casts
            if column.lower() in projected and types[column.lower()] == to
        }
        relation = duck.sql(site.inner(columns, frozenset(reused)))
    except duckdb.Error:
        return None  # the statement as written gives DuckDB's error, or runs per vector
    calls = [(call, *functions[call.duck_name]) for call in site.calls]
    ahead = max(pool.size for _, _, pool, _ in calls)  # one batch per worker of the largest pool
    kept = len(columns) + len(site.qualified)
    names = [*columns, *(name for name, _ in site.qualified), *(c.result for c in site.calls)]

    # A column of DuckDB's batch keeps the whole batch in memory: the kept columns are copied
    # when the batch also holds arguments, not when it holds nothing more than guards (bitmaps).
    guards = {call.guard for call in site.calls}
    holds_arguments = any(name not in guards for name in relation.columns[kept:])

    def evaluate(batch: pa.RecordBatch) -> pa.RecordBatch:
        results = [_call(fn, call, batch, returns, reused) for call, fn, _, returns in calls]
        columns = batch.columns[:kept]
        if holds_arguments:
            columns = [pa.concat_arrays([c]) for c in columns]
        return pa.RecordBatch.from_arrays([*columns, *results], names=names)

    reader = relation.to_arrow_reader(BATCH_ROWS)
    try:
        batches = iter(reader)
        first = next(batches, None)
        second = next(batches, None) if first is not None else None
        if first is None:
            empty = [pa.array([], reader.schema.field(i).type) for i in range(kept)]
            empty += [python_to_arrow([], returns) for _, _, _, returns in calls]
            return pa.table(empty, names=names)
        if second is None:  # one batch (a small table): no threads to start
            if first.nbytes > budget.left:
                return None
            budget.left -= first.nbytes
            return pa.Table.from_batches([evaluate(first)])
        chained = itertools.chain((first, second), batches)
        done = _in_parallel(chained, evaluate, ahead, budget)
    except _TooBig:
        return None
    finally:
        reader.close()
    return pa.Table.from_batches(done)


def _call(
    fn: Any, call: Call, batch: pa.RecordBatch, returns: SqlType, reused: dict[str, str]
) -> pa.Array:
    """``call`` evaluated on ``batch``: on the rows its guard lets through only, NULL on the
    others (which the query never reads). An argument in ``reused`` is read from the column it
    names."""
    index = batch.schema.get_field_index
    args = [batch.column(index(reused.get(a, a))) for a in call.args]
    if call.guard is None:
        return fn(*args)
    mask = batch.column(index(call.guard))
    selected = mask.true_count
    if selected == len(mask):
        return fn(*args)
    if selected == 0:
        return _nulls(len(mask), python_to_arrow([], returns).type)
    return scatter(fn(*(pc.filter(a, mask) for a in args)), mask)


def scatter(values: pa.Array, mask: pa.BooleanArray) -> pa.Array:
    """``values`` at the positions where ``mask`` is true, NULL elsewhere."""
    try:
        return pc.replace_with_mask(_nulls(len(mask), values.type), mask, values)
    except pa.ArrowNotImplementedError:  # nested types: by index (a few times slower)
        positions = pc.subtract(pc.cumulative_sum(pc.cast(mask, pa.int64())), 1)
        return pc.take(values, pc.if_else(mask, positions, pa.scalar(None, pa.int64())))


@functools.lru_cache(maxsize=32)
def _null_batch(type_: pa.DataType) -> pa.Array:
    return pa.nulls(BATCH_ROWS, type_)


def _nulls(length: int, type_: pa.DataType) -> pa.Array:
    """``length`` NULLs of ``type_``: a slice of one kept array for batch sizes (a fresh array
    per batch costs as much as the scatter itself, its pages touched for the first time)."""
    if length > BATCH_ROWS:
        return pa.nulls(length, type_)
    return _null_batch(type_).slice(0, length)


def _in_parallel(
    batches: Iterator[pa.RecordBatch],
    evaluate: Callable[[pa.RecordBatch], pa.RecordBatch],
    ahead: int,
    budget: _Budget,
) -> list[pa.RecordBatch]:
    """``evaluate`` each batch, ``ahead`` at a time (one per worker), results in input order;
    _TooBig once the input read exceeds the budget."""
    done: list[pa.RecordBatch] = []
    pending: deque[Future[pa.RecordBatch]] = deque()
    with ThreadPoolExecutor(max_workers=ahead, thread_name_prefix="hoarfrost-udf") as threads:
        try:
            for batch in batches:
                budget.left -= batch.nbytes
                if budget.left < 0:
                    raise _TooBig()
                pending.append(threads.submit(evaluate, batch))
                while len(pending) > ahead:
                    done.append(pending.popleft().result())
            while pending:
                done.append(pending.popleft().result())
        finally:
            for future in pending:
                future.cancel()
    return done
