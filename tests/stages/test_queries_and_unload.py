"""SELECT from staged files, INFER_SCHEMA, CREATE TABLE ... USING TEMPLATE, and COPY INTO
<location> (unload) through the Python API."""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import hoarfrost


@pytest.fixture
def con(tmp_path: Path) -> Iterator[hoarfrost.Connection]:
    conn = hoarfrost.connect(home=":memory:")
    d = tmp_path / "files"
    d.mkdir()
    (d / "good.csv").write_text("id,name,d\n1,x,2024-01-01\n2,y,2024-01-02\n")
    (d / "rows.json").write_text('{"ID": 20, "name": "j"}\n{"ID": 21, "name": "k"}\n')
    pq.write_table(pa.table({"NAME": ["p", "q"], "ID": [10, 11]}), d / "t.parquet")
    conn.execute("CREATE STAGE st FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1)")
    conn.execute("CREATE FILE FORMAT pq TYPE = PARQUET")
    conn.execute("CREATE FILE FORMAT js TYPE = JSON")
    conn.execute(f"PUT file://{d}/good.csv @st/in/")
    conn.execute(f"PUT file://{d}/t.parquet @st/pq/")
    conn.execute(f"PUT file://{d}/rows.json @st/js/")
    yield conn
    conn.close()


def rows(con: hoarfrost.Connection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_select_from_a_stage_with_metadata_columns(con: hoarfrost.Connection) -> None:
    got = rows(
        con,
        "SELECT $1::INT + 1, $2, METADATA$FILENAME, METADATA$FILE_ROW_NUMBER FROM @st/in/ ORDER BY 1",
    )
    assert got == [(2, "x", "st/in/good.csv.gz", 1), (3, "y", "st/in/good.csv.gz", 2)]
    assert rows(con, "SELECT $1:NAME, $1:ID FROM @st/pq/ (FILE_FORMAT => 'pq') ORDER BY 2") == [
        ("p", 10),
        ("q", 11),
    ]
    assert rows(con, "SELECT count(*) FROM '@st' (FILE_FORMAT => 'js', PATTERN => '.*json.*')") == [
        (2,)
    ]
    with pytest.raises(hoarfrost.ProgrammingError, match="does not exist"):
        con.execute("SELECT $1 FROM @nowhere")


def test_infer_schema_and_using_template(con: hoarfrost.Connection) -> None:
    inferred = con.execute(
        "SELECT * FROM TABLE(INFER_SCHEMA(LOCATION => '@st/pq/', FILE_FORMAT => 'pq'))"
    )
    assert [d[0] for d in inferred.description] == [
        "COLUMN_NAME",
        "TYPE",
        "NULLABLE",
        "EXPRESSION",
        "FILENAMES",
        "ORDER_ID",
    ]
    assert [r[:2] for r in inferred.fetchall()] == [("NAME", "TEXT"), ("ID", "NUMBER(38, 0)")]
    con.execute(
        "CREATE TABLE from_pq USING TEMPLATE (SELECT ARRAY_AGG(OBJECT_CONSTRUCT(*)) FROM TABLE(INFER_SCHEMA(LOCATION => '@st/pq/', FILE_FORMAT => 'pq')))"
    )
    con.execute(
        "COPY INTO from_pq FROM @st/pq/ FILE_FORMAT = (FORMAT_NAME = 'pq') MATCH_BY_COLUMN_NAME = CASE_SENSITIVE"
    )
    assert rows(con, "SELECT * FROM from_pq ORDER BY id") == [("p", 10), ("q", 11)]


def test_unload_then_get_and_reload(con: hoarfrost.Connection, tmp_path: Path) -> None:
    con.execute("CREATE TABLE t (id INT, name VARCHAR, d DATE)")
    con.execute(
        "INSERT INTO t VALUES (1, 'a', '2024-01-01'), (2, NULL, NULL), (3, 'c', '2024-03-01')"
    )
    assert rows(con, "COPY INTO @st/out/ FROM t")[0][0] == 3
    assert [r[0] for r in rows(con, "LIST @st/out/")] == ["st/out/data_0_0_0.csv.gz"]
    with pytest.raises(hoarfrost.ProgrammingError, match="Files already existing"):
        con.execute("COPY INTO @st/out/ FROM t")
    con.execute(
        "COPY INTO @st/out/ FROM (SELECT id, name FROM t WHERE id > 1) HEADER = TRUE OVERWRITE = TRUE"
    )
    out = tmp_path / "out"
    out.mkdir()
    con.execute(f"GET @st/out/ file://{out}/")
    assert gzip.decompress((out / "data_0_0_0.csv.gz").read_bytes()) == b"ID,NAME\n2,\\N\n3,c\n"
    con.execute(
        "COPY INTO @st/one/all.csv FROM t SINGLE = TRUE FILE_FORMAT = (TYPE = CSV COMPRESSION = NONE)"
    )
    con.execute(f"GET @st/one/all.csv file://{out}/")
    assert (out / "all.csv").read_text() == "1,a,2024-01-01\n2,\\N,\\N\n3,c,2024-03-01\n"
    con.execute("CREATE TABLE back (id INT, name VARCHAR, d DATE)")
    con.execute("COPY INTO back FROM @st/one/all.csv FILE_FORMAT = (TYPE = CSV)")
    assert rows(con, "SELECT * FROM back ORDER BY id") == [
        (1, "a", dt.date(2024, 1, 1)),
        (2, None, None),
        (3, "c", dt.date(2024, 3, 1)),
    ]


def test_unload_parquet_partitioned(con: hoarfrost.Connection) -> None:
    con.execute("CREATE TABLE t AS SELECT range AS id FROM range(6)")
    con.execute(
        "COPY INTO @st/part/ FROM t PARTITION BY ('g=' || (id % 2)::VARCHAR) FILE_FORMAT = (TYPE = PARQUET)"
    )
    assert [r[0] for r in rows(con, "LIST @st/part/")] == [
        "st/part/g=0/data_0_0_0.snappy.parquet",
        "st/part/g=1/data_0_0_0.snappy.parquet",
    ]
    assert rows(con, "SELECT sum($1:ID::INT) FROM @st/part/ (FILE_FORMAT => 'pq')") == [(15,)]
