"""dbt build wall time (issue 14): the tests' dbt project (tests/dbt/project) with dbt-snowflake
against ``hoarfrost serve`` vs the same project with dbt-duckdb over a plain DuckDB file.

    .venv/bin/python bench/dbt_build.py [--rounds 3]

Both run in one run, alternating, each round a ``dbt build --full-refresh`` (seeds, models,
snapshot, tests). dbt-core, dbt-snowflake and dbt-duckdb live in a venv of their own
(~/.cache/hoarfrost-bench/dbt-1.9, made once: dbt-snowflake pins its own connector). Printed:
each side's median wall time and their ratio (information: the overhead per statement is the
performance issue's target).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from tests.dbt.test_dbt_project import PROFILE  # noqa: E402 - the tests' own profile

PROJECT = ROOT / "tests" / "dbt" / "project"
VENV = Path.home() / ".cache" / "hoarfrost-bench" / "dbt-1.9"
REQUIREMENTS = ("dbt-core~=1.9.0", "dbt-snowflake~=1.9.0", "dbt-duckdb~=1.9.0")
USER, PASSWORD = "bench", "bench-dbt-pass"

PROFILES = (
    PROFILE
    + """duck:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: {duckdb_path}
      schema: ANALYTICS
      threads: 1
"""
)


def dbt_venv() -> Path:
    stamp = VENV / ".installed"
    if not stamp.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "-q", *REQUIREMENTS]
        subprocess.run(pip, check=True)
        stamp.touch()
    return VENV / "bin" / "dbt"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("hoarfrost serve did not listen in time")


def build(dbt: Path, project: Path, profile: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOARFROST_", "DBT_"))}
    env.update(DO_NOT_TRACK="1", DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    start = time.perf_counter()
    done = subprocess.run(
        [str(dbt), "build", "--full-refresh", "--profile", profile, "--profiles-dir", "."],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"dbt build ({profile}) failed:\n{done.stdout[-4000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    dbt = dbt_venv()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOARFROST_")}
        env.update(
            HOARFROST_SERVER_USERS=f"{USER}:{PASSWORD}", HOARFROST_CACHE_DIR=str(work / "cache")
        )
        argv = [sys.executable, "-m", "hoarfrost", "serve", "--home", str(work / "home")]
        server = subprocess.Popen(
            [*argv, "--port", str(port)],
            env={**env, "PYTHONPATH": str(ROOT / "src")},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(port)
            projects = {}
            for profile in ("hf", "duck"):
                project = work / profile
                shutil.copytree(PROJECT, project)
                (project / "profiles.yml").write_text(
                    PROFILES.format(
                        user=USER, password=PASSWORD, port=port, duckdb_path=work / "plain.duckdb"
                    )
                )
                projects[profile] = project
            times: dict[str, list[float]] = {"hf": [], "duck": []}
            for _ in range(args.rounds):
                for profile, project in projects.items():
                    times[profile].append(build(dbt, project, profile))
        finally:
            server.terminate()
            server.wait(15)
    ours, duck = statistics.median(times["hf"]), statistics.median(times["duck"])
    print(f"dbt build, median of {args.rounds}:")
    print(f"  hoarfrost serve + dbt-snowflake  {ours:7.2f} s")
    print(f"  DuckDB + dbt-duckdb              {duck:7.2f} s")
    print(f"  ratio hoarfrost / dbt-duckdb     {ours / duck:7.2f}x")


if __name__ == "__main__":
    main()
