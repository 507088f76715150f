"""UDF benchmark (issue 4): hoarfrost's Python functions vs DuckDB's in-process Python UDFs.

    .venv/bin/python bench/udf.py [--rows 10000000] [--repeat 2] [--latency-runs 500]

Everything goes through the real engine: ``hoarfrost.connect(":memory:")``, ``CREATE FUNCTION
... LANGUAGE PYTHON`` and ``SELECT`` (so SQL rewriting, the batch planning of
hoarfrost.sql.batching, the packages policy check, the pickled batches over pipes and the
isolated workers are all in the measurement). ``SELECT sum(f(x)) FROM t`` is a shape whose calls
the engine evaluates in 64k-row batches; the same queries with batching off (one round trip per
2,048-row DuckDB vector, as for shapes that do not qualify) are timed afterwards, for
information. The
peer is a plain ``duckdb.connect()`` in this same process with the same data and the same
function registered through DuckDB's Python UDF API. Measured side by side in one run:

* scalar      ``SELECT sum(f(x)) FROM t`` with ``f = x + 1``: ours vs DuckDB's native
              (row-at-a-time) Python UDF; throughput ratio, target >= 1.0x;
* vectorized  ours with ``@vectorized(input=pandas.DataFrame)`` vs DuckDB's Arrow UDF
              (``type="arrow"``); target >= 0.8x;
* join        ``SELECT sum(f(t.x) + d.w) FROM t JOIN d ON t.x % 1000 = d.x`` (qualified,
              same-named columns; ``d`` has 1,000 rows) with the scalar ``f``: ours vs DuckDB's
              native Python UDF on the same query; target >= 1.0x;
* case        ``SELECT sum(CASE WHEN x % 2 = 0 THEN f(x) ELSE 0 END) FROM t`` (the call on half
              the rows, as DuckDB evaluates it): ours vs DuckDB's native Python UDF; target >= 1.0x;
* ctas        ``CREATE OR REPLACE TABLE w AS SELECT x, f(x) AS y FROM t`` (a dbt table model;
              INSERT ... SELECT goes the same way): ours vs DuckDB's native Python UDF;
              target >= 1.0x (after the memory measurement: each side then holds the table);
* latency     warm ``SELECT f(1)`` vs ``SELECT 1`` through the same hoarfrost connection
              (medians); target <= 2 ms more;
* memory      peak RSS of this process plus its worker processes, sampled from /proc during the
              runs (the bench's own pypiserver is not counted); target < 1 GiB;
* snowpark    (``--snowpark``) bench/snowpark.py's lines: a Snowpark-registered UDF vs the same
              UDF made with SQL (target >= 0.95x) and the first call of a procedure with a real
              Snowpark Session, run in its own process (it needs `hoarfrost serve` and the
              Snowpark venv);
* cold start  a new worker pool's first call (start the worker, apply its sandbox, load the
              function, answer) with the kernel sandbox vs without it (``sandbox=False``: the
              worker still has Landlock and its memory limit); medians, target <= +30 ms.

With ``--backend ray`` the bench measures instead the same two queries on the local pool and on
a real Ray cluster started here on loopback (tests/support/ray_cluster.py: nodes of one CPU,
one actor per node), with one node and then two, and prints the throughputs, their ratios to
the local pool and the per-batch costs the README's sizing note is made from. On a 2-core
machine two nodes add no CPU: that line shows the overhead of the cluster, not its scaling.

The vectorized function needs pandas in its environment: like ``tests/functions``, the bench
downloads the pandas/numpy wheels from PyPI once into ``~/.cache/hoarfrost-test-wheels``, serves
them with a local pypiserver (password protected, started and stopped here) and lets the engine
build the environment (cached under ``bench/.cache/udf`` between runs).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

import duckdb  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
from duckdb.func import ARROW, NATIVE  # noqa: E402
from duckdb.sqltypes import BIGINT  # noqa: E402
from tests.support.downloads import download_wheels  # noqa: E402
from tests.support.pypiserver import PypiServer  # noqa: E402

import hoarfrost  # noqa: E402
from hoarfrost.engine.resolution import packages_of  # noqa: E402
from hoarfrost.workers.pool import WorkerPool  # noqa: E402
from hoarfrost.workers.spec import FunctionSpec  # noqa: E402
from hoarfrost.workers.types import SqlType  # noqa: E402

USER, PASSWORD = "bench-bot", "Bench-Repo-Pa55word"
WHEEL_CACHE = Path(
    os.environ.get("HOARFROST_TEST_WHEELS", Path.home() / ".cache" / "hoarfrost-test-wheels")
)
SETUP = [
    f"CREATE SECRET bench_secret TYPE = PASSWORD USERNAME = '{USER}' PASSWORD = '{PASSWORD}'",
    "CREATE API INTEGRATION bench_integration API_PROVIDER = ARTIFACT_REPOSITORY_API "
    "API_ALLOWED_PREFIXES = ('{url}') ALLOWED_AUTHENTICATION_SECRETS = (bench_secret) "
    "ENABLED = TRUE",
    "CREATE ARTIFACT REPOSITORY bench_repo TYPE = PYPI API_INTEGRATION = bench_integration "
    "INDEX_URL = '{index}' AUTHENTICATION_SECRET = bench_secret",
]
SCALAR = """
CREATE FUNCTION plus1(x INT) RETURNS INT LANGUAGE PYTHON RUNTIME_VERSION = '3.11'
HANDLER = 'f' AS $$
def f(x):
    return x + 1
