"""SQL type names and the Arrow <-> Python conversions of SPEC.md section 6 (engine side only)."""

from __future__ import annotations

import array
import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from hoarfrost.errors import InvalidValue
from hoarfrost.workers.types import (
    SqlType,
    arrow_to_python_columns,
    python_to_arrow,
    python_to_arrow_table,
)

UTC = dt.timezone.utc


@pytest.mark.parametrize(
    ("text", "name", "duckdb"),
    [
        ("NUMBER(38,0)", "NUMBER(38,0)", "BIGINT"),
        ("number", "NUMBER(38,0)", "BIGINT"),
        ("INT", "NUMBER(38,0)", "BIGINT"),
        ("BIGINT", "NUMBER(38,0)", "BIGINT"),
        ("DECIMAL(10, 2)", "NUMBER(10,2)", "DECIMAL(10,2)"),
        ("STRING", "VARCHAR", "VARCHAR"),
        ("TEXT", "VARCHAR", "VARCHAR"),
        ("varchar(10)", "VARCHAR(10)", "VARCHAR"),
        ("DOUBLE", "FLOAT", "DOUBLE"),
        ("FLOAT", "FLOAT", "DOUBLE"),
        ("BOOLEAN", "BOOLEAN", "BOOLEAN"),
        ("BINARY", "BINARY", "BLOB"),
        ("DATE", "DATE", "DATE"),
        ("TIME", "TIME", "TIME"),
        ("TIMESTAMP", "TIMESTAMP_NTZ", "TIMESTAMP"),
        ("TIMESTAMP_NTZ", "TIMESTAMP_NTZ", "TIMESTAMP"),
        ("TIMESTAMP_LTZ", "TIMESTAMP_LTZ", "TIMESTAMPTZ"),
        ("timestamp_tz", "TIMESTAMP_TZ", "TIMESTAMPTZ"),
        ("VARIANT", "VARIANT", "JSON"),
        ("OBJECT", "OBJECT", "JSON"),
        ("ARRAY", "ARRAY", "JSON"),
    ],
)
def test_parse_names(text: str, name: str, duckdb: str) -> None:
    t = SqlType.parse(text)
    assert (t.name, t.duckdb_type) == (name, duckdb)
    assert isinstance(t.arrow_type, pa.DataType)


@pytest.mark.parametrize("text", ["GEOGRAPHY", "VECTOR(INT, 3)", "MAP"])
def test_unsupported_type_names_type_and_supported(text: str) -> None:
    with pytest.raises(InvalidValue, match="Unsupported type") as info:
        SqlType.parse(text)
    assert "TIMESTAMP_TZ" in str(info.value)


@pytest.mark.parametrize("text", ["NUMBER(39,0)", "NUMBER(5,6)", "NUMBER(x)", "NUMBER(1,2,3)"])
def test_bad_number_arguments(text: str) -> None:
    with pytest.raises(InvalidValue):
        SqlType.parse(text)


CASES = [
    ("NUMBER(38,0)", pa.array([1, -2, 2**62, None], pa.int64()), [1, -2, 2**62, None]),
    (
        "NUMBER(10,2)",
        pa.array([Decimal("1.50"), None], pa.decimal128(10, 2)),
        [Decimal("1.50"), None],
    ),
    ("FLOAT", pa.array([1.5, None]), [1.5, None]),
    ("VARCHAR", pa.array(["héllo", "", None]), ["héllo", "", None]),
    ("BOOLEAN", pa.array([True, False, None]), [True, False, None]),
    ("BINARY", pa.array([b"\x00\xff", None], pa.binary()), [b"\x00\xff", None]),
    ("DATE", pa.array([dt.date(2024, 2, 29), None]), [dt.date(2024, 2, 29), None]),
    ("TIME", pa.array([dt.time(1, 2, 3, 4), None], pa.time64("us")), [dt.time(1, 2, 3, 4), None]),
    (
        "TIMESTAMP_NTZ",
        pa.array([dt.datetime(2024, 1, 2, 3, 4, 5, 6), None], pa.timestamp("us")),
        [dt.datetime(2024, 1, 2, 3, 4, 5, 6), None],
    ),
    (
        "TIMESTAMP_LTZ",
        pa.array([dt.datetime(2024, 1, 2, 3, 4, tzinfo=UTC), None], pa.timestamp("us", "UTC")),
        [dt.datetime(2024, 1, 2, 3, 4), None],
    ),
    (
        "TIMESTAMP_TZ",
        pa.array([dt.datetime(2024, 1, 2, 3, 4, tzinfo=UTC), None], pa.timestamp("us", "UTC")),
        [dt.datetime(2024, 1, 2, 3, 4, tzinfo=UTC), None],
    ),
    ("VARIANT", pa.array(['{"a": [1, 2.5]}', '"s"', "3", None]), [{"a": [1, 2.5]}, "s", 3, None]),
    ("OBJECT", pa.array(['{"k": true}', None]), [{"k": True}, None]),
    ("ARRAY", pa.array(['[1, "x"]', None]), [[1, "x"], None]),
]


