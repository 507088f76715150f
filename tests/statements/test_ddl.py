"""Snowflake DDL that tools send: CLONE, TRANSIENT, CLUSTER BY, comments, SWAP WITH, RENAME,
SET DATA TYPE, sequences, AUTOINCREMENT / IDENTITY, declared lengths in DESCRIBE and
INFORMATION_SCHEMA.COLUMNS, and where a table may be created."""

from __future__ import annotations

import pytest
import snowflake.connector

import hoarfrost
from hoarfrost.errors import InsufficientPrivileges
from tests.server.conftest import Connect


@pytest.fixture
def con() -> hoarfrost.Connection:
    return hoarfrost.connect(":memory:")


def rows(con: hoarfrost.Connection, sql: str) -> list[tuple[object, ...]]:
    return con.execute(sql).fetchall()


def test_clone_ctas_with_columns_transient_and_cluster_by(con: hoarfrost.Connection) -> None:
    con.execute("create table src (a int, b varchar(5))")
    con.execute("insert into src values (1, 'x'), (2, 'y')")
    assert rows(con, "create table cp clone src") == [("Table CP successfully created.",)]
    assert rows(con, "select * from cp order by a") == [(1, "x"), (2, "y")]
    con.execute("create or replace table cp2 (x, y) as select a, b from src")
    assert rows(con, "select x, y from cp2 order by x") == [(1, "x"), (2, "y")]
    con.execute("create or replace transient table tr (a int) cluster by (a) comment = 'kept'")
    con.execute("alter table tr cluster by (a)")
    assert rows(con, "select comment from information_schema.tables where table_name = 'TR'") == [
        ("kept",)
    ]


def test_if_not_exists_after_the_name(con: hoarfrost.Connection) -> None:
    con.execute("create table late if not exists (a int)")
    con.execute("insert into late values (1)")
    con.execute("create table public.late if not exists (a int)")  # kept, not replaced
    assert rows(con, "select a from late") == [(1,)]


def test_comments_swap_rename_and_set_data_type(con: hoarfrost.Connection) -> None:
    con.execute("create table a (x int comment 'the x')")
    con.execute("create table b (y varchar)")
    con.execute("insert into a values (1)")
    con.execute("comment on table a is 'table a'")
    con.execute("comment on column a.x is 'still x'")
    described = rows(con, "describe table a")
    assert described[0][0] == "X" and described[0][9] == "still x"
    con.execute("alter table a swap with b")
    assert [d[0] for d in rows(con, "describe table b")] == ["X"]
    assert rows(con, "select x from b") == [(1,)]
    con.execute("alter table b rename to c")
    con.execute("alter table c alter column x set data type varchar(50)")
    assert rows(con, "select x from c") == [("1",)]
    con.execute("alter table c set comment = 'now c'")
    assert rows(con, "select comment from information_schema.tables where table_name = 'C'") == [
        ("now c",)
    ]


def test_sequences_and_identity_columns(con: hoarfrost.Connection) -> None:
    assert rows(con, "create sequence seq start with 5 increment by 2") == [
        ("Sequence SEQ successfully created.",)
    ]
    assert rows(con, "select seq.nextval, seq.nextval") == [(5, 7)]
    con.execute("create table with_default (id int default seq.nextval, v int)")
    con.execute("insert into with_default (v) values (1)")
    assert rows(con, "select id from with_default") == [(9,)]
    con.execute("create table ids (id int autoincrement, j number identity(10, 5), v string)")
    con.execute("insert into ids (v) values ('a'), ('b')")
    assert rows(con, "select id, j, v from ids order by id") == [(1, 10, "a"), (2, 15, "b")]
    defaults = [r[4] for r in rows(con, "describe table ids")]
    assert defaults == [
        "IDENTITY START 1 INCREMENT 1 ORDER",
        "IDENTITY START 10 INCREMENT 5 ORDER",
        None,
    ]
    con.execute("create or replace table ids (id int autoincrement start 100, v string)")
    con.execute("insert into ids (v) values ('c')")
    assert rows(con, "select id from ids") == [(100,)]


