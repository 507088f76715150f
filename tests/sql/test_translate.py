"""End-to-end: Snowflake SQL -> translate() -> an in-memory DuckDB laid out as the engine does
(database HOARFROST attached under its Snowflake name, schema PUBLIC, ``USE HOARFROST.PUBLIC``)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import duckdb
import pytest

from hoarfrost.errors import Error, SqlSyntaxError, UnsupportedFeature
from hoarfrost.sql.translate import Translation, dml_counts, translate


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS \"HOARFROST\"")
    con.execute('CREATE SCHEMA "HOARFROST"."PUBLIC"')
    con.execute('USE "HOARFROST"."PUBLIC"')
    yield con
    con.close()


def run(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run like the engine: every statement in order, the last one's result is the answer."""
    translation = translate(sql)
    result = con
    for statement in translation.statements:
        result = con.execute(statement)
    rows = result.fetchall()
    if translation.count_columns:
        return list(translation.count_columns), [dml_counts(translation, rows)]
    return [d[0] for d in result.description or []], rows


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return run(con, sql)[1]


def one(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    return rows(con, sql)[0][0]


@pytest.fixture
def people(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    run(con, "create table people (id int, name string, dept varchar(10), salary number(10,2))")
    run(
        con,
        "insert into people values (1, 'ann', 'eng', 100), (2, 'bob', 'eng', 80),"
        " (3, 'cid', 'ops', 90), (4, 'dee', null, null)",
    )
    return con


# --- the Translation itself ------------------------------------------------------------------


def test_translation_fields() -> None:
    t = translate("insert into t values (1)")
    assert isinstance(t, Translation)
    assert t.kind == "insert"
    assert t.count_columns == ("number of rows inserted",)
    assert t.sql == 'INSERT INTO "T" VALUES (1)'
    assert translate("select 1").kind == "query"
    assert translate("update t set a = 1").count_columns[0] == "number of rows updated"
    assert translate("delete from t").count_columns == ("number of rows deleted",)


@pytest.mark.parametrize(
    ("sql", "status"),
    [
        ("create table t (a int)", "Table T successfully created."),
        ("create or replace view v as select 1 x", "View V successfully created."),
        ("drop table if exists t", "T successfully dropped."),
        ("alter table t add column b int", "Statement executed successfully."),
    ],
)
def test_ddl_status(sql: str, status: str) -> None:
    t = translate(sql)
    assert (t.kind, t.status) == ("ddl", status)


# --- identifiers -----------------------------------------------------------------------------


def test_unquoted_upper_quoted_kept(con: duckdb.DuckDBPyConnection) -> None:
    run(con, 'create table MixedCase (a int, "b" int)')
    run(con, "insert into mixedcase values (1, 2)")
    assert run(con, 'select a, "b" from MIXEDCASE') == (["A", "b"], [(1, 2)])
    assert rows(con, "select table_name from information_schema.tables") == [("MIXEDCASE",)]


def test_expression_columns_named_as_snowflake(people: duckdb.DuckDBPyConnection) -> None:
    columns, _ = run(people, "select count(*), max(salary) + 1, 'x' from people")
    assert columns == ["COUNT(*)", "MAX(SALARY) + 1", "'X'"]
    columns, _ = run(people, 'select "ID" is null, id, name n, iff(id > 1, 1, 0) from people')
    assert columns == ['"ID" IS NULL', "ID", "N", "IFF(ID > 1, 1, 0)"]
    assert run(people, "select distinct top 1 upper(name) from people")[0] == ["UPPER(NAME)"]


def test_three_part_names(con: duckdb.DuckDBPyConnection) -> None:
    run(con, "create table hoarfrost.public.t (a int)")
    run(con, "insert into Hoarfrost.Public.T values (5)")
    assert one(con, "select a from hoarfrost.public.t") == 5


# --- DDL -------------------------------------------------------------------------------------


def test_create_table_with_snowflake_types(con: duckdb.DuckDBPyConnection) -> None:
    run(
        con,
        "create or replace table t (a number(10,2), b number, c int, d varchar(10), e string,"
        " f text, g float, h double, i boolean, j date, k time, l timestamp_ntz,"
        " m timestamp_ltz, n timestamp_tz, o binary, p variant, q object, r array)",
    )
    run(
        con,
        "insert into t select 1.5, 2, 3, 'd', 'e', 'f', 1.25, 2.5, true, '2024-01-02',"
        " '03:04:05', '2024-01-02 03:04:05', '2024-01-02 03:04:05', '2024-01-02 03:04:05',"
        " to_binary('ab', 'utf-8'), parse_json('{\"k\": 1}'), object_construct('a', 1),"
        " array_construct(1, 2)",
    )
    row = rows(con, "select a, b, c, d, g, i, j, k, l, p, q, r from t")[0]
    assert row[:4] == (Decimal("1.50"), Decimal("2"), 3, "d")
    assert row[4:9] == (1.25, True, datetime.date(2024, 1, 2), datetime.time(3, 4, 5),
                        datetime.datetime(2024, 1, 2, 3, 4, 5))  # fmt: skip
    assert [json.loads(v) for v in row[9:]] == [{"k": 1}, {"a": 1}, [1, 2]]
    types = dict(rows(con, "select column_name, data_type from information_schema.columns"))
    assert types["A"] == "NUMBER" and types["D"] == "TEXT" and types["G"] == "FLOAT"
    assert (
        types["L"] == "TIMESTAMP_NTZ" and types["N"] == "TIMESTAMP_TZ" and types["P"] == "VARIANT"
    )
    assert types["O"] == "BINARY" and types["I"] == "BOOLEAN"


def test_int_columns_hold_numbers_beyond_32_bits(con: duckdb.DuckDBPyConnection) -> None:
    run(con, "create table t (a int)")
    run(con, "insert into t values (10000000000)")
    assert one(con, "select a from t") == 10_000_000_000


def test_ctas_view_drop(people: duckdb.DuckDBPyConnection) -> None:
    run(people, "create table eng as select id, name from people where dept = 'eng'")
    run(people, "create or replace view v_eng as select name from eng order by name")
    assert rows(people, "select * from v_eng") == [("ann",), ("bob",)]
    run(people, "drop view v_eng")
    run(people, "drop view if exists v_eng")
    run(people, "drop table if exists eng")
    with pytest.raises(duckdb.CatalogException):
        run(people, "select * from eng")


def test_alter_table_columns(people: duckdb.DuckDBPyConnection) -> None:
    assert len(translate("alter table people add column x int, y string").statements) == 2
    run(people, "alter table people add column x int, y string")
    run(people, "alter table people rename column x to z")
    run(people, "alter table people drop column y")
    assert run(people, "select * from people limit 0")[0] == ["ID", "NAME", "DEPT", "SALARY", "Z"]


# --- DML -------------------------------------------------------------------------------------


def test_insert_forms_and_counts(con: duckdb.DuckDBPyConnection) -> None:
    run(con, "create table t (a int, b string)")
    assert run(con, "insert into t values (1, 'x')") == (["number of rows inserted"], [(1,)])
    assert rows(con, "insert into t (a, b) values (2, 'y'), (3, null)") == [(2,)]
    assert rows(con, "insert into t select a + 10, b from t") == [(3,)]
    assert one(con, "select count(*) from t") == 6


def test_insert_overwrite_replaces_rows(con: duckdb.DuckDBPyConnection) -> None:
    run(con, "create table t (a int)")
    run(con, "insert into t values (1), (2)")
    assert rows(con, "insert overwrite into t values (9)") == [(1,)]
    assert rows(con, "select a from t") == [(9,)]


def test_update_delete_counts(people: duckdb.DuckDBPyConnection) -> None:
    assert run(people, "update people set salary = salary * 2 where dept = 'eng'") == (
        ["number of rows updated", "number of multi-joined rows updated"],
        [(2, 0)],
    )
    assert run(people, "delete from people where salary is null") == (
        ["number of rows deleted"],
        [(1,)],
    )
    assert one(people, "select sum(salary) from people") == Decimal("450.00")


def test_merge_reports_each_action(people: duckdb.DuckDBPyConnection) -> None:
    sql = (
        "merge into people p using (select 1 id, 'ANN' name union all select 4, 'x'"
        " union all select 9, 'new') s on p.id = s.id"
        " when matched and s.id = 4 then delete"
        " when matched then update set name = s.name"
        " when not matched then insert (id, name) values (s.id, s.name)"
    )
    assert run(people, sql) == (
        ["number of rows inserted", "number of rows updated", "number of rows deleted"],
        [(1, 1, 1)],
    )
    assert rows(people, "select id, name from people order by id") == [
        (1, "ANN"), (2, "bob"), (3, "cid"), (9, "new")
    ]  # fmt: skip
    assert translate(
        "merge into t using s on t.a = s.a when matched then update set b = 1"
    ).count_columns == ("number of rows updated",)


# --- queries ---------------------------------------------------------------------------------


def test_joins_group_by_having(people: duckdb.DuckDBPyConnection) -> None:
    run(people, "create table depts (code string, title string)")
    run(people, "insert into depts values ('eng', 'Engineering'), ('ops', 'Operations')")
    sql = (
        "select d.title, count(*) n, sum(p.salary) total from people p"
        " join depts d on p.dept = d.code group by d.title having count(*) > 1"
    )
    assert rows(people, sql) == [("Engineering", 2, Decimal("180.00"))]
    left = "select p.name, d.title from people p left join depts d on p.dept = d.code order by 1"
    assert rows(people, left)[-1] == ("dee", None)


def test_qualify_window_cte(people: duckdb.DuckDBPyConnection) -> None:
    sql = (
        "with ranked as (select name, dept, salary,"
        " rank() over (partition by dept order by salary desc) r from people)"
        " select name, r from ranked where dept is not null"
        " qualify row_number() over (partition by dept order by salary desc) = 1 order by name"
    )
    assert rows(people, sql) == [("ann", 1), ("cid", 1)]
    running = "select id, sum(id) over (order by id rows unbounded preceding) s from people"
    assert [r[1] for r in rows(people, running)] == [1, 3, 6, 10]


def test_limit_offset_top_nulls(people: duckdb.DuckDBPyConnection) -> None:
    assert rows(people, "select id from people order by id limit 2 offset 1") == [(2,), (3,)]
    assert rows(people, "select top 1 id from people order by id desc") == [(4,)]
    first = "select name from people order by salary nulls first limit 1"
    last = "select name from people order by salary desc nulls last limit 1"
    assert (one(people, first), one(people, last)) == ("dee", "ann")


def test_order_by_all(people: duckdb.DuckDBPyConnection) -> None:
    # Every select item, left to right; DESC puts NULLs first, as Snowflake's DESC does.
    by_all = "select dept, name from people order by all"
    assert rows(people, by_all) == [("eng", "ann"), ("eng", "bob"), ("ops", "cid"), (None, "dee")]
    down = "select dept, id from people order by all desc"
    assert rows(people, down) == [(None, 4), ("ops", 3), ("eng", 2), ("eng", 1)]
    # A quoted "ALL" is a column like any other.
    run(people, 'create table words ("ALL" int, b int)')
    run(people, "insert into words values (2, 1), (1, 2)")
    assert rows(people, 'select b from words order by "ALL"') == [(2,), (1,)]


# --- functions -------------------------------------------------------------------------------

FUNCTIONS = [
    ("iff(1 > 0, 'y', 'n')", "y"),
    ("nvl(null, 2)", 2),
    ("nvl2(null, 1, 2)", 2),
    ("zeroifnull(null)", 0),
    ("coalesce(null, null, 3)", 3),
    ("decode(2, 1, 'one', 2, 'two', 'other')", "two"),
    ("decode(null, null, 'null matched', 'no')", "null matched"),
    ("ifnull(null, 4)", 4),
    ("div0(1, 0)", 0),
    ("split_part('a,b,c', ',', 2)", "b"),
    ("contains('abc', 'b')", True),
    ("startswith('abc', 'a')", True),
    ("endswith('abc', 'x')", False),
    ("len('abc')", 3),
    ("length('abcd')", 4),
    ("upper('a') || lower('B')", "Ab"),
    ("trim('  x ')", "x"),
    ("substr('abcdef', 2, 3)", "bcd"),
    ("concat('a', 'b', 'c')", "abc"),
    ("replace('abc', 'b', 'x')", "axc"),
    ("lpad('7', 3, '0')", "007"),
    ("dateadd(day, 1, '2024-01-31'::date)", datetime.date(2024, 2, 1)),
    ("dateadd(month, 1, to_date('2024-01-31'))", datetime.date(2024, 2, 29)),
    ("dateadd(hour, 2, '2024-01-01 10:00:00'::timestamp_ntz)", datetime.datetime(2024, 1, 1, 12)),
    ("datediff(day, '2024-01-01'::date, '2024-03-01'::date)", 60),
    ("date_trunc('month', '2024-03-15'::date)", datetime.date(2024, 3, 1)),
    ("to_date('2024-01-02')", datetime.date(2024, 1, 2)),
    ("to_timestamp('2024-01-02 03:04:05')", datetime.datetime(2024, 1, 2, 3, 4, 5)),
    ("to_char('2024-01-02'::date, 'YYYY-MM-DD')", "2024-01-02"),
    ("to_varchar(12)", "12"),
    ("to_number('12.5', 10, 2)", Decimal("12.50")),
    ("try_cast('x' as int)", None),
    ("md5('a')", "0cc175b9c0f1b6a831c399e269772661"),
    ("sha2('a')", "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"),
    ("round(2.5)", Decimal("3")),
    ("trunc(1.56, 1)", Decimal("1.5")),
    ("ceil(1.2)", Decimal("2")),
    ("floor(1.8)", Decimal("1")),
    ("'1'::int + 1", 2),
]


@pytest.mark.parametrize(("expression", "expected"), FUNCTIONS)
def test_scalar_function(con: duckdb.DuckDBPyConnection, expression: str, expected: Any) -> None:
    assert one(con, f"select {expression}") == expected


def test_current_time_functions(con: duckdb.DuckDBPyConnection) -> None:
    columns, [row] = run(con, "select current_date, current_timestamp, sysdate(), uuid_string()")
    assert columns == ["CURRENT_DATE", "CURRENT_TIMESTAMP", "SYSDATE()", "UUID_STRING()"]
    assert isinstance(row[0], datetime.date) and row[1].tzinfo is not None
    assert row[2].tzinfo is None and len(row[3]) == 36


def test_hash_is_an_integer(con: duckdb.DuckDBPyConnection) -> None:
    assert isinstance(one(con, "select hash(1)"), int)


def test_aggregates(people: duckdb.DuckDBPyConnection) -> None:
    sql = (
        "select listagg(name, ',') within group (order by name), array_agg(id) within group"
        " (order by id), count_if(salary > 85), median(salary), any_value(dept) is not null"
        " from people where dept is not null"
    )
    listagg, array_agg, count_if, median, any_value = rows(people, sql)[0]
    assert (listagg, json.loads(array_agg), count_if) == ("ann,bob,cid", [1, 2, 3], 2)
    assert (median, any_value) == (90, True)


# --- VALUES, Snowpark ------------------------------------------------------------------------


def test_positional_columns_over_values(con: duckdb.DuckDBPyConnection) -> None:
    assert run(con, "select $1, $2 from values (1, 'a'), (2, 'b')") == (
        ["$1", "$2"],
        [(1, "a"), (2, "b")],
    )
    snowpark = 'SELECT $1 AS "A", $2 AS "B" FROM VALUES (1 :: INT, \'x\' :: STRING)'
    assert run(con, snowpark) == (["A", "B"], [(1, "x")])
    assert run(con, "select * from values (1, 2)")[0] == ["COLUMN1", "COLUMN2"]


# --- semi-structured -------------------------------------------------------------------------


def test_variant_paths(con: duckdb.DuckDBPyConnection) -> None:
    run(con, "create table docs (v variant)")
    run(con, 'insert into docs select parse_json(\'{"a": {"b": "x"}, "c": [10, 20]}\')')
    assert rows(con, "select v:a.b::string, v:c[1]::int, v['a']['b']::string from docs") == [
        ("x", 20, "x")
    ]
    assert json.loads(one(con, "select v:a from docs")) == {"b": "x"}
    assert one(con, "select count(*) from docs where v:a.b = 'x'") == 1
    assert one(con, "select get(v, 'c')[0]::int + get_path(v, 'c[1]')::int from docs") == 30
    assert one(con, "select array_size(v:c) from docs") == 2
    assert one(con, "select v:missing::string from docs") is None


def test_variant_constructors(con: duckdb.DuckDBPyConnection) -> None:
    obj, arr, var, size, typ = rows(
        con,
        "select object_construct('a', 1, 'b', array_construct(1, 'x')),"
        " array_construct(1, 'two', null), to_variant('s'), array_size(array_construct(1, 2)),"
        " typeof(parse_json('{}'))",
    )[0]
    assert json.loads(obj) == {"a": 1, "b": [1, "x"]}
    assert json.loads(arr) == [1, "two", None]
    assert (json.loads(var), size, typ) == ("s", 2, "OBJECT")
    assert one(con, "select 'abc'::variant::string") == "abc"


def test_flatten(con: duckdb.DuckDBPyConnection) -> None:
    run(con, "create table orders (id int, items variant)")
    run(con, 'insert into orders select 1, parse_json(\'["a", "b"]\')')
    run(con, "insert into orders select 2, parse_json('[]')")
    sql = (
        "select o.id, f.index, f.value::string from orders o, lateral flatten(input => o.items) f"
        " order by o.id, f.index"
    )
    assert rows(con, sql) == [(1, 0, "a"), (1, 1, "b")]
    outer = "select o.id, f.value from orders o, lateral flatten(input => o.items, outer => true) f"
    assert sorted(rows(con, outer), key=str)[-1] == (2, None)
    keys = 'select key, value::int from table(flatten(input => parse_json(\'{"x": 1, "y": 2}\')))'
    assert sorted(rows(con, keys)) == [("x", 1), ("y", 2)]
    path = "select value::int from table(flatten(input => parse_json('{\"a\": [5]}'), path => 'a'))"
    assert rows(con, path) == [(5,)]


# --- INFORMATION_SCHEMA ----------------------------------------------------------------------


def test_information_schema(con: duckdb.DuckDBPyConnection) -> None:
    run(con, "create table t (a int, b string)")
    run(con, "create view v as select a from t")
    tables = "select table_name, table_type from hoarfrost.information_schema.tables order by 1"
    assert rows(con, tables) == [("T", "BASE TABLE"), ("V", "VIEW")]
    columns = (
        "select column_name, ordinal_position, data_type, numeric_precision, numeric_scale"
        " from information_schema.columns where table_name = 'T' order by ordinal_position"
    )
    assert rows(con, columns) == [("A", 1, "NUMBER", 38, 0), ("B", 2, "TEXT", None, None)]
    schemata = "select schema_name from HOARFROST.INFORMATION_SCHEMA.SCHEMATA order by 1"
    assert rows(con, schemata) == [("INFORMATION_SCHEMA",), ("PUBLIC",)]
    assert rows(con, "select table_name from information_schema.views") == [("V",)]
    assert run(con, "select * from information_schema.tables limit 0")[0][:3] == [
        "TABLE_CATALOG", "TABLE_SCHEMA", "TABLE_NAME"
    ]  # fmt: skip


def test_information_schema_of_another_database(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("ATTACH ':memory:' AS \"OTHER\"")
    con.execute('CREATE TABLE "OTHER"."main"."HIDDEN" (a INT)')
    con.execute('CREATE SCHEMA "OTHER"."S"')
    con.execute('CREATE TABLE "OTHER"."S"."X" (a INT)')
    assert rows(con, "select table_schema, table_name from other.information_schema.tables") == [
        ("S", "X")
    ]
    assert rows(con, "select table_name from information_schema.tables") == []


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("select * fro t", "syntax error line 1 at position 13 unexpected 't'."),
        ("select 1 from", "syntax error line 1 at position"),
        ("select 'abc", "syntax error line 1 at position 0 unexpected '<EOF>'."),
        ("select (1", "syntax error line 1"),
    ],
)
def test_syntax_errors(sql: str, message: str) -> None:
    with pytest.raises(SqlSyntaxError) as info:
        translate(sql)
    assert info.value.msg.startswith("SQL compilation error:\n")
    assert message in info.value.msg
    assert str(info.value).startswith("001003 (42000): ")


def test_empty_statement() -> None:
    with pytest.raises(SqlSyntaxError) as info:
        translate("  ")
    assert info.value.errno == 900 and "Empty SQL statement." in info.value.msg


def test_several_statements_are_refused() -> None:
    with pytest.raises(SqlSyntaxError):
        translate("select 1; select 2")


def test_opaque_commands_are_unsupported() -> None:
    with pytest.raises(UnsupportedFeature):
        translate("put file:///tmp/x @stage")


@pytest.mark.parametrize(
    "sql",
    ["select", "select ::", "create table", "merge into", "select v:", "select $", "'", '"',
     "select * from t where", "insert into t values (", "select 1 +", "\x00", "select [1,"],
)  # fmt: skip
def test_bad_input_raises_only_our_errors(sql: str) -> None:
    try:
        translate(sql)
    except Error:
        pass


@pytest.mark.parametrize(
    ("snowflake", "duckdb_sql"),
    [
        (
            "SELECT * FROM t WHERE a NOT LIKE '%x%'",
            """SELECT * FROM "T" WHERE "A" NOT LIKE '%x%'""",
        ),
        ("SELECT * FROM t WHERE a NOT ILIKE 'x'", """SELECT * FROM "T" WHERE "A" NOT ILIKE 'x'"""),
        ("SELECT * FROM t WHERE a IS NOT NULL", 'SELECT * FROM "T" WHERE "A" IS NOT NULL'),
        ("SELECT * FROM t WHERE a NOT IN (1, 2)", 'SELECT * FROM "T" WHERE "A" NOT IN (1, 2)'),
        (
            "SELECT * FROM t WHERE a NOT BETWEEN 1 AND 2",
            'SELECT * FROM "T" WHERE "A" NOT BETWEEN 1 AND 2',
        ),
        (
            "SELECT * FROM t WHERE a NOT IN (SELECT b FROM u)",
            'SELECT * FROM "T" WHERE "A" NOT IN (SELECT "B" FROM "U")',
        ),
        (
            "SELECT * FROM t WHERE a <> ALL (SELECT b FROM u)",
            'SELECT * FROM "T" WHERE "A" NOT IN (SELECT "B" FROM "U")',
        ),
        (
            "SELECT * FROM t WHERE NOT (a = 1 OR b = 2)",
            'SELECT * FROM "T" WHERE NOT ("A" = 1 OR "B" = 2)',
        ),
    ],
)
def test_negated_predicates_keep_duckdbs_form(snowflake: str, duckdb_sql: str) -> None:
    # `NOT x LIKE y` loses DuckDB's NOT LIKE fast path (TPC-H Q13, issue 15).
    assert translate(snowflake).sql == duckdb_sql
