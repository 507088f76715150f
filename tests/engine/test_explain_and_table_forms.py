"""What Snowpark sends besides queries (issue 13, item 1): EXPLAIN in its three forms,
SYSTEM$CANCEL_ALL_QUERIES, the parenthesised TABLE(...) forms of session.range /
session.generator / table_function, RESULT_SCAN and LAST_QUERY_ID, qualified temporary tables,
INFORMATION_SCHEMA.PACKAGES."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import hoarfrost


@pytest.fixture
def con() -> Iterator[hoarfrost.Connection]:
    with hoarfrost.connect(":memory:") as connection:
        connection.execute("CREATE TABLE t1 (a INT, b VARCHAR)")
        connection.execute("INSERT INTO t1 VALUES (1, 'x'), (2, 'y')")
        yield connection


def test_explain_text_json_and_tabular(con: hoarfrost.Connection) -> None:
    (text,) = con.execute("EXPLAIN USING TEXT SELECT a, count(*) FROM t1 GROUP BY a").fetchone()
    assert text.startswith("GlobalStats:") and "HOARFROST.PUBLIC.T1" in text
    assert [d[0] for d in con.execute("EXPLAIN USING TEXT SELECT 1").description] == ["content"]
    (content,) = con.execute("EXPLAIN USING JSON SELECT * FROM t1").fetchone()
    plan = json.loads(content)
    assert set(plan) == {"GlobalStats", "Operations"}
    assert any(o["objects"] == "HOARFROST.PUBLIC.T1" for o in plan["Operations"][0])
    cursor = con.execute("EXPLAIN SELECT * FROM t1 WHERE a > 1")
    assert [d[0] for d in cursor.description][:4] == ["step", "id", "parent", "operation"]
    rows = cursor.fetchall()
    assert rows[0][3] == "GlobalStats" and any(r[4] == "HOARFROST.PUBLIC.T1" for r in rows)
    assert con.execute("SELECT count(*) FROM t1").fetchone() == (2,)  # nothing ran or changed


def test_explain_refuses_what_is_not_a_query_and_what_the_role_cannot_read(
    con: hoarfrost.Connection,
) -> None:
    with pytest.raises(hoarfrost.Error) as info:
        con.execute("EXPLAIN USING TEXT DELETE FROM t1")
    assert "EXPLAIN explains queries" in str(info.value)
    with pytest.raises(hoarfrost.Error) as info:
        con.execute("EXPLAIN USING YAML SELECT 1")
    assert "use TEXT, JSON or TABULAR" in str(info.value)
    con.execute("USE ROLE public")
    with pytest.raises(hoarfrost.ProgrammingError) as info:
        con.execute("EXPLAIN SELECT * FROM t1")
    assert "does not exist or not authorized" in str(info.value)


def test_cancel_all_queries_answers(con: hoarfrost.Connection) -> None:
    session_id = con.execute("SELECT CURRENT_SESSION()").fetchone()[0]
    assert con.execute(f"SELECT SYSTEM$CANCEL_ALL_QUERIES({session_id})").fetchone() == (
        "0 queries terminated.",
    )


def test_parenthesised_table_functions(con: hoarfrost.Connection) -> None:
    rng = (
        "SELECT ( ROW_NUMBER()  OVER ( ORDER BY  SEQ8() ) -  1 ) * (1) + (0) AS id "
        "FROM ( TABLE (GENERATOR(ROWCOUNT => 4)))"
    )
    assert con.execute(rng).fetchall() == [(0,), (1,), (2,), (3,)]
    flat = "SELECT value FROM ( TABLE (FLATTEN(INPUT => PARSE_JSON('[5, 6]')))) ORDER BY 1"
    assert [r[0] for r in con.execute(flat).fetchall()] == ["5", "6"]
    joined = (
        "SELECT t1.a, f.value FROM t1 JOIN (TABLE(FLATTEN(PARSE_JSON('[7]')))) f ON TRUE ORDER BY 1"
    )
    assert con.execute(joined).fetchall() == [(1, "7"), (2, "7")]


def test_result_scan_and_last_query_id(con: hoarfrost.Connection) -> None:
    first = con.execute("SELECT a, b FROM t1 ORDER BY a")
    scanned = "SELECT B FROM ( SELECT * FROM TABLE ( RESULT_SCAN('{qid}'))) ORDER BY 1"
    assert con.execute(scanned.format(qid=first.sfqid)).fetchall() == [("x",), ("y",)]
    con.execute("SHOW ROLES")
    names = con.execute(
        'SELECT "name" FROM TABLE(RESULT_SCAN(LAST_QUERY_ID())) WHERE "name" LIKE \'SYS%\''
    ).fetchall()
    assert names == [("SYSADMIN",)]
    with pytest.raises(hoarfrost.ProgrammingError) as info:
        con.execute("SELECT * FROM TABLE(RESULT_SCAN('no-such-query'))")
    assert str(info.value).startswith("000709 (02000): Statement no-such-query not found")


def test_a_qualified_temporary_table_lives_in_its_schema_for_the_session(
    tmp_path: Path,
) -> None:
    home = tmp_path / "acct"
    create = (
        "CREATE TEMP TABLE IF NOT EXISTS "
        'identifier(\'"HOARFROST"."PUBLIC"."SNOWPARK_TEMP_TABLE_AB12"\') ("A" NUMBER(38, 0))'
    )
    with hoarfrost.connect(home) as con:
        con.execute(create)
        con.execute('INSERT INTO "HOARFROST"."PUBLIC"."SNOWPARK_TEMP_TABLE_AB12" VALUES (4)')
        assert con.execute(
            "SELECT a FROM hoarfrost.public.snowpark_temp_table_ab12"
        ).fetchall() == [(4,)]
    with hoarfrost.connect(home) as con:  # gone with its session
        tables = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        assert ("SNOWPARK_TEMP_TABLE_AB12",) not in tables


def test_information_schema_packages_is_a_valid_view(con: hoarfrost.Connection) -> None:
    cursor = con.execute(
        "SELECT package_name, array_agg(version) FROM information_schema.packages "
        "WHERE language = 'python' AND package_name IN ('numpy') GROUP BY package_name"
    )
    assert cursor.fetchall() == []  # nothing fetched yet in this account
    assert [d[0] for d in con.execute("SELECT * FROM information_schema.packages").description] == [
        "PACKAGE_NAME",
        "VERSION",
        "LANGUAGE",
    ]


def test_create_table_with_a_column_list_as_select(con: hoarfrost.Connection) -> None:
    # what Snowpark's save_as_table sends in its overwrite / errorifexists / ignore modes
    con.execute(
        'CREATE  OR  REPLACE    TABLE  "HOARFROST"."PUBLIC"."SAVED"("ID" BIGINT NOT NULL , '
        '"NAME" STRING(16777216) )    AS  SELECT  *  FROM ( SELECT a, b FROM t1 )'
    )
    assert con.execute("SELECT id, name FROM saved ORDER BY id").fetchall() == [(1, "x"), (2, "y")]
    described = {r[0]: r[1] for r in con.execute("DESCRIBE TABLE saved").fetchall()}
    assert described == {"ID": "NUMBER(38,0)", "NAME": "VARCHAR(16777216)"}
    con.execute("CREATE TABLE IF NOT EXISTS saved (id INT) AS SELECT 99")  # exists: kept
    assert con.execute("SELECT count(*) FROM saved").fetchone() == (2,)
