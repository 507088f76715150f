"""Functions the engine answers itself because they read the catalog or the session:
``SYSTEM$...`` calls, ``CURRENT_ROLE()``-style context functions, and catalog-backed table
functions such as ``INFORMATION_SCHEMA.QUERY_HISTORY()``.

Other modules export tables of the same shape; :mod:`hoarfrost.commands.registry` joins them.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from hoarfrost.catalog.privileges import has_account_privilege
from hoarfrost.commands.parameters import default_repository
from hoarfrost.commands.repositories import repository_info
from hoarfrost.engine.context import Context, SystemFunction, VirtualTable
from hoarfrost.engine.history import query_history
from hoarfrost.errors import InvalidValue
from hoarfrost.version import __version__

__all__ = ["SYSTEM_FUNCTIONS", "VIRTUAL_TABLES"]


def _arity(name: str, args: list[str], low: int, high: int) -> None:
    if not low <= len(args) <= high:
        raise InvalidValue(
            f"SQL compilation error:\n{name} takes {low if low == high else f'{low} to {high}'} "
            f"argument(s), got {len(args)}."
        )


def _repository_info(session: Context, args: list[str]) -> str | None:
    _arity("SYSTEM$GET_ARTIFACT_REPOSITORY_INFO", args, 1, 1)
    return repository_info(session, args[0])


def _default_repository(session: Context, args: list[str]) -> str | None:
    _arity("SYSTEM$GET_DEFAULT_PYTHON_ARTIFACT_REPOSITORY", args, 1, 3)
    level = args[1] if len(args) > 1 else "schema"
    name = args[2] if len(args) > 2 else ""
    return default_repository(session, args[0], level, name)


def _last_query_id(session: Context, args: list[str]) -> str | None:
    """LAST_QUERY_ID([n]): -1 (the default) is the session's latest query, 1 its first (of
    those kept), and so on."""
    _arity("LAST_QUERY_ID", args, 0, 1)
    try:
        n = int(args[0]) if args else -1
    except ValueError:
        raise InvalidValue(
            "SQL compilation error:\nLAST_QUERY_ID takes an integer position."
        ) from None
    ids = list(session.recent_results)
    if n == 0 or abs(n) > len(ids):
        return None
    return ids[n] if n < 0 else ids[n - 1]


SYSTEM_FUNCTIONS: dict[str, SystemFunction] = {
    "LAST_QUERY_ID": _last_query_id,
    "SYSTEM$GET_ARTIFACT_REPOSITORY_INFO": _repository_info,
    "SYSTEM$GET_DEFAULT_PYTHON_ARTIFACT_REPOSITORY": _default_repository,
    "CURRENT_ROLE": lambda s, a: _attr(s, "role"),
    "CURRENT_USER": lambda s, a: _attr(s, "user"),
    "CURRENT_WAREHOUSE": lambda s, a: "HOARFROST_WH",
    "CURRENT_ACCOUNT": lambda s, a: "HOARFROST",
    "CURRENT_REGION": lambda s, a: "LOCAL",
    "CURRENT_DATABASE": lambda s, a: _attr(s, "database"),
    "CURRENT_SCHEMA": lambda s, a: _attr(s, "schema"),
    "CURRENT_VERSION": lambda s, a: __version__,
    "CURRENT_SESSION": lambda s, a: _attr(s, "id"),
    "CURRENT_CLIENT": lambda s, a: f"hoarfrost {__version__}",
    "CURRENT_IP_ADDRESS": lambda s, a: "127.0.0.1",
    "CURRENT_ACCOUNT_NAME": lambda s, a: "HOARFROST",
    "CURRENT_ORGANIZATION_NAME": lambda s, a: "HOARFROST",
    # Snowpark's Session.close() sends it; statements here run one at a time per session, so
    # when it runs nothing else of the session is running.
    "SYSTEM$CANCEL_ALL_QUERIES": lambda s, a: "0 queries terminated.",
}


def _attr(session: Context, name: str) -> str | None:
    value = getattr(session, name)
    return None if value is None else str(value)


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


def _query_history(session: Context) -> pa.Table:
    query_history(session.engine).flush()  # rows still waiting for the writer are history too
    # A user sees their own queries; roles with MONITOR on the account (ACCOUNTADMIN) see all.
    if has_account_privilege(session, "MONITOR"):
        rows = session.catalog.execute(
            "SELECT * FROM query_history ORDER BY start_time DESC LIMIT 10000"
        )
    else:
        rows = session.catalog.execute(
            "SELECT * FROM query_history WHERE user_name=? ORDER BY start_time DESC LIMIT 10000",
            [session.user],
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
