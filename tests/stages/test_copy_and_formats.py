"""File formats and COPY INTO <table> through the Python API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import hoarfrost

RESULT = [
    "file",
    "status",
    "rows_parsed",
    "rows_loaded",
    "error_limit",
    "errors_seen",
    "first_error",
    "first_error_line",
    "first_error_character",
    "first_error_column_name",
]


@pytest.fixture
def con(tmp_path: Path) -> Iterator[hoarfrost.Connection]:
    conn = hoarfrost.connect(home=":memory:")
    d = tmp_path / "files"
    d.mkdir()
    (d / "good.csv").write_text("id,name,d\n1,x,2024-01-01\n2,y,2024-01-02\n")
    (d / "bad.csv").write_text(
        "id,name,d\n3,z,2024-01-03\nq,w,2024-01-04\n5,v,notadate\n6,u,2024-01-06\n"
    )
    (d / "pipes.txt").write_text('7|"a|b"|2024-02-01\n8|NULL|\n')
    (d / "rows.json").write_text('{"ID": 20, "name": "j"}\n{"ID": 21, "name": "k", "other": 1}\n')
    pq.write_table(pa.table({"NAME": ["p", "q"], "ID": [10, 11], "extra": [1, 2]}), d / "t.parquet")
    conn.execute("CREATE TABLE t (id INT, name VARCHAR, d DATE)")
    conn.execute("CREATE STAGE st FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1)")
    conn.execute(f"PUT 'file://{d}/*.csv' @st/in/")
    conn.execute(f"PUT file://{d}/pipes.txt @st/txt/")
    conn.execute(f"PUT file://{d}/rows.json @st/json/")
    conn.execute(f"PUT file://{d}/t.parquet @st/pq/")
    yield conn
    conn.close()


def rows(con: hoarfrost.Connection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_file_format_ddl(con: hoarfrost.Connection) -> None:
    con.execute(
        "CREATE FILE FORMAT ff TYPE = CSV FIELD_DELIMITER = '|' NULL_IF = ('NULL', '') FIELD_OPTIONALLY_ENCLOSED_BY = '\"' COMMENT = 'pipes'"
    )
    shown = con.execute("SHOW FILE FORMATS")
    row = dict(zip([d[0] for d in shown.description], shown.fetchone(), strict=True))
    assert (row["name"], row["type"], row["comment"]) == ("FF", "CSV", "pipes")
    assert json.loads(row["format_options"])["FIELD_DELIMITER"] == "|"
    described = {r[0]: r[2] for r in rows(con, "DESCRIBE FILE FORMAT ff")}
    assert described["FIELD_DELIMITER"] == "|" and described["NULL_IF"] == "[NULL, ]"
    con.execute("ALTER FILE FORMAT ff SET SKIP_HEADER = 2")
    assert {r[0]: r[2] for r in rows(con, "DESC FILE FORMAT ff")}["SKIP_HEADER"] == "2"
    con.execute("CREATE TEMPORARY FILE FORMAT IDENTIFIER('PQ_FMT') TYPE = PARQUET")
    assert [r[1] for r in rows(con, "SHOW FILE FORMATS LIKE 'PQ%'")] == ["PQ_FMT"]
    with pytest.raises(hoarfrost.NotSupportedError, match="AVRO"):
        con.execute("CREATE FILE FORMAT a TYPE = AVRO")
    with pytest.raises(
        hoarfrost.ProgrammingError, match="invalid property 'STRIP_OUTER_ARRAY'"
    ) as err:
        con.execute("CREATE FILE FORMAT c TYPE = CSV STRIP_OUTER_ARRAY = TRUE")
    assert (err.value.errno, err.value.sqlstate) == (1008, "22023")
    con.execute("DROP FILE FORMAT ff")
    with pytest.raises(
        hoarfrost.ProgrammingError, match=r"File format 'HOARFROST\.PUBLIC\.FF' does not exist"
    ):
        con.execute("COPY INTO t FROM @st/txt/ FILE_FORMAT = (FORMAT_NAME = 'ff')")


def test_abort_statement_leaves_the_table_unchanged(con: hoarfrost.Connection) -> None:
    con.execute("INSERT INTO t VALUES (0, 'before', NULL)")
    with pytest.raises(hoarfrost.DataError) as err:
        con.execute("COPY INTO t FROM @st/in/")
    assert (err.value.errno, err.value.sqlstate) == (100038, "22018")
    assert err.value.msg.startswith(
        "Numeric value 'q' is not recognized\n  File 'st/in/bad.csv.gz', line 3, character 1\n  Column \"T\"[\"ID\"]"
    )
    assert rows(con, "SELECT * FROM t") == [(0, "before", None)]


def test_on_error_modes_and_result_rows(con: hoarfrost.Connection) -> None:
    result = con.execute("COPY INTO t FROM @st/in/ ON_ERROR = CONTINUE")
    assert [d[0] for d in result.description] == RESULT
    got = {r[0]: r for r in result.fetchall()}
    assert got["st/in/good.csv.gz"][1:6] == ("LOADED", 2, 2, 2, 0)
    assert got["st/in/bad.csv.gz"][1:] == (
        "PARTIALLY_LOADED",
        4,
        2,
        4,
        2,
        "Numeric value 'q' is not recognized",
        3,
        1,
        '"T"["ID"]',
    )
    assert rows(con, "SELECT count(*) FROM t") == [(4,)]
    skip = rows(
        con, "COPY INTO t FROM @st/in/ FILES = ('bad.csv.gz') ON_ERROR = SKIP_FILE FORCE = TRUE"
    )
    assert skip[0][1:6] == ("LOAD_FAILED", 4, 0, 1, 2)
    under = rows(
        con, "COPY INTO t FROM @st/in/ PATTERN = '.*bad.*' ON_ERROR = 'SKIP_FILE_3' FORCE = TRUE"
    )
    assert under[0][1:6] == ("PARTIALLY_LOADED", 4, 2, 3, 2)
    over = rows(
        con, "COPY INTO t FROM @st/in/ PATTERN = '.*bad.*' ON_ERROR = 'SKIP_FILE_50%' FORCE = TRUE"
    )
    assert over[0][1:6] == ("LOAD_FAILED", 4, 0, 2, 2)
    assert rows(con, "SELECT count(*) FROM t") == [(6,)]
    date_error = rows(
        con, "COPY INTO t FROM @st/in/ FILES = ('bad.csv.gz') ON_ERROR = CONTINUE FORCE = TRUE"
    )
    assert date_error[0][6] == "Numeric value 'q' is not recognized"
    with pytest.raises(hoarfrost.ProgrammingError, match="ON_ERROR"):
        con.execute("COPY INTO t FROM @st/in/ ON_ERROR = SOMETIMES")


def test_load_metadata_skips_a_reloaded_file(con: hoarfrost.Connection) -> None:
    first = rows(con, "COPY INTO t FROM @st/in/good.csv.gz")
    assert first[0][1] == "LOADED"
    assert rows(con, "COPY INTO t FROM @st/in/good.csv.gz") == [
        ("Copy executed with 0 files processed.",)
    ]
    assert rows(con, "COPY INTO t FROM @st/in/good.csv.gz FORCE = TRUE")[0][3] == 2
    assert rows(con, "SELECT count(*) FROM t") == [(4,)]


def test_formats_inline_and_named(con: hoarfrost.Connection) -> None:
    con.execute(
        "CREATE FILE FORMAT pipes TYPE = CSV FIELD_DELIMITER = '|' FIELD_OPTIONALLY_ENCLOSED_BY = '\"' NULL_IF = ('NULL')"
    )
    assert (
        rows(con, "COPY INTO t FROM @st/txt/ FILE_FORMAT = (FORMAT_NAME = 'pipes')")[0][1]
        == "LOADED"
    )
    assert rows(con, "SELECT id, name, d FROM t ORDER BY id") == [
        (7, "a|b", __import__("datetime").date(2024, 2, 1)),
        (8, None, None),
    ]


def test_parquet_match_by_column_name_and_variant(con: hoarfrost.Connection) -> None:
    loaded = rows(
        con,
        "COPY INTO t FROM @st/pq/ FILE_FORMAT = (TYPE = PARQUET) MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE",
    )
    assert loaded[0][1:4] == ("LOADED", 2, 2)
    assert rows(con, "SELECT id, name, d FROM t ORDER BY id") == [(10, "p", None), (11, "q", None)]
    with pytest.raises(hoarfrost.NotSupportedError, match="one and only one column") as err:
        con.execute("COPY INTO t FROM @st/pq/ FILE_FORMAT = (TYPE = PARQUET) FORCE = TRUE")
    assert err.value.errno == 2019
    assert (
        rows(
            con,
            "COPY INTO t FROM @st/json/ FILE_FORMAT = (TYPE = JSON) MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE",
        )[0][3]
        == 2
    )
    assert rows(con, "SELECT id, name FROM t WHERE id >= 20 ORDER BY id") == [(20, "j"), (21, "k")]


def test_transformation_copy_and_purge(con: hoarfrost.Connection) -> None:
    con.execute("CREATE TABLE names (n VARCHAR, id INT, f VARCHAR, r INT)")
    out = rows(
        con,
        "COPY INTO names (n, id, f, r) FROM (SELECT upper($2), $1::INT * 10, METADATA$FILENAME, METADATA$FILE_ROW_NUMBER FROM @st/in/good.csv.gz) PURGE = TRUE",
    )
    assert out[0][1:4] == ("LOADED", 2, 2)
    assert rows(con, "SELECT * FROM names ORDER BY id") == [
        ("X", 10, "st/in/good.csv.gz", 1),
        ("Y", 20, "st/in/good.csv.gz", 2),
    ]
    assert "st/in/good.csv.gz" not in [r[0] for r in rows(con, "LIST @st")]
    pq_rows = rows(
        con,
        "COPY INTO names (n, id) FROM (SELECT $1:NAME, $1:ID FROM '@st/pq/') FILE_FORMAT = (TYPE = PARQUET)",
    )
    assert pq_rows[0][3] == 2


def test_validation_mode(con: hoarfrost.Connection) -> None:
    errors = con.execute("COPY INTO t FROM @st/in/bad.csv.gz VALIDATION_MODE = RETURN_ERRORS")
    found = errors.fetchall()
    assert [(r[0], r[2], r[7]) for r in found] == [
        ("Numeric value 'q' is not recognized", 3, '"T"["ID"]'),
        ("Date 'notadate' is not recognized", 4, '"T"["D"]'),
    ]
    assert rows(con, "COPY INTO t FROM @st/in/good.csv.gz VALIDATION_MODE = RETURN_1_ROWS") == [
        (1, "x", __import__("datetime").date(2024, 1, 1))
    ]
    assert rows(con, "SELECT count(*) FROM t") == [(0,)]


def test_duckdb_copy_to_a_host_file_is_still_refused(
    con: hoarfrost.Connection, tmp_path: Path
) -> None:
    with pytest.raises(hoarfrost.Error):
        con.execute(f"COPY (SELECT 1) TO '{tmp_path}/leak.csv'")
    assert not (tmp_path / "leak.csv").exists()
