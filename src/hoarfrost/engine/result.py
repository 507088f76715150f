"""The result of one statement: Snowflake column metadata plus an Arrow table.

Arrow is the one in-memory form of every result, so the Python API (fetch*, Arrow, pandas), the
CLI and the wire server all read the same thing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

__all__ = [
    "TYPE_CODES",
    "Column",
    "Result",
    "RowsResult",
    "StreamResult",
    "arrow_type_of",
    "column_from_duckdb",
    "rows_result",
    "status_result",
]

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


class RowsResult(Result):
    """A small query result held as the Python rows DuckDB returned; its Arrow table is built
    only when someone asks (the wire server, ``fetch_arrow_all``). Handing rows straight from
    DuckDB to ``fetchall`` is what keeps a short statement near DuckDB's own latency."""

    _table: pa.Table | None

    def __init__(
        self, columns: list[Column], rows: list[tuple[Any, ...]], types: list[pa.DataType]
    ):
        super().__init__(columns, None, rowcount=len(rows))  # type: ignore[arg-type]
        self._rows = rows
        self._types = types

    @property  # type: ignore[override]
    def table(self) -> pa.Table:
        if self._table is None:
            arrays = arrow_columns(self._rows, self._types)
            self._table = pa.Table.from_arrays(arrays, names=[c.name for c in self.columns])
        return self._table

    @table.setter
    def table(self, value: pa.Table | None) -> None:
        self._table = value

    def rows(self) -> list[tuple[Any, ...]]:
        return self._rows


class StreamResult(Result):
    """A query result still in DuckDB: record batches read from ``reader``, which must be
    drained before the session runs its next statement (the statement's DuckDB result lives on
    the session's connection). ``rowcount`` counts the rows read so far. The first
    ``keep_rows`` rows read are kept (RESULT_SCAN reads them as ``table``); ``whole`` says
    whether that is all of them. The wire server reads ``batches()``, one at a time."""

    def __init__(
        self,
        columns: list[Column],
        reader: pa.RecordBatchReader,
        keep_rows: int,
        read_out: Callable[[int], None] | None = None,
    ):
        super().__init__(columns, None, rowcount=0)  # type: ignore[arg-type]
        self.reader = reader
        self.schema = reader.schema
        self._keep_rows = keep_rows
        self._kept: list[pa.RecordBatch] | None = []
        self._done = False
        self._read_out = read_out  # called with the row count once every batch was read

    def batches(self) -> Iterator[pa.RecordBatch]:
        if self._done:
            return
        try:
            for batch in self.reader:
                self.rowcount += batch.num_rows
                if self._kept is not None:
                    if self.rowcount <= self._keep_rows:
                        self._kept.append(batch)
                    else:
                        self._kept = None
                yield batch
            if self._read_out is not None:
                self._read_out(self.rowcount)
        finally:
            # DuckDB counts a read-out stream as open until it is closed: close it so the
            # session's connection takes other work (register, the next statement).
            self._done = True
            self.reader.close()

    @property
    def whole(self) -> bool:
        return self._done and self._kept is not None

    @property  # type: ignore[override]
    def table(self) -> pa.Table:
        for _ in self.batches():  # read the rest: only the kept rows stay
            pass
        return pa.Table.from_batches(self._kept or [], self.schema)

    @table.setter
    def table(self, value: pa.Table | None) -> None:
        pass  # set by Result.__init__; the rows live in the stream


_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")
# DuckDB types whose Python values (DB-API fetch) are what Arrow's to_pylist gives, with the
# Arrow type DuckDB itself exports them as; DECIMAL(p, s) is handled beside.
_ARROW_TYPES = {
    "BOOLEAN": pa.bool_(),
    "TINYINT": pa.int8(),
    "SMALLINT": pa.int16(),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "FLOAT": pa.float32(),
    "DOUBLE": pa.float64(),
    "VARCHAR": pa.string(),
    "DATE": pa.date32(),
    "TIME": pa.time64("us"),
    "TIMESTAMP": pa.timestamp("us"),
    "BLOB": pa.binary(),
}


def arrow_columns(rows: list[tuple[Any, ...]], types: list[pa.DataType]) -> list[pa.Array]:
    """The columns of DuckDB's Python ``rows`` as Arrow arrays of ``types`` (see
    :func:`arrow_type_of`)."""
    return [pa.array([row[i] for row in rows], type=t) for i, t in enumerate(types)]


def arrow_type_of(duck_type: str) -> pa.DataType | None:
    """The Arrow type of a result column that can be built from DuckDB's Python values, or
    ``None`` when only DuckDB's Arrow export gives the right values (time zones, nested types,
    JSON, intervals, UUIDs). NUMBER(p, 0) is int64, as the connector returns it."""
    found = _ARROW_TYPES.get(duck_type)
    if found is not None:
        return found
    m = _DECIMAL.fullmatch(duck_type)
    if m:
        precision, scale = int(m.group(1)), int(m.group(2))
        return pa.int64() if scale == 0 and precision <= 18 else pa.decimal128(precision, scale)
    return None


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
