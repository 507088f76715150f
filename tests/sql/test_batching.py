"""Which translated statements get their UDF calls evaluated in large batches, and how."""

from __future__ import annotations

import pytest

from hoarfrost.sql.batching import plan

F = '"__HF_UDF_F"(CAST(("X") AS BIGINT))'
G = '"__HF_UDF_G"(CAST(("Y") AS BIGINT))'


def test_aggregate_over_a_table() -> None:
    p = plan(f'SELECT SUM({F}) AS "S" FROM "T"')
    assert p is not None
    (call,) = p.calls
    assert call.duck_name == "__HF_UDF_F" and len(call.args) == 1
    assert p.arguments == ((call.args[0], 'CAST(("X") AS BIGINT)'),)
    assert p.outer == f'SELECT SUM("{call.result}") AS "S" FROM "{p.stream}" AS "T"'
    assert p.inner([]) == f'SELECT CAST(("X") AS BIGINT) AS "{call.args[0]}" FROM "T"'
    assert p.referenced == frozenset()


def test_plain_filters_run_first_and_a_udf_filter_stays_outside() -> None:
    p = plan(f'SELECT {F} AS "B", COUNT(*) FROM "T" WHERE "X" > 3 AND {F} <> 3 GROUP BY {F}')
    assert p is not None and len(p.calls) == 1  # one call, evaluated once per row
    result = p.calls[0].result
    assert p.inner_where == '("X" > 3)'
    assert p.outer == (
        f'SELECT "{result}" AS "B", COUNT(*) FROM "{p.stream}" AS "T" WHERE "{result}" <> 3 '
        f'GROUP BY "{result}"'
    )


def test_a_parenthesised_where_is_split_too() -> None:
    p = plan(f'SELECT COUNT(*) FROM "T" WHERE ("X" > 3 AND ({F} < 10))')
    assert p is not None and p.inner_where == '("X" > 3)'
    assert p.outer.endswith(f'WHERE "{p.calls[0].result}" < 10')


def test_columns_read_by_the_outer_query_are_projected_under_the_table_alias() -> None:
    p = plan(f'SELECT "A"."Y", {F} FROM "DB"."S"."T" AS "A" ORDER BY "Z" LIMIT 5')
    assert p is not None
    assert p.table_sql == '"DB"."S"."T" AS "A"'
    assert p.referenced == frozenset({"y", "z"})
    assert f'FROM "{p.stream}" AS "A" ORDER BY "Z" LIMIT 5' in p.outer
    assert p.inner(["Y", "Z"]).startswith('SELECT "Y", "Z", CAST')


def test_a_schema_qualified_column_in_a_plain_filter_stays_with_the_table() -> None:
    p = plan(f'SELECT {F} FROM "S"."T" WHERE "S"."T"."X" > 0')
    assert p is not None and p.inner_where == '("S"."T"."X" > 0)'


def test_two_functions_and_a_repeated_call() -> None:
    p = plan(f'SELECT {F}, {G}, {F} + 1 FROM "T"')
    assert p is not None
    assert [c.duck_name for c in p.calls] == ["__HF_UDF_F", "__HF_UDF_G"]


@pytest.mark.parametrize(
    "sql",
    [
        f"SELECT {F}",  # no table
        f'SELECT CASE WHEN "X" > 0 THEN {F} END FROM "T"',  # only some rows
        f'SELECT COALESCE("X", {F}) FROM "T"',
        f'SELECT IF("X" > 0, {F}, 0) FROM "T"',
        f'SELECT "X" FROM "T" WHERE "X" > 0 OR {F} > 0',
        f'SELECT "X" FROM "T" WHERE {F} > 0 AND {G} > 0',  # G sees only the rows F kept
        f'SELECT {G} FROM "T" WHERE {F} > 0',
        f'SELECT SUM("X") FROM "T" GROUP BY "Y" HAVING SUM({F}) > 0',
        f'SELECT SUM({F}) FILTER (WHERE "X" > 0) FROM "T"',
        f'SELECT SUM({F}) OVER (PARTITION BY "Y") FROM "T"',
        f'SELECT {F} FROM "T" JOIN "U" ON "T"."X" = "U"."X"',
        f'SELECT {F} FROM "T", "U"',
        f'SELECT {F} FROM (SELECT "X" FROM "T")',
        f'WITH "C" AS (SELECT "X" FROM "T") SELECT {F} FROM "C"',
        f'SELECT {F} FROM "T" WHERE "X" IN (SELECT "X" FROM "U")',
        f'SELECT * FROM "T" WHERE {F} > 0',
        f'SELECT {F} FROM "T" UNION ALL SELECT 1',
        'SELECT "__HF_UDF_F"(SUM("X")) FROM "T"',  # an aggregate as argument
        f'SELECT "__HF_UDF_F"({G}) FROM "T"',  # a call inside a call
        f'SELECT "S"."T"."X", {F} FROM "S"."T"',  # a schema-qualified column
        f"SELECT {F} FROM read_csv('x.csv')",
        'SELECT "X" FROM "T"',  # no UDF at all
        "SELECT (",  # not SQL
    ],
)
def test_shapes_left_to_duckdb(sql: str) -> None:
    assert plan(sql) is None
