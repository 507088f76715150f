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

Request bodies may be gzip-compressed; they are read with limits (``bodies``), and the
endpoints that need a session check its token before reading any body. Bodies, tokens and
passwords are never logged.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import traceback
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import duckdb
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hoarfrost.catalog.users import authenticate
from hoarfrost.commands.parameters import apply_login_parameters, session_parameter_values
from hoarfrost.commands.session import Session
from hoarfrost.config import Settings
from hoarfrost.engine.context import PROCEDURE_WIRE
from hoarfrost.engine.engine import Engine, open_engine
from hoarfrost.errors import Error
from hoarfrost.packages.prefixes import is_loopback_host
from hoarfrost.server import protocol
from hoarfrost.server.auth import LoginThrottle, Users, bootstrap
from hoarfrost.server.bodies import MAX_LOGIN_BODY, BadBody, read_json
from hoarfrost.server.bridge import WireBridge
from hoarfrost.server.chunks import TOKEN_HEADER, ChunkSink, ChunkStore
from hoarfrost.server.files import (
    PATH_PREFIX,
    FileGrants,
    RedactStagePaths,
    file_endpoint,
    transfer_data,
    uses_token,
)
from hoarfrost.server.inline import InlineStatements
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


@dataclass
class ServerState:
    engine: Engine
    users: Users
    registry: SessionRegistry
    settings: Settings
    throttle: LoginThrottle
    # token -> the session of a running procedure call whose Snowpark session logs in with it,
    # and the wire sessions those logins opened (closed with the call, whatever the code did)
    call_grants: dict[str, Session] = field(default_factory=dict)
    call_entries: dict[str, list[ServerSession]] = field(default_factory=dict)
    grants: FileGrants = field(default_factory=FileGrants)
    # spools of large results (server/chunks.py), removed when the app stops
    chunks: ChunkStore = field(default_factory=ChunkStore)
    # statements quick enough to run on the event loop (server/inline.py)
    inline: InlineStatements = field(default_factory=InlineStatements)


# -- request helpers ----------------------------------------------------------------------
async def _json_body(request: Request, limit: int | None = None) -> dict[str, Any]:
    """The body's JSON object, read within ``limit`` (default: the server's request limit)."""
    setting: int = _state(request).settings.server_max_request_size
    if limit is not None and limit < setting:
        return await read_json(request.headers, request.stream(), limit, "the login limit")
    name = "setting HOARFROST_SERVER_MAX_REQUEST_SIZE"
    return await read_json(request.headers, request.stream(), setting, name)


def _object(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key) or {}
    if not isinstance(value, dict):
        raise BadBody(f"Request body member {key!r} is not a JSON object.")
    return value


def _bad_request(message: str, status_code: int = 400) -> JSONResponse:
    code = f"{protocol.BAD_REQUEST:06d}"
    content = {"data": None, "code": code, "message": message, "success": False}
    return JSONResponse(content, status_code=status_code)


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
    body = await _json_body(request, MAX_LOGIN_BODY)
    data = _object(body, "data")
    state = _state(request)
    authenticator = str(data.get("AUTHENTICATOR") or "SNOWFLAKE").upper()
    if authenticator not in ("SNOWFLAKE", "USERNAME_PASSWORD_MFA", "OAUTH"):
        return protocol.error_envelope(
            protocol.BAD_LOGIN,
            f"Authenticator {authenticator} is not supported; use user and password.",
        )
    if authenticator == "OAUTH":
        return await _call_login(state, str(data.get("TOKEN") or ""))
    login_name = str(data.get("LOGIN_NAME") or "")
    # No await between the lock check and recording the outcome: concurrent attempts cannot
    # slip past the count.
    if state.throttle.locked(login_name):
        log.info("login refused: user locked after failed logins")
        return protocol.error_envelope(protocol.USER_LOCKED, _locked_message(state.throttle))
    try:
        # scrypt is slow on purpose: off the event loop
        account_user = await run_in_threadpool(
            authenticate, state.engine.catalog, login_name, str(data.get("PASSWORD") or "")
        )
    except Error as exc:
        state.throttle.failed(login_name)
        log.info("login refused")
        return protocol.error_envelope(
            exc.errno,
            exc.msg,
            nextAction="RETRY_LOGIN",
            authnMethod="PASSWORD",
        )
    user = account_user.name
    state.throttle.succeeded(login_name)
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
    apply_login_parameters(entry.session, _object(data, "SESSION_PARAMETERS"))
    entry.file_tokens = uses_token(
        str(data.get("CLIENT_APP_ID") or ""), str(data.get("CLIENT_APP_VERSION") or "")
    )
    log.info("session %s opened for %s", entry.id, user)
    return protocol.envelope(_login_data(entry, state.registry.ttl))


