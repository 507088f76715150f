"""Resolution with uv against a real pypiserver (open: the gateway owns credentials)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from hoarfrost.config import Settings
from hoarfrost.errors import ConfigurationError, PackageError
from hoarfrost.packages.installer import install_invocation
from hoarfrost.packages.lock import Lock
from hoarfrost.packages.resolver import (
    PREFIX,
    compile_invocation,
    platform_for,
    resolve,
)
from hoarfrost.packages.runtimes import Runtime, require_runtime
from tests.support.pypiserver import PypiServer, build_chain_repository, free_port

pytestmark = pytest.mark.slow
TOKEN = "tok-4f9c2b7e1d0a8c6b"  # what the gateway puts in its URL path


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_chain_repository(tmp_path_factory.mktemp("repo"))


@pytest.fixture(scope="module")
def server(repository: dict[str, Path], tmp_path_factory: pytest.TempPathFactory):
    packages = next(iter(repository.values())).parent
    with PypiServer(packages, tmp_path_factory.mktemp("pypiserver")) as running:
        yield running


@pytest.fixture(scope="module")
def runtime() -> Runtime:
    return require_runtime(Settings(env={}), "3.11")


def frozen(lock: Lock) -> list[str]:
    return lock.installed_packages()


def test_two_level_chain_freezes_the_newest_allowed_versions(
    server: PypiServer, runtime: Runtime, repository: dict[str, Path], tmp_path: Path
) -> None:
    lock = resolve(["app"], runtime, server.index_url, cache_dir=tmp_path)
    assert frozen(lock) == ["app==2.0", "leaf==2.0", "mid==1.5"]  # leaf<3 from mid
    for pkg in lock.packages:
        wheel = repository[pkg.filename]
        assert pkg.sha256 == hashlib.sha256(wheel.read_bytes()).hexdigest()
        assert pkg.url is None  # a gateway URL carries a token: never stored
    assert lock.runtime == "3.11" and lock.python_full_version == runtime.full_version
    assert lock.requested == ("app",)


def test_pins_and_ranges_are_honoured(server: PypiServer, runtime: Runtime, tmp_path: Path) -> None:
    lock = resolve(
        ["app==1.0", "leaf<2", "mid!=1.5"], runtime, server.index_url, cache_dir=tmp_path
    )
    assert frozen(lock) == ["app==1.0", "leaf==1.0", "mid==1.0"]


def test_the_wheel_for_the_target_platform_is_locked(
    server: PypiServer, runtime: Runtime, tmp_path: Path
) -> None:
    names = {
        platform: resolve(
            ["multi"], runtime, server.index_url, platform=platform, cache_dir=tmp_path
        )
        .packages[0]
        .filename
        for platform in ("x86_64-manylinux_2_28", "aarch64-manylinux_2_28")
    }
    assert names == {
        "x86_64-manylinux_2_28": "multi-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
        "aarch64-manylinux_2_28": "multi-1.0-cp311-cp311-manylinux_2_17_aarch64.whl",
    }
    assert platform_for("x86").startswith("x86_64-")


@pytest.mark.parametrize("spec", ["nosuchpackage", "app==9.9", "app>=10"])
def test_unknown_package_or_version_uses_the_reference_text(
    server: PypiServer, runtime: Runtime, tmp_path: Path, spec: str
) -> None:
    with pytest.raises(PackageError) as caught:
        resolve(
            ["app", spec] if spec.startswith("no") else [spec],
            runtime,
            server.index_url,
            cache_dir=tmp_path,
        )
    assert caught.value.msg == f"{PREFIX} 'Packages not found: {spec}'"


def test_conflict_uses_the_reference_text(
    server: PypiServer, runtime: Runtime, tmp_path: Path
) -> None:
    with pytest.raises(PackageError) as caught:
        resolve(["app", "leaf>=3"], runtime, server.index_url, cache_dir=tmp_path)
    assert caught.value.msg == f"{PREFIX} 'One or more package conflicts were detected.'"


def test_requires_python_names_the_runtimes_that_would_work(
    server: PypiServer, runtime: Runtime, tmp_path: Path
) -> None:
    with pytest.raises(PackageError) as caught:
        resolve(["newpy"], runtime, server.index_url, cache_dir=tmp_path)
    message = caught.value.msg
    assert message.startswith(f"{PREFIX} 'One or more package conflicts were detected.'")
    assert "newpy requires Python >=3.13" in message
    assert message.endswith("The packages resolve for runtime version(s): 3.13.")


def test_invalid_specs_never_reach_uv(runtime: Runtime, tmp_path: Path) -> None:
    for spec in ["bad spec", "app\n--index-url http://evil/simple", "app @ https://x/app.whl"]:
        with pytest.raises(PackageError, match=PREFIX):
            resolve([spec], runtime, "http://127.0.0.1:9/simple/", cache_dir=tmp_path)


def test_uv_argv_and_env_hold_no_credential(runtime: Runtime, tmp_path: Path) -> None:
    index_url = f"http://127.0.0.1:4321/{TOKEN}/simple/"
    lock = Lock((), "3.11", runtime.full_version, "x86_64-manylinux_2_28")
    calls = [
        compile_invocation(
            tmp_path,
            ["app"],
            runtime,
            index_url,
            platform="x86_64-manylinux_2_28",
            cache_dir=tmp_path,
        ),
        install_invocation(
            tmp_path,
            lock,
            tmp_path / "target",
            python=runtime.executable,
            index_url=index_url,
            find_links=None,
            cache_dir=tmp_path,
        ),
    ]
    for call in calls:
        assert not any(TOKEN in arg for arg in call.argv)
        assert not any(TOKEN in value for value in call.env.values())
        assert set(call.env) <= {
            "PATH", "HOME", "LANG", "NO_COLOR", "UV_NO_CONFIG", "UV_PYTHON_DOWNLOADS",
            "UV_NO_PROGRESS", "UV_CACHE_DIR", "UV_HTTP_RETRIES",
        }  # fmt: skip
        assert call.env["UV_NO_CONFIG"] == "1" and call.env["UV_PYTHON_DOWNLOADS"] == "never"
        assert call.env["HOME"].startswith(str(tmp_path))
        assert any(TOKEN in text for text in call.files.values())  # the private file only


def test_index_urls_with_userinfo_are_refused(runtime: Runtime, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="must not carry credentials"):
        compile_invocation(
            tmp_path,
            ["app"],
            runtime,
            "http://alice:s3cr3t@127.0.0.1:9/simple/",
            platform="x86_64-manylinux_2_28",
            cache_dir=tmp_path,
        )


def test_uv_errors_never_show_the_token(runtime: Runtime, tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/{TOKEN}/simple/"
    with pytest.raises(PackageError) as caught:
        resolve(["app"], runtime, dead, cache_dir=tmp_path)
    assert TOKEN not in str(caught.value)
    assert "<redacted>" in str(caught.value) and "Connection refused" in str(caught.value)
