"""``/queries/v1/query-request``: run a request's SQL on a session and build the answer.

One request is one statement unless the request's ``MULTI_STATEMENT_COUNT`` parameter allows
more (0: any number; n: exactly n), as the reference does. A multi-statement request answers
with ``resultIds``; each child's result is kept for ``GET /queries/<id>/result``. Array bindings
(a list per placeholder) run the statement once per row and answer with the summed counts.
``describeOnly`` returns the rowtype without running the statement (a query is planned under
``LIMIT 0``; DML answers with its count columns).
"""

from __future__ import annotations

import logging
import time
import traceback
import uuid
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from hoarfrost.engine.boundary import translate_exception
from hoarfrost.engine.plans import plan_cache
from hoarfrost.engine.result import Column, Result, StreamResult
from hoarfrost.errors import Error, InternalError, ProgrammingError
from hoarfrost.server import encoding, protocol
from hoarfrost.server.arrow_encoding import (
    SnowflakeArrow,
    b64,
    ipc_stream,
    unscaled_int64,
    wide_decimals,
)
from hoarfrost.server.bindings import Run, bound_runs, bound_statements, count_placeholders
from hoarfrost.server.chunks import FIRST_ROWS, TOKEN_HEADER, ChunkSink, RawSpool, SpooledResult
from hoarfrost.server.sessions import QueryRecord, ServerSession
from hoarfrost.sql.tokens import Statement, split

__all__ = ["execute_request", "new_record", "record_query", "run_record"]

log = logging.getLogger("hoarfrost.server")

_COUNT_COLUMNS = {
    protocol.SELECT: [],
    0x3100: ["number of rows inserted"],
    0x3200: ["number of rows updated", "number of multi-joined rows updated"],
    0x3300: ["number of rows deleted"],
    0x3400: ["number of rows inserted", "number of rows updated", "number of rows deleted"],
}
_STATS = {
    "number of rows inserted": "numRowsInserted",
    "number of rows updated": "numRowsUpdated",
    "number of rows deleted": "numRowsDeleted",
}
MULTI_STATEMENT_COUNT = "MULTI_STATEMENT_COUNT"


class QueryFailed(Exception):
    def __init__(self, error: Error, query_id: str):
        super().__init__(error.msg)
        self.error = error
        self.query_id = query_id


def new_record(entry: ServerSession) -> QueryRecord:
    return entry.keep(QueryRecord(str(uuid.uuid4()), time.time()))


def record_query(
    entry: ServerSession, body: Mapping[str, Any], sink: ChunkSink | None = None
) -> QueryRecord:
    """Run the request and keep its envelope in the session under a new query id."""
    record = new_record(entry)
    run_record(entry, body, record, sink)
    return record


def run_record(
    entry: ServerSession,
    body: Mapping[str, Any],
    record: QueryRecord,
    sink: ChunkSink | None = None,
) -> None:
    try:
        data = execute_request(entry, body, record.query_id, sink)
        record.finish({"data": data, "code": None, "message": None, "success": True})
    except QueryFailed as failed:
        record.finish(_error_payload(failed.error, failed.query_id))
    except Error as error:
        record.finish(_error_payload(error, record.query_id))
    except Exception as exc:  # a bug of ours: one log line with the place, never the values
        log.error(
            "internal error %s while running a query:\n%s",
            type(exc).__name__,
            "".join(traceback.format_tb(exc.__traceback__)),
        )
        internal = InternalError("Internal error while running the statement.", errno=200001)
        record.finish(_error_payload(internal, record.query_id))


def _error_payload(error: Error, query_id: str) -> dict[str, Any]:
    code = f"{error.errno:06d}"
    data = {"errorCode": code, "sqlState": error.sqlstate, "queryId": query_id}
    return {"data": data, "code": code, "message": error.msg, "success": False}


def execute_request(
    entry: ServerSession, body: Mapping[str, Any], query_id: str, sink: ChunkSink | None = None
) -> dict:
    sql = body.get("sqlText")
    if not isinstance(sql, str) or not sql.strip():
        raise ProgrammingError(
            "SQL compilation error:\nEmpty SQL statement.", errno=900, sqlstate="42000"
        )
    statements = plan_cache(entry.session.engine).statements(sql)  # kept: no tokenizing again
    if not statements:
        raise ProgrammingError(
            "SQL compilation error:\nEmpty SQL statement.", errno=900, sqlstate="42000"
        )
    _check_count(len(statements), _expected_count(body))
    bindings = body.get("bindings")
    if body.get("describeOnly"):
        return _describe(entry, statements[0], sql, bindings, query_id)
    if len(statements) > 1:
        script = split(bound_statements(sql, bindings)[0]) if bindings else statements
        return _multi(entry, script, query_id)
    runs = bound_runs(sql, bindings)
    if not runs:
        raise ProgrammingError("Array bind variables have no rows.", errno=2049, sqlstate="22000")
    with entry.lock:  # a streamed result drains before the session's next statement
        # Without bindings the statements split above run as they are: a long text's tokens
        # are not kept (engine/plans.py), so splitting it again would tokenize it twice.
        results = (
            _run(entry, runs, query_id) if bindings else _run_split(entry, statements, query_id)
        )
        result = results[0] if len(results) == 1 else _summed(results)
        entry.session.adopt_query_id(result, query_id)
        if result.transfer is not None:
            return {"queryId": query_id, **_context(entry), **entry.files(result)}
        try:
            return result_data(entry, statements[0], result, len(bindings or {}), sink)
        except Error as error:
            raise QueryFailed(error, query_id) from None


