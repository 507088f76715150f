"""UDTFs in both forms, and procedures: SQL in the caller's session, tables, EXECUTE AS."""

from __future__ import annotations

import hoarfrost
from tests.functions.conftest import error_of, rows

SPLITTER = """CREATE FUNCTION splitter(s VARCHAR, sep VARCHAR DEFAULT ',')
RETURNS TABLE (part VARCHAR, pos INT)
LANGUAGE PYTHON RUNTIME_VERSION = '3.11' HANDLER = 'Splitter' AS $$
class Splitter:
    def process(self, s, sep):
        for i, part in enumerate(s.split(sep)):
            yield (part, i)
$$"""

RUNNING = """CREATE FUNCTION running(v INT)
RETURNS TABLE (total INT, rows_seen INT)
LANGUAGE PYTHON RUNTIME_VERSION = '3.11' HANDLER = 'Running' AS $$
class Running:
    def __init__(self):
        self.total = 0
        self.count = 0
    def process(self, v):
        self.total += v
        self.count += 1
        yield (self.total, self.count)
    def end_partition(self):
        yield (self.total, -1)
$$"""


def test_udtf_alone(con: hoarfrost.Connection) -> None:
    con.execute(SPLITTER)
    cur = con.execute("SELECT * FROM TABLE(splitter('a,b,c'))")
    assert [d[0] for d in cur.description] == ["PART", "POS"]
    assert cur.fetchall() == [("a", 0), ("b", 1), ("c", 2)]
    got = rows(con, "SELECT s.part FROM TABLE(splitter('x;y', ';')) AS s WHERE s.pos = 1")
    assert got == [("y",)]


def test_udtf_lateral_with_partitions(con: hoarfrost.Connection) -> None:
    con.execute(RUNNING)
    con.execute(
        "CREATE TABLE sales AS SELECT * FROM VALUES ('n', 1, 10), ('n', 2, 5), ('s', 1, 7), "
        "('s', 2, 1), ('s', 3, 2) AS v(region, day, amount)"
    )
    got = rows(
        con,
        "SELECT sales.region, sales.day, r.total, r.rows_seen FROM sales, "
        "TABLE(running(sales.amount) OVER (PARTITION BY sales.region ORDER BY sales.day)) AS r "
        "ORDER BY r.rows_seen = -1, sales.region, sales.day, r.total",
    )
    assert got == [
        ("n", 1, 10, 1),
        ("n", 2, 15, 2),
        ("s", 1, 7, 1),
        ("s", 2, 8, 2),
        ("s", 3, 10, 3),
        (None, None, 10, -1),
        (None, None, 15, -1),
    ]
    whole = rows(con, "SELECT MAX(total) FROM sales AS x, TABLE(running(x.amount))")
    assert whole == [(25,)]
    # JOIN TABLE(...) without ON is the same lateral join (Snowpark's join_table_function)
    for join in ("JOIN", "INNER JOIN", "CROSS JOIN"):
        joined = rows(
            con,
            f"SELECT MAX(r.total) FROM (SELECT * FROM sales) AS x {join} TABLE (running(x.amount)) "
            "AS r",
        )
        assert joined == [(25,)], join


def test_udtf_outside_table_is_refused(con: hoarfrost.Connection) -> None:
    con.execute(SPLITTER)
    error = error_of(con, "SELECT splitter('a')")
    assert "SPLITTER is a table function" in str(error)


PROC_TABLE = """CREATE PROCEDURE top_items(n INT)
RETURNS TABLE (item VARCHAR, qty INT)
LANGUAGE PYTHON RUNTIME_VERSION = '3.11' HANDLER = 'run' AS $$
def run(session, n):
    total = session.sql('SELECT COUNT(*) AS c FROM items').collect()[0].C
    session.sql(f"INSERT INTO audit VALUES ('top_items called on {total} items')").collect()
    return session.sql(f'SELECT item, qty FROM items ORDER BY qty DESC LIMIT {n}')
$$"""

PROC_ROWS = """CREATE PROCEDURE table_rows()
RETURNS TABLE ()
LANGUAGE PYTHON RUNTIME_VERSION = '3.11' HANDLER = 'run' AS $$
def run(session):
    rows = session.table('items').collect()
    return [(r.ITEM.upper(), r['QTY'] * 2) for r in rows]
$$"""


