"""A Session: one user's current database, schema and role, and the statement loop.

``execute`` splits a script, parses each statement (parse first), looks its handler up in the
registry (then decide), records it in the query history (redacted for secrets) and turns every
foreign exception into a hoarfrost error at one boundary. A Session is the
:class:`~hoarfrost.engine.context.Context` its handlers receive.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb

from hoarfrost.catalog.crypto import KeyRing
from hoarfrost.catalog.privileges import has_privilege
from hoarfrost.catalog.relations import database as database_record
from hoarfrost.catalog.scope import TempKey
from hoarfrost.catalog.store import CatalogObject, CatalogStore
from hoarfrost.catalog.users import session_role, user_for_session
from hoarfrost.commands.registry import REGISTRY
from hoarfrost.engine.boundary import translate_exception
from hoarfrost.engine.context import RESULT_SCAN_ROWS, RESULTS_KEPT, OpenTransaction, Registry
from hoarfrost.engine.engine import DEFAULT_DATABASE, DEFAULT_SCHEMA, Engine
from hoarfrost.engine.history import HistoryRow, query_history
from hoarfrost.engine.plans import PlanCache, plan_cache
from hoarfrost.engine.result import Result, StreamResult
from hoarfrost.engine.stage_refs import discard_temporary_stages
from hoarfrost.errors import Error, ObjectNotFound, ProgrammingError
from hoarfrost.sql.ast import Name, Ordinary, Parsed
from hoarfrost.sql.binding import bind, placeholders
from hoarfrost.sql.redaction import carries_secrets, redacted_text
from hoarfrost.sql.tokens import Statement, split

__all__ = ["Session"]


class Session:
    def __init__(
        self,
        engine: Engine,
        *,
        user: str | None = None,
        role: str | None = None,
        database: str | None = DEFAULT_DATABASE,
        schema: str | None = DEFAULT_SCHEMA,
        registry: Registry = REGISTRY,
    ):
        self.engine = engine
        self.registry = registry
        self.id = engine.next_session_id()
        account_user = user_for_session(engine.catalog, user or engine.settings.user)
        self.user = account_user.name
        # The requested role if the user holds it, else the user's default role, else PUBLIC.
        self.role = session_role(engine.catalog, account_user, role.upper() if role else None)
        self.secondary_roles = False
        self.database: str | None = None
        self.schema: str | None = None
        self.duck = engine.data.cursor()
        self.temp_objects: dict[TempKey, CatalogObject] = {}
        self.parameters: dict[str, str] = {}
        self.transaction: OpenTransaction | None = None
        self.variables: dict[str, Any] = {}
        # The wire server sets ``streams``: then an ordinary statement's query result may stream
        # (``stream_results``, set per statement; a handler that runs ordinary SQL and cleans
        # up after it gets a materialised result).
        self.streams = False
        self.stream_results = False
        self._streaming: StreamResult | None = None
        self.closed = False
        self.recent_results: OrderedDict[str, Result | None] = OrderedDict()
        if database:
            db_obj = database_record(engine.catalog, database)
            if db_obj is not None and not has_privilege(self, "USAGE", db_obj):
                raise ObjectNotFound(
                    f"SQL compilation error:\nDatabase '{database}' does not exist or not "
                    "authorized."
                )
            self.use(database, schema)

    @property
    def catalog(self) -> CatalogStore:
        return self.engine.catalog

    @property
    def keyring(self) -> KeyRing:
        return self.engine.keyring

    # -- names ---------------------------------------------------------------------------
    def use(self, database: str | None, schema: str | None) -> None:
        if database is not None and database not in self.engine.attached():
            raise ObjectNotFound(
                f"SQL compilation error:\nObject '{database}' does not exist or not authorized."
            )
        self.database = database
        self.schema = schema
        if database and schema:
            self.duck.execute(f"USE {_q(database)}.{_q(schema)}")
        elif database:
            self.duck.execute(f"USE {_q(database)}")

    def qualify(self, name: Name) -> tuple[str, str, str]:
        """(database, schema, name) of a schema-level object name, against the current ones."""
        parts = name.parts
        if len(parts) == 3:
            return parts[0], parts[1], parts[2]
        if len(parts) == 2:
            return self.need_database(), parts[0], parts[1]
        return self.need_database(), self.need_schema(), parts[0]

    def need_database(self) -> str:
        if not self.database:
            raise ProgrammingError(
                "Cannot perform this operation. This session does not have a current database. "
                "Call 'USE DATABASE', or use a qualified name.",
                errno=90105,
                sqlstate="22000",
            )
        return self.database

    def need_schema(self) -> str:
        if not self.schema:
            raise ProgrammingError(
                "Cannot perform this operation. This session does not have a current schema. "
                "Call 'USE SCHEMA', or use a qualified name.",
                errno=90106,
                sqlstate="22000",
            )
        return self.schema

    # -- statements ----------------------------------------------------------------------
    def execute(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> list[Result]:
        """Run a script. ``params`` (client-side binding) stay parameters of DuckDB's prepared
        statement when the script is one ordinary statement the engine runs as it is; otherwise
        they are inlined as literals (:func:`hoarfrost.sql.binding.bind`)."""
        if self.closed:
            raise ProgrammingError("The session is closed.", errno=250002, sqlstate="08003")
        plans = plan_cache(self.engine)
        if params is not None:
            kept = self._kept_parameters(plans, sql, params)
            if kept is not None:
                return [self.execute_statement(kept[0], kept[1], kept[1].params)]
            sql = bind(sql, params)
        return self.execute_statements(plans.statements(sql))

    def execute_statements(self, statements: Sequence[Statement]) -> list[Result]:
        """Run a script already split into statements (the wire server splits it first)."""
        if self.closed:
            raise ProgrammingError("The session is closed.", errno=250002, sqlstate="08003")
        if not statements:
            raise ProgrammingError(
                "SQL compilation error:\nEmpty SQL statement.", errno=900, sqlstate="42000"
            )
        return [self.execute_statement(st) for st in statements]

    def _kept_parameters(
        self, plans: PlanCache, sql: str, params: Sequence[Any] | Mapping[str, Any]
    ) -> tuple[Statement, Ordinary] | None:
        marked = placeholders(sql, params)
        if marked is None:
            return None
        text, values = marked
        try:
            statements = plans.statements(text)
            if len(statements) != 1:
                return None
            node = plans.node(statements[0])
        except Error:  # a placeholder where only a literal parses (IDENTIFIER(?), options)
            return None
        if not isinstance(node, Ordinary):
            return None
        return statements[0], Ordinary(node.statement, tuple(values))

    def execute_statement(
        self,
        statement: Statement,
        node: Parsed | None = None,
        params: Sequence[Any] | Mapping[str, Any] | None = None,
    ) -> Result:
        if self._streaming is not None:
            # The previous statement's rows still stream from this session's DuckDB
            # connection, which the next statement takes over: keep them in memory.
            self._streaming.table  # noqa: B018
            self._streaming = None
        query_id = str(uuid.uuid4())
        started = _now()
        plans = plan_cache(self.engine)
        try:
            if node is None:
                node = plans.node(statement)
            self.stream_results = self.streams and isinstance(node, Ordinary)
            result = self.registry.dispatch(self, node)
        except Exception as exc:
            # Errors of a statement with anything to hide never quote its text.
            hidden = carries_secrets(statement) or redacted_text(statement) != statement.text
            error = translate_exception(exc, sensitive=hidden)
            self._record(query_id, statement, params, started, None, error)
            raise error from None
        finally:
            if type(node).__name__ not in _KEEPS_NAMES:
                plans.invalidate()
        result.query_id = query_id
        if isinstance(result, StreamResult):
            self._streaming = result
        self._record(query_id, statement, params, started, result, None)
        self._keep(result)
        return result

    def adopt_query_id(self, result: Result, query_id: str) -> None:
        """The wire server names a query before it runs: its id becomes the result's, so that
        RESULT_SCAN and LAST_QUERY_ID know the id the client was given."""
        kept = self.recent_results
        if result.query_id in kept:
            kept[query_id] = kept.pop(result.query_id)
        result.query_id = query_id

    def _keep(self, result: Result) -> None:
        """Keep the last results for RESULT_SCAN and LAST_QUERY_ID (big ones only as ids)."""
        kept = self.recent_results
        kept[result.query_id] = result if 0 <= result.rowcount <= RESULT_SCAN_ROWS else None
        while len(kept) > RESULTS_KEPT:
            kept.popitem(last=False)

    def _record(
        self,
        query_id: str,
        statement: Statement,
        params: Sequence[Any] | Mapping[str, Any] | None,
        started: dt.datetime,
        result: Result | None,
        error: Error | None,
    ) -> None:
        query_history(self.engine).record(
            HistoryRow(
                query_id,
                self.id,
                self.user,
                self.role,
                self.database,
                self.schema,
                lambda: _history_text(statement, params),
                result.statement_type if result else None,
                None if error is None else f"{error.errno:06d}",
                None if error is None else error.msg,
                started,
                _now(),
                (lambda: result.rowcount) if result else lambda: None,
            )
        )

    def run_internal(
        self, sql: str, params: Sequence[Any] | None = None
    ) -> duckdb.DuckDBPyConnection:
        """Run DuckDB SQL on this session's connection (engine-generated SQL only)."""
        return self.duck.execute(sql, list(params or []))

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            discard_temporary_stages(self)
            self._drop_temporary_tables()
            self.temp_objects.clear()
            self.duck.close()
            query_history(self.engine).flush()

    def _drop_temporary_tables(self) -> None:
        """Temporary tables made under a qualified name live in their schema: drop them."""
        for obj in self.temp_objects.values():
            if obj.kind in ("TABLE", "VIEW") and obj.props.get("drop_at_close"):
                name = f"{_q(obj.database)}.{_q(obj.schema)}.{_q(obj.name)}"
                try:
                    self.duck.execute(f"DROP {obj.kind} IF EXISTS {name}")
                except duckdb.Error:
                    continue  # its schema went first: nothing left to drop


# Statements after which a name still means what it meant (everything else may create, drop or
# shadow a function, or change the session's context): see hoarfrost.engine.plans.
_KEEPS_NAMES = frozenset({"Ordinary", "Show", "Describe", "Call", "Transaction", "Variables"})


def _history_text(statement: Statement, params: Sequence[Any] | Mapping[str, Any] | None) -> str:
    """The text as the history shows it: parameters inlined, secrets redacted."""
    if params is None:
        return redacted_text(statement)
    return redacted_text(split(bind(statement.text, params))[0])


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
