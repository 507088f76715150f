"""The real snowflake-connector-python against `hoarfrost serve`."""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal

import pytest
import snowflake.connector
from snowflake.connector.errors import DatabaseError, ProgrammingError

from tests.server.conftest import Connect, ServedAccount


def test_select_of_every_type(connect: Connect) -> None:
    cur = connect().cursor()
    cur.execute(
        """select 12.34::number(10,2) n, -0.5::number(5,2) neg, 42 i,
                  123456789012345678901234567890::number(38,0) big,
                  1.5::float f, 'NaN'::float nan, 'héllo ''q''' s, true b, false b2,
                  '2024-02-29'::date d, '1969-12-31'::date d0,
                  '13:14:15.123456'::time t,
                  '2024-01-02 03:04:05.123456'::timestamp_ntz ntz,
                  '1969-12-31 23:59:59.5'::timestamp_ntz ntz0,
                  '2024-01-02 03:04:05.123456+00:00'::timestamp_tz tz,
                  to_binary('DEADBEEF', 'HEX') bin,
                  parse_json('{"a": [1, 2]}') v, object_construct('a', 1) o,
                  array_construct(1, 'x') a, null::int nul"""
    )
    row = cur.fetchone()
    assert row is not None
    values = dict(zip([d.name for d in cur.description], row, strict=True))
    assert values["N"] == Decimal("12.34") and values["NEG"] == Decimal("-0.50")
    assert values["I"] == 42 and values["BIG"] == 123456789012345678901234567890
    assert values["F"] == 1.5 and math.isnan(values["NAN"])
    assert values["S"] == "héllo 'q'"
    assert values["B"] is True and values["B2"] is False
    assert values["D"] == dt.date(2024, 2, 29) and values["D0"] == dt.date(1969, 12, 31)
    assert values["T"] == dt.time(13, 14, 15, 123456)
    assert values["NTZ"] == dt.datetime(2024, 1, 2, 3, 4, 5, 123456)
    assert values["NTZ0"] == dt.datetime(1969, 12, 31, 23, 59, 59, 500000)
    assert values["TZ"] == dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=dt.timezone.utc)
    assert values["BIN"] == b"\xde\xad\xbe\xef"
    assert json.loads(values["V"]) == {"a": [1, 2]}
    assert json.loads(values["O"]) == {"a": 1}
    assert json.loads(values["A"]) == [1, "x"]
    assert values["NUL"] is None
    types = {d.name: (d.type_code, d.precision, d.scale) for d in cur.description}
    assert types["N"] == (0, 10, 2)  # FIXED
    assert types["F"][0] == 1 and types["S"][0] == 2 and types["B"][0] == 13
    assert types["D"][0] == 3 and types["T"][0] == 12 and types["NTZ"][0] == 8
    assert types["TZ"][0] == 7 and types["BIN"][0] == 11


def test_ddl_and_dml_rowcounts(connect: Connect) -> None:
    cur = connect().cursor()
    cur.execute("create or replace table dml_t (a int, b string)")
    assert cur.fetchall() == [("Table DML_T successfully created.",)]
    cur.execute("insert into dml_t values (1, 'x'), (2, 'y'), (3, 'z')")
    assert cur.rowcount == 3
    cur.execute("update dml_t set b = 'w' where a >= 2")
    assert cur.rowcount == 2
    cur.execute("delete from dml_t where a = 1")
    assert cur.rowcount == 1
    cur.execute("select a, b from dml_t order by a")
    assert cur.fetchall() == [(2, "w"), (3, "w")]
    assert cur.rowcount == 2


def test_qmark_and_numeric_bindings(connect: Connect) -> None:
    cur = connect(paramstyle="qmark").cursor()
    when = dt.datetime(2024, 1, 2, 3, 4, 5, 6)
    cur.execute(
        "select ?, ?, ?, ?, ?, ?, ?, ?, ?, ?",
        (
            41,
            "it's ?",
            1.5,
            True,
            None,
            b"\x00\xff",
            dt.date(2024, 1, 2),
            when,
            dt.time(1, 2, 3),
            Decimal("1.25"),
        ),
    )
    row = cur.fetchone()
    assert row == (
        41,
        "it's ?",
        1.5,
        True,
        None,
        b"\x00\xff",
        dt.date(2024, 1, 2),
        when,
        dt.time(1, 2, 3),
        Decimal("1.25"),
    )
    assert isinstance(row[2], float)  # a REAL binding stays a float
    cur.execute("select ? + 1 where '?' = '?'", (1,))
    assert cur.fetchall() == [(2,)]
    numeric = connect(paramstyle="numeric").cursor()
    assert numeric.execute("select :2, :1, :1", (1, "two")).fetchall() == [("two", 1, 1)]


