"""Failing user code fails only its query; the packages policy is enforced at execution;
isolation: what a UDF can see of the engine (issue 4 acceptance)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import hoarfrost
from tests.functions.conftest import (
    PASSWORD,
    close_account,
    error_of,
    open_account,
    rows,
)
from tests.support.pypiserver import PypiServer

OK = (
    "CREATE FUNCTION ok() RETURNS INT LANGUAGE PYTHON RUNTIME_VERSION = '3.11' HANDLER = 'f' "
    "AS $$\ndef f():\n    return 1\n$$"
)


def _bad(name: str, body: str) -> str:
    return (
        f"CREATE FUNCTION {name}(x INT) RETURNS INT LANGUAGE PYTHON RUNTIME_VERSION = '3.11' "
        f"HANDLER = 'f' AS $$\ndef f(x):\n{body}\n$$"
    )


def test_exception_shows_the_user_traceback(con: hoarfrost.Connection) -> None:
    con.execute(_bad("raiser", "    helper = {}\n    return helper['missing']"))
    error = error_of(con, "SELECT raiser(1)")
    assert isinstance(error, hoarfrost.ProgrammingError)
    assert str(error).startswith("100357 (P0000): Python Interpreter Error:\nTraceback")
    assert "KeyError: 'missing'" in str(error)
    assert 'File "<RAISER>", line 4, in f' in str(error)
    assert "duckdb" not in str(error).lower() and "bootstrap" not in str(error)


def test_crash_fails_only_its_query(con: hoarfrost.Connection) -> None:
    con.execute(OK)
    con.execute(_bad("crasher", "    import os\n    os._exit(1)"))
    con.execute("CREATE TABLE nums AS SELECT range AS n FROM range(5000)")
    error = error_of(con, "SELECT SUM(crasher(n)) FROM nums")
    assert isinstance(error, hoarfrost.OperationalError)
    assert "exited unexpectedly (code 1)" in str(error)
    assert rows(con, "SELECT ok()") == [(1,)]


def test_timeout_and_memory_limit(repo_server: PypiServer, shared_cache: Path) -> None:
    con = open_account(
        repo_server,
        shared_cache,
        worker_timeout=2,
        worker_memory_limit="400M",
        worker_process_limit=8,
    )
    try:
        con.execute(OK)
        con.execute(_bad("spinner", "    while True:\n        pass"))
        con.execute(_bad("hog", "    data = bytearray(1 << 30)\n    return len(data)"))
        error = error_of(con, "SELECT spinner(1)")
        assert "exceeded the timeout of 2 seconds (setting HOARFROST_WORKER_TIMEOUT)" in str(error)
        assert rows(con, "SELECT ok()") == [(1,)]
        error = error_of(con, "SELECT hog(1)")
        assert "ran out of memory" in str(error) and "HOARFROST_WORKER_MEMORY_LIMIT" in str(error)
        assert rows(con, "SELECT ok()") == [(1,)]
        limits = dict(
            (r[0], r[1]) for r in rows(con, "SHOW PARAMETERS LIKE 'PYTHON_UDF%' IN ACCOUNT")
        )
        assert (
            "timeout 2 s per batch; memory 400 MiB per worker; 8 processes and threads per worker"
            in limits["PYTHON_UDF_WORKER_LIMITS"]
        )
        # the account's process limit reaches the workers: the ninth thread is refused
        con.execute(
            "CREATE FUNCTION spawner() RETURNS INT LANGUAGE PYTHON RUNTIME_VERSION = '3.11' "
            "HANDLER = 'f' AS $$\nimport threading\ndef f():\n    stop = threading.Event()\n"
            "    started = 0\n    try:\n        for _ in range(32):\n"
            "            threading.Thread(target=stop.wait, daemon=True).start()\n"
            "            started += 1\n    except RuntimeError:\n        pass\n"
            "    stop.set()\n    return started\n$$"
        )
        (started,) = rows(con, "SELECT spawner()")[0]
        assert 0 < started < 8
    finally:
        close_account(con)


PINNED = (
    "CREATE {temp} FUNCTION {name}() RETURNS VARCHAR LANGUAGE PYTHON RUNTIME_VERSION = '3.11' "
    "ARTIFACT_REPOSITORY = my_python_repo PACKAGES = ('pinned=={version}') HANDLER = 'f' "
    "AS $$\nimport pinned\ndef f():\n    return pinned.__version__\n$$"
)


def test_tightened_policy_stops_existing_functions(con: hoarfrost.Connection) -> None:
    con.execute(PINNED.format(temp="", name="old_pin", version="1.0"))
    con.execute(PINNED.format(temp="", name="new_pin", version="2.0"))
    con.execute(PINNED.format(temp="TEMPORARY", name="temp_pin", version="2.0"))
    assert rows(con, "SELECT old_pin(), new_pin(), temp_pin()") == [("1.0", "2.0", "2.0")]
    con.execute(
        "CREATE PACKAGES POLICY strict_policy LANGUAGE PYTHON BLOCKLIST = ('pinned<2') "
        "ADDITIONAL_CREATION_BLOCKLIST = ('pinned==2.0')"
    )
    con.execute("ALTER ACCOUNT SET PACKAGES POLICY strict_policy")
    error = error_of(con, "SELECT old_pin()")
    assert "Package 'pinned==1.0' is blocked by the packages policy BLOCKLIST entry" in str(error)
    assert rows(con, "SELECT new_pin()") == [("2.0",)]
    error = error_of(con, "SELECT temp_pin()")
    assert "ADDITIONAL_CREATION_BLOCKLIST entry 'pinned==2.0'" in str(error)
    con.execute("ALTER ACCOUNT UNSET PACKAGES POLICY")
    assert rows(con, "SELECT old_pin()") == [("1.0",)]


PROBE = """
import json, os, socket

