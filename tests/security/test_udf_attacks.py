"""User code attacking the machine (issue 10, item 2), as real UDF bodies created and called
with SQL: through ``hoarfrost.connect()`` and through ``hoarfrost serve`` with the real
connector, logged in with the PUBLIC role. Each asserts the specific failure the kernel gives.

The worker-level suite (tests/workers/test_sandbox.py) holds the same bodies run by a bare
worker pool and checks which layers this machine offers; here they go the way a user's code
goes, through CREATE FUNCTION and SELECT.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import hoarfrost
from tests.security.conftest import served  # noqa: F401
from tests.server.conftest import ServedAccount
from tests.support.pypiserver import PypiServer
from tests.support.wheels import build_wheel
from tests.workers.test_sandbox import (
    CALLS,
    GRANDCHILD,
    SEND,
    SOCKETS,
    SYSCALLS,
    supported_layers,
)

REPO_USER, REPO_PASSWORD = "sniff-target", "Repo-Pa55-on-the-wire"

UNIX = """
import errno, socket
def f(path):
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        return 'connected'
    except OSError as exc:
        return errno.errorcode[exc.errno]
"""
# Forks until the kernel says no: every child waits for the same deadline before leaving, so the
# population only grows and the account's process limit (64 by default) is always reached.
FORK_BOMB = """
import os, time
def f():
    end = time.time() + 2.0
    for _ in range(1000):
        try:
            pid = os.fork()
        except BlockingIOError:
            return "EAGAIN"
        if pid == 0:
            time.sleep(max(0.0, end - time.time()))
            os._exit(0)
    return "no limit"
"""
SNIFF = """
import errno, socket, time
def f(seconds):
    try:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    except OSError as exc:
        return errno.errorcode[exc.errno]
    s.settimeout(0.2)
    seen = b""
    end = time.time() + float(seconds)
    while time.time() < end:
        try:
            seen += s.recv(65535)
        except OSError:
            pass
    return "captured" if b"Authorization" in seen else "nothing"
"""
CAPS = """
def f():
    status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
    return " ".join(status[k].strip() for k in ("Uid", "CapEff", "CapBnd", "NoNewPrivs"))