def test_procedure_returns_tables_and_runs_sql(con: hoarfrost.Connection) -> None:
    con.execute("CREATE TABLE items (item VARCHAR, qty INT)")
    con.execute("INSERT INTO items VALUES ('a', 3), ('b', 9), ('c', 5)")
    con.execute("CREATE TABLE audit (note VARCHAR)")
    con.execute(PROC_TABLE)
    cur = con.execute("CALL top_items(2)")
    assert [d[0] for d in cur.description] == ["ITEM", "QTY"]
    assert cur.fetchall() == [("b", 9), ("c", 5)]
    assert rows(con, "SELECT note FROM audit") == [("top_items called on 3 items",)]
    con.execute(PROC_ROWS)
    assert sorted(rows(con, "CALL table_rows()")) == [("A", 6), ("B", 18), ("C", 10)]


def test_procedure_arguments_and_udfs(con: hoarfrost.Connection) -> None:
    con.execute(
        "CREATE FUNCTION double_it(x INT) RETURNS INT LANGUAGE PYTHON RUNTIME_VERSION = '3.11' "
        "HANDLER = 'f' AS $$\ndef f(x):\n    return 2 * x\n$$"
    )
    con.execute(
        "CREATE PROCEDURE add_up(a INT, b INT DEFAULT 100) RETURNS INT LANGUAGE PYTHON "
        "RUNTIME_VERSION = '3.11' HANDLER = 'run' AS $$\n"
        "def run(session, a, b):\n"
        "    return a + b + session.sql('SELECT double_it(5)').collect()[0][0]\n$$"
    )
    assert rows(con, "CALL add_up(double_it(1))") == [(112,)]
    assert rows(con, "CALL add_up(1, 2)") == [(13,)]


def test_execute_as_owner_and_caller(con: hoarfrost.Connection) -> None:
    for mode in ("OWNER", "CALLER"):
        con.execute(
            f"CREATE PROCEDURE whoami_{mode}() RETURNS VARCHAR LANGUAGE PYTHON "
            f"RUNTIME_VERSION = '3.11' HANDLER = 'run' EXECUTE AS {mode} AS $$\n"
            "def run(session):\n"
            "    return session.sql('SELECT CURRENT_ROLE()').collect()[0][0]\n$$"
        )
        con.execute(f"GRANT USAGE ON PROCEDURE whoami_{mode}() TO ROLE PUBLIC")
    session = con.session
    session.role = "PUBLIC"
    try:
        assert rows(con, "CALL whoami_owner()") == [("ACCOUNTADMIN",)]
        assert rows(con, "CALL whoami_caller()") == [("PUBLIC",)]
    finally:
        session.role = "ACCOUNTADMIN"
    assert dict(rows(con, "DESCRIBE PROCEDURE whoami_caller()"))["execute as"] == "CALLER"


def test_procedure_calls_a_procedure(con: hoarfrost.Connection) -> None:
    con.execute(
        "CREATE PROCEDURE inner_proc(x INT) RETURNS INT LANGUAGE PYTHON RUNTIME_VERSION = '3.11' "
        "HANDLER = 'run' AS $$\ndef run(session, x):\n    return x * 10\n$$"
    )
    con.execute(
        "CREATE PROCEDURE outer_proc() RETURNS VARCHAR LANGUAGE PYTHON RUNTIME_VERSION = '3.11' "
        "HANDLER = 'run' AS $$\n"
        "def run(session):\n"
        "    try:\n"
        "        session.sql('SELECT * FROM no_such_table').collect()\n"
        "    except Exception as exc:\n"
        "        caught = type(exc).__name__\n"
        "    return f\"{session.call('inner_proc', 4)} {caught}\"\n$$"
    )
    assert rows(con, "CALL outer_proc()") == [("40 SnowparkSQLException",)]


ANONYMOUS = (
    "WITH scorer AS PROCEDURE (x INT) RETURNS VARCHAR LANGUAGE PYTHON RUNTIME_VERSION = '3.11' "
    "PACKAGES = ('snowflake-snowpark-python', 'pinned') HANDLER = 'run' EXECUTE AS CALLER AS $$\n"
    "import pinned\n"
    "def run(session, x):\n"
    "    role = session.sql('SELECT CURRENT_ROLE()').collect()[0][0]\n"
    "    return f'{x} {pinned.__version__} {role}'\n$$\n"
    "CALL scorer(41)"
)


