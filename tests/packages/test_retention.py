"""The content-addressed FileStore: verified writes, atomic placement, find-links directories."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from hoarfrost.errors import IntegrityError, RepositoryError
from hoarfrost.packages.retention import FileStore


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_put_stream_stores_by_sha256_read_only(gw_store: FileStore) -> None:
    data = b"wheel bytes" * 1000
    stored = gw_store.put_stream([data[:10], data[10:]], expected_sha256=sha(data))
    assert stored.sha256 == sha(data) and stored.size == len(data)
    assert stored.path == gw_store.root / "sha256" / sha(data)[:2] / sha(data)
    assert gw_store.has(sha(data)) and gw_store.verify(sha(data))
    with gw_store.open(sha(data)) as f:
        assert f.read() == data
    assert stored.path.stat().st_mode & 0o222 == 0


def test_mismatch_stores_nothing(gw_store: FileStore) -> None:
    with pytest.raises(IntegrityError, match="sha256 mismatch"):
        gw_store.put_stream([b"evil"], expected_sha256=sha(b"good"))
    assert not gw_store.has(sha(b"evil")) and not gw_store.has(sha(b"good"))
    assert list((gw_store.root / "tmp").iterdir()) == []


def test_failing_stream_leaves_no_partial_file(gw_store: FileStore) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"half"
        raise RepositoryError("upstream went away", http_status=502)

    with pytest.raises(RepositoryError):
        gw_store.put_stream(chunks())
    assert list((gw_store.root / "tmp").iterdir()) == []
    assert not gw_store.has(sha(b"half"))


def test_rot_is_detected(gw_store: FileStore) -> None:
    stored = gw_store.put_stream([b"abc"])
    stored.path.chmod(0o644)
    stored.path.write_bytes(b"abd")
    assert not gw_store.verify(stored.sha256)


def test_path_refuses_non_sha(gw_store: FileStore) -> None:
    with pytest.raises(ValueError):
        gw_store.path("../../etc/passwd")
    assert not gw_store.has("../x")


def test_concurrent_puts_of_the_same_file(gw_store: FileStore) -> None:
    data = os.urandom(200_000)
    with ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(lambda _: gw_store.put_stream([data], expected_sha256=sha(data)), range(8))
        )
    assert {r.sha256 for r in results} == {sha(data)} and gw_store.verify(sha(data))


def test_link_dir_names_files_for_find_links(
    gw_store: FileStore, chain_wheels: dict[str, Path]
) -> None:
    items = [(gw_store.put_file(p).sha256, name) for name, p in chain_wheels.items()]
    links = gw_store.link_dir(items)
    assert sorted(p.name for p in links.iterdir()) == sorted(chain_wheels)
    for name, p in chain_wheels.items():
        assert (links / name).read_bytes() == p.read_bytes()
    assert gw_store.link_dir(reversed(items)) == links  # keyed by content, reused


def test_link_dir_refuses_missing_and_unsafe(gw_store: FileStore) -> None:
    good = gw_store.put_stream([b"x"]).sha256
    with pytest.raises(RepositoryError) as exc:
        gw_store.link_dir([(sha(b"missing"), "gamma-9.0-py3-none-any.whl")])
    assert exc.value.http_status == 404 and "gamma-9.0-py3-none-any.whl" in exc.value.msg
    for bad in ("../evil-1.0-py3-none-any.whl", "evil.tar.gz", ".hidden-1.0-py3-none-any.whl"):
        with pytest.raises(ValueError):
            gw_store.link_dir([(good, bad)])
