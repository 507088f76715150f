"""Stages benchmark (issue 12): loading staged files, and PUT over the wire.

    .venv/bin/python bench/stages.py [--rows 6000000] [--put-mib 1024] [--repeat 2]

Measured in one run:

* COPY CSV      ``COPY INTO t FROM @st/lineitem.csv`` through ``hoarfrost.connect(":memory:")``
                vs DuckDB's own ``CREATE TABLE t AS SELECT * FROM read_csv(...)`` of the same
                file in a plain ``duckdb.connect()`` of this process; throughput ratio (DuckDB's
                time / ours), target >= 0.8x;
* COPY Parquet  the same with ``MATCH_BY_COLUMN_NAME`` vs ``read_parquet``; target >= 0.8x;
* PUT           a ``--put-mib`` file (incompressible, AUTO_COMPRESS = FALSE) through the real
                connector to a real ``hoarfrost serve``: MB/s, and the server's peak RSS growth
                during the upload sampled from /proc (target: under 100 MiB, the body is
                streamed to disk).

The data is TPC-H lineitem-shaped (orderkey, partkey, suppkey, quantity, extendedprice,
discount, shipdate, shipmode, comment), generated with DuckDB into a temporary directory; the
files are staged with PUT before the timed COPY (staging is not timed). Best of ``--repeat``.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

import duckdb  # noqa: E402

import hoarfrost  # noqa: E402

COLUMNS = (
    "l_orderkey BIGINT, l_partkey BIGINT, l_suppkey BIGINT, l_quantity DECIMAL(15,2), "
    "l_extendedprice DECIMAL(15,2), l_discount DECIMAL(15,2), l_shipdate DATE, "
    "l_shipmode VARCHAR, l_comment VARCHAR"
)
GENERATE = """
SELECT i // 4 AS l_orderkey, (i * 7919) % 200000 AS l_partkey, (i * 104729) % 10000 AS l_suppkey,
       ((i % 50) + 1)::DECIMAL(15,2) AS l_quantity,
       ((i % 100000) / 100.0 + 900)::DECIMAL(15,2) AS l_extendedprice,
       ((i % 11) / 100.0)::DECIMAL(15,2) AS l_discount,
       DATE '1992-01-01' + (i % 2500)::INTEGER AS l_shipdate,
       ['AIR', 'MAIL', 'SHIP', 'TRUCK', 'RAIL', 'FOB', 'REG AIR'][(i % 7) + 1] AS l_shipmode,
       'comment ' || md5(i::VARCHAR)[:20] AS l_comment