@pytest.mark.parametrize(("type_name", "arrow", "python"), CASES, ids=[c[0] for c in CASES])
def test_both_directions(type_name: str, arrow: pa.Array, python: list[object]) -> None:
    t = SqlType.parse(type_name)
    [column] = arrow_to_python_columns([arrow], [t])
    assert list(column) == python
    assert [type(v) for v in column] == [type(v) for v in python]
    back = python_to_arrow(python, t)
    assert back.type == t.arrow_type
    assert back.equals(arrow.cast(t.arrow_type))


def test_non_null_numbers_travel_flat() -> None:
    cols = arrow_to_python_columns(
        pa.record_batch([pa.array([1, 2, 3]).slice(1), pa.array([0.5, 1.0])], names=["a", "b"]),
        [SqlType.parse("INT"), SqlType.parse("FLOAT")],
    )
    assert cols[0] == array.array("q", [2, 3])
    assert cols[1] == array.array("d", [0.5, 1.0])
    assert python_to_arrow(array.array("q", [7, 8]), SqlType.parse("INT")).to_pylist() == [7, 8]


def test_duckdb_hugeint_and_json_shapes_are_accepted() -> None:
    [col] = arrow_to_python_columns(
        [pa.array([Decimal(5)], pa.decimal128(38, 0))], [SqlType.parse("INT")]
    )
    assert col == [5] and type(col[0]) is int


@pytest.mark.parametrize(
    ("type_name", "value", "expected"),
    [
        ("NUMBER(10,2)", 1.005, Decimal("1.01")),  # str(1.005) == '1.005': half-up
        ("NUMBER(10,2)", 3, Decimal("3.00")),
        ("NUMBER(38,0)", Decimal("4"), 4),
        ("FLOAT", Decimal("0.5"), 0.5),
        ("DATE", dt.datetime(2024, 5, 6, 7), dt.date(2024, 5, 6)),
        ("TIMESTAMP_NTZ", dt.date(2024, 5, 6), dt.datetime(2024, 5, 6)),
        ("TIMESTAMP_TZ", dt.datetime(2024, 5, 6, 7), dt.datetime(2024, 5, 6, 7, tzinfo=UTC)),
        (
            "VARIANT",
            {"d": Decimal("1.5"), "t": dt.date(2024, 1, 1)},
            '{"d": 1.5, "t": "2024-01-01"}',
        ),
    ],
)
def test_results_are_coerced_where_lossless(
    type_name: str, value: object, expected: object
) -> None:
    assert python_to_arrow([value], SqlType.parse(type_name)).to_pylist() == [expected]


@pytest.mark.parametrize(
    ("type_name", "value"),
    [
        ("NUMBER(38,0)", "12"),
        ("NUMBER(38,0)", 1.5),
        ("NUMBER(38,0)", 2**70),
        ("VARCHAR", 5),
        ("BOOLEAN", 1),
        ("OBJECT", [1]),
        ("ARRAY", {"a": 1}),
        ("VARIANT", object()),
        ("DATE", "2024-01-01"),
    ],
)
def test_wrong_results_name_the_type(type_name: str, value: object) -> None:
    with pytest.raises(InvalidValue, match=r"NUMBER|VARCHAR|BOOLEAN|OBJECT|ARRAY|VARIANT|DATE"):
        python_to_arrow([None, value], SqlType.parse(type_name))


def test_table_rows() -> None:
    cols = [("A", SqlType.parse("INT")), ("B", SqlType.parse("VARCHAR"))]
    table = python_to_arrow_table([(1, "x"), (None, None)], cols)
    assert table.column_names == ["A", "B"]
    assert table.to_pylist() == [{"A": 1, "B": "x"}, {"A": None, "B": None}]
    with pytest.raises(InvalidValue, match="2 columns"):
        python_to_arrow_table([(1,)], cols)
