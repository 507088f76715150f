"""SQL types of Python functions and the conversions Arrow <-> Python values (SPEC.md section 6).

    NUMBER(p,0)           int                 DuckDB BIGINT (see below)
    NUMBER(p,s>0)         decimal.Decimal     DuckDB DECIMAL(p,s)
    FLOAT                 float               DOUBLE
    VARCHAR               str                 VARCHAR
    BOOLEAN               bool                BOOLEAN
    BINARY                bytes               BLOB
    DATE                  datetime.date       DATE
    TIME                  datetime.time       TIME
    TIMESTAMP_NTZ         naive datetime      TIMESTAMP
    TIMESTAMP_LTZ         naive datetime      TIMESTAMPTZ (naive values are UTC wall time)
    TIMESTAMP_TZ          aware datetime      TIMESTAMPTZ (DuckDB keeps the instant, in UTC)
    VARIANT/OBJECT/ARRAY  JSON values         JSON (arrives and leaves as JSON text)

Integers: Snowflake's INT is NUMBER(38,0), but DuckDB's 128-bit decimals are far slower than
BIGINT and real data beyond 64 bits is rare, so every scale-0 NUMBER maps to BIGINT; a returned
value outside it is an InvalidValue naming the type, never a silent wrap.

Columns sent to a worker are Python lists, except non-NULL int64/float64 columns, which travel
as ``array.array`` (one flat buffer instead of millions of pickled ints). Results may come back
the same way from vectorized functions.
"""

from __future__ import annotations

import array
import datetime as dt
import decimal
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from hoarfrost.errors import InvalidValue

__all__ = [
    "SNOWFLAKE_NAMES",
    "Column",
    "SqlType",
    "arrow_to_python_columns",
    "python_to_arrow",
    "python_to_arrow_table",
]

Column = list[Any] | array.array  # type: ignore[type-arg]

_UTC = dt.timezone.utc

# alias (upper case, single spaces) -> kind
_ALIASES: dict[str, str] = {
    **dict.fromkeys(["NUMBER", "DECIMAL", "NUMERIC"], "number"),
    **dict.fromkeys(["INT", "INTEGER", "BIGINT", "SMALLINT", "TINYINT", "BYTEINT"], "int"),
    **dict.fromkeys(["FLOAT", "FLOAT4", "FLOAT8", "DOUBLE", "DOUBLE PRECISION", "REAL"], "float"),
    **dict.fromkeys(
        ["VARCHAR", "STRING", "TEXT", "CHAR", "CHARACTER", "NCHAR", "NVARCHAR", "CHAR VARYING"],
        "str",
    ),
    "BOOLEAN": "bool",
    **dict.fromkeys(["BINARY", "VARBINARY"], "binary"),
    "DATE": "date",
    "TIME": "time",
    **dict.fromkeys(
        ["TIMESTAMP", "TIMESTAMP_NTZ", "TIMESTAMPNTZ", "DATETIME", "TIMESTAMP WITHOUT TIME ZONE"],
        "timestamp_ntz",
    ),
    **dict.fromkeys(
        ["TIMESTAMP_LTZ", "TIMESTAMPLTZ", "TIMESTAMP WITH LOCAL TIME ZONE"], "timestamp_ltz"
    ),
    **dict.fromkeys(["TIMESTAMP_TZ", "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE"], "timestamp_tz"),
    "VARIANT": "variant",
    "OBJECT": "object",
    "ARRAY": "array",
}

_SUPPORTED = (
    "NUMBER(p,s), INT, FLOAT, VARCHAR, BOOLEAN, BINARY, DATE, TIME, TIMESTAMP_NTZ, "
    "TIMESTAMP_LTZ, TIMESTAMP_TZ, VARIANT, OBJECT, ARRAY"
)

# The Snowflake name of each kind (one table: signatures, casts and result metadata derive
# from it).
SNOWFLAKE_NAMES = {
    "int": "NUMBER",
    "decimal": "NUMBER",
    "float": "FLOAT",
    "str": "VARCHAR",
    "bool": "BOOLEAN",
    "binary": "BINARY",
    "date": "DATE",
    "time": "TIME",
    "timestamp_ntz": "TIMESTAMP_NTZ",
    "timestamp_ltz": "TIMESTAMP_LTZ",
    "timestamp_tz": "TIMESTAMP_TZ",
    "variant": "VARIANT",
    "object": "OBJECT",
    "array": "ARRAY",
}

