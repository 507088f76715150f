"""Governed resolution end to end: SQL objects -> gateway -> uv, against a real pypiserver with
htpasswd authentication and --disable-fallback (issue 3 acceptance)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import hoarfrost
from hoarfrost.engine.resolution import packages_of
from tests.conftest import PypiServerFactory
from tests.support.pypiserver import PypiServer, build_chain_repository

USER, PASSWORD = "ci-bot", "Pa55-w0rd-for-the-index"


@pytest.fixture
def server(tmp_path: Path, pypiserver_factory: PypiServerFactory) -> PypiServer:
    wheels = tmp_path / "wheels"
    build_chain_repository(wheels)
    return pypiserver_factory(wheels, auth=(USER, PASSWORD))


def _setup(con: hoarfrost.Connection, server: PypiServer, password: str = PASSWORD) -> None:
    con.execute(
        f"CREATE SECRET repo_secret TYPE = PASSWORD USERNAME = '{USER}' PASSWORD = %s", [password]
    )
    con.execute(
        "CREATE API INTEGRATION repo_int API_PROVIDER = ARTIFACT_REPOSITORY_API "
        f"API_ALLOWED_PREFIXES = ('{server.url}') ALLOWED_AUTHENTICATION_SECRETS = (repo_secret) ENABLED = TRUE"
    )
    con.execute(
        "CREATE ARTIFACT REPOSITORY repo TYPE = PYPI API_INTEGRATION = repo_int "
        f"INDEX_URL = '{server.index_url}' AUTHENTICATION_SECRET = repo_secret"
    )


@pytest.fixture
def con(tmp_path: Path, server: PypiServer) -> Iterator[hoarfrost.Connection]:
    with hoarfrost.connect(":memory:", cache_dir=tmp_path / "cache") as connection:
        _setup(connection, server)
        yield connection


RESOLVE = "SELECT SYSTEM$RESOLVE_PYTHON_PACKAGES('3.11', %s, 'repo')"


def _resolve(con: hoarfrost.Connection, specs: str) -> list[str]:
    row = con.execute(RESOLVE, [specs]).fetchone()
    assert row is not None
    return list(json.loads(row[0]))


def test_resolution_freezes_the_expected_set(con: hoarfrost.Connection, server: PypiServer) -> None:
    assert _resolve(con, "('app')") == ["app==2.0", "leaf==2.0", "mid==1.5"]
    assert _resolve(con, "('app==1.0', 'leaf<2')") == ["app==1.0", "leaf==1.0", "mid==1.5"]
    fetched = con.execute(
        "SELECT repository, url, policy_decision FROM TABLE(INFORMATION_SCHEMA.PACKAGE_FETCH_HISTORY())"
    ).fetchall()
    assert fetched and all(r[0] == "HOARFROST.PUBLIC.REPO" for r in fetched)
    assert all(r[1].startswith(server.url) and PASSWORD not in r[1] for r in fetched)


def test_default_repository_is_used(con: hoarfrost.Connection) -> None:
    con.execute("ALTER ACCOUNT SET DEFAULT_PYTHON_ARTIFACT_REPOSITORY = repo")
    row = con.execute("SELECT SYSTEM$RESOLVE_PYTHON_PACKAGES('3.11', $$('mid==1.0')$$)").fetchone()
    assert row is not None and json.loads(row[0]) == ["leaf==2.0", "mid==1.0"]


def _error(con: hoarfrost.Connection, specs: str = "('app')") -> hoarfrost.Error:
    with pytest.raises(hoarfrost.Error) as info:
        con.execute(RESOLVE, [specs])
    assert PASSWORD not in str(info.value)
    return info.value


def test_wrong_password(tmp_path: Path, server: PypiServer) -> None:
    with hoarfrost.connect(":memory:", cache_dir=tmp_path / "cache") as con:
        _setup(con, server, password="not-the-password")
        error = _error(con)
    assert "Authentication failed. Please check your credentials." in str(error)
    assert server.url in str(error)


def test_missing_secret(con: hoarfrost.Connection) -> None:
    con.execute("DROP SECRET repo_secret")
    error = _error(con)
    assert str(error).startswith(
        "002003 (42S02): SQL compilation error:\nSecret 'HOARFROST.PUBLIC.REPO_SECRET' of artifact repository REPO does not exist"
    )


def test_disabled_integration(con: hoarfrost.Connection) -> None:
    con.execute("ALTER API INTEGRATION repo_int SET ENABLED = FALSE")
    error = _error(con)
    assert "its API integration REPO_INT is disabled (ENABLED = FALSE)" in str(error)


def test_dropped_repository(con: hoarfrost.Connection) -> None:
    con.execute("DROP ARTIFACT REPOSITORY repo")
    error = _error(con)
    assert (
        str(error)
        == "002003 (42S02): SQL compilation error:\nObject 'HOARFROST.PUBLIC.REPO' does not exist or not authorized."
    )


def test_unknown_package_and_version(con: hoarfrost.Connection) -> None:
    prefix = "Cannot create a Python function with the specified packages. Please check your packages specification and try again."
    error = _error(con, "('nosuchpkg')")
    assert prefix in str(error) and "'Packages not found: nosuchpkg'" in str(error)
    error = _error(con, "('app==9.9')")
    assert prefix in str(error) and "'Packages not found: app==9.9'" in str(error)


def test_policy_blocks_direct_package(con: hoarfrost.Connection) -> None:
    con.execute("CREATE PACKAGES POLICY p LANGUAGE PYTHON BLOCKLIST = ('app')")
    con.execute("ALTER ACCOUNT SET PACKAGES POLICY p")
    error = _error(con)
    assert "Package 'app==2.0' is blocked by the packages policy BLOCKLIST entry 'app'." in str(
        error
    )


def test_policy_avoids_blocked_transitive_version(con: hoarfrost.Connection) -> None:
    con.execute("CREATE PACKAGES POLICY p LANGUAGE PYTHON BLOCKLIST = ('leaf==2.0')")
    con.execute("ALTER ACCOUNT SET PACKAGES POLICY p")
    assert _resolve(con, "('app')") == ["app==2.0", "leaf==1.0", "mid==1.5"]
    decisions = {
        r[0]
        for r in con.execute(
            "SELECT policy_decision FROM TABLE(INFORMATION_SCHEMA.PACKAGE_FETCH_HISTORY())"
        ).fetchall()
    }
    assert decisions == {"ALLOWED"}


def test_policy_refuses_when_no_allowed_transitive_version(con: hoarfrost.Connection) -> None:
    con.execute("CREATE PACKAGES POLICY p LANGUAGE PYTHON BLOCKLIST = ('leaf<3')")
    con.execute("ALTER ACCOUNT SET PACKAGES POLICY p")
    error = _error(con)
    assert "Package 'leaf==2.0' is blocked by the packages policy BLOCKLIST entry 'leaf<3'." in str(
        error
    )


def test_allowlist_omitting_a_dependency(con: hoarfrost.Connection) -> None:
    con.execute("CREATE PACKAGES POLICY p LANGUAGE PYTHON ALLOWLIST = ('app', 'mid')")
    con.execute("ALTER ACCOUNT SET PACKAGES POLICY p")
    error = _error(con)
    assert "Package 'leaf==" in str(error) and "is not in the packages policy ALLOWLIST." in str(
        error
    )


def test_additional_creation_blocklist(con: hoarfrost.Connection) -> None:
    con.execute(
        "CREATE PACKAGES POLICY p LANGUAGE PYTHON ADDITIONAL_CREATION_BLOCKLIST = ('mid>=1.5')"
    )
    con.execute("ALTER ACCOUNT SET PACKAGES POLICY p")
    assert _resolve(con, "('app')") == ["app==2.0", "leaf==2.0", "mid==1.0"]
    con.execute("ALTER PACKAGES POLICY p SET ADDITIONAL_CREATION_BLOCKLIST = ('mid')")
    error = _error(con)
    assert "blocked by the packages policy ADDITIONAL_CREATION_BLOCKLIST entry 'mid'" in str(error)


def test_pruned_environment_rebuilt_offline(con: hoarfrost.Connection, server: PypiServer) -> None:
    manager = packages_of(con.engine)
    lock, _ = manager.resolve(con.session, "3.11", ["app"], None if False else _name("repo"))
    path = manager.envs.path(lock)
    assert (path / "site-packages" / "app" / "__init__.py").exists()
    manager.envs.prune(keep=set())
    assert not manager.envs.exists(lock)
    server.stop()
    rebuilt = manager.ensure_env(lock)
    assert (
        (rebuilt / "site-packages" / "leaf" / "__init__.py")
        .read_text()
        .startswith("__version__ = '2.0'")
    )


def _name(text: str):  # type: ignore[no-untyped-def]
    from hoarfrost.sql.names import parse_name

    return parse_name(text)
