"""The one error hierarchy of hoarfrost.

Every error a user can see is one of these, rooted in the PEP 249 classes, so the CLI, the
Python API and the wire server render the same object. Each carries a Snowflake-style ``errno``
and ``sqlstate`` (the reference system's numbers where it has them) and renders as
``NNNNNN (SQLST): message``.

    Exception
     +-- Warning
     +-- Error                                   errno, sqlstate, msg
          +-- InterfaceError
          |    +-- ConfigurationError            bad setting / environment
          +-- DatabaseError
               +-- DataError
               +-- OperationalError
               |    +-- RepositoryError          upstream index failures, with http_status
               |    +-- WorkerError              a worker crashed, hung or ran out of memory
               +-- IntegrityError
               +-- InternalError
               +-- NotSupportedError
               |    +-- UnsupportedFeature        000002 (0A000)
               +-- ProgrammingError
                    +-- SqlSyntaxError            001003 (42000)
                    +-- ObjectNotFound            002003 (42S02)
                    +-- ObjectAlreadyExists       002002 (42710)
                    +-- InvalidValue              001008 (22023)
                    +-- InvalidIdentifier         000904 (42000)
                    +-- InsufficientPrivileges    003001 (42501)
                    +-- PackageError              100357 (P0000) package resolution failures
                    +-- UserCodeError             100357 (P0000) an exception in user code

Foreign exceptions (DuckDB, sqlglot, httpx, subprocess) are translated at one boundary
(:func:`hoarfrost.engine.translate`), never shown raw.
"""

from __future__ import annotations

import builtins

__all__ = [
    "ConfigurationError",
    "DataError",
    "DatabaseError",
    "Error",
    "InsufficientPrivileges",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "InvalidIdentifier",
    "InvalidValue",
    "NotSupportedError",
    "ObjectAlreadyExists",
    "ObjectNotFound",
    "OperationalError",
    "PackageError",
    "ProgrammingError",
    "RepositoryError",
    "SqlSyntaxError",
    "UnsupportedFeature",
    "UserCodeError",
    "Warning",
    "WorkerError",
]


class Warning(builtins.Warning):
    """PEP 249 warning."""


class Error(Exception):
    """Root of every hoarfrost error (PEP 249 ``Error``)."""

    default_errno: int = 200001
    default_sqlstate: str = "XX000"

    def __init__(self, msg: str, *, errno: int | None = None, sqlstate: str | None = None):
        super().__init__(msg)
        self.msg = msg
        self.errno = self.default_errno if errno is None else errno
        self.sqlstate = self.default_sqlstate if sqlstate is None else sqlstate

    def __str__(self) -> str:
        return f"{self.errno:06d} ({self.sqlstate}): {self.msg}"


class InterfaceError(Error):
    default_errno = 251001
    default_sqlstate = "08001"


class ConfigurationError(InterfaceError):
    """A setting or the machine's environment is wrong; the message says which."""

    default_errno = 251005
    default_sqlstate = "08001"


class DatabaseError(Error):
    pass


class DataError(DatabaseError):
    default_errno = 100038
    default_sqlstate = "22018"


class OperationalError(DatabaseError):
    default_errno = 250003
    default_sqlstate = "08001"


class RepositoryError(OperationalError):
    """An upstream repository failed; ``http_status`` has the meaning of SPEC.md section 6."""

    default_errno = 100400
    default_sqlstate = "08004"

    def __init__(self, msg: str, *, http_status: int, errno: int | None = None):
        super().__init__(msg, errno=errno)
        self.http_status = http_status


class WorkerError(OperationalError):
    default_errno = 100357
    default_sqlstate = "P0000"


class IntegrityError(DatabaseError):
    default_errno = 100072
    default_sqlstate = "22000"


class InternalError(DatabaseError):
    default_errno = 603
    default_sqlstate = "XX000"


class NotSupportedError(DatabaseError):
    default_errno = 2
    default_sqlstate = "0A000"


class UnsupportedFeature(NotSupportedError):
    pass


class ProgrammingError(DatabaseError):
    default_errno = 2043
    default_sqlstate = "02000"


class SqlSyntaxError(ProgrammingError):
    default_errno = 1003
    default_sqlstate = "42000"


class ObjectNotFound(ProgrammingError):
    default_errno = 2003
    default_sqlstate = "42S02"


class ObjectAlreadyExists(ProgrammingError):
    default_errno = 2002
    default_sqlstate = "42710"


class InvalidValue(ProgrammingError):
    default_errno = 1008
    default_sqlstate = "22023"


class InvalidIdentifier(ProgrammingError):
    default_errno = 904
    default_sqlstate = "42000"


class InsufficientPrivileges(ProgrammingError):
    default_errno = 3001
    default_sqlstate = "42501"


class PackageError(ProgrammingError):
    """Package resolution failed; messages use the reference texts users search for."""

    default_errno = 100357
    default_sqlstate = "P0000"


class UserCodeError(ProgrammingError):
    """User Python code raised; the message holds the type, message and the user's traceback."""

    default_errno = 100357
    default_sqlstate = "P0000"
