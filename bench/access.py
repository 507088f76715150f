"""Privilege checks (issue 11): what they add to each statement.

    .venv/bin/python bench/access.py [--runs 3000]

One account, two in-process connections side by side: the administrator (ACCOUNTADMIN, whose
checks stop at the first test) and an analyst whose custom role inherits another and reaches the
table through grants on the database, the schema and the table (every check walks the role
hierarchy and the grants). Both run ``SELECT 1`` and ``SELECT v FROM t WHERE k = 1``,
interleaved, medians printed; target: the analyst's statements within 5% of the
administrator's. Checks read a per-account memo that GRANT / REVOKE empty, so the first
statement after a grant pays the catalog queries and the rest do not.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src")]

import hoarfrost  # noqa: E402

SETUP = [
    "CREATE DATABASE bench_db",
    "CREATE TABLE bench_db.public.t (k INT, v VARCHAR)",
    "INSERT INTO bench_db.public.t SELECT range, 'v' || range FROM range(1000)",
    "CREATE ROLE reader",
    "CREATE ROLE analyst",
    "GRANT ROLE reader TO ROLE analyst",
    "CREATE USER ann DEFAULT_ROLE = analyst",
    "GRANT ROLE analyst TO USER ann",
    "GRANT USAGE ON DATABASE bench_db TO ROLE reader",
    "GRANT USAGE ON SCHEMA bench_db.public TO ROLE reader",
    "GRANT SELECT ON TABLE bench_db.public.t TO ROLE reader",
]


def timed(con: Any, sql: str) -> float:
    start = time.perf_counter()
    con.execute(sql).fetchall()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=3000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="hoarfrost-bench-access-") as tmp:
        home = Path(tmp) / "acct"
        with hoarfrost.connect(home) as admin:
            for sql in SETUP:
                admin.execute(sql)
            admin.execute("USE DATABASE bench_db")
            with hoarfrost.connect(home, user="ann", database="bench_db") as ann:
                assert ann.execute("SELECT CURRENT_ROLE()").fetchone()[0] == "ANALYST"
                for label, sql in (
                    ("SELECT 1:              ", "SELECT 1"),
                    ("SELECT from a table:   ", "SELECT v FROM t WHERE k = 1"),
                ):
                    for _ in range(100):  # warm both
                        timed(admin, sql), timed(ann, sql)
                    mine, theirs = [], []
                    for _ in range(args.runs):
                        theirs.append(timed(admin, sql))
                        mine.append(timed(ann, sql))
                    a, b = statistics.median(theirs) * 1e3, statistics.median(mine) * 1e3
                    ratio = b / a
                    verdict = "ok" if ratio <= 1.05 else "MISSED"
                    print(
                        f"{label} analyst (checks through 2 roles and 3 grants) {b:.3f} ms | "
                        f"ACCOUNTADMIN {a:.3f} ms (medians of {args.runs}) | "
                        f"{ratio:.3f}x (target <= 1.05x) {verdict}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
