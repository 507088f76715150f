"""GET_DDL of functions and procedures (issue 14, item 2): the statement that makes the routine
as it is now, which recreates it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import hoarfrost

FUNCTION = (
    "CREATE SECURE FUNCTION plus1(x INT) RETURNS INT LANGUAGE PYTHON RUNTIME_VERSION = '3.11' "
    "HANDLER = 'f' AS $$\ndef f(x):\n    return x + 1  # it's quoted\n$$"
)
PROCEDURE = (
    "CREATE PROCEDURE twice(x INT) RETURNS INT LANGUAGE PYTHON RUNTIME_VERSION = '3.11' "
    "HANDLER = 'run' EXECUTE AS CALLER AS $$\ndef run(session, x):\n    return 2 * x\n$$"
)


@pytest.fixture
def con() -> Iterator[hoarfrost.Connection]:
    with hoarfrost.connect(":memory:") as connection:
        connection.execute(FUNCTION)
        connection.execute(PROCEDURE)
        yield connection


def test_get_ddl_recreates_functions_and_procedures(con: hoarfrost.Connection) -> None:
    (function,) = con.execute("SELECT GET_DDL('FUNCTION', 'plus1(NUMBER)')").fetchone()
    assert function.startswith("create or replace SECURE FUNCTION PLUS1(X INT)\nRETURNS")
    assert "HANDLER = 'f'" in function and "it\\'s quoted" in function
    (procedure,) = con.execute("SELECT GET_DDL('procedure', 'twice')").fetchone()
    assert "EXECUTE AS CALLER" in procedure
    con.execute("DROP FUNCTION plus1(NUMBER)")
    con.execute("DROP PROCEDURE twice(NUMBER)")
    con.execute(function)
    con.execute(procedure)
    assert con.execute("SELECT plus1(41)").fetchall() == [(42,)]
    assert con.execute("CALL twice(21)").fetchall() == [(42,)]


def test_get_ddl_of_a_secure_function_is_for_its_owner(con: hoarfrost.Connection) -> None:
    con.execute("GRANT USAGE ON FUNCTION plus1(NUMBER) TO ROLE public")
    con.execute("USE ROLE public")
    with pytest.raises(hoarfrost.ProgrammingError) as info:
        con.execute("SELECT GET_DDL('FUNCTION', 'plus1(NUMBER)')")
    assert "shown to its owner only" in str(info.value)
    with pytest.raises(hoarfrost.ProgrammingError) as info:
        con.execute("SELECT GET_DDL('PROCEDURE', 'twice(NUMBER)')")  # no USAGE: not there
    assert "does not exist or not authorized" in str(info.value)