def _expected_count(body: Mapping[str, Any]) -> int:
    parameters = body.get("parameters") or {}
    raw = parameters.get(MULTI_STATEMENT_COUNT, 1) if isinstance(parameters, dict) else 1
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ProgrammingError(
            f"Invalid value for parameter {MULTI_STATEMENT_COUNT}.", errno=1008, sqlstate="22023"
        ) from None


def _check_count(actual: int, expected: int) -> None:
    if expected != 0 and actual != expected:
        raise ProgrammingError(
            f"Actual statement count {actual} did not match the desired statement count "
            f"{expected}.",
            errno=8,
            sqlstate="0A000",
        )


def _run(entry: ServerSession, runs: list[Run], query_id: str) -> list[Result]:
    results = []
    with entry.lock:
        for text, params in runs:
            try:
                results.extend(entry.session.execute(text, params))
            except Error as error:
                raise QueryFailed(error, query_id) from None
    return results


def _run_split(entry: ServerSession, statements: list[Statement], query_id: str) -> list[Result]:
    try:
        return entry.session.execute_statements(statements)
    except Error as error:
        raise QueryFailed(error, query_id) from None


def _summed(results: list[Result]) -> Result:
    """One DML result for an array-bound statement: each count column summed over the rows."""
    first = results[0]
    if first.statement_type != "DML":
        return results[-1]
    totals = [
        sum(int(r.table.column(i)[0].as_py() or 0) for r in results if r.table.num_rows)
        for i in range(first.table.num_columns)
    ]
    table = pa.table([pa.array([t], pa.int64()) for t in totals], names=first.table.column_names)
    return Result(first.columns, table, sum(r.rowcount for r in results), "DML")


def _multi(entry: ServerSession, statements: list[Statement], query_id: str) -> dict:
    """Each statement of the script (split once: a long one is not tokenized again) as a child
    query of its own."""
    ids, types = [], []
    for statement in statements:
        child = new_record(entry)
        with entry.lock:
            try:
                (result,) = _run_split(entry, [statement], child.query_id)
            except QueryFailed as failed:
                child.finish(_error_payload(failed.error, child.query_id))
                raise
            entry.session.adopt_query_id(result, child.query_id)
            data = result_data(entry, statement, result)
        child.finish({"data": data, "code": None, "message": None, "success": True})
        ids.append(child.query_id)
        types.append(str(data["statementTypeId"]))
    column = Column("multiple statement execution", "TEXT", length=16777216)
    table = pa.table({column.name: ["Multiple statements executed successfully."]})
    parent = Result([column], table, 1, "SELECT", query_id)
    data = result_data(entry, statements[0], parent)
    data.update(resultIds=",".join(ids), resultTypes=",".join(types))
    data["statementTypeId"] = protocol.MULTI_STATEMENT
    return data


def result_data(
    entry: ServerSession,
    statement: Statement,
    result: Result,
    binds: int = 0,
    sink: ChunkSink | None = None,
) -> dict[str, Any]:
    type_id = protocol.statement_type_id(statement, result.statement_type)
    data: dict[str, Any] = {
        "queryId": result.query_id,
        "rowtype": encoding.rowtype(result.columns),
        "statementTypeId": type_id,
        "numberOfBinds": binds,
        "arrayBindSupported": False,
        "version": 1,
        "parameters": [],
        **_context(entry),
    }
    # The reference answers queries in Arrow, everything else in JSON.
    if type_id == protocol.SELECT and result.columns:
        data.update(_arrow_rows(result, sink))
    else:
        rows = encoding.rowset(result)
        data.update(rowset=rows, total=len(rows), returned=len(rows), queryResultFormat="json")
    data["sendResultTime"] = int(time.time() * 1000)
    if type_id & 0xF000 == protocol.DML:
        data["stats"] = _stats(result)
    return data


