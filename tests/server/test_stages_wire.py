"""Stages over the wire with the real connector 5.x (the test extras) and 4.8.x (a venv of its
own): PUT / GET through the server's own HTTP port, LIST / REMOVE, temporary stages, and the
file endpoint refusing what no grant allows."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.server.conftest import USER, Connect, ServedAccount
from tests.support.old_connector import connector48_python, run_script


@pytest.fixture
def local(tmp_path: Path) -> Path:
    d = tmp_path / "local"
    d.mkdir()
    (d / "a.csv").write_text("1,x\n2,y\n")
    (d / "b.csv").write_text("3,z\n")
    (d / "rows.json").write_text('{"k": 1}\n{"k": 2}\n')
    with gzip.open(d / "g.csv.gz", "wt") as fh:
        fh.write("4,w\n")
    pq.write_table(pa.table({"A": [1, 2], "B": ["p", "q"]}), d / "t.parquet")
    return d


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_put_list_get_round_trip(connect: Connect, local: Path, tmp_path: Path) -> None:
    cur = connect().cursor()
    cur.execute("CREATE OR REPLACE STAGE wire_st")
    put = cur.execute(f"PUT 'file://{local}/*.csv' @wire_st/csv/ PARALLEL = 2").fetchall()
    assert sorted((r[0], r[1], r[6]) for r in put) == [
        ("a.csv", "a.csv.gz", "UPLOADED"),
        ("b.csv", "b.csv.gz", "UPLOADED"),
    ]
    assert cur.execute(f"PUT file://{local}/a.csv @wire_st/csv/").fetchall()[0][6] == "SKIPPED"
    gz = cur.execute(f"PUT file://{local}/g.csv.gz @wire_st/csv/").fetchall()[0]
    assert (gz[1], gz[4], gz[5]) == ("g.csv.gz", "GZIP", "GZIP")
    cur.execute(f"PUT file://{local}/rows.json @wire_st/json/ AUTO_COMPRESS = FALSE")
    parquet = cur.execute(f"PUT file://{local}/t.parquet @wire_st/pq/").fetchall()[0]
    assert (parquet[1], parquet[5]) == ("t.parquet", "PARQUET")
    listed = cur.execute("LIST @wire_st").fetchall()
    assert [d[0] for d in cur.description] == ["name", "size", "md5", "last_modified"]
    by_name = {r[0]: r for r in listed}
    assert sorted(by_name) == [
        "wire_st/csv/a.csv.gz",
        "wire_st/csv/b.csv.gz",
        "wire_st/csv/g.csv.gz",
        "wire_st/json/rows.json",
        "wire_st/pq/t.parquet",
    ]
    assert by_name["wire_st/pq/t.parquet"][1:3] == (
        os.path.getsize(local / "t.parquet"),
        md5(local / "t.parquet"),
    )
    assert by_name["wire_st/json/rows.json"][2] == md5(local / "rows.json")
    out = tmp_path / "out"
    out.mkdir()
    got = cur.execute(f"GET @wire_st/ file://{out}/ PATTERN = '.*(parquet|json|g[.]csv[.]gz)'")
    assert sorted(r[0].rpartition("/")[2] for r in got.fetchall()) == [
        "g.csv.gz",
        "rows.json",
        "t.parquet",
    ]
    for name in ("t.parquet", "rows.json", "g.csv.gz"):
        assert (out / name).read_bytes() == (local / name).read_bytes()
    cur.execute(f"GET @wire_st/csv/a.csv.gz file://{out}/")
    assert gzip.decompress((out / "a.csv.gz").read_bytes()) == b"1,x\n2,y\n"
    removed = cur.execute("REMOVE @wire_st PATTERN = '.*csv.*'").fetchall()
    assert len(removed) == 3
    assert len(cur.execute("LS @wire_st").fetchall()) == 2


def test_put_stream_and_download_stream(connect: Connect) -> None:
    cur = connect().cursor()
    cur.execute("CREATE OR REPLACE STAGE stream_st")
    body = b"".join(b"%d,row\n" % i for i in range(10000))
    cur.execute("PUT file:///nowhere/streamed.csv @stream_st", file_stream=io.BytesIO(body))
    assert [r[0] for r in cur.execute("LS @stream_st").fetchall()] == ["stream_st/streamed.csv.gz"]
    with cur.download_stream("@stream_st/streamed.csv.gz", decompress=True) as stream:
        assert stream.read() == body


def test_temporary_stage_gone_after_session(
    connect: Connect, local: Path, served: ServedAccount
) -> None:
    first = connect()
    first.cursor().execute("CREATE TEMPORARY STAGE temp_wire")
    first.cursor().execute(f"PUT file://{local}/a.csv @temp_wire")
    temp_root = served.home / "stages" / "temp"
    assert any(temp_root.iterdir())
    other = connect().cursor()
    with pytest.raises(Exception, match=r"Stage '.*TEMP_WIRE' does not exist or not authorized"):
        other.execute("LS @temp_wire")
    first.close()
    assert not any(temp_root.iterdir())


def test_file_endpoint_refuses_without_a_grant(
    served: ServedAccount, connect: Connect, local: Path
) -> None:
    cur = connect().cursor()
    cur.execute("CREATE OR REPLACE STAGE guarded")
    cur.execute(f"PUT file://{local}/a.csv @guarded")
    base = f"http://127.0.0.1:{served.port}/hoarfrost-stage"
    for path in ("nope/a.csv.gz", "nope/..%2F..%2Fcatalog.duckdb", "x/%2e%2e/%2e%2e/master.key"):
        assert httpx.get(f"{base}/{path}").status_code in (400, 403, 404)
        assert httpx.put(f"{base}/{path}", content=b"x").status_code in (400, 403, 404)
    log = served.log_text()
    assert "/hoarfrost-stage/.../" in log
    assert USER.upper() not in log.split("hoarfrost-stage")[-1]


def test_put_traversal_refused_over_the_wire(connect: Connect, local: Path) -> None:
    cur = connect().cursor()
    cur.execute("CREATE OR REPLACE STAGE trav")
    for location in ("@trav/../x", "'@trav/a/../../x'", "'@~/..'"):
        with pytest.raises(Exception, match="Invalid stage path") as err:
            cur.execute(f"PUT file://{local}/a.csv {location}")
        assert err.value.errno == 1003


# -- connector 4.8 --------------------------------------------------------------------------
@pytest.fixture(scope="session")
def python48() -> Path:
    return connector48_python()


def test_connector_48_put_list_get(
    python48: Path, served: ServedAccount, local: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out48"
    out.mkdir()
    script = """
    import io, snowflake.connector
    c = snowflake.connector.connect(host="127.0.0.1", port=ARGS["port"], protocol="http",
        account="hoarfrost", user=ARGS["user"], password=ARGS["password"], login_timeout=10)
    cur = c.cursor()
    res = {"version": snowflake.connector.__version__}
    cur.execute("CREATE OR REPLACE STAGE st48")
    res["put"] = cur.execute(f"PUT 'file://{ARGS['local']}/*.csv' @st48/d/").fetchall()
    res["again"] = cur.execute(f"PUT file://{ARGS['local']}/t.parquet @st48/d/").fetchall()
    res["gz"] = cur.execute(f"PUT file://{ARGS['local']}/g.csv.gz @st48/z/").fetchall()
    res["json"] = cur.execute(
        f"PUT file://{ARGS['local']}/rows.json @st48/j/ AUTO_COMPRESS = FALSE").fetchall()
    res["zls"] = [r[0] for r in cur.execute("LIST @st48 PATTERN = '.*/[zj]/.*'").fetchall()]
    cur.execute("PUT file://x/s.csv @st48/d/", file_stream=io.BytesIO(b"7,s\\n"))
    res["ls"] = [r[0] for r in cur.execute("LIST @st48").fetchall()]
    res["get"] = cur.execute(f"GET @st48/d/ file://{ARGS['out']}/").fetchall()
    cur.execute("CREATE TEMPORARY STAGE tmp48")
    res["show"] = [r[10] for r in cur.execute("SHOW STAGES LIKE 'TMP48'").fetchall()]
    c.close()
    print(json.dumps(res))
    """
    from tests.server.conftest import PASSWORD

    res = run_script(
        python48,
        script,
        port=served.port,
        user=USER,
        password=PASSWORD,
        local=str(local),
        out=str(out),
    )
    assert res["version"].startswith("4.8")
    assert sorted((r[0], r[1], r[6]) for r in res["put"]) == [
        ("a.csv", "a.csv.gz", "UPLOADED"),
        ("b.csv", "b.csv.gz", "UPLOADED"),
    ]
    assert res["again"][0][1] == "t.parquet"
    assert [r[1] for r in res["gz"]] == ["g.csv.gz"] and res["gz"][0][5] == "GZIP"
    assert res["json"][0][1] == "rows.json"
    assert res["zls"] == ["st48/j/rows.json", "st48/z/g.csv.gz"]
    assert res["ls"] == [
        "st48/d/a.csv.gz",
        "st48/d/b.csv.gz",
        "st48/d/s.csv.gz",
        "st48/d/t.parquet",
        "st48/j/rows.json",
        "st48/z/g.csv.gz",
    ]
    assert sorted(p.name for p in out.iterdir()) == [
        "a.csv.gz",
        "b.csv.gz",
        "s.csv.gz",
        "t.parquet",
    ]
    assert (out / "t.parquet").read_bytes() == (local / "t.parquet").read_bytes()
    assert gzip.decompress((out / "s.csv.gz").read_bytes()) == b"7,s\n"
    assert res["show"] == ["INTERNAL TEMPORARY"]


def test_copy_query_unload_and_write_pandas(connect: Connect, local: Path, tmp_path: Path) -> None:
    import pandas as pd
    from snowflake.connector.pandas_tools import write_pandas

    conn = connect(database="HOARFROST", schema="PUBLIC")
    cur = conn.cursor()
    (local / "bad.csv").write_text("id,name\n1,a\nx,b\n3,c\n")
    cur.execute("CREATE OR REPLACE STAGE load_st FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1)")
    cur.execute(f"PUT file://{local}/bad.csv @load_st")
    cur.execute("CREATE OR REPLACE TABLE loaded (id INT, name VARCHAR)")
    with pytest.raises(Exception, match="Numeric value 'x' is not recognized") as err:
        cur.execute("COPY INTO loaded FROM @load_st")
    assert (err.value.errno, err.value.sqlstate) == (100038, "22018")
    assert "File 'load_st/bad.csv.gz', line 3, character 1" in str(err.value)
    assert cur.execute("SELECT count(*) FROM loaded").fetchall() == [(0,)]
    rows = cur.execute("COPY INTO loaded FROM @load_st ON_ERROR = CONTINUE").fetchall()
    assert [d[0] for d in cur.description][:4] == ["file", "status", "rows_parsed", "rows_loaded"]
    assert rows[0][:6] == ("load_st/bad.csv.gz", "PARTIALLY_LOADED", 3, 2, 3, 1)
    assert cur.execute("COPY INTO loaded FROM @load_st").fetchall() == [
        ("Copy executed with 0 files processed.",)
    ]
    assert cur.execute(
        "SELECT $2, METADATA$FILENAME, METADATA$FILE_ROW_NUMBER FROM @load_st ORDER BY 3"
    ).fetchall() == [
        ("a", "load_st/bad.csv.gz", 1),
        ("b", "load_st/bad.csv.gz", 2),
        ("c", "load_st/bad.csv.gz", 3),
    ]
    cur.execute("COPY INTO @load_st/out/ FROM (SELECT * FROM loaded ORDER BY id) HEADER = TRUE")
    out = tmp_path / "unloaded"
    out.mkdir()
    cur.execute(f"GET @load_st/out/ file://{out}/")
    unloaded = out / "data_0_0_0.csv.gz"
    assert gzip.decompress(unloaded.read_bytes()) == b"ID,NAME\n1,a\n3,c\n"
    listed = {r[0]: r for r in cur.execute("LIST @load_st/out/").fetchall()}
    assert listed["load_st/out/data_0_0_0.csv.gz"][2] == md5(unloaded)

    df = pd.DataFrame({"A": [1, 2, 3], "B": ["x", "y", None]})
    first = write_pandas(conn, df, "PANDAS_T", auto_create_table=True)
    assert (first.success, first.nrows) == (True, 3)
    again = write_pandas(conn, df, "PANDAS_T", auto_create_table=True, overwrite=True)
    assert again.success
    appended = write_pandas(conn, df, "PANDAS_T")
    assert appended.success
    assert cur.execute('SELECT "A", "B" FROM "PANDAS_T" ORDER BY 1, 2').fetchall() == [
        (1, "x"),
        (1, "x"),
        (2, "y"),
        (2, "y"),
        (3, None),
        (3, None),
    ]
    pq.write_table(pa.table({"K": [1, 2], "V": ["p", "q"]}), local / "kv.parquet")
    cur.execute("CREATE OR REPLACE FILE FORMAT pq_fmt TYPE = PARQUET")
    cur.execute(f"PUT file://{local}/kv.parquet @load_st/pq/")
    cur.execute(
        "CREATE OR REPLACE TABLE kv USING TEMPLATE (SELECT ARRAY_AGG(OBJECT_CONSTRUCT(*)) "
        "FROM TABLE(INFER_SCHEMA(LOCATION => '@load_st/pq/', FILE_FORMAT => 'pq_fmt')))"
    )
    cur.execute(
        "COPY INTO kv FROM @load_st/pq/ FILE_FORMAT = (FORMAT_NAME = 'pq_fmt') MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE"
    )
    assert cur.execute("SELECT * FROM kv ORDER BY 1").fetchall() == [(1, "p"), (2, "q")]


def test_connector_48_write_pandas_and_copy(
    python48: Path, served: ServedAccount, local: Path
) -> None:
    script = """
    import pandas as pd, snowflake.connector
    from snowflake.connector.pandas_tools import write_pandas
    c = snowflake.connector.connect(host="127.0.0.1", port=ARGS["port"], protocol="http",
        account="hoarfrost", user=ARGS["user"], password=ARGS["password"], login_timeout=10,
        database="HOARFROST", schema="PUBLIC")
    cur = c.cursor()
    df = pd.DataFrame({"A": [1, 2], "B": ["x", None]})
    res = {}
    ok, chunks, rows, _ = write_pandas(c, df, "PANDAS48", auto_create_table=True)
    res["first"] = [ok, rows]
    ok, chunks, rows, _ = write_pandas(c, df, "PANDAS48", auto_create_table=True, overwrite=True)
    res["overwrite"] = [ok, rows]
    res["rows"] = cur.execute('SELECT "A", "B" FROM "PANDAS48" ORDER BY 1').fetchall()
    cur.execute("CREATE OR REPLACE STAGE st48c FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1)")
    cur.execute(f"PUT file://{ARGS['local']}/bad.csv @st48c")
    cur.execute("CREATE OR REPLACE TABLE t48 (id INT, name VARCHAR)")
    res["copy"] = cur.execute("COPY INTO t48 FROM @st48c ON_ERROR = SKIP_FILE").fetchall()
    c.close()
    print(json.dumps(res))
    """
    from tests.server.conftest import PASSWORD

    (local / "bad.csv").write_text("id,name\n1,a\nx,b\n")
    res = run_script(
        python48, script, port=served.port, user=USER, password=PASSWORD, local=str(local)
    )
    assert res["first"] == [True, 2]
    assert res["overwrite"] == [True, 2]
    assert res["rows"] == [[1, "x"], [2, None]]
    assert res["copy"][0][:6] == ["st48c/bad.csv.gz", "LOAD_FAILED", 2, 0, 1, 1]


def test_functions_with_staged_imports_over_the_wire(connect: Connect, tmp_path: Path) -> None:
    import sys
    import zipfile

    runtime = f"{sys.version_info.major}.{sys.version_info.minor}"
    (tmp_path / "wiremod.py").write_text("def inc(x):\n    return x + 1\n")
    (tmp_path / "wirezip").mkdir()
    (tmp_path / "wirezip" / "__init__.py").write_text("def neg(x):\n    return -x\n")
    with zipfile.ZipFile(tmp_path / "wirezip.zip", "w") as archive:
        archive.write(tmp_path / "wirezip" / "__init__.py", "wirezip/__init__.py")
    cur = connect(database="HOARFROST", schema="PUBLIC").cursor()
    cur.execute("CREATE OR REPLACE STAGE code_st")
    cur.execute(f"PUT file://{tmp_path}/wiremod.py @code_st AUTO_COMPRESS = FALSE")
    cur.execute(f"PUT file://{tmp_path}/wirezip.zip @code_st AUTO_COMPRESS = FALSE")
    cur.execute(
        f"CREATE OR REPLACE FUNCTION inc(x INT) RETURNS INT LANGUAGE PYTHON RUNTIME_VERSION = "
        f"'{runtime}' IMPORTS = ('@code_st/wiremod.py') HANDLER = 'wiremod.inc'"
    )
    cur.execute(
        f"CREATE OR REPLACE FUNCTION neg(x INT) RETURNS INT LANGUAGE PYTHON RUNTIME_VERSION = "
        f"'{runtime}' IMPORTS = ('@code_st/wirezip.zip') HANDLER = 'f' "
        "AS $$\nfrom wirezip import neg\ndef f(x):\n    return neg(x)\n$$"
    )
    assert cur.execute("SELECT inc(1), neg(2)").fetchall() == [(2, -2)]


class _Relay:
    """A plain TCP relay on loopback standing in for a proxy in front of the server; counts
    the bytes clients send through it."""

    def __init__(self, backend_port: int):
        import socket
        import threading

        self.sent = 0
        self._backend = backend_port
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket
        import threading

        while True:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self._backend))
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src: object, dst: object, count: bool) -> None:
        try:
            while chunk := src.recv(65536):  # type: ignore[attr-defined]
                if count:
                    self.sent += len(chunk)
                dst.sendall(chunk)  # type: ignore[attr-defined]
        except OSError:
            pass
        finally:
            for end in (src, dst):
                try:
                    end.close()  # type: ignore[attr-defined]
                except OSError:
                    pass

    def close(self) -> None:
        self._sock.close()


def test_files_travel_to_the_public_url(tmp_path: Path) -> None:
    import subprocess
    import sys

    import snowflake.connector

    from tests.server.conftest import PASSWORD, free_port, wait_for_port
    from tests.support.processes import stop_process

    port = free_port()
    relay = _Relay(port)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOARFROST_")}
    env.update(
        HOARFROST_SERVER_USERS=f"{USER}:{PASSWORD}",
        HOARFROST_SERVER_PUBLIC_URL=f"http://127.0.0.1:{relay.port}",
        HOARFROST_CACHE_DIR=str(tmp_path / "cache"),
    )
    log = tmp_path / "server.log"
    argv = [sys.executable, "-m", "hoarfrost", "serve", "--home", str(tmp_path / "home")]
    argv.append("--access-log")
    with open(log, "wb") as out:
        server = subprocess.Popen([*argv, "--port", str(port)], stdout=out, stderr=out, env=env)
    try:
        wait_for_port(port, server, log)
        conn = snowflake.connector.connect(
            host="127.0.0.1",
            port=port,
            protocol="http",
            account="hoarfrost",
            user=USER,
            password=PASSWORD,
            login_timeout=10,
            enable_server_session_keep_alive_auto_detection=False,
        )
        body = os.urandom(300_000)
        (tmp_path / "blob.bin").write_bytes(body)
        cur = conn.cursor()
        cur.execute("CREATE STAGE relayed")
        before = relay.sent
        cur.execute(f"PUT file://{tmp_path}/blob.bin @relayed AUTO_COMPRESS = FALSE")
        assert relay.sent - before >= len(body)  # the file went through the public URL
        (tmp_path / "back").mkdir()
        cur.execute(f"GET @relayed/blob.bin file://{tmp_path}/back/")
        assert (tmp_path / "back" / "blob.bin").read_bytes() == body
        conn.close()
    finally:
        relay.close()
        stop_process(server, timeout=15)
