"""Concurrent resolutions through the engine (issue 3 acceptance): eight connections to one home
and one cache, in eight threads, resolve and build the same package set at the same moment
against a real pypiserver; all succeed, with one lock and one environment between them."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import hoarfrost
from hoarfrost.engine.resolution import packages_of
from hoarfrost.packages.envstore import MARKER
from hoarfrost.packages.lock import Lock
from hoarfrost.sql.names import parse_name
from tests.conftest import PypiServerFactory
from tests.support.pypiserver import build_chain_repository

pytestmark = pytest.mark.slow

USER, PASSWORD = "ci-bot", "C0ncurrent-Pa55word"
THREADS = 8


def test_eight_concurrent_resolutions_build_one_environment(
    tmp_path: Path, pypiserver_factory: PypiServerFactory
) -> None:
    wheels = tmp_path / "wheels"
    build_chain_repository(wheels)
    server = pypiserver_factory(wheels, auth=(USER, PASSWORD))
    home, cache = tmp_path / "home", tmp_path / "cache"
    with hoarfrost.connect(home, cache_dir=cache) as admin:
        admin.execute(
            f"CREATE SECRET repo_secret TYPE = PASSWORD USERNAME = '{USER}' PASSWORD = %s",
            [PASSWORD],
        )
        admin.execute(
            "CREATE API INTEGRATION repo_int API_PROVIDER = ARTIFACT_REPOSITORY_API "
            f"API_ALLOWED_PREFIXES = ('{server.url}') ALLOWED_AUTHENTICATION_SECRETS = (repo_secret)"
        )
        admin.execute(
            "CREATE ARTIFACT REPOSITORY repo TYPE = PYPI API_INTEGRATION = repo_int "
            f"INDEX_URL = '{server.index_url}' AUTHENTICATION_SECRET = repo_secret"
        )
        manager = packages_of(admin.engine)
        assert manager.envs.list() == []

        start = threading.Barrier(THREADS)

        def resolve_and_build(_: int) -> tuple[Lock, Path, object]:
            try:
                con = hoarfrost.connect(home, cache_dir=cache)
            except BaseException:
                start.abort()  # the other threads fail at once instead of waiting for this one
                raise
            with con:
                start.wait(timeout=30)  # every thread has its own connection before any resolves
                lock, _repo = packages_of(con.engine).resolve(
                    con.session, "3.11", ["app"], parse_name("repo"), build=True
                )
                return lock, packages_of(con.engine).envs.path(lock), con.engine

        with ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(resolve_and_build, range(THREADS)))

        locks = [lock for lock, _path, _engine in results]
        assert {lock.key for lock in locks} == {locks[0].key}
        assert locks[0].installed_packages() == ["app==2.0", "leaf==2.0", "mid==1.5"]
        assert all(engine is admin.engine for _lock, _path, engine in results)  # one per process
        (env,) = manager.envs.list()
        assert env.key == locks[0].key and {path for _lock, path, _engine in results} == {env.path}
        assert (env.path / MARKER).is_file()
        assert (
            (env.path / "site-packages" / "mid" / "__init__.py")
            .read_text()
            .startswith("__version__ = '1.5'")
        )
        envs_dir = cache / "envs"
        assert sorted(p.name for p in envs_dir.iterdir() if p.name != ".locks") == [env.key]

        # Every file was retained once, and each download is in the audit trail.
        fetched = admin.execute(
            "SELECT filename, sha256 FROM TABLE(INFORMATION_SCHEMA.PACKAGE_FETCH_HISTORY())"
        ).fetchall()
        assert {f for f, _ in fetched} >= {p.filename for p in locks[0].packages}
        for package in locks[0].packages:
            assert manager.store.has(package.sha256)
