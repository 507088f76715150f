"""Tags (issue 14, item 3): CREATE / DROP / SHOW TAGS with ALLOWED_VALUES, ALTER ... SET TAG /
UNSET TAG on tables, views, schemas and databases, SYSTEM$GET_TAG; who may set them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import snowflake.connector

import hoarfrost
from tests.server.conftest import Connect


@pytest.fixture
def con(tmp_path: Path) -> Iterator[hoarfrost.Connection]:
    with hoarfrost.connect(tmp_path / "acct") as connection:
        connection.execute(
            "CREATE TAG cost_center ALLOWED_VALUES 'finance', 'eng' COMMENT = 'who pays'"
        )
        connection.execute("CREATE TAG pii")
        connection.execute("CREATE TABLE t (a INT)")
        connection.execute("CREATE VIEW v AS SELECT a FROM t")
        yield connection


def value(con: hoarfrost.Connection, tag: str, name: str, domain: str) -> object:
    return con.execute(f"SELECT SYSTEM$GET_TAG('{tag}', '{name}', '{domain}')").fetchone()[0]


def test_tags_are_stored_and_shown(con: hoarfrost.Connection) -> None:
    shown = {r[1]: r for r in con.execute("SHOW TAGS").fetchall()}
    assert set(shown) == {"COST_CENTER", "PII"}
    assert shown["COST_CENTER"][5:7] == ("who pays", '["finance","eng"]')
    con.execute("ALTER TABLE t SET TAG cost_center = 'eng', pii = 'email'")
    con.execute("ALTER VIEW v SET TAG pii = 'none'")
    con.execute("ALTER SCHEMA public SET TAG cost_center = 'finance'")
    con.execute("ALTER DATABASE hoarfrost SET TAG pii = 'some'")
    assert value(con, "cost_center", "t", "table") == "eng"
    assert value(con, "pii", "hoarfrost.public.t", "table") == "email"
    assert value(con, "pii", "v", "view") == "none"
    assert value(con, "cost_center", "public", "schema") == "finance"
    assert value(con, "pii", "hoarfrost", "database") == "some"
    con.execute("ALTER TABLE t UNSET TAG pii")
    assert value(con, "pii", "t", "table") is None
    assert con.execute("SELECT count(*) FROM t").fetchone() == (0,)  # the table is untouched


def test_allowed_values_and_dropping(con: hoarfrost.Connection) -> None:
    with pytest.raises(hoarfrost.ProgrammingError) as info:
        con.execute("ALTER TABLE t SET TAG cost_center = 'sales'")
    assert "ALLOWED_VALUES are 'finance', 'eng'" in str(info.value)
    with pytest.raises(hoarfrost.ProgrammingError) as info:
        con.execute("ALTER TABLE t SET TAG no_such_tag = 'x'")
    assert "does not exist or not authorized" in str(info.value)
    con.execute("ALTER TABLE t SET TAG pii = 'email'")
    con.execute("DROP TAG pii")
    assert [r[1] for r in con.execute("SHOW TAGS").fetchall()] == ["COST_CENTER"]
    con.execute("CREATE TAG pii")  # a new tag of the same name carries no old values
    assert value(con, "pii", "t", "table") is None


def test_setting_a_tag_needs_apply_and_ownership(con: hoarfrost.Connection, tmp_path: Path) -> None:
    con.execute("CREATE ROLE tagger")
    con.execute("CREATE USER tess DEFAULT_ROLE = tagger")
    con.execute("GRANT ROLE tagger TO USER tess")
    con.execute("GRANT CREATE TABLE ON SCHEMA hoarfrost.public TO ROLE tagger")
    with hoarfrost.connect(tmp_path / "acct", user="tess") as tess:
        tess.execute("CREATE TABLE hers (a INT)")
        with pytest.raises(hoarfrost.ProgrammingError) as info:
            tess.execute("ALTER TABLE hers SET TAG pii = 'x'")  # no APPLY on the tag
        assert "does not exist or not authorized" in str(info.value)
        con.execute("GRANT APPLY ON TAG pii TO ROLE tagger")
        tess.execute("ALTER TABLE hers SET TAG pii = 'x'")
        with pytest.raises(hoarfrost.ProgrammingError) as info:
            tess.execute("ALTER TABLE t SET TAG pii = 'x'")  # not her table
        assert info.value.errno in (2003, 3001)
    assert value(con, "pii", "hers", "table") == "x"


def test_with_tag_at_creation(con: hoarfrost.Connection) -> None:
    con.execute("CREATE TABLE tagged (a INT) WITH TAG (cost_center = 'eng', pii = 'none')")
    assert value(con, "cost_center", "tagged", "table") == "eng"
    assert value(con, "pii", "tagged", "table") == "none"
    with pytest.raises(hoarfrost.ProgrammingError) as info:
        con.execute("CREATE TABLE refused (a INT) WITH TAG (cost_center = 'sales')")
    assert "ALLOWED_VALUES" in str(info.value)
    tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables")]
    assert "REFUSED" not in tables  # checked before the table was made


def test_tags_over_the_wire(connect: Connect) -> None:
    cur = connect(database="HOARFROST", schema="PUBLIC").cursor()
    cur.execute("CREATE OR REPLACE TAG wire_tag ALLOWED_VALUES 'a', 'b'")
    cur.execute("CREATE OR REPLACE TABLE wire_tagged (x INT) WITH TAG (wire_tag = 'a')")
    cur.execute("ALTER TABLE wire_tagged SET TAG wire_tag = 'b'")
    assert cur.execute("SELECT SYSTEM$GET_TAG('wire_tag', 'wire_tagged', 'table')").fetchone() == (
        "b",
    )
    assert "WIRE_TAG" in [r[1] for r in cur.execute("SHOW TAGS").fetchall()]
    with pytest.raises(snowflake.connector.errors.ProgrammingError) as info:
        cur.execute("ALTER TABLE wire_tagged SET TAG wire_tag = 'c'")
    assert info.value.errno == 1008
