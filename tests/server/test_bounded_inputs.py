"""Hostile request bodies against a real `hoarfrost serve`: refused clearly, memory bounded.

Raw httpx requests send what no connector would (a gzip bomb, 200 MiB, JSON nested 100k deep, a
lone surrogate, another content type); each gets an error envelope naming the problem, never
"Internal error", and the server's peak memory (VmHWM) stays bounded. The real connector then
still works against the same server.
"""

from __future__ import annotations

import gzip
import json
import os
import socket
import stat
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.conftest import (
    PASSWORD,
    USER,
    ServedAccount,
    answer_rows,
    free_port,
    wait_for_port,
)
from tests.support.processes import stop_process

REQUEST_LIMIT = 16 << 20
LOGIN = "/session/v1/login-request"
QUERY = "/queries/v1/query-request"
JSON = {"Content-Type": "application/json"}
GZIP_JSON = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
MiB = 1 << 20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServedAccount, int]]:
    """A served account with a 16 MiB request limit, and the server's pid."""
    root = tmp_path_factory.mktemp("bounded")
    home, log = root / "home", root / "server.log"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOARFROST_")}
    env.update(
        HOARFROST_SERVER_USERS=f"{USER}:{PASSWORD}",
        HOARFROST_SERVER_MAX_REQUEST_SIZE=str(REQUEST_LIMIT),
        HOARFROST_CACHE_DIR=str(root / "cache"),
        PYTHONUNBUFFERED="1",
    )
    argv = [sys.executable, "-m", "hoarfrost", "serve", "--home", str(home), "--port", str(port)]
    with open(log, "wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        wait_for_port(port, process, log)
        yield ServedAccount(port, home, log), process.pid
    finally:
        stop_process(process, timeout=15)


@pytest.fixture(scope="module")
def base(server: tuple[ServedAccount, int]) -> str:
    return f"http://127.0.0.1:{server[0].port}"


@pytest.fixture(scope="module")
def token(base: str) -> str:
    body = gzip.compress(json.dumps({"data": {"LOGIN_NAME": USER, "PASSWORD": PASSWORD}}).encode())
    answer = httpx.post(base + LOGIN, content=body, headers=GZIP_JSON).json()
    assert answer["success"] is True
    return str(answer["data"]["token"])


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """1 MiB of gzip that inflates to a 1 GiB login request."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [packer.compress(b'{"data": {"LOGIN_NAME": "alice", "PASSWORD": "')]
    block = b"a" * MiB
    parts += [packer.compress(block) for _ in range(1024)]
    parts += [packer.compress(b'"}}'), packer.flush()]
    bomb = b"".join(parts)
    assert len(bomb) < 1100 * 1024
    return bomb


def peak_rss(pid: int) -> int:
    """The process's peak resident set (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def refused(response: httpx.Response, status: int, *phrases: str) -> dict[str, Any]:
    """The envelope of a refused body, after checking it names the problem."""
    assert response.status_code == status, response.text[:300]
    answer: dict[str, Any] = response.json()
    assert answer["success"] is False and answer["code"] == "390400", answer
    assert "Internal error" not in answer["message"]
    for phrase in phrases:
        assert phrase in answer["message"], answer["message"]
    return answer


def auth(token: str, headers: dict[str, str] = JSON) -> dict[str, str]:
    return {**headers, "Authorization": f'Snowflake Token="{token}"'}


def still_serves(account: ServedAccount) -> None:
    with account.connect() as conn:
        assert conn.cursor().execute("select 40 + 2").fetchall() == [(42,)]
    log = account.log_text()
    assert "internal error" not in log.lower() and "Traceback" not in log


def test_new_home_is_private(server: tuple[ServedAccount, int]) -> None:
    assert stat.S_IMODE(server[0].home.stat().st_mode) == 0o700


def test_gzip_bomb_to_login_is_refused_with_bounded_memory(
    server: tuple[ServedAccount, int], base: str, gzip_bomb: bytes
) -> None:
    account, pid = server
    still_serves(account)  # warm: the peak below is the bomb's alone
    before = peak_rss(pid)
    response = httpx.post(base + LOGIN, content=gzip_bomb, headers=GZIP_JSON, timeout=60)
    growth = peak_rss(pid) - before
    refused(response, 200, "too large", "after decompression", "login limit")
    print(f"peak RSS growth for a 1 MiB gzip bomb (1 GiB inflated) to login: {growth} bytes")
    assert growth < 16 * MiB
    still_serves(account)


def test_gzip_bomb_to_queries_stops_at_the_request_limit(
    server: tuple[ServedAccount, int], base: str, token: str, gzip_bomb: bytes
) -> None:
    account, pid = server
    before = peak_rss(pid)
    response = httpx.post(base + QUERY, content=gzip_bomb, headers=auth(token, GZIP_JSON))
    growth = peak_rss(pid) - before
    refused(response, 200, "too large", f"more than {REQUEST_LIMIT} bytes", "MAX_REQUEST_SIZE")
    print(f"peak RSS growth for the bomb to query-request (16 MiB limit): {growth} bytes")
    assert growth < 3 * REQUEST_LIMIT
    still_serves(account)


def test_200_mib_body_is_refused_before_it_is_buffered(
    server: tuple[ServedAccount, int], base: str, token: str
) -> None:
    account, pid = server
    before = peak_rss(pid)
    # Declared in Content-Length: refused from the headers.
    declared = httpx.post(base + LOGIN, content=b" " * (200 * MiB), headers=JSON, timeout=120)
    refused(declared, 200, "too large")

    def chunks() -> Iterator[bytes]:
        yield b'{"sqlText": "select \''
        for _ in range(200):
            yield b"x" * MiB

    # Streamed without a length: refused when the limit is crossed.
    streamed = httpx.post(base + QUERY, content=chunks(), headers=auth(token), timeout=120)
    refused(streamed, 200, "too large", f"more than {REQUEST_LIMIT} bytes")
    growth = peak_rss(pid) - before
    print(f"peak RSS growth for two 200 MiB bodies: {growth} bytes")
    assert growth < 2 * REQUEST_LIMIT
    still_serves(account)


def test_bodies_of_requests_without_a_session_are_not_read(base: str) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(200):
            yield b"x" * MiB

    answer = httpx.post(base + QUERY, content=chunks(), headers=JSON, timeout=120).json()
    assert answer["success"] is False and answer["code"] == "390101"


@pytest.mark.parametrize("depth", [100_000, 1_000, 65])
def test_deeply_nested_json_is_refused(base: str, token: str, depth: int) -> None:
    nested = b"[" * depth + b"]" * depth
    login = b'{"data": {"LOGIN_NAME": "alice", "PASSWORD": "x", "X": ' + nested + b"}}"
    refused(httpx.post(base + LOGIN, content=login, headers=JSON), 400, "nested deeper than 64")
    query = b'{"sqlText": "select 1", "bindings": ' + nested + b"}"
    response = httpx.post(
        base + QUERY, content=gzip.compress(query), headers=auth(token, GZIP_JSON)
    )
    refused(response, 400, "nested deeper than 64")


def test_connector_depth_of_nesting_is_accepted(base: str, token: str) -> None:
    body = {"sqlText": "select 1 as x", "queryContextDTO": {"entries": [{"context": {"a": [1]}}]}}
    answer = httpx.post(base + QUERY, json=body, headers=auth(token)).json()
    assert answer["success"] is True and answer_rows(answer["data"]) == [[1]]


def test_lone_surrogates_are_refused(base: str, token: str) -> None:
    login = b'{"data": {"LOGIN_NAME": "alice", "PASSWORD": "pw\\ud800"}}'
    refused(httpx.post(base + LOGIN, content=login, headers=JSON), 400, "lone UTF-16 surrogate")
    query = b'{"sqlText": "select \'\\udfff\'"}'
    refused(httpx.post(base + QUERY, content=query, headers=auth(token)), 400, "lone UTF-16")
    key = b'{"sqlText": "select 1", "bindings": {"\\ud83d": {"type": "TEXT", "value": "x"}}}'
    refused(httpx.post(base + QUERY, content=key, headers=auth(token)), 400, "lone UTF-16")
    # A proper pair is a character, and raw surrogate bytes are not UTF-8.
    pair = b'{"sqlText": "select \'\\ud83d\\ude00\' as s"}'
    answer = httpx.post(base + QUERY, content=pair, headers=auth(token)).json()
    assert answer["success"] is True and answer_rows(answer["data"]) == [["\U0001f600"]]
    raw = b'{"sqlText": "select \'\xed\xa0\x80\'"}'
    refused(httpx.post(base + QUERY, content=raw, headers=auth(token)), 400, "not UTF-8")


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""],
)
def test_other_content_types_are_refused(base: str, token: str, content_type: str) -> None:
    body = json.dumps({"data": {"LOGIN_NAME": USER, "PASSWORD": PASSWORD}}).encode()
    headers = {"Content-Type": content_type}
    response = httpx.post(base + LOGIN, content=body, headers=headers)
    refused(response, 400, "Content-Type", "not accepted")
    query = httpx.post(
        base + QUERY, content=b'{"sqlText": "select 1"}', headers=auth(token, headers)
    )
    refused(query, 400, "Content-Type")
    # The same body as application/json (with a charset) logs in.
    ok = httpx.post(
        base + LOGIN, content=body, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert ok.json()["success"] is True


def test_bad_gzip_and_other_encodings_are_refused(base: str) -> None:
    whole = gzip.compress(json.dumps({"data": {"LOGIN_NAME": USER, "PASSWORD": "x"}}).encode())
    refused(httpx.post(base + LOGIN, content=whole[:-12], headers=GZIP_JSON), 400, "not valid gzip")
    garbage = b"\x1f\x8b" + os.urandom(64)
    refused(httpx.post(base + LOGIN, content=garbage, headers=JSON), 400, "not valid gzip")
    brotli = {"Content-Type": "application/json", "Content-Encoding": "br"}
    refused(httpx.post(base + LOGIN, content=b"{}", headers=brotli), 400, "Content-Encoding br")


def test_bodies_of_the_wrong_shape_are_refused(base: str) -> None:
    for body, phrase in [
        (b"[1, 2]", "not a JSON object"),
        (b'{"data": [1]}', "'data' is not a JSON object"),
        (b'{"data": "alice"}', "'data' is not a JSON object"),
        (b"{not json", "not JSON"),
    ]:
        refused(httpx.post(base + LOGIN, content=body, headers=JSON), 400, phrase)


@pytest.mark.parametrize(
    ("bindings", "phrase"),
    [
        ([1], "Bindings must be an object of positions."),
        ({"1": "x"}, "Bind variable 1 is not an object with a type and a value."),
        ({"a": {"type": "TEXT", "value": "x"}}, "not a position"),
    ],
)
def test_bindings_of_the_wrong_shape_are_sql_errors(
    base: str, token: str, bindings: Any, phrase: str
) -> None:
    body = {"sqlText": "select ?", "bindings": bindings}
    answer = httpx.post(base + QUERY, json=body, headers=auth(token)).json()
    assert answer["success"] is False and answer["code"] == "002049", answer
    assert phrase in answer["message"]


def test_a_client_that_hangs_up_mid_body_is_not_an_internal_error(
    server: tuple[ServedAccount, int],
) -> None:
    account = server[0]
    with socket.create_connection(("127.0.0.1", account.port)) as sock:
        sock.sendall(
            b"POST /session/v1/login-request HTTP/1.1\r\nHost: x\r\n"
            b'Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"data": '
        )
        time.sleep(0.3)
    time.sleep(0.3)
    still_serves(account)  # and the log shows no internal error


def test_the_server_still_serves_the_connector(server: tuple[ServedAccount, int]) -> None:
    still_serves(server[0])


def test_no_access_log_by_default(server: tuple[ServedAccount, int], token: str, base: str) -> None:
    response = httpx.post(
        f"{base}/queries/v1/query-request",
        json={"sqlText": "select 1", "sequenceId": 1},
        headers={"Authorization": f'Snowflake Token="{token}"'},
    )
    assert response.json()["success"] is True
    assert "/queries/v1/query-request" not in server[0].log.read_text()
