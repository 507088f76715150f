"""Retention: every file a build used, kept by sha256, so environments can be rebuilt offline.

Layout under the cache (DESIGN decision 1: content-addressed, immutable, shareable by homes)::

    <root>/sha256/ab/abcdef0123...     one file per sha256, never modified once renamed in
    <root>/tmp/                        partial writes (same file system, so rename is atomic)
    <root>/links/<key>/<filename>      find-links directories (see FileStore.link_dir)

A file is written to a temporary file, fsynced, its sha256 checked against the expected one, and
only then renamed into place; a crash leaves at worst an orphan in ``tmp/``, never a wrong file at
a sha256 path. :class:`FetchRecord` is the audit row of one upstream download (issue 3 item 6).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from hoarfrost.errors import IntegrityError, RepositoryError

__all__ = ["FetchRecord", "FileStore", "StoredFile", "is_sha256"]

_SHA256 = re.compile(r"[0-9a-f]{64}")


def is_sha256(text: str) -> bool:
    return bool(_SHA256.fullmatch(text))


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    path: Path


@dataclass(frozen=True)
class FetchRecord:
    """One file fetched from an upstream repository; the engine persists these into a view.

    ``url`` never carries credentials. ``policy_allowed`` is None when no packages policy applied;
    ``policy_rule``/``policy_spec`` are the matching rule and spec of the policy's decision.
    """

    time: datetime
    repository: str
    url: str
    filename: str
    sha256: str
    size: int
    policy_allowed: bool | None
    policy_rule: str | None
    policy_spec: str | None


class FileStore:
    """Files kept by sha256 under ``root``; safe for concurrent writers (last rename wins, and
    both wrote the same bytes)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if not is_sha256(sha256):
            raise ValueError(f"not a lowercase hex sha256: {sha256!r}")
        return self.root / "sha256" / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return is_sha256(sha256) and self.path(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        return self.path(sha256).open("rb")

    def put_stream(
        self, chunks: Iterable[bytes], *, expected_sha256: str | None = None
    ) -> StoredFile:
        """Store the bytes of ``chunks``; IntegrityError if they do not hash to ``expected_sha256``.

        Errors raised by ``chunks`` (an upstream failure mid-download) propagate unchanged after
        the partial file is removed.
        """
        if expected_sha256 is not None and not is_sha256(expected_sha256):
            raise ValueError(f"not a lowercase hex sha256: {expected_sha256!r}")
        tmp_dir = self.root / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="put-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            if expected_sha256 is not None and sha != expected_sha256:
                raise IntegrityError(
                    f"sha256 mismatch: expected {expected_sha256}, got {sha} ({size} bytes)"
                )
            final = self.path(sha)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(tmp, 0o444)  # immutable once retained
            os.replace(tmp, final)
            _fsync_dir(final.parent)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return StoredFile(sha, size, final)

    def put_file(self, source: Path, *, expected_sha256: str | None = None) -> StoredFile:
        with Path(source).open("rb") as f:
            return self.put_stream(
                iter(lambda: f.read(1 << 20), b""), expected_sha256=expected_sha256
            )

    def verify(self, sha256: str) -> bool:
        """Re-hash a retained file (a disk can rot; a rebuild must not install wrong bytes)."""
        if not self.has(sha256):
            return False
        digest = hashlib.sha256()
        with self.open(sha256) as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest() == sha256

    def link_dir(self, files: Iterable[tuple[str, str]]) -> Path:
        """A directory of ``filename`` -> retained file links, for ``uv pip install --find-links``.

        ``files`` is ``(sha256, filename)`` pairs. The directory is keyed by its content, built
        in a temporary directory and renamed into place, so concurrent callers share one and
        nobody sees a half-built one. Hard links when possible (same file system), else symlinks.
        A file not retained is a RepositoryError 404 naming it.
        """
        items = sorted(set(files), key=lambda item: item[1])
        for sha, filename in items:
            _check_wheel_filename(filename)
            if not self.has(sha):
                raise RepositoryError(
                    f"{filename} (sha256 {sha}) is not retained in {self.root} and the "
                    "repository was not consulted.",
                    http_status=404,
                )
        key = hashlib.sha256("\n".join(f"{s} {n}" for s, n in items).encode()).hexdigest()[:32]
        final = self.root / "links" / key
        if final.is_dir():
            return final
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=final.parent, prefix=".tmp-"))
        try:
            for sha, filename in items:
                _link(self.path(sha), staging / filename)
            os.rename(staging, final)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            if not final.is_dir():  # lost a race: another caller renamed the same content in
                raise
        return final


def _check_wheel_filename(filename: str) -> None:
    if "/" in filename or "\\" in filename or filename.startswith("."):
        raise ValueError(f"refusing file name {filename!r}")
    try:
        parse_wheel_filename(filename)
    except InvalidWheelFilename:
        raise ValueError(f"not a wheel file name: {filename!r}") from None


def _link(target: Path, link: Path) -> None:
    try:
        os.link(target, link)
    except OSError:
        os.symlink(target, link)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
