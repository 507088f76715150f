"""The server's parts on their own: encoding, bindings, users, tokens, loopback."""

from __future__ import annotations

import datetime as dt
import stat
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner

from hoarfrost.cli import cli
from hoarfrost.config import Settings
from hoarfrost.engine.result import Column, Result
from hoarfrost.errors import ConfigurationError, ProgrammingError
from hoarfrost.server.auth import CREDENTIALS_FILE, Password, load_users, parse_users
from hoarfrost.server.bindings import (
    bound_statements,
    count_placeholders,
    from_wire,
    parameterized,
)
from hoarfrost.server.encoding import encode_column, rowset, rowtype_entry
from hoarfrost.server.run import check_loopback
from hoarfrost.server.sessions import SessionRegistry, TokenState


# -- encoding -----------------------------------------------------------------------------
def test_fixed_and_real_cells() -> None:
    fixed = Column("N", "FIXED", 10, 2)
    cells = encode_column(
        fixed, pa.array([Decimal("1.5"), Decimal("-0.25"), None], pa.decimal128(10, 2))
    )
    assert cells == ["1.50", "-0.25", None]
    assert encode_column(Column("I", "FIXED", 38, 0), pa.array([7, None])) == ["7", None]
    real = encode_column(Column("F", "REAL"), pa.array([1.5, float("nan"), float("-inf")]))
    assert real == ["1.5", "NaN", "-inf"]


def test_time_and_timestamp_cells_keep_nanoseconds() -> None:
    ns = pa.array([1_700_000_000_123_456_789, -500_000_000, None], pa.timestamp("ns"))
    assert encode_column(Column("T", "TIMESTAMP_NTZ"), ns) == [
        "1700000000.123456789",
        "-0.500000000",
        None,
    ]
    times = pa.array([3723_000_001_000, None], pa.time64("ns"))
    assert encode_column(Column("T", "TIME"), times) == ["3723.000001000", None]
    assert encode_column(Column("D", "DATE"), pa.array([dt.date(1969, 12, 31)])) == ["-1"]


def test_timestamp_tz_cells_carry_the_offset() -> None:
    paris = pa.array(
        [dt.datetime(2024, 7, 1, 10, 0, tzinfo=dt.timezone.utc)],
        pa.timestamp("us", tz="Europe/Paris"),
    )
    assert encode_column(Column("T", "TIMESTAMP_TZ"), paris) == ["1719828000.000000000 1560"]
    utc = pa.array(
        [dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=dt.timezone.utc)], pa.timestamp("us", tz="UTC")
    )
    assert encode_column(Column("T", "TIMESTAMP_TZ"), utc) == ["1.000000000 1440"]


def test_other_cells() -> None:
    assert encode_column(Column("B", "BOOLEAN"), pa.array([True, False, None])) == ["1", "0", None]
    assert encode_column(Column("X", "BINARY"), pa.array([b"\x01\xab"])) == ["01AB"]
    assert encode_column(Column("V", "VARIANT"), pa.array(['{"a":1}'])) == ['{"a":1}']
    assert encode_column(Column("S", "TEXT"), pa.array([1, 2])) == ["1", "2"]


def test_rowset_is_row_major_and_rowtype_is_complete() -> None:
    columns = [Column("A", "FIXED", 38, 0), Column("B", "TEXT", length=10)]
    table = pa.table({"A": [1, 2], "B": ["x", None]})
    assert rowset(Result(columns, table)) == [["1", "x"], ["2", None]]
    entry = rowtype_entry(columns[1])
    required = {"name", "type", "length", "precision", "scale", "nullable", "byteLength"}
    assert required <= set(entry) and entry["type"] == "text" and entry["length"] == 10
    assert rowtype_entry(Column("T", "TIMESTAMP_NTZ"))["scale"] == 9