FROM range({rows}) t(i)
"""


def generate(directory: Path, rows: int) -> tuple[Path, Path]:
    csv, parquet = directory / "lineitem.csv", directory / "lineitem.parquet"
    con = duckdb.connect()
    con.execute(f"COPY ({GENERATE.format(rows=rows)}) TO '{csv}' (FORMAT csv, HEADER false)")
    con.execute(f"COPY ({GENERATE.format(rows=rows)}) TO '{parquet}' (FORMAT parquet)")
    con.close()
    return csv, parquet


def best(repeat: int, run: Callable[[], None], setup: Callable[[], None] | None = None) -> float:
    times = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_copy(csv: Path, parquet: Path, repeat: int) -> list[tuple[str, float, float]]:
    con = hoarfrost.connect(":memory:")
    con.execute(f"CREATE TABLE lineitem ({COLUMNS})")
    con.execute("CREATE STAGE st")
    con.execute(f"PUT file://{csv} @st AUTO_COMPRESS = FALSE")
    con.execute(f"PUT file://{parquet} @st")

    def empty() -> None:  # not timed: the peer's CTAS starts from nothing too
        con.execute("DELETE FROM lineitem")

    def ours_csv() -> None:
        con.execute(
            "COPY INTO lineitem FROM @st/lineitem.csv FILE_FORMAT = (TYPE = CSV) FORCE = TRUE"
        )

    def ours_parquet() -> None:
        con.execute(
            "COPY INTO lineitem FROM @st/lineitem.parquet FILE_FORMAT = (TYPE = PARQUET) "
            "MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE FORCE = TRUE"
        )

    peer = duckdb.connect()

    def peer_csv() -> None:
        peer.execute(f"CREATE OR REPLACE TABLE lineitem AS SELECT * FROM read_csv('{csv}')")

    def peer_parquet() -> None:
        peer.execute(f"CREATE OR REPLACE TABLE lineitem AS SELECT * FROM read_parquet('{parquet}')")

    out = [
        ("COPY CSV", best(repeat, peer_csv), best(repeat, ours_csv, empty)),
        ("COPY Parquet", best(repeat, peer_parquet), best(repeat, ours_parquet, empty)),
    ]
    loaded = con.execute("SELECT count(*) FROM lineitem").fetchone()
    peer_rows = peer.execute("SELECT count(*) FROM lineitem").fetchone()
    assert loaded == peer_rows, (loaded, peer_rows)
    con.close()
    peer.close()
    return out


# -- PUT over the wire -------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def bench_put(directory: Path, mib: int) -> tuple[float, int, int]:
    import snowflake.connector

    big = directory / "big.bin"
    with open(big, "wb") as handle:
        for _ in range(mib):
            handle.write(os.urandom(1 << 20))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOARFROST_")}
    env.update(HOARFROST_SERVER_USERS="bench:bench-pass-1234", PYTHONUNBUFFERED="1")
    home = directory / "home"
    argv = [sys.executable, "-m", "hoarfrost", "serve", "--home", str(home), "--port", str(port)]
    with open(directory / "server.log", "wb") as log:
        server = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        conn = snowflake.connector.connect(
            host="127.0.0.1",
            port=port,
            protocol="http",
            account="bench",
            user="bench",
            password="bench-pass-1234",
            login_timeout=20,
        )
        cur = conn.cursor()
        cur.execute("CREATE STAGE big_st")
        baseline = _rss(server.pid)
        peak = [baseline]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], _rss(server.pid))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        start = time.perf_counter()
        cur.execute(f"PUT file://{big} @big_st AUTO_COMPRESS = FALSE OVERWRITE = TRUE")
        elapsed = time.perf_counter() - start
        done.set()
        sampler.join()
        listed = cur.execute("LIST @big_st").fetchall()
        assert listed and listed[0][1] == big.stat().st_size, listed
        conn.close()
        return (mib * 1.048576) / elapsed, baseline, peak[0]
    finally:
        server.terminate()
        server.wait(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=6_000_000)
    parser.add_argument("--put-mib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hoarfrost-bench-stages-") as tmp:
        directory = Path(tmp)
        print(f"generating {args.rows:,} lineitem rows (CSV and Parquet) ...", flush=True)
        csv, parquet = generate(directory, args.rows)
        sizes = csv.stat().st_size / 1e6, parquet.stat().st_size / 1e6
        print(f"  CSV {sizes[0]:.0f} MB, Parquet {sizes[1]:.0f} MB")
        for name, peer, ours in bench_copy(csv, parquet, args.repeat):
            ratio = peer / ours
            verdict = "ok" if ratio >= 0.8 else "BELOW TARGET"
            print(
                f"{name:13s} DuckDB CTAS {peer:6.2f} s   hoarfrost COPY {ours:6.2f} s   "
                f"{args.rows / ours / 1e6:5.2f} M rows/s   ratio {ratio:4.2f}x "
                f"(target >= 0.8x) {verdict}"
            )
        print(f"PUT of {args.put_mib} MiB over the wire ...", flush=True)
        rate, baseline, peak = bench_put(directory, args.put_mib)
        growth = (peak - baseline) / (1 << 20)
        verdict = "ok" if growth < 100 else "ABOVE TARGET"
        print(
            f"PUT           {rate:7.1f} MB/s   server RSS {baseline / (1 << 20):.0f} MiB -> "
            f"peak {peak / (1 << 20):.0f} MiB (growth {growth:.0f} MiB, target < 100 MiB) {verdict}"
        )


if __name__ == "__main__":
    main()
