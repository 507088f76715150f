"""The PEP 249 API: connect, cursors, parameters, fetch helpers, errors."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path

import pytest

import hoarfrost
from tests.engine.conftest import SEED_OBJECTS


def test_module_globals() -> None:
    assert hoarfrost.apilevel == "2.0"
    assert issubclass(hoarfrost.ProgrammingError, hoarfrost.DatabaseError)
    assert issubclass(hoarfrost.DatabaseError, hoarfrost.Error)


def test_new_account_has_default_database_and_schema(con: hoarfrost.Connection) -> None:
    assert con.execute("SELECT CURRENT_DATABASE(), CURRENT_SCHEMA()").fetchone() == (
        "HOARFROST",
        "PUBLIC",
    )


def test_cursor_fetch_and_description(con: hoarfrost.Connection) -> None:
    cur = con.cursor()
    cur.execute("CREATE TABLE t (a NUMBER(38,0), b VARCHAR, c NUMBER(10,2), d FLOAT)")
    cur.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", [(1, "x", 1.5, 0.5), (2, "y", 2, 1)])
    assert cur.rowcount == 2
    cur.execute("SELECT a, b, c, d FROM t ORDER BY a")
    assert [d[0] for d in cur.description] == ["A", "B", "C", "D"]
    assert [d[1] for d in cur.description] == [0, 2, 0, 1]  # FIXED, TEXT, FIXED, REAL
    assert cur.description[2][4:6] == (10, 2)
    assert cur.fetchone() == (1, "x", decimal.Decimal("1.50"), 0.5)
    assert cur.fetchmany(5) == [(2, "y", decimal.Decimal("2.00"), 1.0)]
    assert cur.fetchone() is None
    assert cur.sfqid


def test_parameters_qmark_and_pyformat(con: hoarfrost.Connection) -> None:
    row = con.execute(
        "SELECT ?, ?, ?, ?, ?", [1, "it's a ? and %s", None, True, dt.date(2024, 1, 2)]
    ).fetchone()
    assert row == (1, "it's a ? and %s", None, True, dt.date(2024, 1, 2))
    row = con.execute("SELECT %(a)s || %(b)s", {"a": "x\\y", "b": "'"}).fetchone()
    assert row is not None and row[0] == "x\\y'"
    with pytest.raises(hoarfrost.ProgrammingError, match="placeholder"):
        con.execute("SELECT ?", [1, 2])


def test_arrow_and_pandas(con: hoarfrost.Connection) -> None:
    cur = con.execute("SELECT 1 AS a, 'x' AS b")
    table = cur.fetch_arrow_table()
    assert table.column_names == ["A", "B"]
    frame = con.execute("SELECT 1 AS a").fetch_pandas_all()
    assert list(frame.columns) == ["A"] and int(frame["A"][0]) == 1


def test_errors_render_errno_and_sqlstate(con: hoarfrost.Connection) -> None:
    with pytest.raises(hoarfrost.ProgrammingError) as info:
        con.execute("SELECT * FROM no_such_table")
    assert (info.value.errno, info.value.sqlstate) == (2003, "42S02")
    assert str(info.value).startswith("002003 (42S02): SQL compilation error:")
    with pytest.raises(hoarfrost.ProgrammingError) as info:
        con.execute("SELEC 1")
    assert (info.value.errno, info.value.sqlstate) == (1003, "42000")


def test_script_with_dollar_bodies_and_comments(con: hoarfrost.Connection) -> None:
    cursors = con.execute_string(
        "-- a comment; with a semicolon\n"
        "CREATE TABLE s (v VARCHAR); /* block; comment */\n"
        "INSERT INTO s VALUES ($$a;b$$), ('c;d');\n"
        "SELECT v FROM s ORDER BY v;"
    )
    assert cursors[-1].fetchall() == [("a;b",), ("c;d",)]


def test_identifier_rules(con: hoarfrost.Connection) -> None:
    con.execute('CREATE TABLE "MixedCase" (lower_col INT, "quoted" INT)')
    con.execute('INSERT INTO "MixedCase" VALUES (1, 2)')
    cur = con.execute('SELECT lower_col, "quoted" FROM "MixedCase"')
    assert [d[0] for d in cur.description] == ["LOWER_COL", "quoted"]
    with pytest.raises(hoarfrost.ProgrammingError):
        con.execute("SELECT * FROM mixedcase_missing")


def test_databases_schemas_show_describe(con: hoarfrost.Connection) -> None:
    con.execute("CREATE DATABASE sales")
    con.execute("CREATE SCHEMA raw")
    con.execute("CREATE TABLE orders (id INT, amount NUMBER(10,2))")
    con.execute("CREATE VIEW big AS SELECT * FROM orders WHERE amount > 100")
    assert con.execute("SELECT CURRENT_DATABASE(), CURRENT_SCHEMA()").fetchone() == ("SALES", "RAW")
    assert {r[1] for r in con.execute("SHOW DATABASES").fetchall()} >= {"HOARFROST", "SALES"}
    assert {r[1] for r in con.execute("SHOW SCHEMAS").fetchall()} == {
        "PUBLIC",
        "RAW",
        "INFORMATION_SCHEMA",
    }
    assert [r[1] for r in con.execute("SHOW TABLES").fetchall()] == ["ORDERS"]
    assert [r[1] for r in con.execute("SHOW VIEWS").fetchall()] == ["BIG"]
    described = con.execute("DESCRIBE TABLE orders").fetchall()
    assert [(r[0], r[1]) for r in described] == [("ID", "NUMBER(38,0)"), ("AMOUNT", "NUMBER(10,2)")]
    con.execute("USE DATABASE hoarfrost")
    assert con.execute("SELECT count(*) FROM sales.raw.orders").fetchone() == (0,)
    con.execute("DROP DATABASE sales")
    with pytest.raises(hoarfrost.ProgrammingError, match="does not exist"):
        con.execute("USE DATABASE sales")


def test_seed_objects_show_and_describe(seeded: hoarfrost.Connection) -> None:
    cur = seeded.execute("SHOW ARTIFACT REPOSITORIES")
    assert [d[0] for d in cur.description] == [
        "created_on",
        "name",
        "database_name",
        "schema_name",
        "type",
        "api_integration",
        "owner",
        "comment",
    ]
    row = cur.fetchone()
    assert row is not None and row[1:6] == (
        "MY_PYTHON_REPO",
        "HOARFROST",
        "PUBLIC",
        "PYPI",
        "PYTHON_REPO_INTEGRATION",
    )
    cur = seeded.execute("DESCRIBE ARTIFACT REPOSITORY my_python_repo")
    described = dict(zip([d[0] for d in cur.description], cur.fetchone() or (), strict=True))
    assert described["index_url"] == "https://nexus.example.com/repository/pypi-proxy/simple/"
    assert described["authentication_secret"] == "HOARFROST.PUBLIC.MY_REPO_SECRET"
    cur = seeded.execute("DESCRIBE SECRET my_repo_secret")
    assert [d[0] for d in cur.description] == [
        "created_on",
        "name",
        "schema_name",
        "database_name",
        "owner",
        "comment",
        "secret_type",
        "username",
    ]
    row = cur.fetchone()
    assert row is not None and row[6:] == ("PASSWORD", "your_username")
    assert "your_password_or_token" not in repr(row)
    props = {r[0]: r[2] for r in seeded.execute("DESC INTEGRATION python_repo_integration")}
    assert (
        props["API_ALLOWED_PREFIXES"] == "https://nexus.example.com,https://artifactory.example.com"
    )
    assert props["ENABLED"] == "true"
    info = seeded.execute("SELECT SYSTEM$GET_ARTIFACT_REPOSITORY_INFO('my_python_repo')").fetchone()
    assert info is not None and '"index_url": "https://nexus.example.com/' in info[0]


def test_default_repository_precedence(seeded: hoarfrost.Connection) -> None:
    seeded.execute(
        "CREATE ARTIFACT REPOSITORY other TYPE = PYPI API_INTEGRATION = python_repo_integration INDEX_URL = 'https://artifactory.example.com/api/pypi/simple/'"
    )
    q = "SELECT SYSTEM$GET_DEFAULT_PYTHON_ARTIFACT_REPOSITORY('3.11', %s, %s)"
    assert seeded.execute(q, ["schema", "PUBLIC"]).fetchone() == (None,)
    seeded.execute("ALTER ACCOUNT SET DEFAULT_PYTHON_ARTIFACT_REPOSITORY = my_python_repo")
    assert seeded.execute(q, ["schema", "PUBLIC"]).fetchone() == (
        "HOARFROST.PUBLIC.MY_PYTHON_REPO",
    )
    seeded.execute("ALTER SCHEMA public SET DEFAULT_PYTHON_ARTIFACT_REPOSITORY = other")
    assert seeded.execute(q, ["schema", "PUBLIC"]).fetchone() == ("HOARFROST.PUBLIC.OTHER",)
    assert seeded.execute(q, ["account", ""]).fetchone() == ("HOARFROST.PUBLIC.MY_PYTHON_REPO",)
    rows = seeded.execute("SHOW PARAMETERS LIKE 'DEFAULT%' IN SCHEMA public").fetchall()
    assert rows[0][:4] == (
        "DEFAULT_PYTHON_ARTIFACT_REPOSITORY",
        "HOARFROST.PUBLIC.OTHER",
        "",
        "SCHEMA",
    )
    seeded.execute("ALTER SCHEMA public UNSET DEFAULT_PYTHON_ARTIFACT_REPOSITORY")
    assert seeded.execute(q, ["schema", "PUBLIC"]).fetchone() == (
        "HOARFROST.PUBLIC.MY_PYTHON_REPO",
    )


def test_seed_statements_through_api_in_one_script(tmp_path: Path) -> None:
    with hoarfrost.connect(tmp_path / "acct") as con:
        cursors = con.execute_string(";\n".join(SEED_OBJECTS) + ";")
        assert [c.fetchone() for c in cursors] == [
            ("Secret MY_REPO_SECRET successfully created.",),
            ("Integration PYTHON_REPO_INTEGRATION successfully created.",),
            ("Artifact repository MY_PYTHON_REPO successfully created.",),
        ]


def test_privatelink_integration_on_business_critical() -> None:
    from tests.engine.conftest import SEED_PL_INTEGRATION, SEED_SECRET

    with hoarfrost.connect(":memory:", edition="BUSINESS_CRITICAL") as con:
        con.execute(SEED_SECRET)
        con.execute(SEED_PL_INTEGRATION)
        props = {r[0]: r[2] for r in con.execute("DESC INTEGRATION python_repo_integration_pl")}
        assert props["USE_PRIVATELINK_ENDPOINT"] == "true"


def test_closed_connection(con: hoarfrost.Connection) -> None:
    cur = con.cursor()
    con.close()
    with pytest.raises(hoarfrost.InterfaceError):
        cur.execute("SELECT 1")
