"""Install a :class:`Lock` into a directory: the seam between the env store and uv.

Layout choice: ``uv pip install --target <dir>`` — a flat directory of installed distributions,
no virtualenv. A worker runs the runtime's own interpreter (``python -I -S``) and calls
``site.addsitedir(<dir>)``, which puts the directory on ``sys.path`` *and* processes its
``.pth`` files (some wheels rely on them). A venv would add an interpreter symlink and a
``pyvenv.cfg`` tied to one interpreter path, for nothing the worker needs; console scripts land
in ``<dir>/bin`` and are not used by UDFs.

The lock is complete, so the install is ``--no-deps`` with ``--require-hashes``: uv installs
exactly the locked files or fails. From an index, the requirement is ``name==version --hash``
(uv only accepts the file with that hash). From a find-links directory (retained files, upstream
offline) each requirement points at the exact file (``name @ file://...``), because uv picks a
local file by tags before it checks hashes.

Bytecode is compiled afterwards by :mod:`hoarfrost.packages.bytecode` rather than with uv's
``--compile-bytecode``, which would also compile the libraries' bundled test suites.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version

from hoarfrost.errors import ConfigurationError, InternalError, PackageError
from hoarfrost.packages.bytecode import compile_environment
from hoarfrost.packages.lock import Lock
from hoarfrost.packages.resolver import (
    PREFIX,
    UvInvocation,
    check_index_url,
    private_workdir,
    redact,
    run_uv,
    uv_binary,
    uv_env,
)

__all__ = ["FakeInstaller", "Installer", "UvInstaller", "install_invocation"]

INSTALL_TIMEOUT = 1800.0


class Installer:
    """Installs every package of a lock into ``target`` (which does not exist yet)."""

    def install(
        self, lock: Lock, target: Path, index_url: str | None, find_links: Path | None
    ) -> None:
        raise NotImplementedError


def install_invocation(
    workdir: Path,
    lock: Lock,
    target: Path,
    *,
    python: Path,
    index_url: str | None,
    find_links: Path | None,
    cache_dir: Path,
) -> UvInvocation:
    """The exact uv call :class:`UvInstaller` makes; the index URL is only in the file."""
    if (index_url is None) == (find_links is None):
        raise InternalError("install needs exactly one of index_url and find_links")
    if index_url is not None:
        check_index_url(index_url)
        lines = [f"--index-url {index_url}"]
        lines += [f"{p.name}=={p.version} --hash=sha256:{p.sha256}" for p in lock.packages]
        source: tuple[str, ...] = ()
    else:
        assert find_links is not None
        base = find_links.resolve()
        lines = [
            f"{p.name} @ {(base / p.filename).as_uri()} --hash=sha256:{p.sha256}"
            for p in lock.packages
        ]
        source = ("--no-index",)
    argv = (
        uv_binary(),
        "pip",
        "install",
        "--target",
        str(target),
        "--python",
        str(python),
        "-r",
        str(workdir / "requirements.txt"),
        "--require-hashes",
        "--no-deps",
        "--only-binary",
        ":all:",
        # Hard links from uv's cache (same file system: both live in the cache dir): copying
        # the files costs about as much as the whole rest of a cold install of a numpy/pandas
        # stack. Safe because unpacked archives in uv's cache are never modified in place (uv
        # writes RECORD and INSTALLER as new files, compileall writes bytecode by rename), and
        # removing either side leaves the other intact. The chmod -w of a built environment
        # also applies to the cache's inodes, which uv only ever reads or unlinks.
        "--link-mode",
        "hardlink",
        *source,
        "--quiet",
        "--color",
        "never",
    )
    text = "".join(f"{line}\n" for line in lines)
    return UvInvocation(argv=argv, env=uv_env(cache_dir), files={"requirements.txt": text})


class UvInstaller(Installer):
    """Installs with ``uv pip install --target`` using the runtime interpreters given."""

    def __init__(self, cache_dir: Path, interpreters: dict[str, Path]):
        self.cache_dir = cache_dir
        self.interpreters = interpreters  # runtime version ("3.11") -> executable

    def install(
        self, lock: Lock, target: Path, index_url: str | None, find_links: Path | None
    ) -> None:
        python = self.interpreters.get(lock.runtime)
        if python is None:
            raise ConfigurationError(f"No Python {lock.runtime} interpreter to build with.")
        with private_workdir(self.cache_dir) as workdir:
            call = install_invocation(
                workdir,
                lock,
                target,
                python=python,
                index_url=index_url,
                find_links=find_links,
                cache_dir=self.cache_dir,
            )
            done = run_uv(call, workdir, timeout=INSTALL_TIMEOUT)
        if done.returncode != 0:
            detail = redact(" ".join(done.stderr.split()), index_url)
            raise PackageError(f"{PREFIX} 'Installing the packages failed: {detail}'")
        (target / ".lock").unlink(missing_ok=True)  # uv's own lock file; the env is immutable
        _check_installed(lock, target)
        compile_environment(python, target)


def _check_installed(lock: Lock, target: Path) -> None:
    """The target must hold exactly the locked distributions (a cheap guard against surprises)."""
    found: dict[str, Version] = {}
    for info in target.glob("*.dist-info"):
        name, _, version = info.name.removesuffix(".dist-info").rpartition("-")
        found[str(canonicalize_name(name))] = Version(version)
    expected = {p.name: Version(p.version) for p in lock.packages}
    if found != expected:
        raise InternalError(
            f"installed {sorted(found)} but the lock lists {sorted(expected)}; build discarded"
        )


class FakeInstaller(Installer):
    """An installer for tests of the store: writes a marker file instead of installing.

    ``counter`` gets one line appended per build (O_APPEND: safe across processes);
    ``started`` is created when a build begins; the build then waits ``delay`` seconds, or until
    the file ``release`` exists, or until the ``gate`` event is set; ``fail`` makes it raise after
    writing a partial file, as a crashing installer would.
    """

    def __init__(
        self,
        *,
        counter: Path | None = None,
        started: Path | None = None,
        release: Path | None = None,
        gate: threading.Event | None = None,
        delay: float = 0.0,
        fail: bool = False,
    ):
        self.counter = counter
        self.started = started
        self.release = release
        self.gate = gate
        self.delay = delay
        self.fail = fail

    def install(
        self, lock: Lock, target: Path, index_url: str | None, find_links: Path | None
    ) -> None:
        target.mkdir(parents=True)
        if self.counter is not None:
            fd = os.open(self.counter, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                os.write(fd, f"{os.getpid()} {lock.key}\n".encode())
            finally:
                os.close(fd)
        if self.started is not None:
            self.started.touch()
        (target / "partial").write_text("a build in progress\n")
        self._wait()
        if self.fail:
            raise PackageError(f"{PREFIX} 'FakeInstaller was told to fail.'")
        marker = {"installed": lock.installed_packages(), "pid": os.getpid()}
        (target / "fake-installed.json").write_text(json.dumps(marker))

    def _wait(self) -> None:
        if self.gate is not None:
            self.gate.wait(60)
        if self.release is not None:
            deadline = time.monotonic() + 60
            while not self.release.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
        if self.delay:
            time.sleep(self.delay)