# -- bindings -----------------------------------------------------------------------------
def test_wire_values() -> None:
    assert from_wire("FIXED", "10") == 10 and from_wire("FIXED", "1.25") == Decimal("1.25")
    assert from_wire("REAL", "NaN") != from_wire("REAL", "NaN")
    assert from_wire("BOOLEAN", "true") is True and from_wire("BOOLEAN", "false") is False
    assert from_wire("DATE", "86400000") == dt.date(1970, 1, 2)
    assert from_wire("TIME", "3723000004000") == dt.time(1, 2, 3, 4)
    assert from_wire("TIMESTAMP_NTZ", "1000000001000") == dt.datetime(1970, 1, 1, 0, 16, 40, 1)
    aware = from_wire("TIMESTAMP_LTZ", "0")
    assert aware == dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    assert from_wire("BINARY", "00ff") == b"\x00\xff"
    assert from_wire("ANY", None) is None
    with pytest.raises(ProgrammingError):
        from_wire("FIXED", "ten")


def test_placeholders_in_strings_and_comments_are_kept() -> None:
    bindings = {"1": {"type": "TEXT", "value": "it's"}, "2": {"type": "FIXED", "value": "2"}}
    sql = "select ?, '?' /* ? */, ? -- ?"
    assert bound_statements(sql, bindings) == ["select 'it\\'s', '?' /* ? */, 2 -- ?"]
    assert count_placeholders(sql) == 2
    numeric = {"1": {"type": "FIXED", "value": "1"}, "2": {"type": "TEXT", "value": "b"}}
    assert bound_statements("select :2, :1, ':1'", numeric) == ["select 'b', 1, ':1'"]
    assert bound_statements("select ?", {"1": {"type": "REAL", "value": "1.5"}}) == [
        "select 1.5::FLOAT"
    ]


def test_bound_values_stay_parameters_with_one_text_for_any_values() -> None:
    def kept(sql: str, *values: str) -> tuple[str, list[list[object]]] | None:
        bindings = {str(i + 1): {"type": "TEXT", "value": v} for i, v in enumerate(values)}
        return parameterized(sql, bindings)

    sql = "select ?, '?' /* ? */, ? -- ?"
    assert kept(sql, "a", "b") == ("select ?, '?' /* ? */, ? -- ?", [["a", "b"]])
    assert kept(sql, "c", "d") == ("select ?, '?' /* ? */, ? -- ?", [["c", "d"]])
    # numeric placeholders, one used twice, become ? in order with their values repeated
    assert kept("select :2, :1, :2, ':1'", "x", "y") == (
        "select ?, ?, ?, ':1'",
        [["y", "x", "y"]],
    )
    array = {"1": {"type": "FIXED", "value": ["1", "2"]}, "2": {"type": "TEXT", "value": "t"}}
    assert parameterized("insert into t values (?, ?)", array) == (
        "insert into t values (?, ?)",
        [[1, "t"], [2, "t"]],
    )
    # values whose type only a cast keeps, and % tokens, stay inlined
    assert parameterized("select ?", {"1": {"type": "REAL", "value": "1.5"}}) is None
    assert kept("select 7 % 2, ?", "a") is None
    with pytest.raises(ProgrammingError):
        kept("select :3", "a")


def test_array_bindings_give_one_statement_per_row() -> None:
    bindings = {
        "1": {"type": "FIXED", "value": ["1", "2"]},
        "2": {"type": "TEXT", "value": ["a", None]},
    }
    assert bound_statements("insert into t values (?, ?)", bindings) == [
        "insert into t values (1, 'a')",
        "insert into t values (2, NULL)",
    ]
    with pytest.raises(ProgrammingError):
        bound_statements(
            "select ?, ?",
            {"1": {"type": "TEXT", "value": ["a"]}, "2": {"type": "TEXT", "value": ["a", "b"]}},
        )
    with pytest.raises(ProgrammingError):
        bound_statements("select :name", {"name": {"type": "TEXT", "value": "x"}})
    with pytest.raises(ProgrammingError):
        bound_statements("select ?, ?", {"1": {"type": "TEXT", "value": "x"}})


