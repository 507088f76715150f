"""Running ordinary SQL: engine-answered calls first (prepass), then Snowflake -> DuckDB
translation, then DuckDB, with results shaped as Snowflake shows them."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot.tokens import TokenType

from hoarfrost.commands.table_access import authorize
from hoarfrost.engine.batched import run_batched
from hoarfrost.engine.calls import calls_routines, prepare, run_with_udfs
from hoarfrost.engine.context import (
    RESULT_SCAN_ROWS,
    RESULTS_KEPT,
    Context,
    Handler,
    SystemFunction,
)
from hoarfrost.engine.plans import PlanCache, plan_cache
from hoarfrost.engine.result import (
    Column,
    Result,
    RowsResult,
    StreamResult,
    arrow_columns,
    arrow_type_of,
    column_from_duckdb,
    rows_result,
    status_result,
)
from hoarfrost.engine.udf import udf_service
from hoarfrost.errors import ProgrammingError
from hoarfrost.sql.ast import Ordinary
from hoarfrost.sql.binding import bind
from hoarfrost.sql.literals import Runs, collapse
from hoarfrost.sql.prepass import Prepassed, prepass
from hoarfrost.sql.result_scan import rewrite_result_scans
from hoarfrost.sql.table_parens import unwrap_table_parens
from hoarfrost.sql.tokens import Statement, split, tokenize
from hoarfrost.sql.translate import RunsLost, Translation, dml_counts, translate

__all__ = ["HANDLERS", "run_ordinary", "translated"]


def run_ordinary(session: Context, node: Ordinary, collapsing: bool = True) -> Result:
    """User function calls first (:mod:`hoarfrost.engine.calls`), then engine-answered calls
    (prepass), then translation and DuckDB; a statement seen before in the same context runs its
    kept translation (:mod:`hoarfrost.engine.plans`). Long literal runs are cut out before all
    of that and put back into the DuckDB SQL (:mod:`hoarfrost.sql.literals`)."""
    if node.params and _engine_answers(node, session.registry.system_functions):
        # Table functions and SYSTEM$ calls are answered during the rewrite, from literals.
        node = _inlined(node)
    plans = plan_cache(session.engine)
    key = plans.key(node.statement.text, session.database, session.schema)
    kept = plans.translation(key)
    if kept is not None:
        udf_service(session.engine).begin_statement(session)  # a view may still call a UDF
        return _authorized_run(session, kept, node.params)
    base, runs = _collapsed(session, node.statement) if collapsing else (node.statement, None)
    statement = _unwrapped(base)
    try:
        with prepare(session, statement) as prepared:
            pre = _prepassed(session, prepared.statement)
            sql, scans = rewrite_result_scans(pre.sql)
            as_sent = (
                prepared.statement is base
                and not prepared.temp_tables
                and not pre.virtual_tables
                and sql == base.text
            )
            if as_sent or not node.params:
                with _registered(session, pre.virtual_tables, scans):
                    rewrite_kept = not as_sent and not (
                        pre.virtual_tables or scans or prepared.temp_tables or runs
                    )
                    translation = _translation(session, sql, rewrite_kept, runs)
                    if not node.params or len(translation.statements) == 1:
                        if as_sent:
                            plans.keep(key, translation)
                        result = _authorized_run(session, translation, node.params)
                        if translation.kind == "ddl":
                            plans.invalidate()
                        if pre.virtual_tables or scans or prepared.temp_tables:
                            # Their cleanup needs the connection a streamed result holds.
                            return _materialized(result)
                        return result
    except RunsLost:
        return run_ordinary(session, node, collapsing=False)
    # Rewritten by the engine, or several DuckDB statements: the values go in as literals.
    return run_ordinary(session, _inlined(node), collapsing)


def _collapsed(session: Context, statement: Statement) -> tuple[Statement, Runs | None]:
    """The statement with its long literal runs cut out, unless it calls a user function: the
    engine evaluates those calls' arguments and lateral inputs from their text, which must be
    whole."""
    collapsed = collapse(statement)
    if collapsed is None or calls_routines(session, collapsed.statement):
        return statement, None
    return collapsed.statement, collapsed.runs


def _translation(session: Context, sql: str, keep: bool, runs: Runs | None = None) -> Translation:
    """The translation of the engine's rewrite of a statement (its user function calls named
    after their DuckDB registrations): the same rewrite translates the same way, so with
    ``keep`` (no per-run names in it: virtual tables, RESULT_SCANs, UDTF results) it is kept."""
    if not keep:
        return translate(sql, runs)
    plans = plan_cache(session.engine)
    key = plans.key(sql, session.database, session.schema)
    kept = plans.translation(key)
    if kept is None:
        kept = translate(sql, runs)
        plans.keep(key, kept)
    return kept


@contextmanager
def translated(session: Context, statement: Statement) -> Iterator[Translation]:
    """The statement's translation, with its user functions registered in DuckDB and the
    engine's virtual tables in place for as long as it runs (EXPLAIN)."""
    statement = _unwrapped(statement)
    with prepare(session, statement) as prepared:
        pre = _prepassed(session, prepared.statement)
        sql, scans = rewrite_result_scans(pre.sql)
        with _registered(session, pre.virtual_tables, scans):
            yield translate(sql)


