"""SHOW as the reference shows it: columns of SHOW TABLES / VIEWS / OBJECTS / COLUMNS /
SEQUENCES / KEYS / WAREHOUSES / SCHEMAS / DATABASES, TERSE, LIKE, IN, STARTS WITH,
LIMIT ... FROM, real created_on times; GET_DDL."""

from __future__ import annotations

import datetime as dt
import json

import pytest

import hoarfrost
from tests.server.conftest import Connect


@pytest.fixture
def con() -> hoarfrost.Connection:
    connection = hoarfrost.connect(":memory:")
    connection.execute("create table t1 (id int primary key, b varchar(20) unique) cluster by (b)")
    connection.execute("create table t2 (x int references t1(id), y number(5,1) not null)")
    connection.execute("create view v1 as select id from t1")
    connection.execute("create sequence sq start with 3 increment by 4")
    return connection


def show(con: hoarfrost.Connection, sql: str) -> list[dict[str, object]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def test_show_tables_columns_and_created_on(con: hoarfrost.Connection) -> None:
    rows = show(con, "show tables")
    assert [r["name"] for r in rows] == ["T1", "T2"]
    first = rows[0]
    assert list(first)[:10] == [
        "created_on",
        "name",
        "database_name",
        "schema_name",
        "kind",
        "comment",
        "cluster_by",
        "rows",
        "bytes",
        "owner",
    ]
    assert first["cluster_by"] == "LINEAR(B)" and first["kind"] == "TABLE"
    assert isinstance(first["created_on"], dt.datetime)
    assert all(isinstance(r["created_on"], dt.datetime) for r in show(con, "show schemas"))


def test_terse_like_in_starts_with_and_limit(con: hoarfrost.Connection) -> None:
    terse = con.execute("show terse tables")
    assert [d[0] for d in terse.description] == [
        "created_on",
        "name",
        "kind",
        "database_name",
        "schema_name",
    ]
    assert [r["name"] for r in show(con, "show tables like 't%2'")] == ["T2"]
    assert [r["name"] for r in show(con, "show tables starts with 'T2'")] == ["T2"]
    assert [r["name"] for r in show(con, "show tables limit 1")] == ["T1"]
    assert [r["name"] for r in show(con, "show tables limit 5 from 'T2'")] == ["T2"]
    assert [r["name"] for r in show(con, "show tables in schema hoarfrost.public")] == ["T1", "T2"]
    assert [r["name"] for r in show(con, "show tables in database hoarfrost")] == ["T1", "T2"]
    assert [r["name"] for r in show(con, "show tables in account")] == ["T1", "T2"]
    objects = {r["name"]: r["kind"] for r in show(con, "show objects")}
    assert objects == {"T1": "TABLE", "T2": "TABLE", "V1": "VIEW"}
    assert [r["name"] for r in show(con, "show terse views")] == ["V1"]


def test_show_columns(con: hoarfrost.Connection) -> None:
    rows = show(con, "show columns in table t2")
    assert [(r["table_name"], r["column_name"], r["null?"]) for r in rows] == [
        ("T2", "X", "true"),
        ("T2", "Y", "false"),
    ]
    assert json.loads(str(rows[1]["data_type"])) == {
        "type": "FIXED",
        "precision": 5,
        "scale": 1,
        "nullable": False,
    }
    b = show(con, "show columns like 'B'")
    assert json.loads(str(b[0]["data_type"]))["length"] == 20


def test_show_keys_sequences_and_warehouses(con: hoarfrost.Connection) -> None:
    pk = show(con, "show primary keys in table t1")
    assert [(r["table_name"], r["column_name"], r["key_sequence"]) for r in pk] == [("T1", "ID", 1)]
    assert [r["column_name"] for r in show(con, "show unique keys")] == ["B"]
    fk = show(con, "show imported keys in schema public")
    assert [
        (r["pk_table_name"], r["pk_column_name"], r["fk_table_name"], r["fk_column_name"])
        for r in fk
    ] == [("T1", "ID", "T2", "X")]
    seqs = show(con, "show sequences")
    assert [(r["name"], r["next_value"], r["interval"]) for r in seqs] == [("SQ", 3, 4)]
    con.execute("select sq.nextval")
    assert show(con, "show sequences")[0]["next_value"] == 7
    whs = show(con, "show warehouses")
    assert [(r["name"], r["state"], r["is_current"]) for r in whs] == [
        ("HOARFROST_WH", "STARTED", "Y")
    ]


def test_get_ddl(con: hoarfrost.Connection) -> None:
    (ddl,) = con.execute("select get_ddl('table', 't1')").fetchone()
    assert ddl == (
        "create or replace TABLE T1 (\n\tID NUMBER(38,0) NOT NULL,\n\tB VARCHAR(20),\n"
        "\tprimary key (ID),\n\tunique (B)\n) cluster by (B);"
    )
    (view,) = con.execute("select get_ddl('view', 'hoarfrost.public.v1')").fetchone()
    assert view.upper().startswith("CREATE VIEW V1 AS SELECT ID FROM T1")
    with pytest.raises(hoarfrost.ProgrammingError):
        con.execute("select get_ddl('table', 'nope')")


def test_show_over_the_wire(connect: Connect) -> None:
    cur = connect().cursor()
    cur.execute("create or replace table wire_show (a varchar(7))")
    cur.execute("show terse tables like 'WIRE_SHOW'")
    assert [d.name for d in cur.description] == [
        "created_on",
        "name",
        "kind",
        "database_name",
        "schema_name",
    ]
    assert cur.fetchall()[0][1] == "WIRE_SHOW"
    cur.execute("show columns in table wire_show")
    assert json.loads(cur.fetchall()[0][3])["length"] == 7
    assert cur.execute("show warehouses").fetchall()[0][0] == "HOARFROST_WH"


def test_describe_table_flags_keys(con: hoarfrost.Connection) -> None:
    cur = con.execute("describe table t1")
    names = [d[0] for d in cur.description]
    assert names[5:7] == ["primary key", "unique key"] and names[-1] == "privacy domain"
    flags = {r[0]: (r[5], r[6]) for r in cur.fetchall()}
    assert flags == {"ID": ("Y", "N"), "B": ("N", "Y")}
