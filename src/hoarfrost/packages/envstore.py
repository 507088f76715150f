"""Content-addressed, immutable Python environments (DESIGN.md decision 4).

Layout under ``<cache_dir>/envs``::

    <key>/                  one environment, key = Lock.key; read-only once built
        site-packages/      what the installer wrote; a worker calls site.addsitedir() on it
        lock.json           the lock it was built from (canonical JSON)
        .complete           written last: {"key", "created", "size"}
    .build-<key>-<random>/  a build in progress (or left by a crashed one)
    .trash-<key>-<random>/  an environment being deleted
    .locks/<key>.lock       per-key flock file

Why it is safe:

* A build happens in ``.build-*`` in the same directory and becomes visible by one ``rename``,
  after its ``.complete`` marker is written. A directory named ``<key>`` is therefore complete;
  one without a marker (copied in by hand, say) is never used and is removed before a rebuild.
* Builders of one key serialise on ``fcntl.flock`` of the key's lock file. flock locks belong to
  an open file description, so they exclude other threads (each opens the file) and other
  processes alike, and the kernel drops them when a process dies, even by SIGKILL: a killed
  builder leaves only a ``.build-*`` directory, which the next builder of that key deletes.
* The fast path (environment already there) is one ``stat`` of the marker: no lock, no subprocess.
"""

from __future__ import annotations

import builtins  # EnvStore.list shadows the builtin inside the class
import contextlib
import fcntl
import json
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from hoarfrost.errors import InternalError
from hoarfrost.packages.installer import Installer
from hoarfrost.packages.lock import Lock

__all__ = ["MARKER", "SITE_PACKAGES", "EnvInfo", "EnvStore"]

MARKER = ".complete"
SITE_PACKAGES = "site-packages"
_LOCK_JSON = "lock.json"
_KEY = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class EnvInfo:
    key: str
    path: Path
    size: int  # bytes of the files, measured once at build time
    created: datetime
    lock: Lock


