"""Transactions as Snowflake has them, in process and through the real connector."""

from __future__ import annotations

import pytest

import hoarfrost
from hoarfrost.errors import ProgrammingError
from tests.server.conftest import Connect


def values(con: hoarfrost.Connection, sql: str) -> list[object]:
    return [row[0] for row in con.execute(sql).fetchall()]


@pytest.fixture
def con() -> hoarfrost.Connection:
    connection = hoarfrost.connect(":memory:")
    connection.execute("create table t (a int)")
    return connection


def test_commit_and_rollback_without_a_transaction_do_nothing(con: hoarfrost.Connection) -> None:
    for sql in ("commit", "rollback", "commit work", "rollback work"):
        assert values(con, sql) == ["Statement executed successfully."]
    assert values(con, "select current_transaction()") == [None]


def test_explicit_transaction_commits_or_rolls_back(con: hoarfrost.Connection) -> None:
    con.execute("begin")
    con.execute("insert into t values (1)")
    (txn,) = values(con, "select current_transaction()")
    assert isinstance(txn, str) and txn.isdigit()
    con.execute("begin transaction")  # ignored inside a transaction
    assert values(con, "select current_transaction()") == [txn]
    con.execute("rollback")
    assert values(con, "select count(*) from t") == [0]
    con.execute("start transaction name named_one")
    con.execute("insert into t values (2)")
    con.execute("begin work")
    con.execute("commit")
    assert values(con, "select a from t") == [2]
    assert values(con, "select current_transaction()") == [None]


def test_ddl_commits_the_open_transaction(con: hoarfrost.Connection) -> None:
    con.execute("begin")
    con.execute("insert into t values (1)")
    con.execute("create table u (b int)")
    assert values(con, "select current_transaction()") == [None]
    con.execute("rollback")
    assert values(con, "select a from t") == [1]


def test_autocommit_off_opens_a_transaction_with_the_first_dml(con: hoarfrost.Connection) -> None:
    con.execute("alter session set autocommit = false")
    con.execute("insert into t values (1)")
    assert values(con, "select current_transaction()")[0] is not None
    con.execute("rollback")
    assert values(con, "select count(*) from t") == [0]
    con.execute("insert into t values (2)")
    con.execute("commit")
    con.execute("insert into t values (3)")
    con.execute("alter session set autocommit = true")  # commits the open transaction
    assert values(con, "select current_transaction()") == [None]
    assert sorted(values(con, "select a from t")) == [2, 3]


def test_a_statement_failing_inside_duckdb_aborts_the_transaction(
    con: hoarfrost.Connection,
) -> None:
    con.execute("begin")
    con.execute("insert into t values (1)")
    with pytest.raises(hoarfrost.DataError):
        con.execute("select 'x'::int")
    with pytest.raises(ProgrammingError, match="ROLLBACK"):
        con.execute("insert into t values (2)")
    con.execute("rollback")
    assert values(con, "select count(*) from t") == [0]
    con.execute("insert into t values (3)")  # autocommit again
    assert values(con, "select a from t") == [3]


def test_multi_statement_translation_inside_a_transaction(con: hoarfrost.Connection) -> None:
    con.execute("insert into t values (1)")
    con.execute("begin")
    con.execute("insert overwrite into t values (5)")  # DELETE + INSERT in DuckDB
    con.execute("rollback")
    assert values(con, "select a from t") == [1]


def test_connector_autocommit_false_and_pool_rollback(connect: Connect) -> None:
    setup = connect()
    setup.cursor().execute("create or replace table txn_t (a int)")
    conn = connect(autocommit=False)
    cur = conn.cursor()
    cur.execute("insert into txn_t values (1)")
    conn.rollback()
    assert cur.execute("select count(*) from txn_t").fetchone() == (0,)
    cur.execute("insert into txn_t values (2)")
    conn.commit()
    assert setup.cursor().execute("select a from txn_t").fetchall() == [(2,)]
    # The other session does not see uncommitted work.
    cur.execute("insert into txn_t values (3)")
    assert setup.cursor().execute("select count(*) from txn_t").fetchone() == (1,)
    conn.rollback()
    conn.rollback()  # a pool's ROLLBACK on check-in, with nothing open
    conn.autocommit(True)
    cur.execute("insert into txn_t values (4)")
    assert setup.cursor().execute("select count(*) from txn_t").fetchone() == (2,)


def test_connector_context_manager_commits(connect: Connect) -> None:
    setup = connect()
    setup.cursor().execute("create or replace table txn_cm (a int)")
    with connect(autocommit=False) as conn:
        conn.cursor().execute("insert into txn_cm values (1)")
    assert setup.cursor().execute("select count(*) from txn_cm").fetchone() == (1,)
    conn2 = connect()
    conn2.cursor().execute("begin")
    conn2.cursor().execute("insert into txn_cm values (2)")
    assert conn2.cursor().execute("select current_transaction()").fetchone()[0] is not None
    conn2.cursor().execute("commit")
    assert setup.cursor().execute("select count(*) from txn_cm").fetchone() == (2,)


def test_show_transactions(con: hoarfrost.Connection) -> None:
    assert con.execute("show transactions").fetchall() == []
    con.execute("begin name loader")
    (row,) = con.execute("show transactions").fetchall()
    assert row[3] == "LOADER" and row[5] == "running"
    assert str(row[0]) == values(con, "select current_transaction()")[0]
    con.execute("commit")
