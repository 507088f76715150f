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

import itertools
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

import duckdb
import pyarrow as pa

from hoarfrost.engine.udf import udf_service
from hoarfrost.sql.batching import BatchPlan, plan
from hoarfrost.workers import python_to_arrow

if TYPE_CHECKING:
    from hoarfrost.engine.context import Context

__all__ = ["BATCH_ROWS", "run_batched"]

# Rows per round trip to a worker: ~5 ms of a trivial Python function, so the trip itself
# (tens of microseconds) no longer counts; small enough that LIMIT wastes little.
BATCH_ROWS = 65_536


R = TypeVar("R")


class _TooBig(Exception):
    pass


def run_batched(
    session: Context, sql: str, read: Callable[[duckdb.DuckDBPyRelation], R]
) -> R | None:
    """``read`` of the relation of ``sql`` with its UDF calls evaluated in batches, or ``None``
    to run ``sql`` as it is (see :func:`_evaluate`)."""
    evaluated = _evaluate(session, sql)
    if evaluated is None:
        return None
    batch_plan, table = evaluated
    duck = session.duck
    duck.register(batch_plan.stream, table)
    try:
        return read(duck.sql(batch_plan.outer))
    finally:
        duck.unregister(batch_plan.stream)


def _evaluate(session: Context, sql: str) -> tuple[BatchPlan, pa.Table] | None:
    """The plan of ``sql`` and the table its outer query reads, or ``None`` to run ``sql`` as
    it is (not of a batchable shape, a UDF not registered here, or an input over the setting
    ``udf_batch_memory``)."""
    limit = int(session.engine.settings.udf_batch_memory)
    batch_plan = plan(sql) if limit > 0 else None
    if batch_plan is None:
        return None
    service = udf_service(session.engine)
    registered = [service.batchable.get(call.duck_name) for call in batch_plan.calls]
    functions = [(c, f[0], f[2]) for c, f in zip(batch_plan.calls, registered, strict=True) if f]
    if len(functions) != len(batch_plan.calls):
        return None  # registered on demand by the per-vector path (views, new sessions)
    ahead = max(f[1].size for f in registered if f)  # one batch per worker of the largest pool
    duck = session.duck
    probe = duck.sql(f"SELECT * FROM {batch_plan.table_sql} LIMIT 0").columns
    columns = [name for name in probe if name.lower() in batch_plan.referenced]
    names = columns + [call.result for call, _, _ in functions]

    def evaluate(batch: pa.RecordBatch) -> pa.RecordBatch:
        results = [fn(*(batch.column(a) for a in call.args)) for call, fn, _ in functions]
        return pa.RecordBatch.from_arrays([batch.column(c) for c in columns] + results, names=names)

    reader = duck.sql(batch_plan.inner(columns)).to_arrow_reader(BATCH_ROWS)
    try:
        batches = iter(reader)
        first = next(batches, None)
        second = next(batches, None) if first is not None else None
        if first is None:
            empty = [pa.array([], reader.schema.field(c).type) for c in columns]
            empty += [python_to_arrow([], returns) for _, _, returns in functions]
            return batch_plan, pa.table(empty, names=names)
        if second is None:  # one batch (a small table): no threads to start
            if first.nbytes > limit:
                return None
            return batch_plan, pa.Table.from_batches([evaluate(first)])
        done = _in_parallel(itertools.chain((first, second), batches), evaluate, ahead, limit)
    except _TooBig:
        return None
    finally:
        reader.close()
    return batch_plan, pa.Table.from_batches(done)


def _in_parallel(
    batches: Iterator[pa.RecordBatch],
    evaluate: Callable[[pa.RecordBatch], pa.RecordBatch],
    ahead: int,
    limit: int,
) -> list[pa.RecordBatch]:
    """``evaluate`` each batch, ``ahead`` at a time (one per worker), results in input order;
    _TooBig once the input read exceeds ``limit`` bytes."""
    done: list[pa.RecordBatch] = []
    pending: deque[Future[pa.RecordBatch]] = deque()
    held = 0
    with ThreadPoolExecutor(max_workers=ahead, thread_name_prefix="hoarfrost-udf") as threads:
        try:
            for batch in batches:
                held += batch.nbytes
                if held > limit:
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
