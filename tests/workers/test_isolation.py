"""What user code can see of the engine: its environment, paths, files and network."""

from __future__ import annotations

import ctypes
import json
import os
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import hoarfrost.workers
from hoarfrost.workers.pool import WorkerPool
from hoarfrost.workers.runner import FakeRunner
from hoarfrost.workers.spec import FunctionSpec
from hoarfrost.workers.types import SqlType

pytestmark = pytest.mark.slow

INT = SqlType.parse("INT")


def probe(code: str) -> FunctionSpec:
    return FunctionSpec("PROBE", code, "probe")


@pytest.fixture()
def fresh_pool(
    runtime: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[WorkerPool]:
    """A pool started while the engine's environment holds a secret-looking variable."""
    monkeypatch.setenv("HOARFROST_MASTER_KEY", "c2VjcmV0")
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "nope")
    env = tmp_path / "env"
    env.mkdir()
    (env / "envmod.py").write_text("VALUE = 'from the environment'\n")
    with WorkerPool(runtime, env, size=1, timeout=30, log_path=tmp_path / "log" / "w.log") as p:
        yield p


def test_environment_is_scrubbed(fresh_pool: WorkerPool) -> None:
    code = "import os, json\ndef probe():\n    return json.dumps(dict(os.environ))\n"
    env = json.loads(fresh_pool.call(probe(code), [], 1)[0])
    assert not [k for k in env if k.startswith("HOARFROST_")]
    assert "AWS_SECRET_ACCESS_KEY" not in env and "PYTHONPATH" not in env
    assert set(env) <= {"PATH", "LANG", "LC_ALL", "TZ", "HOME", "TMPDIR"} | {
        "OPENBLAS_NUM_THREADS",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
    }


def test_engine_sys_path_is_not_visible(fresh_pool: WorkerPool) -> None:
    code = (
        "import sys, os, envmod\n"
        "def probe():\n"
        "    seen = (sys.path, os.getcwd(), os.listdir('.'), envmod.VALUE, sys.flags.isolated)\n"
        "    return repr(seen)\n"
    )
    path, cwd, listing, value, isolated = eval(fresh_pool.call(probe(code), [], 1)[0])
    engine_only = {p for p in sys.path if p} - {p for p in path}
    assert not {p for p in path if "site-packages" in p and p in sys.path}
    assert not [p for p in path if "hoarfrost" in p or p == str(Path(__file__).parent)]
    assert engine_only  # the engine's own entries (src, its venv) are absent
    assert value == "from the environment" and isolated == 1
    assert listing == [] and "hoarfrost-worker-" in cwd


def test_print_lands_in_the_log(fresh_pool: WorkerPool, tmp_path: Path) -> None:
    code = (
        "import sys, os\n"
        "def probe():\n"
        "    print('to stdout')\n"
        "    print('to stderr', file=sys.stderr)\n"
        "    os.write(1, b'raw fd 1\\n')\n"
        "    return 'done'\n"
    )
    assert fresh_pool.call(probe(code), [], 1) == ["done"]
    log = (tmp_path / "log" / "w.log").read_text()
    assert "to stdout" in log and "to stderr" in log and "raw fd 1" in log


def test_concurrent_callers_share_the_pool(pool: WorkerPool) -> None:
    spec = FunctionSpec("ADD", "def f(x):\n    return x + 1\n", "f", arg_types=(INT,), returns=INT)
    results: dict[int, object] = {}

    def run(i: int) -> None:
        results[i] = list(pool.call(spec, [list(range(i, i + 50))], 50))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: list(range(i + 1, i + 51)) for i in range(8)}


STRICT = "def f(x, y):\n    assert x is not None and y is not None\n    return x + y\n"


@pytest.mark.parametrize("kind", ["pool", "fake"])
def test_strict_never_shows_null_rows_to_the_code(pool: WorkerPool, kind: str) -> None:
    runner = pool if kind == "pool" else FakeRunner()
    spec = FunctionSpec("S", STRICT, "f", arg_types=(INT, INT), returns=INT, strict=True)
    assert list(runner.call(spec, [[1, None, 3, 4], [10, 20, None, 40]], 4)) == [11, None, None, 44]
    assert list(runner.call(spec, [[None], [1]], 1)) == [None]


