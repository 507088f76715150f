"""Failed logins lock the user, like the reference's password policy, against a real server.

300 wrong passwords for one user: the first ``server_login_max_retries`` (5) are "incorrect
username or password", the rest "temporarily locked"; the right password through the real
connector is refused too until the lockout (a short setting here) ends, while other users log in.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
import snowflake.connector

from tests.server.conftest import PASSWORD, USER, ServedAccount, free_port, wait_for_port
from tests.support.processes import stop_process

LOCKOUT = 8.0
MAX_RETRIES = 5
OTHER, OTHER_PASSWORD = "bob", "bob-pass-2c9d"
LOCKED_CODE = "390102"
LOCKED = "temporarily locked due to too many failed attempts"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedAccount]:
    root = tmp_path_factory.mktemp("lockout")
    home, log = root / "home", root / "server.log"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOARFROST_")}
    env.update(
        HOARFROST_SERVER_USERS=f"{USER}:{PASSWORD},{OTHER}:{OTHER_PASSWORD}",
        HOARFROST_SERVER_LOGIN_LOCKOUT=str(LOCKOUT),
        HOARFROST_SERVER_LOGIN_MAX_RETRIES=str(MAX_RETRIES),
        HOARFROST_CACHE_DIR=str(root / "cache"),
        PYTHONUNBUFFERED="1",
    )
    argv = [sys.executable, "-m", "hoarfrost", "serve", "--home", str(home), "--port", str(port)]
    with open(log, "wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        wait_for_port(port, process, log)
        yield ServedAccount(port, home, log)
    finally:
        stop_process(process, timeout=15)


def login(client: httpx.Client, user: str, password: str) -> dict[str, object]:
    body = gzip.compress(json.dumps({"data": {"LOGIN_NAME": user, "PASSWORD": password}}).encode())
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    answer: dict[str, object] = client.post(
        "/session/v1/login-request", content=body, headers=headers
    ).json()
    return answer


def test_300_wrong_logins_lock_the_user_until_the_lockout_ends(served: ServedAccount) -> None:
    base = f"http://127.0.0.1:{served.port}"
    with httpx.Client(base_url=base) as client:
        codes = []
        for attempt in range(300):
            answer = login(client, USER.upper() if attempt % 2 else USER, f"guess-{attempt}")
            if attempt == MAX_RETRIES - 1:
                locked_at = time.monotonic()
            assert answer["success"] is False
            codes.append(answer["code"])
        assert codes[:MAX_RETRIES] == ["390100"] * MAX_RETRIES
        assert codes[MAX_RETRIES:] == [LOCKED_CODE] * (300 - MAX_RETRIES)
        locked = login(client, USER, PASSWORD)
        assert locked["code"] == LOCKED_CODE and LOCKED in str(locked["message"])
        assert PASSWORD not in json.dumps(locked)
        assert time.monotonic() - locked_at < LOCKOUT - 2, "the test was too slow to tell"

    # The right password through the real connector: refused with the reference's message.
    with pytest.raises(snowflake.connector.errors.DatabaseError) as info:
        served.connect()
    assert info.value.errno == int(LOCKED_CODE) and LOCKED in str(info.value)
    assert "Try again after 8 seconds" in str(info.value)

    # Throttling is per user: another user logs in meanwhile.
    with served.connect(user=OTHER, password=OTHER_PASSWORD) as conn:
        assert conn.cursor().execute("select current_user()").fetchall() == [(OTHER.upper(),)]

    time.sleep(max(0.0, locked_at + LOCKOUT + 0.5 - time.monotonic()))
    with served.connect() as conn:
        assert conn.cursor().execute("select current_user()").fetchall() == [(USER.upper(),)]


def test_names_that_are_not_users_lock_too(served: ServedAccount) -> None:
    # Otherwise whether a name ever locks would tell which names exist.
    with httpx.Client(base_url=f"http://127.0.0.1:{served.port}") as client:
        codes = [login(client, "mallory", "x")["code"] for _ in range(MAX_RETRIES + 1)]
    assert codes == ["390100"] * MAX_RETRIES + [LOCKED_CODE]


def test_a_success_resets_the_count(served: ServedAccount) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{served.port}") as client:
        for _ in range(3):
            for _ in range(MAX_RETRIES - 1):
                assert login(client, OTHER, "wrong")["code"] == "390100"
            assert login(client, OTHER, OTHER_PASSWORD)["success"] is True


def test_wrong_password_through_the_connector_is_the_usual_error(served: ServedAccount) -> None:
    with pytest.raises(snowflake.connector.errors.DatabaseError) as info:
        served.connect(user="carol", password="nope")
    assert info.value.errno == 390100 and "Incorrect username or password" in str(info.value)
