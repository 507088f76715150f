"""Views calling UDFs opened up for the batch planner (hoarfrost.sql.batch_views)."""

from __future__ import annotations

from collections.abc import Callable

from hoarfrost.sql.batch_views import ViewQuery, inline_views, view_query

CREATE = (
    "CREATE VIEW PUBLIC.V AS SELECT X, __hf_udf_ab12(CAST(X AS BIGINT)) AS D FROM T WHERE (X > 2);"
)


def test_a_view_query_has_its_tables_qualified_and_its_calls_named_as_the_planner_expects() -> None:
    query = view_query(CREATE, "DB", "PUBLIC")
    assert query == ViewQuery(
        'SELECT X, __HF_UDF_AB12(CAST(X AS BIGINT)) AS D FROM "DB"."PUBLIC".T WHERE (X > 2)', ()
    )


def test_column_names_ctes_and_table_functions_are_kept() -> None:
    query = view_query(
        "CREATE VIEW S.W (A, B) AS WITH C AS (SELECT 1 AS Y) "
        "SELECT Y, __hf_udf_ab12(Y) FROM C, range(3), OTHER.U;",
        "DB",
        "S",
    )
    assert query is not None
    assert query.columns == ("A", "B")
    assert 'FROM C, RANGE(0, 3), "DB".OTHER.U' in query.sql


def test_views_without_a_udf_are_not_opened() -> None:
    assert view_query("CREATE VIEW S.W AS SELECT X FROM T;", "DB", "S") is None
    assert view_query("CREATE VIEW S.W AS SELECT (", "DB", "S") is None


def _find(views: dict[tuple[str, ...], ViewQuery]) -> Callable[[tuple[str, ...]], ViewQuery | None]:
    return views.get


def test_a_view_is_replaced_by_its_query_under_the_name_it_was_read_by() -> None:
    v = ViewQuery('SELECT "__HF_UDF_F"("X") AS "D" FROM "DB"."S"."T"', ())
    w = ViewQuery('SELECT "X", "__HF_UDF_F"("X") FROM "DB"."S"."T"', ("A", "B"))
    find = _find({("v",): v, ("db", "s", "w"): w})
    assert inline_views('SELECT SUM("D") FROM "V"', find) == (
        'SELECT SUM("D") FROM (SELECT "__HF_UDF_F"("X") AS "D" FROM "DB"."S"."T") AS "V"'
    )
    assert inline_views('SELECT "Z"."A" FROM "DB"."S"."W" AS "Z"', find) == (
        'SELECT "Z"."A" FROM (SELECT "X", "__HF_UDF_F"("X") FROM "DB"."S"."T") AS "Z"("A", "B")'
    )


def test_views_reading_views_and_names_that_are_not_views() -> None:
    inner = ViewQuery('SELECT "__HF_UDF_F"("X") AS "D" FROM "DB"."S"."T"', ())
    outer = ViewQuery('SELECT "D" FROM "DB"."S"."INNER"', ())
    find = _find({("db", "s", "inner"): inner, ("outer",): outer})
    assert inline_views('SELECT "D" FROM "OUTER"', find) == (
        'SELECT "D" FROM (SELECT "D" FROM (SELECT "__HF_UDF_F"("X") AS "D" FROM "DB"."S"."T") '
        'AS "INNER") AS "OUTER"'
    )
    assert inline_views('SELECT "D" FROM "T"', find) is None
    # a CTE of the statement's own is not the view of the same name
    assert inline_views('WITH "OUTER" AS (SELECT 1 AS "D") SELECT "D" FROM "OUTER"', find) is None