class EnvStore:
    """Builds each distinct lock once and hands out its directory."""

    def __init__(self, cache_dir: Path, installer: Installer):
        self.root = cache_dir / "envs"
        self.installer = installer

    def path(self, lock: Lock) -> Path:
        """Where the environment of ``lock`` lives (whether or not it is built)."""
        return self.root / lock.key

    def site_packages(self, lock: Lock) -> Path:
        return self.root / lock.key / SITE_PACKAGES

    def exists(self, lock: Lock) -> bool:
        """True when the environment is complete: a single stat."""
        return os.path.exists(self.root / lock.key / MARKER)

    def ensure(
        self, lock: Lock, index_url: str | None = None, find_links: Path | None = None
    ) -> Path:
        """The directory of ``lock``'s environment, building it first if needed (once, even
        when many threads or processes ask at the same time)."""
        final = self.root / lock.key
        if os.path.exists(final / MARKER):
            return final
        with self._key_lock(lock.key):
            if os.path.exists(final / MARKER):  # another builder finished while we waited
                return final
            self._discard_leftovers(lock.key)
            return self._build(lock, index_url, find_links)

    def list(self) -> list[EnvInfo]:
        """Every complete environment, oldest first."""
        infos = [info for key in self._keys() if (info := self._info(key)) is not None]
        return sorted(infos, key=lambda info: info.created)

    def prune(self, keep: set[str]) -> builtins.list[str]:
        """Remove every environment whose key is not in ``keep``, plus leftovers of crashed
        builds; returns the removed keys (environments only), sorted."""
        removed: builtins.list[str] = []
        for key in self._keys():
            if key in keep:
                continue
            with self._key_lock(key):
                if (self.root / key).exists():
                    self._delete(self.root / key, key)
                    removed.append(key)
        self._discard_abandoned_builds()
        return sorted(removed)

    # --- building -------------------------------------------------------------------------------

    def _build(self, lock: Lock, index_url: str | None, find_links: Path | None) -> Path:
        staging = Path(tempfile.mkdtemp(dir=self.root, prefix=f".build-{lock.key}-"))
        try:
            self.installer.install(lock, staging / SITE_PACKAGES, index_url, find_links)
            (staging / _LOCK_JSON).write_text(lock.to_json())
            marker = {
                "key": lock.key,
                "created": datetime.now(timezone.utc).isoformat(),
                "size": _tree_size(staging),
            }
            (staging / MARKER).write_text(json.dumps(marker, sort_keys=True))
            _make_read_only(staging)
            # Same parent directory: an atomic rename, and no write permission is needed on the
            # (now read-only) directory itself.
            os.rename(staging, self.root / lock.key)
        except BaseException:
            _remove_tree(staging)
            raise
        return self.root / lock.key

    def _discard_leftovers(self, key: str) -> None:
        """With the key's lock held: nobody else is building ``key``, so any build or trash
        directory of it is dead, and a ``<key>`` directory without a marker is not ours."""
        for path in self.root.glob(f".build-{key}-*"):
            _remove_tree(path)
        for path in self.root.glob(f".trash-{key}-*"):
            _remove_tree(path)
        final = self.root / key
        if final.exists() and not (final / MARKER).exists():
            self._delete(final, key)

    def _discard_abandoned_builds(self) -> None:
        for path in [*self.root.glob(".build-*"), *self.root.glob(".trash-*")]:
            key = path.name.split("-")[1]
            lock_fd = self._try_key_lock(key)
            if lock_fd is None:
                continue  # a build of that key is running right now
            try:
                _remove_tree(path)
            finally:
                os.close(lock_fd)

    def _delete(self, path: Path, key: str) -> None:
        """Make ``path`` disappear at once (rename), then remove its files."""
        # Same parent: renaming a read-only directory elsewhere would need its write bit.
        trash = self.root / f".trash-{key}-{os.getpid()}-{secrets.token_hex(4)}"
        os.rename(path, trash)
        _remove_tree(trash)

    # --- reading --------------------------------------------------------------------------------

    def _keys(self) -> builtins.list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if _KEY.fullmatch(p.name))

    def _info(self, key: str) -> EnvInfo | None:
        path = self.root / key
        try:
            marker = json.loads((path / MARKER).read_text())
            lock = Lock.from_json((path / _LOCK_JSON).read_text())
        except (OSError, ValueError, InternalError):
            return None
        created = datetime.fromisoformat(marker["created"])
        return EnvInfo(key=key, path=path, size=int(marker["size"]), created=created, lock=lock)

    # --- locking --------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _key_lock(self, key: str) -> Iterator[None]:
        fd = self._open_locked(key, blocking=True)
        assert fd is not None
        try:
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the flock

    def _try_key_lock(self, key: str) -> int | None:
        return self._open_locked(key, blocking=False)

    def _open_locked(self, key: str, *, blocking: bool) -> int | None:
        if not _KEY.fullmatch(key):
            raise InternalError(f"invalid environment key {key!r}")
        locks = self.root / ".locks"
        locks.mkdir(parents=True, exist_ok=True)
        path = locks / f"{key}.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        return fd


def _tree_size(root: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


def _make_read_only(root: Path) -> None:
    """chmod a-w on every file and directory: an environment never changes once built."""
    for dirpath, dirs, files in os.walk(root, topdown=False):
        for name in [*files, *dirs]:
            _drop_write(os.path.join(dirpath, name))
    _drop_write(str(root))


def _drop_write(path: str) -> None:
    mode = os.lstat(path).st_mode
    if not os.path.islink(path):
        os.chmod(path, mode & ~0o222)


def _remove_tree(root: Path) -> None:
    """rmtree that first gives directories back their write bit (unlinking needs it)."""
    if not root.exists():
        return
    for dirpath, _dirs, _files in os.walk(root):
        with contextlib.suppress(OSError):
            os.chmod(dirpath, 0o700)
    shutil.rmtree(root, ignore_errors=True)
