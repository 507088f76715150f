"""Staged files on disk: where each stage keeps its files, and the only code that touches them.

Layout under the account's stage root (``<home>/stages``, or a private temporary directory for
an in-memory account, removed at close)::

    named/<id>/...      a named stage (the id is stored with the stage: RENAME moves nothing)
    temp/<id>/...       a temporary stage; removed with its session, and at every start
    user/<hex user>/... the user stage @~
    table/<hex db>.<hex schema>.<hex table>/...   the table stage @%t
    incoming/           uploads in progress, renamed into place when complete

A staged path is a list of names, each checked (:func:`clean_path`): no ``..`` or ``.``, no
backslash or NUL, no absolute path. Files are opened without following symbolic links and every
resolved path must stay under its stage's directory, so a staged path can never name anything
outside its stage. DuckDB's sandbox (:meth:`Engine._lock_down`) lets it read the stage root and
nothing more of the host.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
import re
import shutil
import stat
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from hoarfrost.errors import InvalidValue, ProgrammingError

__all__ = [
    "StageArea",
    "StageRoot",
    "StagedFile",
    "StagedWriter",
    "clean_path",
    "matching",
    "new_area_id",
]

_CHUNK = 1 << 20


def clean_path(path: str) -> tuple[str, ...]:
    """The names of a staged path, or an error for a path that could leave its stage."""
    if "\x00" in path or "\\" in path:
        raise _bad_path(path)
    names = tuple(p for p in path.split("/") if p)
    for name in names:
        if name in (".", "..") or len(name.encode()) > 255:
            raise _bad_path(path)
    return names


def _bad_path(path: str) -> InvalidValue:
    shown = path.replace("\x00", "\\0")
    return InvalidValue(
        f"Invalid stage path '{shown}': a staged path is a list of names separated by '/'; "
        "'.', '..', backslashes and NUL are not allowed.",
        errno=1003,
        sqlstate="42000",
    )


@dataclass(frozen=True)
class StagedFile:
    relpath: str  # inside the stage, '/'-separated
    size: int
    md5: str
    last_modified: dt.datetime


class StageArea:
    """The directory of one stage; ``label`` prefixes names in LIST (``mystage/``)."""

    def __init__(self, root: StageRoot, directory: Path, label: str):
        self.root = root
        self.directory = directory
        self.label = label

    # -- names -----------------------------------------------------------------------------
    def path_of(self, relpath: str) -> Path:
        names = clean_path(relpath)
        if not names:
            raise _bad_path(relpath)
        path = self.directory.joinpath(*names)
        self._check_inside(path.parent)
        return path

    def _check_inside(self, directory: Path) -> None:
        # Every directory between the stage and the file must be a real directory of ours.
        current = self.directory
        for name in directory.relative_to(self.directory).parts:
            current = current / name
            if current.is_symlink():
                raise _bad_path(str(directory.relative_to(self.directory)))

    def name_of(self, relpath: str) -> str:
        return f"{self.label}/{relpath}" if self.label else relpath

    # -- reading ---------------------------------------------------------------------------
    def files(self, prefix: str = "", pattern: str | None = None) -> list[StagedFile]:
        """Files under ``prefix`` (a folder, or the start of a name), sorted by path."""
        clean_path(prefix)
        regex = _regex(pattern)
        out = []
        for rel, full in self._walk():
            if not rel.startswith(prefix.lstrip("/")):
                continue
            # PATTERN matches the name LIST shows (stage/path/file) or the path in the stage.
            shown = self.name_of(rel)
            if regex is not None and not (regex.fullmatch(shown) or regex.fullmatch(rel)):
                continue
            st = full.lstat()
            modified = dt.datetime.fromtimestamp(st.st_mtime, dt.timezone.utc)
            out.append(StagedFile(rel, st.st_size, self.root.md5(full, st), modified))
        return sorted(out, key=lambda f: f.relpath)

    def _walk(self) -> Iterator[tuple[str, Path]]:
        if not self.directory.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(self.directory, followlinks=False):
            base = Path(dirpath)
            dirnames[:] = [d for d in dirnames if not (base / d).is_symlink()]
            for name in filenames:
                full = base / name
                if stat.S_ISREG(full.lstat().st_mode):
                    yield full.relative_to(self.directory).as_posix(), full

    def open_read(self, relpath: str) -> int:
        """A file descriptor for reading a staged file (never through a symbolic link)."""
        path = self.path_of(relpath)
        try:
            return os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOENT, errno.EISDIR, errno.ENOTDIR):
                raise ProgrammingError(
                    f"File '{self.name_of(relpath)}' does not exist or not authorized.",
                    errno=253006,
                    sqlstate="02000",
                ) from None
            raise

    def exists(self, relpath: str) -> bool:
        path = self.path_of(relpath)
        return path.is_file() and not path.is_symlink()

    def read_chunks(self, relpath: str) -> Iterator[bytes]:
        fd = self.open_read(relpath)
        with os.fdopen(fd, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                yield chunk

    # -- writing ---------------------------------------------------------------------------
    def writer(self, relpath: str) -> StagedWriter:
        """A file being written; it appears under ``relpath`` only when committed."""
        target = self.path_of(relpath)
        return StagedWriter(self, target)

    def write_chunks(self, relpath: str, chunks: Iterable[bytes]) -> int:
        with self.writer(relpath) as writer:
            for chunk in chunks:
                writer.write(chunk)
            writer.commit()
            return writer.size

    def remove(self, relpath: str) -> None:
        path = self.path_of(relpath)
        if path.is_symlink() or path.is_file():
            path.unlink()
        self._prune(path.parent)

    def _prune(self, directory: Path) -> None:
        while directory != self.directory and directory.is_relative_to(self.directory):
            try:
                directory.rmdir()
            except OSError:
                return
            directory = directory.parent

    def discard(self) -> None:
        """Remove the stage's files and directory."""
        shutil.rmtree(self.directory, ignore_errors=True)


