"""Stages through the real Snowpark client (a venv of its own, built once): file.put / put_stream
/ get / get_stream, LIST, read.csv from a stage, write_pandas and copy_into_location."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.server.conftest import PASSWORD, USER, ServedAccount
from tests.support.old_connector import run_script, snowpark_python

SCRIPT = """
import io, os, pandas as pd
from snowflake.snowpark import Session
from snowflake.snowpark.types import IntegerType, StringType, StructField, StructType
session = Session.builder.configs(dict(host="127.0.0.1", port=ARGS["port"], protocol="http",
    account="hoarfrost", user=ARGS["user"], password=ARGS["password"], database="HOARFROST",
    schema="PUBLIC")).create()
d = ARGS["dir"]
res = {}
session.sql("CREATE OR REPLACE STAGE sp_st").collect()
res["put"] = [r.status for r in session.file.put(os.path.join(d, "a.csv"), "@sp_st/in/")]
res["stream"] = session.file.put_stream(io.BytesIO(b"3,z\\n"), "@sp_st/in/b.csv").status
res["ls"] = [r.name for r in session.sql("ls @sp_st").collect()]
res["get"] = sorted(r.file for r in session.file.get("@sp_st/in/", os.path.join(d, "out")))
res["get_stream"] = session.file.get_stream("@sp_st/in/b.csv.gz", decompress=True).read().decode()
schema = StructType([StructField("A", IntegerType()), StructField("B", StringType())])
res["csv"] = [list(r) for r in session.read.schema(schema).csv("@sp_st/in/").sort("A").collect()]
frame = pd.DataFrame({"A": [1, 2], "B": ["p", "q"]})
session.write_pandas(frame, "SP_T", auto_create_table=True)
res["table"] = [list(r) for r in session.table("SP_T").sort("A").collect()]
res["unload"] = session.table("SP_T").write.copy_into_location(
    "@sp_st/unl/", file_format_type="csv", header=True, overwrite=True)[0].rows_unloaded
session.close()
print(json.dumps(res))
"""


@pytest.fixture(scope="session")
def snowpark() -> Path:
    return snowpark_python()


def test_snowpark_files_read_and_write(
    snowpark: Path, served: ServedAccount, tmp_path: Path
) -> None:
    (tmp_path / "a.csv").write_text("1,x\n2,y\n")
    (tmp_path / "out").mkdir()
    res = run_script(
        snowpark, SCRIPT, port=served.port, user=USER, password=PASSWORD, dir=str(tmp_path)
    )
    assert res["put"] == ["UPLOADED"] and res["stream"] == "UPLOADED"
    assert res["ls"] == ["sp_st/in/a.csv.gz", "sp_st/in/b.csv.gz"]
    assert len(res["get"]) == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.csv.gz", "b.csv.gz"]
    assert res["get_stream"] == "3,z\n"
    assert res["csv"] == [[1, "x"], [2, "y"], [3, "z"]]
    assert res["table"] == [[1, "p"], [2, "q"]]
    assert res["unload"] == 2
