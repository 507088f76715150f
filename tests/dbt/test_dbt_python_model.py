"""A dbt Python model (issue 14, item 6): `def model(dbt, session)` run by dbt-snowflake, unchanged,
against `hoarfrost serve` — an anonymous procedure whose packages come from the account's
DEFAULT_PYTHON_ARTIFACT_REPOSITORY (an authenticated pypiserver with the real Snowpark wheels)
and whose session is a real Snowpark Session."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.dbt.test_dbt_project import PROFILE, dbt
from tests.server.conftest import PASSWORD, USER, Connect, ServedAccount
from tests.support.pypiserver import PypiServer
from tests.support.snowpark import snowpark_wheels
from tests.support.wheels import build_wheel

PROJECT = Path(__file__).parent / "python_project"
WHEELS = Path.home() / ".cache" / "hoarfrost-test-wheels" / "snowpark-cp311"
REPO_USER, REPO_PASSWORD = "dbt-python", "Dbt-Python-Pa55"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PypiServer]:
    packages = tmp_path_factory.mktemp("dbt-python-packages")
    for wheel in snowpark_wheels(WHEELS).glob("*.whl"):
        shutil.copy(wheel, packages / wheel.name)
    build_wheel(packages, "test_whl_package", "1.0")
    server = PypiServer(
        packages, tmp_path_factory.mktemp("dbt-python-index"), auth=(REPO_USER, REPO_PASSWORD)
    )
    with server:
        yield server


def test_a_python_model(
    dbt_executable: Path,
    served: ServedAccount,
    connect: Connect,
    repo: PypiServer,
    tmp_path: Path,
) -> None:
    cur = connect().cursor()
    for sql in (
        f"CREATE SECRET IF NOT EXISTS dbt_repo_secret TYPE = PASSWORD USERNAME = '{REPO_USER}' "
        f"PASSWORD = '{REPO_PASSWORD}'",
        "CREATE API INTEGRATION IF NOT EXISTS dbt_repo_integration "
        f"API_PROVIDER = ARTIFACT_REPOSITORY_API API_ALLOWED_PREFIXES = ('{repo.url}') "
        "ALLOWED_AUTHENTICATION_SECRETS = (dbt_repo_secret) ENABLED = TRUE",
        "CREATE ARTIFACT REPOSITORY IF NOT EXISTS hoarfrost.public.dbt_repo TYPE = PYPI "
        f"API_INTEGRATION = dbt_repo_integration INDEX_URL = '{repo.index_url}' "
        "AUTHENTICATION_SECRET = dbt_repo_secret",
        "ALTER ACCOUNT SET DEFAULT_PYTHON_ARTIFACT_REPOSITORY = hoarfrost.public.dbt_repo",
    ):
        cur.execute(sql)
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project)
    (project / "profiles").mkdir()
    (project / "profiles" / "profiles.yml").write_text(
        PROFILE.format(user=USER, password=PASSWORD, port=served.port)
    )
    dbt(dbt_executable, project, "seed")
    assert "PASS=1" in dbt(dbt_executable, project, "run")
    rows = (
        connect(database="HOARFROST", schema="ANALYTICS")
        .cursor()
        .execute("SELECT customer, total FROM customer_totals ORDER BY customer")
        .fetchall()
    )
    assert [(int(c), Decimal(str(t))) for c, t in rows] == [
        (1, Decimal("30.5")),
        (2, Decimal("5.25")),
    ]
