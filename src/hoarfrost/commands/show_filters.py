"""What every SHOW accepts after its object kind, applied to any SHOW's rows:
``TERSE`` (the reference's five columns), ``STARTS WITH '<prefix>'`` (case-sensitive, on
``name``) and ``LIMIT <n> [FROM '<name>']`` (rows from that name on, at most n)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from hoarfrost.engine.context import Context, Handler
from hoarfrost.engine.result import Column, Result
from hoarfrost.sql.ast import Show

__all__ = ["filtered"]

# SHOW TERSE <objects>: the reference's short column set.
_TERSE = ["created_on", "name", "kind", "database_name", "schema_name"]
_TERSE_KINDS = {"TABLE", "VIEW", "OBJECT", "SCHEMA", "DATABASE", "SEQUENCE", "STAGE"}


def _name_filter(result: Result, node: Show) -> Result:
    table = result.table
    if "name" not in table.column_names:
        return result
    names = table.column("name").cast(pa.string())
    mask = None
    if node.starts_with is not None:
        mask = pc.starts_with(names, node.starts_with)
    if node.limit_from is not None:
        after = pc.greater_equal(names, node.limit_from)
        mask = after if mask is None else pc.and_(mask, after)
    if mask is not None:
        table = table.filter(pc.fill_null(mask, False))
    if node.limit is not None:
        table = table.slice(0, node.limit)
    return _with(result, result.columns, table)


def _terse(result: Result, node: Show) -> Result:
    table = result.table
    columns, arrays = [], []
    by_name = {c.name: c for c in result.columns}
    for name in _TERSE:
        if name in table.column_names:
            columns.append(by_name[name])
            arrays.append(table.column(name))
        else:
            fill: Any = node.kind if name == "kind" and node.kind != "OBJECT" else None
            columns.append(Column(name))
            arrays.append(pa.array([fill] * table.num_rows, pa.string()))
    return _with(result, columns, pa.Table.from_arrays(arrays, names=_TERSE))


def _with(result: Result, columns: list[Column], table: pa.Table) -> Result:
    return Result(columns, table, table.num_rows, result.statement_type, result.query_id)


def filtered(handlers: Mapping[tuple[str, str], Handler]) -> dict[tuple[str, str], Handler]:
    """Every SHOW handler, with TERSE, STARTS WITH and LIMIT ... FROM applied to its rows."""
    wrapped = dict(handlers)
    for key, handler in handlers.items():
        if key[0] == "Show":
            wrapped[key] = _wrap(handler)
    return wrapped


def _wrap(handler: Handler) -> Handler:
    def run(session: Context, node: Show) -> Result:
        result = handler(session, node)
        if node.starts_with is not None or node.limit is not None:
            result = _name_filter(result, node)
        if node.terse and node.kind in _TERSE_KINDS:
            result = _terse(result, node)
        return result

    return run
