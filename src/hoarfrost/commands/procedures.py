"""CALL of a Python procedure (SPEC.md section 6).

The arguments are SQL expressions evaluated in the caller's session (user functions allowed);
the procedure runs in a worker of its environment with a session object whose SQL runs here, in
the CALLER's session: with the owner's role under EXECUTE AS OWNER (the default), as is under
EXECUTE AS CALLER. A scalar comes back as one column named after the procedure; a table as rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from hoarfrost.catalog.routines import Routine, overloads
from hoarfrost.commands.functions import create_routine
from hoarfrost.commands.ordinary import run_ordinary
from hoarfrost.engine.calls import bind_args, choose_overload
from hoarfrost.engine.context import PROCEDURE_WIRE, Context, Handler, ProcedureWire
from hoarfrost.engine.result import Column, Result, rows_result
from hoarfrost.engine.udf import udf_service
from hoarfrost.errors import ObjectNotFound
from hoarfrost.sql.ast import AnonymousProcedure, Call, Ordinary
from hoarfrost.sql.calls import CallSite
from hoarfrost.sql.tokens import split
from hoarfrost.workers import arrow_to_python_columns, python_to_arrow, python_to_arrow_table
from hoarfrost.workers.types import SNOWFLAKE_NAMES, SqlType

__all__ = ["HANDLERS", "call_procedure", "result_column"]

# The connector's logical types differ from the SQL names only for these kinds.
_LOGICAL = {**SNOWFLAKE_NAMES, "float": "REAL", "str": "TEXT"}


def result_column(name: str, t: SqlType) -> Column:
    """Snowflake column metadata for a value of ``t``."""
    if t.kind in ("int", "decimal"):
        return Column(name, "FIXED", t.precision, t.scale)
    if t.kind == "str":
        return Column(name, "TEXT", length=t.length or 16777216)
    return Column(name, _LOGICAL[t.kind])


def _site(node: Call) -> CallSite:
    """The CALL's arguments (split by the parser) as a call site."""
    site = CallSite(node.name, 0, 0)
    for arg in node.args:
        site.arg_names.append(arg.name)
        site.raw_args.append(list(arg.tokens))
        site.args.append(arg.sql)
    return site


def _evaluate(session: Context, routine: Routine, args: list[str]) -> list[Any]:
    if not args:
        return []
    select = ", ".join(f'{a} AS "A{i}"' for i, a in enumerate(args))
    result = run_ordinary(session, Ordinary(split(f"SELECT {select}")[0]))
    columns = arrow_to_python_columns(result.table, routine.arg_types)
    return [c[0] for c in columns]


def _on_sql(session: Context) -> Any:
    def run(query: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        results = session.execute(query)
        last = results[-1]
        return [c.name for c in last.columns], last.rows()

    return run


def call_procedure(session: Context, node: Call) -> Result:
    routines = overloads(session, "PROCEDURE", node.name)
    if not routines:
        db, schema, name = session.qualify(node.name)
        raise ObjectNotFound(
            f"SQL compilation error:\nUnknown user-defined function {db}.{schema}.{name}."
        )
    site = _site(node)
    routine = choose_overload(routines, node.name, site, "procedure")
    service = udf_service(session.engine)
    service.check_policy(routine, session)
    values = _evaluate(session, routine, bind_args(routine, site))
    pool = service.pool(routine)
    role, secondary = session.role, session.secondary_roles
    if routine.props.get("execute_as", "OWNER") == "OWNER":
        # Owner's rights: the procedure's SQL has the owner role's privileges, and only those.
        session.role, session.secondary_roles = routine.obj.owner, False
    bridge: ProcedureWire | None = session.engine.services.get(PROCEDURE_WIRE)
    wire = bridge.open_call(session) if bridge is not None else None
    try:
        outcome = pool.call_procedure(
            routine.spec,
            values,
            _on_sql(session),
            bridge.handle if bridge is not None else None,
            wire,
        )
    finally:
        if bridge is not None and wire is not None:
            bridge.end_call(wire)
        session.role, session.secondary_roles = role, secondary
    if routine.returns_table is not None or outcome.is_table:
        return _table_result(routine, outcome.columns, outcome.rows or [])
    assert routine.returns is not None
    array = python_to_arrow([outcome.value], routine.returns)
    column = result_column(routine.name, routine.returns)
    table = pa.Table.from_arrays([array], names=[routine.name])
    return Result([column], table, rowcount=1, statement_type="CALL")


def _table_result(
    routine: Routine, names: Sequence[str] | None, rows: Sequence[Sequence[Any]]
) -> Result:
    declared = routine.returns_table
    if declared:
        table = python_to_arrow_table(rows, list(declared))
        columns = [result_column(n, t) for n, t in declared]
        return Result(columns, table, rowcount=table.num_rows, statement_type="CALL")
    width = len(rows[0]) if rows else len(names or [])
    shown = list(names or [f"C{i + 1}" for i in range(width)])
    result = rows_result(shown, rows, "CALL")
    return result


def anonymous_procedure(session: Context, node: AnonymousProcedure) -> Result:
    """Create the procedure for this statement only (temporary, so the packages policy's
    ADDITIONAL_CREATION_BLOCKLIST applies when it runs), call it, and forget it; a temporary
    procedure of the same name and signature is set aside meanwhile and put back after."""
    shadowed = {k: o for k, o in session.temp_objects.items() if k[0] == "PROCEDURE"}
    node.create.or_replace = True
    create_routine(session, node.create)
    try:
        result = call_procedure(session, node.call)
        result.statement_type = "CALL"
        return result
    finally:
        service = udf_service(session.engine)
        for k, obj in list(session.temp_objects.items()):
            if k[0] == "PROCEDURE" and shadowed.get(k) is not obj:
                del session.temp_objects[k]
                service.invalidate(Routine(obj, session.id), dropped=True)
        session.temp_objects.update(shadowed)


HANDLERS: dict[tuple[str, str], Handler] = {
    ("Call", ""): call_procedure,
    ("AnonymousProcedure", ""): anonymous_procedure,
}