$$"""
DIMENSION = "CREATE TABLE d AS SELECT range AS x, range * 2 AS w FROM range(1000)"
JOIN = "SELECT sum({fn}(t.x) + d.w) FROM t JOIN d ON t.x % 1000 = d.x"
CASE = "SELECT sum(CASE WHEN x % 2 = 0 THEN {fn}(x) ELSE 0 END) FROM t"
CTAS = "CREATE OR REPLACE TABLE w AS SELECT x, {fn}(x) AS y FROM t"
VECTORIZED = """
CREATE FUNCTION plus1_vec(x INT) RETURNS INT LANGUAGE PYTHON RUNTIME_VERSION = '3.11'
ARTIFACT_REPOSITORY = bench_repo PACKAGES = ('pandas') HANDLER = 'f' AS $$
import pandas
from _snowflake import vectorized

@vectorized(input=pandas.DataFrame)
def f(df):
    return df[0] + 1
$$"""


# -- the repository holding pandas ---------------------------------------------------------------


def pandas_wheels() -> Path:
    """pandas and its dependencies for CPython 3.11 on this platform, downloaded once."""
    return download_wheels(WHEEL_CACHE, ["pandas"])


# -- memory: RSS of this process and its descendants, from /proc ---------------------------------


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


class MemorySampler:
    """Peak of (RSS of this process + RSS of its descendants), sampled in a thread."""

    def __init__(self, exclude: set[int], interval: float = 0.05):
        self.exclude = exclude
        self.interval = interval
        self.peak_kib = 0
        self.peak_workers = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        tree = _children()
        total, todo, workers = _rss_kib(os.getpid()), list(tree.get(os.getpid(), [])), 0
        while todo:
            pid = todo.pop()
            if pid in self.exclude:
                continue
            total += _rss_kib(pid)
            workers += 1
            todo.extend(tree.get(pid, []))
        if total > self.peak_kib:
            self.peak_kib, self.peak_workers = total, workers

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


# -- measuring -----------------------------------------------------------------------------------


def timed(run: Callable[[], Any]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def throughput(
    label: str,
    ours: Callable[[], Any],
    peer: Callable[[], Any],
    peer_name: str,
    rows: int,
    repeat: int,
    target: float,
) -> None:
    # Interleaved, best of ``repeat`` each: both sides see the same machine weather.
    ours_s, peer_s = float("inf"), float("inf")
    ours_v = peer_v = None
    for _ in range(repeat):
        start = time.perf_counter()
        ours_v = ours()
        ours_s = min(ours_s, time.perf_counter() - start)
        start = time.perf_counter()
        peer_v = peer()
        peer_s = min(peer_s, time.perf_counter() - start)
    if ours_v != peer_v:
        raise SystemExit(f"{label}: results differ: hoarfrost {ours_v} vs peer {peer_v}")
    ratio = peer_s / ours_s
    print(
        f"{label} hoarfrost {ours_s:6.2f} s ({rows / ours_s / 1e6:5.2f} M rows/s) | "
        f"{peer_name} {peer_s:6.2f} s ({rows / peer_s / 1e6:5.2f} M rows/s) | "
        f"ratio {ratio:4.2f}x (target >= {target}x) {verdict(ratio >= target)}",
        flush=True,
    )


def latency(con: hoarfrost.Connection, runs: int) -> None:
    def once(sql: str) -> float:
        start = time.perf_counter()
        con.execute(sql).fetchall()
        return time.perf_counter() - start

    for _ in range(20):  # warm: workers started, function loaded, statement paths exercised
        once("SELECT plus1(1)")
        once("SELECT 1")
    base, ours = [], []
    for _ in range(runs):
        base.append(once("SELECT 1"))
        ours.append(once("SELECT plus1(1)"))
    b, o = statistics.median(base) * 1e3, statistics.median(ours) * 1e3
    print(
        f"latency:    SELECT plus1(1) {o:.3f} ms | SELECT 1 {b:.3f} ms (medians of {runs}) | "
        f"+{o - b:.3f} ms (target <= 2 ms) {verdict(o - b <= 2.0)}",
        flush=True,
    )


def cold_start(con: hoarfrost.Connection, runs: int) -> None:
    executable = packages_of(con.engine).runtime("3.11").executable
    int_type = SqlType.parse("INT")
    spec = FunctionSpec(
        "F", "def f(x):\n    return x + 1\n", "f", arg_types=(int_type,), returns=int_type
    )

    def once(sandbox: bool) -> float:
        start = time.perf_counter()
        with WorkerPool(executable, None, timeout=30.0, sandbox=sandbox) as pool:
            if list(pool.call(spec, [[1]], 1)) != [2]:
                raise SystemExit("cold start: wrong answer")
            elapsed = time.perf_counter() - start
            layers = pool.layers
        if sandbox and "seccomp" not in layers:
            raise SystemExit(f"cold start: the sandbox is not in force here ({layers})")
        return elapsed

    once(True), once(False)  # warm the page cache for both
    plain, boxed = [], []
    for _ in range(runs):  # interleaved: both see the same machine weather
        plain.append(once(False))
        boxed.append(once(True))
    p, b = statistics.median(plain) * 1e3, statistics.median(boxed) * 1e3
    print(
        f"cold start: sandboxed worker {b:.1f} ms | unsandboxed {p:.1f} ms (medians of {runs}) | "
        f"+{b - p:.1f} ms (target <= +30 ms) {verdict(b - p <= 30.0)}",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per side (best is kept)")
    ap.add_argument("--latency-runs", type=int, default=500)
    ap.add_argument("--cold-runs", type=int, default=15, help="cold starts timed per side")
    ap.add_argument(
        "--snowpark", action="store_true", help="also run bench/snowpark.py and print its lines"
    )
    ap.add_argument("--cache", type=Path, default=ROOT / "bench" / ".cache" / "udf")
    ap.add_argument(
        "--backend",
        choices=["local", "ray"],
        default="local",
        help="ray: local pool vs a Ray cluster of 1 and 2 nodes started here (see above)",
    )
    args = ap.parse_args()
    if args.backend == "ray":
        from bench.udf_ray import ray_bench

        with tempfile.TemporaryDirectory(prefix="hoarfrost-bench-udf-") as tmp:
            server = PypiServer(pandas_wheels(), Path(tmp) / "pypiserver", auth=(USER, PASSWORD))
            with server:
                ray_bench(server, args, prepare)
        return

    wheels = pandas_wheels()
    with tempfile.TemporaryDirectory(prefix="hoarfrost-bench-udf-") as tmp:
        server = PypiServer(wheels, Path(tmp) / "pypiserver", auth=(USER, PASSWORD))
        with server:
            assert server._process is not None
            exclude = {server._process.pid}
            args.cache.mkdir(parents=True, exist_ok=True)
            con = hoarfrost.connect(":memory:", cache_dir=args.cache)
            try:
                run(con, server, exclude, args)
            finally:
                con.close()
                con.engine.close()  # an in-memory engine outlives its connection: stop workers
            per_vector(server, args)
    if args.snowpark:
        done = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "snowpark.py")],
            capture_output=True,
            text=True,
            check=False,
        )
        for line in done.stdout.splitlines():
            print(line, flush=True)
        if done.returncode:
            raise SystemExit(f"bench/snowpark.py failed:\n{done.stderr[-2000:]}")


def prepare(con: hoarfrost.Connection, server: PypiServer, rows: int) -> None:
    for statement in SETUP:
        con.execute(statement.format(url=server.url, index=server.index_url))
    con.execute(f"CREATE TABLE t AS SELECT range AS x FROM range({rows})")
    con.execute(DIMENSION)
    con.execute(SCALAR)
    con.execute(VECTORIZED)  # builds the pandas environment on the first run


def per_vector(server: PypiServer, args: Any) -> None:
    """For information: the same queries with batching off (one round trip per DuckDB vector),
    in an account of its own, after the measured part."""
    con = hoarfrost.connect(":memory:", cache_dir=args.cache, udf_batch_memory=0)
    try:
        prepare(con, server, args.rows)
        con.execute("SELECT sum(plus1(x)) + sum(plus1_vec(x)) FROM t WHERE x < 100000").fetchall()
        shapes = [
            ("plus1", "SELECT sum({fn}(x)) FROM t"),
            ("plus1_vec", "SELECT sum({fn}(x)) FROM t"),
            ("plus1 join", JOIN),
            ("plus1 case", CASE),
            ("plus1 ctas", CTAS),
        ]
        for label, shape in shapes:
            sql = shape.format(fn=label.split()[0])
            best = min(timed(lambda sql=sql: con.execute(sql)) for _ in range(args.repeat))
            print(f"info:       {label} per DuckDB vector (batching off) {best:6.2f} s", flush=True)
    finally:
        con.close()
        con.engine.close()


def run(con: hoarfrost.Connection, server: PypiServer, exclude: set[int], args: Any) -> None:
    setup = time.perf_counter()
    prepare(con, server, args.rows)
    print(f"setup (table, functions, environment): {time.perf_counter() - setup:.1f} s")

    peer = duckdb.connect()
    peer.execute(f"CREATE TABLE t AS SELECT range AS x FROM range({args.rows})")
    peer.execute(DIMENSION)
    peer.create_function("plus1", lambda x: x + 1, [BIGINT], BIGINT, type=NATIVE)
    peer.create_function(
        "plus1_arrow", lambda x: pc.add(x, pa.scalar(1, pa.int64())), [BIGINT], BIGINT, type=ARROW
    )

    def ours(fn: str) -> Callable[[], Any]:
        return lambda: con.execute(f"SELECT sum({fn}(x)) FROM t").fetchall()[0][0]

    def theirs(fn: str) -> Callable[[], Any]:
        return lambda: peer.execute(f"SELECT sum({fn}(x)) FROM t").fetchall()[0][0]

    def both(shape: str) -> tuple[Callable[[], Any], Callable[[], Any]]:
        sql = shape.format(fn="plus1")
        return (
            lambda: con.execute(sql).fetchall()[0][0],
            lambda: peer.execute(sql).fetchall()[0][0],
        )

    threads = peer.execute("SELECT current_setting('threads')").fetchall()[0][0]
    print(
        f"rows={args.rows:,} cores={os.cpu_count()} duckdb {duckdb.__version__} "
        f"threads={threads} worker_pool_size={con.engine.settings.worker_pool_size}"
    )
    with MemorySampler(exclude) as memory:
        # Warm: the first query of each function starts workers (and imports pandas in them).
        con.execute("SELECT sum(plus1(x)) + sum(plus1_vec(x)) FROM t WHERE x < 100000").fetchall()
        throughput(
            "scalar:    ",
            ours("plus1"),
            theirs("plus1"),
            "DuckDB native Python UDF",
            args.rows,
            args.repeat,
            1.0,
        )
        throughput(
            "vectorized:",
            ours("plus1_vec"),
            theirs("plus1_arrow"),
            "DuckDB Arrow UDF",
            args.rows,
            args.repeat,
            0.8,
        )
        for label, shape in (("join:      ", JOIN), ("case:      ", CASE)):
            ours_q, theirs_q = both(shape)
            throughput(
                label, ours_q, theirs_q, "DuckDB native Python UDF", args.rows, args.repeat, 1.0
            )
        latency(con, args.latency_runs)
    mib = memory.peak_kib / 1024
    print(
        f"memory:     peak RSS engine + {memory.peak_workers} worker processes {mib:.0f} MiB "
        f"(target < 1024 MiB) {verdict(mib < 1024)}",
        flush=True,
    )
    # After the memory measurement: both sides then hold a table of --rows rows.
    ctas = CTAS.format(fn="plus1")

    def written(side: Any) -> Callable[[], Any]:  # the table made, then its checksum
        return lambda: side.execute(ctas).execute("SELECT sum(y) FROM w").fetchall()[0][0]

    throughput(
        "ctas:      ",
        written(con),
        written(peer),
        "DuckDB native Python UDF",
        args.rows,
        args.repeat,
        1.0,
    )
    for side in (con, peer):
        side.execute("DROP TABLE w")
    peer.close()
    cold_start(con, args.cold_runs)


if __name__ == "__main__":
    main()
