"""Every type of SPEC.md section 6 through real workers, scalar and vectorized, on 3.10 and 3.13."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from hoarfrost.workers.pool import WorkerPool
from hoarfrost.workers.spec import FunctionSpec
from hoarfrost.workers.types import SqlType, arrow_to_python_columns, python_to_arrow

pytestmark = pytest.mark.slow  # builds a pandas environment per runtime

UTC = dt.timezone.utc

# type -> (Arrow input with a NULL, the Python type name the code must see)
VALUES: dict[str, tuple[pa.Array, str]] = {
    "NUMBER(38,0)": (pa.array([1, -2, 2**62, None], pa.int64()), "int"),
    "NUMBER(12,3)": (
        pa.array([Decimal("1.500"), Decimal("-7.125"), None], pa.decimal128(12, 3)),
        "Decimal",
    ),
    "FLOAT": (pa.array([1.5, -0.25, None]), "float"),
    "VARCHAR": (pa.array(["héllo", "", None]), "str"),
    "BOOLEAN": (pa.array([True, False, None]), "bool"),
    "BINARY": (pa.array([b"\x00\xff", b"", None], pa.binary()), "bytes"),
    "DATE": (pa.array([dt.date(2024, 2, 29), dt.date(1970, 1, 1), None]), "date"),
    "TIME": (pa.array([dt.time(12, 34, 56, 789), None], pa.time64("us")), "time"),
    "TIMESTAMP_NTZ": (
        pa.array([dt.datetime(2024, 1, 2, 3, 4, 5, 6), None], pa.timestamp("us")),
        "datetime",
    ),
    "TIMESTAMP_LTZ": (
        pa.array([dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), None], pa.timestamp("us", "UTC")),
        "datetime",
    ),
    "TIMESTAMP_TZ": (
        pa.array([dt.datetime(2024, 6, 1, 0, 0, 1, tzinfo=UTC), None], pa.timestamp("us", "UTC")),
        "datetime+tz",
    ),
    "VARIANT": (pa.array(['{"a": [1, 2.5, null]}', '"s"', "3", None]), "dict"),
    "OBJECT": (pa.array(['{"k": true}', None]), "dict"),
    "ARRAY": (pa.array(['[1, "x"]', None]), "list"),
}

SCALAR_IDENTITY = "def identity(x):\n    return x\n"
VECTORIZED_IDENTITY = """
import pandas
from _snowflake import vectorized

@vectorized(input=pandas.DataFrame)
def identity(df):
    return df[0]
"""
TYPE_NAME = """
def type_name(x):
    if x is None:
        return None
    aware = getattr(x, "tzinfo", None) is not None and type(x).__name__ == "datetime"
    return type(x).__name__ + ("+tz" if aware else "")
"""


def _roundtrip(pool: WorkerPool, code: str, type_name: str) -> None:
    arrow, _ = VALUES[type_name]
    t = SqlType.parse(type_name)
    spec = FunctionSpec("IDENTITY", code, "identity", arg_types=(t,), returns=t)
    columns = arrow_to_python_columns([arrow], [t])
    result = python_to_arrow(pool.call(spec, columns, len(arrow)), t)
    assert result.to_pylist() == arrow.cast(t.arrow_type).to_pylist()


@pytest.mark.parametrize("type_name", list(VALUES))
def test_scalar_roundtrip(pool: WorkerPool, type_name: str) -> None:
    _roundtrip(pool, SCALAR_IDENTITY, type_name)


@pytest.mark.parametrize("type_name", list(VALUES))
def test_vectorized_roundtrip(pool: WorkerPool, type_name: str) -> None:
    _roundtrip(pool, VECTORIZED_IDENTITY, type_name)


@pytest.mark.parametrize("type_name", list(VALUES))
def test_code_sees_the_python_types_of_the_spec(pool: WorkerPool, type_name: str) -> None:
    arrow, expected = VALUES[type_name]
    t = SqlType.parse(type_name)
    spec = FunctionSpec("TYPE_NAME", TYPE_NAME, "type_name", arg_types=(t,))
    seen = pool.call(spec, arrow_to_python_columns([arrow], [t]), len(arrow))
    assert seen[0] == expected and seen[-1] is None


def test_vectorized_attribute_max_batch_size_and_flat_results(pool: WorkerPool) -> None:
    code = """
import pandas
batches = []

def plus_one(df):
    batches.append(len(df))
    return df[0] + 1 + len(batches) * 0
plus_one._sf_vectorized_input = pandas.DataFrame
plus_one._sf_max_batch_size = 3

def sizes():
    return str(batches)
"""
    t = SqlType.parse("INT")
    spec = FunctionSpec("PLUS_ONE", code, "plus_one", arg_types=(t,), returns=t)
    assert pool.load(spec).kind == "vectorized"
    assert pool.load(spec).max_batch_size == 3
    columns = arrow_to_python_columns([pa.array(range(8))], [t])
    out = pool.call(spec, columns, 8)
    assert python_to_arrow(out, t).to_pylist() == list(range(1, 9))


def test_vectorized_wrong_length_is_a_clear_error(pool: WorkerPool) -> None:
    code = "import pandas\ndef f(df):\n    return [1]\nf._sf_vectorized_input = pandas.DataFrame\n"
    t = SqlType.parse("INT")
    spec = FunctionSpec("SHORT", code, "f", arg_types=(t,), returns=t)
    with pytest.raises(Exception, match="returned 1 rows for 3 input rows"):
        pool.call(spec, [[1, 2, 3]], 3)


def test_many_arguments_and_no_arguments(pool: WorkerPool) -> None:
    t = SqlType.parse("INT")
    add = FunctionSpec(
        "ADD", "def add(a, b, c):\n    return a + b * c\n", "add", arg_types=(t, t, t)
    )
    assert list(pool.call(add, [[1, 2], [3, 4], [5, 6]], 2)) == [16, 26]
    const = FunctionSpec("CONST", "def c():\n    return 'x'\n", "c")
    assert list(pool.call(const, [], 3)) == ["x", "x", "x"]
