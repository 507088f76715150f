"""Fixtures for Python FUNCTION / PROCEDURE tests: one real pypiserver with htpasswd auth for the
whole package, serving wheels built here (``test_whl_package``, ``pinned`` 1.0 and 2.0, a tiny
fake ``snowflake-snowpark-python``) and real pandas/numpy wheels downloaded from PyPI once into
``~/.cache/hoarfrost-test-wheels``; accounts share one cache so environments are built once."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import hoarfrost
from tests.support.downloads import download_wheels
from tests.support.pypiserver import PypiServer
from tests.support.wheels import build_wheel

USER, PASSWORD = "udf-bot", "S3cret-Repo-Pa55word"
WHEEL_CACHE = Path(
    os.environ.get("HOARFROST_TEST_WHEELS", Path.home() / ".cache" / "hoarfrost-test-wheels")
)
SETUP = [
    "CREATE SECRET my_repo_secret TYPE = PASSWORD USERNAME = '{user}' PASSWORD = '{password}'",
    "CREATE API INTEGRATION python_repo_integration API_PROVIDER = ARTIFACT_REPOSITORY_API "
    "API_ALLOWED_PREFIXES = ('{url}') ALLOWED_AUTHENTICATION_SECRETS = (my_repo_secret) "
    "ENABLED = TRUE",
    "CREATE ARTIFACT REPOSITORY my_python_repo TYPE = PYPI "
    "API_INTEGRATION = python_repo_integration INDEX_URL = '{index}' "
    "AUTHENTICATION_SECRET = my_repo_secret",
]


def _pandas_wheels() -> list[Path]:
    """pandas and its dependencies for CPython 3.11 on this platform, downloaded once."""
    return sorted(download_wheels(WHEEL_CACHE, ["pandas"]).glob("*.whl"))


def _build_wheels(dest: Path) -> None:
    build_wheel(dest, "test_whl_package", "1.0")
    for version in ("1.0", "2.0"):
        build_wheel(dest, "pinned", version)
    snowpark = {"snowflake/snowpark/__init__.py": "__version__ = '1.0.0'\n"}
    build_wheel(dest, "snowflake-snowpark-python", "1.0.0", files=snowpark)
    for wheel in _pandas_wheels():
        shutil.copy(wheel, dest / wheel.name)


@pytest.fixture(scope="package")
def repo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PypiServer]:
    wheels = tmp_path_factory.mktemp("udf-wheels")
    _build_wheels(wheels)
    server = PypiServer(wheels, tmp_path_factory.mktemp("udf-pypiserver"), auth=(USER, PASSWORD))
    with server:
        yield server


@pytest.fixture(scope="package")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("udf-cache")


def open_account(server: PypiServer, cache: Path, **settings: object) -> hoarfrost.Connection:
    con = hoarfrost.connect(":memory:", cache_dir=cache, **settings)
    for statement in SETUP:
        con.execute(
            statement.format(user=USER, password=PASSWORD, url=server.url, index=server.index_url)
        )
    return con


def close_account(con: hoarfrost.Connection) -> None:
    con.close()
    con.engine.close()  # an in-memory engine is not closed by its connection: stop its workers


@pytest.fixture
def con(repo_server: PypiServer, shared_cache: Path) -> Iterator[hoarfrost.Connection]:
    connection = open_account(repo_server, shared_cache)
    yield connection
    close_account(connection)


def rows(con: hoarfrost.Connection, sql: str) -> list[tuple[object, ...]]:
    return [tuple(r) for r in con.execute(sql).fetchall()]


def error_of(con: hoarfrost.Connection, sql: str) -> hoarfrost.Error:
    with pytest.raises(hoarfrost.Error) as info:
        con.execute(sql)
    return info.value
