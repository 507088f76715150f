"""Which translated statements get their UDF calls evaluated in large batches, and how."""

from __future__ import annotations

import pytest

from hoarfrost.sql.batching import Site, plan

F = '"__HF_UDF_F"(CAST(("X") AS BIGINT))'
G = '"__HF_UDF_G"(CAST(("Y") AS BIGINT))'


def _site(sql: str) -> tuple[Site, str]:
    p = plan(sql)
    assert p is not None and len(p.sites) == 1
    return p.sites[0], p.outer


def test_aggregate_over_a_table() -> None:
    site, outer = _site(f'SELECT SUM({F}) AS "S" FROM "T"')
    (call,) = site.calls
    assert call.duck_name == "__HF_UDF_F" and len(call.args) == 1 and call.guard is None
    assert site.arguments == ((call.args[0], 'CAST(("X") AS BIGINT)'),)
    assert outer == f'SELECT SUM("{call.result}") AS "S" FROM "{site.stream}"'
    assert site.inner([]) == f'SELECT CAST(("X") AS BIGINT) AS "{call.args[0]}" FROM "T"'
    assert site.probe == 'SELECT * FROM "T" LIMIT 0'
    assert site.referenced == frozenset() and site.qualified == ()


def test_an_argument_that_is_a_cast_column_may_read_the_column() -> None:
    site, _ = _site(f'SELECT SUM(CASE WHEN "X" > 0 THEN {F} END) AS "S" FROM "T"')
    (call,) = site.calls
    assert site.casts == ((call.args[0], "X", "BIGINT"),)  # used when X is a BIGINT already
    assert site.inner(["X"], frozenset(call.args)) == (
        f'SELECT "X", (("X" > 0) IS TRUE) AS "{call.guard}" FROM "T"'
    )
    qualified, _ = _site(
        'SELECT SUM("__HF_UDF_F"(CAST(("A"."X") AS BIGINT))) AS "S" FROM "T" AS "A"'
    )
    assert qualified.casts == ()  # only unqualified columns are projected as they are


def test_plain_filters_run_first_and_a_udf_filter_stays_outside() -> None:
    site, outer = _site(
        f'SELECT {F} AS "B", COUNT(*) FROM "T" WHERE "X" > 3 AND {F} <> 3 GROUP BY {F}'
    )
    assert len(site.calls) == 1  # one call, evaluated once per row
    result = site.calls[0].result
    assert site.inner_where == '("X" > 3)'
    assert outer == (
        f'SELECT "{result}" AS "B", COUNT(*) FROM "{site.stream}" WHERE "{result}" <> 3 '
        f'GROUP BY "{result}"'
    )


def test_a_parenthesised_where_is_split_too() -> None:
    site, outer = _site(f'SELECT COUNT(*) FROM "T" WHERE ("X" > 3 AND ({F} < 10))')
    assert site.inner_where == '("X" > 3)'
    assert outer.endswith(f'WHERE "{site.calls[0].result}" < 10')


def test_unqualified_columns_keep_their_names_and_qualified_ones_get_their_own() -> None:
    site, outer = _site(f'SELECT "A"."Y", {F} AS "F" FROM "DB"."S"."T" AS "A" ORDER BY "Z" LIMIT 5')
    assert site.probe == 'SELECT * FROM "DB"."S"."T" AS "A" LIMIT 0'
    assert site.referenced == frozenset({"z"})
    ((column, text),) = site.qualified
    assert text == '"A"."Y"'
    assert outer.startswith(f'SELECT "{column}" AS "Y", "{site.calls[0].result}" AS "F" FROM')
    assert outer.endswith('ORDER BY "Z" LIMIT 5')
    assert site.inner(["Z"]).startswith(f'SELECT "Z", "A"."Y" AS "{column}", CAST')


def test_a_join_keeps_same_named_columns_apart() -> None:
    g = '"__HF_UDF_G"(CAST(("U"."X") AS BIGINT))'
    site, outer = _site(
        f'SELECT "T"."X", "U"."X", {g} AS "G" FROM "T" JOIN "U" ON "T"."K" = "U"."K" '
        'WHERE "U"."X" > 1 ORDER BY "T"."X"'
    )
    assert site.probe == 'SELECT * FROM "T" JOIN "U" ON "T"."K" = "U"."K" LIMIT 0'
    assert site.inner_where == '("U"."X" > 1)'
    (t, t_text), (u, u_text) = site.qualified
    assert (t_text, u_text) == ('"T"."X"', '"U"."X"')
    result = site.calls[0].result
    assert outer == (
        f'SELECT "{t}" AS "X", "{u}" AS "X", "{result}" AS "G" FROM "{site.stream}" ORDER BY "{t}"'
    )
    assert site.arguments[0][1] == 'CAST(("U"."X") AS BIGINT)'


