"""EnvStore: build once under concurrency, survive SIGKILL, prune, rebuild offline."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from hoarfrost.config import Settings
from hoarfrost.errors import PackageError
from hoarfrost.packages.envstore import MARKER, SITE_PACKAGES, EnvStore
from hoarfrost.packages.installer import FakeInstaller, Installer, UvInstaller
from hoarfrost.packages.lock import Lock, LockedPackage
from hoarfrost.packages.resolver import resolve
from hoarfrost.packages.runtimes import require_runtime
from tests.support.pypiserver import PypiServer, build_chain_repository

ROOT = Path(__file__).resolve().parents[2]


def make_lock(version: str = "1.0") -> Lock:
    pkg = LockedPackage("app", version, f"app-{version}-py3-none-any.whl", "a" * 64)
    return Lock((pkg,), "3.11", "3.11.7", "x86_64-manylinux_2_36", ("app",))


def builds(counter: Path) -> int:
    return len(counter.read_text().splitlines()) if counter.exists() else 0


def leftovers(cache: Path) -> list[str]:
    return sorted(
        p.name for p in (cache / "envs").iterdir() if p.name.startswith((".build", ".trash"))
    )


def test_build_then_fast_path(tmp_path: Path) -> None:
    counter = tmp_path / "count"
    store = EnvStore(tmp_path / "cache", FakeInstaller(counter=counter))
    lock = make_lock()
    assert not store.exists(lock)
    path = store.ensure(lock)
    assert path == tmp_path / "cache" / "envs" / lock.key
    assert (path / MARKER).is_file() and (path / SITE_PACKAGES / "fake-installed.json").is_file()
    assert Lock.from_json((path / "lock.json").read_text()) == lock
    assert store.exists(lock)
    start = time.perf_counter()
    for _ in range(100):
        assert store.ensure(lock) == path
    assert (time.perf_counter() - start) / 100 < 0.020  # creation with the env present
    assert builds(counter) == 1


def test_environments_are_read_only(tmp_path: Path) -> None:
    path = EnvStore(tmp_path / "cache", FakeInstaller()).ensure(make_lock())
    for item in [path, path / SITE_PACKAGES, path / SITE_PACKAGES / "fake-installed.json"]:
        assert stat.S_IMODE(item.stat().st_mode) & 0o222 == 0, item


def test_eight_threads_build_once(tmp_path: Path) -> None:
    counter = tmp_path / "count"
    store = EnvStore(tmp_path / "cache", FakeInstaller(counter=counter, delay=0.3))
    barrier = threading.Barrier(8)

    def create() -> Path:
        barrier.wait()
        return store.ensure(make_lock())

    with ThreadPoolExecutor(8) as pool:
        paths = list(pool.map(lambda _: create(), range(8)))
    assert len(set(paths)) == 1 and (paths[0] / MARKER).exists()
    assert builds(counter) == 1


CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from hoarfrost.packages.envstore import EnvStore
    from hoarfrost.packages.installer import FakeInstaller
    from hoarfrost.packages.lock import Lock

    cache, lock_file, counter, started, release, ready, go = map(Path, sys.argv[1:8])
    installer = FakeInstaller(counter=counter, started=started, release=release, delay=0.3)
    lock = Lock.from_json(lock_file.read_text())
    ready.touch()
    while not go.exists():
        time.sleep(0.005)
    print(EnvStore(cache, installer).ensure(lock))
    """
)


def spawn(tmp_path: Path, name: str, *, release: Path) -> subprocess.Popen[str]:
    lock_file = tmp_path / "lock.json"
    lock_file.write_text(make_lock().to_json())
    args = [tmp_path / "cache", lock_file, tmp_path / "count", tmp_path / f"started-{name}"]
    args += [release, tmp_path / f"ready-{name}", tmp_path / "go"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, *map(str, args)], env=env, stdout=subprocess.PIPE, text=True
    )


