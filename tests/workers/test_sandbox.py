"""The kernel sandbox of a worker (issue 10, items 2 and 6), attacked by real user code.

Every attack is a UDF body run by a real worker pool; each asserts the specific failure the
kernel gives. The layers this machine supports are probed here independently of the worker.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hoarfrost.errors import WorkerError
from hoarfrost.workers import isolation_layers
from hoarfrost.workers.pool import WorkerPool
from hoarfrost.workers.spec import FunctionSpec
from hoarfrost.workers.types import SqlType

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux kernel sandbox"),
]

VARCHAR = SqlType.parse("VARCHAR")
INT = SqlType.parse("INT")
OK = FunctionSpec("OK", "def f(x):\n    return x + 1\n", "f", arg_types=(INT,), returns=INT)
LIMIT = 8  # processes and threads per worker in the pools below


def run(pool: WorkerPool, code: str, *args: str) -> str:
    spec = FunctionSpec("ATTACK", code, "f", arg_types=tuple(VARCHAR for _ in args))
    return str(pool.call(spec, [[a] for a in args], 1)[0])


def new_pool(runtime: Path, log: Path) -> WorkerPool:
    return WorkerPool(runtime, None, size=1, timeout=20, process_limit=LIMIT, log_path=log)


@pytest.fixture(scope="module")
def sandboxed(runtime: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerPool]:
    with new_pool(runtime, tmp_path_factory.mktemp("sandbox") / "w.log") as pool:
        yield pool


@pytest.fixture()
def fresh(runtime: Path, tmp_path: Path) -> Iterator[WorkerPool]:
    with new_pool(runtime, tmp_path / "w.log") as pool:
        yield pool


# -- what the kernel offers here, asked independently of the bootstrap --------------------------

_UNSHARE_PROBE = """
import ctypes, os, sys
flags = int(sys.argv[1])
if os.geteuid() != 0:
    flags |= 0x10000000  # CLONE_NEWUSER: what lets an unprivileged process do the rest