def attempt(action):
    try:
        result = action()
        return 'READ ' + (result.hex() if isinstance(result, bytes) else str(result))
    except Exception as exc:
        return 'DENIED ' + type(exc).__name__

def read(path):
    with open(path, 'rb') as fh:
        return fh.read()

def connect(port):
    s = socket.create_connection(('127.0.0.1', port), timeout=3)
    s.close()
    return 'connected'

def f(home, port):
    seen = {'env': sorted(k for k in os.environ if k.startswith('HOARFROST'))}
    for name in ('catalog.duckdb', 'master.key', 'databases/HOARFROST.duckdb'):
        seen[name] = attempt(lambda: read(os.path.join(home, name)))
    seen['listdir'] = attempt(lambda: os.listdir(home))
    seen['engine environ'] = attempt(lambda: read(f'/proc/{os.getppid()}/environ'))
    seen['tcp'] = attempt(lambda: connect(port))
    return json.dumps(seen)
"""


def test_isolation_nothing_leaks(
    repo_server: PypiServer, shared_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOARFROST_TEST_MARKER", "engine-only")
    home = tmp_path / "account"
    con = hoarfrost.connect(home, cache_dir=shared_cache)
    try:
        for statement in open_account_statements(repo_server):
            con.execute(statement)
        con.execute("CREATE TABLE secret_data AS SELECT 'top secret row' AS v")
        con.execute(
            "CREATE FUNCTION probe(home VARCHAR, port INT) RETURNS VARCHAR LANGUAGE PYTHON "
            f"RUNTIME_VERSION = '3.11' HANDLER = 'f' AS $${PROBE}$$"
        )
        (report,) = rows(con, f"SELECT probe('{home}', {repo_server.port})")[0]
        seen = json.loads(report)
        assert (home / "master.key").exists() and (home / "catalog.duckdb").exists()
        assert seen["env"] == []
        for key in ("catalog.duckdb", "master.key", "databases/HOARFROST.duckdb", "listdir"):
            assert seen[key].startswith("DENIED"), (key, seen[key][:80])
        assert seen["engine environ"].startswith("DENIED")
        assert seen["tcp"].startswith("DENIED")
        assert PASSWORD.encode().hex() not in report and PASSWORD not in report
        params = dict((r[0], r[1]) for r in rows(con, "SHOW PARAMETERS IN ACCOUNT"))
        isolation = params["PYTHON_UDF_ISOLATION"]
        assert isolation.startswith("landlock ABI") and "no TCP connect or bind" in isolation
    finally:
        close_account(con)
    assert os.environ["HOARFROST_TEST_MARKER"] == "engine-only"


def open_account_statements(server: PypiServer) -> list[str]:
    from tests.functions.conftest import SETUP, USER

    return [
        s.format(user=USER, password=PASSWORD, url=server.url, index=server.index_url)
        for s in SETUP
    ]


def test_execution_needs_usage_on_the_repository(con: hoarfrost.Connection) -> None:
    """SPEC.md section 9: a role without USAGE on the repository cannot run the function, and
    the repository is reported as not found; a grant lets it run."""
    con.execute(PINNED.format(temp="", name="uses_repo", version="2.0"))
    con.execute("CREATE ROLE analyst")
    con.execute("GRANT ROLE analyst TO USER hoarfrost")
    con.execute("GRANT USAGE ON FUNCTION uses_repo() TO ROLE analyst")
    con.execute("USE ROLE analyst")
    error = error_of(con, "SELECT uses_repo()")
    assert str(error) == (
        "002003 (42S02): SQL compilation error:\n"
        "Object 'HOARFROST.PUBLIC.MY_PYTHON_REPO' does not exist or not authorized."
    )
    con.execute("USE ROLE accountadmin")
    con.execute("GRANT USAGE ON ARTIFACT REPOSITORY my_python_repo TO ROLE analyst")
    con.execute("USE ROLE analyst")
    assert rows(con, "SELECT uses_repo()") == [("2.0",)]
