"""Python table functions (UDTFs), evaluated by the engine before the query runs.

``TABLE(f(args))`` alone: the arguments are evaluated once, the handler's ``process`` and
``end_partition`` run in a worker, and the rows become a temporary table the query reads.

``FROM t [AS a], TABLE(f(a.x) [OVER (PARTITION BY ... [ORDER BY ...])]) [AS u]`` (lateral): the
input table is materialised, the arguments (and partition/order keys) are evaluated per input
row, rows are grouped into partitions (one partition without PARTITION BY), and the output is
two temporary tables of equal length joined on ``rowid``: the input row that produced each
output row, and the output row. Rows from ``end_partition`` come with NULL input columns.

This costs one pass over the input in the engine, which is acceptable for local use.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from hoarfrost.catalog.routines import Routine
from hoarfrost.sql.calls import TableSite
from hoarfrost.sql.translate import translate
from hoarfrost.workers import Runner, arrow_to_python_columns, python_to_arrow_table
from hoarfrost.workers.types import Column

if TYPE_CHECKING:
    from hoarfrost.engine.context import Context

__all__ = ["evaluate"]

_counter = itertools.count(1)


def _query(session: Context, sql: str) -> pa.Table:
    translation = translate(sql)
    return session.duck.sql(translation.statements[-1]).to_arrow_table()


def _materialise(session: Context, table: pa.Table, prefix: str) -> str:
    name = f"__HF_{prefix}_{next(_counter)}"
    view = name + "_ARROW"
    session.duck.register(view, table)
    try:
        session.duck.execute(f'CREATE TEMP TABLE "{name}" AS SELECT * FROM "{view}"')
    finally:
        session.duck.unregister(view)
    return name


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def evaluate(
    session: Context, pool: Runner, routine: Routine, site: TableSite, args: list[str]
) -> tuple[str, list[str]]:
    """(replacement text for the site, temporary tables to drop after the statement)."""
    columns = routine.returns_table
    assert columns is not None
    if site.lateral_left is None:
        values = _arguments(session, routine, args, "")
        rows = pool.call_udtf(routine.spec, [values])[0]
        out = python_to_arrow_table([r for _, r in rows], list(columns))
        name = _materialise(session, out, "UDTF")
        alias = f" AS {_quote(site.alias)}" if site.alias else ""
        return f'"{name}"{alias}', [name]
    return _lateral(session, pool, routine, site, args)


def _arguments(session: Context, routine: Routine, args: list[str], source: str) -> list[Column]:
    if not args:
        return []
    select = ", ".join(f'{a} AS "A{i}"' for i, a in enumerate(args))
    table = _query(session, f"SELECT {select}{source}")
    return arrow_to_python_columns(table, routine.arg_types)


def _lateral(
    session: Context, pool: Runner, routine: Routine, site: TableSite, args: list[str]
) -> tuple[str, list[str]]:
    assert site.lateral_left is not None and routine.returns_table is not None
    left = _query(session, f"SELECT * FROM {site.lateral_left}")
    source = _materialise(session, left, "UDTF_IN")
    alias = _quote(site.left_alias) if site.left_alias else '"__HF_IN"'
    keys = [f'{p} AS "P{i}"' for i, p in enumerate(site.partition_by)]
    order = [f'"P{i}"' for i in range(len(keys))] + site.order_by + [f"{alias}.ROWID"]
    named = [f'{a} AS "A{i}"' for i, a in enumerate(args)]
    select = ", ".join([f'{alias}.ROWID AS "RID"', *keys, *named])
    table = _query(
        session, f'SELECT {select} FROM "{source}" AS {alias} ORDER BY {", ".join(order)}'
    )
    rids = table.column("RID").to_pylist()
    argcols = arrow_to_python_columns(
        table.select([f"A{i}" for i in range(len(args))]), routine.arg_types
    )
    groups = _partitions([table.column(f"P{i}").to_pylist() for i in range(len(keys))], len(rids))
    partitions = [[[c[i] for i in group] for c in argcols] for group in groups]
    if not argcols:
        partitions = [[] for _ in groups]
    results = pool.call_udtf(routine.spec, partitions)
    taken: list[int | None] = []
    rows: list[list[Any]] = []
    for group, produced in zip(groups, results, strict=True):
        for src, row in produced:
            taken.append(None if src is None else rids[group[src]])
            rows.append(row)
    inputs = left.take(pa.array(taken, pa.int64()))
    output = python_to_arrow_table(rows, list(routine.returns_table))
    in_name = _materialise(session, inputs, "UDTF_ROWS")
    out_name = _materialise(session, output, "UDTF_OUT")
    out_alias = _quote(site.alias or "__HF_OUT")
    text = (
        f'"{in_name}" AS {alias} JOIN "{out_name}" AS {out_alias} '
        f"ON {alias}.ROWID = {out_alias}.ROWID"
    )
    return text, [source, in_name, out_name]


def _partitions(keys: list[list[Any]], nrows: int) -> list[list[int]]:
    """Consecutive row positions with equal keys (the rows come sorted by the keys)."""
    if nrows == 0:
        return []
    if not keys:
        return [list(range(nrows))]
    groups: list[list[int]] = [[0]]
    for i in range(1, nrows):
        if any(k[i] != k[i - 1] for k in keys):
            groups.append([])
        groups[-1].append(i)
    return groups
