"""Which rows of a SELECT evaluate one UDF call: the *guard* of a call under CASE, IF, COALESCE,
AND or OR (see hoarfrost.sql.batching).

DuckDB evaluates a CASE branch, a later COALESCE argument or the right side of AND / OR only for
the rows that need it, so a function that raises on the other rows does not fail the query
(``CASE WHEN x <> 0 THEN f(1 / x) END``). A call evaluated in advance must see the same rows:
:func:`guard` gives the conditions, each ``TRUE`` or ``FALSE`` (never NULL), under which the
call's value is needed, and the batch evaluates it only where all of them hold.

Conditions stop at an aggregate: ``CASE WHEN COUNT(*) > 1 THEN SUM(f(x)) END`` computes the sum
for every group; an aggregate's ``FILTER (WHERE c)`` is one more condition. Under a window, in
HAVING / QUALIFY, LIMIT / OFFSET, a lambda, TRY or another UDF's arguments there is no guard to
give: :func:`guard` returns ``None``.
"""

from __future__ import annotations

from sqlglot import exp

__all__ = ["UDF_PREFIX", "guard", "is_udf", "plain"]

UDF_PREFIX = "__HF_UDF_"

# Under these a call is evaluated for other rows than the SELECT's, or not at all.
_REFUSED = (
    exp.Window,
    exp.Having,
    exp.Qualify,
    exp.Lambda,
    exp.Limit,
    exp.Offset,
    exp.Try,
    exp.Nvl2,
)


def is_udf(node: exp.Expr) -> bool:
    return isinstance(node, exp.Anonymous) and node.name.upper().startswith(UDF_PREFIX)


def plain(node: exp.Expr) -> bool:
    """Per-row and evaluable before the query: no aggregate, window, subquery or UDF."""
    return not any(
        isinstance(n, (exp.AggFunc, exp.Window, exp.Subquery, exp.Select, exp.Star)) or is_udf(n)
        for n in node.walk()
    )


def guard(call: exp.Expr, site: exp.Select) -> list[exp.Expr] | None:
    """The conditions (each TRUE or FALSE, never NULL) under which ``site`` evaluates ``call``,
    ``[]`` for every row, ``None`` when it cannot be said (the call must stay with DuckDB)."""
    conditions: list[exp.Expr] = []
    grouped = False  # above an aggregate, conditions are per group: every row is aggregated
    path: list[exp.Expr] = [call]
    node = call.parent
    while node is not site:
        if node is None or isinstance(node, _REFUSED) or is_udf(node):
            return None
        if isinstance(node, exp.Filter):
            if path[-1] is not node.this:
                return None  # the call is in the FILTER's condition
        elif isinstance(node, exp.AggFunc):
            if not grouped and isinstance(node.parent, exp.Filter) and node.parent.this is node:
                where = node.parent.expression
                conditions.append(_is_true(where.this if isinstance(where, exp.Where) else where))
            grouped = True
        elif not grouped:
            found = _branch(node, path, site)
            if found is None:
                return None
            conditions += found
        path.append(node)
        node = node.parent
    if not all(plain(c) for c in conditions):
        return None
    return conditions


def _branch(node: exp.Expr, path: list[exp.Expr], site: exp.Select) -> list[exp.Expr] | None:
    """The conditions ``node`` adds for the child at ``path[-1]`` (``path[-2]`` below it)."""
    child = path[-1]
    if isinstance(node, exp.Case):
        return _case(node, path)
    if isinstance(node, exp.If):
        if isinstance(node.parent, exp.Case):
            return []  # a WHEN ... THEN of the CASE above: decided there
        if child is node.args.get("true"):
            return [_is_true(node.this)]
        if child is node.args.get("false"):
            return [_not_true(node.this)]
        return []
    if isinstance(node, exp.Coalesce):
        if child is node.this:
            return []
        before = [node.this, *node.expressions[: _index(node.expressions, child)]]
        return [_is_null(e) for e in before]
    if isinstance(node, exp.And) and child is node.expression and not _top_level(node, site):
        return [_wrap(exp.Not(this=_wrap(exp.Is(this=_paren(node.this), expression=exp.false()))))]
    if isinstance(node, exp.Or) and child is node.expression:
        return [_not_true(node.this)]
    return []


def _case(node: exp.Case, path: list[exp.Expr]) -> list[exp.Expr] | None:
    child = path[-1]
    operand = node.this
    ifs: list[exp.Expr] = node.args.get("ifs") or []
    if child is operand:
        return []

    def condition(branch: exp.Expr) -> exp.Expr:
        if operand is None:
            return branch.this
        return exp.EQ(this=_paren(operand), expression=_paren(branch.this))

    if child is node.args.get("default"):
        return [_not_true(condition(b)) for b in ifs]
    k = _index(ifs, child)
    earlier = [_not_true(condition(b)) for b in ifs[:k]]
    below = path[-2] if len(path) > 1 else None
    if below is ifs[k].this:  # the k-th WHEN: evaluated where no earlier WHEN held
        return earlier
    return [*earlier, _is_true(condition(ifs[k]))]


def _top_level(node: exp.Expr, site: exp.Select) -> bool:
    """An AND of the site's WHERE conjuncts (split by the plan, not a condition)."""
    above = node.parent
    while isinstance(above, (exp.And, exp.Paren)):
        above = above.parent
    return isinstance(above, exp.Where) and above.parent is site


def _index(items: list[exp.Expr], child: exp.Expr) -> int:
    return next(i for i, item in enumerate(items) if item is child)


def _paren(e: exp.Expr) -> exp.Expr:
    return exp.Paren(this=e.copy())


def _wrap(e: exp.Expr) -> exp.Expr:
    return exp.Paren(this=e)


def _is_true(e: exp.Expr) -> exp.Expr:
    return _wrap(exp.Is(this=_paren(e), expression=exp.true()))


def _not_true(e: exp.Expr) -> exp.Expr:
    return _wrap(exp.Not(this=_wrap(exp.Is(this=_paren(e), expression=exp.true()))))


def _is_null(e: exp.Expr) -> exp.Expr:
    return _wrap(exp.Is(this=_paren(e), expression=exp.null()))