def _arrow_rows(result: Result, sink: ChunkSink | None) -> dict[str, Any]:
    """The first rows inline, the rest as chunks in ``sink`` (all inline without one)."""
    raw = result.batches() if isinstance(result, StreamResult) else iter(result.table.to_batches())
    inline: list[pa.RecordBatch] = []  # raw batches of the inline rows, one schema
    inline_rows = total = 0
    spool: RawSpool | None = None
    candidates: list[int] | None = None
    wide: set[int] = set()
    try:
        for batch in raw:
            if not batch.num_rows:
                continue
            if candidates is None:
                candidates = wide_decimals(result.columns, batch.schema)
            wide.update(i for i in candidates if i not in wide and not _fits(batch.column(i)))
            total += batch.num_rows
            same = not inline or batch.schema == inline[0].schema
            if spool is None and (sink is None or total <= FIRST_ROWS) and same:
                inline.append(batch)
                inline_rows += batch.num_rows
                continue
            if spool is None:  # past the inline rows: from here on every batch is spooled
                assert sink is not None
                spool = sink.store.spool()
                for kept in inline:
                    spool.add(kept)
                head = FIRST_ROWS - inline_rows
                if head > 0 and same:
                    inline.append(batch.slice(0, head))
                    inline_rows += head
            spool.add(batch)
    except Exception as exc:  # a failure while DuckDB streams (a UDF, a cast) is the query's
        if spool is not None:
            spool.close()
        if isinstance(exc, Error):
            raise
        raise translate_exception(exc) from None
    arrow = SnowflakeArrow(result.columns, frozenset(wide))

    def encode(batches: list[pa.RecordBatch]) -> bytes:
        converted = [arrow.convert(b) for b in batches]
        return ipc_stream(converted[0].schema, converted)

    out: dict[str, Any] = {
        "queryResultFormat": "arrow",
        "rowsetBase64": b64(encode(inline)) if inline else "",
        "total": total,
        "returned": total,
    }
    if spool is not None and sink is not None:
        spooled = SpooledResult(spool, spool.plan(inline_rows), encode)
        sink.store.keep(result.query_id, spooled)
        out["chunks"] = [
            {
                "url": sink.url(result.query_id, i),
                "rowCount": c.rows,
                "uncompressedSize": c.size,
                "compressedSize": c.size,
            }
            for i, c in enumerate(spooled.chunks)
        ]
        out["chunkHeaders"] = {TOKEN_HEADER: spooled.token}
    return out


def _fits(array: pa.Array) -> bool:
    if not pa.types.is_decimal(array.type) or len(array) == array.null_count:
        return True
    return unscaled_int64(array) is not None


def _context(entry: ServerSession) -> dict[str, Any]:
    session = entry.session
    return {
        "finalDatabaseName": session.database,
        "finalSchemaName": session.schema,
        "finalWarehouseName": entry.warehouse,
        "finalRoleName": session.role,
    }


def _stats(result: Result) -> dict[str, int]:
    stats = {"numRowsInserted": 0, "numRowsUpdated": 0, "numRowsDeleted": 0}
    if result.table.num_rows:
        for name, key in _STATS.items():
            if name in result.table.column_names:
                stats[key] = int(result.table.column(name)[0].as_py() or 0)
    stats["numDmlDuplicates"] = 0
    return stats


# -- describeOnly -------------------------------------------------------------------------
def _describe(
    entry: ServerSession,
    statement: Statement,
    sql: str,
    bindings: Mapping[str, Any] | None,
    query_id: str,
) -> dict[str, Any]:
    type_id = protocol.statement_type_id(statement, None)
    if type_id == protocol.SELECT:
        columns = _query_columns(entry, sql, bindings, query_id)
    elif type_id in _COUNT_COLUMNS:
        columns = [Column(n, "FIXED", 38, 0, nullable=False) for n in _COUNT_COLUMNS[type_id]]
    elif type_id in (protocol.SHOW, protocol.DESCRIBE):
        # SHOW and DESCRIBE only read: run them for their columns.
        (result,) = _run(entry, bound_runs(sql, bindings)[:1], query_id)
        columns = result.columns
    else:
        columns = [Column("status", "TEXT", length=encoding.TEXT_LENGTH)]
    data = {
        "queryId": query_id,
        "rowtype": encoding.rowtype(columns),
        "rowset": [],
        "total": 0,
        "returned": 0,
        "queryResultFormat": "json",
        "statementTypeId": type_id,
        "numberOfBinds": count_placeholders(sql),
        # An INSERT may be sent once with a list per placeholder (executemany).
        "arrayBindSupported": type_id == 0x3100,
        "version": 1,
        "parameters": [],
        **_context(entry),
    }
    return data


def _query_columns(
    entry: ServerSession, sql: str, bindings: Mapping[str, Any] | None, query_id: str
) -> list[Column]:
    if not bindings and count_placeholders(sql):
        # Placeholders not bound yet (executemany asks first): describe with NULLs.
        nulls = {str(i + 1): {"type": "ANY", "value": None} for i in range(count_placeholders(sql))}
        bindings = nulls
    text = bound_statements(sql, bindings)[0] if bindings else sql
    body = text.strip().rstrip(";")
    (result,) = _run(entry, [(f"SELECT * FROM ({body}) LIMIT 0", None)], query_id)
    return result.columns
