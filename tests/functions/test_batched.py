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
    # Joined to t on s: one row each, with an x of its own.
    con.execute("CREATE TABLE u AS SELECT 10 * range AS x, 'k' || range AS s FROM range(5)")
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
    con.execute("CREATE VIEW odd AS SELECT x, s, twice(x) AS d FROM t WHERE x % 2 = 1")
    con.execute("CREATE VIEW named (a, b) AS SELECT x, label(x, s) FROM t WHERE x < 1000")
    con.execute("CREATE VIEW lens AS SELECT x, batch_len(x) AS b FROM t")


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
    # joins: qualified, same-named and aliased columns
    "SELECT t.x, u.x, twice(t.x) AS a, twice(u.x) FROM t JOIN u ON t.s = u.s WHERE t.x < 20 "
    "ORDER BY t.x",
    "SELECT u.s, SUM(twice(t.x)), MAX(label(u.x, t.s)) FROM t JOIN u USING (s) GROUP BY u.s "
    "ORDER BY u.s",
    "SELECT COUNT(*), SUM(twice(a.x) + twice(b.x)) FROM t AS a, u AS b WHERE a.s = b.s AND b.x > 20",
    "SELECT t.x, u.x AS ux, label(t.x, t.s) FROM t LEFT JOIN u ON t.s = u.s AND u.x > 20 "
    "WHERE t.x < 30 ORDER BY t.x",
    # CASE, COALESCE, AND / OR: only the rows that need the call
    "SELECT SUM(CASE WHEN x % 3 = 0 THEN twice(x) WHEN x % 3 = 1 THEN -twice(x) ELSE 0 END) FROM t",
    "SELECT ROUND(SUM(CASE WHEN x <> 0 THEN inverse(x) END), 6), "
    "COUNT(IFF(x = 0, NULL, inverse(x))) FROM t",
    "SELECT CASE x WHEN 0 THEN -1 ELSE inverse(x) END AS i FROM t ORDER BY x LIMIT 3",
    "SELECT COUNT(COALESCE(n, strict_twice(x))), SUM(NVL(n, twice(x))), SUM(ZEROIFNULL(twice(n))) "
    "FROM t",
    "SELECT x, x > 5 AND twice(x) > 14, x <= 7 OR twice(x) > 18 FROM t WHERE x < 12 ORDER BY x",
    "SELECT SUM(twice(x)) FILTER (WHERE x % 2 = 0), COUNT(CASE WHEN n IS NULL THEN twice(n) END) "
    "FROM t",
    # subqueries, CTEs, unions
    "SELECT y, COUNT(*) FROM (SELECT twice(x) % 7 AS y FROM t) GROUP BY y ORDER BY y",
    "SELECT COUNT(*), MIN(x) FROM t WHERE x IN (SELECT twice(x) FROM u) AND x > 0",
    "WITH c AS (SELECT x, twice(x) AS d FROM t WHERE x % 2 = 0) "
    "SELECT COUNT(*), SUM(label(d, 'z') = 'z-' || (2 * x)) FROM c",
    "SELECT twice(x) AS d FROM t WHERE x < 3 UNION ALL SELECT twice(x) FROM u ORDER BY d",
    "SELECT x, (SELECT MAX(twice(u.x)) FROM u) AS m FROM t WHERE x < 3 ORDER BY x",
    "SELECT x, (SELECT MAX(twice(u.x)) FROM u WHERE u.s = t.s) AS m FROM t WHERE x < 7 ORDER BY x",
    "SELECT x, EXISTS (SELECT 1 FROM u WHERE twice(u.x) = t.x) AS e FROM t WHERE x < 90 ORDER BY x",
    "SELECT twice(x) AS d, x + 1 AS y FROM t WHERE y < 5 ORDER BY d",  # an alias in WHERE
    # views that call functions
    "SELECT COUNT(*), SUM(d), MAX(d) FROM odd",
    "SELECT odd.s, SUM(odd.d + u.x) FROM odd JOIN u ON odd.s = u.s GROUP BY odd.s ORDER BY 1",
    "SELECT * FROM named WHERE a BETWEEN 10 AND 12 ORDER BY a",
    "SELECT a, twice(a) FROM named WHERE a < 3 ORDER BY a",
]


