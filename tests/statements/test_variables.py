"""Session variables and session parameters, in process and through the real connector."""

from __future__ import annotations

import datetime as dt

import pytest

import hoarfrost
from hoarfrost.errors import ProgrammingError, SqlSyntaxError
from tests.server.conftest import Connect


@pytest.fixture
def con() -> hoarfrost.Connection:
    return hoarfrost.connect(":memory:")


def test_set_and_read_variables(con: hoarfrost.Connection) -> None:
    con.execute("set v = 1")
    con.execute("set (a, b) = (10, 'x''y')")
    con.execute("set d = '2024-02-29'::date")
    con.execute("set n = (select count(*) from (values (1), (2)))")
    row = con.execute("select $v + $a, $b, $d, $n, $V").fetchone()
    assert row == (11, "x'y", dt.date(2024, 2, 29), 2, 1)
    con.execute("set v = $v + 1")  # a variable's expression may read variables
    assert con.execute("select $v").fetchone() == (2,)
    con.execute("create table vt (a int)")
    con.execute("insert into vt values ($a)")
    assert con.execute("select a from vt where a = $a").fetchall() == [(10,)]


def test_show_and_unset_variables(con: hoarfrost.Connection) -> None:
    con.execute("set (a, b) = (1, 'text')")
    cur = con.execute("show variables")
    names = [d[0] for d in cur.description]
    assert names == ["session_id", "created_on", "updated_on", "name", "value", "type", "comment"]
    rows = {r[3]: (r[4], r[5]) for r in cur.fetchall()}
    assert rows == {"A": ("1", "fixed"), "B": ("text", "text")}
    assert [r[3] for r in con.execute("show variables like 'a'").fetchall()] == ["A"]
    con.execute("unset a")
    con.execute("unset (b)")
    assert con.execute("show variables").fetchall() == []
    with pytest.raises(ProgrammingError) as caught:
        con.execute("select $a")
    assert caught.value.errno == 2211 and "Session variable '$A' does not exist" in str(
        caught.value
    )
    with pytest.raises(ProgrammingError):
        con.execute("unset a")


def test_positional_references_are_not_variables(con: hoarfrost.Connection) -> None:
    assert con.execute("select $1, $2 from values (1, 'a')").fetchone() == (1, "a")


def test_set_needs_one_value_per_name(con: hoarfrost.Connection) -> None:
    with pytest.raises(SqlSyntaxError):
        con.execute("set (a, b) = (1)")


def test_session_parameters_shown(con: hoarfrost.Connection) -> None:
    con.execute("alter session set query_tag = 'nightly' timestamp_type_mapping = timestamp_ltz")
    rows = {r[0]: r for r in con.execute("show parameters in session").fetchall()}
    assert rows["QUERY_TAG"][1] == "nightly" and rows["QUERY_TAG"][3] == "SESSION"
    assert rows["TIMESTAMP_TYPE_MAPPING"][1:4] == ("TIMESTAMP_LTZ", "TIMESTAMP_NTZ", "SESSION")
    assert rows["AUTOCOMMIT"][1:4] == ("true", "true", "")
    assert rows["TIMEZONE"][5] == "STRING" and rows["LOCK_TIMEOUT"][5] == "NUMBER"
    con.execute("alter session unset query_tag")
    (tag,) = con.execute("show parameters like 'QUERY_TAG' in session").fetchall()
    assert tag[1] == "" and tag[3] == ""


def test_variables_and_parameters_over_the_wire(connect: Connect) -> None:
    cur = connect().cursor()
    cur.execute("set threshold = 5")
    assert cur.execute("select $threshold * 2, %s", (3,)).fetchone() == (10, 3)
    cur.execute("alter session set query_tag = 'wire'")
    rows = cur.execute("show parameters like 'QUERY_TAG' in session").fetchall()
    assert rows[0][1] == "wire"
    other = connect().cursor()  # variables belong to their session
    with pytest.raises(Exception, match="does not exist"):
        other.execute("select $threshold")
