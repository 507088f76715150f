"""Lock: canonical JSON, a key that depends only on what determines the environment's files."""

from __future__ import annotations

import dataclasses
import json

import pytest

from hoarfrost.errors import InternalError
from hoarfrost.packages.lock import Lock, LockedPackage

SHA_A, SHA_B = "a" * 64, "b" * 64


def package(name: str = "app", version: str = "2.0", sha: str = SHA_A, url: str | None = None):
    return LockedPackage(name, version, f"{name}-{version}-py3-none-any.whl", sha, url)


def make_lock(*packages: LockedPackage, requested: tuple[str, ...] = ("app",)) -> Lock:
    chosen = packages or (package(), package("leaf", "1.0", SHA_B))
    return Lock(chosen, "3.11", "3.11.7", "x86_64-manylinux_2_36", requested)


def test_json_round_trip_is_exact() -> None:
    lock = make_lock()
    text = lock.to_json()
    assert Lock.from_json(text) == lock
    assert Lock.from_json(text).to_json() == text
    data = json.loads(text)
    assert text == json.dumps(data, sort_keys=True, separators=(",", ":"))
    assert [p["name"] for p in data["packages"]] == ["app", "leaf"]


def test_key_ignores_order_requested_specs_and_urls() -> None:
    a, b = package(), package("leaf", "1.0", SHA_B)
    base = make_lock(a, b)
    assert make_lock(b, a).key == base.key
    assert make_lock(a, b, requested=("app>=1", "leaf")).key == base.key
    with_url = dataclasses.replace(a, url="http://127.0.0.1:1/tok/app-2.0-py3-none-any.whl")
    assert make_lock(with_url, b).key == base.key
    assert len(base.key) == 64 and int(base.key, 16) >= 0


def test_key_changes_with_any_file_or_target() -> None:
    base = make_lock()
    assert make_lock(package(sha="c" * 64), package("leaf", "1.0", SHA_B)).key != base.key
    assert dataclasses.replace(base, platform="aarch64-manylinux_2_28").key != base.key
    assert dataclasses.replace(base, python_full_version="3.11.8").key != base.key
    assert dataclasses.replace(base, runtime="3.12").key != base.key


def test_installed_packages_and_files() -> None:
    lock = make_lock()
    assert lock.installed_packages() == ["app==2.0", "leaf==1.0"]
    assert lock.files() == [
        (SHA_A, "app-2.0-py3-none-any.whl"),
        (SHA_B, "leaf-1.0-py3-none-any.whl"),
    ]


@pytest.mark.parametrize(
    ("filename", "sha"),
    [
        ("other-2.0-py3-none-any.whl", SHA_A),  # names another distribution
        ("app-3.0-py3-none-any.whl", SHA_A),  # another version
        ("app-2.0.tar.gz", SHA_A),  # not a wheel
        ("app-2.0-py3-none-any.whl", "ABC"),  # not a sha256
    ],
)
def test_inconsistent_packages_are_refused(filename: str, sha: str) -> None:
    with pytest.raises(InternalError):
        LockedPackage("app", "2.0", filename, sha)


def test_unreadable_stored_locks_are_internal_errors() -> None:
    with pytest.raises(InternalError, match="unreadable"):
        Lock.from_json('{"format": 99}')
    with pytest.raises(InternalError, match="unreadable"):
        Lock.from_json("not json")


def test_duplicate_packages_are_refused() -> None:
    with pytest.raises(InternalError, match="twice"):
        make_lock(package(), package(sha=SHA_B))
