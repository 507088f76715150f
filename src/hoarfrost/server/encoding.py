"""A hoarfrost Result as the JSON result of the Snowflake query protocol: rowtype and rowset.

The JSON rowset holds one string (or null) per cell, in the forms the connectors' JSON
converters parse (snowflake-connector-python ``converter.py``; the universal driver's
``chunks/json_parser.rs``):

    FIXED          decimal text with the column's scale ("12.34")
    REAL           float text; "NaN", "inf", "-inf"
    BOOLEAN        "1" / "0"
    DATE           days since 1970-01-01
    TIME           seconds since midnight, 9 fraction digits
    TIMESTAMP_NTZ  seconds since the epoch (wall clock read as UTC), 9 fraction digits
    TIMESTAMP_LTZ  seconds since the epoch (UTC instant), 9 fraction digits
    TIMESTAMP_TZ   "<seconds since the epoch, UTC> <offset minutes + 1440>"
    BINARY         upper-case hex
    VARIANT...     JSON text

Timestamps and times are read from Arrow as integers (not Python objects), so nanoseconds
survive. Every column says scale 9 for times and timestamps.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pyarrow as pa

from hoarfrost.engine.result import Column, Result

__all__ = ["encode_column", "rowset", "rowtype", "rowtype_entry"]

TEXT_LENGTH = 16777216
BINARY_LENGTH = 8388608
TIME_SCALE = 9
NANOS = 10**9
_UNIT_NANOS = {"s": NANOS, "ms": 10**6, "us": 10**3, "ns": 1}
_TIME_TYPES = {"TIME", "TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP_TZ"}

Cell = str | None


def rowtype_entry(column: Column) -> dict[str, Any]:
    kind = column.type
    entry: dict[str, Any] = {
        "name": column.name,
        "database": "",
        "schema": "",
        "table": "",
        "type": kind.lower(),
        "nullable": column.nullable,
        "length": None,
        "byteLength": None,
        "precision": None,
        "scale": None,
        "collation": None,
    }
    if kind == "FIXED":
        entry["precision"] = column.precision if column.precision is not None else 38
        entry["scale"] = column.scale or 0
    elif kind == "TEXT":
        length = column.length or TEXT_LENGTH
        entry["length"] = length
        entry["byteLength"] = min(length * 4, TEXT_LENGTH)
    elif kind == "BINARY":
        entry["length"] = entry["byteLength"] = column.length or BINARY_LENGTH
    elif kind in _TIME_TYPES:
        entry["precision"] = 0
        entry["scale"] = TIME_SCALE
    elif kind in ("VARIANT", "OBJECT", "ARRAY"):
        entry["length"] = entry["byteLength"] = TEXT_LENGTH
    return entry


def rowtype(columns: list[Column]) -> list[dict[str, Any]]:
    return [rowtype_entry(c) for c in columns]


def rowset(result: Result) -> list[list[Cell]]:
    """Row-major strings of the whole result."""
    table = result.table
    if table.num_columns == 0 or table.num_rows == 0:
        return []
    encoded = [
        encode_column(column, table.column(i).combine_chunks())
        for i, column in enumerate(result.columns)
    ]
    return [list(row) for row in zip(*encoded, strict=True)]


def encode_column(column: Column, array: pa.Array) -> list[Cell]:
    encoder = _ARRAY_ENCODERS.get(column.type)
    if encoder is not None:
        encoded = encoder(column, array)
        if encoded is not None:
            return encoded
    cell = _VALUE_ENCODERS.get(column.type, _text)
    return [None if v is None else cell(column, v) for v in array.to_pylist()]


# -- whole-array encoders (None: fall back to value by value) ------------------------------
def _nanos(array: pa.Array) -> list[int | None] | None:
    """Integers in nanoseconds of a timestamp, time or duration array."""
    atype = array.type
    if not (pa.types.is_timestamp(atype) or pa.types.is_time(atype)):
        return None
    factor = _UNIT_NANOS[atype.unit]
    ints = array.cast(pa.int64()).to_pylist()
    return [None if v is None else v * factor for v in ints]


def _time_array(column: Column, array: pa.Array) -> list[Cell] | None:
    nanos = _nanos(array)
    return None if nanos is None else [None if n is None else _decimal9(n) for n in nanos]


def _timestamp_array(column: Column, array: pa.Array) -> list[Cell] | None:
    # NTZ: the wall clock as if UTC (Arrow stores it so); LTZ: the UTC instant.
    if not pa.types.is_timestamp(array.type):
        return None
    return _time_array(column, array)


def _timestamp_tz_array(column: Column, array: pa.Array) -> list[Cell] | None:
    if not pa.types.is_timestamp(array.type):
        return None
    nanos = _nanos(array)
    assert nanos is not None
    if array.type.tz is None:
        offsets: list[int | None] = [0] * len(nanos)
    else:
        offsets = [None if v is None else _offset_minutes(v) for v in array.to_pylist()]
    return [
        None if n is None else f"{_decimal9(n)} {(off or 0) + 1440}"
        for n, off in zip(nanos, offsets, strict=True)
    ]


def _date_array(column: Column, array: pa.Array) -> list[Cell] | None:
    if not pa.types.is_date32(array.type):
        return None
    return [None if v is None else str(v) for v in array.cast(pa.int32()).to_pylist()]


_ARRAY_ENCODERS: dict[str, Callable[[Column, pa.Array], list[Cell] | None]] = {
    "TIME": _time_array,
    "TIMESTAMP_NTZ": _timestamp_array,
    "TIMESTAMP_LTZ": _timestamp_array,
    "TIMESTAMP_TZ": _timestamp_tz_array,
    "DATE": _date_array,
}


# -- value encoders -----------------------------------------------------------------------
def _fixed(column: Column, value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value) if not column.scale else _decimal_text(Decimal(value), column.scale)
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    return _decimal_text(number, column.scale or 0)


def _decimal_text(number: Decimal, scale: int) -> str:
    exact = number.quantize(Decimal(1).scaleb(-scale)) if scale else number.to_integral_value()
    return format(exact, "f")


def _real(column: Column, value: Any) -> str:
    number = float(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    return repr(number)


def _boolean(column: Column, value: Any) -> str:
    if isinstance(value, str):
        return "1" if value.strip().lower() in ("true", "1", "t", "yes", "y", "on") else "0"
    return "1" if value else "0"


def _date(column: Column, value: Any) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return str((value - dt.date(1970, 1, 1)).days)
    return str(int(value))


def _time(column: Column, value: Any) -> str:
    if isinstance(value, dt.time):
        seconds = value.hour * 3600 + value.minute * 60 + value.second
        return _decimal9(seconds * NANOS + value.microsecond * 1000)
    if isinstance(value, dt.timedelta):
        return _decimal9(round(value.total_seconds() * NANOS))
    return str(value)


def _timestamp(column: Column, value: Any) -> str:
    if not isinstance(value, dt.datetime):
        return str(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    text = _decimal9(_epoch_nanos(value))
    if column.type == "TIMESTAMP_TZ":
        return f"{text} {_offset_minutes(value) + 1440}"
    return text


def _binary(column: Column, value: Any) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex().upper()
    return str(value).encode().hex().upper()


def _semi_structured(column: Column, value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str)


def _text(column: Column, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex().upper()
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)
    return str(value)


_VALUE_ENCODERS: dict[str, Callable[[Column, Any], str]] = {
    "FIXED": _fixed,
    "REAL": _real,
    "BOOLEAN": _boolean,
    "DATE": _date,
    "TIME": _time,
    "TIMESTAMP_NTZ": _timestamp,
    "TIMESTAMP_LTZ": _timestamp,
    "TIMESTAMP_TZ": _timestamp,
    "BINARY": _binary,
    "VARIANT": _semi_structured,
    "OBJECT": _semi_structured,
    "ARRAY": _semi_structured,
    "TEXT": _text,
}


# -- helpers ------------------------------------------------------------------------------
def _decimal9(nanos: int) -> str:
    """Nanoseconds as a decimal number of seconds with 9 fraction digits ("-0.500000000")."""
    sign = "-" if nanos < 0 else ""
    whole, frac = divmod(abs(nanos), NANOS)
    return f"{sign}{whole}.{frac:09d}"


def _epoch_nanos(value: dt.datetime) -> int:
    delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    return (delta.days * 86400 + delta.seconds) * NANOS + delta.microseconds * 1000


def _offset_minutes(value: Any) -> int:
    offset = value.utcoffset() if isinstance(value, dt.datetime) else None
    return 0 if offset is None else int(offset.total_seconds() // 60)
