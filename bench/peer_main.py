"""Runs inside the peer venv (bench/peers.py): fakesnow in-process, driven over stdin/stdout.

Requests: {"op": "select1", "n": N} -> per-statement seconds; {"op": "load", "dir": D} -> TPC-H
tables from D's parquet files; {"op": "query", "sql": Q} -> seconds and rows (as repr text).
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import fakesnow
import snowflake.connector

warnings.simplefilter("ignore")
TABLES = ["region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem"]


def main() -> None:
    with fakesnow.patch():
        con = snowflake.connector.connect(database="BENCH", schema="PUBLIC")
        cur = con.cursor()
        for line in sys.stdin:
            request = json.loads(line)
            try:
                answer = handle(cur, request)
            except Exception as exc:
                answer = {"error": f"{type(exc).__name__}: {exc}"}
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()


def handle(cur: Any, request: dict[str, Any]) -> dict[str, Any]:
    op = request["op"]
    if op == "select1":
        times = []
        for _ in range(int(request["n"])):
            start = time.perf_counter()
            cur.execute("SELECT 1").fetchall()
            times.append(time.perf_counter() - start)
        return {"times": times}
    if op == "load":
        for table in TABLES:
            path = Path(request["dir"]) / f"{table}.parquet"
            cur.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_parquet('{path}')")
        return {}
    if op == "query":
        start = time.perf_counter()
        rows = cur.execute(request["sql"]).fetchall()
        return {"seconds": time.perf_counter() - start, "rows": len(rows)}
    raise ValueError(op)


if __name__ == "__main__":
    main()
