"""The SEED.md function and procedure statements, as written, against a real authenticated
pypiserver (issue 4 acceptance)."""

from __future__ import annotations

import sys

import hoarfrost
from tests.functions.conftest import PASSWORD, error_of, rows
from tests.support.seed import CORRECTED_PROCEDURE, SEED_FUNCTION, SEED_PROCEDURE


def test_seed_function_returns_the_greeting(con: hoarfrost.Connection) -> None:
    assert rows(con, SEED_FUNCTION) == [("Function TEST_UDF successfully created.",)]
    cur = con.execute("SELECT test_udf()")
    assert cur.description[0][0] == "TEST_UDF()"
    assert cur.fetchall() == [("Hello from test_whl_package 1.0",)]
    assert "test_whl_package" not in sys.modules


def test_seed_describe_shows_the_frozen_set(con: hoarfrost.Connection) -> None:
    con.execute(SEED_FUNCTION)
    described = dict(rows(con, "DESCRIBE FUNCTION test_udf()"))
    assert described["runtime_version"] == "3.10"
    assert described["handler"] == "test"
    assert described["artifact_repository"] == "HOARFROST.PUBLIC.MY_PYTHON_REPO"
    assert described["artifact_repository_packages"] == "['test_whl_package']"
    assert described["installed_packages"] == "['test-whl-package==1.0']"
    assert PASSWORD not in str(described)


def test_seed_procedure_as_written_fails_with_a_clear_name_error(
    con: hoarfrost.Connection,
) -> None:
    assert rows(con, SEED_PROCEDURE) == [("Procedure TEST_SPROC successfully created.",)]
    error = error_of(con, "CALL test_sproc()")
    text = str(error)
    assert text.startswith("100357 (P0000): Python Interpreter Error:")
    assert "NameError: name 'test_whl_package' is not defined" in text
    assert 'File "<TEST_SPROC>", line 3, in run' in text
    assert "bootstrap" not in text and "hoarfrost" not in text.lower().replace("hoarfrost.", "")


def test_seed_procedure_corrected_body_works(con: hoarfrost.Connection) -> None:
    con.execute(CORRECTED_PROCEDURE)
    cur = con.execute("CALL test_sproc()")
    assert cur.description[0][0] == "TEST_SPROC"
    assert cur.fetchall() == [("Hello from test_whl_package 1.0",)]


def test_procedure_without_snowpark_is_refused(con: hoarfrost.Connection) -> None:
    without = SEED_PROCEDURE.replace("'snowflake-snowpark-python', ", "")
    error = error_of(con, without)
    assert "the artifact repository must host snowflake-snowpark-python" in str(error)
    assert "add 'snowflake-snowpark-python' to ARTIFACT_REPOSITORY_PACKAGES" in str(error)
    assert rows(con, "SHOW PROCEDURES") == []


def test_show_lists_with_the_repository(con: hoarfrost.Connection) -> None:
    con.execute(SEED_FUNCTION)
    con.execute(SEED_PROCEDURE)
    cur = con.execute("SHOW USER FUNCTIONS")
    names = [d[0] for d in cur.description]
    (row,) = cur.fetchall()
    shown = dict(zip(names, row, strict=True))
    assert shown["name"] == "TEST_UDF"
    assert shown["arguments"] == "TEST_UDF() RETURN VARCHAR"
    assert shown["artifact_repository"] == "HOARFROST.PUBLIC.MY_PYTHON_REPO"
    cur = con.execute("SHOW PROCEDURES LIKE 'TEST%'")
    names = [d[0] for d in cur.description]
    (row,) = cur.fetchall()
    assert dict(zip(names, row, strict=True))["name"] == "TEST_SPROC"
    info = rows(
        con,
        "SELECT function_name, runtime_version, installed_packages, artifact_repository "
        "FROM INFORMATION_SCHEMA.FUNCTIONS",
    )
    assert info == [
        ("TEST_UDF", "3.10", "['test-whl-package==1.0']", "HOARFROST.PUBLIC.MY_PYTHON_REPO")
    ]
    procs = rows(con, "SELECT procedure_name FROM TABLE(HOARFROST.INFORMATION_SCHEMA.PROCEDURES())")
    assert procs == [("TEST_SPROC",)]
