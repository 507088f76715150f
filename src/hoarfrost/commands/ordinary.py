"""Running ordinary SQL: engine-answered calls first (prepass), then Snowflake -> DuckDB
translation, then DuckDB, with results shaped as Snowflake shows them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from hoarfrost.commands.table_access import authorize
from hoarfrost.engine.batched import run_batched
from hoarfrost.engine.calls import prepare, run_with_udfs
from hoarfrost.engine.context import (
    RESULT_SCAN_ROWS,
    RESULTS_KEPT,
    Context,
    Handler,
    SystemFunction,
)
from hoarfrost.engine.result import Result, column_from_duckdb, rows_result, status_result
from hoarfrost.errors import ProgrammingError
from hoarfrost.sql.ast import Ordinary
from hoarfrost.sql.prepass import prepass
from hoarfrost.sql.result_scan import rewrite_result_scans
from hoarfrost.sql.table_parens import unwrap_table_parens
from hoarfrost.sql.tokens import Statement, tokenize
from hoarfrost.sql.translate import Translation, dml_counts, translate

__all__ = ["HANDLERS", "run_ordinary", "translated"]


def run_ordinary(session: Context, node: Ordinary) -> Result:
    """User function calls first (:mod:`hoarfrost.engine.calls`), then engine-answered calls
    (prepass), then translation and DuckDB."""
    with translated(session, node.statement) as translation:
        recorded = authorize(session, translation.accesses)
        result = run_with_udfs(session, lambda: _run(session, translation))
        recorded()  # what the statement created, dropped or renamed, now that it did
        return result


@contextmanager
def translated(session: Context, statement: Statement) -> Iterator[Translation]:
    """The statement's translation, with its user functions registered in DuckDB and the
    engine's virtual tables in place for as long as it runs."""
    unwrapped = unwrap_table_parens(statement.text)
    if unwrapped != statement.text:  # FROM ( TABLE(f(...)) ): user table functions too
        statement = Statement(unwrapped, tokenize(unwrapped), 0)
    with prepare(session, statement) as prepared:
        registry = session.registry
        functions = {name: _bind(fn, session) for name, fn in registry.system_functions.items()}
        pre = prepass(
            prepared.statement,
            functions,
            set(registry.virtual_tables),
            set(registry.virtual_views),
        )
        sql, scans = rewrite_result_scans(pre.sql)
        relations = {f"__HF_{fn}": registry.virtual_tables[fn] for fn in pre.virtual_tables}
        for name, factory in relations.items():
            session.duck.register(name, factory(session))
        for name, query_id in scans:
            session.duck.register(name, _earlier_result(session, query_id))
        try:
            yield translate(sql)
        finally:
            for name in [*relations, *(name for name, _ in scans)]:
                session.duck.unregister(name)


def _earlier_result(session: Context, query_id: str) -> pa.Table:
    kept = session.recent_results.get(query_id.strip("'"))
    if kept is None:
        raise ProgrammingError(
            f"Statement {query_id.strip(chr(39))} not found: RESULT_SCAN reads the results of "
            f"this session's last {RESULTS_KEPT} queries of at most {RESULT_SCAN_ROWS:,} rows.",
            errno=709,
            sqlstate="02000",
        )
    return kept.table


def _bind(fn: SystemFunction, session: Context) -> Any:
    return lambda args: fn(session, args)


def _run(session: Context, translation: Translation) -> Result:
    duck = session.duck
    # Several DuckDB statements are one Snowflake statement: atomic, unless the session's open
    # transaction already holds them.
    many = len(translation.statements) > 1 and session.transaction is None
    if many:
        duck.execute("BEGIN TRANSACTION")
    try:
        for sql in translation.statements[:-1]:
            duck.execute(sql)
        last = translation.statements[-1]
        if translation.kind != "query":
            result = _shape(duck.execute(last), translation)
        else:
            batched = None if many else run_batched(session, last, _query_result)
            # A relation hands Arrow over without the extra copy a DB-API result makes.
            result = batched if batched is not None else _query_result(duck.sql(last))
    except BaseException:
        if many:
            duck.execute("ROLLBACK")
        raise
    if many:
        duck.execute("COMMIT")
    return result


def _query_result(relation: duckdb.DuckDBPyRelation) -> Result:
    columns = [
        column_from_duckdb(name, str(t))
        for name, t in zip(relation.columns, relation.types, strict=True)
    ]
    table = _integers(_rename(relation.to_arrow_table(), [c.name for c in columns]))
    return Result(columns, table, rowcount=table.num_rows, statement_type="SELECT")


def _shape(cursor: duckdb.DuckDBPyConnection, translation: Translation) -> Result:
    if translation.count_columns:
        rows = cursor.fetchall() if cursor.description else []
        counts = dml_counts(translation, rows)
        result = rows_result(list(translation.count_columns), [counts], "DML")
        result.rowcount = sum(counts)
        return result
    return status_result(translation.status or "Statement executed successfully.")


def _rename(table: pa.Table, names: list[str]) -> pa.Table:
    return table.rename_columns(names) if table.column_names != names else table


def _integers(table: pa.Table) -> pa.Table:
    """NUMBER(p, 0) comes back as int, as the Snowflake connector returns it."""
    for i, field in enumerate(table.schema):
        if pa.types.is_decimal(field.type) and field.type.scale == 0:
            try:
                table = table.set_column(i, field.name, pc.cast(table.column(i), pa.int64()))
            except pa.ArrowInvalid:
                continue  # wider than 64 bits: keep Decimal
    return table


HANDLERS: dict[tuple[str, str], Handler] = {("Ordinary", ""): run_ordinary}
