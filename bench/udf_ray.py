"""``bench/udf.py --backend ray``: the local pool vs a Ray cluster of one, then two nodes.

Each configuration is a fresh ``:memory:`` account with the same table and functions; the
cluster is started here on loopback (one CPU a node, its own temporary directory) and stopped
by killing what was started. Printed per function: the best of ``--repeat`` runs, rows per
second, the ratio to the local pool, and the wall time per 64k-row batch. With one actor per
node and one node, batches go one at a time, so that time is the whole cost of one batch on the
cluster (engine read, object store both ways, conversion and the code on the node); with the
local pool's ``worker_pool_size`` workers in flight, the local figure times that many.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.pypiserver import PypiServer
from tests.support.ray_cluster import RayCluster

import hoarfrost
from hoarfrost.config import Settings
from hoarfrost.engine.batched import BATCH_ROWS

__all__ = ["ray_bench"]

FUNCTIONS = ("plus1", "plus1_vec")


def _measure(con: hoarfrost.Connection, rows: int, repeat: int) -> dict[str, tuple[float, object]]:
    con.execute("SELECT sum(plus1(x)) + sum(plus1_vec(x)) FROM t WHERE x < 200000").fetchall()
    found = {}
    for fn in FUNCTIONS:
        best, value = float("inf"), None
        for _ in range(repeat):
            start = time.perf_counter()
            value = con.execute(f"SELECT sum({fn}(x)) FROM t").fetchall()[0][0]
            best = min(best, time.perf_counter() - start)
        found[fn] = (best, value)
    return found


def _account(cache: Path, **settings: Any) -> hoarfrost.Connection:
    return hoarfrost.connect(":memory:", cache_dir=cache, **settings)


def _run(
    label: str,
    connect: Callable[[], hoarfrost.Connection],
    server: PypiServer,
    args: Any,
    prepare: Callable[[hoarfrost.Connection, PypiServer, int], None],
) -> dict[str, tuple[float, object]]:
    con = connect()
    try:
        prepare(con, server, args.rows)
        result = _measure(con, args.rows, args.repeat)
    finally:
        con.close()
        con.engine.close()
    print(f"measured: {label}", flush=True)
    return result


def ray_bench(
    server: PypiServer,
    args: Any,
    prepare: Callable[[hoarfrost.Connection, PypiServer, int], None],
) -> None:
    batches = -(-args.rows // BATCH_ROWS)
    args.cache.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, tuple[float, object]]] = {}
    results["local"] = _run("local", lambda: _account(args.cache), server, args, prepare)
    base = Path(tempfile.mkdtemp(prefix="hfbench-"))  # short: Ray's socket paths
    try:
        cluster = RayCluster(base, nodes=2).start(1)
        try:
            ray_settings = {
                "worker_backend": "ray",
                "ray_address": cluster.address,
                "ray_node_cache_dir": str(base / "node-cache"),
            }
            results["ray, 1 node"] = _run(
                "ray, 1 node", lambda: _account(args.cache, **ray_settings), server, args, prepare
            )
            cluster.add()
            results["ray, 2 nodes"] = _run(
                "ray, 2 nodes", lambda: _account(args.cache, **ray_settings), server, args, prepare
            )
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    _report(results, args.rows, batches)


def _report(results: dict[str, dict[str, tuple[float, object]]], rows: int, batches: int) -> None:
    local = results["local"]
    workers = int(Settings().worker_pool_size)
    print(
        f"rows={rows:,} batches={batches} cores={os.cpu_count()} "
        f"local pool: {workers} workers; ray: one actor per node, nodes of one CPU"
    )
    for fn in FUNCTIONS:
        for config, found in results.items():
            seconds, value = found[fn]
            if value != local[fn][1]:
                raise SystemExit(f"{fn}: {config} gave {value}, the local pool {local[fn][1]}")
            in_flight = workers if config == "local" else int(config.split()[1])
            print(
                f"{fn:<10} {config:<13} {seconds:6.2f} s ({rows / seconds / 1e6:5.2f} M rows/s) "
                f"| ratio to local {local[fn][0] / seconds:4.2f}x "
                f"| {seconds / batches * 1e3 * in_flight:6.1f} ms per batch per worker",
                flush=True,
            )
