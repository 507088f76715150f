"""Which views call Python UDFs, for batched evaluation (hoarfrost.sql.batch_views).

A snapshot of DuckDB's views whose text calls a UDF is kept per engine and per generation of
hoarfrost.engine.plans (every DDL moves it on); one taken inside an open transaction is not kept
(a ROLLBACK could undo the DDL it saw). A view is used only once its inlined query has been seen to
have the view's column names and types; a view whose check fails for want of a function not yet
registered in this process is checked again later.

Names resolve as DuckDB resolves them for this engine's sessions: a one-part name in the current
database and schema (unless a temporary table or view has it), a two-part one in the current
database; temporary views are never inlined.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb

from hoarfrost.engine.plans import plan_cache
from hoarfrost.sql.batch_guards import UDF_PREFIX
from hoarfrost.sql.batch_views import ViewQuery, inline_views, view_query
from hoarfrost.sql.batching import reads_tables

if TYPE_CHECKING:
    from hoarfrost.engine.context import Context

__all__ = ["with_views_inlined"]

_KEPT = 256  # inlined statements remembered per snapshot


@dataclass
class _Snapshot:
    generation: int
    views: dict[tuple[str, str, str], ViewQuery]
    names: set[str]  # lowercased names of the views, for a cheap first look at a statement
    temporary: set[str]  # lowercased names of temporary tables and views
    checked: dict[tuple[str, str, str], bool] = field(default_factory=dict)
    inlined: dict[tuple[str, str | None, str | None], str | None] = field(default_factory=dict)


class _Views:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.snapshot: _Snapshot | None = None


def with_views_inlined(session: Context, sql: str) -> str:
    """``sql`` with the views it reads that call UDFs replaced by their queries (or as it is)."""
    if not reads_tables(sql):
        return sql
    snapshot = _snapshot(session)
    if not snapshot.views:
        return sql
    upper = sql.upper()
    if not any(name.upper() in upper for name in snapshot.names):
        return sql  # a first look only: names are matched on the parsed statement
    key = (sql, session.database, session.schema)
    if key in snapshot.inlined:
        return snapshot.inlined[key] or sql
    unsure: list[bool] = []
    inlined = inline_views(sql, lambda parts: _find(session, snapshot, parts, unsure))
    if not unsure and len(snapshot.inlined) < _KEPT:
        snapshot.inlined[key] = inlined
    return inlined or sql


def _snapshot(session: Context) -> _Snapshot:
    holder = session.engine.service("batch_views", lambda _: _Views())
    generation = plan_cache(session.engine).generation
    in_transaction = session.transaction is not None
    with holder.lock:
        found = holder.snapshot
    if found is not None and found.generation == generation:
        return found  # no DDL since it was taken, in a transaction or not
    made = _take(session.duck, generation)
    if not in_transaction:
        with holder.lock:
            holder.snapshot = made
    return made


def _take(duck: duckdb.DuckDBPyConnection, generation: int) -> _Snapshot:
    rows = duck.execute(
        "SELECT database_name, schema_name, view_name, sql FROM duckdb_views() "
        "WHERE NOT internal AND NOT temporary AND contains(lower(sql), ?)",
        [UDF_PREFIX.lower()],
    ).fetchall()
    views: dict[tuple[str, str, str], ViewQuery] = {}
    for database, schema, name, text in rows:
        query = view_query(text, database, schema)
        if query is not None:
            views[(database.lower(), schema.lower(), name.lower())] = query
    temporary = []
    if views:
        temporary = duck.execute(
            "SELECT lower(table_name) FROM duckdb_tables() WHERE temporary UNION ALL "
            "SELECT lower(view_name) FROM duckdb_views() WHERE temporary AND NOT internal"
        ).fetchall()
    return _Snapshot(
        generation,
        views,
        {key[2] for key in views},
        {row[0] for row in temporary},
    )


def _find(
    session: Context, snapshot: _Snapshot, parts: tuple[str, ...], unsure: list[bool]
) -> ViewQuery | None:
    database = (session.database or "").lower()
    schema = (session.schema or "").lower()
    if len(parts) == 3:
        key = (parts[0], parts[1], parts[2])
    elif len(parts) == 2:
        key = (database, parts[0], parts[1])
    elif parts and parts[0] not in snapshot.temporary:
        key = (database, schema, parts[0])
    else:
        return None
    view = snapshot.views.get(key)
    if view is None:
        return None
    checked = _checked(session.duck, snapshot, key, view)
    if checked is None:
        unsure.append(True)
    return view if checked else None


def _checked(
    duck: duckdb.DuckDBPyConnection,
    snapshot: _Snapshot,
    key: tuple[str, str, str],
    view: ViewQuery,
) -> bool | None:
    """The inlined query has the view's column names and types (``None``: not known yet)."""
    found = snapshot.checked.get(key)
    if found is not None:
        return found
    name = ".".join(_quote(p) for p in key)
    columns = f"({', '.join(_quote(c) for c in view.columns)})" if view.columns else ""
    try:
        expected = duck.sql(f"SELECT * FROM {name} LIMIT 0")
        got = duck.sql(f"SELECT * FROM ({view.sql}) AS {_quote(key[2])}{columns} LIMIT 0")
    except duckdb.Error:
        return None  # e.g. a function not registered here yet: checked again next time
    same = expected.columns == got.columns and [str(t) for t in expected.types] == [
        str(t) for t in got.types
    ]
    snapshot.checked[key] = same
    return same


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
