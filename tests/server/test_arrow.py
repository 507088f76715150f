"""Query results in the reference's Arrow form (issue 15): what the server sends, and what the
real connector makes of it (rows, pandas, Arrow)."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import math
from decimal import Decimal
from typing import Any

import httpx
import pyarrow as pa
import pytest
from snowflake.connector.errors import ProgrammingError

from tests.server.conftest import Connect, ServedAccount, raw_login

QUERY = """select 12.34::number(10,2) n, 42 i, 123456789012345678901234567890::number(38,0) big,
  1.5::float f, 'NaN'::float nan, 'héllo' s, true b, '2024-02-29'::date d,
  '1969-12-31'::date d0, to_binary('DEADBEEF', 'HEX') bin, null::int nul"""


def _query(served: ServedAccount, sql: str) -> dict[str, Any]:
    base, token = raw_login(served)
    response = httpx.post(
        f"{base}/queries/v1/query-request",
        json={"sqlText": sql, "sequenceId": 1},
        headers={"Authorization": f'Snowflake Token="{token}"'},
    )
    data: dict[str, Any] = response.json()["data"]
    return data


def test_a_query_answers_in_arrow_with_snowflake_metadata(served: ServedAccount) -> None:
    data = _query(served, QUERY)
    assert data["queryResultFormat"] == "arrow" and "rowset" not in data
    assert data["total"] == data["returned"] == 1
    reader = pa.ipc.open_stream(base64.b64decode(data["rowsetBase64"]))
    table = reader.read_all()
    meta = {f.name: {k.decode(): v.decode() for k, v in f.metadata.items()} for f in table.schema}
    assert meta["N"]["logicalType"] == "FIXED" and meta["N"]["scale"] == "2"
    assert meta["I"] == {**meta["I"], "logicalType": "FIXED", "scale": "0"}
    assert meta["S"]["logicalType"] == "TEXT" and "charLength" in meta["S"]
    assert table.column("I").to_pylist() == [42]


def test_ddl_and_show_stay_json(served: ServedAccount) -> None:
    assert _query(served, "create or replace table arrow_t (a int)")["queryResultFormat"] == "json"
    assert _query(served, "show tables")["queryResultFormat"] == "json"


def test_an_empty_query_result_is_an_empty_rowset(served: ServedAccount) -> None:
    data = _query(served, "select 1 a where false")
    assert data["queryResultFormat"] == "arrow" and data["rowsetBase64"] == ""
    assert data["total"] == 0


def test_the_connector_reads_arrow_results(connect: Connect) -> None:
    cur = connect().cursor()
    cur.execute(QUERY)
    values = dict(zip([d.name for d in cur.description], cur.fetchone() or (), strict=True))
    assert values["N"] == Decimal("12.34") and values["I"] == 42
    assert values["BIG"] == 123456789012345678901234567890
    assert values["F"] == 1.5 and math.isnan(values["NAN"])
    assert values["S"] == "héllo" and values["B"] is True
    assert values["D"] == dt.date(2024, 2, 29) and values["D0"] == dt.date(1969, 12, 31)
    assert values["BIN"] == b"\xde\xad\xbe\xef" and values["NUL"] is None
    frame = cur.execute("select range::int id, 'r' || range s from range(5000)").fetch_pandas_all()
    assert list(frame.columns) == ["ID", "S"] and len(frame) == 5000
    assert frame["ID"].sum() == sum(range(5000)) and frame["S"].iloc[4999] == "r4999"
    arrow = cur.execute("select 1.5::float f, 'x' s").fetch_arrow_all()
    assert arrow is not None and arrow.column("S").to_pylist() == ["x"]


BIG = 300_000  # more than the inline rows: several chunks


def test_large_results_come_as_chunks_in_order(served: ServedAccount) -> None:
    data = _query(served, f"select range id, 'r' || range s from range({BIG}) order by id")
    assert data["total"] == BIG and len(data["chunks"]) >= 2
    assert set(data["chunkHeaders"]) == {"x-hoarfrost-chunk-token"}
    inline = pa.ipc.open_stream(base64.b64decode(data["rowsetBase64"])).read_all().num_rows
    assert inline + sum(c["rowCount"] for c in data["chunks"]) == BIG
    first = data["chunks"][0]
    refused = httpx.get(first["url"])  # without the result's token
    assert refused.status_code == 404
    got = httpx.get(first["url"], headers=data["chunkHeaders"])
    assert "content-encoding" not in got.headers  # a client on this host: sent as it is
    table = pa.ipc.open_stream(got.content).read_all()
    assert table.num_rows == first["rowCount"] and table.column("ID")[0].as_py() == inline


@pytest.mark.parametrize(
    ("accept", "gzipped"),
    [("gzip, deflate", True), ("deflate, gzip;q=0.5", True), ("gzip;q=0", False), ("br", False)],
)
def test_chunks_to_a_client_on_another_host_are_gzipped_when_it_accepts_gzip(
    served: ServedAccount, accept: str, gzipped: bool
) -> None:
    data = _query(served, f"select range id from range({BIG}) order by id")
    first = data["chunks"][0]
    # The TLS proxy in front of the server (on this host) says whom it forwards.
    headers = {**data["chunkHeaders"], "X-Forwarded-For": "203.0.113.7", "Accept-Encoding": accept}
    with httpx.stream("GET", first["url"], headers=headers) as response:
        raw = b"".join(response.iter_raw())  # the bytes as sent
        encoding = response.headers.get("content-encoding")
    assert encoding == ("gzip" if gzipped else None)
    stream = gzip.decompress(raw) if gzipped else raw
    table = pa.ipc.open_stream(stream).read_all()
    inline = pa.ipc.open_stream(base64.b64decode(data["rowsetBase64"])).read_all().num_rows
    assert table.num_rows == first["rowCount"]
    assert table.column("ID").to_pylist() == list(range(inline, inline + first["rowCount"]))


def test_the_connector_downloads_every_chunk(connect: Connect) -> None:
    cur = connect().cursor()
    sql = f"select range id, 'r' || range s, range * 0.5 f from range({BIG}) order by id"
    rows = cur.execute(sql).fetchall()
    assert [r[0] for r in rows] == list(range(BIG)) and rows[-1][1] == f"r{BIG - 1}"
    assert cur.rowcount == BIG
    frame = cur.execute(sql).fetch_pandas_all()
    assert len(frame) == BIG and frame["ID"].tolist() == list(range(BIG))
    arrow = cur.execute(sql).fetch_arrow_all()
    assert arrow is not None and arrow.num_rows == BIG
    parts = list(cur.execute(sql).fetch_pandas_batches())
    assert len(parts) > 1 and sum(len(p) for p in parts) == BIG
    batches = cur.execute(sql).get_result_batches()
    assert batches is not None and len(batches) > 1
    assert sum(len(b.to_pandas()) for b in batches) == BIG


def test_a_session_runs_its_next_statement_while_a_result_is_chunked(connect: Connect) -> None:
    con = connect()
    big, small = con.cursor(), con.cursor()
    big.execute(f"select range id from range({BIG}) order by id")
    assert small.execute("select 42").fetchone() == (42,)
    assert [r[0] for r in big.fetchall()] == list(range(BIG))


def test_result_scan_reads_a_streamed_result(connect: Connect) -> None:
    cur = connect().cursor()
    cur.execute("select range id from range(10)")
    first = cur.sfqid
    assert len(cur.fetchall()) == 10
    rows = cur.execute(f"select sum(id) from table(result_scan('{first}'))").fetchall()
    assert rows == [(45,)]
    cur.execute(f"select range id from range({BIG})")
    too_big = cur.sfqid
    assert len(cur.fetchall()) == BIG
    with pytest.raises(ProgrammingError) as info:
        cur.execute(f"select count(*) from table(result_scan('{too_big}'))")
    assert info.value.errno == 709


def test_narrow_and_wide_numbers_in_one_chunked_result(connect: Connect) -> None:
    cur = connect().cursor()
    sql = (
        "select id, (id * 1.5)::number(18,1) narrow, "
        "(id + 123456789012345678901234567.5)::number(38,1) wide "
        f"from (select range id from range({BIG})) order by id"
    )
    rows = cur.execute(sql).fetchall()
    assert rows[3] == (3, Decimal("4.5"), Decimal("123456789012345678901234570.5"))
    assert rows[-1][1] == Decimal(BIG - 1) * Decimal("1.5") and len(rows) == BIG
    assert [d.scale for d in cur.description] == [0, 1, 1]
    frame = cur.execute(sql).fetch_pandas_all()
    assert len(frame) == BIG and frame["NARROW"].iloc[3] == 4.5


def _wire_types(data: dict[str, Any], column: str) -> set[pa.DataType]:
    """The Arrow type of ``column`` in the inline rows and in every chunk of a result."""
    types = {pa.ipc.open_stream(base64.b64decode(data["rowsetBase64"])).schema.field(column).type}
    for chunk in data["chunks"]:
        got = httpx.get(chunk["url"], headers=data["chunkHeaders"])
        types.add(pa.ipc.open_stream(got.content).schema.field(column).type)
    return types


def test_a_wide_number_goes_as_int64_when_every_value_fits(served: ServedAccount) -> None:
    # NUMBER(38, s) is the reference's usual column type; its values nearly always fit in 64
    # bits, and then it sends them unscaled as integers, which the connectors read natively.
    fits = _query(served, f"select (range * 1.5)::number(38,1) w from range({BIG})")
    assert _wire_types(fits, "W") == {pa.int64()}
    # One value past int64 in the last rows: the whole result goes as decimal128.
    late = _query(
        served,
        f"select case when range = {BIG - 1} then 12345678901234567890123.5 "
        f"else range * 1.5 end::number(38,1) w from range({BIG}) order by range",
    )
    assert _wire_types(late, "W") == {pa.decimal128(38, 1)}


def test_wide_numbers_read_back_exactly_both_ways(connect: Connect) -> None:
    cur = connect().cursor()
    last = Decimal("12345678901234567890123.5")
    sql = (
        f"select range id, case when range = {BIG - 1} then {last} "
        f"else range * 1.5 end::number(38,1) w from range({BIG}) order by id"
    )
    rows = cur.execute(sql).fetchall()
    assert rows[2] == (2, Decimal("3.0")) and rows[-1] == (BIG - 1, last)
    fits = f"select range id, (range * 1.5)::number(38,1) w from range({BIG}) order by id"
    rows = cur.execute(fits).fetchall()
    assert rows[-1] == (BIG - 1, Decimal(BIG - 1) * Decimal("1.5"))
    frame = cur.execute(fits).fetch_pandas_all()  # as the reference: floats, not objects
    assert str(frame["W"].dtype) == "float64" and frame["W"].iloc[3] == 4.5


def test_chunks_are_made_in_any_order(served: ServedAccount) -> None:
    data = _query(served, f"select range id from range({BIG}) order by id")
    inline = pa.ipc.open_stream(base64.b64decode(data["rowsetBase64"])).read_all()
    parts: dict[int, list[int]] = {}
    for index in reversed(range(len(data["chunks"]))):
        got = httpx.get(data["chunks"][index]["url"], headers=data["chunkHeaders"])
        assert got.status_code == 200
        ids = pa.ipc.open_stream(got.content).read_all().column("ID").to_pylist()
        assert len(ids) == data["chunks"][index]["rowCount"]
        parts[index] = ids
    ids = inline.column("ID").to_pylist() + [i for k in sorted(parts) for i in parts[k]]
    assert ids == list(range(BIG))


def test_the_access_log_is_written_when_asked(served: ServedAccount) -> None:
    _query(served, "select 1")  # the fixture's server runs with --access-log
    assert '"POST /queries/v1/query-request' in served.log.read_text()
