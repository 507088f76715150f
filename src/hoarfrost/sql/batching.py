"""Planning Python UDF calls for evaluation over large batches (see hoarfrost.engine.batched).

DuckDB calls a scalar UDF once per vector of 2,048 rows, and for a function running in a worker
process each call is a round trip through a pipe: on a small machine the round trips, not the
user's code, dominate. For the common shape, a query over one table, the engine can instead read
the UDFs' argument columns out of DuckDB in large batches, evaluate the calls in the workers
(several at once), and run the rest of the query over the result.

:func:`plan` splits one translated (DuckDB) ``SELECT`` into

* the *inner* query: the table, filtered by the WHERE conjuncts that call no UDF, projecting the
  columns the rest of the query reads plus one column per UDF argument; and
* the *outer* query: the original statement reading a registered Arrow table (aliased as the table
  was) in which each UDF call is a column.

It returns ``None`` (the statement then runs as it is, UDFs per vector) unless every call is
evaluated unconditionally on every row of the filtered table, so that evaluating it in advance
changes nothing: no call under CASE / IF / COALESCE / NULLIF / OR, in HAVING / QUALIFY, in a
window's frame or an aggregate's FILTER, inside another UDF call's arguments, or with an
aggregate, window or subquery in its arguments; one table in FROM and no join, subquery or CTE;
no ``*`` projection; and sqlglot must print the statement back exactly as it was given (the
translator produced it with the same generator), so editing its tree cannot change anything else.
"""

from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from hoarfrost.sql.duck_dialect import DUCKDB

__all__ = ["UDF_PREFIX", "BatchPlan", "Call", "plan"]

UDF_PREFIX = "__HF_UDF_"

# Constructs under which a call may be evaluated for only some rows, or for other rows than the
# table's: evaluating it in advance for every row could raise where the query would not.
_CONDITIONAL = (
    exp.Case,
    exp.If,
    exp.Coalesce,
    exp.Nullif,
    exp.Or,
    exp.Window,
    exp.Filter,
    exp.Having,
    exp.Qualify,
    exp.Lambda,
    exp.Limit,
    exp.Offset,
)
# Without FROM there is no table to read in batches: skips parsing for "SELECT f(1)".
_HAS_FROM = re.compile(r"\bFROM\b", re.IGNORECASE)


@dataclass(frozen=True)
class Call:
    """One distinct UDF call: its DuckDB registration, argument columns and result column."""

    duck_name: str
    args: tuple[str, ...]
    result: str


@dataclass(frozen=True)
class BatchPlan:
    table_sql: str  # the FROM item as written, alias included
    referenced: frozenset[str]  # lowercased names of columns the outer query reads
    arguments: tuple[tuple[str, str], ...]  # (column name, DuckDB expression)
    inner_where: str | None
    calls: tuple[Call, ...]
    stream: str  # the name the outer query reads the evaluated table by
    outer: str

    def inner(self, columns: list[str]) -> str:
        """The inner query, projecting ``columns`` of the table (those it has of
        ``referenced``) and the argument columns."""
        items = [_quote(c) for c in columns]
        items += [f"{sql} AS {_quote(name)}" for name, sql in self.arguments]
        where = f" WHERE {self.inner_where}" if self.inner_where else ""
        return f"SELECT {', '.join(items)} FROM {self.table_sql}{where}"


def plan(sql: str) -> BatchPlan | None:
    """A batch plan for ``sql`` (a translated DuckDB statement), or ``None`` when the statement
    is not of a shape whose UDF calls can be evaluated in advance."""
    # The call rewriter writes every UDF call as "__HF_UDF_<key>"(...): most queries stop here.
    if UDF_PREFIX not in sql or not _HAS_FROM.search(sql):
        return None
    return _parsed_plan(sql)


