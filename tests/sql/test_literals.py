"""Long literal runs are translated without a node per literal (sql/literals.py), and the
statement means exactly what the whole translation means."""

from __future__ import annotations

import hoarfrost
from hoarfrost.sql.literals import MIN_RUN, collapse

ROWS = [
    (i, s, f)
    for i, (s, f) in enumerate(
        [
            ("plain", "1.5"),
            ("it''s", "-2"),
            ("back\\\\slash", "3e2"),
            ("ünï €", "-0.25"),
            ("", "7"),
        ]
        * 70
    )
]


def _values(rows: list[tuple[int, str, str]]) -> str:
    return ", ".join(f"({i}, '{s}', {f})" for i, s, f in rows)


def test_short_statements_are_left_alone() -> None:
    assert collapse("SELECT 1 WHERE a IN (1, 2, 3)") is None
    small = ", ".join(str(i) for i in range(MIN_RUN - 1))
    assert collapse(f"SELECT 1 WHERE a IN ({small})") is None


def test_a_long_values_insert_stores_what_row_by_row_inserts_store() -> None:
    assert len(ROWS) >= MIN_RUN
    assert collapse(f"INSERT INTO t VALUES {_values(ROWS)}") is not None
    with hoarfrost.connect(":memory:") as con:
        con.execute("CREATE TABLE bulk (i INT, s STRING, f FLOAT)")
        con.execute("CREATE TABLE single (i INT, s STRING, f FLOAT)")
        con.execute(f"INSERT INTO bulk VALUES {_values(ROWS)}")
        for row in ROWS[:40]:
            con.execute(f"INSERT INTO single VALUES {_values([row])}")
        bulk = con.execute("SELECT * FROM bulk ORDER BY i LIMIT 40").fetchall()
        single = con.execute("SELECT * FROM single ORDER BY i").fetchall()
        assert bulk == single
        assert con.execute("SELECT COUNT(*), COUNT(DISTINCT s) FROM bulk").fetchall() == [
            (len(ROWS), 5)
        ]


def test_a_long_in_list_selects_what_a_subquery_selects() -> None:
    values = [*range(-5, 600), "NULL"]
    listed = ", ".join(str(v) for v in values)
    with hoarfrost.connect(":memory:") as con:
        con.execute(
            "CREATE TABLE t AS SELECT seq4() - 100 AS a FROM TABLE(GENERATOR(ROWCOUNT => 2000))"
        )
        got = con.execute(f"SELECT COUNT(*) FROM t WHERE a IN ({listed})").fetchall()
        want = con.execute("SELECT COUNT(*) FROM t WHERE a BETWEEN -5 AND 599").fetchall()
        assert got == want
        strings = ", ".join(f"'v{i}'" for i in range(400))
        hit = con.execute(f"SELECT 'v399' IN ({strings}), 'v400' IN ({strings})").fetchall()
        assert hit == [(True, False)]


def test_a_list_that_names_a_column_keeps_snowflakes_name() -> None:
    """The column name comes from the original text: the whole translation is used."""
    listed = ", ".join(str(i) for i in range(MIN_RUN + 10))
    with hoarfrost.connect(":memory:") as con:
        cur = con.cursor()
        cur.execute(f"SELECT 3 IN ({listed})")
        assert cur.fetchall() == [(True,)]
        assert cur.description[0][0].startswith("3 IN (0, 1, 2")
