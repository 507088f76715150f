"""Access control as the reference has it (issue 11): users in the catalog, the role hierarchy,
USE ROLE, privileges on objects with grants and revokes, what each user sees.

Three users share one account: the first administrator (the local user HOARFROST), an analyst
holding a custom role, and a user with PUBLIC only. The same account is driven through
``hoarfrost.connect(user=..., role=...)``; tests/server/test_access_control_wire.py drives it
through ``hoarfrost serve`` with the real connector.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import hoarfrost

USE_ROLE_REFUSED = (
    "003013 (42501): SQL access control error:\nRequested role '{role}' is not assigned to the "
    "executing user.  Specify another role to activate."
)


def rows(con: Any, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in con.execute(sql).fetchall()]


def error(con: Any, sql: str) -> str:
    with pytest.raises(hoarfrost.Error) as info:
        con.execute(sql)
    return str(info.value)


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "acct"
    with hoarfrost.connect(home) as admin:
        for sql in (
            "CREATE ROLE analyst",
            "CREATE ROLE senior",
            "GRANT ROLE analyst TO ROLE senior",
            "CREATE USER ann PASSWORD = 'Ann-Pa55word' DEFAULT_ROLE = analyst",
            "CREATE USER pete PASSWORD = 'Pete-Pa55word'",
            "GRANT ROLE senior TO USER ann",
        ):
            admin.execute(sql)
    yield home


def connect(home: Path, user: str, role: str | None = None) -> Any:
    extra = {"role": role} if role else {}
    return hoarfrost.connect(home, user=user, **extra)


def test_login_role_is_the_requested_held_role_else_the_default_else_public(home: Path) -> None:
    with connect(home, "ann", "SENIOR") as con:
        assert rows(con, "SELECT CURRENT_ROLE()") == [("SENIOR",)]
    with connect(home, "ann", "ACCOUNTADMIN") as con:  # not held: her default role
        assert rows(con, "SELECT CURRENT_ROLE(), CURRENT_USER()") == [("ANALYST", "ANN")]
    with connect(home, "pete", "ACCOUNTADMIN") as con:  # no default role: PUBLIC
        assert rows(con, "SELECT CURRENT_ROLE()") == [("PUBLIC",)]
    with connect(home, "hoarfrost") as con:
        assert rows(con, "SELECT CURRENT_ROLE()") == [("ACCOUNTADMIN",)]


def test_use_role_through_the_hierarchy_and_refused_otherwise(home: Path) -> None:
    with connect(home, "ann") as con:
        con.execute("USE ROLE senior")
        con.execute("USE ROLE analyst")  # inherited by senior, which ann holds
        con.execute("USE ROLE public")
        assert error(con, "USE ROLE accountadmin") == USE_ROLE_REFUSED.format(role="ACCOUNTADMIN")
        assert error(con, "USE ROLE nobody_has_this") == (
            "002003 (02000): SQL compilation error:\nRole 'NOBODY_HAS_THIS' does not exist or "
            "not authorized."
        )
        assert rows(con, "SELECT CURRENT_ROLE()") == [("PUBLIC",)]
        available = rows(con, "SELECT CURRENT_AVAILABLE_ROLES()")[0][0]
        assert available == '["ANALYST", "PUBLIC", "SENIOR"]'
        con.execute("USE ROLE senior")
        assert rows(
            con, "SELECT IS_ROLE_IN_SESSION('ANALYST'), IS_ROLE_IN_SESSION('SYSADMIN')"
        ) == [(True, False)]
    with connect(home, "pete") as con:
        assert error(con, "USE ROLE analyst") == USE_ROLE_REFUSED.format(role="ANALYST")
        assert "Insufficient privileges" in error(con, "GRANT ROLE analyst TO USER pete")


def test_grant_and_revoke_a_role_take_effect_at_once(home: Path) -> None:
    with connect(home, "hoarfrost") as admin, connect(home, "pete") as pete:
        assert error(pete, "USE ROLE analyst").startswith("003013")
        admin.execute("GRANT ROLE analyst TO USER pete")
        pete.execute("USE ROLE analyst")
        admin.execute("REVOKE ROLE analyst FROM USER pete")
        pete.execute("USE ROLE public")
        assert error(pete, "USE ROLE analyst").startswith("003013")


def test_role_cycles_are_refused(home: Path) -> None:
    with connect(home, "hoarfrost") as admin:
        message = error(admin, "GRANT ROLE senior TO ROLE analyst")
        assert message.startswith(
            "001008 (22023): SQL compilation error:\nCannot grant role 'SENIOR'"
        )
        assert "cannot inherit itself" in message
        assert "cannot inherit itself" in error(admin, "GRANT ROLE analyst TO ROLE analyst")


def test_users_are_managed_with_sql_and_passwords_never_shown(home: Path) -> None:
    with connect(home, "hoarfrost") as admin:
        shown = {r[0]: r for r in rows(admin, "SHOW USERS")}
        assert set(shown) == {"HOARFROST", "ANN", "PETE"}
        columns = [d[0] for d in admin.execute("SHOW USERS").description]
        ann = dict(zip(columns, shown["ANN"], strict=True))
        assert ann["default_role"] == "ANALYST" and ann["has_password"] == "true"
        text = repr(rows(admin, "SHOW USERS")) + repr(rows(admin, "DESCRIBE USER ann"))
        assert "Ann-Pa55word" not in text and "scrypt" not in text
        history = repr(
            rows(admin, "SELECT query_text FROM TABLE(INFORMATION_SCHEMA.QUERY_HISTORY())")
        )
        assert "Ann-Pa55word" not in history and "PASSWORD = '***'" in history
        admin.execute("ALTER USER pete SET DISABLED = TRUE")
    with pytest.raises(hoarfrost.Error) as info:
        connect(home, "pete")
    assert str(info.value) == (
        "390101 (08004): User access disabled. Contact your local system administrator."
    )
    with pytest.raises(hoarfrost.Error) as info:
        connect(home, "nobody")
    assert str(info.value) == "390100 (08004): Incorrect username or password was specified."
    with connect(home, "ann") as ann:  # users see themselves only, without MONITOR
        assert [r[0] for r in rows(ann, "SHOW USERS")] == ["ANN"]
        assert error(ann, "ALTER USER pete SET DISABLED = FALSE") == (
            "002003 (42S02): SQL compilation error:\nObject 'PETE' does not exist or not "
            "authorized."
        )
        ann.execute("ALTER USER ann SET DEFAULT_ROLE = senior")  # her own defaults: allowed
    with connect(home, "ann") as ann:
        assert rows(ann, "SELECT CURRENT_ROLE()") == [("SENIOR",)]
    with connect(home, "hoarfrost") as admin:
        admin.execute("DROP USER pete")
        assert "PETE" not in {r[0] for r in rows(admin, "SHOW USERS")}


def test_show_roles_and_grants(home: Path) -> None:
    with connect(home, "hoarfrost") as admin:
        roles = {r[1]: r for r in rows(admin, "SHOW ROLES")}
        assert {"ACCOUNTADMIN", "SECURITYADMIN", "USERADMIN", "SYSADMIN", "PUBLIC"} <= set(roles)
        # assigned to users, granted to roles, granted roles
        assert roles["ANALYST"][5:8] == (0, 1, 0)
        assert roles["SENIOR"][5:8] == (1, 0, 1)
        of = rows(admin, "SHOW GRANTS OF ROLE senior")
        assert [(r[1], r[2], r[3]) for r in of] == [("SENIOR", "USER", "ANN")]
        to = rows(admin, "SHOW GRANTS TO ROLE senior")
        assert ("USAGE", "ROLE", "ANALYST") in [(r[1], r[2], r[3]) for r in to]
        assert [r[1] for r in rows(admin, "SHOW GRANTS TO USER ann")] == ["SENIOR"]


def _secret_and_repo(admin: Any) -> None:
    admin.execute(
        "CREATE SECRET team_secret TYPE = PASSWORD USERNAME = 'u' PASSWORD = 'Team-Secret-Pw'"
    )


def test_privileges_on_a_secret_granted_then_revoked(home: Path) -> None:
    with connect(home, "hoarfrost") as admin, connect(home, "ann") as ann:
        _secret_and_repo(admin)
        not_found = (
            "002003 (42S02): SQL compilation error:\nObject 'HOARFROST.PUBLIC.TEAM_SECRET' does "
            "not exist or not authorized."
        )
        assert error(ann, "DESCRIBE SECRET team_secret") == not_found
        assert rows(ann, "SHOW SECRETS") == []
        admin.execute("GRANT USAGE ON SECRET team_secret TO ROLE analyst")
        assert rows(ann, "DESCRIBE SECRET team_secret")
        assert [r[1] for r in rows(ann, "SHOW SECRETS")] == ["TEAM_SECRET"]
        assert "needs OWNERSHIP" in error(ann, "ALTER SECRET team_secret SET COMMENT = 'x'")
        admin.execute("REVOKE USAGE ON SECRET team_secret FROM ROLE analyst")
        assert error(ann, "DESCRIBE SECRET team_secret") == not_found
        # ownership moves: the new owner may alter, the old grants are gone
        admin.execute("GRANT OWNERSHIP ON SECRET team_secret TO ROLE analyst")
        ann.execute("ALTER SECRET team_secret SET COMMENT = 'now mine'")
        owned = [r for r in rows(admin, "SHOW GRANTS TO ROLE analyst") if r[1] == "OWNERSHIP"]
        assert [(r[2], r[3]) for r in owned] == [("SECRET", "HOARFROST.PUBLIC.TEAM_SECRET")]


def test_dropping_a_role_gives_what_it_owned_to_the_dropping_role(home: Path) -> None:
    with connect(home, "hoarfrost") as admin:
        _secret_and_repo(admin)
        admin.execute("GRANT OWNERSHIP ON SECRET team_secret TO ROLE analyst")
        admin.execute("DROP ROLE analyst")
        owners = {r[1]: r[4] for r in rows(admin, "SHOW SECRETS")}
        assert owners == {"TEAM_SECRET": "ACCOUNTADMIN"}
        assert "ANALYST" not in {r[1] for r in rows(admin, "SHOW ROLES")}
    with connect(home, "ann") as ann:  # her default role is gone: PUBLIC
        assert rows(ann, "SELECT CURRENT_ROLE()") == [("PUBLIC",)]


def test_query_history_shows_a_user_their_own_queries(home: Path) -> None:
    with connect(home, "hoarfrost") as admin, connect(home, "ann") as ann:
        admin.execute("SELECT 'admin-literal-41'")
        ann.execute("SELECT 'ann-literal-42'")
        sql = "SELECT query_text FROM TABLE(INFORMATION_SCHEMA.QUERY_HISTORY())"
        mine = repr(rows(ann, sql))
        assert "ann-literal-42" in mine and "admin-literal-41" not in mine
        everything = repr(rows(admin, sql))
        assert "ann-literal-42" in everything and "admin-literal-41" in everything
        admin.execute("GRANT MONITOR ON ACCOUNT TO ROLE analyst")
        assert "admin-literal-41" in repr(rows(ann, sql))


def test_account_privileges_come_from_system_roles_and_grants(home: Path) -> None:
    with connect(home, "hoarfrost") as admin:
        admin.execute("GRANT ROLE useradmin TO USER ann")
    with connect(home, "ann", "USERADMIN") as ann:
        ann.execute("CREATE ROLE made_by_ann")  # USERADMIN holds CREATE ROLE
        ann.execute("CREATE USER newbie PASSWORD = 'Newbie-Pa55'")
        ann.execute("GRANT ROLE made_by_ann TO USER newbie")  # she owns the role
        assert "Insufficient privileges to operate on account" in error(
            ann,
            "CREATE API INTEGRATION i API_PROVIDER = ARTIFACT_REPOSITORY_API "
            "API_ALLOWED_PREFIXES = ('https://x.example/') ENABLED = TRUE",
        )
    with connect(home, "newbie", "MADE_BY_ANN") as newbie:
        assert rows(newbie, "SELECT CURRENT_ROLE()") == [("MADE_BY_ANN",)]


def test_table_privileges_granted_and_revoked(home: Path) -> None:
    with connect(home, "hoarfrost") as admin, connect(home, "ann") as ann:
        admin.execute("CREATE TABLE alice_private (id INT, secret VARCHAR)")
        admin.execute("INSERT INTO alice_private VALUES (1, 'only-admin-sees')")
        hidden = (
            "002003 (42S02): SQL compilation error:\nObject 'HOARFROST.PUBLIC.ALICE_PRIVATE' "
            "does not exist or not authorized."
        )
        assert error(ann, "SELECT * FROM alice_private") == hidden
        assert error(ann, "SELECT * FROM hoarfrost.public.alice_private") == hidden
        assert "ALICE_PRIVATE" not in {r[1] for r in rows(ann, "SHOW TABLES")}
        listed = "SELECT table_name FROM information_schema.tables"
        columns = "SELECT column_name, data_type FROM information_schema.columns"
        assert ("ALICE_PRIVATE",) not in rows(ann, listed)
        assert ("SECRET", "TEXT") not in rows(ann, columns)
        admin.execute("GRANT SELECT ON TABLE alice_private TO ROLE analyst")
        assert rows(ann, "SELECT secret FROM alice_private") == [("only-admin-sees",)]
        assert "ALICE_PRIVATE" in {r[1] for r in rows(ann, "SHOW TABLES")}
        assert ("ALICE_PRIVATE",) in rows(ann, listed)
        assert ("SECRET", "TEXT") in rows(ann, columns)
        # reading is not writing: each DML privilege on its own
        for sql in (
            "INSERT INTO alice_private VALUES (2, 'x')",
            "UPDATE alice_private SET secret = 'y'",
            "DELETE FROM alice_private",
            "TRUNCATE TABLE alice_private",
        ):
            assert error(ann, sql).startswith(
                "003001 (42501): SQL access control error:\nInsufficient privileges to operate "
                "on table 'ALICE_PRIVATE'."
            ), sql
        admin.execute("GRANT INSERT, UPDATE ON TABLE alice_private TO ROLE analyst")
        ann.execute("INSERT INTO alice_private VALUES (2, 'from ann')")
        ann.execute("UPDATE alice_private SET secret = 'changed' WHERE id = 2")
        assert error(ann, "DROP TABLE alice_private").startswith("003001")
        admin.execute("REVOKE SELECT ON TABLE alice_private FROM ROLE analyst")
        admin.execute("REVOKE INSERT, UPDATE ON TABLE alice_private FROM ROLE analyst")
        assert error(ann, "SELECT * FROM alice_private") == hidden
        assert rows(admin, "SELECT count(*) FROM alice_private") == [(2,)]


def test_created_tables_belong_to_their_role_and_future_grants_apply(home: Path) -> None:
    with (
        connect(home, "hoarfrost") as admin,
        connect(home, "ann") as ann,
        connect(home, "pete") as pete,
    ):
        ann.execute("CREATE TABLE ann_notes (n VARCHAR)")
        ann.execute("INSERT INTO ann_notes VALUES ('hers')")
        assert error(pete, "SELECT * FROM ann_notes").startswith("002003")
        assert rows(admin, "SELECT * FROM ann_notes") == [("hers",)]  # ACCOUNTADMIN sees all
        owners = {r[1]: r[9] for r in rows(ann, "SHOW TABLES")}  # name, owner
        assert owners["ANN_NOTES"] == "ANALYST"
        admin.execute("GRANT SELECT ON FUTURE TABLES IN SCHEMA hoarfrost.public TO ROLE public")
        ann.execute("CREATE TABLE ann_shared AS SELECT 'shared' AS s")
        assert rows(pete, "SELECT * FROM ann_shared") == [("shared",)]
        assert error(pete, "SELECT * FROM ann_notes").startswith("002003")
        admin.execute("GRANT SELECT ON ALL TABLES IN SCHEMA hoarfrost.public TO ROLE public")
        assert rows(pete, "SELECT * FROM ann_notes") == [("hers",)]
        ann.execute("ALTER TABLE ann_notes RENAME TO ann_renamed")
        assert rows(pete, "SELECT * FROM ann_renamed") == [("hers",)]  # grants follow
        ann.execute("DROP TABLE ann_renamed")
        ann.execute("CREATE TABLE ann_renamed (n INT)")  # a new object: the old grants are gone
        assert rows(pete, "SELECT * FROM ann_renamed") == []  # the FUTURE grant applies again


def test_a_view_runs_with_its_owners_privileges(home: Path) -> None:
    with connect(home, "hoarfrost") as admin, connect(home, "ann") as ann:
        admin.execute("CREATE TABLE salaries (who VARCHAR, amount INT)")
        admin.execute("INSERT INTO salaries VALUES ('a', 10), ('b', 20)")
        admin.execute("CREATE VIEW salary_total AS SELECT sum(amount) AS total FROM salaries")
        admin.execute("GRANT SELECT ON VIEW salary_total TO ROLE analyst")
        assert rows(ann, "SELECT total FROM salary_total") == [(30,)]
        assert error(ann, "SELECT * FROM salaries").startswith("002003")


def test_databases_and_schemas_need_usage(home: Path) -> None:
    with connect(home, "hoarfrost") as admin, connect(home, "ann") as ann:
        admin.execute("CREATE DATABASE finance")
        admin.execute("CREATE TABLE finance.public.ledger (x INT)")
        assert "FINANCE" not in {r[1] for r in rows(ann, "SHOW DATABASES")}
        assert error(ann, "USE DATABASE finance") == (
            "003001 (42501): SQL access control error:\nInsufficient privileges to operate on "
            "database 'FINANCE'."
        )
        assert error(ann, "SELECT * FROM finance.public.ledger").startswith("002003")
        assert error(ann, "CREATE DATABASE ann_db").startswith("003001")
        admin.execute("GRANT USAGE ON DATABASE finance TO ROLE analyst")
        admin.execute("GRANT USAGE ON SCHEMA finance.public TO ROLE analyst")
        admin.execute("GRANT SELECT ON TABLE finance.public.ledger TO ROLE analyst")
        ann.execute("USE DATABASE finance")
        assert rows(ann, "SELECT * FROM ledger") == []
        assert error(ann, "CREATE TABLE mine (x INT)").startswith("003001")
        admin.execute("GRANT CREATE TABLE ON SCHEMA finance.public TO ROLE analyst")
        ann.execute("CREATE TABLE mine (x INT)")
        assert error(ann, "CREATE SCHEMA ann_schema").startswith("003001")
        admin.execute("GRANT CREATE SCHEMA ON DATABASE finance TO ROLE analyst")
        ann.execute("CREATE SCHEMA ann_schema")
        ann.execute("CREATE TABLE finance.ann_schema.t (x INT)")  # her schema: she owns it


def test_function_usage_and_bodies(home: Path) -> None:
    body = "def f(x):\n    return x + 1\n"
    create = (
        "CREATE {secure} FUNCTION {name}(x INT) RETURNS INT LANGUAGE PYTHON "
        "RUNTIME_VERSION = '3.11' HANDLER = 'f' AS $${body}$$"
    )
    with connect(home, "hoarfrost") as admin, connect(home, "ann") as ann:
        admin.execute(create.format(secure="", name="plus_one", body=body))
        admin.execute(create.format(secure="SECURE", name="hidden_plus", body=body))
        assert "Unknown" in error(ann, "SELECT plus_one(1)") or "002" in error(
            ann, "SELECT plus_one(1)"
        )
        assert rows(ann, "SHOW USER FUNCTIONS") == []
        admin.execute("GRANT USAGE ON FUNCTION plus_one(INT) TO ROLE analyst")
        admin.execute("GRANT USAGE ON FUNCTION hidden_plus(INT) TO ROLE analyst")
        assert rows(ann, "SELECT plus_one(1), hidden_plus(2)") == [(2, 3)]
        sql = (
            "SELECT function_name, function_definition FROM hoarfrost.information_schema.functions "
            "ORDER BY 1"
        )
        definitions = dict(rows(ann, sql))
        assert definitions["HIDDEN_PLUS"] is None and "return x + 1" in definitions["PLUS_ONE"]
        assert "return x + 1" in dict(rows(admin, sql))["HIDDEN_PLUS"]
        assert error(ann, "DROP FUNCTION plus_one(INT)").startswith("003001")


def test_owners_rights_and_callers_rights_procedures(home: Path) -> None:
    body = (
        "RETURNS VARCHAR LANGUAGE PYTHON RUNTIME_VERSION = '3.11' HANDLER = 'run' {mode} AS $$\n"
        "def run(session):\n"
        "    try:\n"
        "        return session.sql('SELECT v FROM payroll').collect()[0][0]\n"
        "    except Exception as exc:\n"
        "        return 'refused: ' + str(exc).splitlines()[-1]\n$$"
    )
    with connect(home, "hoarfrost") as admin, connect(home, "ann") as ann:
        admin.execute("CREATE TABLE payroll (v VARCHAR)")
        admin.execute("INSERT INTO payroll VALUES ('owner-only')")
        for name, mode in (("as_owner", "EXECUTE AS OWNER"), ("as_caller", "EXECUTE AS CALLER")):
            admin.execute(f"CREATE PROCEDURE {name}() " + body.format(mode=mode))
            admin.execute(f"GRANT USAGE ON PROCEDURE {name}() TO ROLE analyst")
        assert rows(ann, "CALL as_owner()") == [("owner-only",)]
        (refused,) = rows(ann, "CALL as_caller()")[0]
        assert refused.startswith("refused:") and "does not exist or not authorized" in refused
        assert rows(ann, "SELECT CURRENT_ROLE()") == [("ANALYST",)]  # the caller's role is back