# -- users --------------------------------------------------------------------------------
def test_users_from_the_environment_setting() -> None:
    users, notice = load_users(Settings({"server_users": "Alice:pw1, bob:p:w"}, env={}), None)
    assert notice is None
    assert users.verify("alice", "pw1") == "ALICE" and users.verify("BOB", "p:w") == "BOB"
    assert users.verify("alice", "pw2") is None and users.verify("eve", "pw1") is None
    assert "pw1" not in repr(users)


def test_bad_user_entries_do_not_echo_passwords() -> None:
    with pytest.raises(ConfigurationError) as bad:
        parse_users("alice-hunter2", "HOARFROST_SERVER_USERS")
    assert "hunter2" not in str(bad.value)
    with pytest.raises(ConfigurationError):
        parse_users(" , ", "x")
    assert "s3cr3t" not in repr(Password("s3cr3t"))


def test_users_file(tmp_path: Path) -> None:
    path = tmp_path / "users"
    path.write_text("# wire users\ncarol:pw3\n")
    users, _ = load_users(Settings({"server_users_file": str(path)}, env={}), None)
    assert users.verify("carol", "pw3") == "CAROL"
    with pytest.raises(ConfigurationError):
        load_users(Settings({"server_users_file": str(tmp_path / "missing")}, env={}), None)


def test_generated_password_is_kept_private_in_the_home(tmp_path: Path) -> None:
    settings = Settings({}, env={})
    users, notice = load_users(settings, tmp_path)
    path = tmp_path / CREDENTIALS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    name, _, password = path.read_text().strip().partition(":")
    assert notice is not None and str(path) in notice and password not in notice
    assert users.verify(name, password) == "HOARFROST"
    again, _ = load_users(settings, tmp_path)
    assert again.verify(name, password) == "HOARFROST"  # the same password after a restart


def test_in_memory_account_shows_its_password_once() -> None:
    users, notice = load_users(Settings({}, env={}), None)
    assert notice is not None
    password = notice.split("generated password ")[1].split()[0]
    assert users.verify("hoarfrost", password) == "HOARFROST"


# -- tokens -------------------------------------------------------------------------------
class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _FakeSession:
    id = 7
    closed = False

    def close(self) -> None:
        self.closed = True


def test_tokens_expire_and_renew_with_the_master_token() -> None:
    clock = _Clock()
    registry = SessionRegistry(ttl=10, clock=clock)
    session = _FakeSession()
    entry = registry.create(session)  # type: ignore[arg-type]
    assert registry.lookup(entry.token) == (TokenState.VALID, entry)
    assert registry.lookup("forged")[0] == TokenState.UNKNOWN
    clock.now = 11
    assert registry.lookup(entry.token)[0] == TokenState.EXPIRED
    old_token, old_master = entry.token, entry.master_token
    assert registry.renew("forged", old_token) is None
    renewed = registry.renew(old_master, old_token)
    assert renewed is entry and entry.token != old_token
    assert registry.lookup(old_token)[0] == TokenState.UNKNOWN
    assert registry.lookup(entry.token)[0] == TokenState.VALID
    assert registry.renew(old_master, old_token) is None  # a master token is used once
    clock.now = 11 + 41
    assert registry.renew(entry.master_token, entry.token) is None  # the master expired too
    registry.close(entry)
    assert session.closed and len(registry) == 0


def test_abandoned_sessions_are_closed() -> None:
    clock = _Clock()
    registry = SessionRegistry(ttl=10, clock=clock)
    abandoned = _FakeSession()
    registry.create(abandoned)  # type: ignore[arg-type]
    clock.now = 41
    registry.create(_FakeSession())  # type: ignore[arg-type]
    assert abandoned.closed and len(registry) == 1


# -- loopback -----------------------------------------------------------------------------
def test_only_loopback_addresses() -> None:
    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        check_loopback(host)
    for host in ("0.0.0.0", "192.168.1.10", "example.com", "::"):
        with pytest.raises(ConfigurationError):
            check_loopback(host)


def test_serve_refuses_a_public_address(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "--home", str(tmp_path), "--host", "0.0.0.0"])
    assert result.exit_code == 1
    assert "loopback" in result.output