sys.exit(0 if ctypes.CDLL(None, use_errno=True).unshare(flags) == 0 else 1)
"""
_NAMESPACE_FLAGS = {
    "network-namespace": 0x40000000,
    "pid-namespace": 0x20000000,
    "ipc-namespace": 0x08000000,
    "mount-namespace": 0x00020000,
    "user-namespace": 0x10000000,
}


def _unshare_works(flag: int) -> bool:
    probe = [sys.executable, "-I", "-c", _UNSHARE_PROBE, str(flag)]
    return subprocess.run(probe, check=False).returncode == 0


def _landlock_abi() -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return max(int(libc.syscall(ctypes.c_long(444), None, ctypes.c_size_t(0), 1)), 0)


def supported_layers() -> set[str]:
    root = os.geteuid() == 0
    layers = {"unprivileged-uid", "no-capabilities", "no-new-privileges", "process-limit"}
    layers.add("memory-limit")
    if _landlock_abi():
        layers.add("landlock")
    for name, flag in _NAMESPACE_FLAGS.items():
        if name == ("user-namespace" if root else "mount-namespace"):
            continue  # root needs no user namespace; an unprivileged engine no mount namespace
        if _unshare_works(flag):
            layers.add(name)
    status = Path("/proc/self/status").read_text()
    if "\nSeccomp:" in status and ctypes.util.find_library("seccomp"):
        layers.add("seccomp")
    return layers


def test_layers_in_force_are_those_this_machine_supports(sandboxed: WorkerPool) -> None:
    expected = supported_layers()
    assert set(sandboxed.layers) == expected
    assert set(isolation_layers()) == expected  # the engine's own interpreter as the runtime
    asked = {*_NAMESPACE_FLAGS, "landlock", "seccomp", "unprivileged-uid", "no-capabilities"}
    asked -= {"user-namespace" if os.geteuid() == 0 else "mount-namespace"}
    missing = asked - expected
    assert ("NOT in force" in sandboxed.isolation) == bool(missing)  # never a silent downgrade
    for name in missing:
        assert name in sandboxed.isolation.split("NOT in force")[1]


def test_unsandboxed_pool_says_so(runtime: Path, tmp_path: Path) -> None:
    with WorkerPool(runtime, None, sandbox=False, log_path=tmp_path / "w.log") as pool:
        assert not {"seccomp", "network-namespace", "pid-namespace"} & set(pool.layers)


# -- credentials ---------------------------------------------------------------------------------

STATUS = """
def f():
    fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
    keep = ("Uid", "Gid", "CapEff", "CapPrm", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp")
    return repr({k: fields[k].split() for k in keep})
"""


def test_no_capabilities_no_root_uid(sandboxed: WorkerPool) -> None:
    status = eval(run(sandboxed, STATUS))
    for cap in ("CapEff", "CapPrm", "CapBnd", "CapAmb"):
        assert int(status[cap][0], 16) == 0, cap
    assert "0" not in status["Uid"] and "0" not in status["Gid"]
    assert status["NoNewPrivs"] == ["1"]
    assert status["Seccomp"] == ["2"]


@pytest.mark.skipif(os.geteuid() != 0, reason="only a root engine switches the worker's uid")
def test_closed_environment_is_readable_by_the_unprivileged_worker_only(
    runtime: Path, tmp_path: Path
) -> None:
    """An environment closed to other users (0700 under a 0700 directory, as a umask 077 gives)
    still loads in a worker that is not root, read-only."""
    env = tmp_path / "closed" / "env"
    env.mkdir(parents=True)
    (env / "closedmod.py").write_text("VALUE = 'loaded'\n")
    (env / "closedmod.py").chmod(0o600)
    env.chmod(0o700)
    env.parent.chmod(0o700)
    code = (
        "import errno, os, closedmod\n"
        "def f(path):\n"
        "    try:\n"
        "        open(path, 'a').write('x')\n"
        "        wrote = 'wrote'\n"
        "    except OSError as exc:\n"
        "        wrote = errno.errorcode[exc.errno]\n"
        "    return f'{closedmod.VALUE} {os.getuid()} {wrote}'\n"
    )
    with WorkerPool(runtime, env, size=1, timeout=20, log_path=tmp_path / "w.log") as pool:
        value, uid, wrote = run(pool, code, str(env / "closedmod.py")).split()
        assert "unprivileged-uid" in pool.layers
    assert value == "loaded" and int(uid) != 0
    assert wrote in ("EACCES", "EROFS")  # Landlock, else the read-only idmapped mount


THREADS = """
import concurrent.futures, threading

def f():
    seen = []
    t = threading.Thread(target=lambda: seen.append("thread"))
    t.start()
    t.join()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        total = sum(pool.map(lambda x: x * x, range(10)))
    return f"{seen[0]} {total}"
"""


def test_threads_still_work(sandboxed: WorkerPool) -> None:
    # A process whose children go to another PID namespace cannot create threads: the worker
    # must be inside its namespace, not merely the parent of its init.
    assert run(sandboxed, THREADS) == "thread 285"


# -- sockets -------------------------------------------------------------------------------------

SOCKETS = """
import errno, socket

def f(family, kind, proto):
    try:
        socket.socket(int(family), int(kind), int(proto)).close()
        return "created"
    except OSError as exc:
        return errno.errorcode[exc.errno]
"""


@pytest.mark.parametrize(
    ("family", "kind", "proto"),
    [
        (socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3)),  # sniffing: ETH_P_ALL
        (socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(3)),
        (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP),
        (socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6),
        (socket.AF_NETLINK, socket.SOCK_RAW, 0),  # NETLINK_ROUTE: unprivileged without seccomp
        (socket.AF_UNIX, socket.SOCK_STREAM, 0),
        (socket.AF_UNIX, socket.SOCK_DGRAM, 0),
        (40, socket.SOCK_STREAM, 0),  # AF_VSOCK: the hypervisor, from any network namespace
    ],
    ids=["packet-raw", "packet-dgram", "raw-ip", "raw-ip6", "netlink", "unix", "unix-dgram", "vs"],
)
def test_socket_families_refused(sandboxed: WorkerPool, family: int, kind: int, proto: int) -> None:
    assert run(sandboxed, SOCKETS, str(family), str(kind), str(proto)) == "EPERM"


def test_ip_sockets_and_socketpair_still_work(sandboxed: WorkerPool) -> None:
    code = (
        "import socket\n"
        "def f():\n"
        "    a, b = socket.socketpair()\n"
        "    a.sendall(b'pair'); got = b.recv(4)\n"
        "    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close()\n"
        "    return got.decode()\n"
    )
    assert run(sandboxed, code) == "pair"


SEND = """
import errno, socket

def f(proto, host, port):
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, kind) as s:
            s.settimeout(3)
            if proto == "udp":
                s.sendto(b"captured credentials", (host, int(port)))
            else:
                s.connect((host, int(port)))
                s.sendall(b"captured credentials")
        return "sent"
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc))
"""


# In a new network namespace the loopback interface is down: no route to 127.0.0.1, and ::1 is
# not even an address of the namespace.
@pytest.mark.parametrize(
    ("host", "failure"), [("127.0.0.1", "ENETUNREACH"), ("::1", "EADDRNOTAVAIL")]
)
def test_udp_to_a_listener_on_loopback_is_unreachable(
    sandboxed: WorkerPool, host: str, failure: str
) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as listener:
        listener.bind((host, 0))
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        assert run(sandboxed, SEND, "udp", host, str(port)) == failure
        with pytest.raises(TimeoutError):
            listener.recv(100)


def test_udp_anywhere_is_unreachable(sandboxed: WorkerPool) -> None:
    assert run(sandboxed, SEND, "udp", "192.0.2.1", "53") == "ENETUNREACH"


def test_tcp_to_a_listener_on_loopback_is_refused(sandboxed: WorkerPool) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        # Landlock (ABI 4+) refuses the connect before the namespace's missing route does.
        assert run(sandboxed, SEND, "tcp", "127.0.0.1", str(port)) in ("EACCES", "ENETUNREACH")
        with pytest.raises(TimeoutError):
            listener.accept()


def test_path_based_unix_socket_listener_is_unreachable(sandboxed: WorkerPool) -> None:
    where = Path(tempfile.mkdtemp(prefix="hoarfrost-test-unix-"))
    try:
        where.chmod(0o777)  # nothing but the sandbox stands in the way
        path = where / "listener.sock"
        with socket.socket(socket.AF_UNIX) as listener:
            listener.bind(str(path))
            path.chmod(0o777)
            listener.listen()
            listener.settimeout(0.5)
            code = (
                "import errno, socket\n"
                "def f(path):\n"
                "    try:\n"
                "        s = socket.socket(socket.AF_UNIX)\n"
                "        s.connect(path)\n"
                "        return 'connected'\n"
                "    except OSError as exc:\n"
                "        return errno.errorcode[exc.errno]\n"
            )
            assert run(sandboxed, code, str(path)) == "EPERM"
            with pytest.raises(TimeoutError):
                listener.accept()
    finally:
        with contextlib.suppress(OSError):
            (where / "listener.sock").unlink()
        where.rmdir()


# -- system calls --------------------------------------------------------------------------------

SYSCALLS = """
import ctypes, errno, os, platform

