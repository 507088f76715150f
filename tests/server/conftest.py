"""Fixtures: a real `hoarfrost serve` process on a free loopback port, and the real connector.

The server runs as a subprocess (`python -m hoarfrost serve`) so that the tests see its whole
log output (stdout and stderr, captured in a file) and exercise the command line too.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pytest
import snowflake.connector

from tests.support.processes import stop_process

USER, PASSWORD = "alice", "wire-pass-7f3a"
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes] | None, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"server exited early:\n{log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"server did not listen in time:\n{log.read_text(errors='replace')}")


@dataclass
class ServedAccount:
    port: int
    home: Path
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def connect(self, **options: Any) -> snowflake.connector.SnowflakeConnection:
        params: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.port,
            "protocol": "http",
            "account": "hoarfrost",
            "user": USER,
            "password": PASSWORD,
            "login_timeout": 10,
            "query_timeout": 30,
            "request_timeout": 20,
            "enable_server_session_keep_alive_auto_detection": False,
        }
        params.update(options)
        return snowflake.connector.connect(**params)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedAccount]:
    root = tmp_path_factory.mktemp("served")
    home, log = root / "home", root / "server.log"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOARFROST_")}
    env.update(
        HOARFROST_SERVER_USERS=f"{USER}:{PASSWORD}",
        HOARFROST_CACHE_DIR=str(root / "cache"),
        PYTHONUNBUFFERED="1",
    )
    # With the access log on: the tests that look for secrets in the log read its lines too.
    argv = [sys.executable, "-m", "hoarfrost", "serve", "--home", str(home), "--port", str(port)]
    argv.append("--access-log")
    with open(log, "wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        wait_for_port(port, process, log)
        yield ServedAccount(port, home, log)
    finally:
        stop_process(process, timeout=15)


Connect = Callable[..., snowflake.connector.SnowflakeConnection]


@pytest.fixture
def connect(served: ServedAccount) -> Iterator[Connect]:
    """``connect(**options)``: a connector connection to the served account, closed after."""
    opened: list[snowflake.connector.SnowflakeConnection] = []

    def factory(**options: Any) -> snowflake.connector.SnowflakeConnection:
        conn = served.connect(**options)
        opened.append(conn)
        return conn

    yield factory
    for conn in opened:
        conn.close()


def answer_rows(data: dict[str, Any]) -> list[list[Any]]:
    """The rows of a query answer: decoded from its Arrow rowset, or its JSON rowset as is."""
    if data.get("queryResultFormat") == "arrow":
        encoded = data["rowsetBase64"]
        if not encoded:
            return []
        table = pa.ipc.open_stream(base64.b64decode(encoded)).read_all()
        return [list(row.values()) for row in table.to_pylist()]
    rows: list[list[Any]] = data["rowset"]
    return rows


def raw_login(served: ServedAccount) -> tuple[str, str]:
    """(base URL, session token) of a login as the connectors send it, for raw HTTP requests."""
    base = f"http://127.0.0.1:{served.port}"
    login = httpx.post(
        f"{base}/session/v1/login-request",
        content=gzip.compress(
            json.dumps({"data": {"LOGIN_NAME": USER, "PASSWORD": PASSWORD}}).encode()
        ),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    ).json()
    return base, login["data"]["token"]
