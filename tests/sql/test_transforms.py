"""Each transform on its own: what it rewrites, what it leaves alone, and that DuckDB runs it."""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pytest
import sqlglot
from sqlglot import exp
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from hoarfrost.sql import transforms as t
from hoarfrost.sql import transforms_functions as tf


def tree(sql: str) -> exp.Expr:
    """Parsed and normalised as translate() hands trees to the transforms."""
    return normalize_identifiers(sqlglot.parse_one(sql, read="snowflake"), dialect="snowflake")


def duck(node: exp.Expr) -> str:
    return node.sql(dialect="duckdb")


def apply(transform: t.Transform, sql: str) -> str:
    return duck(transform(tree(sql)))


def run(sql: str) -> Any:
    """The first value DuckDB computes for a fully transformed statement."""
    node = tree(sql)
    for transform in t.TRANSFORMS:
        node = transform(node)
    return duckdb.connect().execute(duck(node)).fetchall()[0][0]


def test_pipeline_is_ordered_and_complete() -> None:
    assert t.TRANSFORMS.index(t.casts_to_variant) < t.TRANSFORMS.index(t.semi_structured_types)
    assert t.TRANSFORMS.index(t.variant_access) < t.TRANSFORMS.index(t.variant_casts)
    public = {name for name in dir(t) if callable(getattr(t, name)) and not name.startswith("_")}
    # the DDL and function transforms live in modules of their own, listed there
    public |= {f.__name__ for f in (*tf.EARLY_FUNCTION_TRANSFORMS, *tf.FUNCTION_TRANSFORMS)}
    assert {f.__name__ for f in t.TRANSFORMS} <= public


def test_casts_to_variant() -> None:
    assert apply(t.casts_to_variant, "select 'a'::variant, to_variant(1), x::int") == (
        "SELECT TO_JSON('a'), TO_JSON(1), CAST(X AS INT)"
    )
    assert json.loads(run("select 'a'::variant")) == "a"


def test_semi_structured_types() -> None:
    out = apply(t.semi_structured_types, "create table x (a variant, b object, c array, d int)")
    assert out == "CREATE TABLE X (A JSON, B JSON, C JSON, D INT)"


def test_integer_types() -> None:
    out = apply(t.integer_types, "create table x (a int, b smallint, c number, d bigint)")
    assert out == "CREATE TABLE X (A BIGINT, B BIGINT, C DECIMAL(38, 0), D BIGINT)"
    assert run("select 3000000000::int") == 3_000_000_000


def test_variant_constructors() -> None:
    out = apply(t.variant_constructors, "select object_construct('k', array_construct(1, 'a'))")
    assert out == "SELECT JSON_OBJECT('k', JSON_ARRAY(1, 'a'))"
    assert json.loads(run("select split('a,b', ',')")) == ["a", "b"]
    # OBJECT_CONSTRUCT leaves out keys whose value is NULL; OBJECT_CONSTRUCT_KEEP_NULL keeps them
    assert json.loads(run("select object_construct('k', null, 'j', 1)")) == {"j": 1}
    assert json.loads(run("select object_construct_keep_null('k', null)")) == {"k": None}


def test_array_agg_to_json() -> None:
    out = apply(t.array_agg_to_json, "select array_agg(a) within group (order by a) from x")
    assert out.startswith("SELECT TO_JSON(ARRAY_AGG(A ORDER BY A)")
    window = apply(t.array_agg_to_json, "select array_agg(a) over (partition by b) from x")
    assert window.startswith("SELECT TO_JSON(ARRAY_AGG(A)")
    assert window.endswith("OVER (PARTITION BY B)) FROM X")
    assert json.loads(run("select array_agg(x) from values (2), (1) v(x)")) in ([2, 1], [1, 2])


def test_variant_access() -> None:
    out = apply(t.variant_access, "select v[0], v['k'][1], get(v, 'a'), get(v, i)")
    assert out == (
        "SELECT V -> '$[0]', V -> '$.k[1]', V -> '$.a', "
        "JSON_EXTRACT(TO_JSON(V), '$[' || CAST(I AS TEXT) || ']')"
    )
    assert run("select get(parse_json('[7, 8]'), 1)::int") == 8
    assert run("select get(parse_json('[7, 8]'), 2 - 2)::int") == 7


def test_array_size() -> None:
    assert apply(t.array_size, "select array_size(v)") == (
        "SELECT CASE WHEN JSON_TYPE(TO_JSON(V)) = 'ARRAY' THEN JSON_ARRAY_LENGTH(TO_JSON(V)) END"
    )
    assert run("select array_size(parse_json('{\"a\": 1}'))") is None
    assert run("select array_size(parse_json('[1, 2, 3]'))") == 3


