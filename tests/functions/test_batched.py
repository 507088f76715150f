"""UDF calls evaluated over large batches (hoarfrost.engine.batched): the same results as per
DuckDB vector, only the shapes that allow it, filters applied first, errors as usual, and the
memory setting falling back to per-vector evaluation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import hoarfrost
from tests.functions.conftest import close_account, error_of, open_account, rows
from tests.support.pypiserver import PypiServer

PANDAS = "ARTIFACT_REPOSITORY = my_python_repo PACKAGES = ('pandas')"
FUNCTIONS = {
    "twice(x INT) RETURNS INT": "def f(x):\n    return None if x is None else 2 * x",
    "label(x INT, s STRING) RETURNS STRING": "def f(x, s):\n    return f'{s}-{x}'",
    "parts(x INT) RETURNS VARIANT": "def f(x):\n    return {'x': x, 'odd': x % 2 == 1}",
    "seven() RETURNS INT": "def f():\n    return 7",
    "inverse(x INT) RETURNS FLOAT": "def f(x):\n    return 1 / x",
    "strict_twice(x INT) RETURNS INT STRICT": "def f(x):\n    return 2 * x",
}
# A vectorized function that reports how many rows its batch had.
BATCH_LEN = """
import pandas
from _snowflake import vectorized

@vectorized(input=pandas.DataFrame)
def f(df):
    return pandas.Series([len(df)] * len(df))
"""

CAPPED_LEN = BATCH_LEN.replace(
    "@vectorized(input=pandas.DataFrame)",
    "@vectorized(input=pandas.DataFrame, max_batch_size=1000)",
)


def _setup(con: hoarfrost.Connection) -> None:
    con.execute(
        "CREATE TABLE t AS SELECT range AS x, 'k' || (range % 5) AS s, "
        "CASE WHEN range % 10 = 0 THEN NULL ELSE range END AS n FROM range(200000)"
    )
    for signature, body in FUNCTIONS.items():
        con.execute(
            f"CREATE FUNCTION {signature} LANGUAGE PYTHON RUNTIME_VERSION = '3.11' "
            f"HANDLER = 'f' AS $$\n{body}\n$$"
        )
    for name, body in (("batch_len", BATCH_LEN), ("capped_len", CAPPED_LEN)):
        con.execute(
            f"CREATE FUNCTION {name}(x INT) RETURNS INT LANGUAGE PYTHON RUNTIME_VERSION = '3.11' "
            f"{PANDAS} HANDLER = 'f' AS $$\n{body}\n$$"
        )


@pytest.fixture(scope="module")
def batched(repo_server: PypiServer, shared_cache: Path) -> Iterator[hoarfrost.Connection]:
    con = open_account(repo_server, shared_cache)
    _setup(con)
    yield con
    close_account(con)


@pytest.fixture(scope="module")
def per_vector(repo_server: PypiServer, shared_cache: Path) -> Iterator[hoarfrost.Connection]:
    con = open_account(repo_server, shared_cache, udf_batch_memory=0)
    _setup(con)
    yield con
    close_account(con)


QUERIES = [
    "SELECT SUM(twice(x)) FROM t",
    "SELECT s, COUNT(*), SUM(twice(x)) FROM t WHERE x % 3 = 0 GROUP BY s ORDER BY s",
    "SELECT twice(x) AS d, label(x, s) FROM t WHERE x < 2000 ORDER BY d DESC LIMIT 7",
    "SELECT twice(x) AS d FROM t WHERE twice(x) % 7 = 1 AND x > 50 ORDER BY twice(x) LIMIT 5",
    "SELECT parts(x):odd::BOOLEAN AS odd, COUNT(*) FROM t GROUP BY odd ORDER BY odd",
    "SELECT seven() + a.x FROM t AS a WHERE a.x BETWEEN 10 AND 12 ORDER BY 1",
    "SELECT COUNT(twice(n)), COUNT(strict_twice(n)), SUM(strict_twice(n)) FROM t",
    "SELECT twice(x) FROM t WHERE x < 0",  # no rows
    "SELECT label(x, s) FROM t WHERE x = 199999",
]


@pytest.mark.parametrize("sql", QUERIES)
def test_same_results_as_per_vector(
    batched: hoarfrost.Connection, per_vector: hoarfrost.Connection, sql: str
) -> None:
    expected = rows(per_vector, sql)
    assert rows(batched, sql) == expected


def test_results_equal_plain_sql(batched: hoarfrost.Connection) -> None:
    assert rows(batched, "SELECT SUM(twice(x)), MAX(label(x, s)) FROM t") == rows(
        batched, "SELECT SUM(2 * x), MAX(s || '-' || x) FROM t"
    )


def test_batches_are_larger_than_duckdb_vectors_only_where_allowed(
    batched: hoarfrost.Connection, per_vector: hoarfrost.Connection
) -> None:
    (big,) = rows(batched, "SELECT MAX(batch_len(x)) FROM t")[0]
    assert big > 2048
    (vector,) = rows(per_vector, "SELECT MAX(batch_len(x)) FROM t")[0]
    assert vector <= 2048
    # Under CASE only some rows evaluate the call: DuckDB does it, per vector.
    (case,) = rows(batched, "SELECT MAX(CASE WHEN x > 5 THEN batch_len(x) END) FROM t")[0]
    assert case <= 2048
    # A vectorized function's max_batch_size still holds.
    assert rows(batched, "SELECT MAX(capped_len(x)), COUNT(capped_len(x)) FROM t") == [
        (1000, 200000)
    ]


def test_plain_filters_apply_before_the_function_runs(batched: hoarfrost.Connection) -> None:
    # inverse(0) raises; the row x = 0 is filtered out first, as DuckDB would do.
    assert rows(batched, "SELECT COUNT(inverse(x)) FROM t WHERE x <> 0") == [(199999,)]
    error = error_of(batched, "SELECT SUM(inverse(x)) FROM t")
    assert "ZeroDivisionError: division by zero" in str(error)
    assert 'File "<INVERSE>"' in str(error) and "duckdb" not in str(error).lower()
    assert rows(batched, "SELECT SUM(twice(x)) FROM t WHERE x < 3") == [(6,)]  # next query fine


def test_uncommitted_rows_and_temporary_tables_are_seen(batched: hoarfrost.Connection) -> None:
    batched.execute("CREATE TEMPORARY TABLE tmp AS SELECT range AS x FROM range(100000)")
    batched.execute("BEGIN")
    try:
        batched.execute("INSERT INTO tmp VALUES (1000000)")
        result = rows(batched, "SELECT MAX(twice(x)), COUNT(*), MAX(batch_len(x)) > 2048 FROM tmp")
        assert result == [(2000000, 100001, True)]
    finally:
        batched.execute("ROLLBACK")
    assert rows(batched, "SELECT MAX(twice(x)) FROM tmp") == [(199998,)]


def test_inputs_over_the_memory_setting_run_per_vector(
    repo_server: PypiServer, shared_cache: Path
) -> None:
    con = open_account(repo_server, shared_cache, udf_batch_memory="100K")
    try:
        _setup(con)
        (small,) = rows(con, "SELECT MAX(batch_len(x)) FROM t WHERE x < 3000")[0]
        assert small == 3000  # 24 KB of input: one batch
        assert rows(con, "SELECT MAX(batch_len(x)), SUM(twice(x)) FROM t") == [
            (2048, 2 * sum(range(200000)))
        ]
    finally:
        close_account(con)
