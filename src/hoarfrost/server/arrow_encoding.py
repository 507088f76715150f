"""Query results in the reference's Arrow form: record batches whose fields carry Snowflake's
column metadata, in the physical encodings the connectors' Arrow converters read
(snowflake-connector-python ``nanoarrow_cpp/ArrowIterator``, the 5.x line's core alike):

    FIXED          integers as DuckDB gives them (int8 to int64); decimals as int64 of their
                   unscaled values when every value of the result fits (always for p <= 18),
                   else decimal128(p, s); metadata precision, scale
    REAL           float64
    TEXT           utf8; metadata charLength, byteLength
    VARIANT/OBJECT/ARRAY   utf8 JSON text
    BOOLEAN        bool
    DATE           date32 (days since the epoch)
    BINARY         binary; metadata byteLength
    TIME           int64 nanoseconds since midnight; metadata scale 9
    TIMESTAMP_NTZ/LTZ      struct{epoch int64 seconds, fraction int32 nanoseconds}; scale 9
    TIMESTAMP_TZ   struct{epoch, fraction, timezone int32 = offset minutes + 1440};
                   byteLength 16 (the converter picks the three-field form by it)

Every field says ``logicalType``; ``finalType`` repeats it, as the reference's do.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable

import numpy as np
import pyarrow as pa

from hoarfrost.engine.result import Column
from hoarfrost.server.encoding import BINARY_LENGTH, TEXT_LENGTH, TIME_SCALE, encode_column

__all__ = ["SnowflakeArrow", "b64", "ipc_stream", "unscaled_int64", "wide_decimals"]

_UNIT_NANOS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_EPOCH_FRACTION = pa.struct([("epoch", pa.int64()), ("fraction", pa.int32())])
_EPOCH_FRACTION_TZ = pa.struct(
    [("epoch", pa.int64()), ("fraction", pa.int32()), ("timezone", pa.int32())]
)
Converter = Callable[[Column, pa.Array], pa.Array]


def _meta(column: Column) -> dict[str, str]:
    kind = column.type
    meta = {"logicalType": kind, "finalType": kind}
    if kind == "FIXED":
        precision = column.precision if column.precision is not None else 38
        meta.update(precision=str(precision), scale=str(column.scale or 0))
    elif kind in ("TEXT", "VARIANT", "OBJECT", "ARRAY"):
        length = column.length or TEXT_LENGTH
        meta.update(charLength=str(length), byteLength=str(min(length * 4, TEXT_LENGTH)))
    elif kind == "BINARY":
        meta.update(byteLength=str(column.length or BINARY_LENGTH))
    elif kind in ("TIME", "TIMESTAMP_NTZ", "TIMESTAMP_LTZ"):
        meta.update(scale=str(TIME_SCALE), precision="0")
    elif kind == "TIMESTAMP_TZ":
        meta.update(scale=str(TIME_SCALE), precision="0", byteLength="16")
    return meta


def _nanos(array: pa.Array) -> tuple[np.ndarray, np.ndarray | None]:
    """Integer nanoseconds of a time or timestamp array, and its null mask."""
    unit = array.type.unit
    ints = array.cast(pa.int64())
    mask = ints.is_null().to_numpy(zero_copy_only=False) if ints.null_count else None
    values = ints.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    return values * _UNIT_NANOS[unit], mask


def _fixed(column: Column, array: pa.Array, narrow: bool = True) -> pa.Array:
    if pa.types.is_decimal(array.type):
        if array.type.scale == 0 and array.type.precision <= 18:
            return array.cast(pa.int64())
        # NUMBER(p, s) goes as its unscaled int64 values when they fit, as the reference sends
        # it (the connectors then make Python ints, Decimals or pandas floats/ints of it without
        # a Python call per value); ``narrow`` says whether they fit in the whole result: the
        # 5.x connector reads every chunk with the first's schema, so one type per column.
        unscaled = unscaled_int64(array) if narrow or array.type.precision <= 18 else None
        return array if unscaled is None else unscaled
    if pa.types.is_signed_integer(array.type):
        return array  # int8 to int64 as they are: the reference sends the narrowest that fits
    if pa.types.is_integer(array.type):
        return array.cast(pa.int64())
    return array.cast(pa.decimal128(column.precision or 38, column.scale or 0))


def wide_decimals(columns: list[Column], schema: pa.Schema) -> list[int]:
    """Positions of FIXED columns whose values might not fit in int64 (decimals of precision
    over 18): a result must be read whole before its type on the wire is known."""
    return [
        i
        for i, (column, field) in enumerate(zip(columns, schema, strict=True))
        if column.type == "FIXED" and pa.types.is_decimal(field.type) and field.type.precision > 18
    ]


def unscaled_int64(array: pa.Array) -> pa.Array | None:
    """The unscaled values of a decimal128 array as int64, or ``None`` when one does not fit."""
    if not isinstance(array.type, pa.Decimal128Type) or len(array) == 0:
        return None
    words = np.frombuffer(array.buffers()[1], dtype=np.int64)
    words = words[2 * array.offset : 2 * (array.offset + len(array))].reshape(-1, 2)
    low, high = words[:, 0], words[:, 1]
    fits = high == (low >> 63)  # the high word only extends the sign
    valid = None if array.null_count == 0 else array.is_valid().to_numpy(zero_copy_only=False)
    if not (fits.all() if valid is None else fits[valid].all()):
        return None
    mask = None if valid is None else ~valid
    return pa.array(np.where(fits, low, 0), pa.int64(), mask=mask)


def _real(column: Column, array: pa.Array) -> pa.Array:
    return array.cast(pa.float64())


def _text(column: Column, array: pa.Array) -> pa.Array:
    if array.type == pa.string():
        return array
    if pa.types.is_large_string(array.type):
        return array.cast(pa.string())
    if pa.types.is_string_view(array.type):
        return array.cast(pa.string())
    return pa.array(encode_column(column, array), pa.string())  # nested values as JSON text


def _boolean(column: Column, array: pa.Array) -> pa.Array:
    return array.cast(pa.bool_())


def _date(column: Column, array: pa.Array) -> pa.Array:
    return array.cast(pa.date32())


def _binary(column: Column, array: pa.Array) -> pa.Array:
    return array.cast(pa.binary())


def _time(column: Column, array: pa.Array) -> pa.Array:
    if not pa.types.is_time(array.type):
        return pa.array(encode_column(column, array), pa.string())
    nanos, mask = _nanos(array)
    return pa.array(nanos, pa.int64(), mask=mask)


def _split(array: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    nanos, mask = _nanos(array)
    epoch = np.floor_divide(nanos, 10**9)
    fraction = (nanos - epoch * 10**9).astype(np.int32)
    return epoch, fraction, mask


def _timestamp(column: Column, array: pa.Array) -> pa.Array:
    epoch, fraction, mask = _split(array)
    return pa.StructArray.from_arrays(
        [pa.array(epoch, pa.int64()), pa.array(fraction, pa.int32())],
        fields=list(_EPOCH_FRACTION),
        mask=pa.array(mask) if mask is not None else None,
    )


def _offsets(array: pa.Array) -> np.ndarray:
    """Minutes east of UTC of each value, plus 1440 (Snowflake's encoding)."""
    tz = array.type.tz
    if tz is None or tz in ("UTC", "Etc/UTC", "+00:00"):
        return np.full(len(array), 1440, dtype=np.int32)
    out = np.full(len(array), 1440, dtype=np.int32)
    for i, value in enumerate(array.to_pylist()):
        if isinstance(value, dt.datetime) and value.utcoffset() is not None:
            offset = value.utcoffset()
            assert offset is not None
            out[i] = int(offset.total_seconds() // 60) + 1440
    return out


def _timestamp_tz(column: Column, array: pa.Array) -> pa.Array:
    epoch, fraction, mask = _split(array)
    return pa.StructArray.from_arrays(
        [
            pa.array(epoch, pa.int64()),
            pa.array(fraction, pa.int32()),
            pa.array(_offsets(array), pa.int32()),
        ],
        fields=list(_EPOCH_FRACTION_TZ),
        mask=pa.array(mask) if mask is not None else None,
    )


_CONVERTERS: dict[str, Converter] = {
    "FIXED": _fixed,
    "REAL": _real,
    "TEXT": _text,
    "VARIANT": _text,
    "OBJECT": _text,
    "ARRAY": _text,
    "BOOLEAN": _boolean,
    "DATE": _date,
    "BINARY": _binary,
    "TIME": _time,
    "TIMESTAMP_NTZ": _timestamp,
    "TIMESTAMP_LTZ": _timestamp,
    "TIMESTAMP_TZ": _timestamp_tz,
}


class SnowflakeArrow:
    """Converts the record batches of one result (one schema for all of them)."""

    def __init__(self, columns: list[Column], wide: frozenset[int] = frozenset()):
        self.columns = columns
        self.wide = wide  # decimal columns sent as decimal128 (see _fixed)
        self._schemas: dict[tuple[pa.DataType, ...], pa.Schema] = {}

    def convert(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        arrays = [
            _fixed(column, batch.column(i), i not in self.wide)
            if column.type == "FIXED"
            else _CONVERTERS.get(column.type, _text)(column, batch.column(i))
            for i, column in enumerate(self.columns)
        ]
        types = tuple(a.type for a in arrays)
        schema = self._schemas.get(types)
        if schema is None:
            schema = self._schemas[types] = pa.schema(
                [
                    pa.field(c.name, t, nullable=True, metadata=_meta(c))
                    for c, t in zip(self.columns, types, strict=True)
                ]
            )
        return pa.RecordBatch.from_arrays(arrays, schema=schema)


def ipc_stream(schema: pa.Schema, batches: list[pa.RecordBatch]) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema) as writer:
        for batch in batches:
            writer.write_batch(batch)
    return bytes(sink.getvalue().to_pybytes())


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