"""
FUNCTIONS = {
    "attack_socket": ("family VARCHAR, kind VARCHAR, proto VARCHAR", SOCKETS),
    "attack_send": ("proto VARCHAR, host VARCHAR, port VARCHAR", SEND),
    "attack_syscall": ("name VARCHAR", SYSCALLS),
    "attack_unix": ("path VARCHAR", UNIX),
    "attack_fork_bomb": ("", FORK_BOMB),
    "attack_grandchild": ("", GRANDCHILD),
    "attack_sniff": ("seconds VARCHAR", SNIFF),
    "attack_caps": ("", CAPS),
}

Call = Callable[[str, tuple[str, ...]], Any]


def _create_all(execute: Callable[[str], Any]) -> None:
    for name, (args, body) in FUNCTIONS.items():
        execute(
            f"CREATE OR REPLACE FUNCTION {name}({args}) RETURNS VARCHAR LANGUAGE PYTHON "
            f"RUNTIME_VERSION = '3.11' HANDLER = 'f' AS $${body}$$"
        )


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Call]:
    home = tmp_path_factory.mktemp("udf-attacks") / "acct"
    with hoarfrost.connect(home, role="PUBLIC") as con:
        _create_all(lambda sql: con.execute(sql))

        def call(function: str, args: tuple[str, ...]) -> Any:
            marks = ", ".join("?" for _ in args)
            return con.execute(f"SELECT {function}({marks})", list(args)).fetchone()[0]

        yield call


@pytest.fixture(scope="module")
def wire(served: ServedAccount) -> Iterator[Call]:  # noqa: F811
    conn = served.connect(role="PUBLIC", paramstyle="qmark")
    cur = conn.cursor()
    _create_all(lambda sql: cur.execute(sql))

    def call(function: str, args: tuple[str, ...]) -> Any:
        marks = ", ".join("?" for _ in args)
        return cur.execute(f"SELECT {function}({marks})", list(args)).fetchone()[0]

    yield call
    conn.close()


@pytest.fixture(params=["api", "wire"])
def attack(request: pytest.FixtureRequest) -> Call:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


FAMILIES = {
    "packet-raw (sniffing)": (socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3)),
    "raw-ip": (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP),
    "netlink": (socket.AF_NETLINK, socket.SOCK_RAW, 0),
    "unix path socket": (socket.AF_UNIX, socket.SOCK_STREAM, 0),
}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_socket_families_are_refused(attack: Call, family: str) -> None:
    assert attack("attack_socket", tuple(str(v) for v in FAMILIES[family])) == "EPERM"


@pytest.mark.parametrize("name", CALLS)
def test_dangerous_system_calls_fail_with_eperm(attack: Call, name: str) -> None:
    assert attack("attack_syscall", (name,)) == "EPERM"


def test_no_uid_zero_and_no_capabilities(attack: Call) -> None:
    uid, eff, bounding, no_new_privs = attack("attack_caps", ()).split(" ")
    assert uid != "0"
    assert int(eff, 16) == 0 and int(bounding, 16) == 0
    assert no_new_privs == "1"


@pytest.mark.parametrize("proto", ["udp", "tcp"])
def test_nothing_reaches_a_listener_on_loopback(attack: Call, proto: str) -> None:
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as listener:
        listener.bind(("127.0.0.1", 0))
        if proto == "tcp":
            listener.listen()
        listener.settimeout(0.5)
        port = str(listener.getsockname()[1])
        assert attack("attack_send", (proto, "127.0.0.1", port)) in ("ENETUNREACH", "EACCES")
        with pytest.raises(TimeoutError):
            listener.recv(100) if proto == "udp" else listener.accept()


def test_a_path_based_unix_socket_listener_is_unreachable(attack: Call) -> None:
    where = Path(tempfile.mkdtemp(prefix="hoarfrost-attack-"))
    where.chmod(0o777)
    path = where / "s.sock"
    try:
        with socket.socket(socket.AF_UNIX) as listener:
            listener.bind(str(path))
            path.chmod(0o777)
            listener.listen()
            listener.settimeout(0.5)
            assert attack("attack_unix", (str(path),)) == "EPERM"
            with pytest.raises(TimeoutError):
                listener.accept()
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        where.rmdir()


def test_a_fork_bomb_is_bounded_and_the_function_still_answers(attack: Call) -> None:
    # The bomb's processes wait for each other (see the body), so the limit is always reached.
    assert attack("attack_fork_bomb", ()) == "EAGAIN"
    assert attack("attack_fork_bomb", ()) == "EAGAIN"
    assert attack("attack_caps", ()).split(" ")[0] != "0"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_setsid_grandchild_dies_with_its_worker(tmp_path: Path) -> None:
    with hoarfrost.connect(tmp_path / "acct", role="PUBLIC") as con:
        _create_all(lambda sql: con.execute(sql))
        pid = int(con.execute("SELECT attack_grandchild()").fetchone()[0])
        assert _alive(pid)
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    alive = _alive(pid)
    if alive:
        os.kill(pid, 9)
    assert not alive


def test_af_packet_sniffing_while_a_password_protected_repository_is_used(
    attack: Call, tmp_path: Path
) -> None:
    """The function tries to capture loopback traffic while the test talks to a real
    pypiserver with basic authentication: the socket is refused, nothing is captured."""
    packages = tmp_path / "packages"
    packages.mkdir()
    build_wheel(packages, "bait", "1.0")
    with PypiServer(packages, tmp_path / "pypi", auth=(REPO_USER, REPO_PASSWORD)) as server:
        stop = threading.Event()

        def traffic() -> None:
            while not stop.is_set():
                server.get("/simple/bait/", auth=(REPO_USER, REPO_PASSWORD))
                time.sleep(0.05)

        worker = threading.Thread(target=traffic)
        worker.start()
        try:
            assert attack("attack_sniff", ("1",)) == "EPERM"
        finally:
            stop.set()
            worker.join()


def test_show_parameters_names_the_layers_this_machine_supports(api: Call) -> None:
    with hoarfrost.connect(":memory:") as con:
        rows = con.execute("SHOW PARAMETERS LIKE 'PYTHON_UDF_ISOLATION%' IN ACCOUNT").fetchall()
    values = {row[0]: row[1] for row in rows}
    assert set(values["PYTHON_UDF_ISOLATION_LAYERS"].split(", ")) == supported_layers()
    missing = {"seccomp", "network-namespace", "landlock"} - supported_layers()
    assert ("NOT in force" in values["PYTHON_UDF_ISOLATION"]) == bool(missing)
