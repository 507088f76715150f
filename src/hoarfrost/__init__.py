"""hoarfrost: a Snowflake-compatible SQL engine on one machine (DuckDB underneath), whose
Python UDFs and procedures take their packages from your own artifact repository.

    import hoarfrost
    with hoarfrost.connect(":memory:") as con:
        print(con.execute("select 1").fetchall())
"""

from typing import Any

from hoarfrost.connection import Connection, Cursor
from hoarfrost.connection import connect as _connect
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


def connect(home: Any = None, **settings: Any) -> Connection:
    """Open (creating if needed) the account in ``home``; see :func:`hoarfrost.connection.connect`.

    Procedures of the account get a real Snowpark Session, served in process by the wire
    protocol's own app (no socket is opened)."""
    from hoarfrost.server.bridge import attach

    connection = _connect(home, **settings)
    attach(connection.engine)
    return connection


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