_DUCKDB = {
    "int": "BIGINT",
    "float": "DOUBLE",
    "str": "VARCHAR",
    "bool": "BOOLEAN",
    "binary": "BLOB",
    "date": "DATE",
    "time": "TIME",
    "timestamp_ntz": "TIMESTAMP",
    "timestamp_ltz": "TIMESTAMPTZ",
    "timestamp_tz": "TIMESTAMPTZ",
    "variant": "JSON",
    "object": "JSON",
    "array": "JSON",
}

_ARROW: dict[str, pa.DataType] = {
    "int": pa.int64(),
    "float": pa.float64(),
    "str": pa.string(),
    "bool": pa.bool_(),
    "binary": pa.binary(),
    "date": pa.date32(),
    "time": pa.time64("us"),
    "timestamp_ntz": pa.timestamp("us"),
    "timestamp_ltz": pa.timestamp("us", tz="UTC"),
    "timestamp_tz": pa.timestamp("us", tz="UTC"),
    "variant": pa.string(),
    "object": pa.string(),
    "array": pa.string(),
}


def _split_args(text: str) -> tuple[str, list[int]]:
    """'NUMBER(10, 2)' -> ('NUMBER', [10, 2]); no regular expressions, just the parentheses."""
    base, paren, rest = text.partition("(")
    if not paren:
        return " ".join(base.split()).upper(), []
    inner, close, tail = rest.partition(")")
    if not close or tail.strip():
        raise InvalidValue(f"Invalid type {text!r}.")
    try:
        args = [int(a) for a in inner.split(",")]
    except ValueError:
        raise InvalidValue(f"Invalid type {text!r}: arguments must be integers.") from None
    return " ".join(base.split()).upper(), args


@dataclass(frozen=True)
class SqlType:
    """A SQL type a Python function may take or return: ``kind`` plus NUMBER's precision/scale."""

    kind: str  # int | decimal | float | str | bool | binary | date | time | timestamp_* | ...
    precision: int = 38
    scale: int = 0
    length: int | None = None

    @classmethod
    def parse(cls, text: str) -> SqlType:
        kind = _ALIASES.get(" ".join(text.partition("(")[0].split()).upper())
        if kind is None:
            raise InvalidValue(
                f"Unsupported type {text.strip()!r} for a Python function; supported: {_SUPPORTED}."
            )
        _, args = _split_args(text)
        if kind == "number":
            precision = args[0] if args else 38
            scale = args[1] if len(args) > 1 else 0
            if len(args) > 2 or not 1 <= precision <= 38 or not 0 <= scale <= precision:
                raise InvalidValue(
                    f"Invalid type {text.strip()!r}: NUMBER takes precision 1..38 and scale "
                    "0..precision."
                )
            return cls("int" if scale == 0 else "decimal", precision, scale)
        if kind == "str" and args:
            return cls("str", length=args[0])
        return cls(kind)

    @property
    def name(self) -> str:
        if self.kind in ("int", "decimal"):
            return f"NUMBER({self.precision},{self.scale})"
        if self.kind == "str" and self.length is not None:
            return f"VARCHAR({self.length})"
        return SNOWFLAKE_NAMES[self.kind]

    @property
    def duckdb_type(self) -> str:
        if self.kind == "decimal":
            return f"DECIMAL({self.precision},{self.scale})"
        return _DUCKDB[self.kind]

    @property
    def arrow_type(self) -> pa.DataType:
        if self.kind == "decimal":
            return pa.decimal128(self.precision, self.scale)
        return _ARROW[self.kind]

    @property
    def worker_kind(self) -> str:
        """What the worker needs to know to pick a pandas dtype for a vectorized batch."""
        return "timestamp_ntz" if self.kind == "timestamp_ltz" else self.kind

    def __str__(self) -> str:
        return self.name


# ---------------------------------------------------------------------------------------------
# Arrow -> Python (arguments)