def _kernel_landlock_abi() -> int:
    """Asked independently of the bootstrap: the ABI this kernel offers, 0 without Landlock."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(ctypes.c_long(444), None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return max(int(abi), 0) if sys.platform.startswith("linux") else 0


def test_isolation_is_reported_truthfully(pool: WorkerPool) -> None:
    abi = _kernel_landlock_abi()
    if abi:
        assert pool.isolation.startswith(f"landlock ABI {abi}: ")
        assert ("no TCP connect or bind" in pool.isolation) == (abi >= 4)
    else:
        assert "NOT in force: landlock" in pool.isolation or pool.isolation.startswith("none (")
    assert FakeRunner().isolation.startswith("none")


@pytest.fixture()
def landlocked(fresh_pool: WorkerPool) -> WorkerPool:
    if not fresh_pool.isolation.startswith("landlock"):
        pytest.skip(f"no kernel isolation here: {fresh_pool.isolation}")
    return fresh_pool


ATTEMPTS = """
import os, socket

def attempt(action):
    try:
        action()
        return "allowed"
    except OSError as exc:
        return type(exc).__name__

def probe(kind, target):
    if kind == "read":
        return attempt(lambda: open(target, "rb").read(1))
    if kind == "list":
        return attempt(lambda: os.listdir(target))
    if kind == "write":
        return attempt(lambda: open(target, "w").write("x"))
    if kind == "connect":
        return attempt(lambda: socket.create_connection(("127.0.0.1", int(target)), timeout=2))
    if kind == "bind":
        return attempt(lambda: socket.socket().bind(("127.0.0.1", 0)))
    if kind == "signal":
        return attempt(lambda: os.kill(int(target), 0))
"""


HIDDEN = ("PermissionError", "FileNotFoundError")


def _attempt(pool: WorkerPool, kind: str, target: str) -> str:
    t = SqlType.parse("VARCHAR")
    spec = FunctionSpec("PROBE", ATTEMPTS, "probe", arg_types=(t, t))
    return str(pool.call(spec, [[kind], [target]], 1)[0])


def test_engine_files_cannot_be_read(landlocked: WorkerPool, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "master.key").write_text("secret")
    (home / "account.duckdb").write_bytes(b"DUCK")
    other_env = tmp_path / "other-env"
    other_env.mkdir()
    (other_env / "mod.py").write_text("")
    # Refused by Landlock, or not even there: a root engine's worker has the directories above
    # its runtime and environment that its uid cannot traverse replaced by an empty tmpfs.
    for target in [home / "master.key", home / "account.duckdb", other_env / "mod.py"]:
        assert _attempt(landlocked, "read", str(target)) in HIDDEN, target
    assert _attempt(landlocked, "read", f"/proc/{os.getpid()}/environ") == "PermissionError"
    assert _attempt(landlocked, "read", hoarfrost.workers.__file__) == "PermissionError"
    assert _attempt(landlocked, "list", str(Path.home())) == "PermissionError"
    # ... while its own environment and the runtime stay readable
    assert _attempt(landlocked, "read", str(tmp_path / "env" / "envmod.py")) == "allowed"


def test_writes_only_in_the_worker_temp_dir(landlocked: WorkerPool, tmp_path: Path) -> None:
    assert _attempt(landlocked, "write", str(tmp_path / "dropped")) == "PermissionError"
    assert _attempt(landlocked, "write", "scratch.txt") == "allowed"  # cwd is its temp dir


def test_no_tcp_connect_or_bind(landlocked: WorkerPool) -> None:
    if "no TCP connect" not in landlocked.isolation:
        pytest.skip("Landlock ABI < 4: TCP is not governed on this kernel")
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        port = srv.getsockname()[1]
        assert _attempt(landlocked, "connect", str(port)) == "PermissionError"
    assert _attempt(landlocked, "bind", "") == "PermissionError"


def test_cannot_signal_the_engine(landlocked: WorkerPool) -> None:
    if "no signals" not in landlocked.isolation:
        pytest.skip("Landlock ABI < 6: signals are not scoped on this kernel")
    # Refused by Landlock, or no such process at all from inside the worker's PID namespace.
    assert _attempt(landlocked, "signal", str(os.getpid())) in (
        "PermissionError",
        "ProcessLookupError",
    )
