"""Governed resolution end to end against devpi-server (issue 3 acceptance): the same wheels and
the same frozen set as against pypiserver, but read from devpi's PEP 691 JSON pages whose file
links are relative (``../../+f/...``), with the index's reads locked to its owner's password."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import hoarfrost
from hoarfrost.engine.resolution import packages_of
from hoarfrost.packages.gateway_index import UPSTREAM_ACCEPT
from hoarfrost.sql.names import parse_name
from tests.support.devpi import DevpiServer
from tests.support.pypiserver import build_chain_repository

pytestmark = pytest.mark.slow

USER, PASSWORD, INDEX = "ci-bot", "Dev-pi-Pa55-for-the-index", "prod"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"


@pytest.fixture(scope="module")
def devpi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevpiServer]:
    wheels = build_chain_repository(tmp_path_factory.mktemp("wheels"))
    with DevpiServer(tmp_path_factory.mktemp("devpi")) as server:
        server.create_index(USER, PASSWORD, INDEX)
        server.upload(USER, PASSWORD, INDEX, wheels.values())
        yield server


def _setup(con: hoarfrost.Connection, devpi: DevpiServer, password: str = PASSWORD) -> None:
    con.execute(
        f"CREATE SECRET devpi_secret TYPE = PASSWORD USERNAME = '{USER}' PASSWORD = %s", [password]
    )
    con.execute(
        "CREATE API INTEGRATION devpi_int API_PROVIDER = ARTIFACT_REPOSITORY_API "
        f"API_ALLOWED_PREFIXES = ('{devpi.url}/{USER}/{INDEX}/') "
        "ALLOWED_AUTHENTICATION_SECRETS = (devpi_secret) ENABLED = TRUE"
    )
    con.execute(
        "CREATE ARTIFACT REPOSITORY devpi_repo TYPE = PYPI API_INTEGRATION = devpi_int "
        f"INDEX_URL = '{devpi.index_url(USER, INDEX)}' AUTHENTICATION_SECRET = devpi_secret"
    )


@pytest.fixture
def con(tmp_path: Path, devpi: DevpiServer) -> Iterator[hoarfrost.Connection]:
    with hoarfrost.connect(":memory:", cache_dir=tmp_path / "cache") as connection:
        _setup(connection, devpi)
        yield connection


RESOLVE = "SELECT SYSTEM$RESOLVE_PYTHON_PACKAGES('3.11', %s, 'devpi_repo')"


def _resolve(con: hoarfrost.Connection, specs: str) -> list[str]:
    row = con.execute(RESOLVE, [specs]).fetchone()
    assert row is not None
    return list(json.loads(row[0]))


def _error(con: hoarfrost.Connection, specs: str = "('app')") -> hoarfrost.Error:
    with pytest.raises(hoarfrost.Error) as info:
        con.execute(RESOLVE, [specs])
    assert PASSWORD not in str(info.value)
    return info.value


def test_devpi_serves_json_with_relative_links_and_only_to_its_owner(devpi: DevpiServer) -> None:
    """What the gateway is given: with the Accept header it sends, devpi answers PEP 691 JSON
    whose file URLs are relative to the page; without the owner's password, 401."""
    page = f"{devpi.index_url(USER, INDEX)}mid/"
    answer = httpx.get(page, headers={"Accept": UPSTREAM_ACCEPT}, auth=(USER, PASSWORD))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith(JSON_TYPE)
    files = answer.json()["files"]
    assert sorted(f["filename"] for f in files) == [
        "mid-0.5-py3-none-any.whl", "mid-1.0-py3-none-any.whl", "mid-1.5-py3-none-any.whl"
    ]  # fmt: skip
    assert all(f["url"].startswith("../../+f/") and len(f["hashes"]["sha256"]) == 64 for f in files)
    for auth in (None, (USER, "not-the-password")):
        assert httpx.get(page, headers={"Accept": UPSTREAM_ACCEPT}, auth=auth).status_code == 401
        absolute = str(httpx.URL(page).join(files[0]["url"]))
        assert httpx.get(absolute, auth=auth).status_code == 401


def test_resolution_freezes_the_same_set_as_pypiserver(
    con: hoarfrost.Connection, devpi: DevpiServer
) -> None:
    assert _resolve(con, "('app')") == ["app==2.0", "leaf==2.0", "mid==1.5"]
    assert _resolve(con, "('app==1.0', 'leaf<2')") == ["app==1.0", "leaf==1.0", "mid==1.5"]

    # The files were fetched from the relative links of devpi's JSON pages, resolved against the
    # page URL (``../../+f/...`` from ``/ci-bot/prod/+simple/<name>/``), each sha256 checked.
    page = httpx.get(
        f"{devpi.index_url(USER, INDEX)}leaf/",
        headers={"Accept": UPSTREAM_ACCEPT},
        auth=(USER, PASSWORD),
    )
    by_name = {
        f["filename"]: (str(httpx.URL(str(page.url)).join(f["url"])), f["hashes"]["sha256"])
        for f in page.json()["files"]
    }
    rows = con.execute(
        "SELECT repository, url, filename, sha256 FROM TABLE(INFORMATION_SCHEMA.PACKAGE_FETCH_HISTORY()) "
        "WHERE filename LIKE 'leaf-%'"
    ).fetchall()
    assert sorted(r[2] for r in rows) == ["leaf-1.0-py3-none-any.whl", "leaf-2.0-py3-none-any.whl"]
    for repository, url, filename, sha in rows:
        assert repository == "HOARFROST.PUBLIC.DEVPI_REPO"
        assert (url, sha) == by_name[filename]
        assert url.startswith(f"{devpi.url}/{USER}/{INDEX}/+f/") and PASSWORD not in url


def test_environment_is_built_from_devpi(con: hoarfrost.Connection) -> None:
    manager = packages_of(con.engine)
    lock, repo = manager.resolve(con.session, "3.11", ["mid==1.0"], parse_name("devpi_repo"))
    assert repo is not None and repo.name == "HOARFROST.PUBLIC.DEVPI_REPO"
    assert [f"{p.name}=={p.version}" for p in lock.packages] == ["leaf==2.0", "mid==1.0"]
    site = manager.envs.site_packages(lock)
    assert (site / "mid" / "__init__.py").read_text().startswith("__version__ = '1.0'")
    assert (site / "leaf" / "__init__.py").read_text().startswith("__version__ = '2.0'")


def test_wrong_password_is_401_naming_the_url(tmp_path: Path, devpi: DevpiServer) -> None:
    with hoarfrost.connect(":memory:", cache_dir=tmp_path / "cache") as con:
        _setup(con, devpi, password="not-the-password")
        error = _error(con)
    assert "Authentication failed. Please check your credentials." in str(error)
    assert f"{devpi.index_url(USER, INDEX)}app/" in str(error)
    assert "not-the-password" not in str(error)


def test_unknown_package_and_version(con: hoarfrost.Connection) -> None:
    prefix = "Cannot create a Python function with the specified packages. Please check your packages specification and try again."
    error = _error(con, "('nosuchpkg')")
    assert prefix in str(error) and "'Packages not found: nosuchpkg'" in str(error)
    error = _error(con, "('leaf==9.9')")
    assert prefix in str(error) and "'Packages not found: leaf==9.9'" in str(error)