def _flat(arr: pa.Array, typecode: str) -> array.array | None:  # type: ignore[type-arg]
    """A non-NULL int64/float64 Arrow array as an ``array.array`` (one copy, no Python objects)."""
    want = pa.int64() if typecode == "q" else pa.float64()
    if arr.type != want or arr.null_count:
        return None
    data = arr.buffers()[1]
    out = array.array(typecode)
    if data is not None:
        out.frombytes(memoryview(data)[arr.offset * 8 : (arr.offset + len(arr)) * 8])
    return out


def _json(text: Any) -> Any:
    return None if text is None else json.loads(text)


def _to_int(v: Any) -> Any:
    return v if v is None or type(v) is int else int(v)


def _to_decimal(v: Any) -> Any:
    return v if v is None or isinstance(v, decimal.Decimal) else decimal.Decimal(str(v))


def _ltz(v: Any) -> Any:
    return v if v is None or v.tzinfo is None else v.astimezone(_UTC).replace(tzinfo=None)


def _tz(v: Any) -> Any:
    return v if v is None or v.tzinfo is not None else v.replace(tzinfo=_UTC)


# Per-value fix-ups after Arrow's own to_pylist, for inputs whose Arrow type may differ from ours
# (DuckDB hands JSON as text, HUGEINT as decimal, TIMESTAMPTZ in the session's zone).
_FROM_ARROW_FIX: dict[str, Callable[[Any], Any]] = {
    "int": _to_int,
    "decimal": _to_decimal,
    "timestamp_ltz": _ltz,
    "timestamp_tz": _tz,
    "variant": _json,
    "object": _json,
    "array": _json,
}


def _column(arr: pa.Array | pa.ChunkedArray, sql_type: SqlType) -> Column:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if sql_type.kind in ("int", "float"):
        flat = _flat(arr, "q" if sql_type.kind == "int" else "d")
        if flat is not None:
            return flat
    values = arr.to_pylist()
    fix = _FROM_ARROW_FIX.get(sql_type.kind)
    if fix is None or (sql_type.kind == "int" and pa.types.is_integer(arr.type)):
        return values
    return [fix(v) for v in values]


def arrow_to_python_columns(
    batch: pa.RecordBatch | pa.Table | Sequence[pa.Array | pa.ChunkedArray],
    arg_types: Sequence[SqlType],
) -> list[Column]:
    """One Python column per argument, values per SPEC.md section 6, NULL as ``None``."""
    arrays = list(batch.columns) if isinstance(batch, (pa.RecordBatch, pa.Table)) else list(batch)
    if len(arrays) != len(arg_types):
        raise InvalidValue(f"Expected {len(arg_types)} argument columns, got {len(arrays)}.")
    return [_column(a, t) for a, t in zip(arrays, arg_types, strict=True)]


# ---------------------------------------------------------------------------------------------
# Python -> Arrow (results)


class _Reject(Exception):
    pass


def _int(v: Any) -> int:
    if isinstance(v, int):
        return int(v)
    if isinstance(v, (float, decimal.Decimal)) and v == v and int(v) == v:
        return int(v)
    raise _Reject()


def _decimal_for(sql_type: SqlType) -> Callable[[Any], decimal.Decimal]:
    quantum = decimal.Decimal(1).scaleb(-sql_type.scale)

    def conv(v: Any) -> decimal.Decimal:
        if isinstance(v, bool) or not isinstance(v, (int, float, decimal.Decimal)):
            raise _Reject()
        d = v if isinstance(v, decimal.Decimal) else decimal.Decimal(str(v))
        return d.quantize(quantum, rounding=decimal.ROUND_HALF_UP)

    return conv


def _typed(*types: type, exclude: tuple[type, ...] = ()) -> Callable[[Any], Any]:
    def conv(v: Any) -> Any:
        if isinstance(v, types) and not isinstance(v, exclude):
            return v
        raise _Reject()

    return conv


def _float(v: Any) -> float:
    if isinstance(v, (int, float, decimal.Decimal)) and not isinstance(v, bool):
        return float(v)
    raise _Reject()


def _bytes(v: Any) -> bytes:
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    raise _Reject()


def _date(v: Any) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    raise _Reject()


def _timestamp(aware: bool) -> Callable[[Any], dt.datetime]:
    def conv(v: Any) -> dt.datetime:
        if not isinstance(v, dt.datetime):
            if isinstance(v, dt.date):
                v = dt.datetime(v.year, v.month, v.day)
            else:
                raise _Reject()
        if aware:  # naive results of LTZ/TZ functions are taken as UTC
            return v if v.tzinfo is not None else v.replace(tzinfo=_UTC)
        return v.replace(tzinfo=None)  # NTZ keeps the wall time

    return conv


