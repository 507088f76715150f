"""A real Ray cluster for the whole session: a head and a second node on loopback addresses,
each `ray start --block` with one CPU and its own temporary directory, stopped by the fixture
(only the processes it started). The repository fixtures are the functions tests' ones."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.functions.conftest import repo_server, shared_cache
from tests.support.ray_cluster import RayCluster

__all__ = ["cluster", "repo_server", "shared_cache"]


@pytest.fixture(scope="session")
def cluster() -> Iterator[RayCluster]:
    # A short path: Ray's sockets live under each node's temporary directory, and a unix
    # socket's path may not exceed 107 bytes (pytest's tmp_path is too deep).
    base = Path(tempfile.mkdtemp(prefix="hfray-"))
    try:
        with RayCluster(base) as started:
            yield started
    finally:
        shutil.rmtree(base, ignore_errors=True)
