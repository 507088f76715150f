"""Attacks on the SQL surface (issue 10, item 1): no statement reads or writes a host file,
lists directories, attaches databases, loads extensions, changes DuckDB settings, reads the
environment or reveals host paths.

Each attack runs through ``hoarfrost.connect()`` and through ``hoarfrost serve`` with the real
connector as a user logged in with the PUBLIC role; each asserts the specific refusal. The two
layers are also attacked alone: the translator's check on SQL text, and the locked-down DuckDB
instance on SQL that never went through the translator.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import snowflake.connector

import hoarfrost
from hoarfrost.errors import Error
from hoarfrost.sql.translate import translate
from tests.security.conftest import served  # noqa: F401
from tests.server.conftest import ServedAccount

UNKNOWN_FUNCTION = 2140
SYNTAX = 1003
UNSUPPORTED = 2
NOT_FOUND = 2003

# (statement template, errno, words the message must hold). {home} is the account home.
ATTACKS: dict[str, tuple[str, int, str]] = {
    "read_text master key": (
        "SELECT content FROM read_text('{home}/master.key')",
        UNKNOWN_FUNCTION,
        "Unknown function READ_TEXT",
    ),
    "read_blob catalog": (
        "SELECT content FROM read_blob('{home}/catalog.duckdb')",
        UNKNOWN_FUNCTION,
        "Unknown function READ_BLOB",
    ),
    "read_text environ": (
        "SELECT content FROM read_text('/proc/self/environ')",
        UNKNOWN_FUNCTION,
        "Unknown function READ_TEXT",
    ),
    "read_csv shadow": ("SELECT * FROM read_csv('/etc/shadow')", UNKNOWN_FUNCTION, "READ_CSV"),
    "read_csv_auto in TABLE()": (
        "SELECT * FROM TABLE(read_csv_auto('/etc/passwd'))",
        UNKNOWN_FUNCTION,
        "READ_CSV",
    ),
    "read_json": ("SELECT * FROM read_json('/etc/hosts')", UNKNOWN_FUNCTION, "READ_JSON"),
    "read_parquet": ("SELECT * FROM read_parquet('/tmp/x.parquet')", UNKNOWN_FUNCTION, "PARQUET"),
    "read_text in a subquery": (
        "SELECT 1 WHERE 'x' IN (SELECT content FROM read_text('/etc/passwd'))",
        UNKNOWN_FUNCTION,
        "READ_TEXT",
    ),
    "read_text in CTAS": (
        "CREATE TABLE stolen AS SELECT content FROM read_text('/etc/passwd')",
        UNKNOWN_FUNCTION,
        "READ_TEXT",
    ),
    "quoted read_text": (
        "SELECT * FROM \"read_text\"('/etc/passwd')",
        UNKNOWN_FUNCTION,
        "READ_TEXT",
    ),
    "parquet_metadata": (
        "SELECT * FROM parquet_metadata('/tmp/x.parquet')",
        UNKNOWN_FUNCTION,
        "PARQUET_METADATA",
    ),
    "duckdb_databases shows paths": (
        "SELECT path FROM duckdb_databases()",
        UNKNOWN_FUNCTION,
        "DUCKDB_DATABASES",
    ),
    "duckdb_settings": ("SELECT * FROM duckdb_settings()", UNKNOWN_FUNCTION, "DUCKDB_SETTINGS"),
    "duckdb_extensions": (
        "SELECT * FROM duckdb_extensions()",
        UNKNOWN_FUNCTION,
        "DUCKDB_EXTENSIONS",
    ),
    "current_setting": (
        "SELECT current_setting('temp_directory')",
        UNKNOWN_FUNCTION,
        "CURRENT_SETTING",
    ),
    "getenv": ("SELECT getenv('HOARFROST_SERVER_USERS')", UNKNOWN_FUNCTION, "GETENV"),
    "query() runs SQL from a string": (
        "SELECT * FROM query('SELECT * FROM read_text(''/etc/passwd'')')",
        UNKNOWN_FUNCTION,
        "QUERY",
    ),
    "sniff_csv": ("SELECT * FROM sniff_csv('/etc/passwd')", UNKNOWN_FUNCTION, "SNIFF_CSV"),
    "string as a table": ("SELECT * FROM '/etc/passwd'", SYNTAX, "cannot be used as a table"),
    "path as a quoted table name": (
        'SELECT * FROM "/etc/passwd"',
        NOT_FOUND,
        "'/etc/passwd' does not exist",
    ),
    "attach": ("ATTACH '/tmp/evil.duckdb' AS evil", SYNTAX, "syntax error"),
    "detach": ("DETACH HOARFROST", UNSUPPORTED, "unsupported statement"),
    "install": ("INSTALL httpfs", UNSUPPORTED, "unsupported statement"),
    "load": ("LOAD httpfs", UNSUPPORTED, "unsupported statement"),
    "reset": ("RESET lock_configuration", UNSUPPORTED, "unsupported"),
    "pragma": ("PRAGMA database_list", UNSUPPORTED, "unsupported statement"),
    "copy to a host file": ("COPY (SELECT 1) TO '/tmp/leak.csv'", UNSUPPORTED, "unsupported"),
    "export database": ("EXPORT DATABASE '/tmp/leak'", SYNTAX, "syntax error"),
}

# DuckDB's own wording never reaches the user.
LEAKS = ("DuckDB", "Permission Error", "Catalog Error", "Binder Error")


def _statement(template: str, home: Path | str) -> str:
    return template.format(home=home)


@pytest.fixture(scope="module")
def account(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    home = tmp_path_factory.mktemp("surface") / "acct"
    with hoarfrost.connect(home, role="PUBLIC") as con:
        yield con, home


@pytest.mark.parametrize("name", list(ATTACKS))
def test_refused_through_the_python_api(name: str, account: tuple[Any, Path]) -> None:
    con, home = account
    template, errno, words = ATTACKS[name]
    with pytest.raises(Error) as caught:
        con.execute(_statement(template, home)).fetchall()
    assert caught.value.errno == errno, caught.value
    assert words in caught.value.msg
    assert not any(leak in caught.value.msg for leak in LEAKS)
    assert not Path("/tmp/leak.csv").exists()


@pytest.fixture(scope="module")
def wire(served: ServedAccount) -> Iterator[snowflake.connector.SnowflakeConnection]:  # noqa: F811
    conn = served.connect(role="PUBLIC")
    yield conn
    conn.close()


@pytest.mark.parametrize("name", list(ATTACKS))
def test_refused_over_the_wire(
    name: str,
    wire: snowflake.connector.SnowflakeConnection,
    served: ServedAccount,  # noqa: F811
) -> None:
    template, errno, words = ATTACKS[name]
    with pytest.raises(snowflake.connector.errors.Error) as caught:
        wire.cursor().execute(_statement(template, served.home)).fetchall()
    assert caught.value.errno == errno, caught.value
    assert words in str(caught.value.msg)
    assert str(served.home) not in str(caught.value.msg)
    assert not any(leak in str(caught.value.msg) for leak in LEAKS)


def test_set_names_a_session_variable_never_a_duckdb_setting(account: tuple[Any, Path]) -> None:
    """Snowflake's SET assigns a session variable: DuckDB's settings stay out of reach."""
    con, home = account
    con.execute("SET enable_external_access = true")
    con.execute("SET (lock_configuration, allowed_directories) = (false, '/')")
    shown = {row[3]: row[4] for row in con.execute("SHOW VARIABLES").fetchall()}
    assert shown["ENABLE_EXTERNAL_ACCESS"] == "true" and shown["ALLOWED_DIRECTORIES"] == "/"
    with pytest.raises(Error):
        con.execute(_statement("SELECT content FROM read_text('{home}/master.key')", home))
    with pytest.raises(Error):
        con.execute("COPY (SELECT 1) TO '/tmp/leak.csv'")
    assert not Path("/tmp/leak.csv").exists()


def test_the_account_still_answers_after_the_attacks(
    wire: snowflake.connector.SnowflakeConnection,
) -> None:
    """The attacks changed nothing: the session works and no stolen table exists."""
    cur = wire.cursor()
    assert cur.execute("SELECT 1 + 1").fetchone() == (2,)
    cur.execute("SHOW TABLES LIKE 'STOLEN'")
    assert cur.fetchall() == []


# -- each layer alone ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", [n for n, (_, errno, _) in ATTACKS.items() if errno == UNKNOWN_FUNCTION]
)
def test_the_translator_alone_refuses_host_functions(name: str) -> None:
    template, _, words = ATTACKS[name]
    with pytest.raises(Error) as caught:
        translate(_statement(template, "/home/acct"))
    assert words in caught.value.msg


DUCKDB_ALONE = [
    "SELECT content FROM read_text('{home}/master.key')",
    "SELECT content FROM read_blob('{home}/catalog.duckdb')",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM '/etc/passwd'",
    "ATTACH '{home}/../evil.duckdb' AS evil",
    "ATTACH '/tmp/evil-attach.duckdb' AS evil",
    "COPY (SELECT 42) TO '/tmp/leak-duckdb.csv'",
    "INSTALL httpfs",
    "SET enable_external_access = true",
    "SET lock_configuration = false",
    "SET allowed_directories = ['/']",
]


@pytest.mark.parametrize("template", DUCKDB_ALONE)
def test_the_engines_duckdb_alone_refuses(template: str, account: tuple[Any, Path]) -> None:
    """SQL that never went through the translator (run_internal is the engine's own channel)
    still cannot reach the host: the DuckDB instance is locked down."""
    con, home = account
    refused = (duckdb.PermissionException, duckdb.InvalidInputException, duckdb.CatalogException)
    with pytest.raises(refused):
        con.session.run_internal(_statement(template, home)).fetchall()
    assert not Path("/tmp/leak-duckdb.csv").exists()
    assert not Path("/tmp/evil-attach.duckdb").exists()


def test_the_engines_duckdb_still_reaches_its_own_files(account: tuple[Any, Path]) -> None:
    """The lock-down leaves what the account needs: new databases, spilling, temp tables."""
    _, home = account
    with hoarfrost.connect(home) as con:  # creating databases is for SYSADMIN and above
        con.execute("CREATE DATABASE IF NOT EXISTS second_db")
        con.execute("CREATE OR REPLACE TABLE second_db.public.t AS SELECT 1 AS a")
        assert con.execute("SELECT a FROM second_db.public.t").fetchall() == [(1,)]
        con.execute("DROP DATABASE second_db")


def test_home_directories_and_files_are_private(account: tuple[Any, Path]) -> None:
    _, home = account
    for path in (home, home / "databases", home / "tmp"):
        assert path.stat().st_mode & 0o777 == 0o700, path
    for path in (home / "catalog.duckdb", home / "master.key", *home.glob("databases/*.duckdb")):
        assert path.stat().st_mode & 0o777 == 0o600, path