@functools.lru_cache(maxsize=256)
def _parsed_plan(sql: str) -> BatchPlan | None:
    """Cached by text (parsing costs about as much as a small query): a plan is immutable, and
    its stream name is registered on one session's DuckDB connection at a time."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
        if not isinstance(tree, exp.Select) or tree.sql(dialect=DUCKDB) != sql:
            return None
        return _plan(tree)
    except SqlglotError:
        return None


def _is_udf(node: exp.Expression) -> bool:
    return isinstance(node, exp.Anonymous) and node.name.upper().startswith(UDF_PREFIX)


def _plan(tree: exp.Select) -> BatchPlan | None:
    from_ = _arg(tree, "from")
    if not isinstance(from_, exp.From) or not isinstance(from_.this, exp.Table):
        return None
    table = from_.this
    simple = {"this", "db", "catalog", "alias"}
    if not isinstance(table.this, exp.Identifier) or set(table.args) - simple - _empty(table):
        return None
    if any(_arg(tree, key) for key in ("with", "joins", "laterals", "pivots")):
        return None
    if any(isinstance(e, exp.Star) for e in tree.expressions):
        return None
    if any(node is not tree for node in tree.find_all(exp.Subquery, exp.Exists, exp.Select)):
        return None
    calls = [node for node in tree.find_all(exp.Anonymous) if _is_udf(node)]
    if not calls or not all(_unconditional(call, tree) and _plain_args(call) for call in calls):
        return None

    token = secrets.token_hex(4)
    alias = table.alias or table.name
    table_sql = table.sql(dialect=DUCKDB)
    where = tree.args.get("where")
    inner_where: str | None = None
    if where is not None:
        condition = where.this.unnest()  # WHERE (a AND b) is WHERE a AND b
        conjuncts = list(condition.flatten()) if isinstance(condition, exp.And) else [condition]
        early = [c for c in conjuncts if not any(_is_udf(n) for n in c.find_all(exp.Anonymous))]
        late = [c for c in conjuncts if c not in early]
        if early:
            inner_where = " AND ".join(f"({c.sql(dialect=DUCKDB)})" for c in early)
        in_where = {c.sql(dialect=DUCKDB) for c in calls if c.find_ancestor(exp.Where)}
        # A UDF filter decides which rows the other calls see, so the other calls must be ones
        # it makes itself (same function, same arguments: evaluated on every row anyway), and
        # it must be one conjunct (DuckDB evaluates a second only on the rows the first kept).
        if in_where and (
            len(late) != 1 or any(c.sql(dialect=DUCKDB) not in in_where for c in calls)
        ):
            return None
        if late:
            where.set("this", late[0])
        else:
            tree.set("where", None)

    distinct: dict[str, Call] = {}
    arguments: list[tuple[str, str]] = []
    for call in calls:
        text = call.sql(dialect=DUCKDB)
        found = distinct.get(text)
        if found is None:
            k = len(distinct)
            names = []
            for j, arg in enumerate(call.expressions):
                name = f"__hf_a{k}_{j}_{token}"
                names.append(name)
                arguments.append((name, arg.sql(dialect=DUCKDB)))
            found = Call(call.name.upper(), tuple(names), f"__hf_r{k}_{token}")
            distinct[text] = found
        call.replace(exp.column(found.result, quoted=True))

    stream = f"__hf_batched_{token}"
    stream_table = exp.Table(
        this=exp.to_identifier(stream, quoted=True),
        alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True)),
    )
    from_.set("this", stream_table)
    results = {c.result for c in distinct.values()}
    referenced: set[str] = set()
    for column in tree.find_all(exp.Column):
        if column.name in results:
            continue
        if column.args.get("db") or column.args.get("catalog"):
            return None
        if column.table and column.table.lower() != alias.lower():
            return None
        referenced.add(column.name.lower())
    return BatchPlan(
        table_sql=table_sql,
        referenced=frozenset(referenced),
        arguments=tuple(arguments),
        inner_where=inner_where,
        calls=tuple(distinct.values()),
        stream=stream,
        outer=tree.sql(dialect=DUCKDB),
    )


def _arg(node: exp.Expression, key: str) -> Any:
    """An argument of a node; sqlglot spells some keys with a trailing underscore."""
    return node.args.get(key) or node.args.get(f"{key}_")


def _empty(node: exp.Expression) -> set[str]:
    return {key for key, value in node.args.items() if value in (None, [], False)}


def _unconditional(call: exp.Expression, root: exp.Expression) -> bool:
    """Every row of the filtered table evaluates ``call`` (an AND only on WHERE's top level)."""
    node = call.parent
    while node is not None and node is not root:
        if isinstance(node, _CONDITIONAL):
            return False
        if isinstance(node, exp.And):
            above = node.parent
            while isinstance(above, (exp.And, exp.Paren)):
                above = above.parent
            if not isinstance(above, exp.Where):
                return False
        if isinstance(node, exp.Anonymous) and _is_udf(node):
            return False  # nested in another UDF's arguments
        node = node.parent
    return node is root


def _plain_args(call: exp.Expression) -> bool:
    for arg in call.expressions:
        for node in arg.walk():
            if isinstance(node, (exp.AggFunc, exp.Window, exp.Subquery, exp.Star)) or _is_udf(node):
                return False
    return True


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