def test_pyformat_bindings(connect: Connect) -> None:
    cur = connect().cursor()  # pyformat is the connector's default: bound in the client
    assert cur.execute("select %s, %s", (1, "it's")).fetchall() == [(1, "it's")]
    assert cur.execute("select %(a)s, %(b)s", {"a": "x", "b": None}).fetchall() == [("x", None)]


def test_a_binding_where_only_a_literal_parses(connect: Connect) -> None:
    # write_pandas binds the name of its temporary stage: IDENTIFIER(?) in a CREATE STAGE.
    cur = connect(paramstyle="qmark").cursor()
    cur.execute("create temporary stage identifier(?) comment = 'bound'", ("st_bound",))
    assert [r[1] for r in cur.execute("show stages like 'ST_BOUND'").fetchall()] == ["ST_BOUND"]
    # ... and the table it copies into, IDENTIFIER(?) in a statement that parses either way.
    cur.execute("create or replace table t_bound (a int)")
    cur.execute("insert into identifier(?) select ?", ("t_bound", 7))
    assert cur.execute("select a from identifier(?)", ("t_bound",)).fetchall() == [(7,)]


@pytest.mark.parametrize("paramstyle", ["qmark", "pyformat"])
def test_executemany(connect: Connect, paramstyle: str) -> None:
    cur = connect(paramstyle=paramstyle).cursor()
    table = f"many_{paramstyle}"
    cur.execute(f"create or replace table {table} (a int, b string, c date)")
    mark = "?" if paramstyle == "qmark" else "%s"
    rows = [(1, "a", dt.date(2024, 1, 1)), (2, None, dt.date(2024, 1, 2)), (3, "c", None)]
    cur.executemany(f"insert into {table} values ({mark}, {mark}, {mark})", rows)
    assert cur.rowcount == 3
    assert cur.execute(f"select * from {table} order by a").fetchall() == rows
    cur.executemany(f"update {table} set b = {mark} where a = {mark}", [("u", 1), ("v", 2)])
    assert cur.execute(f"select b from {table} order by a").fetchall() == [("u",), ("v",), ("c",)]


def test_errors_carry_errno_and_sqlstate(connect: Connect) -> None:
    cur = connect().cursor()
    with pytest.raises(ProgrammingError) as missing:
        cur.execute("select * from no_such_table")
    assert missing.value.errno == 2003 and missing.value.sqlstate == "42S02"
    assert "NO_SUCH_TABLE" in missing.value.msg
    assert missing.value.sfqid
    with pytest.raises(ProgrammingError) as syntax:
        cur.execute("selec 1")
    assert syntax.value.errno == 1003 and syntax.value.sqlstate == "42000"
    # The session is still usable after errors.
    assert cur.execute("select 1").fetchall() == [(1,)]


def test_wrong_password_is_a_login_error(served: ServedAccount) -> None:
    with pytest.raises(DatabaseError) as bad:
        served.connect(password="not-the-password")
    assert bad.value.errno == 390100
    with pytest.raises(DatabaseError) as unknown:
        served.connect(user="mallory")
    assert unknown.value.errno == 390100


def test_description_and_describe(connect: Connect) -> None:
    cur = connect(paramstyle="qmark").cursor()
    cur.execute("create or replace table desc_t (a number(10,2), b varchar, c boolean)")
    described = cur.describe("select * from desc_t")
    assert described is not None
    assert [(d.name, d.type_code, d.precision, d.scale) for d in described] == [
        ("A", 0, 10, 2),
        ("B", 2, None, None),
        ("C", 13, None, None),
    ]
    # describe did not run anything: the table is still empty.
    assert cur.execute("select count(*) from desc_t").fetchall() == [(0,)]
    inserted = cur.describe("insert into desc_t values (?, ?, ?)")
    assert inserted is not None and inserted[0].name == "number of rows inserted"
    assert cur.execute("select count(*) from desc_t").fetchall() == [(0,)]
    cur.execute("select a as x from desc_t")
    assert [d.name for d in cur.description] == ["X"]


def test_fetch_pandas_all(connect: Connect) -> None:
    cur = connect().cursor()
    cur.execute("select column1 as n, column2 as s from values (1, 'a'), (2, 'b'), (3, null)")
    frame = cur.fetch_pandas_all()
    assert list(frame.columns) == ["N", "S"]
    assert frame["N"].tolist() == [1, 2, 3]
    assert frame["S"].tolist()[:2] == ["a", "b"]


