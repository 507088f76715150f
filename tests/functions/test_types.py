"""Every type of SPEC.md section 6 round-trips through a scalar and a vectorized UDF, NULLs
included; the scalar UDF also reports the Python type its argument arrived as."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import hoarfrost
from tests.functions.conftest import close_account, open_account, rows
from tests.support.pypiserver import PypiServer

# type -> (SQL values, Python type name the function sees: one for all, or one per value)
TYPES: dict[str, tuple[list[str], str]] = {
    "NUMBER": (["42", "-7", "9007199254740993"], "int"),
    "NUMBER(10,2)": (["3.14", "-0.5"], "Decimal"),
    "FLOAT": (["1.5", "-2.25", "'inf'::FLOAT"], "float"),
    "VARCHAR": (["'héllo'", "''"], "str"),
    "BOOLEAN": (["TRUE", "FALSE"], "bool"),
    "BINARY": (["TO_BINARY('CAFE', 'HEX')", "TO_BINARY('', 'HEX')"], "bytes"),
    "DATE": (["'2024-02-29'::DATE", "'1999-12-31'::DATE"], "date"),
    "TIME": (["'13:45:30.123456'::TIME", "'00:00:00'::TIME"], "time"),
    "TIMESTAMP_NTZ": (["'2024-01-02 03:04:05.678901'::TIMESTAMP_NTZ"], "datetime naive"),
    "TIMESTAMP_LTZ": (["'2024-01-02 03:04:05+02:00'::TIMESTAMP_LTZ"], "datetime naive"),
    "TIMESTAMP_TZ": (["'2000-06-01 12:00:00-05:00'::TIMESTAMP_TZ"], "datetime aware"),
    "VARIANT": (['PARSE_JSON(\'{"a": [1, 2.5, "x"]}\')', "PARSE_JSON('7')"], "dict int"),
    "OBJECT": (["OBJECT_CONSTRUCT('k', 1, 'n', 'v')", "OBJECT_CONSTRUCT()"], "dict"),
    "ARRAY": (["ARRAY_CONSTRUCT(1, 'x', TRUE)", "ARRAY_CONSTRUCT()"], "list"),
}
DESCRIBE_TYPE = """
import datetime
def f(x):
    name = type(x).__name__
    if isinstance(x, datetime.datetime):
        name += ' aware' if x.tzinfo else ' naive'
    return name
"""
VECTORIZED = """
import pandas
from _snowflake import vectorized

@vectorized(input=pandas.DataFrame, max_batch_size=2)
def f(df):
    return df[0]
"""
MARKED = """
import pandas

def f(df):
    assert len(df.columns) == 1
    return df[0]

f._sf_vectorized_input = pandas.DataFrame
"""


@pytest.fixture(scope="module")
def typed(repo_server: PypiServer, shared_cache: Path) -> Iterator[hoarfrost.Connection]:
    con = open_account(repo_server, shared_cache)
    for i, (sql_type, (values, _)) in enumerate(TYPES.items()):
        con.execute(f"CREATE TABLE t{i} (id INT, c {sql_type})")
        for j, value in enumerate([*values, "NULL"]):
            con.execute(f"INSERT INTO t{i} SELECT {j}, {value}")
        for name, body, extra in (
            ("ident", "def f(x):\n    return x", ""),
            ("pytype", DESCRIBE_TYPE, ""),
            ("vec", VECTORIZED, "ARTIFACT_REPOSITORY = my_python_repo PACKAGES = ('pandas')"),
            ("marked", MARKED, "ARTIFACT_REPOSITORY = my_python_repo PACKAGES = ('pandas')"),
        ):
            returns = "VARCHAR" if name == "pytype" else sql_type
            con.execute(
                f"CREATE FUNCTION {name}{i}(x {sql_type}) RETURNS {returns} LANGUAGE PYTHON "
                f"RUNTIME_VERSION = '3.11' {extra} HANDLER = 'f' AS $${body}$$"
            )
    yield con
    close_account(con)


@pytest.mark.parametrize("index, sql_type", list(enumerate(TYPES)))
def test_scalar_round_trip(typed: hoarfrost.Connection, index: int, sql_type: str) -> None:
    expected = rows(typed, f"SELECT c FROM t{index} ORDER BY id")
    assert rows(typed, f"SELECT ident{index}(c) FROM t{index} ORDER BY id") == expected
    seen = rows(typed, f"SELECT pytype{index}(c) FROM t{index} ORDER BY id")
    values, python_type = TYPES[sql_type]
    names = python_type.split() if sql_type == "VARIANT" else [python_type] * len(values)
    assert seen == [(n,) for n in [*names, "NoneType"]]


@pytest.mark.parametrize("index, sql_type", list(enumerate(TYPES)))
def test_vectorized_round_trip(typed: hoarfrost.Connection, index: int, sql_type: str) -> None:
    expected = rows(typed, f"SELECT c FROM t{index} ORDER BY id")
    assert rows(typed, f"SELECT vec{index}(c) FROM t{index} ORDER BY id") == expected
    assert rows(typed, f"SELECT marked{index}(c) FROM t{index} ORDER BY id") == expected


def test_vectorized_is_described(typed: hoarfrost.Connection) -> None:
    described = dict(rows(typed, "DESCRIBE FUNCTION vec0(NUMBER)"))
    installed = described["installed_packages"]
    assert "'pandas==" in installed and "'numpy==" in installed