def test_declared_lengths_and_precisions_are_reported(con: hoarfrost.Connection) -> None:
    con.execute(
        "create table typed (v varchar(20), c char(3), s string, t time(9), l timestamp_ltz(3),"
        " n number(10,2), o object, a array, f float4, b binary(16))"
    )
    types = {r[0]: r[1] for r in rows(con, "describe table typed")}
    assert types == {
        "V": "VARCHAR(20)",
        "C": "VARCHAR(3)",
        "S": "VARCHAR(16777216)",
        "T": "TIME(9)",
        "L": "TIMESTAMP_LTZ(3)",
        "N": "NUMBER(10,2)",
        "O": "OBJECT",
        "A": "ARRAY",
        "F": "FLOAT",
        "B": "BINARY(16)",
    }
    info = rows(
        con,
        "select column_name, data_type, character_maximum_length, datetime_precision "
        "from information_schema.columns where table_name = 'TYPED' order by ordinal_position",
    )
    assert info[0] == ("V", "TEXT", 20, None)
    assert info[3] == ("T", "TIME", None, 9)
    assert info[4] == ("L", "TIMESTAMP_LTZ", None, 3)
    # FLOAT4 is 64-bit in Snowflake
    con.execute("insert into typed (f) values (0.1)")
    assert rows(con, "select f from typed") == [(0.1,)]


def test_create_table_without_a_current_database(connect: Connect) -> None:
    # A login naming a database that does not exist leaves the session without one.
    cur = connect(database="NO_SUCH_DB").cursor()
    assert cur.execute("select current_database()").fetchone() == (None,)
    with pytest.raises(snowflake.connector.errors.ProgrammingError) as caught:
        cur.execute("create table nowhere (a int)")
    assert caught.value.errno == 90105
    cur.execute("create table hoarfrost.public.somewhere (a int)")


def test_comment_needs_ownership(con: hoarfrost.Connection) -> None:
    con.execute("create table owned (a int)")
    con.execute("use role public")
    with pytest.raises(InsufficientPrivileges):
        con.execute("comment on table owned is 'mine now'")


def test_ddl_over_the_wire(connect: Connect) -> None:
    cur = connect().cursor()
    cur.execute("create or replace table wire_ids (id int autoincrement, name varchar(10))")
    cur.execute("insert into wire_ids (name) values (%s), (%s)", ("a", "b"))
    assert cur.execute("select id, name from wire_ids order by id").fetchall() == [
        (1, "a"),
        (2, "b"),
    ]
    described = cur.execute("describe table wire_ids").fetchall()
    assert described[1][1] == "VARCHAR(10)"
    cur.execute("create or replace table wire_copy clone wire_ids")
    assert cur.execute("select count(*) from wire_copy").fetchone() == (2,)


def test_login_with_a_missing_schema_keeps_the_database(connect: Connect) -> None:
    cur = connect(database="HOARFROST", schema="NO_SUCH_SCHEMA").cursor()
    assert cur.execute("select current_database(), current_schema()").fetchone() == (
        "HOARFROST",
        None,
    )
    cur.execute("create table hoarfrost.public.after_login (a int)")


def test_clone_schema_and_database(con: hoarfrost.Connection) -> None:
    con.execute("create table src_t (a varchar(5))")
    con.execute("insert into src_t values ('x')")
    assert rows(con, "create schema copied clone public") == [
        ("Schema COPIED successfully created.",)
    ]
    assert rows(con, "select a from hoarfrost.copied.src_t") == [("x",)]
    assert rows(con, "describe table hoarfrost.copied.src_t")[0][1] == "VARCHAR(5)"
    con.execute("insert into hoarfrost.copied.src_t values ('y')")  # a copy, not the source
    assert rows(con, "select count(*) from hoarfrost.public.src_t") == [(1,)]
    con.execute("create database dbcopy clone hoarfrost")
    assert rows(con, "select a from dbcopy.public.src_t") == [("x",)]
    with pytest.raises(hoarfrost.ProgrammingError):
        con.execute("create schema nothing clone no_such_schema")
