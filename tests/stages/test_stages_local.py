"""Stages through the Python API (``hoarfrost.connect()``): DDL, PUT / GET on local paths,
LIST / REMOVE, temporary stages, and paths that try to leave their stage."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

import hoarfrost


@pytest.fixture
def con(tmp_path: Path) -> hoarfrost.Connection:
    conn = hoarfrost.connect(home=str(tmp_path / "home"))
    yield conn
    conn.close()


@pytest.fixture
def files(tmp_path: Path) -> Path:
    d = tmp_path / "files"
    d.mkdir()
    (d / "a.csv").write_text("1,x\n2,y\n")
    (d / "b.csv").write_text("3,z\n")
    (d / "c.json").write_text('{"k": 1}\n')
    with gzip.open(d / "g.csv.gz", "wt") as fh:
        fh.write("4,w\n")
    return d


def rows(con: hoarfrost.Connection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_create_show_describe_alter_drop(con: hoarfrost.Connection) -> None:
    assert rows(
        con,
        "CREATE STAGE st FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1) DIRECTORY = (ENABLE = TRUE) COMMENT = 'raw files'",
    ) == [("Stage area ST successfully created.",)]
    assert rows(con, "CREATE STAGE IF NOT EXISTS st") == [
        ("ST already exists, statement succeeded.",)
    ]
    with pytest.raises(hoarfrost.ProgrammingError, match="already exists") as err:
        con.execute("CREATE STAGE st")
    assert err.value.errno == 2002
    shown = con.execute("SHOW STAGES LIKE 'S%'")
    names = [d[0] for d in shown.description]
    row = dict(zip(names, shown.fetchone(), strict=True))
    assert (row["name"], row["database_name"], row["schema_name"], row["type"], row["comment"]) == (
        "ST",
        "HOARFROST",
        "PUBLIC",
        "INTERNAL",
        "raw files",
    )
    assert row["directory_enabled"] == "Y"
    described = {(r[0], r[1]): r[3] for r in rows(con, "DESCRIBE STAGE st")}
    assert described[("STAGE_FILE_FORMAT", "TYPE")] == "CSV"
    assert described[("STAGE_FILE_FORMAT", "SKIP_HEADER")] == "1"
    assert described[("DIRECTORY", "ENABLE")] == "true"
    con.execute("ALTER STAGE st SET COMMENT = 'renamed'")
    con.execute("ALTER STAGE st RENAME TO st2")
    assert [r[1] for r in rows(con, "SHOW STAGES")] == ["ST2"]
    assert rows(con, "DROP STAGE st2") == [("ST2 successfully dropped.",)]
    assert rows(con, "DROP STAGE IF EXISTS st2") == [
        ("Drop statement executed successfully (ST2 already dropped).",)
    ]
    with pytest.raises(
        hoarfrost.ProgrammingError,
        match=r"Stage 'HOARFROST.PUBLIC.ST2' does not exist or not authorized.",
    ) as missing:
        con.execute("LIST @st2")
    assert (missing.value.errno, missing.value.sqlstate) == (2003, "02000")


def test_quoted_and_qualified_names(con: hoarfrost.Connection, files: Path) -> None:
    con.execute('CREATE STAGE "My Stage"')
    con.execute(f'PUT file://{files}/a.csv @"My Stage"/in/')
    assert [r[0] for r in rows(con, 'LIST @hoarfrost.public."My Stage"')] == [
        "My Stage/in/a.csv.gz"
    ]
    assert [r[0] for r in rows(con, 'LS \'@"HOARFROST"."PUBLIC"."My Stage"/in/\'')] == [
        "My Stage/in/a.csv.gz"
    ]


def test_external_stage_refused(con: hoarfrost.Connection) -> None:
    with pytest.raises(hoarfrost.NotSupportedError, match="External stages") as err:
        con.execute("CREATE STAGE ext URL = 's3://bucket/path/'")
    assert "internal stage" in err.value.msg
    assert rows(con, "SHOW STAGES") == []


def test_put_get_list_remove(con: hoarfrost.Connection, files: Path, tmp_path: Path) -> None:
    con.execute("CREATE STAGE st")
    put = con.execute(f"PUT 'file://{files}/*.csv' @st/dir/")
    assert [d[0] for d in put.description] == [
        "source",
        "target",
        "source_size",
        "target_size",
        "source_compression",
        "target_compression",
        "status",
        "message",
    ]
    assert [(r[0], r[1], r[4], r[5], r[6]) for r in put.fetchall()] == [
        ("a.csv", "a.csv.gz", "NONE", "GZIP", "UPLOADED"),
        ("b.csv", "b.csv.gz", "NONE", "GZIP", "UPLOADED"),
    ]
    again = rows(con, f"PUT file://{files}/a.csv @st/dir/")
    assert again[0][6] == "SKIPPED"
    assert rows(con, f"PUT file://{files}/a.csv @st/dir/ OVERWRITE = TRUE")[0][6] == "UPLOADED"
    # already compressed: stored as it is
    gz = rows(con, f"PUT file://{files}/g.csv.gz @st/dir/")[0]
    size = os.path.getsize(files / "g.csv.gz")
    assert gz[1:6] == ("g.csv.gz", size, size, "GZIP", "GZIP")
    plain = rows(con, f"PUT file://{files}/c.json @st AUTO_COMPRESS = FALSE")
    assert plain[0][1] == "c.json" and plain[0][5] == "NONE"
    listed = con.execute("LIST @st")
    assert [d[0] for d in listed.description] == ["name", "size", "md5", "last_modified"]
    names = [r[0] for r in listed.fetchall()]
    assert names == ["st/c.json", "st/dir/a.csv.gz", "st/dir/b.csv.gz", "st/dir/g.csv.gz"]
    assert [r[0] for r in rows(con, "LIST @st PATTERN = '.*[ab][.]csv.*'")] == [
        "st/dir/a.csv.gz",
        "st/dir/b.csv.gz",
    ]
    out = tmp_path / "out"
    out.mkdir()
    got = rows(con, f"GET @st/dir/ file://{out}/")
    assert sorted(r[0] for r in got) == ["a.csv.gz", "b.csv.gz", "g.csv.gz"]
    assert gzip.decompress((out / "a.csv.gz").read_bytes()) == b"1,x\n2,y\n"
    assert (out / "g.csv.gz").read_bytes() == (files / "g.csv.gz").read_bytes()
    removed = rows(con, "REMOVE @st/dir/ PATTERN = '.*b.*'")
    assert removed == [("st/dir/b.csv.gz", "removed")]
    rows(con, "RM @st/c.json")
    assert [r[0] for r in rows(con, "LS @st")] == ["st/dir/a.csv.gz", "st/dir/g.csv.gz"]


def test_source_compression_and_missing_files(con: hoarfrost.Connection, files: Path) -> None:
    con.execute("CREATE STAGE st")
    (files / "raw").write_bytes(gzip.compress(b"5,v\n"))
    assert rows(con, f"PUT file://{files}/raw @st SOURCE_COMPRESSION = GZIP")[0][1:6:3] == (
        "raw",
        "GZIP",
    )
    with pytest.raises(hoarfrost.ProgrammingError, match="SOURCE_COMPRESSION"):
        con.execute(f"PUT file://{files}/raw @st SOURCE_COMPRESSION = LZMA")
    with pytest.raises(hoarfrost.ProgrammingError, match="File doesn't exist") as err:
        con.execute(f"PUT file://{files}/nothing*.csv @st")
    assert err.value.errno == 253006


def test_user_and_table_stages(con: hoarfrost.Connection, files: Path) -> None:
    con.execute(f"PUT file://{files}/a.csv @~/staged/")
    assert [r[0] for r in rows(con, "LIST @~")] == ["staged/a.csv.gz"]
    with pytest.raises(hoarfrost.ProgrammingError, match="does not exist"):
        con.execute("LIST @%nope")
    con.execute("CREATE TABLE t (a INT)")
    con.execute(f"PUT file://{files}/b.csv @%t")
    assert [r[0] for r in rows(con, "LIST @%t")] == ["b.csv.gz"]
    assert [r[0] for r in rows(con, "LIST @~")] == ["staged/a.csv.gz"]


def test_temporary_stage_vanishes_with_its_session(tmp_path: Path, files: Path) -> None:
    home = str(tmp_path / "home")
    first = hoarfrost.connect(home=home)
    first.execute("CREATE SCOPED TEMPORARY STAGE IF NOT EXISTS tmp_st")
    first.execute(f"PUT file://{files}/a.csv @tmp_st")
    assert rows(first, "SHOW STAGES")[0][10] == "INTERNAL TEMPORARY"
    stage_root = tmp_path / "home" / "stages" / "temp"
    assert [p.name for p in stage_root.iterdir()]
    second = hoarfrost.connect(home=home)
    with pytest.raises(hoarfrost.ProgrammingError, match="does not exist"):
        second.execute("LIST @tmp_st")
    first.close()
    assert list(stage_root.iterdir()) == []
    with pytest.raises(hoarfrost.ProgrammingError, match="does not exist"):
        second.execute("LIST @tmp_st")
    second.close()


@pytest.mark.parametrize(
    "location",
    ["@st/../x", "@st/a/../../x", "@st/./a", "'@st/a\\\\..\\\\b'", "@~/..", "'@st/a\x00b'"],
)
def test_paths_never_leave_the_stage(con: hoarfrost.Connection, files: Path, location: str) -> None:
    con.execute("CREATE STAGE st")
    with pytest.raises(hoarfrost.ProgrammingError, match="Invalid stage path") as err:
        con.execute(f"PUT file://{files}/a.csv {location}")
    assert (err.value.errno, err.value.sqlstate) == (1003, "42000")
    with pytest.raises(hoarfrost.ProgrammingError, match="Invalid stage path"):
        con.execute(f"LIST {location}")


def test_absolute_looking_paths_stay_inside(
    con: hoarfrost.Connection, files: Path, tmp_path: Path
) -> None:
    con.execute("CREATE STAGE st")
    con.execute(f"PUT file://{files}/a.csv '@st//etc/'")
    assert [r[0] for r in rows(con, "LIST @st")] == ["st/etc/a.csv.gz"]
    assert not Path("/etc/a.csv.gz").exists()


def test_symlink_planted_in_a_stage_is_not_followed(
    con: hoarfrost.Connection, files: Path, tmp_path: Path
) -> None:
    con.execute("CREATE STAGE st")
    con.execute(f"PUT file://{files}/a.csv @st/in/")
    secret = tmp_path / "secret.txt"
    secret.write_text("not yours")
    (area,) = (tmp_path / "home" / "stages" / "named").iterdir()
    (area / "in" / "link.txt").symlink_to(secret)
    (area / "dirlink").symlink_to(tmp_path)
    assert [r[0] for r in rows(con, "LIST @st")] == ["st/in/a.csv.gz"]
    out = tmp_path / "out"
    out.mkdir()
    assert rows(con, f"GET @st/in/link.txt file://{out}/") == []
    assert list(out.iterdir()) == []
    with pytest.raises(hoarfrost.ProgrammingError, match="Invalid stage path"):
        con.execute(f"PUT file://{files}/b.csv @st/dirlink/")
    assert not (tmp_path / "b.csv.gz").exists()
    assert secret.read_text() == "not yours"


def test_or_replace_empties_the_stage(con: hoarfrost.Connection, files: Path) -> None:
    con.execute("CREATE STAGE st")
    con.execute(f"PUT file://{files}/a.csv @st")
    con.execute("CREATE OR REPLACE STAGE st")
    assert rows(con, "LIST @st") == []


def test_in_memory_account_stage_dir_removed_at_close(files: Path) -> None:
    conn = hoarfrost.connect(home=":memory:")
    conn.execute("CREATE STAGE st")
    conn.execute(f"PUT file://{files}/a.csv @st")
    root = conn.session.engine.stages.directory
    assert root.is_dir() and oct(root.stat().st_mode & 0o777) == "0o700"
    conn.close()
    assert not root.exists()


def test_duckdb_sandbox_reaches_stages_and_nothing_else(
    con: hoarfrost.Connection, files: Path
) -> None:
    con.execute("CREATE STAGE st")
    con.execute(f"PUT file://{files}/a.csv @st AUTO_COMPRESS = FALSE")
    engine = con.session.engine
    (staged,) = (engine.stages.directory / "named").rglob("a.csv")
    assert engine.data.execute("SELECT count(*) FROM read_csv(?)", [str(staged)]).fetchone() == (2,)
    with pytest.raises(Exception, match="Permission Error"):
        engine.data.execute("SELECT count(*) FROM read_csv(?)", [str(files / "a.csv")]).fetchone()
    with pytest.raises(Exception, match=r"Permission Error|lock"):
        engine.data.execute("SET allowed_directories = ['/']")


def test_a_role_without_read_or_write_does_not_see_the_stage(
    con: hoarfrost.Connection, files: Path
) -> None:
    con.execute("CREATE STAGE st")
    con.execute(f"PUT file://{files}/a.csv @st")
    user = con.execute("SELECT CURRENT_USER()").fetchone()[0]
    con.execute("CREATE ROLE analyst")
    con.execute(f"GRANT ROLE analyst TO USER {user}")
    con.execute("USE ROLE analyst")
    for sql in ("LIST @st", f"PUT file://{files}/b.csv @st", "REMOVE @st"):
        with pytest.raises(
            hoarfrost.ProgrammingError, match=r"Stage '.*ST' does not exist or not authorized"
        ):
            con.execute(sql)
    con.execute("USE ROLE ACCOUNTADMIN")
    assert [r[0] for r in rows(con, "LIST @st")] == ["st/a.csv.gz"]
    con.execute("GRANT READ ON STAGE st TO ROLE analyst")
    con.execute("USE ROLE analyst")
    assert [r[0] for r in rows(con, "LIST @st")] == ["st/a.csv.gz"]
    with pytest.raises(hoarfrost.ProgrammingError, match="does not exist or not authorized"):
        con.execute(f"PUT file://{files}/b.csv @st")
    con.execute("USE ROLE ACCOUNTADMIN")
    con.execute("GRANT WRITE ON STAGE st TO ROLE analyst")
    con.execute("USE ROLE analyst")
    assert rows(con, f"PUT file://{files}/b.csv @st")[0][6] == "UPLOADED"


def test_named_stages_and_files_outlive_the_process(tmp_path: Path, files: Path) -> None:
    home = str(tmp_path / "home")
    with hoarfrost.connect(home=home) as first:
        first.execute("CREATE STAGE kept")
        first.execute(f"PUT file://{files}/a.csv @kept/in/")
        first.execute("CREATE TEMPORARY STAGE gone")
        first.execute(f"PUT file://{files}/a.csv @gone")
    with hoarfrost.connect(home=home) as second:
        assert [r[0] for r in rows(second, "LIST @kept")] == ["kept/in/a.csv.gz"]
        assert [r[1] for r in rows(second, "SHOW STAGES")] == ["KEPT"]
    temp = tmp_path / "home" / "stages" / "temp"
    assert not temp.exists() or list(temp.iterdir()) == []


def test_files_of_a_dropped_schema_are_removed_when_the_account_opens(
    tmp_path: Path, files: Path
) -> None:
    home = str(tmp_path / "home")
    with hoarfrost.connect(home=home) as first:
        first.execute("CREATE SCHEMA scratch")
        first.execute("CREATE STAGE scratch.st")
        first.execute("CREATE STAGE public.kept")
        first.execute(f"PUT file://{files}/a.csv @scratch.st")
        first.execute(f"PUT file://{files}/a.csv @public.kept")
        first.execute("DROP SCHEMA scratch")
    named = tmp_path / "home" / "stages" / "named"
    assert len(list(named.iterdir())) == 2
    with hoarfrost.connect(home=home) as second:
        assert [r[0] for r in rows(second, "LIST @public.kept")] == ["kept/a.csv.gz"]
    assert len(list(named.iterdir())) == 1