def test_comma_joins_and_using() -> None:
    site, _ = _site(f'SELECT SUM({F}) AS "S" FROM "T", "U" JOIN "V" USING ("K")')
    assert site.probe == 'SELECT * FROM "T", "U" JOIN "V" USING ("K") LIMIT 0'


def test_a_schema_qualified_column_in_a_plain_filter_stays_with_the_table() -> None:
    site, _ = _site(f'SELECT {F} AS "F" FROM "S"."T" WHERE "S"."T"."X" > 0')
    assert site.inner_where == '("S"."T"."X" > 0)'


def test_two_functions_and_a_repeated_call() -> None:
    site, _ = _site(f'SELECT {F} AS "A", {G} AS "B", {F} + 1 AS "C" FROM "T"')
    assert [c.duck_name for c in site.calls] == ["__HF_UDF_F", "__HF_UDF_G"]


def _guards(site: Site) -> list[str | None]:
    named = dict(site.arguments)
    return [None if c.guard is None else named[c.guard] for c in site.calls]


def test_a_case_branch_is_evaluated_on_the_rows_that_reach_it() -> None:
    site, outer = _site(
        f'SELECT SUM(CASE WHEN "X" > 0 THEN {F} WHEN "X" < -5 THEN {G} ELSE 0 END) AS "S" FROM "T"'
    )
    assert _guards(site) == [
        '(("X" > 0) IS TRUE)',
        '(NOT (("X" > 0) IS TRUE)) AND (("X" < -5) IS TRUE)',
    ]
    f, g = (c.result for c in site.calls)
    assert outer == (
        f'SELECT SUM(CASE WHEN "X" > 0 THEN "{f}" WHEN "X" < -5 THEN "{g}" ELSE 0 END) AS "S" '
        f'FROM "{site.stream}"'
    )
    assert site.referenced == frozenset({"x"})  # the CASE still reads X


def test_else_simple_case_and_a_call_in_a_later_when() -> None:
    site, _ = _site(f'SELECT CASE "Y" WHEN 1 THEN 0 WHEN 2 THEN {F} ELSE {G} END AS "C" FROM "T"')
    one, two = '((("Y") = (1)) IS TRUE)', '((("Y") = (2)) IS TRUE)'
    assert _guards(site) == [f"(NOT {one}) AND {two}", f"(NOT {one}) AND (NOT {two})"]
    site, _ = _site(f'SELECT CASE WHEN "X" > 0 THEN 0 WHEN {F} > 1 THEN 1 END AS "C" FROM "T"')
    assert _guards(site) == ['(NOT (("X" > 0) IS TRUE))']


def test_coalesce_if_and_or() -> None:
    site, _ = _site(
        f'SELECT COALESCE("X", "Y", {F}) AS "A", CASE WHEN "X" > 0 THEN 1 ELSE {G} END AS "B", '
        f'"X" > 0 AND "__HF_UDF_H"("X") AS "C", "X" > 0 OR "__HF_UDF_K"("X") AS "D", '
        f'NULLIF({F}, 0) AS "E" FROM "T"'
    )
    assert _guards(site) == [
        None,  # NULLIF evaluates it on every row: so is the COALESCE's
        '(NOT (("X" > 0) IS TRUE))',
        '(NOT (("X" > 0) IS FALSE))',
        '(NOT (("X" > 0) IS TRUE))',
    ]


def test_one_call_under_two_guards_is_evaluated_once_on_either_rows() -> None:
    site, _ = _site(
        f'SELECT CASE WHEN "X" > 0 THEN {F} END AS "A", CASE WHEN "X" < -1 THEN {F} END AS "B" '
        'FROM "T"'
    )
    assert _guards(site) == ['((("X" > 0) IS TRUE)) OR ((("X" < -1) IS TRUE))']


def test_guards_stop_at_an_aggregate_and_take_its_filter() -> None:
    site, _ = _site(
        f'SELECT CASE WHEN COUNT(*) > 1 THEN SUM({F}) END AS "A", '
        f'SUM({G}) FILTER(WHERE "X" > 2) AS "B" FROM "T"'
    )
    assert _guards(site) == [None, '(("X" > 2) IS TRUE)']


def test_a_subquery_in_from_is_a_site_and_the_query_reads_its_stream() -> None:
    site, outer = _site(f'SELECT * FROM (SELECT {F} AS "Y" FROM "T") WHERE "Y" > 3')
    assert site.probe == 'SELECT * FROM "T" LIMIT 0'
    result = site.calls[0].result
    assert outer == f'SELECT * FROM (SELECT "{result}" AS "Y" FROM "{site.stream}") WHERE "Y" > 3'


def test_an_in_subquery_needs_no_alias() -> None:
    site, outer = _site(f'SELECT "X" FROM "T" WHERE "X" IN (SELECT {F} FROM "U")')
    assert site.probe == 'SELECT * FROM "U" LIMIT 0'
    assert outer == (
        f'SELECT "X" FROM "T" WHERE "X" IN (SELECT "{site.calls[0].result}" FROM "{site.stream}")'
    )


