"""Python UDFs wherever an expression goes, compared with the same logic written in SQL; pinned
package versions side by side; DEFAULT arguments, overloading, STRICT, TEMPORARY."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import hoarfrost
from hoarfrost.commands.session import Session
from tests.functions.conftest import close_account, error_of, open_account, rows
from tests.support.pypiserver import PypiServer


def _create(con: hoarfrost.Connection, signature: str, returns: str, body: str, **kw: str) -> None:
    extra = " ".join(f"{k} = {v}" for k, v in kw.items())
    con.execute(
        f"CREATE OR REPLACE FUNCTION {signature} RETURNS {returns} LANGUAGE PYTHON "
        f"RUNTIME_VERSION = '3.11' {extra} HANDLER = 'f' AS $$\n{body}\n$$"
    )


BUCKET = "def f(x):\n    return x % 7"
SCALE = "def f(x, y):\n    return x * 3 + y"


@pytest.fixture(scope="module")
def loaded(repo_server: PypiServer, shared_cache: Path) -> Iterator[hoarfrost.Connection]:
    con = open_account(repo_server, shared_cache)
    con.execute("CREATE TABLE facts AS SELECT range AS id, range % 100 AS k FROM range(100000)")
    con.execute("CREATE TABLE dims AS SELECT range AS k, 'name ' || range AS label FROM range(7)")
    _create(con, "bucket(x INT)", "INT", BUCKET)
    _create(con, "scale(x INT, y INT)", "INT", SCALE)
    yield con
    close_account(con)


CASES = [
    (
        "SELECT bucket(id) AS b, COUNT(*), SUM(scale(k, 1)) FROM facts "
        "WHERE bucket(id) <> 3 GROUP BY bucket(id) ORDER BY bucket(id)",
        "SELECT id % 7 AS b, COUNT(*), SUM(k * 3 + 1) FROM facts "
        "WHERE id % 7 <> 3 GROUP BY id % 7 ORDER BY id % 7",
    ),
    (
        "SELECT d.label, COUNT(*) FROM facts f JOIN dims d ON bucket(f.id) = d.k "
        "WHERE scale(f.k, 0) > 150 GROUP BY d.label ORDER BY d.label",
        "SELECT d.label, COUNT(*) FROM facts f JOIN dims d ON f.id % 7 = d.k "
        "WHERE f.k * 3 > 150 GROUP BY d.label ORDER BY d.label",
    ),
    (
        "SELECT id FROM facts WHERE k IN (SELECT bucket(k) FROM facts WHERE id < 50) "
        "ORDER BY scale(id, 0) DESC LIMIT 20",
        "SELECT id FROM facts WHERE k IN (SELECT k % 7 FROM facts WHERE id < 50) "
        "ORDER BY id * 3 DESC LIMIT 20",
    ),
    (
        "SELECT MAX(s) FROM (SELECT scale(id, k) AS s FROM facts) WHERE s % 2 = 0",
        "SELECT MAX(s) FROM (SELECT id * 3 + k AS s FROM facts) WHERE s % 2 = 0",
    ),
]


@pytest.mark.parametrize("udf_sql, plain_sql", CASES)
def test_udf_equals_sql(loaded: hoarfrost.Connection, udf_sql: str, plain_sql: str) -> None:
    expected = rows(loaded, plain_sql)
    assert expected and rows(loaded, udf_sql) == expected


def test_view_calling_a_udf(loaded: hoarfrost.Connection) -> None:
    loaded.execute("CREATE OR REPLACE VIEW bucketed AS SELECT id, bucket(id) FROM facts")
    cur = loaded.execute("SELECT * FROM bucketed WHERE id < 3 ORDER BY id")
    assert [d[0] for d in cur.description] == ["ID", "BUCKET(ID)"]
    assert cur.fetchall() == [(0, 0), (1, 1), (2, 2)]
    # replacing the function changes what the view computes
    _create(loaded, "bucket(x INT)", "INT", "def f(x):\n    return -x")
    try:
        assert rows(loaded, 'SELECT "BUCKET(ID)" FROM bucketed WHERE id = 5') == [(-5,)]
    finally:
        _create(loaded, "bucket(x INT)", "INT", BUCKET)


def test_view_works_in_a_new_process_state(
    repo_server: PypiServer, shared_cache: Path, tmp_path: Path
) -> None:
    """A persistent account: the view's function is registered again when a new engine opens."""
    home = tmp_path / "account"
    con = open_account(repo_server, shared_cache)
    close_account(con)
    with hoarfrost.connect(home, cache_dir=shared_cache) as first:
        first.execute("CREATE TABLE t AS SELECT range AS x FROM range(4)")
        _create(first, "twice(x INT)", "INT", "def f(x):\n    return 2 * x")
        first.execute("CREATE VIEW v AS SELECT twice(x) AS y FROM t")
    with hoarfrost.connect(home, cache_dir=shared_cache) as second:
        assert rows(second, "SELECT SUM(y) FROM v") == [(12,)]
        second.execute("DROP FUNCTION twice(INT)")
        error = error_of(second, "SELECT * FROM v")
        assert "Unknown function HOARFROST.PUBLIC.TWICE(NUMBER): it was dropped" in str(error)


