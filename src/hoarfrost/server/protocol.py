"""Envelopes, codes and statement type ids of the Snowflake REST protocol.

Every answer a client should read as a SQL result or a SQL error is HTTP 200 with
``{"data", "code", "message", "success"}``: the connectors retry 5xx, 403, 408 and 429 until
their timeout, so an error sent as HTTP 500 would hang the client.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from hoarfrost.errors import Error
from hoarfrost.sql.tokens import Statement

__all__ = [
    "ASYNC_RUNNING",
    "BAD_LOGIN",
    "BAD_REQUEST",
    "NO_SESSION",
    "SESSION_EXPIRED",
    "SESSION_GONE",
    "USER_LOCKED",
    "envelope",
    "error_envelope",
    "statement_type_id",
]

BAD_LOGIN = 390100  # Incorrect username or password was specified.
# Too many failed logins. The reference's message (its number is not documented publicly; this
# one sits beside BAD_LOGIN in the same authentication family):
USER_LOCKED = 390102
NO_SESSION = 390101  # Authorization header missing or not a session token.
SESSION_GONE = 390104  # The session does not exist (logged out, server restarted).
SESSION_EXPIRED = 390112  # The session token expired: renew with the master token.
MASTER_EXPIRED = 390114  # The master token expired: log in again.
BAD_REQUEST = 390400  # A body that is too large or not a JSON object of the protocol.
ASYNC_RUNNING = 333334  # An asynchronous query was accepted and is running.

# Statement type ids (the reference's statementTypeId; JDBC SFStatementType).
SELECT = 0x1000
DML = 0x3000
_DML_IDS = {"INSERT": 0x3100, "UPDATE": 0x3200, "DELETE": 0x3300, "MERGE": 0x3400, "COPY": 0x3600}
ALTER_SESSION = 0x4100
USE = 0x4300
SHOW = 0x4400
DESCRIBE = 0x4500
TCL = 0x5000
_TCL_WORDS = {"BEGIN", "START", "COMMIT", "ROLLBACK"}
DDL = 0x6000
CALL = 0x9000
MULTI_STATEMENT = 0xA000  # the parent of a multi-statement request (children in resultIds)
_BY_RESULT_KIND = {"SELECT": SELECT, "SHOW": SHOW, "DESCRIBE": DESCRIBE, "USE": USE, "CALL": CALL}


def envelope(data: Any, *, code: str | None = None, message: str | None = None) -> JSONResponse:
    return JSONResponse({"data": data, "code": code, "message": message, "success": True})


def error_envelope(
    errno: int, message: str, sqlstate: str = "", query_id: str | None = None, **extra: Any
) -> JSONResponse:
    code = f"{errno:06d}"
    data = {"errorCode": code, "sqlState": sqlstate, "queryId": query_id, "internalError": False}
    data.update(extra)
    return JSONResponse({"data": data, "code": code, "message": message, "success": False})


def from_error(error: Error, query_id: str | None = None) -> JSONResponse:
    return error_envelope(error.errno, error.msg, error.sqlstate, query_id)


def first_words(statement: Statement, n: int = 2) -> list[str]:
    return [t.text.upper() for t in statement.tokens[:n]]


def statement_type_id(statement: Statement, result_kind: str | None) -> int:
    """The id of a statement, from its result kind and (for DML, DDL) its first words."""
    words = first_words(statement)
    head = words[0] if words else ""
    if result_kind in _BY_RESULT_KIND:
        return _BY_RESULT_KIND[result_kind]
    if result_kind == "DML" or (result_kind is None and head in _DML_IDS):
        return _DML_IDS.get(head, DML)
    if head in _TCL_WORDS:
        return TCL
    if words[:2] == ["ALTER", "SESSION"]:
        return ALTER_SESSION
    if result_kind is None and head in ("SELECT", "WITH", "VALUES", "("):
        return SELECT
    if result_kind is None and head in ("SHOW", "DESCRIBE", "DESC", "USE", "CALL"):
        return {"SHOW": SHOW, "USE": USE, "CALL": CALL}.get(head, DESCRIBE)
    return DDL