@pytest.mark.parametrize("sql", QUERIES)
def test_same_results_as_per_vector(
    batched: hoarfrost.Connection, per_vector: hoarfrost.Connection, sql: str
) -> None:
    expected = per_vector.execute(sql)
    got = batched.execute(sql)
    assert [tuple(r) for r in got.fetchall()] == [tuple(r) for r in expected.fetchall()]
    assert got.description == expected.description  # names and types


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
    # Under CASE only the rows that reach the call are evaluated: half of each batch here.
    (case,) = rows(batched, "SELECT MAX(CASE WHEN x % 2 = 0 THEN batch_len(x) END) FROM t")[0]
    assert case == 65536 // 2
    # Under a window DuckDB evaluates the call, per vector.
    window = "SELECT MAX(w) FROM (SELECT MAX(batch_len(x)) OVER (PARTITION BY s) AS w FROM t)"
    assert rows(batched, window)[0][0] <= 2048
    # A vectorized function's max_batch_size still holds.
    assert rows(batched, "SELECT MAX(capped_len(x)), COUNT(capped_len(x)) FROM t") == [
        (1000, 200000)
    ]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT MAX(batch_len(t.x)) FROM t JOIN u ON t.s = u.s",
        "SELECT MAX(b) FROM (SELECT batch_len(x) AS b FROM t)",
        "WITH c AS (SELECT batch_len(x) AS b FROM t) SELECT MAX(b) FROM c",
        "SELECT MAX(x) FROM t WHERE x IN (SELECT batch_len(x) FROM t)",
        "SELECT MAX(b) FROM lens",
        "SELECT MAX(lens.b) FROM lens JOIN t ON lens.x = t.x",
    ],
)
def test_joins_subqueries_and_views_are_batched(
    batched: hoarfrost.Connection, per_vector: hoarfrost.Connection, sql: str
) -> None:
    assert rows(batched, sql) == [(65536,)]
    assert rows(per_vector, sql) == [(2048,)]


def test_a_case_keeps_excluded_rows_from_a_raising_function(
    batched: hoarfrost.Connection,
) -> None:
    # inverse(0) raises; the CASE never calls it with 0, nor COALESCE where n is not NULL.
    assert rows(batched, "SELECT COUNT(CASE WHEN x > 0 THEN inverse(x) END) FROM t") == [(199999,)]
    assert rows(batched, "SELECT COUNT(COALESCE(x - 1, inverse(x - 1))) FROM t") == [(200000,)]
    error = error_of(batched, "SELECT COUNT(CASE WHEN x >= 0 THEN inverse(x) END) FROM t")
    assert "ZeroDivisionError: division by zero" in str(error)
    joined = "SELECT SUM(CASE WHEN t.x <> u.x THEN inverse(t.x - u.x) END) FROM t JOIN u USING (s)"
    assert rows(batched, joined)[0][0] is not None
    filtered = "SELECT COUNT(*), SUM(x) FROM t WHERE x = 0 OR inverse(x) > 0.3"
    assert rows(batched, filtered) == [(4, 6)]  # 0, 1, 2, 3
    # ... in batches: the first one's other 65,535 rows go to the function together
    assert rows(batched, "SELECT MAX(x) FROM t WHERE x = 0 OR batch_len(x) = 65535") == [(65535,)]
    # AND / OR: the right side only where the left does not decide.
    both = "SELECT COUNT_IF((x > 5 AND inverse(x - 5) > 0) = (x <= 7 OR inverse(x - 7) < 0)) FROM t"
    assert rows(batched, both) == [(2,)]  # x = 6 and 7


def test_errors_in_a_join_are_the_function_s_own(
    batched: hoarfrost.Connection, per_vector: hoarfrost.Connection
) -> None:
    sql = "SELECT SUM(inverse(t.x - u.x)) FROM t JOIN u ON t.s = u.s"
    error, expected = error_of(batched, sql), error_of(per_vector, sql)
    assert type(error) is type(expected)
    assert (error.errno, error.sqlstate) == (expected.errno, expected.sqlstate)
    assert 'File "<INVERSE>"' in str(error) and "duckdb" not in str(error).lower()