def test_anonymous_procedure_runs_once_with_the_default_repository(
    con: hoarfrost.Connection,
) -> None:
    # dbt's Python models: WITH ... AS PROCEDURE ... CALL, packages from the account's default
    # repository; the procedure is gone after the statement.
    con.execute("ALTER ACCOUNT SET DEFAULT_PYTHON_ARTIFACT_REPOSITORY = my_python_repo")
    assert rows(con, ANONYMOUS) == [("41 2.0 ACCOUNTADMIN",)]
    assert rows(con, "SHOW PROCEDURES LIKE 'SCORER'") == []
    assert "Unknown user-defined function" in str(error_of(con, "CALL scorer(1)"))
    # a temporary procedure of the same name is set aside and comes back
    con.execute(
        "CREATE TEMPORARY PROCEDURE scorer(x INT) RETURNS VARCHAR LANGUAGE PYTHON "
        "RUNTIME_VERSION = '3.11' HANDLER = 'run' AS $$\ndef run(session, x):\n"
        "    return 'mine'\n$$"
    )
    assert rows(con, ANONYMOUS) == [("41 2.0 ACCOUNTADMIN",)]
    assert rows(con, "CALL scorer(1)") == [("mine",)]


def test_anonymous_procedure_follows_the_creation_blocklist_at_run_time(
    con: hoarfrost.Connection,
) -> None:
    con.execute("ALTER ACCOUNT SET DEFAULT_PYTHON_ARTIFACT_REPOSITORY = my_python_repo")
    con.execute(
        "CREATE PACKAGES POLICY no_new_pinned LANGUAGE PYTHON "
        "ADDITIONAL_CREATION_BLOCKLIST = ('pinned==2.0')"
    )
    con.execute("ALTER ACCOUNT SET PACKAGES POLICY no_new_pinned")
    try:
        # resolution avoids the blocked version, so 1.0 is what runs
        assert rows(con, ANONYMOUS) == [("41 1.0 ACCOUNTADMIN",)]
        pinned = ANONYMOUS.replace("'pinned')", "'pinned==2.0')")
        error = error_of(con, pinned)
        assert "ADDITIONAL_CREATION_BLOCKLIST entry 'pinned==2.0'" in str(error)
    finally:
        con.execute("ALTER ACCOUNT UNSET PACKAGES POLICY")


def test_anonymous_procedure_cannot_name_a_repository(con: hoarfrost.Connection) -> None:
    named = ANONYMOUS.replace(
        "HANDLER = 'run'", "ARTIFACT_REPOSITORY = my_python_repo HANDLER = 'run'"
    )
    error = error_of(con, named)
    assert str(error).startswith(
        "000002 (0A000): Anonymous procedures (WITH ... AS PROCEDURE) cannot use "
        "customer-hosted artifact repositories (ARTIFACT_REPOSITORY)"
    )


UDAF = """CREATE OR REPLACE AGGREGATE FUNCTION py_avg(x FLOAT) RETURNS FLOAT LANGUAGE PYTHON
RUNTIME_VERSION = '3.11' HANDLER = 'Average' AS $$
class Average:
    def __init__(self):
        self._sum, self._count = 0.0, 0

    @property
    def aggregate_state(self):
        return (self._sum, self._count)

    def accumulate(self, x):
        if x is not None:
            self._sum += x
            self._count += 1

    def merge(self, other):
        self._sum += other[0]
        self._count += other[1]

    def finish(self):
        return self._sum / self._count if self._count else None
$$"""


def test_python_aggregate_functions(con: hoarfrost.Connection) -> None:
    con.execute(UDAF)
    con.execute("CREATE TABLE scores (team VARCHAR, score FLOAT)")
    con.execute("INSERT INTO scores VALUES ('a', 1), ('a', 3), ('b', 10), ('b', NULL), ('c', NULL)")
    assert rows(
        con, "SELECT team, py_avg(score), avg(score) FROM scores GROUP BY team ORDER BY team"
    ) == [("a", 2.0, 2.0), ("b", 10.0, 10.0), ("c", None, None)]
    assert rows(con, "SELECT py_avg(score) FROM scores") == [(14.0 / 3,)]
    error = error_of(
        con,
        UDAF.replace("py_avg", "broken").replace(
            "    def merge(self, other):", "    def merged(self, other):"
        ),
    )
    assert "must be a class with aggregate_state, accumulate, merge, finish; missing: merge" in str(
        error
    )
