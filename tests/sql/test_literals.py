"""Long literal runs (sql/literals.py): the engine cuts them out before its own passes and
translation and puts them back into the DuckDB SQL. A statement means exactly what it means
written in pieces too short to be cut (lists and inserts of fewer than MIN_RUN elements)."""

from __future__ import annotations

from typing import Any

import pytest

import hoarfrost
from hoarfrost.errors import SqlSyntaxError
from hoarfrost.sql.literals import MIN_RUN, collapse
from hoarfrost.sql.tokens import split
from hoarfrost.sql.translate import RunsLost, translate

N = MIN_RUN * 3
PIECE = MIN_RUN - 1

STRINGS = ["plain", "it''s", "ünï €", "", "tab\there", "new\nline", "%s ? :1"]
# Backslash escapes (which our tokenizer reads otherwise than the translation's parser) end a run.
ESCAPED = ["'back\\\\slash'", "'\\n and \\''", "'\\u00e9'"]
NUMBERS = ["0", "-2", "1.5", "-0.25", "3e2", "1E-3", "7.", "123456789012345678"]


def _pieces(items: list[str], size: int = PIECE) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _rows(i: int) -> str:
    s = STRINGS[i % len(STRINGS)]
    f = NUMBERS[i % len(NUMBERS)]
    flag = ["TRUE", "FALSE", "NULL"][i % 3]
    return f"({i}, '{s}', {f}, {flag})"


def _table(con: hoarfrost.Connection, name: str) -> list[tuple[Any, ...]]:
    cur = con.execute(f"SELECT * FROM {name} ORDER BY i")
    return [(cur.description, row) for row in cur.fetchall()]


def test_short_statements_are_left_alone() -> None:
    assert collapse(split("SELECT 1 WHERE a IN (1, 2, 3)")[0]) is None
    small = ", ".join(str(i) for i in range(PIECE))
    assert collapse(split(f"SELECT 1 WHERE a IN ({small})")[0]) is None


def test_only_lists_after_in_and_rows_after_values_are_cut() -> None:
    listed = ", ".join(str(i) for i in range(N))
    assert collapse(split(f"SELECT ARRAY_CONSTRUCT({listed})")[0]) is None
    cut = collapse(split(f"SELECT 1 FROM t WHERE a NOT IN ({listed}) AND b IN ({listed})")[0])
    assert cut is not None and len(cut.runs.runs) == 2
    assert len(cut.statement.text) < 200  # the passes before DuckDB see a short statement
    rows = ", ".join(_rows(i) for i in range(N))
    cut = collapse(split(f"INSERT INTO t VALUES {rows}")[0])
    assert cut is not None and cut.statement.text.count("(") == 2
    # a row that is not all literals (``.5`` is two tokens) ends one run and starts another
    odd = ", ".join([*(_rows(i) for i in range(N)), "(0, 'x', .5, NULL)", rows])
    cut = collapse(split(f"INSERT INTO t VALUES {odd}")[0])
    assert cut is not None and len(cut.runs.runs) == 2


LITERALS = [
    "'a''b'",
    "'new\nline'",
    "''",
    "1e400",
    "1E+5",
    "-0",
    "- 5",
    "7.",
    "00012",
    "123456789012345678901234567890",
    "NULL",
    "TRUE",
    "FALSE",
]


@pytest.mark.parametrize("literal", ESCAPED)
def test_a_string_with_a_backslash_escape_is_not_cut(literal: str) -> None:
    listed = ", ".join([literal] * N)
    assert collapse(split(f"SELECT a FROM t WHERE a IN (0, {listed})")[0]) is None
    rows = ", ".join(f"({i}, {literal})" for i in range(N))
    assert collapse(split(f"INSERT INTO t VALUES {rows}")[0]) is None


@pytest.mark.parametrize("literal", LITERALS)
def test_a_run_is_rendered_as_the_whole_translation_renders_it(literal: str) -> None:
    """The DuckDB SQL of a cut run is the SQL of the same list translated whole."""
    one = translate(f"SELECT a FROM t WHERE a IN (0, {literal})").sql
    head, rendered = one[: one.index("IN (0, ") + 7], one[one.index("IN (0, ") + 7 : -1]
    long = f"SELECT a FROM t WHERE a IN (0, {', '.join([literal] * N)})"
    cut = collapse(split(long)[0])
    assert cut is not None
    assert translate(cut.statement.text, cut.runs).sql == head + ", ".join([rendered] * N) + ")"
    one_row = translate(f"INSERT INTO t VALUES (0, {literal})").sql
    row = one_row[one_row.index("VALUES ") + 7 :]
    rows = ", ".join([f"(0, {literal})"] * N)
    cut = collapse(split(f"INSERT INTO t VALUES {rows}")[0])
    assert cut is not None
    want = one_row[: one_row.index("VALUES ") + 7] + ", ".join([row] * N)
    assert translate(cut.statement.text, cut.runs).sql == want