NR = {
    "x86_64": {"bpf": 321, "io_uring_setup": 425, "keyctl": 250, "perf_event_open": 298,
               "process_vm_readv": 310, "kexec_load": 246, "init_module": 175, "setns": 308},
    "aarch64": {"bpf": 280, "io_uring_setup": 425, "keyctl": 219, "perf_event_open": 241,
                "process_vm_readv": 270, "kexec_load": 104, "init_module": 105, "setns": 268},
}[platform.machine()]
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
buf = ctypes.create_string_buffer(256)

CALLS = {
    "chroot": lambda: libc.chroot(b"/"),
    "unshare": lambda: libc.unshare(0x10000000),  # CLONE_NEWUSER: unprivileged without seccomp
    "unshare-net": lambda: libc.unshare(0x40000000),
    "mount": lambda: libc.mount(b"none", b".", b"tmpfs", 0, None),
    "umount2": lambda: libc.umount2(b"/proc", 2),
    "pivot_root": lambda: libc.pivot_root(b".", b"."),
    "ptrace": lambda: libc.ptrace(0, 0, None, None),  # PTRACE_TRACEME
    "klogctl": lambda: libc.klogctl(10, None, 0),  # SYSLOG_ACTION_SIZE_BUFFER
    "bpf": lambda: libc.syscall(NR["bpf"], 0, buf, 72),  # BPF_MAP_CREATE
    "io_uring_setup": lambda: libc.syscall(NR["io_uring_setup"], 4, buf),
    "keyctl": lambda: libc.syscall(NR["keyctl"], 0, -3, 0),  # KEYCTL_GET_KEYRING_ID, session
    "perf_event_open": lambda: libc.syscall(NR["perf_event_open"], buf, 0, -1, -1, 0),
    "process_vm_readv": lambda: libc.syscall(NR["process_vm_readv"], os.getpid(), 0, 0, 0, 0, 0),
    "kexec_load": lambda: libc.syscall(NR["kexec_load"], 0, 0, 0, 0),
    "init_module": lambda: libc.syscall(NR["init_module"], buf, 0, b""),
    "setns": lambda: libc.syscall(NR["setns"], 0, 0),
    "reboot": lambda: libc.reboot(0),  # RB_DISABLE_CAD: harmless even if allowed
}

