"""Large-statement benchmark (issue 15, item 4): multi-megabyte statements, hoarfrost vs DuckDB.

    .venv/bin/python bench/parse.py [--values 200000] [--rows 100000] [--rounds 2]

Three statements, each sent afresh every round (its values shift, so no kept translation
answers it):

* ``SELECT COUNT(*) FROM t WHERE x IN (<--values integers>)`` (1.3 MB at 200k),
* the same over ``--values`` string literals,
* ``INSERT INTO r VALUES (<int>, '<string>', <float>, <boolean>), ...`` of ``--rows`` rows.

Timed side by side in one run, round robin: hoarfrost in-process (``hoarfrost.connect``),
hoarfrost over the wire (``hoarfrost serve`` and the real connector), and DuckDB running the
translated statement itself on its own connection (the floor: DuckDB's parser and planner pay
for every literal too). Each line prints the medians, both ratios to DuckDB and the target:
<= 3x DuckDB's time; a second line the same in CPU seconds (steadier on a shared machine; over
the wire, the client's and the server process's together). Results are compared (the count,
or the rows inserted).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src")]

import duckdb  # noqa: E402
import snowflake.connector  # noqa: E402

import hoarfrost  # noqa: E402
from hoarfrost.sql.translate import translate  # noqa: E402

warnings.simplefilter("ignore")
TARGET = 3.0

SETUP = [
    (
        "CREATE TABLE t AS SELECT seq4() AS x, 'v' || seq4() AS s "
        "FROM TABLE(GENERATOR(ROWCOUNT => 1000000))",
        'CREATE TABLE "T" AS SELECT range AS "X", \'v\' || range AS "S" FROM range(1000000)',
    ),
    (
        "CREATE TABLE r (i INT, s STRING, f FLOAT, b BOOLEAN)",
        'CREATE TABLE "R" ("I" BIGINT, "S" VARCHAR, "F" DOUBLE, "B" BOOLEAN)',
    ),
]


# Each text is new (its last value, which matches no row, names the round); every value but
# that one matches one row of t, so each answer is the list's length minus one.
def in_integers(n: int, shift: int) -> str:
    listed = ", ".join(str(i * 4 + shift % 4) for i in range(n - 1))
    return f"SELECT COUNT(*) FROM t WHERE x IN ({listed}, -{shift + 1})"


def in_strings(n: int, shift: int) -> str:
    listed = ", ".join(f"'v{i * 4 + shift % 4}'" for i in range(n - 1))
    return f"SELECT COUNT(*) FROM t WHERE s IN ({listed}, 'none {shift}')"


def insert_rows(n: int, shift: int) -> str:
    rows = ", ".join(
        f"({i + shift}, 'name {i}''s', {i}.25, {'TRUE' if i % 2 else 'FALSE'})" for i in range(n)
    )
    return f"INSERT INTO r VALUES {rows}"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(home: str) -> tuple[subprocess.Popen[bytes], int]:
    port = _port()
    env = {**os.environ, "HOARFROST_SERVER_USERS": "bench:bench-pw"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hoarfrost", "serve", "--home", home, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "server exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def _cpu(pid: int | None) -> float:
    """CPU seconds of this process, plus those of the server process ``pid``."""
    if pid is None:
        return time.process_time()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return time.process_time() + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed(run: Callable[[], Any], pid: int | None = None) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds, result): on a shared machine CPU time is the steadier."""
    start, cpu = time.perf_counter(), _cpu(pid)
    out = run()
    return time.perf_counter() - start, _cpu(pid) - cpu, out


def _duck_run(duck: duckdb.DuckDBPyConnection, statements: tuple[str, ...]) -> Any:
    cursor: Any = duck
    for statement in statements:
        cursor = duck.execute(statement)
    return cursor.fetchall()


def bench(args: argparse.Namespace) -> None:
    shapes: list[tuple[str, Callable[[int], str], int]] = [
        (f"IN list of {args.values:,} integers", lambda k: in_integers(args.values, k), 1),
        (f"IN list of {args.values:,} strings", lambda k: in_strings(args.values, k), 1),
        (f"INSERT of {args.rows:,} rows x 4 columns", lambda k: insert_rows(args.rows, k), 0),
    ]
    home = tempfile.mkdtemp(prefix="hoarfrost-parse-")
    server, port = _serve(str(Path(home) / "served"))
    try:
        local = hoarfrost.connect(":memory:").cursor()
        wire = snowflake.connector.connect(
            host="127.0.0.1",
            port=port,
            protocol="http",
            account="hoarfrost",
            user="bench",
            password="bench-pw",
            login_timeout=30,
            network_timeout=600,
        ).cursor()
        duck = duckdb.connect()
        for ours, theirs in SETUP:
            local.execute(ours)
            wire.execute(ours)
            duck.execute(theirs)
        for name, make, unmatched in shapes:
            times: dict[str, list[float]] = {"duck": [], "local": [], "wire": []}
            cpu: dict[str, list[float]] = {"duck": [], "local": [], "wire": []}
            size = 0
            want = [((args.values if unmatched else args.rows) - unmatched,)]
            for r in range(args.rounds):
                sql = [make(3 * r + k) for k in range(3)]  # a fresh text for each of the three
                size = len(sql[0])
                statements = translate(sql[0]).statements
                runs: dict[str, Callable[[], Any]] = {
                    "duck": lambda st=statements: _duck_run(duck, st),  # type: ignore[misc]
                    "local": lambda q=sql[1]: local.execute(q).fetchall(),  # type: ignore[misc]
                    "wire": lambda q=sql[2]: wire.execute(q).fetchall(),  # type: ignore[misc]
                }
                for who, run in runs.items():
                    spent, used, got = _timed(run, server.pid if who == "wire" else None)
                    times[who].append(spent)
                    cpu[who].append(used)
                    if [tuple(row) for row in got] != want:
                        raise AssertionError(f"{name}: {who} answered {got}, not {want}")
            med = {k: statistics.median(v) for k, v in times.items()}
            print(
                f"{name} ({size / 1e6:.1f} MB): DuckDB {med['duck']:.2f} s, hoarfrost in-process "
                f"{med['local']:.2f} s ({med['local'] / med['duck']:.2f}x), over the wire "
                f"{med['wire']:.2f} s ({med['wire'] / med['duck']:.2f}x); target <= {TARGET:g}x"
            )
            med = {k: statistics.median(v) for k, v in cpu.items()}
            print(
                f"  CPU time: DuckDB {med['duck']:.2f} s, hoarfrost in-process "
                f"{med['local']:.2f} s ({med['local'] / med['duck']:.2f}x), over the wire "
                "(client and server) "
                f"{med['wire']:.2f} s ({med['wire'] / med['duck']:.2f}x)"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--values", type=int, default=200_000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    bench(parser.parse_args())


if __name__ == "__main__":
    main()