def test_ctes_visible_from_a_site_go_with_its_inner_query() -> None:
    p = plan(
        f'WITH "A" AS (SELECT "X" FROM "T"), "B" AS (SELECT {F} AS "Y" FROM "A") '
        f'SELECT MAX("Y") AS "M", (SELECT SUM({G}) FROM "A") AS "N" FROM "B"'
    )
    assert p is not None
    b, n = p.sites
    assert b.probe == 'WITH "A" AS (SELECT "X" FROM "T") SELECT * FROM "A" LIMIT 0'
    assert n.probe.startswith('WITH "A" AS (SELECT "X" FROM "T"), "B" AS (SELECT "__hf_r0_')
    assert p.outer.startswith(
        f'WITH "A" AS (SELECT "X" FROM "T"), "B" AS (SELECT "{b.calls[0].result}"'
    )


def test_a_site_reading_another_comes_after_it() -> None:
    p = plan(
        'SELECT "__HF_UDF_G"("Y") AS "Z" FROM (SELECT "__HF_UDF_F"("X") AS "Y" FROM "T") AS "S"'
    )
    assert p is not None
    first, second = p.sites
    assert second.from_sql == (
        f'(SELECT "{first.calls[0].result}" AS "Y" FROM "{first.stream}") AS "S"'
    )
    assert p.outer == f'SELECT "{second.calls[0].result}" AS "Z" FROM "{second.stream}"'


def test_a_udf_filter_under_or_is_evaluated_where_the_left_side_does_not_decide() -> None:
    site, outer = _site(f'SELECT "X" FROM "T" WHERE "Y" = 1 AND ("X" > 0 OR {F} > 0)')
    assert site.inner_where == '("Y" = 1)'
    assert _guards(site) == ['(NOT (("X" > 0) IS TRUE))']
    assert outer.endswith(f'WHERE "X" > 0 OR "{site.calls[0].result}" > 0')


def test_a_union_branch() -> None:
    site, outer = _site(f'SELECT {F} AS "C" FROM "T" UNION ALL SELECT 1')
    assert (
        outer == f'SELECT "{site.calls[0].result}" AS "C" FROM "{site.stream}" UNION ALL SELECT 1'
    )


def test_a_correlated_subquery_is_left_and_the_rest_planned() -> None:
    p = plan(
        f'SELECT {F} AS "A", "X" IN (SELECT "__HF_UDF_G"("U"."Y" + "T"."X") FROM "U") AS "B" '
        'FROM "T"'
    )
    assert p is None  # the statement's SELECT has a subquery besides its calls
    p = plan('SELECT "X" FROM "T" WHERE "X" IN (SELECT "__HF_UDF_G"("U"."Y" + "T"."X") FROM "U")')
    assert p is None


@pytest.mark.parametrize(
    "sql",
    [
        f"SELECT {F}",  # no table
        f'SELECT CASE WHEN {F} > 0 THEN {G} END AS "C" FROM "T"',  # a guard calling a UDF
        f'SELECT COALESCE({F}, {G}) AS "C" FROM "T"',
        f'SELECT {F} AS "A" FROM "T" WHERE "X" > 0 OR {F} > 0',  # a guarded UDF filter, and
        f'SELECT TRY({F}) AS "C" FROM "T"',
        f'SELECT {F} FROM "T"',  # an unaliased call: its DuckDB name would change
        f'SELECT {F} AS "A", (SELECT MAX("Y") FROM "U") AS "B" FROM "T"',  # a subquery beside
        f'SELECT "T".*, {F} AS "A" FROM "T"',
        f'WITH RECURSIVE "C" AS (SELECT 1 AS "X") SELECT {F} AS "A" FROM "C"',
        f'SELECT "X" FROM "T" WHERE {F} > 0 AND {G} > 0',  # G sees only the rows F kept
        f'SELECT {G} AS "C" FROM "T" WHERE {F} > 0',
        f'SELECT SUM("X") FROM "T" GROUP BY "Y" HAVING SUM({F}) > 0',
        f'SELECT SUM("X") FILTER(WHERE {F} > 0) AS "C" FROM "T"',
        f'SELECT SUM({F}) OVER (PARTITION BY "Y") AS "C" FROM "T"',
        f'SELECT * FROM "T" WHERE {F} > 0',
        'SELECT "__HF_UDF_F"(SUM("X")) AS "C" FROM "T"',  # an aggregate as argument
        f'SELECT "__HF_UDF_F"({G}) AS "C" FROM "T"',  # a call inside a call
        'SELECT "X" FROM "T"',  # no UDF at all
        "SELECT (",  # not SQL
    ],
)
def test_shapes_left_to_duckdb(sql: str) -> None:
    assert plan(sql) is None
