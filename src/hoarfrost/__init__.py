"""hoarfrost: a Snowflake-compatible SQL engine on one machine (DuckDB underneath), whose
Python UDFs and procedures take their packages from your own artifact repository.

    import hoarfrost
    with hoarfrost.connect(":memory:") as con:
        print(con.execute("select 1").fetchall())
"""

from hoarfrost.connection import Connection, Cursor, connect
from hoarfrost.errors import (
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    Warning,
)
from hoarfrost.version import __version__

apilevel = "2.0"
threadsafety = 1
paramstyle = "qmark"

__all__ = [
    "Connection",
    "Cursor",
    "DataError",
    "DatabaseError",
    "Error",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NotSupportedError",
    "OperationalError",
    "ProgrammingError",
    "Warning",
    "__version__",
    "apilevel",
    "connect",
    "paramstyle",
    "threadsafety",
]
