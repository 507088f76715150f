"""Secrets stay secret: not in any file of the home, the query history, or an error message."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import hoarfrost

PASSWORDS = ["s3cr3t-Passw0rd-ALPHA", "tok-BRAVO-9f8e7d6c5b4a", "generic-CHARLIE-token"]


def _exercise(home: Path, errors: list[str]) -> None:
    with hoarfrost.connect(home) as con:
        con.execute(
            f"CREATE SECRET s1 TYPE = PASSWORD USERNAME = 'alice' PASSWORD = '{PASSWORDS[0]}'"
        )
        con.execute(f"ALTER SECRET s1 SET PASSWORD = '{PASSWORDS[1]}'")
        con.execute("CREATE SECRET s2 TYPE = GENERIC_STRING SECRET_STRING = %s", [PASSWORDS[2]])
        bad = [
            f"CREATE SECRET s1 TYPE = PASSWORD USERNAME = 'a' PASSWORD = '{PASSWORDS[0]}'",
            f"CREATE SECRET s3 TYPE = PASSWORD USERNAME = 'a' PASSWORD = '{PASSWORDS[0]}' X = 1",
            f"CREATE SECRET s3 TYPE = GENERIC_STRING PASSWORD = '{PASSWORDS[1]}'",
            f"ALTER SECRET s1 SET SECRET_STRING = '{PASSWORDS[2]}'",
            f"ALTER SECRET nosuch SET PASSWORD = '{PASSWORDS[2]}'",
            f"CREATE SECRET s4 TYPE = PASSWORD USERNAME = 'a' PASSWORD = '{PASSWORDS[0]}",
            f"CREATE SECRET s4 TYPE = PASSWORD USERNAME 'a' PASSWORD = '{PASSWORDS[0]}'",
        ]
        for sql in bad:
            with pytest.raises(hoarfrost.Error) as info:
                con.execute(sql)
            errors.append(str(info.value))
        con.execute("SELECT 1")
        con.execute("SHOW SECRETS")
        errors.append(repr(con.execute("DESCRIBE SECRET s1").fetchall()))
        errors.append(repr(con.execute("SHOW SECRETS").fetchall()))
        history = con.execute(
            "SELECT query_text, error_message FROM TABLE(INFORMATION_SCHEMA.QUERY_HISTORY())"
        ).fetchall()
        errors.append(repr(history))
        assert any("CREATE SECRET s1" in (text or "") for text, _ in history)


def test_no_secret_value_anywhere(tmp_path: Path) -> None:
    home = tmp_path / "acct"
    seen: list[str] = []
    _exercise(home, seen)
    files = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.name == "catalog.duckdb" for p in files)
    for path in files:
        data = path.read_bytes()
        for value in PASSWORDS:
            assert value.encode() not in data, f"{value} found in {path}"
            assert value.encode("utf-16-le") not in data
    text = "\n".join(seen)
    for value in PASSWORDS:
        assert value not in text
    assert "alice" in text  # the username is shown, so the check above looks at real output


def test_secret_usable_after_reopen(tmp_path: Path) -> None:
    """The encrypted value decrypts with the key file kept in the home (mode 0600)."""
    from hoarfrost.catalog.secrets import read_secret

    home = tmp_path / "acct"
    with hoarfrost.connect(home) as con:
        con.execute(f"CREATE SECRET s TYPE = PASSWORD USERNAME = 'u' PASSWORD = '{PASSWORDS[0]}'")
    mode = stat.S_IMODE(os.stat(home / "master.key").st_mode)
    assert mode == 0o600
    with hoarfrost.connect(home) as con:
        obj = con.engine.catalog.get("SECRET", "HOARFROST", "PUBLIC", "S")
        value = read_secret(con.session, obj)
        assert value.value == PASSWORDS[0]
        assert PASSWORDS[0] not in repr(value)


def test_master_key_from_environment(tmp_path: Path) -> None:
    key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
    home = tmp_path / "acct"
    with hoarfrost.connect(home, master_key=key) as con:
        con.execute("CREATE SECRET s TYPE = GENERIC_STRING SECRET_STRING = 'abc'")
    assert not (home / "master.key").exists()
    other = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="
    from hoarfrost.catalog.secrets import read_secret

    with hoarfrost.connect(home, master_key=other) as con:
        obj = con.engine.catalog.get("SECRET", "HOARFROST", "PUBLIC", "S")
        with pytest.raises(hoarfrost.InternalError, match="master key differs"):
            read_secret(con.session, obj)
