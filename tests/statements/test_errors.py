"""Errors in the reference's words: no DuckDB or sqlglot wording reaches a user, and a statement
hoarfrost does not support is named whole."""

from __future__ import annotations

import pytest
import snowflake.connector

import hoarfrost
from hoarfrost.errors import Error
from tests.server.conftest import Connect

# Wording of the engines underneath, which must never reach a user.
FOREIGN = (
    "TransactionContext",
    "Conversion Error",
    "Could not convert",
    "Unknown TimeZone",
    "Unimplemented type",
    "property",
    "json_object()",
    "DuckDB",
    "INT64",
    "field format",
)


@pytest.fixture
def con() -> hoarfrost.Connection:
    return hoarfrost.connect(":memory:")


CASES = {
    "numeric": ("select 'x'::int", 100038, "Numeric value 'x' is not recognized"),
    "date": ("select 'x'::date", 100040, "Date 'x' is not recognized"),
    "timestamp": ("select 'x'::timestamp", 100035, "Timestamp 'x' is not recognized"),
    "time": ("select '25:00'::time", 100108, "Time '25:00' is not recognized"),
    "boolean": ("select 'maybe'::boolean", 100037, "Boolean value 'maybe' is not recognized"),
    "time zone": (
        "select '2024-01-01 10:00:00 Mars/Olympus'::timestamp_tz",
        100035,
        "is not recognized",
    ),
    "cast": ("select true::date", 1044, "Invalid argument types for function 'CAST'"),
    "stream": (
        "create or replace stream s on table t",
        2,
        "unsupported statement 'CREATE OR REPLACE STREAM'",
    ),
    "temporary stream": (
        "create temporary stream s on table t",
        2,
        "unsupported statement 'CREATE TEMPORARY STREAM'",
    ),
    "materialized view": (
        "create materialized view mv as select 1 a",
        2,
        "MATERIALIZED",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_reference_wording_in_process(name: str, con: hoarfrost.Connection) -> None:
    sql, errno, words = CASES[name]
    with pytest.raises(Error) as caught:
        con.execute(sql)
    assert caught.value.errno == errno, caught.value
    assert words in caught.value.msg
    assert not any(w in caught.value.msg for w in FOREIGN), caught.value.msg


def test_storage_options_are_accepted(con: hoarfrost.Connection) -> None:
    con.execute(
        "create table opts (a int) data_retention_time_in_days = 1 change_tracking = true "
        "copy grants"
    )
    con.execute("create tag cost_center")  # WITH TAG names a tag that exists (the reference)
    con.execute("create table tagged (a int) with tag (cost_center = 'x')")
    assert con.execute("select count(*) from opts").fetchone() == (0,)


@pytest.mark.parametrize("name", ["numeric", "time zone", "cast", "stream"])
def test_reference_wording_over_the_wire(name: str, connect: Connect) -> None:
    sql, errno, words = CASES[name]
    with pytest.raises(snowflake.connector.errors.Error) as caught:
        connect().cursor().execute(sql)
    assert caught.value.errno == errno
    assert words in str(caught.value.msg)
    assert not any(w in str(caught.value.msg) for w in FOREIGN)
