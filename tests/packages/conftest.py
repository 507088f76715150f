"""Fixtures of the gateway tests: settings with small limits, real wheels, loopback servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hoarfrost.config import Settings
from hoarfrost.packages.retention import FileStore
from tests.support.hostile import HostileServer
from tests.support.wheels import build_wheel

USER, PASSWORD = "alice", "s3cr3t-pa55"


@pytest.fixture
def gw_settings() -> Settings:
    return Settings(
        {"http_timeout": 3.0, "max_page_size": 64 * 1024, "max_file_size": 1 << 20}, env={}
    )


@pytest.fixture(scope="session")
def chain_wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """alpha 1.0/2.0 -> beta 1.0/1.1 -> gamma 1.0: a two-level dependency chain."""
    dest = tmp_path_factory.mktemp("wheels")
    built = [
        build_wheel(dest, "alpha", "1.0", requires=["beta"]),
        build_wheel(dest, "alpha", "2.0", requires=["beta>=1.0"]),
        build_wheel(dest, "beta", "1.0", requires=["gamma"]),
        build_wheel(dest, "beta", "1.1", requires=["gamma==1.0"]),
        build_wheel(dest, "gamma", "1.0"),
    ]
    return {p.name: p for p in built}


@pytest.fixture
def gw_store(tmp_path: Path) -> FileStore:
    return FileStore(tmp_path / "files")


@pytest.fixture
def auth_index() -> Iterator[HostileServer]:
    """The customer's index on 127.0.0.1, behind basic auth."""
    with HostileServer("127.0.0.1", auth=(USER, PASSWORD)) as server:
        yield server


@pytest.fixture
def second_host() -> Iterator[HostileServer]:
    """A second "host" (127.0.0.2) with no auth of its own."""
    with HostileServer("127.0.0.2") as server:
        yield server
