"""Fixtures: real runtimes, a real package environment with pandas, real worker pools."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hoarfrost.workers.pool import WorkerPool

RUNTIMES = ("3.10", "3.13")


def find_runtime(version: str) -> Path | None:
    """A CPython binary of ``version``: the setting's variable, else pyenv's versions directory."""
    configured = os.environ.get(f"HOARFROST_PYTHON_{version.replace('.', '_')}")
    if configured:
        return Path(configured)
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    found = sorted(root.glob(f"{version}.*/bin/python{version}"))
    return found[-1] if found else None


def runtime_or_skip(version: str) -> Path:
    exe = find_runtime(version)
    if exe is None:
        pytest.skip(f"no CPython {version} on this machine")
    return exe


@pytest.fixture(scope="session", params=RUNTIMES)
def runtime(request: pytest.FixtureRequest) -> Path:
    return runtime_or_skip(request.param)


@pytest.fixture(scope="session")
def pandas_envs(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, Path]:
    """runtime -> a ``--target`` directory holding pandas for that runtime (built on demand)."""
    return {}


@pytest.fixture(scope="session")
def pandas_env(
    runtime: Path, pandas_envs: dict[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    if runtime not in pandas_envs:
        target = tmp_path_factory.mktemp(f"pandas-{runtime.name}")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "uv",
                "pip",
                "install",
                "--quiet",
                "--python",
                str(runtime),
                "--target",
                str(target),
                "pandas",
            ],
            check=True,
        )
        pandas_envs[runtime] = target
    return pandas_envs[runtime]


@pytest.fixture(scope="session")
def pool(
    runtime: Path, pandas_env: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerPool]:
    """A warm pool shared by the well-behaved tests of one runtime."""
    log = tmp_path_factory.mktemp("logs") / "workers.log"
    with WorkerPool(
        runtime, pandas_env, size=2, timeout=60, memory_limit=2 << 30, log_path=log
    ) as p:
        yield p