def test_a_long_values_insert_stores_what_short_inserts_store() -> None:
    rows = [_rows(i) for i in range(N)]
    rows[N // 2] = f"({N // 2}, 'x' || 'y', .5, NOT FALSE)"  # cuts the run in two
    with hoarfrost.connect(":memory:") as con:
        for name in ("bulk", "pieces"):
            con.execute(f"CREATE TABLE {name} (i INT, s STRING, f FLOAT, b BOOLEAN)")
        cur = con.execute(f"INSERT INTO bulk VALUES {', '.join(rows)}")
        assert cur.fetchall() == [(N,)]
        for piece in _pieces(rows):
            con.execute(f"INSERT INTO pieces VALUES {', '.join(piece)}")
        assert _table(con, "bulk") == _table(con, "pieces")
        assert len(_table(con, "bulk")) == N


def test_a_long_in_list_selects_what_short_lists_select() -> None:
    # the last element of each list is the only one to match its row
    numbers = [str(v) for v in range(-5, N)] + ["NULL", "1.5", "-0.5e1", "2899"]
    strings = [f"'{STRINGS[i % len(STRINGS)]}{i}'" for i in range(N)] + ["'plain899'"]
    escaped = strings[: N // 2] + ESCAPED + strings[N // 2 :]  # not cut: translated whole
    with hoarfrost.connect(":memory:") as con:
        con.execute(
            "CREATE TABLE t AS SELECT seq4() - 100 AS a, 'plain' || (seq4() % 900) AS s "
            "FROM TABLE(GENERATOR(ROWCOUNT => 3000))"
        )
        for column, items in (("a", numbers), ("s", strings), ("s", escaped)):
            for negate in ("", "NOT "):
                whole = f"SELECT COUNT(*), SUM(LENGTH({column})) FROM t WHERE {column} {negate}IN ({', '.join(items)})"
                ors = " OR ".join(f"{column} IN ({', '.join(p)})" for p in _pieces(items))
                if negate:
                    ors = f"NOT ({ors})"
                pieces = f"SELECT COUNT(*), SUM(LENGTH({column})) FROM t WHERE {ors}"
                assert con.execute(whole).fetchall() == con.execute(pieces).fetchall()
        hit = con.execute(f"SELECT 'plain7' IN ({', '.join(strings)})").fetchall()
        assert hit == [(True,)]


def test_a_list_that_names_a_column_keeps_snowflakes_name() -> None:
    """The column name comes from the original text: the whole translation is used."""
    listed = ", ".join(str(i) for i in range(MIN_RUN + 10))
    with hoarfrost.connect(":memory:") as con:
        cur = con.cursor()
        cur.execute(f"SELECT 3 IN ({listed})")
        assert cur.fetchall() == [(True,)]
        assert cur.description[0][0].startswith("3 IN (0, 1, 2")


def test_a_syntax_error_after_a_long_list_points_into_the_text_as_sent() -> None:
    def error(listed: str) -> str:
        with pytest.raises(SqlSyntaxError) as raised:
            translate(f"SELECT a FROM t WHERE a IN ({listed}) AND AND b")
        return str(raised.value)

    short, long = "1, 2", ", ".join(str(i) for i in range(N))
    position = int(error(short).split("position ")[1].split()[0])
    want = error(short).replace(f"position {position}", f"position {position + len(long) - 4}")
    assert error(long) == want


def test_a_lost_sentinel_is_refused_rather_than_run() -> None:
    listed = ", ".join(str(i) for i in range(N))
    cut = collapse(split(f"SELECT a FROM t WHERE a IN ({listed})")[0])
    assert cut is not None
    text = cut.statement.text
    assert cut.runs.expand(text) == f"SELECT a FROM t WHERE a IN ({listed})"
    copied = f"{text} UNION ALL {text}"
    assert cut.runs.expand(copied) is None
    with pytest.raises(RunsLost):
        translate(copied, cut.runs)
    assert "42" in translate(text, cut.runs).sql


def test_a_long_list_in_a_user_function_call_is_evaluated_whole() -> None:
    listed = ", ".join(str(i) for i in range(N))
    with hoarfrost.connect(":memory:") as con:
        con.execute(
            "CREATE FUNCTION is_in(b BOOLEAN) RETURNS INT LANGUAGE PYTHON "
            "RUNTIME_VERSION = '3.11' HANDLER = 'f' AS 'def f(b):\n    return 1 if b else 0'"
        )
        rows = con.execute(
            f"SELECT is_in(x IN ({listed})) FROM (SELECT {N - 1} AS x UNION ALL SELECT {N} AS x) "
            "ORDER BY x"
        ).fetchall()
        assert rows == [(1,), (0,)]


def test_a_long_insert_with_a_bound_parameter_and_a_variable() -> None:
    rows = [f"({i}, 's{i}', {i})" for i in range(N)] + [f"({N}, $tag, ?)"]
    with hoarfrost.connect(":memory:") as con:
        con.execute("CREATE TABLE t (i INT, s STRING, n INT)")
        con.execute("SET tag = 'tagged'")
        con.execute(f"INSERT INTO t VALUES {', '.join(rows)}", [-7])
        got = con.execute("SELECT COUNT(*), SUM(i), MIN(n), MAX(s) FROM t").fetchall()
        assert got == [(N + 1, N * (N + 1) // 2, -7, "tagged")]