async def _call_login(state: ServerState, token: str) -> Response:
    """A procedure's Snowpark session logs in with its call's token: it gets the calling session
    itself (database, schema, role, transaction), borrowed, for as long as the call runs."""
    session = state.call_grants.get(token) if token else None
    if session is None:
        return protocol.error_envelope(
            protocol.BAD_LOGIN, "Incorrect username or password was specified."
        )
    entry = state.registry.create(session, borrowed=True)
    state.call_entries.setdefault(token, []).append(entry)
    return protocol.envelope(_login_data(entry, state.registry.ttl))


def _locked_message(throttle: LoginThrottle) -> str:
    # The reference's wording, with this server's lockout (setting server_login_lockout).
    seconds = throttle.lockout
    wait = f"{seconds / 60:g} minutes" if seconds >= 60 else f"{seconds:g} seconds"
    return (
        "Your user account has been temporarily locked due to too many failed attempts. Try "
        f"again after {wait} or contact your account administrator for assistance."
    )


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
    except duckdb.Error:
        # The database exists and the schema does not: the session has the database only.
        kwargs.update(schema=None)
        session = Session(state.engine, **kwargs)
    session.streams = True  # query results drain into result chunks (hoarfrost.server.chunks)
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
        "parameters": [
            {"name": k, "value": v}
            for k, v in {**LOGIN_PARAMETERS, **session_parameter_values(session)}.items()
        ],
        "sessionInfo": {
            "databaseName": session.database,
            "schemaName": session.schema,
            "warehouseName": entry.warehouse,
            "roleName": session.role,
        },
    }


async def token_request(request: Request) -> Response:
    body = await _json_body(request, MAX_LOGIN_BODY)
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
    entry, error = _session(request)
    if entry is None:
        assert error is not None
        return error
    body = await _json_body(request)
    state, tokens = _state(request), entry.file_tokens
    base_url = str(state.settings.server_public_url or request.base_url)
    entry.files = lambda result: transfer_data(result, state.grants, base_url, tokens)
    sink = ChunkSink(state.chunks, base_url.rstrip("/"))
    if body.get("asyncExec"):
        record = new_record(entry)
        threading.Thread(
            target=run_record,
            args=(entry, body, record, sink),
            name="hoarfrost-async",
            daemon=True,
        ).start()
        return _running(record)
    text, started = body.get("sqlText"), time.perf_counter()
    if state.inline.inline(text) and entry.lock.acquire(blocking=False):
        try:  # quick last time: on the loop (server/inline.py), unless the session is busy
            record = record_query(entry, body, sink)
        finally:
            entry.lock.release()
    else:
        record = await run_in_threadpool(record_query, entry, body, sink)
    state.inline.observe(text, time.perf_counter() - started)
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


async def result_chunk(request: Request) -> Response:
    """One chunk of a large result, made now, to whoever holds the result's chunk token."""
    result = _state(request).chunks.get(request.path_params["query_id"])
    index = int(request.path_params["index"])
    if result is None or not result.allows(request.headers.get(TOKEN_HEADER)):
        return Response(status_code=404)
    if not 0 <= index < len(result.chunks):
        return Response(status_code=404)
    compress = _gzip_worth_it(request)
    data = await run_in_threadpool(result.read, index, compress)
    if data is None:
        return Response(status_code=404)
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"Content-Encoding": "gzip"} if compress else None,
    )


