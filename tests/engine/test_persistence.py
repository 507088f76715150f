"""Objects survive reopening; a writer killed with SIGKILL mid-statement leaves no half object."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import hoarfrost
from tests.engine.conftest import SEED_OBJECTS


def test_objects_survive_reopen(tmp_path: Path) -> None:
    home = tmp_path / "acct"
    with hoarfrost.connect(home) as con:
        for sql in SEED_OBJECTS:
            con.execute(sql)
        con.execute("CREATE DATABASE analytics")
        con.execute("CREATE TABLE t (a INT)")
        con.execute("INSERT INTO t VALUES (1), (2)")
        con.execute(
            "ALTER ACCOUNT SET DEFAULT_PYTHON_ARTIFACT_REPOSITORY = hoarfrost.public.my_python_repo"
        )
    with hoarfrost.connect(home) as con:
        names = [r[1] for r in con.execute("SHOW ARTIFACT REPOSITORIES IN ACCOUNT").fetchall()]
        assert names == ["MY_PYTHON_REPO", "PYPI_SHARED_REPOSITORY"]  # with the built-in one
        assert con.execute("SELECT count(*) FROM analytics.public.t").fetchone() == (2,)
        assert [r[0] for r in con.execute("SHOW INTEGRATIONS").fetchall()] == [
            "PYTHON_REPO_INTEGRATION"
        ]
        value = con.execute(
            "SELECT SYSTEM$GET_DEFAULT_PYTHON_ARTIFACT_REPOSITORY('3.11', 'account', '')"
        ).fetchone()
        assert value == ("HOARFROST.PUBLIC.MY_PYTHON_REPO",)


_WRITER = """
import sys, hoarfrost
con = hoarfrost.connect(sys.argv[1])
con.execute("CREATE TABLE IF NOT EXISTS big (i BIGINT, s VARCHAR)")
print("ready", flush=True)
n = 0
while True:
    n += 1
    con.execute(f"CREATE OR REPLACE SECRET s{n % 50} TYPE = PASSWORD USERNAME = 'u{n}' PASSWORD = 'p{n}'")
    con.execute(f"CREATE OR REPLACE API INTEGRATION i{n % 50} API_PROVIDER = ARTIFACT_REPOSITORY_API "
                f"API_ALLOWED_PREFIXES = ('https://h{n}.example.com') ALLOWED_AUTHENTICATION_SECRETS = (s{n % 50})")
    con.execute("INSERT INTO big SELECT range, 'x' || range FROM range(20000)")
"""


def test_sigkill_mid_statement_reopens_cleanly(tmp_path: Path) -> None:
    home = tmp_path / "acct"
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(home)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(1.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with hoarfrost.connect(home) as con:
        integrations = con.execute("SHOW INTEGRATIONS").fetchall()
        assert integrations, "the writer made progress before it was killed"
        for name, *_ in integrations:
            rows = con.execute(f"DESCRIBE INTEGRATION {name}").fetchall()
            props = {r[0]: r[2] for r in rows}
            assert props["API_PROVIDER"] == "ARTIFACT_REPOSITORY_API"
            assert props["API_ALLOWED_PREFIXES"].startswith("https://h")
            assert props["ALLOWED_AUTHENTICATION_SECRETS"].startswith("HOARFROST.PUBLIC.S")
        for row in con.execute("SHOW SECRETS").fetchall():
            described = con.execute(f"DESCRIBE SECRET {row[1]}").fetchone()
            assert described is not None and described[7].startswith("u")
        count = con.execute("SELECT count(*) FROM big").fetchone()
        assert count is not None and count[0] % 20000 == 0
        con.execute("CREATE SECRET after_crash TYPE = PASSWORD USERNAME = 'u' PASSWORD = 'p'")