def _json_default(v: Any) -> Any:
    if isinstance(v, decimal.Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).hex()
    if isinstance(v, (set, frozenset, tuple)):
        return list(v)
    raise TypeError(f"{type(v).__name__} is not a JSON value")


def _json_for(kind: str) -> Callable[[Any], str]:
    def conv(v: Any) -> str:
        if kind == "object" and not isinstance(v, dict):
            raise _Reject()
        if kind == "array" and not isinstance(v, (list, tuple)):
            raise _Reject()
        try:
            return json.dumps(v, default=_json_default, allow_nan=False)
        except (TypeError, ValueError):
            raise _Reject() from None

    return conv


def _converter(sql_type: SqlType) -> Callable[[Any], Any]:
    table: dict[str, Callable[[Any], Any]] = {
        "int": _int,
        "float": _float,
        "str": _typed(str),
        "bool": _typed(bool),
        "binary": _bytes,
        "date": _date,
        "time": _typed(dt.time),
        "timestamp_ntz": _timestamp(aware=False),
        "timestamp_ltz": _timestamp(aware=True),
        "timestamp_tz": _timestamp(aware=True),
    }
    if sql_type.kind == "decimal":
        return _decimal_for(sql_type)
    if sql_type.kind in ("variant", "object", "array"):
        return _json_for(sql_type.kind)
    return table[sql_type.kind]


def _from_flat(values: array.array, sql_type: SqlType) -> pa.Array | None:  # type: ignore[type-arg]
    wanted = {"q": "int", "d": "float"}.get(values.typecode)
    if wanted != sql_type.kind:
        return None
    typ = pa.int64() if wanted == "int" else pa.float64()
    return pa.Array.from_buffers(typ, len(values), [None, pa.py_buffer(values)])


def python_to_arrow(values: Sequence[Any] | array.array, return_type: SqlType) -> pa.Array:  # type: ignore[type-arg]
    """Results of a function as an Arrow array of ``return_type.arrow_type``.

    A value that does not fit the declared type raises InvalidValue naming the row, the value's
    Python type and the SQL type.
    """
    if isinstance(values, array.array):
        flat = _from_flat(values, return_type)
        if flat is not None:
            return flat
        values = values.tolist()
    typ = return_type.arrow_type
    if return_type.kind in ("int", "float", "str", "bool"):
        # Fast path: let Arrow infer (in C) and accept only an exact match. Converting straight to
        # the target type would be wrong: Arrow truncates 1.5 to 1 for int64 and takes True as 1.0.
        try:
            inferred = pa.array(values, from_pandas=False)
        except (pa.ArrowException, OverflowError, TypeError, ValueError):
            inferred = None
        if inferred is not None and inferred.type == typ:
            return inferred
        if inferred is not None and typ == pa.float64() and pa.types.is_int64(inferred.type):
            return inferred.cast(typ)
    conv = _converter(return_type)
    out: list[Any] = []
    for i, v in enumerate(values):
        if v is None:
            out.append(None)
            continue
        try:
            out.append(conv(v))
        except _Reject:
            raise InvalidValue(
                f"The function returned {type(v).__name__} {_short(v)} in row {i + 1}, which is "
                f"not a {return_type.name} value."
            ) from None
    try:
        return pa.array(out, typ)
    except (pa.ArrowException, OverflowError) as exc:
        raise InvalidValue(
            f"A value returned by the function does not fit {return_type.name} "
            f"(stored as {return_type.duckdb_type}): {exc}"
        ) from None


def python_to_arrow_table(
    rows: Sequence[Sequence[Any]], columns: Sequence[tuple[str, SqlType]]
) -> pa.Table:
    """Rows of a UDTF or a table procedure as an Arrow table of the declared columns."""
    for i, row in enumerate(rows):
        if len(row) != len(columns):
            raise InvalidValue(
                f"Row {i + 1} has {len(row)} values but the function returns {len(columns)} "
                "columns."
            )
    arrays = [python_to_arrow([r[j] for r in rows], t) for j, (_, t) in enumerate(columns)]
    return pa.table(arrays, names=[name for name, _ in columns])


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."