def _gzip_worth_it(request: Request) -> bool:
    """Whether a chunk goes gzip-compressed: to a client that accepts it and is not on this
    host. Over loopback, compressing and inflating cost both ends more than sending the bytes
    (a 131k-row chunk of 5 MiB: 24 ms to compress and 13 to inflate here, against a few ms to
    move it). A client behind the TLS proxy on this host is the address the proxy forwards
    (X-Forwarded-For)."""
    if not _accepts_gzip(request.headers.get("accept-encoding", "")):
        return False
    return request.client is None or not is_loopback_host(request.client.host)


def _accepts_gzip(header: str) -> bool:
    """``Accept-Encoding`` names gzip (or ``*``) without ``q=0``."""
    for item in header.lower().split(","):
        name, *params = (part.strip() for part in item.split(";"))
        if name in ("gzip", "x-gzip", "*"):
            q = next((p[2:] for p in params if p.startswith("q=")), "1")
            try:
                return float(q) > 0
            except ValueError:
                return False
    return False


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
    entry, error = _session(request)
    if entry is None:
        assert error is not None
        return error
    await _json_body(request)
    with contextlib.suppress(Exception):  # nothing running is not an error
        entry.session.duck.interrupt()
    return protocol.envelope(None)


async def telemetry(request: Request) -> Response:
    # Telemetry carries client log lines (statement texts among them): read and drop.
    _entry, error = _session(request)
    if error is not None:
        return error
    await _json_body(request)
    return protocol.envelope("Log Received")


async def stage_file(request: Request) -> Response:
    return await file_endpoint(request, _state(request).grants)


async def not_found(request: Request) -> Response:
    content = {"data": None, "code": "390404", "message": "Unknown endpoint.", "success": False}
    return JSONResponse(content, status_code=404)


# -- application --------------------------------------------------------------------------
def _guard(handler: Any) -> Any:
    async def endpoint(request: Request) -> Response:
        try:
            response: Response = await handler(request)
            return response
        except BadBody as exc:
            # Too large may be a real client's big statement: HTTP 200, so that the connectors
            # show the message (they report any other status by its number).
            return _bad_request(str(exc), 200 if exc.too_large else 400)
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


def server_state(engine: Engine, settings: Settings, users: Users) -> ServerState:
    throttle = LoginThrottle(settings.server_login_max_retries, settings.server_login_lockout)
    registry = SessionRegistry(settings.server_session_ttl)
    return ServerState(engine, users, registry, settings, throttle)


def create_app(
    home: Any, settings: Settings, users: Users, state: ServerState | None = None
) -> Starlette:
    """The server for the account in ``home`` (``:memory:`` for a throwaway account); with
    ``state``, the app of an engine already open (procedures' Snowpark sessions use it)."""

    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactStagePaths) for f in access.filters):
        access.addFilter(RedactStagePaths())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = await run_in_threadpool(open_engine, home, settings)
        # The users of the setting become the account's first users (the first one its
        # administrator); from then on the catalog's users are the ones who log in.
        await run_in_threadpool(bootstrap, engine.catalog, users)
        state = server_state(engine, settings, users)
        app.state.hoarfrost = state
        # Procedures' Snowpark sessions are served by this same app.
        engine.service(PROCEDURE_WIRE, lambda e: WireBridge(app, state))
        try:
            yield
        finally:
            state.chunks.close()
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
        Route(
            "/hoarfrost/results/{query_id}/chunks/{index:int}",
            _guard(result_chunk),
            methods=["GET"],
        ),
        Route("/telemetry/send", _guard(telemetry), methods=["POST"]),
        Route(PATH_PREFIX + "/{grant}/{key:path}", stage_file, methods=["GET", "HEAD", "PUT"]),
        Route("/{path:path}", not_found, methods=["GET", "POST", "PUT", "DELETE"]),
    ]
    if state is not None:
        app = Starlette(routes=routes)
        app.state.hoarfrost = state
        return app
    return Starlette(routes=routes, lifespan=lifespan)