def f(name):
    ctypes.set_errno(0)
    res = CALLS[name]()
    return "allowed" if res >= 0 else errno.errorcode[ctypes.get_errno()]
"""
CALLS = [
    "chroot",
    "unshare",
    "unshare-net",
    "mount",
    "umount2",
    "pivot_root",
    "ptrace",
    "klogctl",
    "bpf",
    "io_uring_setup",
    "keyctl",
    "perf_event_open",
    "process_vm_readv",
    "kexec_load",
    "init_module",
    "setns",
    "reboot",
]


@pytest.mark.parametrize("name", CALLS)
def test_dangerous_syscalls_fail_with_eperm(sandboxed: WorkerPool, name: str) -> None:
    assert run(sandboxed, SYSCALLS, name) == "EPERM"
    assert list(sandboxed.call(OK, [[1]], 1)) == [2]  # and the worker carries on


# -- processes -----------------------------------------------------------------------------------

COUNT_FORKS = """
import os, signal, time

def f():
    pids, outcome = [], "no limit"
    try:
        while len(pids) < 200:
            pid = os.fork()
            if pid == 0:
                time.sleep(60)
                os._exit(0)
            pids.append(pid)
    except BlockingIOError:
        outcome = "EAGAIN"
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    return f"{outcome} {len(pids)}"
"""

FORK_BOMB = """
import os, time

def f():
    end = time.time() + 1.0
    hit = False
    for _ in range(8):  # every process forks on: 2**8 processes without a limit
        try:
            os.fork()
        except BlockingIOError:
            hit = True
            break
    # Nobody leaves before the others are done forking, so the population only grows and the
    # first process reaches the limit whatever the scheduling (its own 8 children exceed it).
    time.sleep(max(0.0, end - time.time()))
    return "EAGAIN" if hit else "no limit"
"""


def test_forks_are_bounded_by_the_process_limit(fresh: WorkerPool) -> None:
    outcome, created = run(fresh, COUNT_FORKS).split()
    assert outcome == "EAGAIN"
    assert 0 < int(created) < LIMIT  # the worker and its init count too
    assert list(fresh.call(OK, [[1]], 1)) == [2]


def test_fork_bomb_is_bounded_and_the_worker_still_answers(fresh: WorkerPool) -> None:
    # The bomb's processes that return into the bootstrap leave without a word on the pipe, so
    # the worker's own answer is the only one and it keeps serving.
    assert run(fresh, FORK_BOMB) == "EAGAIN"
    assert list(fresh.call(OK, [[41]], 1)) == [42]
    assert run(fresh, FORK_BOMB) == "EAGAIN"


CHILD_EXITS = """
import os, sys