def _unwrapped(statement: Statement) -> Statement:
    """FROM ( TABLE(f(...)) ) as FROM TABLE(f(...)), so user table functions are found too."""
    unwrapped = unwrap_table_parens(statement.text)
    if unwrapped == statement.text:
        return statement
    return Statement(unwrapped, tokenize(unwrapped), 0)


def _prepassed(session: Context, statement: Statement) -> Prepassed:
    registry = session.registry
    functions = {name: _bind(fn, session) for name, fn in registry.system_functions.items()}
    return prepass(statement, functions, set(registry.virtual_tables), set(registry.virtual_views))


@contextmanager
def _registered(
    session: Context, virtual_tables: list[str], scans: list[tuple[str, str]]
) -> Iterator[None]:
    """The engine's virtual tables and the RESULT_SCANs a statement reads, registered in
    DuckDB while it runs."""
    registry = session.registry
    relations = {f"__HF_{fn}": registry.virtual_tables[fn] for fn in virtual_tables}
    for name, factory in relations.items():
        session.duck.register(name, factory(session))
    for name, query_id in scans:
        session.duck.register(name, _earlier_result(session, query_id))
    try:
        yield
    finally:
        for name in [*relations, *(name for name, _ in scans)]:
            session.duck.unregister(name)


def _earlier_result(session: Context, query_id: str) -> pa.Table:
    kept = session.recent_results.get(query_id.strip("'"))
    if kept is None or (isinstance(kept, StreamResult) and not kept.whole):
        raise ProgrammingError(
            f"Statement {query_id.strip(chr(39))} not found: RESULT_SCAN reads the results of "
            f"this session's last {RESULTS_KEPT} queries of at most {RESULT_SCAN_ROWS:,} rows.",
            errno=709,
            sqlstate="02000",
        )
    return kept.table


def _authorized_run(session: Context, translation: Translation, params: tuple[Any, ...]) -> Result:
    """Privileges are checked on every run, kept translation or not (the role may change)."""
    recorded = authorize(session, translation.accesses)
    result = run_with_udfs(session, lambda: _run(session, translation, params))
    recorded()  # what the statement created, dropped or renamed, now that it did
    return result


def _materialized(result: Result) -> Result:
    if not isinstance(result, StreamResult):
        return result
    table = pa.Table.from_batches(list(result.batches()), result.schema)
    return Result(result.columns, table, table.num_rows, result.statement_type)


def _engine_answers(node: Ordinary, system_functions: Mapping[str, Any]) -> bool:
    toks = node.statement.tokens
    return any(
        b.token_type == TokenType.L_PAREN
        and (a.token_type == TokenType.TABLE or a.text.upper() in system_functions)
        for a, b in itertools.pairwise(toks)
    )


def _inlined(node: Ordinary) -> Ordinary:
    return Ordinary(split(bind(node.statement.text, list(node.params)))[0])


def _bind(fn: SystemFunction, session: Context) -> Any:
    return lambda args: fn(session, args)


def _run(session: Context, translation: Translation, params: tuple[Any, ...] = ()) -> Result:
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
        query = translation.kind == "query"
        batched = None
        if not (many or params):  # UDF calls of a query (or of CREATE TABLE AS, INSERT SELECT)
            batched = run_batched(
                session,
                last,
                (lambda sql: _query_result(duck.sql(sql)))
                if query
                else (lambda sql: _shape(duck.execute(sql), translation)),
            )
        if batched is not None:
            result = batched
        elif not query:
            result = _shape(duck.execute(last, params or None), translation)
        elif session.stream_results and not many:
            result = _stream(duck, last, params, plan_cache(session.engine))
        else:
            result = _query(duck, last, params)
    except BaseException:
        if many:
            duck.execute("ROLLBACK")
        raise
    if many:
        duck.execute("COMMIT")
    return result


# Results up to this many rows come back as DuckDB's Python rows (see RowsResult).
_SMALL = 4096


