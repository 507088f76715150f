"""IMPORTS of Python functions: staged .py files, zips and data files on the worker's path,
recorded by sha256, frozen at CREATE, readable by the sandboxed worker and nothing else."""

from __future__ import annotations

import hashlib
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import hoarfrost

RUNTIME = f"{sys.version_info.major}.{sys.version_info.minor}"
MODULE = """
import os, sys

def double(x):
    return x * 2

def readme():
    directory = sys._xoptions["snowflake_import_directory"]
    return open(os.path.join(directory, "data.txt")).read().strip()

def peek(path):
    try:
        return open(path).read()[:20]
    except OSError as exc:
        return type(exc).__name__
"""


@pytest.fixture
def con(tmp_path: Path) -> Iterator[hoarfrost.Connection]:
    conn = hoarfrost.connect(home=str(tmp_path / "home"))
    src = tmp_path / "src"
    (src / "pkg" / "ziplib").mkdir(parents=True)
    (src / "mymod.py").write_text(MODULE)
    (src / "data.txt").write_text("hello from the stage\n")
    (src / "pkg" / "ziplib" / "__init__.py").write_text("def triple(x):\n    return x * 3\n")
    with zipfile.ZipFile(src / "lib.zip", "w") as archive:
        archive.write(src / "pkg" / "ziplib" / "__init__.py", "ziplib/__init__.py")
    conn.execute("CREATE STAGE code")
    for name in ("mymod.py", "data.txt", "lib.zip"):
        conn.execute(f"PUT file://{src}/{name} @code AUTO_COMPRESS = FALSE")
    yield conn
    conn.close()


def create(con: hoarfrost.Connection, sql: str) -> None:
    con.execute(sql.replace("{RT}", RUNTIME))


def test_handler_in_a_staged_module(con: hoarfrost.Connection, tmp_path: Path) -> None:
    create(
        con,
        "CREATE FUNCTION dbl(x INT) RETURNS INT LANGUAGE PYTHON RUNTIME_VERSION = '{RT}' IMPORTS = ('@code/mymod.py') HANDLER = 'mymod.double'",
    )
    assert con.execute("SELECT dbl(21)").fetchall() == [(42,)]
    described = dict(con.execute("DESCRIBE FUNCTION dbl(INT)").fetchall())
    digest = hashlib.sha256((tmp_path / "src" / "mymod.py").read_bytes()).hexdigest()
    assert described["imports"] == f"[@code/mymod.py (sha256:{digest})]"


def test_import_directory_and_data_files(con: hoarfrost.Connection) -> None:
    create(
        con,
        "CREATE FUNCTION readme() RETURNS STRING LANGUAGE PYTHON RUNTIME_VERSION = '{RT}' IMPORTS = ('@code/mymod.py', '@code/data.txt') HANDLER = 'mymod.readme'",
    )
    assert con.execute("SELECT readme()").fetchall() == [("hello from the stage",)]


def test_zip_on_the_path_and_frozen_at_create(con: hoarfrost.Connection) -> None:
    create(
        con,
        "CREATE FUNCTION tr(x INT) RETURNS INT LANGUAGE PYTHON RUNTIME_VERSION = '{RT}' IMPORTS = ('@code/lib.zip') HANDLER = 'f' AS $$\nfrom ziplib import triple\ndef f(x):\n    return triple(x)\n$$",
    )
    assert con.execute("SELECT tr(5)").fetchall() == [(15,)]
    con.execute("REMOVE @code/lib.zip")
    assert con.execute("SELECT tr(6)").fetchall() == [(18,)]
    with pytest.raises(
        hoarfrost.ProgrammingError, match=r"File '@code/lib\.zip' does not exist"
    ) as err:
        create(
            con,
            "CREATE OR REPLACE FUNCTION tr(x INT) RETURNS INT LANGUAGE PYTHON RUNTIME_VERSION = '{RT}' IMPORTS = ('@code/lib.zip') HANDLER = 'f' AS $$\ndef f(x):\n    return x\n$$",
        )
    assert err.value.errno == 2003
    assert con.execute("SELECT tr(7)").fetchall() == [(21,)]


def test_the_worker_reads_its_imports_and_no_other_staged_file(
    con: hoarfrost.Connection, tmp_path: Path
) -> None:
    con.execute("CREATE STAGE private")
    (tmp_path / "secret.txt").write_text("payroll")
    con.execute(f"PUT file://{tmp_path}/secret.txt @private AUTO_COMPRESS = FALSE")
    (staged,) = (tmp_path / "home" / "stages" / "named").rglob("secret.txt")
    create(
        con,
        "CREATE FUNCTION peek(p STRING) RETURNS STRING LANGUAGE PYTHON RUNTIME_VERSION = '{RT}' IMPORTS = ('@code/mymod.py') HANDLER = 'mymod.peek'",
    )
    assert con.execute("SELECT peek(?)", [str(staged)]).fetchone()[0] in (
        "PermissionError",
        "FileNotFoundError",
    )
