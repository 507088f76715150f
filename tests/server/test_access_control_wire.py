"""Access control over the wire (issue 11): three users of one `hoarfrost serve`, each logged in
with the real connector: the administrator from HOARFROST_SERVER_USERS, an analyst with a
custom role created with SQL, and a user with PUBLIC only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import snowflake.connector
from snowflake.connector.errors import DatabaseError, ProgrammingError

from tests.server.conftest import ServedAccount

ANALYST, ANALYST_PW = "ana", "Ana-Wire-Pa55"
PLAIN, PLAIN_PW = "paul", "Paul-Wire-Pa55"


@pytest.fixture(scope="module")
def account(served: ServedAccount) -> Iterator[ServedAccount]:
    with served.connect() as admin:
        cur = admin.cursor()
        for sql in (
            "CREATE ROLE analyst",
            f"CREATE USER {ANALYST} PASSWORD = '{ANALYST_PW}' DEFAULT_ROLE = analyst",
            f"CREATE USER {PLAIN} PASSWORD = '{PLAIN_PW}'",
            f"GRANT ROLE analyst TO USER {ANALYST}",
            "CREATE TABLE alice_private (v VARCHAR)",
            "INSERT INTO alice_private VALUES ('alice-only')",
            "CREATE SECRET alice_secret TYPE = PASSWORD USERNAME = 'u' PASSWORD = 'Alice-S3cret'",
        ):
            cur.execute(sql)
    yield served


def one(conn: Any, sql: str) -> Any:
    return conn.cursor().execute(sql).fetchone()


def test_login_roles(account: ServedAccount) -> None:
    with account.connect() as admin:
        assert one(admin, "SELECT CURRENT_ROLE()") == ("ACCOUNTADMIN",)
    with account.connect(user=ANALYST, password=ANALYST_PW) as ana:
        assert one(ana, "SELECT CURRENT_ROLE(), CURRENT_USER()") == ("ANALYST", "ANA")
    with account.connect(user=ANALYST, password=ANALYST_PW, role="PUBLIC") as ana:
        assert one(ana, "SELECT CURRENT_ROLE()") == ("PUBLIC",)
    # a role the user does not hold is not given: the default role (PUBLIC here) is
    with account.connect(user=PLAIN, password=PLAIN_PW, role="ACCOUNTADMIN") as paul:
        assert one(paul, "SELECT CURRENT_ROLE()") == ("PUBLIC",)
        with pytest.raises(ProgrammingError) as info:
            paul.cursor().execute("USE ROLE accountadmin")
        assert info.value.errno == 3013 and info.value.sqlstate == "42501"


def test_wrong_password_and_disabled_user(account: ServedAccount) -> None:
    with pytest.raises(DatabaseError) as info:
        account.connect(user=ANALYST, password="not-her-password")
    assert info.value.errno == 390100
    with account.connect() as admin:
        admin.cursor().execute(f"ALTER USER {PLAIN} SET DISABLED = TRUE")
        try:
            with pytest.raises(DatabaseError) as info:
                account.connect(user=PLAIN, password=PLAIN_PW)
            assert info.value.errno == 390101
            assert "User access disabled" in str(info.value)
        finally:
            admin.cursor().execute(f"ALTER USER {PLAIN} SET DISABLED = FALSE")


def test_users_stay_in_their_lane(account: ServedAccount) -> None:
    with account.connect(user=PLAIN, password=PLAIN_PW) as paul:
        cur = paul.cursor()
        for sql in (
            "SELECT * FROM alice_private",
            "DESCRIBE SECRET alice_secret",
            "ALTER SECRET alice_secret SET COMMENT = 'mine now'",
        ):
            with pytest.raises(ProgrammingError) as info:
                cur.execute(sql)
            assert info.value.errno == 2003, sql  # does not exist or not authorized
        cur.execute("SELECT 'paul-query-literal'")
        history = cur.execute(
            "SELECT query_text FROM TABLE(INFORMATION_SCHEMA.QUERY_HISTORY())"
        ).fetchall()
        assert not any("alice-only" in r[0] for r in history)  # the admin's INSERT
        assert any("paul-query-literal" in r[0] for r in history)
        assert [r[0] for r in cur.execute("SHOW USERS").fetchall()] == [PLAIN.upper()]


def test_a_grant_lets_a_user_in_and_a_revoke_shuts_them_out(account: ServedAccount) -> None:
    with account.connect() as admin, account.connect(user=ANALYST, password=ANALYST_PW) as ana:
        with pytest.raises(ProgrammingError):
            ana.cursor().execute("SELECT * FROM alice_private")
        admin.cursor().execute("GRANT SELECT ON TABLE alice_private TO ROLE analyst")
        assert one(ana, "SELECT * FROM alice_private") == ("alice-only",)
        admin.cursor().execute("REVOKE SELECT ON TABLE alice_private FROM ROLE analyst")
        with pytest.raises(ProgrammingError):
            ana.cursor().execute("SELECT * FROM alice_private")


def test_show_grants_as_tools_send_it(account: ServedAccount) -> None:
    with account.connect() as admin:
        cur = admin.cursor()
        names = [d[0] for d in cur.execute("SHOW GRANTS TO ROLE analyst").description]
        assert names[:4] == ["created_on", "privilege", "granted_on", "name"]
        of = cur.execute("SHOW GRANTS OF ROLE analyst").fetchall()
        assert [(r[2], r[3]) for r in of] == [("USER", ANALYST.upper())]
        assert ("ACCOUNTADMIN",) in [(r[1],) for r in cur.execute("SHOW ROLES").fetchall()]


def test_connector_rejects_nothing_it_sends_at_login(account: ServedAccount) -> None:
    # what SQLAlchemy and dbt send right after login
    conn = snowflake.connector.connect(
        host="127.0.0.1",
        port=account.port,
        protocol="http",
        account="hoarfrost",
        user=ANALYST,
        password=ANALYST_PW,
        role="ANALYST",
        database="HOARFROST",
        schema="PUBLIC",
        login_timeout=10,
    )
    with conn:
        cur = conn.cursor()
        assert cur.execute("SELECT CURRENT_DATABASE(), CURRENT_SCHEMA()").fetchone() == (
            "HOARFROST",
            "PUBLIC",
        )
        assert cur.execute("SHOW GRANTS").fetchall()