def test_views_follow_ddl(batched: hoarfrost.Connection) -> None:
    batched.execute("CREATE OR REPLACE VIEW changing AS SELECT twice(x) AS d FROM t WHERE x < 3")
    assert rows(batched, "SELECT SUM(d) FROM changing") == [(6,)]
    batched.execute("CREATE OR REPLACE VIEW changing AS SELECT label(x, s) AS d FROM t WHERE x < 2")
    assert rows(batched, "SELECT MAX(d) FROM changing") == [("k1-1",)]
    batched.execute("DROP VIEW changing")
    assert error_of(batched, "SELECT MAX(d) FROM changing").errno == 2003  # does not exist
    # A temporary table of the same name as a view is what the name means.
    batched.execute("CREATE TEMPORARY TABLE odd AS SELECT 1 AS d")
    try:
        assert rows(batched, "SELECT SUM(d) FROM odd") == [(1,)]
    finally:
        batched.execute("DROP TABLE odd")
    assert rows(batched, "SELECT COUNT(*) FROM odd") == [(100000,)]


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
        # Two sites share the budget: 56 KB of input each fits, both do not.
        union = (
            "SELECT MAX(b) FROM (SELECT batch_len(x) AS b FROM t WHERE x < {n} "
            "UNION ALL SELECT batch_len(x) AS b FROM t WHERE x < {n})"
        )
        assert rows(con, union.format(n=3000)) == [(3000,)]
        assert rows(con, union.format(n=7000)) == [(2048,)]
    finally:
        close_account(con)


# Statements writing a query's rows (dbt's table and incremental models): the query in batches.
WRITES = [
    "CREATE OR REPLACE TABLE w1 AS SELECT x, twice(x) AS d, label(x, s) AS l, parts(x) AS p, "
    "inverse(x + 1) AS i FROM t WHERE x < 5000",
    "CREATE OR REPLACE TRANSIENT TABLE w2 AS (SELECT twice(n), label(x, s) FROM t WHERE x < 300)",
    "CREATE OR REPLACE TABLE w3 AS WITH c AS (SELECT x, s FROM t WHERE x % 7 = 0) "
    "SELECT x, CASE WHEN x % 2 = 0 THEN label(x, s) END AS l FROM c",
    "INSERT INTO w1 SELECT x, twice(x), label(x, s), parts(x), inverse(x + 1) FROM t "
    "WHERE x BETWEEN 5000 AND 5999",
    "INSERT INTO w1 (l, x) SELECT label(x, l), x FROM w1 WHERE x < 100",  # reads its target
    "INSERT INTO w3 WITH c AS (SELECT x, s FROM u) SELECT x, label(x, s) FROM c",
]


def test_writes_of_a_query_give_the_same_tables_as_per_vector(
    batched: hoarfrost.Connection, per_vector: hoarfrost.Connection
) -> None:
    for sql in WRITES:
        assert rows(batched, sql) == rows(per_vector, sql), sql  # statuses and row counts
    for table, width in (("w1", 5), ("w2", 2), ("w3", 2)):
        assert rows(batched, f"DESCRIBE TABLE {table}") == rows(
            per_vector, f"DESCRIBE TABLE {table}"
        )
        ordered = f"SELECT * FROM {table} ORDER BY {', '.join(map(str, range(1, width + 1)))}"
        assert rows(batched, ordered) == rows(per_vector, ordered), table


def test_writes_of_a_query_are_batched(
    batched: hoarfrost.Connection, per_vector: hoarfrost.Connection
) -> None:
    for con, size in ((batched, 65536), (per_vector, 2048)):
        con.execute("CREATE OR REPLACE TABLE lens_w AS SELECT x, batch_len(x) AS b FROM t")
        con.execute("INSERT INTO lens_w SELECT x, 2 * batch_len(x) FROM t")
        assert rows(con, "SELECT MAX(b) FROM lens_w") == [(2 * size,)]
        assert rows(con, "SELECT COUNT(*), MIN(b) > 0 FROM lens_w") == [(400000, True)]