class StagedWriter:
    def __init__(self, area: StageArea, target: Path):
        self.area = area
        self.target = target
        incoming = area.root.directory / "incoming"
        incoming.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.temp = incoming / uuid.uuid4().hex
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        self._handle = os.fdopen(os.open(self.temp, flags, 0o600), "wb")
        self.size = 0
        self._done = False
        self._md5 = hashlib.md5(usedforsecurity=False)

    def write(self, chunk: bytes) -> None:
        self._handle.write(chunk)
        self._md5.update(chunk)
        self.size += len(chunk)

    def flush(self) -> None:
        self._handle.flush()

    def commit(self) -> None:
        self._handle.close()
        self.target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.area._check_inside(self.target.parent)
        if self.target.is_symlink() or self.target.is_dir():
            raise _bad_path(self.target.relative_to(self.area.directory).as_posix())
        os.replace(self.temp, self.target)
        self._done = True
        self.area.root.remember_md5(self.target, self._md5.hexdigest())

    def __enter__(self) -> StagedWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._handle.closed:
            self._handle.close()
        if not self._done:
            self.temp.unlink(missing_ok=True)


class StageRoot:
    """The account's stage root: hands out the directory of each kind of stage."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._md5s: dict[tuple[str, int, int, int], str] = {}
        self._lock = threading.Lock()
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        # Temporary stages and unfinished uploads of an earlier process are nobody's now.
        for leftover in ("temp", "incoming"):
            shutil.rmtree(directory / leftover, ignore_errors=True)

    def md5(self, path: Path, st: os.stat_result) -> str:
        """A staged file's md5, computed once per version of the file (files are replaced by
        rename, never rewritten in place, so inode, size and mtime name a version)."""
        key = (str(path), st.st_ino, st.st_size, st.st_mtime_ns)
        with self._lock:
            known = self._md5s.get(key)
        if known is None:
            known = _md5(path)
            with self._lock:
                self._md5s[key] = known
        return known

    def remember_md5(self, path: Path, digest: str) -> None:
        st = path.lstat()
        with self._lock:
            self._md5s[(str(path), st.st_ino, st.st_size, st.st_mtime_ns)] = digest

    def sweep_named(self, live: set[str]) -> None:
        """Remove the directories of named stages no catalog object names any more."""
        named = self.directory / "named"
        if named.is_dir():
            for child in named.iterdir():
                if child.name not in live:
                    shutil.rmtree(child, ignore_errors=True)

    def named(self, area_id: str, label: str) -> StageArea:
        return StageArea(self, self.directory / "named" / _safe(area_id), label)

    def temporary(self, area_id: str, label: str) -> StageArea:
        return StageArea(self, self.directory / "temp" / _safe(area_id), label)

    def user(self, user: str) -> StageArea:
        return StageArea(self, self.directory / "user" / user.encode().hex(), "")

    def table(self, database: str, schema: str, table: str) -> StageArea:
        key = ".".join(p.encode().hex() for p in (database, schema, table))
        return StageArea(self, self.directory / "table" / key, "")


def _safe(area_id: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{32}", area_id):
        raise InvalidValue("corrupt stage record: bad area id")
    return area_id


def new_area_id() -> str:
    return uuid.uuid4().hex


def _regex(pattern: str | None) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error:
        raise InvalidValue(
            f"Invalid regular expression '{pattern}' in PATTERN.", errno=100048, sqlstate="2201B"
        ) from None


def matching(names: Iterable[str], pattern: str | None) -> list[str]:
    regex = _regex(pattern)
    return [n for n in names if regex is None or regex.fullmatch(n)]


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