def f():
    pid = os.fork()
    if pid == 0:
        sys.exit(0)  # a child leaving the way scripts do, through the bootstrap's frames
    os.waitpid(pid, 0)
    pid = os.fork()  # the worker can still start processes afterwards
    if pid == 0:
        os._exit(7)
    return str(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"""


def test_a_child_that_exits_normally_leaves_the_worker_whole(fresh: WorkerPool) -> None:
    assert run(fresh, CHILD_EXITS) == "7"
    assert run(fresh, CHILD_EXITS) == "7"
    assert list(fresh.call(OK, [[1]], 1)) == [2]


GRANDCHILD = """
import os, time

def f():
    r, w = os.pipe()
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.write(w, os.readlink("/proc/self").encode())  # its pid as the host sees it
            time.sleep(600)
        os._exit(0)
    os.wait()
    return os.read(r, 32).decode()
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _gone_soon(pid: int) -> bool:
    deadline = time.monotonic() + 10
    while _alive(pid):
        if time.monotonic() > deadline:
            os.kill(pid, 9)  # do not leave it behind when the test fails
            return False
        time.sleep(0.05)
    return True


@pytest.mark.parametrize("end", ["close", "crash"])
def test_double_forked_setsid_grandchild_dies_with_its_worker(fresh: WorkerPool, end: str) -> None:
    pid = int(run(fresh, GRANDCHILD))
    assert _alive(pid)
    if end == "close":
        fresh.close()
    else:
        with pytest.raises(WorkerError, match="exited unexpectedly"):
            run(fresh, "import os\ndef f():\n    os._exit(1)\n")
    assert _gone_soon(pid)


# -- leftovers -----------------------------------------------------------------------------------

ENGINE = """
import os, sys
from pathlib import Path
from hoarfrost.workers.pool import WorkerPool
from hoarfrost.workers.spec import FunctionSpec

pool = WorkerPool(Path(sys.argv[1]), None, size=1, timeout=30)
code = "import os\\ndef f():\\n    open('scratch', 'w').write('x')\\n    return os.getcwd()\\n"
print(pool.call(FunctionSpec("CWD", code, "f"), [], 1)[0], flush=True)
if sys.argv[2] == "sigkill":
    os.kill(os.getpid(), 9)
sys.stdin.read()
pool.close()
"""


def test_worker_dirs_of_a_sigkilled_engine_are_swept_at_the_next_start(
    runtime: Path, tmp_path: Path
) -> None:
    base = tmp_path / "tmp"
    base.mkdir()
    env = {**os.environ, "TMPDIR": str(base)}

    def engine(mode: str) -> subprocess.Popen[str]:
        argv = [sys.executable, "-c", ENGINE, str(runtime), mode]
        return subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )

    killed = engine("sigkill")
    assert killed.stdout is not None
    killed_dir = Path(killed.stdout.readline().strip())
    assert killed.wait(30) == -9
    assert (killed_dir / "scratch").exists()  # left behind

    live = engine("wait")
    assert live.stdout is not None and live.stdin is not None
    live_dir = Path(live.stdout.readline().strip())  # starting it swept the dead one's
    try:
        assert not killed_dir.exists() and not killed_dir.parent.exists()
        assert live_dir.is_dir()

        third = engine("exit")
        assert third.stdout is not None and third.stdin is not None
        third_dir = Path(third.stdout.readline().strip())
        third.stdin.close()
        assert third.wait(30) == 0
        assert live_dir.is_dir()  # a live engine's directories are never swept
        assert not third_dir.parent.exists()  # and one that exits removes its own
    finally:
        live.stdin.close()
        live.wait(30)
    assert not live_dir.parent.exists()


# -- an engine that is not root ------------------------------------------------------------------
# CI runs as root, where the worker switches uid itself. An unprivileged engine takes the other
# path (a user namespace mapping only its own uid); here a worker is started as nobody and driven
# over the real protocol channel.

NOBODY = 65534


def _as_nobody(argv: list[str], **kwargs: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # type: ignore[call-overload]
        argv, user=NOBODY, group=NOBODY, extra_groups=[], close_fds=True, **kwargs
    )


def _runtime_for_nobody(runtime: Path) -> Path:
    candidates = [runtime, *sorted(Path("/usr/bin").glob("python3.1[0-9]"))]
    for exe in candidates:
        try:
            probe = _as_nobody([str(exe), "-I", "-S", "-c", "pass"], stderr=subprocess.DEVNULL)
        except OSError:  # e.g. under a 0700 /root
            continue
        if probe.wait(30) == 0:
            return exe
    pytest.skip("no Python runtime that an unprivileged user may run")


