"""The per-statement path (issue 15): kept translations give the same results as translating
afresh, are dropped when what a name means changes, bind parameters stay parameters, and query
history written off the statement's path is all there after close."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import hoarfrost
from hoarfrost.engine.plans import TOKENS_BUDGET, PlanCache, plan_cache

UDF_100 = (
    "CREATE OR REPLACE FUNCTION {name}(x INT) RETURNS INT LANGUAGE PYTHON "
    "RUNTIME_VERSION = '3.11' HANDLER = 'f' AS 'def f(x):\n    return 100'"
)

SCRIPT: list[tuple[str, Any]] = [
    ("CREATE TABLE t (id INT, name VARCHAR, price NUMBER(10,2), at TIMESTAMP_NTZ)", None),
    ("INSERT INTO t VALUES (?, ?, ?, ?)", [1, "o'brien", decimal.Decimal("1.50"), None]),
    ("INSERT INTO t VALUES (%s, %s, %s, %s)", [2, "b", 2.25, dt.datetime(2024, 1, 2, 3, 4, 5)]),
    ("INSERT INTO t VALUES (%(i)s, %(n)s, 3, NULL)", {"i": 3, "n": "%s ? c"}),
    ("INSERT INTO t VALUES (?, ?, 4, NULL)", [4, True]),  # a boolean is inlined
    ("SELECT id, name, price, at FROM t ORDER BY id", None),
    ("SELECT id, name, price, at FROM t ORDER BY id", None),
    ("SELECT name FROM t WHERE id = ?", [2]),
    ("SELECT name FROM t WHERE id = ?", [3]),
    ("SELECT COUNT(*), SUM(price) FROM t WHERE name LIKE ?", ["%"]),
    ("UPDATE t SET price = price + ? WHERE id > ?", [1, 2]),
    ("SELECT id, price FROM t ORDER BY id", None),
    ("SELECT ? AS a, ? AS b, ? AS c", [1, "x", None]),
    ("SELECT CURRENT_DATABASE(), CURRENT_SCHEMA()", None),
    ("DELETE FROM t WHERE id = ?", [1]),
    ("SELECT id FROM t ORDER BY id", None),
]


def _run(con: hoarfrost.Connection) -> list[Any]:
    out: list[Any] = []
    for sql, params in SCRIPT:
        cur = con.execute(sql, params)
        out.append((cur.description, cur.rowcount, cur.fetchall()))
    return out


def test_kept_translations_give_the_same_results_as_fresh_ones() -> None:
    with (
        hoarfrost.connect(":memory:") as cached,
        hoarfrost.connect(":memory:", plan_cache_size=0) as fresh,
    ):
        kept = _run(cached)
        assert kept == _run(fresh)
        assert kept[5][2][1] == (2, "b", decimal.Decimal("2.25"), dt.datetime(2024, 1, 2, 3, 4, 5))
        assert kept[7][2] == [("b",)] and kept[8][2] == [("%s ? c",)]


@pytest.fixture
def con() -> Iterator[hoarfrost.Connection]:
    connection = hoarfrost.connect(":memory:")
    yield connection
    connection.close()
    connection.engine.close()  # stops the UDF workers of an in-memory engine


def test_a_function_created_later_shadows_a_kept_translation(con: hoarfrost.Connection) -> None:
    assert con.execute("SELECT ABS(-2)").fetchall() == [(2,)]
    assert con.execute("SELECT ABS(-2)").fetchall() == [(2,)]
    con.execute(UDF_100.format(name="abs"))
    assert con.execute("SELECT ABS(-2)").fetchall() == [(100,)]
    con.execute("DROP FUNCTION abs(INT)")
    assert con.execute("SELECT ABS(-2)").fetchall() == [(2,)]


def test_use_changes_what_a_kept_statement_means(con: hoarfrost.Connection) -> None:
    con.execute("CREATE SCHEMA s1")
    con.execute("CREATE SCHEMA s2")
    con.execute("USE SCHEMA s1")
    con.execute(UDF_100.format(name="abs"))
    con.execute("USE SCHEMA s2")
    assert con.execute("SELECT ABS(-2)").fetchall() == [(2,)]
    con.execute("USE SCHEMA s1")
    assert con.execute("SELECT ABS(-2)").fetchall() == [(100,)]
    con.execute("USE SCHEMA s2")
    assert con.execute("SELECT ABS(-2)").fetchall() == [(2,)]


def test_alter_session_and_ddl_drop_kept_translations(con: hoarfrost.Connection) -> None:
    plans = plan_cache(con.engine)
    con.execute("SELECT 1")
    before = plans.generation
    con.execute("SELECT 1")
    con.execute("SHOW TABLES")
    assert plans.generation == before
    con.execute("ALTER SESSION SET TIMEZONE = 'UTC'")
    assert plans.generation > before
    before = plans.generation
    con.execute("CREATE TABLE x (a INT)")
    assert plans.generation > before


def test_parameter_errors_are_reported_as_before(con: hoarfrost.Connection) -> None:
    with pytest.raises(hoarfrost.ProgrammingError) as info:
        con.execute("SELECT ?, ?", [1])
    assert info.value.errno == 252005
    with pytest.raises(hoarfrost.ProgrammingError) as info:
        con.execute("SELECT %(a)s", {"b": 1})
    assert info.value.errno == 252005


def test_history_rows_are_there_after_close(tmp_path: Path) -> None:
    home = tmp_path / "acct"
    # A long interval: only closing writes the rows.
    with hoarfrost.connect(home, history_flush_interval=3600) as con:
        ids = [con.execute(f"SELECT {i}").sfqid for i in range(5)]
        ids.append(con.execute("SELECT %s AS v", ["it's"]).sfqid)
        with pytest.raises(hoarfrost.Error):
            con.execute("SELECT * FROM nowhere")
    with hoarfrost.connect(home) as con:
        rows = con.execute(
            "SELECT query_id, query_text, execution_status FROM "
            "TABLE(INFORMATION_SCHEMA.QUERY_HISTORY())"
        ).fetchall()
    by_id = {r[0]: r for r in rows}
    assert all(i in by_id for i in ids)
    assert by_id[ids[-1]][1] == "SELECT 'it\\'s' AS v"
    assert ("SELECT * FROM nowhere", "FAILED_WITH_ERROR") in {(r[1], r[2]) for r in rows}


def test_history_of_a_running_session_is_readable_at_once() -> None:
    with hoarfrost.connect(":memory:", history_flush_interval=3600) as con:
        qid = con.execute("SELECT 42").sfqid
        rows = con.execute(
            "SELECT query_id FROM TABLE(INFORMATION_SCHEMA.QUERY_HISTORY())"
        ).fetchall()
    assert (qid,) in rows


def test_a_long_statement_is_not_kept_as_tokens_but_gives_the_same_results() -> None:
    """Tokens take about 85 bytes per character: a multi-megabyte script's are not kept."""
    listed = ", ".join(str(i) for i in range(TOKENS_BUDGET // 7 + 1))
    long = f"SELECT COUNT(*) FROM t WHERE x IN ({listed})"
    assert len(long) > TOKENS_BUDGET
    plans = PlanCache(16)
    assert plans.statements("SELECT 1") is plans.statements("SELECT 1")
    assert plans.statements(long) is not plans.statements(long)
    with hoarfrost.connect(":memory:") as con:
        con.execute(
            "CREATE TABLE t AS SELECT seq4() * 2 AS x FROM TABLE(GENERATOR(ROWCOUNT => 10))"
        )
        assert con.execute(long).fetchall() == con.execute(long).fetchall() == [(10,)]


def test_whole_and_fractional_numbers_in_one_small_result(con: hoarfrost.Connection) -> None:
    # A small result's rows come straight from DuckDB; only NUMBER(p, 0) columns become int.
    cur = con.cursor()
    row = cur.execute("SELECT 12.34::NUMBER(10,2) n, 123::NUMBER(18,0) m, 1.5::FLOAT f").fetchone()
    assert row == (decimal.Decimal("12.34"), 123, 1.5)
    assert isinstance(row[0], decimal.Decimal) and isinstance(row[1], int)