def test_multi_statement_needs_a_count(connect: Connect) -> None:
    conn = connect()
    cur = conn.cursor()
    with pytest.raises(ProgrammingError) as refused:
        cur.execute("select 1; select 2")
    assert refused.value.errno == 8 and refused.value.sqlstate == "0A000"
    cur.execute("select 1 as a; select 'x' as b", num_statements=2)
    assert cur.fetchall() == [(1,)]
    assert cur.nextset() is not None and cur.fetchall() == [("x",)]
    assert cur.nextset() is None
    cursors = conn.execute_string(
        "create or replace table script_t (a int); insert into script_t values (1), (2);"
        " select sum(a) from script_t"
    )
    assert [c.fetchall() for c in cursors][1:] == [[(2,)], [(3,)]]


def test_context_follows_the_session(connect: Connect) -> None:
    conn = connect(database="hoarfrost", schema="public")
    cur = conn.cursor()
    assert cur.execute("select current_database(), current_schema()").fetchall() == [
        ("HOARFROST", "PUBLIC")
    ]
    cur.execute("create or replace database wire_db")
    cur.execute("create schema wire_db.s1")
    cur.execute("use schema wire_db.s1")
    assert conn.database == "WIRE_DB" and conn.schema == "S1"
    assert cur.execute("select current_schema()").fetchall() == [("S1",)]


def test_async_query(connect: Connect) -> None:
    conn = connect()
    cur = conn.cursor()
    cur.execute_async("select 40 + 2 as answer")
    query_id = cur.sfqid
    assert query_id
    cur.get_results_from_sfqid(query_id)
    assert cur.fetchall() == [(42,)]
    assert conn.get_query_status(query_id).name == "SUCCESS"


def test_seed_objects_through_the_connector(served: ServedAccount, connect: Connect) -> None:
    secret = "Seed-Secret-9b1c-NEVER-LOGGED"
    cur = connect().cursor()
    cur.execute(
        f"""CREATE OR REPLACE SECRET my_repo_secret
              TYPE = PASSWORD
              USERNAME = 'your_username'
              PASSWORD = '{secret}'"""
    )
    assert cur.fetchall() == [("Secret MY_REPO_SECRET successfully created.",)]
    cur.execute(
        """CREATE OR REPLACE API INTEGRATION python_repo_integration
             API_PROVIDER = ARTIFACT_REPOSITORY_API
             API_ALLOWED_PREFIXES = ('https://nexus.example.com', 'https://artifactory.example.com')
             ALLOWED_AUTHENTICATION_SECRETS = (my_repo_secret)
             ENABLED = TRUE"""
    )
    cur.execute(
        """CREATE OR REPLACE ARTIFACT REPOSITORY my_python_repo
             TYPE = PYPI
             API_INTEGRATION = python_repo_integration
             INDEX_URL = 'https://nexus.example.com/repository/pypi-proxy/simple/'
             AUTHENTICATION_SECRET = my_repo_secret
             COMMENT = 'Customer-hosted Python package repository (Nexus)'"""
    )
    assert cur.fetchall() == [("Artifact repository MY_PYTHON_REPO successfully created.",)]
    cur.execute("describe secret my_repo_secret")
    described = cur.fetchall()
    assert described and secret not in repr(described)
    assert "your_username" in repr(described)
    names = [r[1] for r in cur.execute("show artifact repositories").fetchall()]
    assert "MY_PYTHON_REPO" in names
    # The secret also goes through bindings, errors and the query history.
    with pytest.raises(ProgrammingError):
        cur.execute(f"select * from table_that_is_missing where x = '{secret}'")
    conn = connect(paramstyle="qmark")
    conn.cursor().execute("select ?", (secret,))
    conn.close()
    log = served.log_text()
    assert "query-request" in log and "session" in log  # the server does log its requests
    assert secret not in log
    assert "wire-pass-7f3a" not in log  # nor the login password


def test_unknown_session_token_is_refused(served: ServedAccount) -> None:
    import httpx

    response = httpx.post(
        f"http://127.0.0.1:{served.port}/queries/v1/query-request",
        json={"sqlText": "select 1"},
        headers={"Authorization": 'Snowflake Token="forged"'},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is False and body["code"] == "390104"


def test_connection_info(connect: Connect) -> None:
    conn = connect()
    assert conn.session_id
    cur = conn.cursor()
    assert cur.execute("select current_user()").fetchall() == [("ALICE",)]
    assert isinstance(conn, snowflake.connector.SnowflakeConnection)
