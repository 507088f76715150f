"""Planning Python UDF calls for evaluation over large batches (see hoarfrost.engine.batched).

DuckDB calls a scalar UDF once per vector of 2,048 rows, and for a function running in a worker
process each call is a round trip through a pipe: on a small machine the round trips, not the
user's code, dominate. The engine can instead read the UDFs' argument columns out of DuckDB in
large batches, evaluate the calls in the workers (several at once), and run the rest of the query
over the result.

:func:`plan` finds each *site*: a ``SELECT`` with UDF calls of its own — the statement, a branch
of a UNION, a subquery in FROM, IN, EXISTS or a scalar position, a CTE — and splits it into

* the *inner* query: its FROM clause as written (tables, joins, subqueries, views), filtered by
  the WHERE conjuncts that call no UDF, projecting the columns the rest of the SELECT reads plus
  one column per UDF argument and one per *guard* (hoarfrost.sql.batch_guards: the rows on which
  a call under CASE / IF / COALESCE / AND / OR is evaluated at all); and
* the SELECT rewritten in place to read a registered Arrow table (its *stream*) in which each
  call is a column. A column the SELECT reads qualified (``t.x``, ``s.t.x``) is a column of its
  own in the stream, so that ``t.x`` and ``u.x`` of a join stay apart; an unqualified one keeps
  its name, so DuckDB resolves it (against a select alias, say) as it did.

Sites are evaluated in order (inner subqueries and earlier CTEs first: a later site's inner query
reads the earlier streams). A SELECT is left to DuckDB (UDFs per vector) when a call is under a
window, HAVING / QUALIFY, LIMIT, a lambda, TRY or another UDF's arguments, has an aggregate,
window or subquery in its arguments; when the rest of the SELECT holds a subquery (it could read
the FROM's tables) or a ``*``; or when a UDF filter is not one conjunct whose calls are the only
ones (each call must see exactly the rows DuckDB would give it, or fewer). Nothing is planned in a
recursive WITH, nor when sqlglot does not print the statement back exactly as it was given (the
translator produced it with the same generator), so editing its tree cannot change anything else.
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from hoarfrost.sql.batch_guards import UDF_PREFIX, guard, is_udf, plain
from hoarfrost.sql.duck_dialect import DUCKDB

__all__ = ["UDF_PREFIX", "BatchPlan", "Call", "Site", "plan", "reads_tables"]

# Without FROM there is no table to read in batches: skips parsing for "SELECT f(1)".
_HAS_FROM = re.compile(r"\bFROM\b", re.IGNORECASE)
# Where a SELECT's output names are seen (its unaliased expressions must keep them).
_NAMED = (exp.CTE, exp.From, exp.Join, exp.SetOperation, exp.Lateral, exp.Create, exp.Insert)


@dataclass(frozen=True)
class Call:
    """One distinct UDF call: its DuckDB registration, argument columns, result column and the
    BOOLEAN column saying on which rows it is evaluated (``None``: every row)."""

    duck_name: str
    args: tuple[str, ...]
    result: str
    guard: str | None = None


@dataclass(frozen=True)
class Site:
    """One SELECT whose calls are evaluated in advance into the table named ``stream``."""

    prefix: str  # "WITH ... " of the CTEs its FROM may read, or ""
    from_sql: str  # the FROM clause as written, joins included
    inner_where: str | None
    referenced: frozenset[str]  # lowercased unqualified names the rewritten SELECT reads
    qualified: tuple[tuple[str, str], ...]  # (stream column, qualified column as written)
    arguments: tuple[tuple[str, str], ...]  # (column name, DuckDB expression): args and guards
    calls: tuple[Call, ...]
    stream: str
    # (argument, column, type): arguments that are a FROM column cast to a type; when the column
    # has that type already and is projected anyway, the argument reads it (see ``inner``).
    casts: tuple[tuple[str, str, str], ...] = ()

    @property
    def probe(self) -> str:
        """A query answering the FROM clause's column names."""
        return f"{self.prefix}SELECT * FROM {self.from_sql} LIMIT 0"

    def inner(self, columns: list[str], reused: frozenset[str] = frozenset()) -> str:
        """The inner query, projecting ``columns`` (those of the FROM clause the SELECT reads
        unqualified), the qualified columns and the argument and guard columns, in this order;
        not the ``reused`` arguments (read from one of ``columns`` instead)."""
        items = [_quote(c) for c in columns]
        wanted = [(n, sql) for n, sql in (*self.qualified, *self.arguments) if n not in reused]
        items += [f"{sql} AS {_quote(name)}" for name, sql in wanted]
        where = f" WHERE {self.inner_where}" if self.inner_where else ""
        return f"{self.prefix}SELECT {', '.join(items)} FROM {self.from_sql}{where}"