@pytest.mark.parametrize(
    ("value", "name"),
    [("1", "INTEGER"), ("1.5", "DECIMAL"), ('"s"', "VARCHAR"), ("true", "BOOLEAN"),
     ("{}", "OBJECT"), ("[]", "ARRAY"), ("null", "NULL_VALUE")],
)  # fmt: skip
def test_typeof(value: str, name: str) -> None:
    assert "JSON_TYPE" in apply(t.typeof, "select typeof(v)")
    assert run(f"select typeof(parse_json('{value}'))") == name


def test_variant_casts() -> None:
    out = apply(t.variant_casts, "select v:a::string, v:a::int, v::string, 1::string")
    assert out.startswith("SELECT CAST(V ->> '$.a' AS TEXT), CAST(V ->> '$.a' AS INT), CASE WHEN")
    assert out.endswith("CAST(1 AS TEXT)")
    assert run("""select parse_json('{"a": "x"}'):a::string""") == "x"
    assert run("""select parse_json('{"a": "12"}'):a::int""") == 12
    assert run("select parse_json('\"q\"')::string") == "q"


def test_variant_comparisons() -> None:
    out = apply(t.variant_comparisons, "select v:a = 'x', 'x' <> v:a, v:a = 1")
    assert out == "SELECT (V ->> '$.a') = 'x', 'x' <> (V ->> '$.a'), (V -> '$.a') = 1"
    assert run("""select parse_json('{"a": "x"}'):a = 'x'""") is True


def test_flatten() -> None:
    out = apply(t.flatten, "select f.value from x, lateral flatten(input => x.v) f")
    # unnested in a projection, which keeps the elements' order (a lateral json_each does not)
    assert "UNNEST(CASE WHEN JSON_TYPE(TO_JSON(X.V)) = 'ARRAY'" in out and 'AS "VALUE"' in out
    assert out.endswith("AS F(SEQ, KEY, PATH, INDEX, VALUE, THIS)")
    table = apply(t.flatten, "select * from table(flatten(input => v, outer => true))")
    assert "LEFT JOIN JSON_EACH" in table
    assert run("select count(*) from table(flatten(input => parse_json('[1, 2, 3]')))") == 3
    assert run("select count(*) from table(flatten(input => parse_json('5')))") == 0
    ordered = "select list(value) from table(flatten(input => parse_json('[3, 1, 2]')))"
    assert run(ordered) == ["3", "1", "2"]


def test_values_columns() -> None:
    out = apply(t.values_columns, "select $2, $1 from values (1, 'a')")
    assert out == (
        'SELECT "COLUMN2", "COLUMN1" FROM (VALUES (1, \'a\')) AS "VALUES"(COLUMN1, COLUMN2)'
    )
    kept = apply(t.values_columns, "select x from values (1) v(x)")
    assert kept == "SELECT X FROM (VALUES (1)) AS V(X)"
    assert run("select $2 from values (1, 'a')") == "a"


def test_dateadd_keeps_dates() -> None:
    date = apply(t.dateadd_keeps_dates, "select dateadd(day, 1, '2024-01-01'::date)")
    assert date.startswith("SELECT CAST(") and date.endswith("AS DATE)")
    hour = apply(t.dateadd_keeps_dates, "select dateadd(hour, 1, '2024-01-01'::date)")
    assert not hour.endswith("AS DATE)")
    column = apply(t.dateadd_keeps_dates, "select dateadd(day, 1, d)")
    assert not column.endswith("AS DATE)")


def test_information_schema() -> None:
    out = apply(t.information_schema, "select table_name from db.information_schema.tables")
    assert "system.information_schema.tables" in out and "= 'DB'" in out
    assert "CURRENT_DATABASE()" in apply(
        t.information_schema, "select * from information_schema.columns"
    )
    untouched = "SELECT * FROM INFORMATION_SCHEMA.QUERY_HISTORY"
    assert apply(t.information_schema, untouched) == untouched
    assert run("select count(*) from information_schema.schemata") == 1  # INFORMATION_SCHEMA


def test_current_time_functions() -> None:
    out = apply(t.current_time_functions, "select current_date, current_timestamp, sysdate()")
    assert out == (
        "SELECT CURRENT_DATE(), GET_CURRENT_TIMESTAMP(), TIMEZONE('UTC', GET_CURRENT_TIMESTAMP())"
    )
    assert run("select current_date as current_date") is not None


def test_transforms_do_not_touch_plain_sql() -> None:
    sql = "select a, b + 1 from x join y on x.id = y.id where c = 'v' order by a"
    for transform in t.TRANSFORMS:
        assert apply(transform, sql) == duck(tree(sql)), transform.__name__