@pytest.mark.skipif(os.geteuid() != 0, reason="the other tests already run unprivileged here")
def test_unprivileged_engine_gets_a_user_namespace(runtime: Path, tmp_path: Path) -> None:
    from hoarfrost.workers import sandbox
    from hoarfrost.workers.pool import BOOTSTRAP
    from hoarfrost.workers.protocol import Channel

    exe = _runtime_for_nobody(runtime)
    public = Path(tempfile.mkdtemp(prefix="hoarfrost-test-nobody-"))
    try:
        public.chmod(0o755)
        bootstrap = public / "bootstrap.py"
        bootstrap.write_bytes(BOOTSTRAP.read_bytes())
        bootstrap.chmod(0o644)
        workdir = public / "work"
        workdir.mkdir()
        os.chown(workdir, NOBODY, NOBODY)
        expected = {"unprivileged-uid", "no-capabilities", "no-new-privileges", "process-limit"}
        expected |= {"memory-limit", "landlock"} if _landlock_abi() else {"memory-limit"}
        for name, flag in _NAMESPACE_FLAGS.items():
            probe = _as_nobody([str(exe), "-I", "-c", _UNSHARE_PROBE, str(flag)])
            if name != "mount-namespace" and probe.wait(30) == 0:
                expected.add(name)
        program, why_not = sandbox.seccomp_program()
        if program:
            expected.add("seccomp")

        proc = _as_nobody(
            [str(exe), "-I", "-S", "-B", str(bootstrap)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=workdir,
            env={"PATH": "/usr/bin:/bin", "HOME": str(workdir), "TMPDIR": str(workdir)},
        )
        assert proc.stdin is not None and proc.stdout is not None
        channel = Channel(proc.stdout.fileno(), proc.stdin.fileno())
        deadline = time.monotonic() + 30
        config = {"uid": None, "gid": None, "process_limit": LIMIT, "seccomp": program}
        init = {"memory_limit": 1 << 30, "tmpdir": str(workdir), "read_dirs": [], "sys_path": []}
        channel.send(
            ("init", {**init, "sandbox": {**config, "seccomp_missing": why_not}}), deadline
        )
        tag, ready = channel.recv(deadline)
        assert tag == "ready"
        layers, missing = sandbox.measured_layers(ready["facts"], ready["isolation"])
        assert {layer.name for layer in layers} == expected
        asked = {*_NAMESPACE_FLAGS, *expected, "landlock", "seccomp"} - {"mount-namespace"}
        assert set(missing) == asked - expected  # whatever is refused is reported

        spec = FunctionSpec("ATTACK", SOCKETS, "f", arg_types=(VARCHAR, VARCHAR, VARCHAR))
        channel.send(("load", spec.load_message()), deadline)
        assert channel.recv(deadline)[0] == "ok"
        packet = [[str(socket.AF_PACKET)], [str(socket.SOCK_RAW)], [str(socket.htons(3))]]
        channel.send(("call", {"id": spec.id, "columns": packet, "nrows": 1}), deadline)
        assert channel.recv(deadline) == ("ok", ["EPERM"])
        channel.send(("shutdown", {}), deadline)
        assert proc.wait(10) == 0
    finally:
        subprocess.run(["rm", "-rf", str(public)], check=False)


# -- a kernel that refuses layers ----------------------------------------------------------------

REFUSING_LAUNCHER = """
import errno, os, sys
import pyseccomp as sc

f = sc.SyscallFilter(sc.ALLOW)
f.add_rule(sc.ERRNO(errno.EPERM), "unshare")  # as in a container that forbids namespaces
f.load()
os.execv(sys.argv[1], sys.argv[1:])
"""


def test_refused_layers_are_reported_and_the_worker_still_runs(
    runtime: Path, tmp_path: Path
) -> None:
    """A runtime started where unshare() is refused: no namespaces (hence, as root, no switch
    of uid either), yet the worker runs with every other layer and says what it lacks."""
    launcher = tmp_path / "launcher.py"
    launcher.write_text(REFUSING_LAUNCHER)
    wrapper = tmp_path / "python-without-namespaces"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{launcher}" "{runtime}" "$@"\n')
    wrapper.chmod(0o755)
    with WorkerPool(wrapper, None, size=1, timeout=20, log_path=tmp_path / "w.log") as pool:
        assert list(pool.call(OK, [[1]], 1)) == [2]
        layers, text = set(pool.layers), pool.isolation
    refused = {"network-namespace", "pid-namespace", "ipc-namespace"}
    assert not refused & layers
    assert {"no-capabilities", "no-new-privileges", "memory-limit"} <= layers
    missing = text.split("NOT in force: ")[1]
    for name in refused:
        assert f"{name} (unshare: Operation not permitted)" in missing
    if os.geteuid() == 0:
        assert "unprivileged-uid" not in layers and "unprivileged-uid (" in missing
    if ctypes.util.find_library("seccomp"):
        assert "seccomp" in layers