@dataclass(frozen=True)
class BatchPlan:
    sites: tuple[Site, ...]  # in the order they must be evaluated
    outer: str  # the statement reading the streams


def plan(sql: str) -> BatchPlan | None:
    """A batch plan for ``sql`` (a translated DuckDB statement), or ``None`` when none of its
    UDF calls can be evaluated in advance."""
    # The call rewriter writes every UDF call as "__HF_UDF_<key>"(...): most queries stop here.
    if UDF_PREFIX not in sql or not reads_tables(sql):
        return None
    return _parsed_plan(sql)


def reads_tables(sql: str) -> bool:
    """Whether ``sql`` may read a table (a first look, to skip parsing ``SELECT f(1)``)."""
    return _HAS_FROM.search(sql) is not None


@functools.lru_cache(maxsize=256)
def _parsed_plan(sql: str) -> BatchPlan | None:
    """Cached by text (parsing costs about as much as a small query): a plan is immutable, and
    its stream names are registered on one session's DuckDB connection at a time."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
        if not _writes_a_query(tree) or tree.sql(dialect=DUCKDB) != sql:
            return None
        return _plan(tree)
    except SqlglotError:
        return None


def _writes_a_query(tree: exp.Expr) -> bool:
    """A query, or a statement writing one's rows: CREATE TABLE ... AS and INSERT ... SELECT
    (dbt's table and incremental models), whose query runs before anything is written."""
    if isinstance(tree, exp.Query):
        return True
    table = isinstance(tree, exp.Create) and str(tree.args.get("kind") or "").upper() == "TABLE"
    if not (table or isinstance(tree, exp.Insert)):
        return False
    body = tree.expression
    while isinstance(body, exp.Subquery):
        body = body.this
    return isinstance(body, exp.Query)


def _plan(tree: exp.Expr) -> BatchPlan | None:
    if any(w.args.get("recursive") for w in tree.find_all(exp.With)):
        return None
    token = secrets.token_hex(4)
    sites: list[Site] = []
    for node in [n for n in _post_order(tree) if isinstance(n, exp.Select)]:
        site = _site(node, f"{len(sites)}_{token}")
        if site is not None:
            sites.append(site)
    if not sites:
        return None
    return BatchPlan(tuple(sites), tree.sql(dialect=DUCKDB))


def _post_order(root: exp.Expr) -> Iterator[exp.Expr]:
    """Children before their parent, a WITH before the rest of its query (no recursion: a long
    expression is a deep tree)."""
    stack: list[tuple[exp.Expr, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            yield node
            continue
        stack.append((node, True))
        with_ = _arg(node, "with")
        children = [c for c in node.iter_expressions() if c is not with_]
        if with_ is not None:
            children.insert(0, with_)
        stack.extend((c, False) for c in reversed(children))


def _own_calls(select: exp.Select) -> list[exp.Expr]:
    return [
        n
        for n in select.find_all(exp.Anonymous, bfs=False)
        if is_udf(n) and n.find_ancestor(exp.Select) is select
    ]


def _site(select: exp.Select, suffix: str) -> Site | None:
    """Plan ``select`` as a site and rewrite it to read its stream, or ``None`` (unchanged)."""
    calls = _own_calls(select)
    from_ = _arg(select, "from")
    if not calls or not isinstance(from_, exp.From) or _arg(select, "laterals"):
        return None
    joins: list[exp.Expr] = _arg(select, "joins") or []
    split = _split_where(select, calls)
    if split is None or _arg(select, "pivots"):
        return None
    early, late = split
    guards = _guards(select, calls, early, late, _aliases(from_, joins))
    if guards is None:
        return None
    prefix = _prefix(select)  # before the rewrite: it drops the SELECT's own WITH
    inner_where = " AND ".join(f"({c.sql(dialect=DUCKDB)})" for c in early) or None
    stream = f"__hf_batched_{suffix}"
    keys = _keys(calls, guards)
    distinct, arguments, casts = _distinct_calls(calls, keys, suffix)
    from_sql = _from_sql(from_, joins)
    referenced, qualified = _rewrite(select, calls, keys, distinct, late, stream, suffix)
    return Site(
        prefix=prefix,
        from_sql=from_sql,
        inner_where=inner_where,
        referenced=frozenset(referenced),
        qualified=tuple(qualified),
        arguments=tuple(arguments),
        calls=tuple(distinct.values()),
        stream=stream,
        casts=tuple(casts),
    )


def _guards(
    select: exp.Select,
    calls: list[exp.Expr],
    early: list[exp.Expr],
    late: list[exp.Expr],
    aliases: set[str],
) -> list[list[exp.Expr]] | None:
    """Each call's guard, or ``None`` when the SELECT's calls cannot all be evaluated ahead."""
    outer = [v for _, v in _outer_args(select)] + late
    if any(_has_query(n) or _has_star(n) for n in outer):
        return None
    found = [guard(call, select) for call in calls]
    guards = [g for g in found if g is not None]
    if len(guards) != len(calls) or not all(plain(a) for c in calls for a in c.expressions):
        return None
    args = [a for c in calls for a in c.expressions]
    if not _local([*args, *early, *(e for g in guards for e in g)], select, aliases):
        return None
    if _names_matter(select) and any(_unaliased(e, calls) for e in select.expressions):
        return None
    return guards


def _rewrite(
    select: exp.Select,
    calls: list[exp.Expr],
    keys: list[tuple[str, str | None]],
    distinct: dict[tuple[str, str | None], Call],
    late: list[exp.Expr],
    stream: str,
    suffix: str,
) -> tuple[set[str], list[tuple[str, str]]]:
    """Make ``select`` read ``stream``: calls become their result columns, FROM the stream,
    WHERE its UDF conjunct; the columns it reads are mapped (see :func:`_map_columns`)."""
    aliases = _aliases(select.args["from_"], _arg(select, "joins") or [])
    for expression in list(select.expressions):
        if isinstance(expression, exp.Column) and expression.table.lower() in aliases:
            # t.x is read as a column of the stream: it keeps its output name
            expression.replace(exp.Alias(this=expression.copy(), alias=expression.this.copy()))
    for call, key in zip(calls, keys, strict=True):
        call.replace(exp.column(distinct[key].result, quoted=True))
    select.set("from_", exp.From(this=exp.Table(this=exp.to_identifier(stream, quoted=True))))
    select.set("joins", None)
    select.set("with_", None)
    where = select.args.get("where")
    if where is not None and late:
        where.set("this", late[0])
    else:
        select.set("where", None)
    results = {c.result for c in distinct.values()}
    return _map_columns(select, aliases, results, suffix)


def _split_where(
    select: exp.Select, calls: list[exp.Expr]
) -> tuple[list[exp.Expr], list[exp.Expr]] | None:
    """WHERE's conjuncts without a call of the site (filters of the inner query) and with one
    (at most one, kept in the SELECT), or ``None`` when the calls cannot be evaluated early."""
    where = select.args.get("where")
    if where is None:
        return [], []
    condition = where.this.unnest()  # WHERE (a AND b) is WHERE a AND b
    conjuncts = list(condition.flatten()) if isinstance(condition, exp.And) else [condition]
    own = {id(c) for c in calls}
    early = [c for c in conjuncts if not any(id(n) in own for n in c.walk())]
    late = [c for c in conjuncts if not any(c is e for e in early)]
    in_where = [c for c in calls if c.find_ancestor(exp.Where) is where]
    if not in_where:
        return early, late
    # A UDF filter decides which rows the other calls see, so the other calls must be ones it
    # makes itself (same function, same arguments: evaluated on every row anyway), and it must
    # be one conjunct (DuckDB evaluates a second only on the rows the first kept).
    texts = {c.sql(dialect=DUCKDB) for c in in_where}
    if len(late) != 1 or any(c.sql(dialect=DUCKDB) not in texts for c in calls):
        return None
    # Under OR / CASE in the filter, a call sees some rows only: then it must be the only one
    # (a select-list call would be evaluated on the rows the filter keeps, not these).
    if len(in_where) != len(calls) and any(guard(c, select) != [] for c in in_where):
        return None
    return early, late


def _outer_args(select: exp.Select) -> Iterator[tuple[str, exp.Expr]]:
    """The parts of ``select`` that stay with it (not its FROM, joins, WHERE or WITH)."""
    for key, value in select.args.items():
        if key in ("from_", "joins", "where", "with_") or not value:
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, exp.Expr):
                yield key, item


def _has_query(node: exp.Expr) -> bool:
    return any(isinstance(n, (exp.Select, exp.Subquery, exp.Exists)) for n in node.walk())


def _has_star(node: exp.Expr) -> bool:
    """A ``*`` that expands to columns (not the one of COUNT(*))."""
    for n in node.walk():
        if isinstance(n, exp.Star) and not isinstance(n.parent, (exp.Count, exp.AggFunc)):
            return True
    return False


def _aliases(from_: exp.From, joins: list[exp.Expr]) -> set[str]:
    """Lowercased names the FROM clause's items are qualified by."""
    items = [from_.this, *(j.this for j in joins)]
    return {item.alias_or_name.lower() for item in items if item.alias_or_name}


def _local(parts: list[exp.Expr], select: exp.Select, aliases: set[str]) -> bool:
    """No qualified column of ``select``'s own in ``parts`` names another table (an outer query's,
    which the inner query could not read)."""
    for part in parts:
        for column in part.find_all(exp.Column):
            if column.find_ancestor(exp.Select) is not select:
                continue
            if column.table and column.table.lower() not in aliases:
                return False
    return True


def _names_matter(select: exp.Select) -> bool:
    """Whether the names of ``select``'s output columns are seen (not in IN, EXISTS, a scalar
    subquery)."""
    child: exp.Expr = select
    node = select.parent
    while isinstance(node, (exp.Subquery, exp.Paren)):
        child, node = node, node.parent
    if isinstance(node, exp.SetOperation) and child is node.expression:
        return False  # a UNION's later branches: the first one names the columns
    return node is None or isinstance(node, _NAMED)


def _unaliased(expression: exp.Expr, calls: list[exp.Expr]) -> bool:
    if isinstance(expression, exp.Alias):
        return False
    return any(n is c for n in expression.walk() for c in calls)


def _prefix(select: exp.Select) -> str:
    """``WITH`` and the CTEs visible from ``select``'s FROM clause (those before it in its own
    WITH, every one of an enclosing query's), outermost first."""
    visible: list[exp.Expr] = []
    path: list[exp.Expr] = []
    node: exp.Expr | None = select
    while node is not None:
        with_ = _arg(node, "with")
        if isinstance(with_, exp.With):
            ctes = list(with_.expressions)
            if len(path) > 1 and path[-1] is with_:
                ctes = ctes[: _position(ctes, path[-2])]
            visible[:0] = ctes
        path.append(node)
        node = node.parent
    if not visible:
        return ""
    return "WITH " + ", ".join(c.sql(dialect=DUCKDB) for c in visible) + " "


def _position(items: list[exp.Expr], item: exp.Expr) -> int:
    return next(i for i, x in enumerate(items) if x is item)


def _from_sql(from_: exp.From, joins: list[exp.Expr]) -> str:
    text = from_.this.sql(dialect=DUCKDB)
    for join in joins:
        rendered = join.sql(dialect=DUCKDB)
        text += rendered if rendered.startswith(",") else " " + rendered
    return text


def _keys(calls: list[exp.Expr], guards: list[list[exp.Expr]]) -> list[tuple[str, str | None]]:
    """Each call's identity: its text, and the rows it is evaluated on — every row when one of
    its instances is unguarded, else those any instance's guard lets through."""
    texts = [c.sql(dialect=DUCKDB) for c in calls]
    needed: dict[str, list[str]] = {}
    for text, g in zip(texts, guards, strict=True):
        condition = " AND ".join(e.sql(dialect=DUCKDB) for e in g)
        kept = needed.setdefault(text, [])
        if condition not in kept:
            kept.append(condition)
    combined = {text: _either(kept) for text, kept in needed.items()}
    return [(text, combined[text]) for text in texts]


def _either(conditions: list[str]) -> str | None:
    """Rows meeting any of ``conditions`` (``""``: every row), ``None`` for every row."""
    if "" in conditions:
        return None
    if len(conditions) == 1:
        return conditions[0]
    return " OR ".join(f"({c})" for c in conditions)


def _distinct_calls(
    calls: list[exp.Expr], keys: list[tuple[str, str | None]], suffix: str
) -> tuple[dict[tuple[str, str | None], Call], list[tuple[str, str]], list[tuple[str, str, str]]]:
    distinct: dict[tuple[str, str | None], Call] = {}
    arguments: list[tuple[str, str]] = []
    casts: list[tuple[str, str, str]] = []
    for call, key in zip(calls, keys, strict=True):
        if key in distinct:
            continue
        k = len(distinct)
        names = []
        for j, arg in enumerate(call.expressions):
            names.append(f"__hf_a{k}_{j}_{suffix}")
            arguments.append((names[-1], arg.sql(dialect=DUCKDB)))
            # The call rewriter casts each argument to the declared type: CAST(("X") AS BIGINT)
            cast = arg.unnest()
            column = cast.this.unnest() if type(cast) is exp.Cast else None
            if isinstance(column, exp.Column) and not column.table:
                casts.append((names[-1], column.name, cast.to.sql(dialect=DUCKDB)))
        guard_name = None
        if key[1] is not None:
            guard_name = f"__hf_g{k}_{suffix}"
            arguments.append((guard_name, key[1]))
        distinct[key] = Call(call.name.upper(), tuple(names), f"__hf_r{k}_{suffix}", guard_name)
    return distinct, arguments, casts


def _map_columns(
    select: exp.Select, aliases: set[str], results: set[str], suffix: str
) -> tuple[set[str], list[tuple[str, str]]]:
    """Point the columns the rewritten SELECT reads at the stream: a qualified one becomes a
    column of its own; an unqualified one (or the struct a dotted name starts with) keeps its
    name and is projected when the FROM clause has it."""
    referenced: set[str] = set()
    qualified: dict[str, str] = {}
    for _, part in [*_outer_args(select), *_where_parts(select)]:
        for column in list(part.find_all(exp.Column)):
            if column.name in results and not column.table:
                continue
            if column.table and column.table.lower() in aliases:
                text = column.sql(dialect=DUCKDB)
                name = qualified.setdefault(text, f"__hf_c{len(qualified)}_{suffix}")
                column.replace(exp.column(name, quoted=True))
            else:
                referenced.add(column.parts[0].name.lower())
    return referenced, [(name, text) for text, name in qualified.items()]


def _where_parts(select: exp.Select) -> list[tuple[str, exp.Expr]]:
    where = select.args.get("where")
    return [("where", where)] if where is not None else []


def _arg(node: exp.Expr, key: str) -> Any:
    """An argument of a node; sqlglot spells some keys with a trailing underscore."""
    return node.args.get(key) or node.args.get(f"{key}_")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