def _query(
    duck: duckdb.DuckDBPyConnection,
    sql: str,
    params: tuple[Any, ...],
    plans: PlanCache | None = None,
) -> Result:
    """With ``plans`` (a streaming session), a result past the small ones streams on from the
    cursor instead of being read whole."""
    cursor = duck.execute(sql, params or None)
    description = cursor.description or []
    duck_types = [str(d[1]) for d in description]
    types = [arrow_type_of(t) for t in duck_types]
    rows: list[tuple[Any, ...]] = []
    if all(t is not None for t in types):
        rows = cursor.fetchmany(_SMALL + 1)
        columns = [
            column_from_duckdb(d[0], t) for d, t in zip(description, duck_types, strict=True)
        ]
        if len(rows) <= _SMALL:
            cursor.complete()  # DuckDB holds the connection until the result is finished
            return RowsResult(columns, _ints(rows, duck_types, types), types)  # type: ignore[arg-type]
        if plans is not None:
            plans.result_size(sql, small=False)
            return _rows_streamed(cursor, columns, rows, duck_types, types)  # type: ignore[arg-type]
    elif plans is not None:
        plans.result_size(sql, small=False)
    with warnings.catch_warnings():
        # DuckDB warns that Arrow from an executed statement is one more copy than from a
        # relation; a relation would run the statement a second time.
        warnings.simplefilter("ignore", UserWarning)
        rest: pa.Table = cursor.to_arrow_table()
    if rows:  # the rows read so far go in front of the rest
        head = pa.Table.from_arrays(
            [pa.array([r[i] for r in rows], type=f.type) for i, f in enumerate(rest.schema)],
            schema=rest.schema,
        )
        rest = pa.concat_tables([head, rest])
    return _query_result_of(rest, description)


def _ints(
    rows: list[tuple[Any, ...]], duck_types: list[str], types: list[Any]
) -> list[tuple[Any, ...]]:
    """NUMBER(p, 0) as int, like the connector (and like ``_integers`` for Arrow); the other
    NUMBER columns of the row keep their Decimal."""
    whole = [
        d.startswith("DECIMAL") and pa.types.is_integer(t)
        for d, t in zip(duck_types, types, strict=True)
    ]
    if not rows or not any(whole):
        return rows
    return [
        tuple(
            int(v) if w and isinstance(v, Decimal) else v for v, w in zip(row, whole, strict=True)
        )
        for row in rows
    ]


def _query_result_of(table: pa.Table, description: list[Any]) -> Result:
    columns = [column_from_duckdb(d[0], str(d[1])) for d in description]
    table = _integers(_rename(table, [c.name for c in columns]))
    return Result(columns, table, rowcount=table.num_rows, statement_type="SELECT")


# Rows per record batch of a streamed result (the wire server's unit of work).
_STREAM_BATCH = 65536


def _stream(
    duck: duckdb.DuckDBPyConnection, sql: str, params: tuple[Any, ...], plans: PlanCache
) -> Result:
    """A relation's reader streams (DuckDB's Arrow of an executed statement is its whole
    result, read first). A statement whose last result was small is executed instead and its rows
    read through the cursor: for a few rows that costs half of what a relation does (it parses
    and binds the text once more, to learn its columns)."""
    if plans.small_result(sql):
        return _query(duck, sql, params, plans)
    relation = duck.sql(sql, params=params or None)
    assert relation is not None
    types = [str(t) for t in relation.types]
    columns = [column_from_duckdb(n, t) for n, t in zip(relation.columns, types, strict=True)]
    # Only a result the cursor can give as it is (see arrow_type_of) is read that way next time.
    readable = all(arrow_type_of(t) is not None for t in types)

    def read_out(rows: int) -> None:
        plans.result_size(sql, small=readable and rows <= _SMALL)

    reader = relation.to_arrow_reader(_STREAM_BATCH)
    result = StreamResult(columns, reader, RESULT_SCAN_ROWS, read_out)
    result.statement_type = "SELECT"
    return result


def _rows_streamed(
    cursor: duckdb.DuckDBPyConnection,
    columns: list[Column],
    head: list[tuple[Any, ...]],
    duck_types: list[str],
    types: list[pa.DataType],
) -> Result:
    """A result that was small last time and is not now: the rows read so far and the rest,
    batch by batch from the cursor (never the whole of it at once)."""
    schema = pa.schema([(c.name, t) for c, t in zip(columns, types, strict=True)])

    def batches() -> Iterator[pa.RecordBatch]:
        rows = head
        while rows:
            arrays = arrow_columns(_ints(rows, duck_types, types), types)
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)
            rows = cursor.fetchmany(_STREAM_BATCH)

    reader = pa.RecordBatchReader.from_batches(schema, batches())
    result = StreamResult(columns, reader, RESULT_SCAN_ROWS)
    result.statement_type = "SELECT"
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
