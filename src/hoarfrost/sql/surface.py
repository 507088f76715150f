"""The SQL surface is Snowflake's, not DuckDB's: what would let a statement reach the host is
refused at translation, before DuckDB sees it.

DuckDB answers calls that Snowflake does not have and that read or describe the machine:
``read_text('/etc/passwd')``, ``read_blob('<home>/catalog.duckdb')``, ``glob``,
``duckdb_databases()`` (file paths), ``current_setting('temp_directory')``, ``query('ATTACH
...')`` (SQL from a string, past this check), and replacement scans of files named as tables
(``FROM '/etc/passwd'``, ``FROM "/tmp/x.csv"``). Each is
an unknown function (or a syntax error) for the user, as in Snowflake. The engine's DuckDB
instance is locked down as well (no external access, configuration locked): this is the first of
two independent layers, and either one alone refuses every statement above.

DuckDB-only *statements* (ATTACH, INSTALL, LOAD, SET, PRAGMA, COPY, EXPORT ...) never reach
DuckDB either: the translator accepts only queries, DML, transactions and table / view / schema
DDL.
"""

from __future__ import annotations

from sqlglot import exp

from hoarfrost.errors import ObjectNotFound, ProgrammingError, SqlSyntaxError

__all__ = ["check_surface", "unknown_function"]

# DuckDB table functions a Snowflake translation may use: they compute, they read nothing.
_HARMLESS_TABLE_FUNCTIONS = frozenset(
    {"RANGE", "GENERATE_SERIES", "UNNEST", "JSON_EACH", "JSON_TREE", "REPEAT", "REPEAT_ROW"}
)
# Names DuckDB answers (functions, table functions, pragmas as functions) that read files, run
# SQL from strings or show the engine's settings, paths, extensions and secrets. Prefixes cover
# the families; the list covers the rest (from duckdb_functions() of DuckDB 2.0).
_HOST_PREFIXES = (
    "READ_",
    "DUCKDB_",
    "PRAGMA_",
    "PARQUET_",
    "ICEBERG_",
    "DELTA_",
    "SQLITE_",
    "POSTGRES_",
    "MYSQL_",
    "JSON_EXECUTE_",
    "ENABLE_",
    "DISABLE_",
    "FORCE_",
)
_HOST_FUNCTIONS = frozenset(
    {
        "ADD_GRAMMAR_EXTENSION",
        "ADD_PARQUET_KEY",
        "ARROW_SCAN",
        "ARROW_SCAN_DUMB",
        "CHECKPOINT",
        "COLLATIONS",
        "COPY_DATABASE",
        "CREATE_EXTERNAL_RESOURCE",
        "CURRENT_SETTING",
        "DATABASE_LIST",
        "DATABASE_SIZE",
        "DEREGISTER_EXTERNAL_RESOURCE",
        "DESTROY_EXTERNAL_RESOURCE",
        "EXTENSION_VERSIONS",
        "FUNCTIONS",
        "GETENV",
        "GLOB",
        "IMPORT_DATABASE",
        "LOAD_EXTENSION",
        "METADATA_INFO",
        "PANDAS_SCAN",
        "PLATFORM",
        "PYTHON_ARROW_SCAN",
        "PYTHON_MAP_FUNCTION",
        "QUERY",
        "QUERY_TABLE",
        "REGISTER_EXTERNAL_RESOURCE",
        "REGISTER_EXTERNAL_RESOURCE_TYPE",
        "REMOVE_GRAMMAR_EXTENSION",
        "SEQ_SCAN",
        "SHOW",
        "SHOW_DATABASES",
        "SHOW_TABLES",
        "SHOW_TABLES_EXPANDED",
        "SNIFF_CSV",
        "STORAGE_INFO",
        "SUMMARY",
        "TABLE_INFO",
        "TEST_ALL_TYPES",
        "TEST_VECTOR_TYPES",
        "TRUNCATE_DUCKDB_LOGS",
        "USER_AGENT",
        "VERIFY_PARALLELISM",
        "WHICH_SECRET",
    }
)


_PATH_SEPARATORS = ("/", "\\")


def unknown_function(name: str) -> ProgrammingError:
    """Snowflake's error for a function it does not have."""
    return ProgrammingError(
        f"SQL compilation error:\nUnknown function {name.upper()}", errno=2140, sqlstate="42601"
    )


def _reaches_host(name: str) -> bool:
    upper = name.upper()
    if upper in _HARMLESS_TABLE_FUNCTIONS:
        return False
    return upper in _HOST_FUNCTIONS or upper.startswith(_HOST_PREFIXES)


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name)
    return node.sql_name()


def check_surface(tree: exp.Expr) -> None:
    """Raise the user's error for the first call or scan that would reach the host."""
    for node in tree.find_all(exp.Func, exp.Table):
        if isinstance(node, exp.Table):
            if isinstance(node.this, exp.Literal):  # FROM '/path/file.csv'
                raise SqlSyntaxError(
                    "SQL compilation error:\nsyntax error: a string cannot be used as a table; "
                    "name a table, or a stage when stages are supported."
                )
            if any(sep in node.name for sep in _PATH_SEPARATORS):  # FROM "/etc/passwd"
                # DuckDB would read a missing table with a path for a name as that file.
                raise ObjectNotFound(
                    f"SQL compilation error:\nObject '{node.name}' does not exist or not "
                    "authorized."
                )
            continue
        assert isinstance(node, exp.Func)
        name = _function_name(node)
        if _reaches_host(name):
            raise unknown_function(name)
