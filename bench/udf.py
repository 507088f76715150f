"""UDF throughput and latency: hoarfrost's worker pool vs DuckDB's in-process Python UDFs.

Measured side by side in one run (issue 4's acceptance: scalar >= 1.0x DuckDB's native Python
UDF, vectorized >= 0.8x its Arrow UDF, warm ``f(1)`` within 2 ms of ``SELECT 1``).

This is the pool half: the pool is driven through a DuckDB Arrow UDF exactly as the engine will
(Arrow batch -> Python columns -> worker -> Arrow), without the engine's SQL layer. When the
engine registers functions itself, replace ``_register_pool_udf`` with a real
``CREATE FUNCTION`` and keep the rest.

    .venv/bin/python bench/udf.py --rows 10000000 [--python PATH] [--env DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import sysconfig
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from duckdb.func import ARROW

from hoarfrost.workers.pool import WorkerPool
from hoarfrost.workers.runner import Runner
from hoarfrost.workers.spec import FunctionSpec
from hoarfrost.workers.types import SqlType, arrow_to_python_columns, python_to_arrow

BIGINT = SqlType.parse("BIGINT")
SCALAR = FunctionSpec(
    "PLUS1", "def f(x):\n    return x + 1\n", "f", arg_types=(BIGINT,), returns=BIGINT
)
VECTORIZED = FunctionSpec(
    "PLUS1_VEC",
    "import pandas\nfrom _snowflake import vectorized\n\n"
    "@vectorized(input=pandas.DataFrame)\ndef f(df):\n    return df[0] + 1\n",
    "f",
    arg_types=(BIGINT,),
    returns=BIGINT,
)


def _register_pool_udf(
    con: duckdb.DuckDBPyConnection, name: str, pool: Runner, spec: FunctionSpec
) -> None:
    def udf(*arrays: pa.Array) -> pa.Array:
        columns = arrow_to_python_columns(list(arrays), spec.arg_types)
        return python_to_arrow(pool.call(spec, columns, len(arrays[0])), BIGINT)

    con.create_function(name, udf, ["BIGINT"], "BIGINT", type=ARROW)


def _timed(con: duckdb.DuckDBPyConnection, sql: str, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        con.execute(sql).fetchall()
        best = min(best, time.perf_counter() - start)
    return best


def _peak_rss_mib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # largest reaped worker
    return (own + children) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--python", type=Path, default=Path(sys.executable), help="worker runtime")
    ap.add_argument(
        "--env",
        type=Path,
        default=Path(sysconfig.get_paths()["purelib"]),
        help="environment with pandas (default: this venv's site-packages)",
    )
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()

    con = duckdb.connect()
    con.execute(f"CREATE TABLE t AS SELECT range::BIGINT AS x FROM range({args.rows})")
    con.create_function("native_plus1", lambda x: x + 1, ["BIGINT"], "BIGINT")
    con.create_function("arrow_plus1", lambda x: pc.add(x, 1), ["BIGINT"], "BIGINT", type=ARROW)
    pool = WorkerPool(args.python, args.env, size=args.workers, timeout=600)
    try:
        _register_pool_udf(con, "pool_plus1", pool, SCALAR)
        _register_pool_udf(con, "pool_plus1_vec", pool, VECTORIZED)
        print(f"rows={args.rows:,} workers={args.workers} runtime={args.python}")
        print(f"isolation: {pool.isolation}")
        _compare(con, "scalar", "pool_plus1", "native_plus1 (DuckDB Python UDF)", 1.0)
        _compare(con, "vectorized", "pool_plus1_vec", "arrow_plus1 (DuckDB Arrow UDF)", 0.8)
        _latency(con)
        print(f"peak RSS (engine + largest worker): {_peak_rss_mib():.0f} MiB (target < 1024)")
    finally:
        pool.close()


def _compare(
    con: duckdb.DuckDBPyConnection, label: str, ours: str, peer: str, target: float
) -> None:
    q: Callable[[str], str] = lambda f: f"SELECT sum({f}(x)) FROM t"  # noqa: E731
    # Best of 3: the first run also starts workers and imports pandas in each of them.
    ours_s = _timed(con, q(ours), repeat=3)
    peer_s = _timed(con, q(peer.split()[0]), repeat=3)
    ratio = peer_s / ours_s
    print(
        f"{label:>10}: hoarfrost {ours_s:7.2f}s  vs {peer} {peer_s:7.2f}s  "
        f"throughput ratio {ratio:4.2f}x (target >= {target}x)"
    )


def _latency(con: duckdb.DuckDBPyConnection, repeat: int = 200) -> None:
    _timed(con, "SELECT pool_plus1(1)")  # warm
    base = _timed(con, "SELECT 1", repeat)
    ours = _timed(con, "SELECT pool_plus1(1)", repeat)
    print(
        f"   latency: SELECT f(1) {ours * 1e3:.3f} ms vs SELECT 1 {base * 1e3:.3f} ms: "
        f"+{(ours - base) * 1e3:.3f} ms (target <= 2 ms)"
    )


if __name__ == "__main__":
    main()
