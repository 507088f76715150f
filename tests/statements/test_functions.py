"""Semi-structured, date/time, numeric and string functions tools send, and the statement shapes
around them (alias reuse, MERGE ... UPDATE SET tgt.col)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

import hoarfrost
from tests.server.conftest import Connect


@pytest.fixture
def con() -> hoarfrost.Connection:
    connection = hoarfrost.connect(":memory:")
    connection.execute("create table kv (k varchar, v int, g int)")
    connection.execute("insert into kv values ('a', 1, 1), ('b', null, 1), ('c', 3, 2)")
    return connection


def one(con: hoarfrost.Connection, sql: str) -> object:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row[0]


def test_objects_and_arrays(con: hoarfrost.Connection) -> None:
    rows = con.execute("select g, object_agg(k, v) from kv group by g order by g").fetchall()
    assert [(g, json.loads(o)) for g, o in rows] == [(1, {"a": 1}), (2, {"c": 3})]
    assert json.loads(
        str(one(con, "select array_cat(array_construct(1, 2), array_construct('x'))"))
    )
    assert json.loads(
        str(one(con, "select array_cat(array_construct(1, 2), array_construct('x'))"))
    ) == [1, 2, "x"]
    assert json.loads(str(one(con, "select object_construct('a', 1, 'b', null)"))) == {"a": 1}
    built = [
        json.loads(r[0]) for r in con.execute("select object_construct('k', k, 'v', v) from kv")
    ]
    assert built == [{"k": "a", "v": 1}, {"k": "b"}, {"k": "c", "v": 3}]
    kept = one(con, "select object_construct_keep_null('a', 1, 'b', null)")
    assert json.loads(str(kept)) == {"a": 1, "b": None}
    assert one(con, 'select upper(parse_json(\'{"n": "abc"}\'):n)') == "ABC"
    assert one(con, "select array_size(parse_json('{\"a\": 1}'))") is None
    assert one(con, "select array_size(parse_json('[1, 2]'))") == 2


def test_flatten_renames_and_seq(con: hoarfrost.Connection) -> None:
    rows = con.execute(
        "select f.s, f.i, f.val from table(flatten(input => parse_json('[10, 20]'))) "
        "as f(s, k, p, i, val, t) order by f.i"
    ).fetchall()
    assert rows == [(1, 0, "10"), (1, 1, "20")]


def test_dates_and_times(con: hoarfrost.Connection) -> None:
    assert one(con, "select to_date('2024-05-01 10:11:12'::timestamp)") == dt.date(2024, 5, 1)
    assert one(con, "select 1748179630::timestamp") == dt.datetime(2025, 5, 25, 13, 27, 10)
    assert one(con, "select 1748179630123::timestamp_ntz") == dt.datetime(
        2025, 5, 25, 13, 27, 10, 123000
    )
    tz = one(con, "select '2024-01-01 10:00:00 +09:00'::timestamp_tz")
    assert isinstance(tz, dt.datetime)
    assert tz == dt.datetime(2024, 1, 1, 1, 0, tzinfo=dt.timezone.utc)
    assert one(con, "select dateadd(day, 1, '2024-01-01 10:00:00')") == dt.datetime(
        2024, 1, 2, 10, 0
    )


def test_numeric_and_string_functions(con: hoarfrost.Connection) -> None:
    distance = one(con, "select haversine(40.7128, -74.0060, 34.0522, -118.2437)")
    assert isinstance(distance, float) and 3930 < distance < 3950
    assert one(con, "select random(42) = random(42)") is True
    assert isinstance(one(con, "select random()"), int)
    assert one(con, "select regexp_substr('abc123def', '[a-z]+([0-9]+)', 1, 1, 'e')") == "123"
    assert one(con, "select regexp_substr('abc123def', '[a-z]+([0-9]+)')") == "abc123"
    assert one(con, "select trim(12.50)") == "12.50"
    assert one(con, "select 1.5::float4") == 1.5


def test_alias_reuse_and_merge_with_qualified_set(con: hoarfrost.Connection) -> None:
    assert con.execute("select v * 2 as dbl from kv where dbl > 2").fetchall() == [(6,)]
    joined = con.execute(
        "select a.k as ak, a.v + 2 as target from kv a join kv b on target = b.v"
    ).fetchall()
    assert joined == [("a", 1 + 2)]
    con.execute("create table tgt (id int, c int)")
    con.execute("insert into tgt values (1, 0), (2, 0)")
    merged = con.execute(
        "merge into tgt using (select 1 id, 5 c) s on tgt.id = s.id "
        "when matched then update set tgt.c = s.c"
    ).fetchall()
    assert merged == [(1,)]
    con.execute("update tgt set tgt.c = 9 where tgt.id = 2")
    assert con.execute("select id, c from tgt order by id").fetchall() == [(1, 5), (2, 9)]


def test_functions_over_the_wire(connect: Connect) -> None:
    cur = connect().cursor()
    row = cur.execute(
        "select object_construct('a', 1, 'b', null), 1748179630::timestamp, trim(3.10)"
    ).fetchone()
    assert row is not None
    assert json.loads(row[0]) == {"a": 1}
    assert row[1] == dt.datetime(2025, 5, 25, 13, 27, 10)
    assert row[2] == "3.10"


def test_variant_text_and_time_zones(con: hoarfrost.Connection) -> None:
    con.execute("create table vt (data variant)")
    con.execute('insert into vt select parse_json(\'{"name": "ann", "n": 1.5}\')')
    row = con.execute(
        "select to_varchar(data:name), data:name || '!', concat(data:name, 'x'), "
        "object_keys(data) from vt"
    ).fetchone()
    assert row is not None
    assert row[:3] == ("ann", "ann!", "annx") and json.loads(row[3]) == ["name", "n"]
    # CONVERT_TIMEZONE(target, ntz): the same instant (an NTZ is read in the session's UTC)
    instant = one(
        con, "select convert_timezone('America/New_York', '2024-01-01 12:00:00'::timestamp_ntz)"
    )
    assert instant == dt.datetime(2024, 1, 1, 12, 0, tzinfo=dt.timezone.utc)
    assert one(
        con, "select convert_timezone('UTC', 'Asia/Tokyo', '2024-01-01 12:00:00'::timestamp_ntz)"
    ) == dt.datetime(2024, 1, 1, 21, 0)
