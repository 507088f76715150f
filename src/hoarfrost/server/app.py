"""The Starlette application: the REST endpoints the Snowflake connectors call.

Endpoints (see /work/shared/PROTOCOL.md and the connectors' ``network.py`` / ``sf_core``):

    POST /session/v1/login-request     user + password -> session and master tokens
    POST /session/token-request        renew an expired session token with the master token
    POST /session/heartbeat            keep-alive
    POST /session?delete=true          logout
    POST /queries/v1/query-request     run SQL (sync or asyncExec)
    POST /queries/v1/abort-request     interrupt the session's running statement
    GET  /queries/<id>/result          the result of an async or multi-statement child query
    GET  /monitoring/queries/<id>      the status of a query
    POST /telemetry/send               accepted and dropped

Request bodies may be gzip-compressed. Bodies, tokens and passwords are never logged.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import threading
import traceback
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hoarfrost.commands.session import Session
from hoarfrost.config import Settings
from hoarfrost.engine.engine import Engine, open_engine
from hoarfrost.errors import Error
from hoarfrost.server import protocol
from hoarfrost.server.auth import Users
from hoarfrost.server.queries import new_record, record_query, run_record
from hoarfrost.server.sessions import QueryRecord, ServerSession, SessionRegistry, TokenState
from hoarfrost.version import __version__

__all__ = ["ServerState", "create_app"]

log = logging.getLogger("hoarfrost.server")

# Session parameters the connectors read from the login answer.
LOGIN_PARAMETERS: dict[str, Any] = {
    "TIMEZONE": "UTC",
    "AUTOCOMMIT": True,
    "CLIENT_TELEMETRY_ENABLED": False,
    "CLIENT_SESSION_KEEP_ALIVE": False,
    # Array binds above this many cells are uploaded to a stage with PUT; we bind inline.
    "CLIENT_STAGE_ARRAY_BINDING_THRESHOLD": 2**31 - 1,
    "CLIENT_RESULT_CHUNK_SIZE": 160,
    "QUERY_RESULT_FORMAT": "JSON",
    "PYTHON_CONNECTOR_QUERY_RESULT_FORMAT": "JSON",
}
RESULT_WAIT_SECONDS = 30.0
MAX_BODY = 64 << 20


@dataclass
class ServerState:
    engine: Engine
    users: Users
    registry: SessionRegistry
    settings: Settings


class _BadRequest(Exception):
    pass


# -- request helpers ----------------------------------------------------------------------
async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise _BadRequest("request body too large")
    if request.headers.get("content-encoding", "").lower() == "gzip" or raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error):
            raise _BadRequest("body is not valid gzip") from None
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _BadRequest("body is not JSON") from None
    if not isinstance(body, dict):
        raise _BadRequest("body is not a JSON object")
    return body


def _bad_request(message: str) -> JSONResponse:
    content = {"data": None, "code": "390400", "message": message, "success": False}
    return JSONResponse(content, status_code=400)


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, rest = header.partition(" ")
    if scheme.lower() != "snowflake":
        return None
    key, _, value = rest.strip().partition("=")
    if key.strip().lower() != "token":
        return None
    return value.strip().strip('"') or None


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.hoarfrost
    return state


def _session(request: Request) -> tuple[ServerSession | None, JSONResponse | None]:
    token = _token(request)
    if token is None:
        return None, protocol.error_envelope(
            protocol.NO_SESSION, "Authorization header missing or not a Snowflake token."
        )
    status, entry = _state(request).registry.lookup(token)
    if status == TokenState.EXPIRED:
        return None, protocol.error_envelope(protocol.SESSION_EXPIRED, "Session token expired.")
    if entry is None:
        return None, protocol.error_envelope(
            protocol.SESSION_GONE, "Session no longer exists. New login required."
        )
    return entry, None


# -- login and session --------------------------------------------------------------------
async def login(request: Request) -> Response:
    body = await _json_body(request)
    data = body.get("data") or {}
    state = _state(request)
    authenticator = str(data.get("AUTHENTICATOR") or "SNOWFLAKE").upper()
    if authenticator not in ("SNOWFLAKE", "USERNAME_PASSWORD_MFA"):
        return protocol.error_envelope(
            protocol.BAD_LOGIN,
            f"Authenticator {authenticator} is not supported; use user and password.",
        )
    user = state.users.verify(str(data.get("LOGIN_NAME") or ""), str(data.get("PASSWORD") or ""))
    if user is None:
        log.info("login refused")
        return protocol.error_envelope(
            protocol.BAD_LOGIN,
            "Incorrect username or password was specified.",
            nextAction="RETRY_LOGIN",
            authnMethod="PASSWORD",
        )
    params = request.query_params
    entry = await run_in_threadpool(
        _open_session,
        state,
        user,
        params.get("roleName"),
        params.get("databaseName"),
        params.get("schemaName"),
    )
    entry.warehouse = _name(params.get("warehouse"))
    log.info("session %s opened for %s", entry.id, user)
    return protocol.envelope(_login_data(entry, state.registry.ttl))


def _name(text: str | None) -> str | None:
    """An identifier from the login URL: unquoted names are upper-cased."""
    if not text:
        return None
    if len(text) > 1 and text.startswith('"') and text.endswith('"'):
        return text[1:-1].replace('""', '"')
    return text.upper()


def _open_session(
    state: ServerState, user: str, role: str | None, database: str | None, schema: str | None
) -> ServerSession:
    kwargs: dict[str, Any] = {"user": user, "role": _name(role)}
    if _name(database):
        kwargs.update(database=_name(database), schema=_name(schema) or "PUBLIC")
    try:
        session = Session(state.engine, **kwargs)
    except Error:
        # Like the reference: an unknown default database leaves the session without one.
        kwargs.update(database=None, schema=None)
        session = Session(state.engine, **kwargs)
    return state.registry.create(session)


def _login_data(entry: ServerSession, ttl: float) -> dict[str, Any]:
    session = entry.session
    return {
        "token": entry.token,
        "masterToken": entry.master_token,
        "validityInSeconds": int(ttl),
        "masterValidityInSeconds": int(ttl * 4),
        "sessionId": entry.id,
        "serverVersion": f"hoarfrost {__version__}",
        "displayUserName": session.user,
        "firstLogin": False,
        "healthCheckInterval": 45,
        "parameters": [{"name": k, "value": v} for k, v in LOGIN_PARAMETERS.items()],
        "sessionInfo": {
            "databaseName": session.database,
            "schemaName": session.schema,
            "warehouseName": entry.warehouse,
            "roleName": session.role,
        },
    }


async def token_request(request: Request) -> Response:
    body = await _json_body(request)
    state = _state(request)
    if str(body.get("requestType") or "RENEW").upper() != "RENEW":
        return protocol.error_envelope(390400, "Only RENEW token requests are supported.")
    entry = state.registry.renew(_token(request), body.get("oldSessionToken"))
    if entry is None:
        return protocol.error_envelope(
            protocol.MASTER_EXPIRED, "Master token is invalid or expired. Log in again."
        )
    ttl = state.registry.ttl
    return protocol.envelope(
        {
            "sessionToken": entry.token,
            "validityInSecondsST": int(ttl),
            "masterToken": entry.master_token,
            "validityInSecondsMT": int(ttl * 4),
            "sessionId": entry.id,
        }
    )


async def heartbeat(request: Request) -> Response:
    _entry, error = _session(request)
    return error or protocol.envelope({})


async def session_delete(request: Request) -> Response:
    if request.query_params.get("delete", "").lower() != "true":
        return _bad_request("only POST /session?delete=true is supported")
    entry, _error = _session(request)
    if entry is None:
        # Logging out of a session that is already gone is not an error for the client.
        return protocol.envelope(None)
    await run_in_threadpool(_state(request).registry.close, entry)
    log.info("session %s closed", entry.id)
    return protocol.envelope(None)


# -- queries ------------------------------------------------------------------------------
async def query_request(request: Request) -> Response:
    body = await _json_body(request)
    entry, error = _session(request)
    if entry is None:
        assert error is not None
        return error
    if body.get("asyncExec"):
        record = new_record(entry)
        threading.Thread(
            target=run_record, args=(entry, body, record), name="hoarfrost-async", daemon=True
        ).start()
        return _running(record)
    record = await run_in_threadpool(record_query, entry, body)
    assert record.payload is not None
    return JSONResponse(record.payload)


def _running(record: QueryRecord) -> JSONResponse:
    return protocol.envelope(
        {"queryId": record.query_id, "getResultUrl": f"/queries/{record.query_id}/result"},
        code=f"{protocol.ASYNC_RUNNING:06d}",
        message="Asynchronous execution in progress. Use provided query id to perform query "
        "monitoring and management.",
    )


def _record(request: Request) -> tuple[ServerSession, QueryRecord] | Response:
    """The session and the query the path names, or the error response to send."""
    entry, error = _session(request)
    if entry is None:
        assert error is not None
        return error
    query_id = request.path_params["query_id"].strip("/")
    record = entry.query(query_id)
    if record is None:
        return protocol.error_envelope(
            2003, f"Query {query_id} does not exist or not authorized.", "02000", query_id
        )
    return entry, record


async def query_result(request: Request) -> Response:
    found = _record(request)
    if isinstance(found, Response):
        return found
    _, record = found
    finished = await run_in_threadpool(record.done.wait, RESULT_WAIT_SECONDS)
    if not finished or record.payload is None:
        return _running(record)
    return JSONResponse(record.payload)


async def monitoring(request: Request) -> Response:
    found = _record(request)
    if isinstance(found, Response):
        return found
    entry, record = found
    return protocol.envelope({"queries": [_status(entry, record)]})


def _status(entry: ServerSession, record: QueryRecord) -> dict[str, Any]:
    payload = record.payload or {}
    failed = record.status == "FAILED_WITH_ERROR"
    started = int(record.started * 1000)
    ended = int(record.ended * 1000) if record.ended else 0
    return {
        "id": record.query_id,
        "status": record.status,
        "state": record.status,
        "errorCode": payload.get("code") if failed else None,
        "errorMessage": payload.get("message") if failed else None,
        "sqlText": "",  # never echo statements back: they may hold secrets
        "startTime": started,
        "endTime": ended,
        "totalDuration": max(ended - started, 0),
        "sessionId": entry.id,
        "warehouseId": 0,
        "warehouseName": entry.warehouse or "",
        "warehouseExternalSize": "",
        "warehouseServerType": "",
    }


async def abort_request(request: Request) -> Response:
    await _json_body(request)
    entry, error = _session(request)
    if entry is None:
        assert error is not None
        return error
    with contextlib.suppress(Exception):  # nothing running is not an error
        entry.session.duck.interrupt()
    return protocol.envelope(None)


async def telemetry(request: Request) -> Response:
    # Telemetry carries client log lines (statement texts among them): read and drop.
    await request.body()
    return protocol.envelope("Log Received")


async def not_found(request: Request) -> Response:
    content = {"data": None, "code": "390404", "message": "Unknown endpoint.", "success": False}
    return JSONResponse(content, status_code=404)


# -- application --------------------------------------------------------------------------
def _guard(handler: Any) -> Any:
    async def endpoint(request: Request) -> Response:
        try:
            response: Response = await handler(request)
            return response
        except _BadRequest as exc:
            return _bad_request(str(exc))
        except Error as error:
            return protocol.from_error(error)
        except Exception as exc:
            # A bug of ours. Answer 200 (the connectors retry 5xx until their timeout) and log
            # where it happened, never the values (they may hold passwords or SQL).
            log.error(
                "internal error %s:\n%s",
                type(exc).__name__,
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            return protocol.error_envelope(200001, "Internal error of the server.", "XX000")

    return endpoint


def create_app(home: Any, settings: Settings, users: Users) -> Starlette:
    """The server for the account in ``home`` (``:memory:`` for a throwaway account)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = await run_in_threadpool(open_engine, home, settings)
        state = ServerState(engine, users, SessionRegistry(settings.server_session_ttl), settings)
        app.state.hoarfrost = state
        try:
            yield
        finally:
            await run_in_threadpool(state.registry.close_all)
            await run_in_threadpool(engine.release)
            if engine.home is None:
                await run_in_threadpool(engine.close)

    routes = [
        Route("/session/v1/login-request", _guard(login), methods=["POST"]),
        Route("/session/token-request", _guard(token_request), methods=["POST"]),
        Route("/session/heartbeat", _guard(heartbeat), methods=["POST"]),
        Route("/session", _guard(session_delete), methods=["POST"]),
        Route("/queries/v1/query-request", _guard(query_request), methods=["POST"]),
        Route("/queries/v1/abort-request", _guard(abort_request), methods=["POST"]),
        # The universal driver asks for `/monitoring/queries//<id>`: take any slashes.
        Route("/queries/{query_id:path}/result", _guard(query_result), methods=["GET"]),
        Route("/monitoring/queries/{query_id:path}", _guard(monitoring), methods=["GET"]),
        Route("/telemetry/send", _guard(telemetry), methods=["POST"]),
        Route("/{path:path}", not_found, methods=["GET", "POST", "PUT", "DELETE"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
