"""Snowpark benchmark (issue 13): a UDF registered from the Snowpark client vs the same UDF made
with SQL, and the first call of a procedure that gets a real Snowpark Session.

    .venv/bin/python bench/snowpark.py [--rows 4000000] [--repeat 5]

Runs `hoarfrost serve` over a throwaway account, a local authenticated pypiserver hosting the real
Snowpark wheels (downloaded once), and snowflake-snowpark-python 1.56 in its own venv (built once,
see tests/support/old_connector.py). Printed, from one run:

* udf        ``SELECT sum(f(x)) FROM t`` with ``f = x + 1`` registered by ``session.udf.register``
             (cloudpickled handler) vs created by ``CREATE FUNCTION`` (plain handler), both
             through the same Snowpark session, best of ``--repeat``; target >= 0.95x;
* procedure  the first ``CALL`` of a procedure whose session is a real Snowpark Session (worker
             start, Snowpark import, the login over the worker's pipe) and the median of the next
             ten calls (printed, no target).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.server.conftest import free_port, wait_for_port  # noqa: E402
from tests.support.old_connector import run_script, snowpark_python  # noqa: E402
from tests.support.processes import stop_process  # noqa: E402
from tests.support.pypiserver import PypiServer  # noqa: E402
from tests.support.snowpark import snowpark_wheels  # noqa: E402

USER, PASSWORD = "bench", "Bench-Snowpark-Pa55"
REPO_USER, REPO_PASSWORD = "bench-repo", "Bench-Repo-Pa55"
WHEELS = Path.home() / ".cache" / "hoarfrost-test-wheels" / "snowpark-cp311"

SCRIPT = """
import statistics, time
from snowflake.snowpark import Session
import snowflake.snowpark.types as T

s = Session.builder.configs(dict(host="127.0.0.1", port=ARGS["port"], protocol="http",
    account="hoarfrost", user=ARGS["user"], password=ARGS["password"],
    database="HOARFROST", schema="PUBLIC")).create()
for sql in ARGS["setup"]:
    s.sql(sql).collect()
s.udf.register(lambda x: x + 1, return_type=T.IntegerType(), input_types=[T.IntegerType()],
    name="plus_snowpark", replace=True, artifact_repository="bench_repo",
    packages=["cloudpickle"])

def best(fn):
    timings = []
    for _ in range(ARGS["repeat"]):
        start = time.perf_counter()
        value = s.sql(f"SELECT sum({fn}(x)) FROM t").collect()[0][0]
        timings.append(time.perf_counter() - start)
    return min(timings), value

best("plus_sql"), best("plus_snowpark")  # warm: workers started, functions loaded
sql_s, sql_v = best("plus_sql")
sp_s, sp_v = best("plus_snowpark")
assert sql_v == sp_v, (sql_v, sp_v)
start = time.perf_counter()
s.call("with_session")
first = time.perf_counter() - start
warm = []
for _ in range(10):
    start = time.perf_counter()
    s.call("with_session")
    warm.append(time.perf_counter() - start)
print(json.dumps({"sql": sql_s, "snowpark": sp_s, "first": first,
                  "warm": statistics.median(warm)}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=4_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    python = snowpark_python()
    with tempfile.TemporaryDirectory(prefix="hoarfrost-bench-snowpark-") as tmp:
        root = Path(tmp)
        packages = root / "packages"
        packages.mkdir()
        for wheel in snowpark_wheels(WHEELS).glob("*.whl"):
            shutil.copy(wheel, packages / wheel.name)
        with PypiServer(packages, root / "index", auth=(REPO_USER, REPO_PASSWORD)) as repo:
            port = free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith("HOARFROST_")}
            env.update(
                HOARFROST_SERVER_USERS=f"{USER}:{PASSWORD}",
                HOARFROST_CACHE_DIR=str(ROOT / "bench" / ".cache" / "snowpark"),
            )
            log = root / "server.log"
            argv = [sys.executable, "-m", "hoarfrost", "serve", "--home", str(root / "home")]
            with open(log, "wb") as out:
                server = subprocess.Popen(
                    [*argv, "--port", str(port)], stdout=out, stderr=subprocess.STDOUT, env=env
                )
            try:
                wait_for_port(port, server, log)
                setup = [
                    f"CREATE SECRET s TYPE = PASSWORD USERNAME = '{REPO_USER}' "
                    f"PASSWORD = '{REPO_PASSWORD}'",
                    "CREATE API INTEGRATION i API_PROVIDER = ARTIFACT_REPOSITORY_API "
                    f"API_ALLOWED_PREFIXES = ('{repo.url}') ALLOWED_AUTHENTICATION_SECRETS = (s) "
                    "ENABLED = TRUE",
                    "CREATE ARTIFACT REPOSITORY bench_repo TYPE = PYPI API_INTEGRATION = i "
                    f"INDEX_URL = '{repo.index_url}' AUTHENTICATION_SECRET = s",
                    f"CREATE TABLE t AS SELECT range AS x FROM range({args.rows})",
                    "CREATE FUNCTION plus_sql(x INT) RETURNS INT LANGUAGE PYTHON "
                    "RUNTIME_VERSION = '3.11' HANDLER = 'f' AS $$\ndef f(x):\n    return x + 1\n$$",
                    "CREATE PROCEDURE with_session() RETURNS INT LANGUAGE PYTHON "
                    "RUNTIME_VERSION = '3.11' ARTIFACT_REPOSITORY = bench_repo "
                    "PACKAGES = ('snowflake-snowpark-python') HANDLER = 'run' AS $$\n"
                    "def run(session):\n    return session.table('T').count()\n$$",
                ]
                out = run_script(
                    python,
                    SCRIPT,
                    port=port,
                    user=USER,
                    password=PASSWORD,
                    setup=setup,
                    repeat=args.repeat,
                )
            finally:
                stop_process(server, timeout=15)
    ratio = out["sql"] / out["snowpark"]
    verdict = "ok" if ratio >= 0.95 else "MISSED"
    rows = args.rows
    print(
        f"udf:        Snowpark-registered {out['snowpark']:6.2f} s "
        f"({rows / out['snowpark'] / 1e6:5.2f} M rows/s) | CREATE FUNCTION {out['sql']:6.2f} s "
        f"({rows / out['sql'] / 1e6:5.2f} M rows/s) | ratio {ratio:4.2f}x (target >= 0.95x) "
        f"{verdict}"
    )
    print(
        f"procedure:  first CALL with a real Snowpark Session {out['first'] * 1e3:7.1f} ms | "
        f"next calls (median of 10) {out['warm'] * 1e3:6.1f} ms"
    )


if __name__ == "__main__":
    main()