PINNED = "import pinned\n\ndef f():\n    return pinned.__version__"


def test_pinned_versions_side_by_side(con: hoarfrost.Connection) -> None:
    for name, version in (("pinned_one", "1.0"), ("pinned_two", "2.0")):
        _create(
            con,
            f"{name}()",
            "VARCHAR",
            PINNED,
            ARTIFACT_REPOSITORY="my_python_repo",
            PACKAGES=f"('pinned=={version}')",
        )
    assert rows(con, "SELECT pinned_one(), pinned_two()") == [("1.0", "2.0")]
    assert "pinned" not in sys.modules


def test_default_arguments(con: hoarfrost.Connection) -> None:
    _create(
        con,
        "greet(name VARCHAR, punct VARCHAR DEFAULT '!', times INT DEFAULT 1 + 1)",
        "VARCHAR",
        "def f(name, punct, times):\n    return (name + punct) * times",
    )
    assert rows(con, "SELECT greet('a'), greet('b', '?'), greet('c', '.', 3)") == [
        ("a!a!", "b?b?", "c.c.c.")
    ]
    assert rows(con, "SELECT greet(times => 1, name => 'n')") == [("n!",)]
    error = error_of(con, "SELECT greet()")
    assert "Invalid argument types for function 'GREET()'" in str(error)


def test_overloading_and_drop_by_types(con: hoarfrost.Connection) -> None:
    _create(con, "kind(x NUMBER)", "VARCHAR", "def f(x):\n    return 'number'")
    _create(con, "kind(x VARCHAR)", "VARCHAR", "def f(x):\n    return 'text'")
    _create(con, "kind(x NUMBER, y NUMBER)", "VARCHAR", "def f(x, y):\n    return 'two'")
    assert rows(con, "SELECT kind(1), kind('a'), kind(1, 2), kind(2::NUMBER)") == [
        ("number", "text", "two", "number")
    ]
    assert len(rows(con, "SHOW USER FUNCTIONS LIKE 'KIND'")) == 3
    con.execute("DROP FUNCTION kind(VARCHAR)")
    assert rows(con, "SELECT kind('7')") == [("number",)]
    error = error_of(con, "DROP FUNCTION kind(VARCHAR)")
    assert "does not exist" in str(error)
    con.execute("DROP FUNCTION IF EXISTS kind(VARCHAR)")
    con.execute("DROP FUNCTION kind(INT)")
    assert [r[1] for r in rows(con, "SHOW USER FUNCTIONS")] == ["KIND"]


def test_strict_skips_nulls(con: hoarfrost.Connection) -> None:
    body = "def f(x):\n    return 'called with ' + repr(x)"
    _create(con, "lenient(x INT)", "VARCHAR", body)
    con.execute(
        "CREATE FUNCTION strict_fn(x INT) RETURNS VARCHAR LANGUAGE PYTHON STRICT "
        f"RUNTIME_VERSION = '3.11' HANDLER = 'f' AS $$\n{body}\n$$"
    )
    got = rows(con, "SELECT lenient(NULL), strict_fn(NULL), strict_fn(1)")
    assert got == [("called with None", None, "called with 1")]


def test_temporary_function_only_in_its_session(con: hoarfrost.Connection) -> None:
    con.execute(
        "CREATE TEMPORARY FUNCTION temp_fn() RETURNS INT LANGUAGE PYTHON "
        "RUNTIME_VERSION = '3.11' HANDLER = 'f' AS $$\ndef f():\n    return 7\n$$"
    )
    assert rows(con, "SELECT temp_fn()") == [(7,)]
    assert dict(rows(con, "DESCRIBE FUNCTION temp_fn()"))["is_temporary"] == "true"
    second = Session(con.engine)  # another session of the same account
    try:
        with pytest.raises(hoarfrost.Error) as info:
            second.execute("SELECT temp_fn()")
        assert str(info.value).endswith("Unknown function TEMP_FN")
    finally:
        second.close()
    assert con.engine.catalog.list("FUNCTION") == []


@pytest.mark.slow
def test_one_million_rows_where_group_by_join(con: hoarfrost.Connection) -> None:
    """Issue 4 acceptance: 1,000,000 rows through a UDF with WHERE, GROUP BY and a join."""
    con.execute("CREATE TABLE big AS SELECT range AS id, range % 1000 AS k FROM range(1000000)")
    con.execute(
        "CREATE TABLE labels AS SELECT range AS b, 'bucket ' || range AS name FROM range(7)"
    )
    _create(con, "bucket(x INT)", "INT", BUCKET)
    udf = (
        "SELECT l.name, COUNT(*), SUM(big.k) FROM big JOIN labels l ON bucket(big.id) = l.b "
        "WHERE bucket(big.k) > 1 GROUP BY l.name ORDER BY l.name"
    )
    plain = (
        "SELECT l.name, COUNT(*), SUM(big.k) FROM big JOIN labels l ON big.id % 7 = l.b "
        "WHERE big.k % 7 > 1 GROUP BY l.name ORDER BY l.name"
    )
    expected = rows(con, plain)
    assert len(expected) == 7 and rows(con, udf) == expected
