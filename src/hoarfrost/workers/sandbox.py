"""The engine's side of the kernel sandbox each worker applies to itself (issue 10).

The worker bootstrap (standard library only) does the applying, in the order its docstring
gives; this module decides what it is asked for and reports what is actually in force:

* :func:`seccomp_program` compiles, once per engine process, the seccomp filter with libseccomp
  (through ``pyseccomp``, its ctypes bindings from PyPI: Debian's ``python3-seccomp`` cannot be
  installed in a virtualenv) into a BPF program the bootstrap installs with ``prctl``. Compiling
  here keeps the bootstrap free of per-architecture syscall tables and of anything but the
  standard library, and keeps it from needing ``Popen(preexec_fn=...)`` in a multi-threaded
  engine. Without libseccomp the worker runs without that layer, and the report says so.
* :func:`worker_uid` chooses the unprivileged uid of a worker when the engine runs as root.
* :func:`measured_layers` turns what a worker read back from the kernel (``/proc/self/status``,
  its namespaces compared with the engine's own, a route lookup, a filtered syscall) into the
  list of layers in force and the layers missing, each with a reason.
* :class:`WorkDirs` holds the workers' temporary directories under one directory per engine
  process, locked with ``flock`` while the process lives, so that the next engine removes the
  directories of one that died by SIGKILL.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DENIED_SYSCALLS",
    "Layer",
    "WorkDirs",
    "measured_layers",
    "seccomp_program",
    "work_dirs",
    "worker_uid",
]

# Docker's default profile (moby/profiles/seccomp/default.json) refuses these to a container
# without extra capabilities; here they fail with EPERM whatever the worker's capabilities.
DENIED_SYSCALLS = (
    "acct",
    "add_key",
    "bpf",
    "chroot",
    "clock_adjtime",
    "clock_settime",
    "delete_module",
    "finit_module",
    "fsconfig",
    "fsmount",
    "fsopen",
    "fspick",
    "init_module",
    "io_uring_enter",
    "io_uring_register",
    "io_uring_setup",
    "ioperm",
    "iopl",
    "kcmp",
    "kexec_file_load",
    "kexec_load",
    "keyctl",
    "lookup_dcookie",
    "mount",
    "mount_setattr",
    "move_mount",
    "name_to_handle_at",
    "nfsservctl",
    "open_by_handle_at",
    "open_tree",
    "perf_event_open",
    "pidfd_getfd",
    "pivot_root",
    "process_vm_readv",
    "process_vm_writev",
    "ptrace",
    "quotactl",
    "quotactl_fd",
    "reboot",
    "request_key",
    "setns",
    "settimeofday",
    "swapoff",
    "swapon",
    "syslog",
    "umount",
    "umount2",
    "unshare",
    "uselib",
    "userfaultfd",
    "vhangup",
)
# clone() flags that create namespaces: refused like unshare (Docker does the same). clone3 takes
# its flags in memory a filter cannot read, so it fails with ENOSYS and libc falls back to clone.
_CLONE_NAMESPACE_FLAGS = (
    0x00000080,  # CLONE_NEWTIME
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
)
# The only socket families user code may create: IP, for which the worker's network namespace
# has no route. AF_UNIX is refused (a path-based socket is reachable from any network namespace;
# socketpair() still works), and so are AF_PACKET, AF_NETLINK, AF_VSOCK and the rest.
_SOCKET_FAMILIES = (socket.AF_INET, socket.AF_INET6)
_SOCK_TYPE_MASK, _SOCK_RAW, _SOCK_PACKET = 0xF, 3, 10
_MAX_FAMILY = 64  # above AF_MAX on every kernel; higher values are refused by one comparison

# Layers a sandboxed worker is asked for, in the order the report lists them.
_LAYERS = (
    "landlock",
    "network-namespace",
    "pid-namespace",
    "ipc-namespace",
    "mount-namespace",
    "user-namespace",
    "unprivileged-uid",
    "no-capabilities",
    "no-new-privileges",
    "seccomp",
    "process-limit",
    "memory-limit",
)

# Unprivileged uids (and gids) of workers of an engine running as root: this base plus the
# worker's pid, so two live workers never share a uid (RLIMIT_NPROC counts per uid) and the
# range stays clear of the usual system, user and container (subuid) ranges.
_UID_BASE = 0x70000000

_lock = threading.Lock()
_program: tuple[bytes | None, str] | None = None


def seccomp_program() -> tuple[bytes | None, str]:
    """``(BPF program, "")``, or ``(None, why not)``; compiled once per process."""
    global _program
    with _lock:
        if _program is None:
            _program = _compile()
        return _program


def _compile() -> tuple[bytes | None, str]:
    try:
        import pyseccomp as sc  # type: ignore[import-untyped,unused-ignore]
    except (ImportError, OSError) as exc:  # the module raises OSError without libseccomp.so
        return None, f"libseccomp is not available ({exc})"
    eperm = sc.ERRNO(errno.EPERM)
    try:
        f = sc.SyscallFilter(sc.ALLOW)
        for name in DENIED_SYSCALLS:
            with contextlib.suppress(ValueError, OSError):  # not a syscall of this architecture
                f.add_rule(eperm, name)
        f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
        for flag in _CLONE_NAMESPACE_FLAGS:
            f.add_rule(eperm, "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
        for syscall, allowed in (("socket", _SOCKET_FAMILIES), ("socketpair", (socket.AF_UNIX,))):
            for family in range(_MAX_FAMILY):
                if family not in allowed:
                    f.add_rule(eperm, syscall, sc.Arg(0, sc.EQ, family))
            f.add_rule(eperm, syscall, sc.Arg(0, sc.GE, _MAX_FAMILY))
        for kind in (_SOCK_RAW, _SOCK_PACKET):
            f.add_rule(eperm, "socket", sc.Arg(1, sc.MASKED_EQ, _SOCK_TYPE_MASK, kind))
        with tempfile.TemporaryFile() as out:
            f.export_bpf(out)
            out.seek(0)
            program = out.read()
    except (OSError, ValueError, RuntimeError) as exc:
        return None, f"libseccomp could not build the filter ({exc})"
    return program, ""


def worker_uid(worker_pid: int) -> int | None:
    """The uid (and gid) a worker switches to, or ``None`` when the engine is not root (the
    worker then keeps the engine's uid inside a user namespace of its own)."""
    return _UID_BASE + worker_pid if os.geteuid() == 0 else None


@dataclass(frozen=True)
class Layer:
    name: str
    text: str


def _engine_namespaces() -> dict[str, str]:
    found = {}
    for name in ("net", "pid", "ipc", "mnt", "user"):
        with contextlib.suppress(OSError):
            found[name] = os.readlink(f"/proc/self/ns/{name}")
    return found


def measured_layers(facts: dict[str, Any], landlock: str) -> tuple[list[Layer], dict[str, str]]:
    """The layers in force in a worker that reported ``facts`` (see ``bootstrap._measure``) and
    Landlock's own report, and the layers it was asked for but lacks, with the reason."""
    if "uids" not in facts:  # not Linux
        return [], {}
    mine = _engine_namespaces()
    theirs = facts.get("ns", {})

    def own(name: str, engine_name: str | None = None) -> bool:
        ours = mine.get(engine_name or name)
        return bool(ours) and theirs.get(name) not in (None, ours)

    caps = facts.get("caps", {})
    uid = facts["uids"]
    limit = facts.get("process_limit", -1)
    checks: dict[str, tuple[bool, str]] = {
        "landlock": (landlock.startswith("landlock"), landlock),
        "network-namespace": (
            own("net") and facts.get("routes_nowhere", False),
            "own network namespace: no route anywhere, the host's loopback included "
            "(no TCP, UDP, raw or packet traffic)",
        ),
        "pid-namespace": (
            own("pid") and facts.get("init_alive", False),
            "own PID namespace: every process the code starts dies with its worker",
        ),
        "ipc-namespace": (own("ipc"), "own IPC namespace"),
        "mount-namespace": (
            own("mnt"),
            "own mount namespace: directories above the runtime and environment hidden",
        ),
        "user-namespace": (own("user"), "own user namespace mapping only its own uid"),
        "unprivileged-uid": (
            0 not in uid,
            f"runs as uid {uid[0] if uid else '?'}, not root: file permissions apply",
        ),
        "no-capabilities": (
            not any(caps.get(k, 1) for k in ("CapEff", "CapPrm", "CapBnd", "CapAmb")),
            "no capabilities (bounding set empty)",
        ),
        "no-new-privileges": (facts.get("no_new_privs", False), "no_new_privs"),
        "seccomp": (
            facts.get("seccomp_mode") == 2 and facts.get("seccomp_probe") == "EPERM",
            "seccomp filter after Docker's default profile (ptrace, mount, unshare, bpf, "
            "io_uring, keyctl, kexec, modules, raw/packet/netlink/unix sockets ... fail with "
            "EPERM)",
        ),
        "process-limit": (
            # root is exempt from RLIMIT_NPROC: the limit holds only for another uid
            0 < limit <= (facts.get("asked_process_limit") or 0) and 0 not in uid,
            f"at most {limit} processes and threads",
        ),
        "memory-limit": (
            0 < facts.get("memory_limit", -1) < (1 << 62),
            f"address space at most {facts.get('memory_limit', 0) / (1 << 20):g} MiB",
        ),
    }
    asked = set(_LAYERS) if facts.get("requested") else {"landlock", "memory-limit"}
    asked -= {"user-namespace"} if facts.get("root") else {"mount-namespace"}
    missing_why = facts.get("missing", {})
    in_force, missing = [], {}
    for name in _LAYERS:
        ok, text = checks[name]
        if ok:
            in_force.append(Layer(name, text))
        elif name in asked:
            why = missing_why.get(name) or "not in force (checked in the worker)"
            if name == "process-limit" and 0 in uid:
                why = "the worker runs as root, which RLIMIT_NPROC does not limit"
            missing[name] = why
    if not checks["landlock"][0]:
        missing["landlock"] = landlock
    return in_force, missing


def describe(layers: list[Layer], missing: dict[str, str]) -> str:
    """The isolation text shown in SHOW PARAMETERS: every layer in force, then what is not."""
    text = "; ".join(layer.text for layer in layers) or "none"
    if missing:
        text += "; NOT in force: " + "; ".join(f"{k} ({v})" for k, v in missing.items())
    return text


# ---------------------------------------------------------------------------------------------
# Temporary directories of workers

_ROOT_PREFIX = "hoarfrost-workers-"
_STAGING_SUFFIX = ".new"
_STAGING_GRACE = 60.0  # seconds a staging directory may exist before it counts as abandoned


class WorkDirs:
    """``<tmp>/hoarfrost-workers-XXXX/``: this process's workers' directories.

    The directory is locked (``flock`` on it) for the life of the process; it is prepared under
    a staging name and renamed once locked, so no other engine ever sees it unlocked. Creating
    one first removes every such directory whose lock is free: its engine is gone, whatever
    killed it. Mode 0711: workers (other uids) pass through it into their own directory.
    """

    def __init__(self, base: str | None = None):
        self.base = base or tempfile.gettempdir()
        sweep(self.base)
        staging = tempfile.mkdtemp(prefix=_ROOT_PREFIX, suffix=_STAGING_SUFFIX, dir=self.base)
        self._fd = os.open(staging, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        os.chmod(staging, 0o711)
        self.path = staging.removesuffix(_STAGING_SUFFIX)
        os.rename(staging, self.path)

    def new(self) -> str:
        return tempfile.mkdtemp(prefix="hoarfrost-worker-", dir=self.path)

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        os.close(self._fd)


def sweep(base: str) -> list[str]:
    """Remove the worker directories of engines that are gone; returns what was removed."""
    removed: list[str] = []
    try:
        names = os.listdir(base)
    except OSError:
        return removed
    for name in names:
        if not name.startswith(_ROOT_PREFIX):
            continue
        path = os.path.join(base, name)
        if name.endswith(_STAGING_SUFFIX):
            with contextlib.suppress(OSError):
                if time.time() - os.lstat(path).st_mtime > _STAGING_GRACE:
                    shutil.rmtree(path, ignore_errors=True)
                    removed.append(path)
            continue
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # a live engine holds it
        try:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
        finally:
            os.close(fd)
    return removed


_dirs: tuple[int, WorkDirs] | None = None


def work_dirs() -> WorkDirs:
    """This process's :class:`WorkDirs`, made (and earlier leftovers swept) on first use."""
    global _dirs
    with _lock:
        if _dirs is None or _dirs[0] != os.getpid():  # a forked engine gets its own
            import atexit

            dirs = WorkDirs()
            atexit.register(dirs.remove)
            _dirs = (os.getpid(), dirs)
        return _dirs[1]
