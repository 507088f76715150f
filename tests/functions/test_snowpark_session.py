"""A real Snowpark Session inside procedures (issue 13, item 3): the procedure's environment holds
the real snowflake-snowpark-python (from an authenticated pypiserver serving the PyPI wheels,
downloaded once); the session it receives is Snowpark's own, connected back to the engine over
the worker's pipe for the duration of the call, in the caller's context."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import hoarfrost
from tests.functions.conftest import error_of, rows
from tests.server.conftest import ServedAccount, served  # noqa: F401
from tests.support.pypiserver import PypiServer
from tests.support.snowpark import snowpark_wheels
from tests.support.wheels import build_wheel

USER, PASSWORD = "snowpark-bot", "Snowpark-Repo-Pa55"
WHEELS = (
    Path(os.environ.get("HOARFROST_TEST_WHEELS", Path.home() / ".cache" / "hoarfrost-test-wheels"))
    / "snowpark-cp311"
)

SETUP = [
    "CREATE SECRET sp_secret TYPE = PASSWORD USERNAME = '{user}' PASSWORD = '{password}'",
    "CREATE API INTEGRATION sp_integration API_PROVIDER = ARTIFACT_REPOSITORY_API "
    "API_ALLOWED_PREFIXES = ('{url}') ALLOWED_AUTHENTICATION_SECRETS = (sp_secret) ENABLED = TRUE",
    "CREATE ARTIFACT REPOSITORY sp_repo TYPE = PYPI API_INTEGRATION = sp_integration "
    "INDEX_URL = '{index}' AUTHENTICATION_SECRET = sp_secret",
    "CREATE TABLE sales (region VARCHAR, amount INT)",
    "INSERT INTO sales VALUES ('east', 10), ('west', 20), ('east', 5), ('north', 0)",
]
PROCEDURE = (
    "CREATE OR REPLACE PROCEDURE {name}({args}) RETURNS {returns} LANGUAGE PYTHON "
    "RUNTIME_VERSION = '3.11' ARTIFACT_REPOSITORY = sp_repo "
    "PACKAGES = ('snowflake-snowpark-python', 'test_whl_package') HANDLER = 'run' {extra} "
    "AS $${body}$$"
)
DATAFRAMES = """
import snowflake.snowpark
from snowflake.snowpark.functions import col, sum as sum_

def run(session):
    assert isinstance(session, snowflake.snowpark.Session), type(session)
    rows = (
        session.table('sales')
        .filter(col('amount') > 1)
        .group_by('region')
        .agg(sum_('amount').alias('total'))
        .sort('region')
        .collect()
    )
    made = session.create_dataframe([[1, 'a'], [2, 'b']], schema=['id', 'name'])
    made.write.save_as_table('made_in_proc', mode='overwrite')
    made = session.table('made_in_proc').sort('id').collect()
    context = session.sql('SELECT CURRENT_ROLE(), CURRENT_DATABASE()').collect()[0]
    return repr(([(r['REGION'], r['TOTAL']) for r in rows], [tuple(r) for r in made],
                 tuple(context), session.call('doubler', 21)))
"""
TABLE = """
import test_whl_package

def run(session, minimum):
    return session.table('sales').filter(f'amount >= {minimum}').select('region', 'amount')
"""
KEEPER = """
import snowflake.snowpark

KEPT = []

def run(session, step):
    if step == 'keep':
        KEPT.append(session)  # a session kept past its call
        return 'kept'
    try:
        KEPT[0].sql('SELECT 1').collect()
        return 'the old session still works'
    except Exception as exc:
        return 'refused: ' + type(exc).__name__
