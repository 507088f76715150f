"""The result of one statement: Snowflake column metadata plus an Arrow table.

Arrow is the one in-memory form of every result, so the Python API (fetch*, Arrow, pandas), the
CLI and the wire server all read the same thing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

__all__ = ["TYPE_CODES", "Column", "Result", "column_from_duckdb", "rows_result", "status_result"]

# The connector's FIELD_TYPES order: description()[1] is this index (snowflake.connector.constants).
TYPE_CODES = {
    "FIXED": 0,
    "REAL": 1,
    "TEXT": 2,
    "DATE": 3,
    "TIMESTAMP": 4,
    "VARIANT": 5,
    "TIMESTAMP_LTZ": 6,
    "TIMESTAMP_TZ": 7,
    "TIMESTAMP_NTZ": 8,
    "OBJECT": 9,
    "ARRAY": 10,
    "BINARY": 11,
    "TIME": 12,
    "BOOLEAN": 13,
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "TEXT"  # Snowflake logical type
    precision: int | None = None
    scale: int | None = None
    length: int | None = None
    nullable: bool = True

    @property
    def type_code(self) -> int:
        return TYPE_CODES[self.type]

    def description(self) -> tuple[Any, ...]:
        size = self.length if self.type in ("TEXT", "BINARY") else None
        return (self.name, self.type_code, None, size, self.precision, self.scale, self.nullable)


@dataclass
class Result:
    columns: list[Column]
    table: pa.Table
    rowcount: int = -1
    statement_type: str = "SELECT"  # SELECT | DML | DDL | SHOW | DESCRIBE | CALL | USE | OTHER
    query_id: str = ""
    messages: list[str] = field(default_factory=list)
    # PUT / GET: the files to move (stage_transfer.Transfer); the client moves them.
    transfer: Any = None

    def rows(self) -> list[tuple[Any, ...]]:
        cols = [c.to_pylist() for c in self.table.columns]
        return list(zip(*cols, strict=True)) if cols else []


_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")
_SIMPLE = {
    "TINYINT": ("FIXED", 3),
    "SMALLINT": ("FIXED", 5),
    "INTEGER": ("FIXED", 10),
    "BIGINT": ("FIXED", 19),
    "HUGEINT": ("FIXED", 38),
    "UTINYINT": ("FIXED", 3),
    "USMALLINT": ("FIXED", 5),
    "UINTEGER": ("FIXED", 10),
    "UBIGINT": ("FIXED", 20),
    "FLOAT": ("REAL", None),
    "DOUBLE": ("REAL", None),
    "VARCHAR": ("TEXT", None),
    "BOOLEAN": ("BOOLEAN", None),
    "DATE": ("DATE", None),
    "TIME": ("TIME", None),
    "TIMESTAMP": ("TIMESTAMP_NTZ", None),
    "TIMESTAMP_NS": ("TIMESTAMP_NTZ", None),
    "TIMESTAMP_MS": ("TIMESTAMP_NTZ", None),
    "TIMESTAMP_S": ("TIMESTAMP_NTZ", None),
    "TIMESTAMP WITH TIME ZONE": ("TIMESTAMP_TZ", None),
    "BLOB": ("BINARY", None),
    "JSON": ("VARIANT", None),
    "UUID": ("TEXT", None),
}


def column_from_duckdb(name: str, duck_type: str) -> Column:
    t = duck_type.upper()
    m = _DECIMAL.fullmatch(t)
    if m:
        return Column(name, "FIXED", int(m.group(1)), int(m.group(2)))
    if t in _SIMPLE:
        kind, precision = _SIMPLE[t]
        if kind == "FIXED":
            return Column(name, kind, 38 if precision else None, 0)
        if kind == "TEXT":
            return Column(name, kind, length=16777216)
        return Column(name, kind)
    if t.endswith("[]"):
        return Column(name, "ARRAY")
    if t.startswith(("STRUCT", "MAP")):
        return Column(name, "OBJECT")
    return Column(name, "TEXT", length=16777216)


def _arrow_type(value: Any) -> pa.DataType:
    if isinstance(value, bool):
        return pa.bool_()
    if isinstance(value, int):
        return pa.int64()
    if isinstance(value, float):
        return pa.float64()
    if isinstance(value, dt.datetime):
        return pa.timestamp("us", tz="UTC" if value.tzinfo else None)
    return pa.string()


def _column_for(name: str, values: Sequence[Any]) -> tuple[Column, pa.DataType]:
    sample = next((v for v in values if v is not None), None)
    atype = _arrow_type(sample)
    if pa.types.is_boolean(atype):
        return Column(name, "BOOLEAN"), atype
    if pa.types.is_integer(atype):
        return Column(name, "FIXED", 38, 0), atype
    if pa.types.is_floating(atype):
        return Column(name, "REAL"), atype
    if pa.types.is_timestamp(atype):
        aware = getattr(sample, "tzinfo", None) is not None
        return Column(name, "TIMESTAMP_LTZ" if aware else "TIMESTAMP_NTZ"), atype
    return Column(name, "TEXT", length=16777216), pa.string()


def rows_result(
    names: Sequence[str], rows: Sequence[Sequence[Any]], statement_type: str = "SHOW"
) -> Result:
    """A result built in Python (SHOW, DESCRIBE, status messages)."""
    columns: list[Column] = []
    arrays: list[pa.Array] = []
    for i, name in enumerate(names):
        values = [row[i] for row in rows]
        col, atype = _column_for(name, values)
        if pa.types.is_string(atype):
            values = [None if v is None else _text(v) for v in values]
        columns.append(col)
        arrays.append(pa.array(values, type=atype))
    table = pa.Table.from_arrays(arrays, names=list(names))
    return Result(columns, table, rowcount=len(rows), statement_type=statement_type)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def status_result(message: str, statement_type: str = "DDL") -> Result:
    result = rows_result(["status"], [(message,)], statement_type)
    result.rowcount = 1
    return result
