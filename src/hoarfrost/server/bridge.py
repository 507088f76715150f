"""The engine side of a procedure's real Snowpark Session.

A procedure whose environment has snowflake-snowpark-python gets a Snowpark Session connected
back to the engine: the connector in the sandboxed worker sends its HTTP requests over the
worker's pipe (it has no network), and the engine serves them here with this server's own
Starlette app, in process. The connector logs in with a token made for the call
(:meth:`WireBridge.open_call`), which gives it the calling session itself (database, schema, role,
transaction); the token is withdrawn when the call returns (:meth:`WireBridge.end_call`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from hoarfrost.commands.session import Session

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from hoarfrost.server.app import ServerState

__all__ = ["WireBridge", "attach"]

# Hop-by-hop and encoding headers: the body handed back is already decoded.
_DROPPED = {"content-encoding", "content-length", "transfer-encoding", "connection"}


class WireBridge:
    def __init__(self, app: ASGIApp, state: ServerState):
        self.app = app
        self.state = state

    def open_call(self, session: Any) -> dict[str, Any]:
        """A login token for the running call of ``session``, and what the worker connects
        with (never a password)."""
        assert isinstance(session, Session)
        token = secrets.token_urlsafe(32)
        self.state.call_grants[token] = session
        return {"token": token, "user": session.user}

    def end_call(self, wire: dict[str, Any]) -> None:
        """The call returned: its token and every session logged in with it end now."""
        self.state.call_grants.pop(wire["token"], None)
        for entry in self.state.call_entries.pop(wire["token"], []):
            self.state.registry.close(entry)

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """Serve one request of the connector: its path and query go to this app whatever
        host the connector named (result chunks carry the server's address)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self._send(request))
        # A call run on the server's event loop (server/inline.py): the request is served on a
        # loop of its own, in a thread of its own, while this one waits.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, self._send(request)).result()

    async def _send(self, request: dict[str, Any]) -> dict[str, Any]:
        url = urlsplit(str(request["url"]))
        target = url.path + (f"?{url.query}" if url.query else "")
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://hoarfrost.engine", timeout=None
        ) as client:
            response = await client.request(
                str(request["method"]),
                target,
                headers={k: v for k, v in dict(request["headers"]).items() if k.lower() != "host"},
                content=bytes(request.get("body") or b""),
            )
            body = await response.aread()
        return {
            "status": response.status_code,
            "reason": response.reason_phrase,
            "headers": {k: v for k, v in response.headers.items() if k.lower() not in _DROPPED},
            "body": body,
        }


def attach(engine: Any) -> None:
    """Give an engine opened in process (``hoarfrost.connect``) the bridge, over an app of its
    own that no socket reaches (``hoarfrost serve`` attaches its real app instead)."""
    from hoarfrost.engine.context import PROCEDURE_WIRE
    from hoarfrost.server.app import create_app, server_state
    from hoarfrost.server.auth import Users

    def make(engine: Any) -> WireBridge:
        users = Users({}, "in-process")
        state = server_state(engine, engine.settings, users)
        return WireBridge(create_app(None, engine.settings, users, state=state), state)

    engine.service(PROCEDURE_WIRE, make)
