"""A statement sent again takes the server's quicker paths (issue 15): a result small last time
is read through DuckDB's cursor instead of a stream, a statement quick last time runs on the event
loop. What comes back must not change: the same Arrow, and every row when a result has grown."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx
import pyarrow as pa

import hoarfrost
from hoarfrost.engine.context import PROCEDURE_WIRE
from hoarfrost.server.inline import InlineStatements
from tests.server.conftest import Connect, ServedAccount, raw_login

# Every column type a result can have, those read from Python values and those that only
# DuckDB's Arrow gives (time zones, semi-structured values).
EVERY_TYPE = """select 12.34::number(10,2) n, 42 i, 7::tinyint t, 300::smallint sm,
  9000000000::bigint bi, 123456789012::number(18,0) n18, 12345.678::number(38,3) n38,
  123456789012345678901234567890::number(38,0) big, 1.5::float f, 'NaN'::float nan, 'héllo' s,
  true b, '2024-02-29'::date d, '13:14:15.123'::time tm,
  '2024-02-29 13:14:15.123456'::timestamp_ntz ts, to_binary('DEADBEEF', 'HEX') bin,
  null::int nul, null::varchar nuls"""
SEMI = "select parse_json('{\"a\": [1, 2]}') v, '2024-02-29 13:14:15 +02:00'::timestamp_tz tz"


def _arrow(session: tuple[str, str], sql: str) -> pa.Table:
    base, token = session
    response = httpx.post(
        f"{base}/queries/v1/query-request",
        json={"sqlText": sql, "sequenceId": 1},
        headers={"Authorization": f'Snowflake Token="{token}"'},
    )
    data: dict[str, Any] = response.json()["data"]
    assert data["queryResultFormat"] == "arrow", data
    return pa.ipc.open_stream(base64.b64decode(data["rowsetBase64"])).read_all()


def test_a_repeated_query_sends_the_same_arrow(served: ServedAccount) -> None:
    session = raw_login(served)
    for sql in (EVERY_TYPE, SEMI):
        first = _arrow(session, sql)  # streamed from DuckDB
        for _ in range(3):  # read through the cursor, and on the event loop
            again = _arrow(session, sql)
            assert again.schema.equals(first.schema, check_metadata=True), sql
            # (as text: NaN is not equal to itself)
            assert repr(again.to_pylist()) == repr(first.to_pylist()) and again.num_rows == 1


def test_a_result_that_grows_comes_whole_and_in_order(connect: Connect) -> None:
    cur = connect().cursor()
    cur.execute("create or replace table growing (id int, s varchar)")
    cur.execute("insert into growing select range, 'r' || range from range(10)")
    sql = "select id, s from growing order by id"
    for _ in range(3):  # small each time
        assert cur.execute(sql).fetchall() == [(i, f"r{i}") for i in range(10)]
    cur.execute("insert into growing select range, 'r' || range from range(10, 150000)")
    rows = cur.execute(sql).fetchall()  # read on from the cursor, past the inline rows
    assert rows == [(i, f"r{i}") for i in range(150000)]
    frame = cur.execute(sql).fetch_pandas_all()  # streamed again: no longer small
    assert frame["ID"].tolist() == list(range(150000))
    cur.execute("delete from growing where id >= 5")
    assert cur.execute(sql).fetchall() == [(i, f"r{i}") for i in range(5)]


def test_a_result_that_grows_in_one_session_is_whole_in_another(connect: Connect) -> None:
    one, two = connect().cursor(), connect().cursor()
    one.execute("create or replace table shared_growing (id int)")
    sql = "select id from shared_growing order by id"
    assert one.execute(sql).fetchall() == [] and one.execute(sql).fetchall() == []
    two.execute("insert into shared_growing select range from range(20000)")
    assert [r[0] for r in one.execute(sql).fetchall()] == list(range(20000))


def test_quick_statements_are_remembered_and_slow_ones_forgotten() -> None:
    inline = InlineStatements(limit=0.002)
    assert not inline.inline("select 1")  # never run: to a thread
    inline.observe("select 1", 0.0005)
    assert inline.inline("select 1")
    inline.observe("select 1", 0.5)  # slow this time: to a thread next time
    assert not inline.inline("select 1")
    inline.observe("select 'x'" + " " * 5000, 0.0001)  # long texts are not kept
    assert not inline.inline("select 'x'" + " " * 5000)
    assert not inline.inline(None)
    for i in range(5000):  # bounded: a new working set replaces the old one
        inline.observe(f"select {i}", 0.0001)
    assert inline.inline("select 4999")


def test_a_procedure_call_on_the_event_loop_reaches_the_engine() -> None:
    # A CALL quick last time runs on the server's event loop; a Snowpark session inside it
    # sends its requests through the bridge, which must then use a loop of its own.
    con = hoarfrost.connect(":memory:")
    try:
        bridge = con.engine.service(PROCEDURE_WIRE, lambda engine: None)
        request = {
            "method": "POST",
            "url": "http://hoarfrost.engine/session/heartbeat",
            "headers": {"Content-Type": "application/json"},
            "body": b"{}",
        }

        async def on_the_loop() -> dict[str, Any]:
            answer: dict[str, Any] = bridge.handle(request)
            return answer

        answer = asyncio.run(on_the_loop())
        assert answer["status"] == 200
        body = json.loads(answer["body"])
        assert body["success"] is False and "Authorization" in body["message"]
    finally:
        con.close()
