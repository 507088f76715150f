"""Long statements over the wire (issue 15): the server runs the statements it split itself,
and long literal runs are cut out and put back (sql/literals.py) on that path too. A statement
means what it means written in pieces too short to be cut."""

from __future__ import annotations

from hoarfrost.sql.literals import MIN_RUN
from tests.server.conftest import Connect

N = MIN_RUN * 4


def _pieces(items: list[str]) -> list[list[str]]:
    return [items[i : i + MIN_RUN - 1] for i in range(0, len(items), MIN_RUN - 1)]


def test_a_long_in_list_over_the_wire(connect: Connect) -> None:
    cur = connect().cursor()
    cur.execute(
        "CREATE OR REPLACE TABLE wide_in AS SELECT seq4() AS x, 'v' || seq4() AS s "
        "FROM TABLE(GENERATOR(ROWCOUNT => 5000))"
    )
    numbers = [str(i * 3) for i in range(N)] + ["NULL", "-1", "4999"]
    strings = [f"'v{i * 7}'" for i in range(N)] + ["'it''s'", "'v4999'"]
    for column, items in (("x", numbers), ("s", strings)):
        whole = cur.execute(
            f"SELECT COUNT(*), MAX(x) FROM wide_in WHERE {column} IN ({', '.join(items)})"
        ).fetchall()
        ors = " OR ".join(f"{column} IN ({', '.join(p)})" for p in _pieces(items))
        assert whole == cur.execute(f"SELECT COUNT(*), MAX(x) FROM wide_in WHERE {ors}").fetchall()
        assert whole[0][0] > MIN_RUN and whole[0][1] == 4999


def test_a_long_values_insert_over_the_wire(connect: Connect) -> None:
    cur = connect().cursor()
    rows = [f"({i}, 'name {i}''s', {i}.5, {'TRUE' if i % 2 else 'NULL'})" for i in range(N)]
    for name in ("wide_bulk", "wide_pieces"):
        cur.execute(f"CREATE OR REPLACE TABLE {name} (i INT, s STRING, f FLOAT, b BOOLEAN)")
    cur.execute(f"INSERT INTO wide_bulk VALUES {', '.join(rows)}")
    assert cur.rowcount == N
    for piece in _pieces(rows):
        cur.execute(f"INSERT INTO wide_pieces VALUES {', '.join(piece)}")
    bulk = cur.execute("SELECT * FROM wide_bulk ORDER BY i").fetchall()
    assert bulk == cur.execute("SELECT * FROM wide_pieces ORDER BY i").fetchall()
    assert len(bulk) == N and bulk[1] == (1, "name 1's", 1.5, True)


def test_a_script_with_a_long_statement_over_the_wire(connect: Connect) -> None:
    cur = connect().cursor()
    listed = ", ".join(str(i) for i in range(N))
    script = (
        "CREATE OR REPLACE TABLE wide_script (x INT); "
        f"INSERT INTO wide_script SELECT seq4() FROM TABLE(GENERATOR(ROWCOUNT => {N * 2})); "
        f"SELECT COUNT(*) FROM wide_script WHERE x NOT IN ({listed})"
    )
    cur.execute(script, num_statements=3)
    results = [cur.fetchall()]
    while cur.nextset():
        results.append(cur.fetchall())
    assert results == [
        [("Table WIDE_SCRIPT successfully created.",)],
        [(N * 2,)],
        [(N,)],
    ]
