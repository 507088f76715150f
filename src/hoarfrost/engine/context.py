"""The statement context: what a statement handler may use of its session, and the registry of
handlers and engine-answered names a session runs with.

Handlers live above the engine (``hoarfrost.commands``) and the session class with them; the
engine's services (UDF evaluation, resolution, calls) and the handlers take a :class:`Context`,
defined here so that nothing below the statement layer imports it.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import duckdb
import pyarrow as pa

from hoarfrost.catalog.scope import Scope
from hoarfrost.errors import UnsupportedFeature
from hoarfrost.sql.ast import Parsed

if TYPE_CHECKING:
    from hoarfrost.engine.engine import Engine
    from hoarfrost.engine.result import Result

__all__ = [
    "PROCEDURE_WIRE",
    "RESULTS_KEPT",
    "RESULT_SCAN_ROWS",
    "Context",
    "Handler",
    "OpenTransaction",
    "ParameterRows",
    "ProcedureWire",
    "Registry",
    "SystemFunction",
    "VirtualTable",
]


# RESULT_SCAN reaches a session's last RESULTS_KEPT queries, those of at most RESULT_SCAN_ROWS
# rows (kept in memory); LAST_QUERY_ID reaches them all.
RESULTS_KEPT = 32
RESULT_SCAN_ROWS = 100_000


class Context(Scope, Protocol):
    """One user's session as statement handlers and engine services see it."""

    engine: Engine
    # Snowflake's view of the open transaction (DuckDB's transaction holds the work), or None.
    transaction: OpenTransaction | None
    # SET v = ...: name -> the value (commands/variables.py)
    variables: dict[str, Any]
    duck: duckdb.DuckDBPyConnection
    parameters: dict[str, str]
    registry: Registry
    # query id -> the result of one of the session's recent queries (RESULT_SCAN, LAST_QUERY_ID)
    recent_results: OrderedDict[str, Result | None]
    # A query's rows may come back as a stream (StreamResult) its caller drains at once, before
    # the session's next statement: the wire server, which spools them as result chunks.
    stream_results: bool

    def use(self, database: str | None, schema: str | None) -> None: ...

    def execute(self, sql: str) -> list[Result]:
        """Run a script in this session (a procedure's SQL channel)."""
        ...

    def run_internal(
        self, sql: str, params: Sequence[Any] | None = None
    ) -> duckdb.DuckDBPyConnection:
        """Run engine-generated DuckDB SQL on this session's connection."""
        ...


Handler = Callable[[Context, Any], "Result"]

# The engine service (``engine.service``) that gives procedures a real Snowpark Session, set up
# by the layer that serves the wire protocol (hoarfrost.server): see ProcedureWire.
PROCEDURE_WIRE = "procedure_wire"


class ProcedureWire(Protocol):
    def open_call(self, session: Any) -> dict[str, Any]:
        """Login details (a token for this call only) for the worker's connector."""
        ...

    def end_call(self, wire: dict[str, Any]) -> None: ...

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """Serve one HTTP request of the connector: {method, url, headers, body}."""
        ...


SystemFunction = Callable[[Context, list[str]], "str | bool | None"]
VirtualTable = Callable[[Context], pa.Table]
ParameterRows = Callable[[Context, str], list[tuple[str, str, str, str, str, str]]]

# How unsupported statements are named in errors.
_VERBS = {
    "Create": "CREATE",
    "Alter": "ALTER",
    "Drop": "DROP",
    "Show": "SHOW",
    "Describe": "DESCRIBE",
    "Use": "USE",
    "Grant": "GRANT",
    "Call": "CALL",
}


@dataclass(frozen=True)
class Registry:
    """Everything a session dispatches to, assembled by value in one place
    (:mod:`hoarfrost.commands.registry`).

    ``handlers`` maps (statement class name, object kind) to a handler; ``system_functions``
    are engine-answered scalar calls (``SYSTEM$...``, ``CURRENT_ROLE()``); ``virtual_tables``
    catalog-backed table functions (``TABLE(INFORMATION_SCHEMA.X())``), of which
    ``virtual_views`` are also readable as plain views; ``parameter_rows`` add rows to
    SHOW PARAMETERS (scope -> rows).
    """

    handlers: Mapping[tuple[str, str], Handler]
    system_functions: Mapping[str, SystemFunction]
    virtual_tables: Mapping[str, VirtualTable]
    virtual_views: frozenset[str]
    parameter_rows: tuple[ParameterRows, ...]

    def dispatch(self, context: Context, node: Parsed) -> Result:
        """Parse first, then decide: the handler of the statement's (verb, kind)."""
        verb = type(node).__name__
        kind = str(getattr(node, "kind", None) or getattr(node, "on_kind", ""))
        handler = self.handlers.get((verb, kind))
        if handler is None:
            raise UnsupportedFeature(
                f"{_VERBS.get(verb, verb)} {kind} is not supported by hoarfrost."
            )
        return handler(context, node)


@dataclass
class OpenTransaction:
    """A session's open transaction: BEGIN, or the first statement with AUTOCOMMIT off."""

    id: int
    started: dt.datetime
    name: str | None = None
    # A statement failed inside DuckDB, which then rolls the whole transaction back (it has no
    # savepoints): the session must end it with COMMIT or ROLLBACK before going on.
    aborted: bool = False
