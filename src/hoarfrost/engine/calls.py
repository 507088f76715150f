"""User function calls in ordinary SQL: resolve, register, rewrite; run; unwrap errors.

Before translation every call of a user function (unqualified, schema- or db-qualified,
resolved against the session; temporary ones first) becomes a call of its DuckDB registration
``"__HF_UDF_<key>"(CAST((arg) AS <declared type>), ...)``: missing arguments take their
DEFAULT, the overload is chosen by argument count, then by the types of literal arguments.
``TABLE(f(...))`` table functions are evaluated by the engine (:mod:`hoarfrost.engine.udtf`).

A view stores the rewritten text; when a later query reaches a routine DuckDB does not know in
this process, :func:`run_with_udfs` registers it from the catalog and runs the query again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb

from hoarfrost.catalog.routines import Routine, family, usable
from hoarfrost.engine.udf import JSON_KINDS, UdfService, udf_service
from hoarfrost.errors import ProgrammingError, UnsupportedFeature
from hoarfrost.sql.ast import Name
from hoarfrost.sql.calls import CallRewriter, CallSite, TableSite, is_name, literal_type
from hoarfrost.sql.tokens import Statement, split
from hoarfrost.workers.types import SNOWFLAKE_NAMES, SqlType

if TYPE_CHECKING:
    from hoarfrost.engine.context import Context
    from hoarfrost.engine.result import Result

__all__ = ["calls_routines", "cast_type", "choose_overload", "prepare", "run_with_udfs"]

_MISSING = re.compile(r"Scalar Function with name \"?([^\"\s]+)\"? does not exist", re.I)
_RETRIES = 16

# Argument casts: integers as BIGINT (what the worker carries), semi-structured as VARIANT.
_CASTS = {**SNOWFLAKE_NAMES, "int": "BIGINT", "object": "VARIANT", "array": "VARIANT"}


def cast_type(t: SqlType) -> str:
    """The Snowflake type an argument is cast to, so DuckDB sees exactly the declared type."""
    return f"NUMBER({t.precision},{t.scale})" if t.kind == "decimal" else _CASTS[t.kind]


@dataclass
class Prepared:
    statement: Statement
    temp_tables: list[str] = field(default_factory=list)


# -- overloads -------------------------------------------------------------------------------
def choose_overload(
    routines: list[Routine], name: Name, site: CallSite, what: str = "function"
) -> Routine:
    n = len(site.args)
    named = any(site.arg_names)
    fits = [r for r in routines if r.min_args <= n <= r.max_args or named]
    if len(fits) > 1:
        kinds = [literal_type(a) for a in site.raw_args]
        scored = sorted(((_score(r, kinds), r.max_args == n, r) for r in fits), key=_key)
        best = scored[-1]
        fits = [r for s, exact, r in scored if (s, exact) == best[:2]]
    if len(fits) == 1:
        return fits[0]
    shown = f"{name.last}({', '.join(literal_type(a) or '?' for a in site.raw_args)})"
    if not fits:
        raise ProgrammingError(
            f"SQL compilation error:\nInvalid argument types for {what} '{shown}': no overload "
            f"takes {n} argument(s); defined: "
            + ", ".join(name.last + r.obj.signature for r in routines),
            errno=1044,
            sqlstate="42P13",
        )
    raise ProgrammingError(
        f"SQL compilation error:\nAmbiguous call of {what} '{shown}': several overloads fit ("
        + ", ".join(name.last + r.obj.signature for r in fits)
        + "); cast the arguments, e.g. x::NUMBER.",
        errno=1044,
        sqlstate="42P13",
    )


def _key(item: tuple[int, bool, Routine]) -> tuple[int, bool]:
    return item[0], item[1]


def _score(routine: Routine, kinds: list[str | None]) -> int:
    score = 0
    for kind, declared in zip(kinds, routine.arg_types, strict=False):
        if kind is None:
            continue
        fam = family(declared)
        if kind == fam or (kind.startswith("NUMBER") and fam == "NUMBER"):
            score += 2
        elif {kind, fam} <= {"NUMBER", "FLOAT", "INT", "INTEGER", "DOUBLE", "DECIMAL"}:
            score += 1
        else:
            score -= 2
    return score


def bind_args(routine: Routine, site: CallSite) -> list[str]:
    """Argument texts in declaration order, DEFAULTs filled in, each cast to its type."""
    declared = routine.args
    values: list[str | None] = [None] * len(declared)
    names = [a[0].upper() for a in declared]
    for i, (text, arg_name) in enumerate(zip(site.args, site.arg_names, strict=True)):
        pos = i if arg_name is None else _position(names, arg_name, routine)
        values[pos] = text
    out = []
    for (arg_name, _type, default), value, t in zip(
        declared, values, routine.arg_types, strict=True
    ):
        if value is None:
            if default is None:
                raise ProgrammingError(
                    f"SQL compilation error:\nMissing argument {arg_name} of {routine.name}, "
                    "which has no DEFAULT.",
                    errno=1044,
                    sqlstate="42P13",
                )
            value = default
        out.append(f"CAST(({value}) AS {cast_type(t)})")
    return out


def _position(names: list[str], arg_name: str, routine: Routine) -> int:
    if arg_name.upper() not in names:
        raise ProgrammingError(
            f"SQL compilation error:\n{routine.name} has no argument named {arg_name}.",
            errno=1044,
            sqlstate="42P13",
        )
    return names.index(arg_name.upper())


# -- the rewrite -----------------------------------------------------------------------------
class _Resolver:
    def __init__(self, session: Context, service: UdfService, prepared: Prepared):
        self.session = session
        self.service = service
        self.prepared = prepared

    def routines(self, name: Name) -> list[Routine]:
        try:
            db, schema, obj_name = self.session.qualify(name)
        except ProgrammingError:
            return []
        found = {
            o.signature: Routine(o)
            for o in self.service.names("FUNCTION", db, schema).get(obj_name, [])
            if usable(self.session, o)
        }
        for key, obj in self.session.temp_objects.items():
            if key[:4] == ("FUNCTION", db, schema, obj_name):
                found[obj.signature] = Routine(obj, self.session.id)
        return list(found.values())

    def is_function(self, name: Name) -> bool:
        return bool(self.routines(name))

    def is_table_function(self, name: Name) -> bool:
        return any(r.is_table_function for r in self.routines(name))

    def on_call(self, site: CallSite) -> str | None:
        routines = [r for r in self.routines(site.name) if not r.is_table_function]
        if not routines:
            raise ProgrammingError(
                f"SQL compilation error:\n{site.name.last} is a table function; call it in the "
                f"FROM clause as TABLE({site.name.last}(...)).",
                errno=2141,
                sqlstate="42601",
            )
        routine = choose_overload(routines, site.name, site)
        duck = self.service.register(routine)
        args = bind_args(routine, site) or ["TRUE"]
        if routine.props.get("udf_kind") == "aggregate":
            # A UDAF is a scalar over each group's values, which DuckDB gathers with list().
            args = [f"list({a})" for a in args]
        call = f'"{duck}"({", ".join(args)})'
        assert routine.returns is not None
        return f"PARSE_JSON({call})" if routine.returns.kind in JSON_KINDS else call

    def on_table(self, site: TableSite) -> str | None:
        from hoarfrost.engine.udtf import evaluate

        routines = [r for r in self.routines(site.call.name) if r.is_table_function]
        routine = choose_overload(routines, site.call.name, site.call, "table function")
        self.service.check_policy(routine, self.session)
        args = bind_args(routine, site.call)
        text, tables = evaluate(self.session, self.service.pool(routine), routine, site, args)
        self.prepared.temp_tables.extend(tables)
        return text


def _may_call(statement: Statement) -> bool:
    from sqlglot.tokens import TokenType

    toks = statement.tokens
    return any(
        toks[k + 1].token_type == TokenType.L_PAREN and is_name(toks[k])
        for k in range(len(toks) - 1)
    )


def calls_routines(session: Context, statement: Statement) -> bool:
    """Whether the statement calls a user function or table function (nothing is evaluated)."""
    if not _may_call(statement):
        return False
    resolver = _Resolver(session, udf_service(session.engine), Prepared(statement))
    sites: list[object] = []

    def seen(site: object) -> None:
        sites.append(site)

    CallRewriter(statement, resolver.is_function, seen, resolver.is_table_function, seen).rewrite()
    return bool(sites)


@contextmanager
def prepare(session: Context, statement: Statement) -> Iterator[Prepared]:
    """The statement with user function calls rewritten; temporary tables dropped afterwards."""
    service = udf_service(session.engine)
    service.begin_statement(session)
    prepared = Prepared(statement)
    try:
        if _may_call(statement):
            resolver = _Resolver(session, service, prepared)
            rewriter = CallRewriter(
                statement,
                resolver.is_function,
                resolver.on_call,
                resolver.is_table_function,
                resolver.on_table,
            )
            text = rewriter.rewrite()
            if rewriter.changed:
                _refuse_table_functions_in_views(statement, prepared)
                prepared.statement = split(text)[0]
        yield prepared
    finally:
        for table in prepared.temp_tables:
            session.duck.execute(f'DROP TABLE IF EXISTS temp.main."{table}"')


def _refuse_table_functions_in_views(statement: Statement, prepared: Prepared) -> None:
    words = [t.text.upper() for t in statement.tokens[:6]]
    if prepared.temp_tables and "VIEW" in words and words[0] == "CREATE":
        raise UnsupportedFeature(
            "Table functions (TABLE(f(...))) cannot be used in a view yet; query them directly "
            "or materialise the result with CREATE TABLE ... AS SELECT."
        )


def run_with_udfs(session: Context, run: Callable[[], Result]) -> Result:
    """Run; register routines a view needs on demand; show a UDF's error as itself."""
    service = udf_service(session.engine)
    for _ in range(_RETRIES):
        try:
            return run()
        except duckdb.Error as exc:
            error = service.unwrap(exc)
            if error is not None:
                raise error from None
            missing = _MISSING.search(str(exc))
            if missing is None:
                raise
            name = missing.group(1).upper()
            if not name.startswith("__HF_UDF_"):
                raise ProgrammingError(
                    f"SQL compilation error:\nUnknown function {name}", errno=2140, sqlstate="42601"
                ) from None
            if not _register_by_name(session, service, name):
                shown = service.display.get(name, "of a view")
                raise ProgrammingError(
                    f"SQL compilation error:\nUnknown function {shown}: it was dropped, or "
                    "belongs to another session.",
                    errno=2140,
                    sqlstate="42601",
                ) from None
    return run()


def _register_by_name(session: Context, service: UdfService, duck_name: str) -> bool:
    wanted = duck_name.upper()
    service.forget(wanted)
    candidates = [Routine(o) for o in session.engine.catalog.list("FUNCTION")]
    candidates += [
        Routine(o, session.id) for o in session.temp_objects.values() if o.kind == "FUNCTION"
    ]
    for routine in candidates:
        if routine.duck_name == wanted and not routine.is_table_function:
            service.register(routine)
            return True
    return False
