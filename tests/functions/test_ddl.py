"""CREATE FUNCTION / PROCEDURE clauses and their validation (SPEC.md section 6)."""

from __future__ import annotations

import hoarfrost
from tests.functions.conftest import error_of, rows


def _fn(head: str = "f()", props: str = "", body: str = "def f():\n    return 1") -> str:
    return (
        f"CREATE {head} RETURNS INT LANGUAGE PYTHON RUNTIME_VERSION = '3.11' {props} "
        f"HANDLER = 'f' AS $$\n{body}\n$$"
    )


def test_other_languages_and_target_path_are_refused(con: hoarfrost.Connection) -> None:
    for language in ("JAVA", "JAVASCRIPT", "SCALA", "SQL"):
        error = error_of(
            con, f"CREATE FUNCTION j() RETURNS INT LANGUAGE {language} HANDLER = 'x' AS 'x'"
        )
        assert isinstance(error, hoarfrost.NotSupportedError)
        assert f"LANGUAGE {language} is not supported" in str(error) and "PYTHON" in str(error)
    # IMPORTS name staged files (tests/stages/test_imports.py); a missing stage is an error.
    error = error_of(con, _fn("FUNCTION f()", "IMPORTS = ('@stage/x.py')"))
    assert isinstance(error, hoarfrost.ProgrammingError)
    assert "Stage 'HOARFROST.PUBLIC.STAGE' does not exist or not authorized" in str(error)
    error = error_of(con, _fn("FUNCTION f()", "TARGET_PATH = '@stage/x.jar'"))
    assert isinstance(error, hoarfrost.NotSupportedError) and "TARGET_PATH" in str(error)


def test_both_package_spellings(con: hoarfrost.Connection) -> None:
    same = "ARTIFACT_REPOSITORY = my_python_repo PACKAGES = ('pinned==1.0') "
    same += "ARTIFACT_REPOSITORY_PACKAGES = ('pinned==1.0')"
    con.execute(_fn("FUNCTION same()", same))
    different = same.replace("ARTIFACT_REPOSITORY_PACKAGES = ('pinned==1.0')", "")
    different += " ARTIFACT_REPOSITORY_PACKAGES = ('pinned==2.0')"
    error = error_of(con, _fn("FUNCTION different()", different))
    assert "PACKAGES and ARTIFACT_REPOSITORY_PACKAGES list different packages" in str(error)


def test_default_repository_bare_runtime_and_architecture(con: hoarfrost.Connection) -> None:
    con.execute("ALTER ACCOUNT SET DEFAULT_PYTHON_ARTIFACT_REPOSITORY = my_python_repo")
    con.execute(
        "CREATE FUNCTION via_default() RETURNS VARCHAR LANGUAGE PYTHON RUNTIME_VERSION = 3.12 "
        "PACKAGES = ('pinned') RESOURCE_CONSTRAINT = (architecture = 'x86') HANDLER = 'f' "
        "AS 'import pinned, sys\ndef f():\n    return pinned.__version__ + str(sys.version_info[:2])'"
    )
    assert rows(con, "SELECT via_default()") == [("2.0(3, 12)",)]
    described = dict(rows(con, "DESCRIBE FUNCTION via_default()"))
    assert described["artifact_repository"] == "HOARFROST.PUBLIC.MY_PYTHON_REPO"
    assert described["runtime_version"] == "3.12"
    assert described["resource_constraint"] == "{'architecture': 'x86'}"


def test_validation_at_create(con: hoarfrost.Connection) -> None:
    error = error_of(con, _fn("FUNCTION f()", body="def g():\n    return 1"))
    assert "Handler 'f' is not defined in the code" in str(error)
    error = error_of(con, _fn("FUNCTION f(x GEOGRAPHY)"))
    assert "Unsupported type 'GEOGRAPHY'" in str(error)
    error = error_of(con, _fn("FUNCTION f()", body="def f(:\n    pass"))
    assert "SyntaxError" in str(error)
    error = error_of(con, _fn("FUNCTION f()", "PACKAGES = ('pinned')"))
    assert "no ARTIFACT_REPOSITORY was given and no DEFAULT_PYTHON_ARTIFACT_REPOSITORY" in str(
        error
    )
    missing = "ARTIFACT_REPOSITORY = my_python_repo PACKAGES = ('nosuchpackage')"
    error = error_of(con, _fn("FUNCTION f()", missing))
    assert "'Packages not found: nosuchpackage'" in str(error)
    assert rows(con, "SHOW USER FUNCTIONS") == []


def test_replace_is_all_or_nothing(con: hoarfrost.Connection) -> None:
    con.execute(_fn("FUNCTION keep()", body="def f():\n    return 1"))
    error = error_of(con, _fn("OR REPLACE FUNCTION keep()", body="def g():\n    return 2"))
    assert "Handler 'f' is not defined" in str(error)
    assert rows(con, "SELECT keep()") == [(1,)]
    con.execute(_fn("OR REPLACE FUNCTION keep()", body="def f():\n    return 2"))
    assert rows(con, "SELECT keep()") == [(2,)]
    error = error_of(con, _fn("FUNCTION keep()"))
    assert "already exists" in str(error)
    assert rows(con, _fn("FUNCTION IF NOT EXISTS keep()")) == [
        ("KEEP already exists, statement succeeded.",)
    ]
    assert rows(con, "SELECT keep()") == [(2,)]


def test_qualified_names_and_other_schema(con: hoarfrost.Connection) -> None:
    con.execute("CREATE SCHEMA tools")
    con.execute("USE SCHEMA public")  # CREATE SCHEMA made TOOLS current
    con.execute(_fn("FUNCTION tools.seven()", body="def f():\n    return 7"))
    assert rows(con, "SELECT tools.seven(), hoarfrost.tools.seven()") == [(7, 7)]
    error = error_of(con, "SELECT seven()")
    assert "Unknown function SEVEN" in str(error)
    con.execute("USE SCHEMA tools")
    assert rows(con, "SELECT seven()") == [(7,)]
    con.execute("DROP SCHEMA tools")
    con.execute("USE SCHEMA public")
    assert "Unknown function" in str(error_of(con, "SELECT hoarfrost.tools.seven()"))
