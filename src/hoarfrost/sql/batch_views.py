"""Views that call Python UDFs, opened up for batched evaluation (see hoarfrost.sql.batching).

A view is stored by DuckDB as its own rendering of the view's (translated) query. A statement
reading the view names only the view, so its UDF calls are out of the batch planner's sight;
:func:`inline_views` puts each such view's query in its place, as a subquery aliased the way the
table was (the view's column list included), and the planner finds the calls there.

:func:`view_query` reads DuckDB's ``CREATE VIEW`` text: DuckDB binds a view's table names in the
view's own database and schema, so they are qualified with them; the view must call a UDF, and
sqlglot must print the query back the same way twice (else the text is not one it reads
faithfully). The engine also checks that the inlined query has the view's column names and types
before using it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from hoarfrost.sql.batch_guards import is_udf
from hoarfrost.sql.duck_dialect import DUCKDB

__all__ = ["ViewQuery", "inline_views", "view_query"]

# Views reading views reading views: deeper ones are left to DuckDB.
_DEPTH = 4
_SIMPLE = {"this", "db", "catalog", "alias"}


@dataclass(frozen=True)
class ViewQuery:
    sql: str  # the view's query, table names qualified
    columns: tuple[str, ...]  # CREATE VIEW v (a, b): the names given, else ()


@functools.lru_cache(maxsize=1024)
def view_query(create_sql: str, database: str, schema: str) -> ViewQuery | None:
    """The query of a view calling a UDF, from DuckDB's ``CREATE VIEW`` text, or ``None``
    (cached: the views' texts are read again after every DDL)."""
    try:
        tree = sqlglot.parse_one(create_sql, read="duckdb")
    except SqlglotError:
        return None
    query = tree.expression if isinstance(tree, exp.Create) else None
    if not isinstance(query, exp.Query) or not any(
        is_udf(n) for n in query.find_all(exp.Anonymous)
    ):
        return None
    for call in query.find_all(exp.Anonymous):
        if is_udf(call):
            call.set("this", call.name.upper())  # DuckDB writes them lowercase
    ctes = _cte_names(query)
    for table in query.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            continue  # a table function
        if not table.args.get("db") and table.name.lower() in ctes:
            continue
        if not table.args.get("db"):
            table.set("db", exp.to_identifier(schema, quoted=True))
        if not table.args.get("catalog"):
            table.set("catalog", exp.to_identifier(database, quoted=True))
    text = query.sql(dialect=DUCKDB)
    try:
        if sqlglot.parse_one(text, read="duckdb").sql(dialect=DUCKDB) != text:
            return None
    except SqlglotError:
        return None
    target = tree.this
    columns = tuple(c.name for c in target.expressions) if isinstance(target, exp.Schema) else ()
    return ViewQuery(text, columns)


def inline_views(sql: str, find: Callable[[tuple[str, ...]], ViewQuery | None]) -> str | None:
    """``sql`` (a translated statement) with each table that ``find`` knows as a view calling a
    UDF (by its name's parts, lowercased, as written) replaced by the view's query; ``None``
    when there is none, or sqlglot does not print ``sql`` back as it was given."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
        if not isinstance(tree, exp.Query) or tree.sql(dialect=DUCKDB) != sql:
            return None
        changed = False
        for _ in range(_DEPTH):
            if not _inline_once(tree, find):
                break
            changed = True
    except SqlglotError:
        return None
    return tree.sql(dialect=DUCKDB) if changed else None


def _inline_once(tree: exp.Expr, find: Callable[[tuple[str, ...]], ViewQuery | None]) -> bool:
    ctes = _cte_names(tree)
    changed = False
    for table in list(tree.find_all(exp.Table)):
        if not isinstance(table.this, exp.Identifier) or set(table.args) - _SIMPLE - _empty(table):
            continue
        if not table.args.get("db") and table.name.lower() in ctes:
            continue
        view = find(tuple(p.name.lower() for p in table.parts))
        if view is None:
            continue
        table.replace(
            exp.Subquery(this=sqlglot.parse_one(view.sql, read="duckdb"), alias=_alias(table, view))
        )
        changed = True
    return changed


def _alias(table: exp.Table, view: ViewQuery) -> exp.TableAlias:
    """The table's alias (its own column names, else the view's), else the view's name."""
    given = table.args.get("alias")
    if isinstance(given, exp.TableAlias) and given.columns:
        return given.copy()
    name = given.this.copy() if isinstance(given, exp.TableAlias) else table.this.copy()
    columns = [exp.to_identifier(c, quoted=True) for c in view.columns]
    return exp.TableAlias(this=name, columns=columns or None)


def _cte_names(tree: exp.Expr) -> set[str]:
    return {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}


def _empty(node: exp.Expr) -> set[str]:
    return {key for key, value in node.args.items() if value in (None, [], False)}
