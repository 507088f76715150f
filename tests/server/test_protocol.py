"""Protocol details against an in-process server: token renewal, bodies, endpoints."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import snowflake.connector

from hoarfrost.config import Settings
from hoarfrost.server import build_server
from tests.server.conftest import answer_rows, free_port

TTL = 1.0


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    port = free_port()
    settings = Settings({"server_users": "bob:pw-bob", "server_session_ttl": TTL}, env={})
    server, _ = build_server(":memory:", "127.0.0.1", port, settings, log_level="warning")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)


def _login(base_url: str, password: str = "pw-bob", **query: str) -> dict[str, Any]:
    body = gzip.compress(json.dumps({"data": {"LOGIN_NAME": "bob", "PASSWORD": password}}).encode())
    response = httpx.post(
        f"{base_url}/session/v1/login-request",
        params=query,
        content=body,
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def _post(base_url: str, path: str, token: str, body: Any) -> httpx.Response:
    return httpx.post(
        f"{base_url}{path}", json=body, headers={"Authorization": f'Snowflake Token="{token}"'}
    )


def test_expired_session_token_is_renewed_by_the_connector(base_url: str) -> None:
    port = int(base_url.rsplit(":", 1)[1])
    conn = snowflake.connector.connect(
        host="127.0.0.1",
        port=port,
        protocol="http",
        account="hoarfrost",
        user="bob",
        password="pw-bob",
        enable_server_session_keep_alive_auto_detection=False,
        login_timeout=10,
        request_timeout=10,
        query_timeout=20,
    )
    try:
        cur = conn.cursor()
        cur.execute("create temporary table renew_t (a int)")
        time.sleep(TTL + 0.3)
        # The same session goes on after renewal: its temporary table is still there.
        assert cur.execute("select count(*) from renew_t").fetchall() == [(0,)]
    finally:
        conn.close()


def test_gzip_login_and_session_context(base_url: str) -> None:
    login = _login(base_url, databaseName="hoarfrost", schemaName="public", roleName="sysadmin")
    assert login["success"] is True
    data = login["data"]
    assert data["token"] and data["masterToken"] and data["validityInSeconds"] == int(TTL)
    assert data["sessionInfo"]["databaseName"] == "HOARFROST"
    assert data["sessionInfo"]["roleName"] == "SYSADMIN"
    params = {p["name"]: p["value"] for p in data["parameters"]}
    assert params["CLIENT_TELEMETRY_ENABLED"] is False
    missing_db = _login(base_url, databaseName="no_such_db")["data"]["sessionInfo"]
    assert missing_db["databaseName"] is None


def test_wrong_password_envelope(base_url: str) -> None:
    login = _login(base_url, password="nope")
    assert login["success"] is False and login["code"] == "390100"
    assert "nope" not in json.dumps(login)


def test_query_envelope(base_url: str) -> None:
    token = _login(base_url)["data"]["token"]
    ok = _post(base_url, "/queries/v1/query-request", token, {"sqlText": "select 1 as x"}).json()
    assert ok["success"] is True
    data = ok["data"]
    assert answer_rows(data) == [[1]] and data["statementTypeId"] == 0x1000
    assert data["rowtype"][0]["name"] == "X" and data["rowtype"][0]["type"] == "fixed"
    error = _post(base_url, "/queries/v1/query-request", token, {"sqlText": "select * from nope"})
    assert error.status_code == 200
    body = error.json()
    assert body["success"] is False and body["code"] == "002003"
    assert body["data"]["sqlState"] == "42S02" and body["data"]["queryId"]
    empty = _post(base_url, "/queries/v1/query-request", token, {"sqlText": " "}).json()
    assert empty["success"] is False and empty["code"] == "000900"
    dml = _post(
        base_url,
        "/queries/v1/query-request",
        token,
        {"sqlText": "create temporary table e (a int)"},
    )
    assert dml.json()["data"]["statementTypeId"] & 0xF000 == 0x6000
    ins = _post(
        base_url, "/queries/v1/query-request", token, {"sqlText": "insert into e values (1), (2)"}
    ).json()["data"]
    assert ins["statementTypeId"] == 0x3100 and ins["stats"]["numRowsInserted"] == 2


def test_other_endpoints(base_url: str) -> None:
    login = _login(base_url)["data"]
    token = login["token"]
    assert _post(base_url, "/session/heartbeat", token, {}).json()["success"] is True
    assert _post(base_url, "/telemetry/send", token, {"logs": [{"message": "x"}]}).json()["success"]
    abort = _post(base_url, "/queries/v1/abort-request", token, {"requestId": "r"})
    assert abort.json()["success"] is True
    renewed = _post(
        base_url,
        "/session/token-request",
        login["masterToken"],
        {"oldSessionToken": token, "requestType": "RENEW"},
    ).json()
    assert renewed["success"] is True
    new_token = renewed["data"]["sessionToken"]
    assert new_token != token
    assert _post(base_url, "/session/heartbeat", token, {}).json()["code"] == "390104"
    bad = httpx.post(
        f"{base_url}/queries/v1/query-request",
        content=b"{not json",
        headers={"Authorization": f'Snowflake Token="{new_token}"'},
    )
    assert bad.status_code == 400
    missing = httpx.get(
        f"{base_url}/monitoring/queries/abc",
        headers={"Authorization": f'Snowflake Token="{new_token}"'},
    )
    assert missing.json()["success"] is False
    assert httpx.get(f"{base_url}/nowhere").status_code == 404
    no_auth = httpx.post(f"{base_url}/session/heartbeat", json={})
    assert no_auth.json()["code"] == "390101"
    logout = httpx.post(
        f"{base_url}/session",
        params={"delete": "true"},
        headers={"Authorization": f'Snowflake Token="{new_token}"'},
    )
    assert logout.json()["success"] is True
    assert _post(base_url, "/session/heartbeat", new_token, {}).json()["code"] == "390104"
