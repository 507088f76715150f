"""Functions the engine answers itself because they read the catalog or the session:
``SYSTEM$...`` calls, ``CURRENT_ROLE()``-style context functions, and catalog-backed table
functions such as ``INFORMATION_SCHEMA.QUERY_HISTORY()``.

Subsystems add entries to these tables (``SYSTEM_FUNCTIONS[name] = fn``) when they load.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from hoarfrost.errors import InvalidValue

if TYPE_CHECKING:
    from hoarfrost.engine.session import Session

__all__ = ["SYSTEM_FUNCTIONS", "VIRTUAL_TABLES"]

SystemFunction = Callable[["Session", list[str]], str | None]
VirtualTable = Callable[["Session"], pa.Table]


def _arity(name: str, args: list[str], low: int, high: int) -> None:
    if not low <= len(args) <= high:
        raise InvalidValue(
            f"SQL compilation error:\n{name} takes {low if low == high else f'{low} to {high}'} "
            f"argument(s), got {len(args)}."
        )


def _repository_info(session: Session, args: list[str]) -> str | None:
    from hoarfrost.catalog.repositories import repository_info

    _arity("SYSTEM$GET_ARTIFACT_REPOSITORY_INFO", args, 1, 1)
    return repository_info(session, args[0])


def _default_repository(session: Session, args: list[str]) -> str | None:
    from hoarfrost.catalog.parameters import default_repository

    _arity("SYSTEM$GET_DEFAULT_PYTHON_ARTIFACT_REPOSITORY", args, 1, 3)
    level = args[1] if len(args) > 1 else "schema"
    name = args[2] if len(args) > 2 else ""
    return default_repository(session, args[0], level, name)


SYSTEM_FUNCTIONS: dict[str, SystemFunction] = {
    "SYSTEM$GET_ARTIFACT_REPOSITORY_INFO": _repository_info,
    "SYSTEM$GET_DEFAULT_PYTHON_ARTIFACT_REPOSITORY": _default_repository,
    "CURRENT_ROLE": lambda s, a: _attr(s, "role"),
    "CURRENT_USER": lambda s, a: _attr(s, "user"),
    "CURRENT_WAREHOUSE": lambda s, a: "HOARFROST_WH",
    "CURRENT_ACCOUNT": lambda s, a: "HOARFROST",
    "CURRENT_REGION": lambda s, a: "LOCAL",
    "CURRENT_DATABASE": lambda s, a: _attr(s, "database"),
    "CURRENT_SCHEMA": lambda s, a: _attr(s, "schema"),
    "CURRENT_VERSION": lambda s, a: _version(),
    "CURRENT_SESSION": lambda s, a: _attr(s, "id"),
}


def _attr(session: Session, name: str) -> str | None:
    value = getattr(session, name)
    return None if value is None else str(value)


def _version() -> str:
    from hoarfrost import __version__

    return __version__


_HISTORY_COLUMNS = [
    "QUERY_ID",
    "SESSION_ID",
    "USER_NAME",
    "ROLE_NAME",
    "DATABASE_NAME",
    "SCHEMA_NAME",
    "QUERY_TEXT",
    "QUERY_TYPE",
    "EXECUTION_STATUS",
    "ERROR_CODE",
    "ERROR_MESSAGE",
    "START_TIME",
    "END_TIME",
    "ROWS_PRODUCED",
]


def _query_history(session: Session) -> pa.Table:
    rows = session.engine.catalog.execute(
        "SELECT * FROM query_history ORDER BY start_time DESC LIMIT 10000"
    )
    return _table(_HISTORY_COLUMNS, rows)


def _table(names: list[str], rows: list[tuple[Any, ...]]) -> pa.Table:
    if not rows:
        return pa.Table.from_arrays([pa.array([], pa.string()) for _ in names], names=names)
    arrays = [pa.array(list(col)) for col in zip(*rows, strict=True)]
    return pa.Table.from_arrays(arrays, names=names)


VIRTUAL_TABLES: dict[str, VirtualTable] = {
    "QUERY_HISTORY": _query_history,
    "QUERY_HISTORY_BY_SESSION": _query_history,
    "QUERY_HISTORY_BY_USER": _query_history,
}
