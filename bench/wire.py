"""Wire benchmark (issue 15): the real connector against ``hoarfrost serve`` and against
fakesnow's server (``fakesnow[server]``), with DuckDB in-process as the floor.

    .venv/bin/python bench/wire.py [--rows 1000000] [--big-rows 10000000] [--rounds 3]

fakesnow's server speaks only to the connector's 4.x line (the 5.x line requires a master
token it does not send), so the client side runs in the peer venv of bench/peers.py with that
connector, for both servers; ``hoarfrost serve`` runs from this project's venv. Printed, medians
of interleaved rounds: ``SELECT 1`` round trip (blocks of 25 per side, in every order in
turn; and alternating every query, for information); ``fetchall`` and ``fetch_pandas_all`` of
``--rows`` rows x 4 columns; a ``fetch_pandas_all`` of ``--big-rows`` rows from hoarfrost; each
server's resident memory before and its peak (VmHWM) after. Targets: fetch_pandas_all <= 2x
DuckDB's ``.df()``, fetchall <= 1.3x DuckDB's fetchall, RSS growth during the big fetch < 300 MiB,
SELECT 1 and the 1M fetch >= 2x faster than fakesnow.
"""

from __future__ import annotations

import argparse
import itertools
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE)]

from peers import peer_python  # noqa: E402

