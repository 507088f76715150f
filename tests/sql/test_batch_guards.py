"""On which rows a SELECT evaluates a UDF call (hoarfrost.sql.batch_guards.guard)."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from hoarfrost.sql.batch_guards import guard, is_udf, plain


def _guard(select_list: str, where: str = "") -> list[str] | None:
    tree = sqlglot.parse_one(f'SELECT {select_list} FROM "T" {where}', read="duckdb")
    assert isinstance(tree, exp.Select)
    (call,) = [n for n in tree.find_all(exp.Anonymous) if n.name == "__HF_UDF_F"]
    found = guard(call, tree)
    return None if found is None else [c.sql(dialect="duckdb") for c in found]


@pytest.mark.parametrize(
    ("select_list", "expected"),
    [
        ('"__HF_UDF_F"("X") + 1', []),
        ('CASE WHEN "X" > 0 THEN "__HF_UDF_F"("X") END', ['(("X" > 0) IS TRUE)']),
        (
            'CASE WHEN "X" > 0 THEN 1 WHEN "Y" THEN 2 ELSE "__HF_UDF_F"("X") END',
            ['(NOT (("X" > 0) IS TRUE))', '(NOT (("Y") IS TRUE))'],
        ),
        ('CASE "__HF_UDF_F"("X") WHEN 1 THEN 2 END', []),  # the operand: every row
        (
            'CASE "Y" WHEN 1 THEN 0 WHEN "__HF_UDF_F"("X") THEN 2 END',
            ['(NOT ((("Y") = (1)) IS TRUE))'],
        ),
        ('COALESCE("X", "Y", "__HF_UDF_F"("X"))', ['(("X") IS NULL)', '(("Y") IS NULL)']),
        ('"X" > 0 OR "__HF_UDF_F"("X")', ['(NOT (("X" > 0) IS TRUE))']),
        ('"X" > 0 AND "__HF_UDF_F"("X")', ['(NOT (("X" > 0) IS FALSE))']),
        ('"__HF_UDF_F"("X") AND "X" > 0', []),
        (
            'CASE WHEN "X" > 0 THEN COALESCE("Y", "__HF_UDF_F"("X")) END',
            ['(("Y") IS NULL)', '(("X" > 0) IS TRUE)'],
        ),
        ('CASE WHEN COUNT(*) > 1 THEN SUM("__HF_UDF_F"("X")) END', []),  # per group: every row
        ('SUM("__HF_UDF_F"("X")) FILTER(WHERE "Y" > 2)', ['(("Y" > 2) IS TRUE)']),
        ('SUM("__HF_UDF_F"("X")) OVER ()', None),
        ('TRY("__HF_UDF_F"("X"))', None),
        ('"__HF_UDF_G"("__HF_UDF_F"("X"))', None),
        ('CASE WHEN "__HF_UDF_G"("X") THEN "__HF_UDF_F"("X") END', None),  # a UDF decides
        ('CASE WHEN "X" IN (SELECT 1) THEN "__HF_UDF_F"("X") END', None),
        ('list_transform("L", y -> "__HF_UDF_F"(y))', None),
    ],
)
def test_guards(select_list: str, expected: list[str] | None) -> None:
    assert _guard(select_list) == expected


def test_the_where_clause_top_level_and_is_no_condition() -> None:
    assert _guard('"X"', 'WHERE "X" > 0 AND "__HF_UDF_F"("X") > 1') == []
    assert _guard('"X"', 'WHERE ("X" > 0 AND ("Y" > 1 AND "__HF_UDF_F"("X") > 1))') == []
    assert _guard('"X"', 'WHERE "X" > 0 AND ("Y" OR "__HF_UDF_F"("X") > 1)') == [
        '(NOT (("Y") IS TRUE))'
    ]
    assert _guard('"X"', 'GROUP BY "X" HAVING SUM("__HF_UDF_F"("X")) > 0') is None


def test_udf_names_and_plain_expressions() -> None:
    assert is_udf(exp.Anonymous(this="__hf_udf_ab"))
    assert not is_udf(exp.Anonymous(this="lower"))
    assert plain(sqlglot.parse_one('"X" + 1 > "Y"', read="duckdb"))
    for text in ('SUM("X")', "ROW_NUMBER() OVER ()", '"X" IN (SELECT 1)', '"__HF_UDF_F"(1)'):
        assert not plain(sqlglot.parse_one(text, read="duckdb"))
