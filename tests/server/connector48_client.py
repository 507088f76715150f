"""Run inside the connector-4.8 venv (tests/server/test_connector_48.py): the checks of
test_arrow.py with the 4.8.x line Snowpark pins; prints one JSON line of what it saw."""

from __future__ import annotations

import datetime as dt
import json
import sys
from decimal import Decimal

import snowflake.connector


def main() -> None:
    port, user, password, big = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    con = snowflake.connector.connect(
        host="127.0.0.1",
        port=int(port),
        protocol="http",
        account="hoarfrost",
        user=user,
        password=password,
        login_timeout=10,
    )
    cur = con.cursor()
    out: dict[str, object] = {"version": snowflake.connector.__version__}
    row = cur.execute(
        "select 12.34::number(10,2) n, 42 i, 'héllo' s, true b, '2024-02-29'::date d, "
        "'13:14:15.123456'::time t, '2024-01-02 03:04:05.123456'::timestamp_ntz ntz, "
        "'2024-01-02 03:04:05.123456+02:00'::timestamp_tz tz, parse_json('{\"a\": 1}') v, "
        "null::int nul"
    ).fetchone()
    assert row is not None
    expected = (
        Decimal("12.34"),
        42,
        "héllo",
        True,
        dt.date(2024, 2, 29),
        dt.time(13, 14, 15, 123456),
        dt.datetime(2024, 1, 2, 3, 4, 5, 123456),
    )
    out["scalars"] = list(row[:7]) == list(expected)
    out["tz_utc"] = row[7].astimezone(dt.timezone.utc).isoformat()
    out["variant"] = json.loads(row[8])
    out["null"] = row[9]
    sql = f"select range id, 'r' || range s from range({big}) order by id"
    ids = [r[0] for r in cur.execute(sql).fetchall()]
    out["fetchall"] = ids == list(range(big))
    out["pandas"] = cur.execute(sql).fetch_pandas_all()["ID"].tolist() == list(range(big))
    out["arrow"] = cur.execute(sql).fetch_arrow_all().num_rows
    out["pandas_batches"] = sum(len(p) for p in cur.execute(sql).fetch_pandas_batches())
    batches = cur.execute(sql).get_result_batches()
    out["result_batches"] = [len(batches), sum(b.rowcount for b in batches)]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