"""


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PypiServer]:
    packages = tmp_path_factory.mktemp("snowpark-packages")
    for wheel in snowpark_wheels(WHEELS).glob("*.whl"):
        shutil.copy(wheel, packages / wheel.name)
    build_wheel(packages, "test_whl_package", "1.0")
    server = PypiServer(packages, tmp_path_factory.mktemp("snowpark-index"), auth=(USER, PASSWORD))
    with server:
        yield server


def _setup(con: Any, repo: PypiServer) -> None:
    for sql in SETUP:
        con.execute(sql.format(user=USER, password=PASSWORD, url=repo.url, index=repo.index_url))
    con.execute(
        "CREATE PROCEDURE doubler(x INT) RETURNS INT LANGUAGE PYTHON RUNTIME_VERSION = '3.11' "
        "HANDLER = 'run' AS $$\ndef run(session, x):\n    return x * 2\n$$"
    )
    con.execute(
        PROCEDURE.format(name="frames", args="", returns="VARCHAR", extra="", body=DATAFRAMES)
    )
    con.execute(
        PROCEDURE.format(
            name="big_sales",
            args="minimum INT",
            returns="TABLE (region VARCHAR, amount INT)",
            extra="",
            body=TABLE,
        )
    )
    con.execute(
        PROCEDURE.format(
            name="keeper", args="step VARCHAR", returns="VARCHAR", extra="", body=KEEPER
        )
    )


@pytest.fixture(scope="module")
def account(repo: PypiServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    cache = tmp_path_factory.mktemp("snowpark-cache")
    with hoarfrost.connect(tmp_path_factory.mktemp("sp") / "acct", cache_dir=cache) as con:
        _setup(con, repo)
        yield con


def test_the_session_is_snowparks_and_the_dataframe_api_works(account: Any) -> None:
    (answer,) = rows(account, "CALL frames()")[0]
    assert answer == repr(
        (
            [("east", 15), ("west", 20)],
            [(1, "a"), (2, "b")],
            ("ACCOUNTADMIN", "HOARFROST"),
            42,
        )
    )


def test_a_table_procedure_returns_a_dataframe(account: Any) -> None:
    assert rows(account, "CALL big_sales(10)") == [("east", 10), ("west", 20)]


def test_the_session_ends_with_its_call(account: Any) -> None:
    assert rows(account, "CALL keeper('keep')") == [("kept",)]
    (answer,) = rows(account, "CALL keeper('use')")[0]
    assert answer.startswith("refused: "), answer


def test_the_session_has_the_callers_context(account: Any) -> None:
    account.execute(
        PROCEDURE.format(
            name="whoami",
            args="",
            returns="VARCHAR",
            extra="EXECUTE AS CALLER",
            body="\ndef run(session):\n    return session.get_current_role() + ' ' + "
            "session.get_current_schema()\n",
        )
    )
    account.execute("CREATE SCHEMA IF NOT EXISTS other")
    account.execute("USE SCHEMA other")  # the caller's schema is what the session sees
    try:
        assert rows(account, "CALL hoarfrost.public.whoami()") == [('"ACCOUNTADMIN" "OTHER"',)]
    finally:
        account.execute("USE SCHEMA hoarfrost.public")


def test_through_the_wire_with_the_real_connector(
    repo: PypiServer,
    served: ServedAccount,  # noqa: F811
) -> None:
    with served.connect() as conn:
        cur = conn.cursor()
        for sql in SETUP:
            cur.execute(
                sql.format(user=USER, password=PASSWORD, url=repo.url, index=repo.index_url)
            )
        cur.execute(
            PROCEDURE.format(name="wire_frames", args="", returns="VARCHAR", extra="", body=TABLE)
            .replace("def run(session, minimum):", "def run(session):")
            .replace("{minimum}", "1")
            .replace("RETURNS VARCHAR", "RETURNS TABLE (region VARCHAR, amount INT)")
        )
        assert cur.execute("CALL wire_frames()").fetchall() == [
            ("east", 10),
            ("west", 20),
            ("east", 5),
        ]


def test_without_snowpark_in_the_environment_the_session_is_the_engines_own(
    account: Any,
) -> None:
    account.execute(
        "CREATE OR REPLACE PROCEDURE plain() RETURNS VARCHAR LANGUAGE PYTHON "
        "RUNTIME_VERSION = '3.11' HANDLER = 'run' AS $$\ndef run(session):\n"
        "    return type(session).__module__ + ' ' + str(session.sql('SELECT 7').collect()[0][0])\n$$"
    )
    (answer,) = rows(account, "CALL plain()")[0]
    assert answer.endswith(" 7") and "snowpark" not in answer
    assert "Unknown" in str(error_of(account, "CALL no_such_procedure()"))