def wait_for(path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


@pytest.mark.slow
def test_eight_processes_build_once(tmp_path: Path) -> None:
    release = tmp_path / "release"
    release.touch()  # builds do not wait for a signal; each takes delay=0.3 s
    children = [spawn(tmp_path, str(i), release=release) for i in range(8)]
    for i in range(8):
        wait_for(tmp_path / f"ready-{i}")
    (tmp_path / "go").touch()
    outputs = [child.communicate(timeout=60)[0].strip() for child in children]
    assert [child.returncode for child in children] == [0] * 8
    assert len(set(outputs)) == 1 and Path(outputs[0]).name == make_lock().key
    assert builds(tmp_path / "count") == 1


@pytest.mark.slow
def test_a_build_killed_by_sigkill_leaves_nothing_used(tmp_path: Path) -> None:
    child = spawn(tmp_path, "victim", release=tmp_path / "never")
    wait_for(tmp_path / "ready-victim")
    (tmp_path / "go").touch()
    wait_for(tmp_path / "started-victim")
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    cache = tmp_path / "cache"
    store = EnvStore(cache, FakeInstaller(counter=tmp_path / "count"))
    lock = make_lock()
    assert leftovers(cache) and not store.exists(lock) and not store.path(lock).exists()
    assert store.list() == []

    path = store.ensure(lock)  # the killed builder's flock died with it: no wait, a rebuild
    assert builds(tmp_path / "count") == 2
    assert (path / SITE_PACKAGES / "fake-installed.json").exists()
    assert leftovers(cache) == []


def test_a_failed_build_leaves_nothing(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(PackageError, match="told to fail"):
        EnvStore(cache, FakeInstaller(fail=True)).ensure(make_lock())
    assert leftovers(cache) == [] and not (cache / "envs" / make_lock().key).exists()
    assert EnvStore(cache, FakeInstaller()).ensure(make_lock()).exists()


def test_a_directory_without_marker_is_never_used(tmp_path: Path) -> None:
    store = EnvStore(tmp_path / "cache", FakeInstaller())
    lock = make_lock()
    stray = store.path(lock)
    (stray / SITE_PACKAGES).mkdir(parents=True)
    (stray / SITE_PACKAGES / "evil.py").write_text("raise SystemExit\n")
    path = store.ensure(lock)
    assert (path / MARKER).exists() and not (path / SITE_PACKAGES / "evil.py").exists()


def test_list_and_prune(tmp_path: Path) -> None:
    store = EnvStore(tmp_path / "cache", FakeInstaller())
    one, two = make_lock("1.0"), make_lock("2.0")
    store.ensure(one)
    store.ensure(two)
    listed = {info.key: info for info in store.list()}
    assert set(listed) == {one.key, two.key}
    assert listed[one.key].lock == one and listed[one.key].size > 0
    assert listed[one.key].path == store.path(one)
    assert store.prune(keep={one.key}) == [two.key]
    assert [info.key for info in store.list()] == [one.key]
    assert not store.path(two).exists() and leftovers(tmp_path / "cache") == []
    assert store.prune(keep={one.key}) == []


@pytest.mark.slow
def test_real_environment_is_built_and_rebuilt_offline(tmp_path: Path, pypiserver_factory) -> None:
    packages = tmp_path / "repo"
    wheels = build_chain_repository(packages)
    server: PypiServer = pypiserver_factory(packages)
    runtime = require_runtime(Settings(env={}), "3.12")
    cache = tmp_path / "cache"
    lock = resolve(["app"], runtime, server.index_url, cache_dir=cache)
    store = EnvStore(cache, UvInstaller(cache, {runtime.version: runtime.executable}))
    path = store.ensure(lock, index_url=server.index_url)
    assert run_app(runtime.executable, path) == "Hello from app 2.0 / leaf 2.0"
    assert list((path / SITE_PACKAGES / "app" / "__pycache__").glob("*.cpython-312.pyc"))

    # Retained files (here: the exact locked wheels) and the repository stopped.
    retained = tmp_path / "retained"
    retained.mkdir()
    for pkg in lock.packages:
        shutil.copy(wheels[pkg.filename], retained / pkg.filename)
    server.stop()
    shutil.rmtree(cache / "uv-cache")
    assert store.prune(keep=set()) == [lock.key]
    rebuilt = store.ensure(lock, find_links=retained)
    assert rebuilt == path
    assert run_app(runtime.executable, rebuilt) == "Hello from app 2.0 / leaf 2.0"


def run_app(python: Path, env: Path) -> str:
    code = (
        f"import site; site.addsitedir({str(env / SITE_PACKAGES)!r}); import app, leaf; "
        "print(app.say_hello() + ' / ' + leaf.say_hello().removeprefix('Hello from '))"
    )
    done = subprocess.run(
        [str(python), "-I", "-S", "-c", code], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


class CountingInstaller(Installer):
    """Wraps the real installer to count builds (injected, as any installer is)."""

    def __init__(self, inner: Installer):
        self.inner = inner
        self.calls = 0
        self._lock = threading.Lock()

    def install(
        self, lock: Lock, target: Path, index_url: str | None, find_links: Path | None
    ) -> None:
        with self._lock:
            self.calls += 1
        self.inner.install(lock, target, index_url, find_links)


@pytest.mark.slow
def test_eight_concurrent_real_resolutions_build_one_environment(
    tmp_path: Path, pypiserver_factory
) -> None:
    packages = tmp_path / "repo"
    build_chain_repository(packages)
    server: PypiServer = pypiserver_factory(packages)
    runtime = require_runtime(Settings(env={}), "3.11")
    cache = tmp_path / "cache"
    installer = CountingInstaller(UvInstaller(cache, {runtime.version: runtime.executable}))
    store = EnvStore(cache, installer)
    barrier = threading.Barrier(8)

    def create(_: int) -> Path:
        barrier.wait()
        lock = resolve(["app", "multi"], runtime, server.index_url, cache_dir=cache)
        return store.ensure(lock, index_url=server.index_url)

    with ThreadPoolExecutor(8) as pool:
        paths = set(pool.map(create, range(8)))
    assert len(paths) == 1 and installer.calls == 1
    assert run_app(runtime.executable, paths.pop()) == "Hello from app 2.0 / leaf 2.0"
