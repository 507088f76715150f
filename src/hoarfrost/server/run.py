"""Running the wire server: ``hoarfrost serve`` and the tests call :func:`serve`.

The server speaks plain HTTP, so it listens on a loopback address only: passwords and session
tokens must not cross a network in clear (put a TLS-terminating proxy in front for remote
clients).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import sys
from pathlib import Path
from typing import Any

import uvicorn

from hoarfrost.config import Settings
from hoarfrost.errors import ConfigurationError
from hoarfrost.server.app import create_app
from hoarfrost.server.auth import load_users

__all__ = ["build_server", "check_loopback", "serve"]

MEMORY = ":memory:"


def check_loopback(host: str) -> None:
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigurationError(
            f"hoarfrost serve listens on loopback addresses only (plain HTTP), not {host!r}; "
            "use 127.0.0.1 or ::1 and a TLS proxy for remote clients."
        )


def _home(home: str | Path | None, settings: Settings) -> Path | None:
    """The account directory (None for an in-memory account)."""
    chosen = home if home is not None else settings.home
    if str(chosen) == MEMORY:
        return None
    path = Path(chosen).expanduser() if chosen else Path(".hoarfrost")
    path = path.resolve()
    # The account's files (catalog, databases, key, credentials) are its owner's alone.
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def build_server(
    home: str | Path | None,
    host: str = "127.0.0.1",
    port: int = 8080,
    settings: Settings | None = None,
    **uvicorn_options: Any,
) -> tuple[uvicorn.Server, str | None]:
    """A uvicorn server (not started) and the operator notice about the credentials."""
    check_loopback(host)
    settings = settings or Settings()
    account = _home(home, settings)
    users, notice = load_users(settings, account)
    app = create_app(MEMORY if account is None else account, settings, users)
    # No access log unless asked: a line per request costs a tenth of a small query's time, and
    # QUERY_HISTORY already records every statement.
    options = {"log_level": "info", "access_log": False, "http": "httptools", **uvicorn_options}
    config = uvicorn.Config(app, host=host, port=port, **options)
    return uvicorn.Server(config), notice


def serve(
    home: str | Path | None,
    host: str = "127.0.0.1",
    port: int = 8080,
    access_log: bool = False,
    **settings: Any,
) -> None:
    """Serve the account in ``home`` until interrupted."""
    server, notice = build_server(home, host, port, Settings(settings), access_log=access_log)
    if notice:
        print(notice, file=sys.stderr, flush=True)
    _log_to_stderr()
    server.run()


def _log_to_stderr() -> None:
    """Our own lines (sessions opened and closed, internal errors) beside uvicorn's."""
    logger = logging.getLogger("hoarfrost.server")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