TABLE = (
    "CREATE OR REPLACE TABLE big AS SELECT range AS id, range * 1.5 AS f, "
    "'row ' || range AS s, (range % 100)::int AS k FROM range({n})"
)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "server exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def _rss(pid: int) -> tuple[float, float]:
    """(current, peak) resident MiB of a process."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def _timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def client(args: argparse.Namespace) -> None:
    import duckdb
    import snowflake.connector

    home = tempfile.mkdtemp(prefix="hoarfrost-wire-")
    hf_port, fs_port = _port(), _port()
    env = {**os.environ, "HOARFROST_SERVER_USERS": "bench:bench-pw"}
    hf = subprocess.Popen(
        [args.hoarfrost_python, "-m", "hoarfrost", "serve", "--home", home, "--port", str(hf_port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    fs = subprocess.Popen(
        [str(Path(sys.executable).with_name("fakesnow")), "-s", "-p", str(fs_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(hf_port, hf)
        _wait(fs_port, fs)
        common = {"host": "127.0.0.1", "protocol": "http", "login_timeout": 30}
        hcon = snowflake.connector.connect(
            port=hf_port, account="hoarfrost", user="bench", password="bench-pw", **common
        )
        fcon = snowflake.connector.connect(
            port=fs_port,
            account="fakesnow",
            user="x",
            password="y",
            database="BENCH",
            schema="PUBLIC",
            **common,
        )
        duck = duckdb.connect()
        hcur, fcur = hcon.cursor(), fcon.cursor()
        for cur in (hcur, fcur):
            cur.execute(TABLE.format(n=args.rows))
        duck.execute(TABLE.format(n=args.rows))

        # Back to back, in blocks of 25 per side, in every order of the sides in turn: each
        # side's own latency (short blocks, many of them: this machine's speed drifts over
        # seconds, and every side must see the same drift). Alternating every single query is
        # printed too: each query then also pays for the other processes having run since its
        # server's last one (caches, an idle virtual CPU woken), a cost of the machine that both
        # servers share.
        sides = {"hf": hcur, "fs": fcur, "duck": duck}
        for cur in sides.values():  # warm-up: kept statements, the servers' first requests
            for _ in range(100):
                cur.execute("SELECT 1").fetchall()
        lat: dict[str, list[float]] = {k: [] for k in sides}
        orders = list(itertools.permutations(sides))  # each side after each other one
        for r in range(args.rounds * 16):
            order = orders[r % len(orders)]
            for side in order:
                cur = sides[side]
                lat[side] += [
                    _timed(lambda c=cur: c.execute("SELECT 1").fetchall()) for _ in range(25)
                ]
        alternating: dict[str, list[float]] = {k: [] for k in sides}
        for _ in range(300):
            for side, cur in sides.items():
                alternating[side].append(_timed(lambda c=cur: c.execute("SELECT 1").fetchall()))
        med = {k: statistics.median(v) * 1000 for k, v in lat.items()}
        alt = {k: statistics.median(v) * 1000 for k, v in alternating.items()}
        print(
            f"SELECT 1 round trip: hoarfrost {med['hf']:.2f} ms, fakesnow {med['fs']:.2f} ms, "
            f"DuckDB in-process {med['duck']:.3f} ms; fakesnow/hoarfrost "
            f"{med['fs'] / med['hf']:.2f}x (target >= 2x)"
        )
        print(
            f"  alternating every query: hoarfrost {alt['hf']:.2f} ms, fakesnow {alt['fs']:.2f} "
            f"ms, DuckDB {alt['duck']:.3f} ms; fakesnow/hoarfrost {alt['fs'] / alt['hf']:.2f}x"
        )

        q = "SELECT * FROM big"
        fetch: dict[str, list[float]] = {k: [] for k in ("hf", "fs", "duck")}
        pandas: dict[str, list[float]] = {k: [] for k in ("hf", "fs", "duck")}
        rows_seen: dict[str, int] = {}
        for _ in range(args.rounds):
            fetch["hf"].append(
                _timed(lambda: rows_seen.__setitem__("hf", len(hcur.execute(q).fetchall())))
            )
            fetch["fs"].append(
                _timed(lambda: rows_seen.__setitem__("fs", len(fcur.execute(q).fetchall())))
            )
            fetch["duck"].append(_timed(lambda: duck.execute(q).fetchall()))
            pandas["hf"].append(_timed(lambda: hcur.execute(q).fetch_pandas_all()))
            pandas["fs"].append(_timed(lambda: fcur.execute(q).fetch_pandas_all()))
            pandas["duck"].append(_timed(lambda: duck.sql(q).df()))
        f = {k: statistics.median(v) for k, v in fetch.items()}
        p = {k: statistics.median(v) for k, v in pandas.items()}
        print(
            f"{args.rows:,} rows x 4 fetchall: hoarfrost {f['hf']:.2f} s, fakesnow {f['fs']:.2f} s,"
            f" DuckDB {f['duck']:.2f} s; hoarfrost/DuckDB {f['hf'] / f['duck']:.2f}x (target <="
            f" 1.3x), fakesnow/hoarfrost {f['fs'] / f['hf']:.2f}x (target >= 2x); rows "
            f"{rows_seen}"
        )
        print(
            f"{args.rows:,} rows x 4 fetch_pandas_all: hoarfrost {p['hf']:.2f} s, fakesnow "
            f"{p['fs']:.2f} s, DuckDB .df() {p['duck']:.2f} s; hoarfrost/DuckDB "
            f"{p['hf'] / p['duck']:.2f}x (target <= 2x), fakesnow/hoarfrost "
            f"{p['fs'] / p['hf']:.2f}x (target >= 2x)"
        )
        if args.big_rows:
            hcur.execute(TABLE.format(n=args.big_rows).replace("big", "bigger"))
            before, _ = _rss(hf.pid)
            seconds = _timed(lambda: hcur.execute("SELECT * FROM bigger").fetch_pandas_all())
            _, peak = _rss(hf.pid)
            print(
                f"{args.big_rows:,} rows fetch_pandas_all from hoarfrost: {seconds:.1f} s; server"
                f" RSS {before:.0f} MiB before, peak {peak:.0f} MiB (growth {peak - before:.0f}"
                " MiB, target < 300 MiB)"
            )
        print(
            f"server RSS now: hoarfrost {_rss(hf.pid)[0]:.0f} MiB, fakesnow {_rss(fs.pid)[0]:.0f}"
            " MiB"
        )
    finally:
        for proc in (hf, fs):
            proc.terminate()
            proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--big-rows", type=int, default=10_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--hoarfrost-python", default=None)
    args = parser.parse_args()
    peer = peer_python()
    if args.hoarfrost_python is None:  # the project's venv: run the client in the peer venv
        argv = [str(peer), __file__, *sys.argv[1:], "--hoarfrost-python", sys.executable]
        raise SystemExit(subprocess.call(argv))
    client(args)


if __name__ == "__main__":
    main()
