"""Fixtures shared by every test package (keep this file small: only shared fixtures)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.pypiserver import PypiServer

PypiServerFactory = Callable[..., PypiServer]


@pytest.fixture
def pypiserver_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PypiServerFactory]:
    """``factory(packages_dir, auth=None | (user, password)) -> PypiServer`` (started); every
    server it started is stopped at teardown."""
    started: list[PypiServer] = []

    def factory(packages: Path, *, auth: tuple[str, str] | None = None) -> PypiServer:
        server = PypiServer(packages, tmp_path_factory.mktemp("pypiserver"), auth=auth)
        started.append(server)
        return server.start()

    yield factory
    for server in started:
        server.stop()
