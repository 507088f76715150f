"""Environments built on a Ray node from a frozen lock and the wheels the engine sent.

Layout under the node's directory (``<ray_node_cache_dir>/node-<address>``, one per node even
when several nodes share a disk, as test clusters on one machine do)::

    files/sha256/...       the wheels received, kept by sha256 (retention.FileStore)
    files/links/<key>/     find-links directories uv installs from
    envs/<key>/            environments (envstore.EnvStore: built once per lock, under flock)
    builds.log             one line per environment actually built here: "<lock key> <pid>"
    logs/python_udf.log    what user code printed

The bytes arrive through Ray's object store; each file is hashed as it is stored and refused
when its sha256 is not the lock's (``FileStore.put_stream``), and uv installs offline
(``--no-index``, each requirement pinned to its file and hash). A node never talks to a
repository and never holds a credential: the lock names files, the wheels are bytes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from hoarfrost.config import Settings, default_cache_dir
from hoarfrost.packages.envstore import SITE_PACKAGES, EnvStore
from hoarfrost.packages.installer import Installer, UvInstaller
from hoarfrost.packages.lock import Lock
from hoarfrost.packages.retention import FileStore
from hoarfrost.packages.runtimes import Runtime, require_runtime

__all__ = ["BUILDS_LOG", "NodeEnvironments", "node_directory"]

BUILDS_LOG = "builds.log"
_UNSAFE = re.compile(r"[^0-9A-Za-z.:-]")

WheelSource = Callable[[], Iterable[tuple[str, bytes]]]


def node_directory(base: str | None, node_address: str) -> Path:
    """This node's own directory under ``base`` (default: the node user's cache)."""
    root = Path(base).expanduser() if base else default_cache_dir().with_name("hoarfrost-ray")
    return root / ("node-" + _UNSAFE.sub("_", node_address))


class _CountingInstaller(Installer):
    """Installs with ``inner`` and appends one line per build to ``log`` (O_APPEND: one write
    per line, safe across the node's processes), so the builds of a node can be counted."""

    def __init__(self, inner: Installer, log: Path):
        self.inner = inner
        self.log = log

    def install(
        self, lock: Lock, target: Path, index_url: str | None, find_links: Path | None
    ) -> None:
        self.inner.install(lock, target, index_url, find_links)
        fd = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, f"{lock.key} {os.getpid()}\n".encode())
        finally:
            os.close(fd)


class NodeEnvironments:
    """The environments of one node."""

    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        os.chmod(root, 0o755)  # sandboxed workers (other uids) read environments below it
        self.files = FileStore(root / "files")

    def runtime(self, version: str) -> Runtime:
        """This node's interpreter of ``version`` (HOARFROST_PYTHON_3_11 ... on the node)."""
        return require_runtime(Settings(), version)

    def ensure(self, lock: Lock, wheels: WheelSource) -> Path | None:
        """The site-packages of ``lock`` on this node, built first if needed; ``wheels`` is
        asked for the files only then."""
        if not lock.packages:
            return None
        runtime = self.runtime(lock.runtime)
        installer = UvInstaller(self.root, {lock.runtime: runtime.executable})
        store = EnvStore(self.root, _CountingInstaller(installer, self.root / BUILDS_LOG))
        if not store.exists(lock):
            missing = {sha for sha, _ in lock.files() if not self.files.has(sha)}
            if missing:
                for sha, data in wheels():
                    if sha in missing:  # IntegrityError when the bytes are not the lock's
                        self.files.put_stream([data], expected_sha256=sha)
            store.ensure(lock, find_links=self.files.link_dir(lock.files()))
        return store.path(lock) / SITE_PACKAGES
