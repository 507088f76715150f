"""Runtime discovery: real interpreters, fake search places built in tmp_path."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from hoarfrost.config import Settings
from hoarfrost.errors import ConfigurationError, InvalidValue
from hoarfrost.packages.runtimes import (
    SUPPORTED_VERSIONS,
    discover_runtimes,
    parse_runtime_version,
    require_runtime,
)

PYENV_VERSIONS = Path.home() / ".pyenv" / "versions"


def real_interpreter(version: str) -> Path:
    found = sorted(PYENV_VERSIONS.glob(f"{version}.*/bin/python{version}"))
    if not found:
        pytest.skip(f"no pyenv CPython {version} on this machine")
    return found[-1]


def isolated_env(tmp_path: Path, *, path_dirs: Sequence[Path] = ()) -> dict[str, str]:
    """Search places that contain nothing but what a test puts in tmp_path."""
    return {
        "PATH": os.pathsep.join(str(d) for d in path_dirs),
        "HOME": str(tmp_path / "home"),
        "PYENV_ROOT": str(tmp_path / "pyenv"),
        "UV_PYTHON_INSTALL_DIR": str(tmp_path / "uv-python"),
    }


def fake_pyenv_version(tmp_path: Path, version: str, full: str) -> Path:
    link = tmp_path / "pyenv" / "versions" / full / "bin" / f"python{version}"
    link.parent.mkdir(parents=True)
    link.symlink_to(real_interpreter(version))
    return link


@pytest.mark.parametrize(
    ("given", "expected"),
    [("3.10", "3.10"), ("'3.11'", "3.11"), (" 3.12 ", "3.12"), ("3.13", "3.13"), (3.1, "3.10")],
)
def test_runtime_version_spellings(given: object, expected: str) -> None:
    assert parse_runtime_version(given) == expected


@pytest.mark.parametrize("given", ["3.9", "3.1", "3.14", "3", "python3.11", 3.9, 3])
def test_unsupported_runtime_versions_are_refused(given: object) -> None:
    with pytest.raises(InvalidValue, match=r"Supported runtime versions: 3\.10, 3\.11"):
        parse_runtime_version(given)


def test_this_machine_has_every_supported_runtime() -> None:
    found = discover_runtimes(Settings(env={}))
    for version in SUPPORTED_VERSIONS:
        real_interpreter(version)  # skips when the machine lacks it
        runtime = found[version]
        assert runtime.version == version
        assert runtime.full_version.startswith(version + ".")
        assert runtime.executable.is_absolute() and "shims" not in runtime.executable.parts


def test_discovery_is_cached_per_process() -> None:
    settings = Settings(env={})
    first = discover_runtimes(settings)
    start = time.perf_counter()
    again = discover_runtimes(settings)
    assert time.perf_counter() - start < 0.005
    assert again == first


def test_pyenv_versions_are_found_and_resolved(tmp_path: Path) -> None:
    link = fake_pyenv_version(tmp_path, "3.12", "3.12.99")
    runtime = require_runtime(Settings(env={}), "3.12", isolated_env(tmp_path))
    assert runtime.source == "pyenv"
    assert runtime.executable == link.resolve()
    assert runtime.executable != link


def test_pyenv_shims_are_never_used(tmp_path: Path) -> None:
    shims = tmp_path / "pyenv" / "shims"
    shims.mkdir(parents=True)
    shim = shims / "python3.12"
    shim.write_text(f'#!/bin/sh\nexec {real_interpreter("3.12")} "$@"\n')
    shim.chmod(0o755)
    # A script (any "#!" file) on PATH is refused too, wherever it lives.
    scripts = tmp_path / "bin"
    scripts.mkdir()
    (scripts / "python3.12").write_text(shim.read_text())
    (scripts / "python3.12").chmod(0o755)
    env = isolated_env(tmp_path, path_dirs=[shims, scripts])
    assert "3.12" not in discover_runtimes(Settings(env={}), env)


def test_setting_wins_over_discovery(tmp_path: Path) -> None:
    fake_pyenv_version(tmp_path, "3.11", "3.11.99")
    configured = real_interpreter("3.11")
    settings = Settings({"python_3_11": str(configured)}, env={})
    runtime = require_runtime(settings, "3.11", isolated_env(tmp_path))
    assert runtime.source == "setting"
    assert runtime.executable == configured.resolve()


def test_a_setting_naming_the_wrong_version_is_reported(tmp_path: Path) -> None:
    fake_pyenv_version(tmp_path, "3.11", "3.11.99")
    wrong = real_interpreter("3.13")
    settings = Settings({"python_3_11": str(wrong)}, env={})
    with pytest.raises(ConfigurationError) as caught:
        require_runtime(settings, "3.11", isolated_env(tmp_path))
    assert "HOARFROST_PYTHON_3_11" in caught.value.msg
    assert str(wrong) in caught.value.msg


def test_missing_runtime_error_lists_the_available_ones(tmp_path: Path) -> None:
    fake_pyenv_version(tmp_path, "3.10", "3.10.99")
    fake_pyenv_version(tmp_path, "3.12", "3.12.99")
    with pytest.raises(ConfigurationError) as caught:
        require_runtime(Settings(env={}), "3.13", isolated_env(tmp_path))
    message = caught.value.msg
    assert "Python runtime 3.13 is not available" in message
    assert "Available runtimes: 3.10 (" in message and ", 3.12 (" in message
    assert "3.11" not in message.split("Available runtimes:")[1]


def test_no_runtime_at_all_says_none(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="Available runtimes: none"):
        require_runtime(Settings(env={}), "3.10", isolated_env(tmp_path))
