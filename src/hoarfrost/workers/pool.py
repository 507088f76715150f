"""A pool of warm worker processes for one (runtime, environment) pair.

Each worker is ``<runtime python> -I -S -B bootstrap.py``: a separate interpreter that sees the
environment's packages and nothing of the engine's: a scrubbed environment (``_worker_env``),
a private empty temporary directory as cwd and HOME, its own session (so signals aimed at the
engine's terminal do not reach it, and killing its process group takes any children with it).

Workers start lazily, at most ``size`` at once (procedures may go beyond: see ``_acquire``), stay
warm between calls and are replaced when they die. A batch that outlives ``timeout`` gets its
worker killed. Every failure of a worker fails only the call that was running on it.

Memory: the bootstrap applies RLIMIT_AS to itself before it reads any user code, rather than
``Popen(preexec_fn=...)``, which the subprocess documentation warns may deadlock in a
multi-threaded parent - and the engine calls us from several DuckDB threads. The kernel sandbox
(``sandbox.py``: namespaces, an unprivileged uid, no capabilities, a process limit, seccomp) is
applied the same way, by the worker to itself; ``layers`` and ``isolation`` report what each
worker read back from the kernel, never what was merely asked for.

Temporary directories live under one locked directory per engine process (``sandbox.WorkDirs``),
so those of an engine killed by SIGKILL are removed when the next one starts a worker.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from hoarfrost.config import SETTINGS, Settings
from hoarfrost.errors import WorkerError
from hoarfrost.workers import bootstrap, sandbox
from hoarfrost.workers.protocol import Channel, ChannelClosed, ChannelTimeout, ProtocolViolation
from hoarfrost.workers.runner import Reply, Runner
from hoarfrost.workers.spec import FunctionSpec, LoadInfo, OnHttp, OnSql

__all__ = ["BOOTSTRAP", "WorkerPool", "environment_site_dir", "isolation_layers"]

BOOTSTRAP = Path(bootstrap.__file__).resolve()

# The only variables a worker gets. BLAS/OpenMP pools are pinned to one thread: a pool already has
# one worker per core, and every extra thread reserves address space counted by RLIMIT_AS.
_FIXED_ENV = {
    "PATH": "/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "TZ": "UTC",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def _worker_env(tmpdir: str) -> dict[str, str]:
    return {**_FIXED_ENV, "HOME": tmpdir, "TMPDIR": tmpdir}


def environment_site_dir(env_path: Path) -> Path:
    """The directory to put on ``sys.path``: a venv's site-packages, else the directory itself
    (an ``--target`` install)."""
    if (env_path / "pyvenv.cfg").exists():
        found = sorted(env_path.glob("lib/python3*/site-packages"))
        if found:
            return found[0]
    return env_path


def _setting(name: str) -> str:
    return SETTINGS[name].env_var


class _Worker:
    """One worker process and the engine end of its pipes; used by one thread at a time."""

    def __init__(self, proc: subprocess.Popen[bytes], tmpdir: str):
        self.proc = proc
        self.tmpdir = tmpdir
        assert proc.stdout is not None and proc.stdin is not None
        self.channel = Channel(proc.stdout.fileno(), proc.stdin.fileno())
        self.loaded: dict[str, LoadInfo] = {}
        self.isolation = "unknown"
        self.layers: list[sandbox.Layer] = []
        self.broken = False

    def kill(self) -> None:
        self.broken = True
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._reap()

    def shutdown(self) -> None:
        try:
            self.channel.send(("shutdown", {}), time.monotonic() + 1)
            self.proc.wait(timeout=2)
        except (ChannelClosed, ChannelTimeout, subprocess.TimeoutExpired):
            pass
        self.kill()

    def exit_status(self) -> int | None:
        try:
            return self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return None

    def _reap(self) -> None:
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self.channel.close()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()
        shutil.rmtree(self.tmpdir, ignore_errors=True)


class WorkerPool(Runner):
    def __init__(
        self,
        executable: Path,
        env_path: Path | None,
        *,
        size: int = 1,
        timeout: float = 180.0,
        memory_limit: int = 2 << 30,
        log_path: Path | None = None,
        process_limit: int | None = None,
        sandbox: bool = True,
        imports: Path | None = None,
        import_paths: tuple[str, ...] = (),
    ):
        """``process_limit``: processes and threads per worker (default: the setting
        ``worker_process_limit`` from the environment). ``sandbox=False`` leaves out the kernel
        sandbox (Landlock and the memory limit stay), only to measure what it costs."""
        self.executable = Path(executable)
        self.env_path = Path(env_path) if env_path is not None else None
        self.size = max(1, size)
        self.timeout = timeout
        self.memory_limit = memory_limit
        self.log_path = log_path
        if process_limit is None:
            process_limit = int(Settings().get("worker_process_limit"))
        self.process_limit = process_limit
        self.sandbox = sandbox
        # A function's IMPORTS: a read-only directory (and the zips in it) on the worker's path.
        self.imports = Path(imports) if imports is not None else None
        self.import_paths = import_paths
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._running = 0  # workers alive, idle or busy
        self._closed = False
        self._isolation: str | None = None
        self._layers: list[str] | None = None
        self._log: IO[bytes] | None = None

    # -- Runner --------------------------------------------------------------------------------

    @property
    def isolation(self) -> str:
        if self._isolation is None:  # known once a worker has said what it applied
            worker = self._acquire(overflow=False)
            self._release(worker)
        assert self._isolation is not None
        return self._isolation

    @property
    def layers(self) -> list[str]:
        """Names of the isolation layers in force in this pool's workers, as measured in one."""
        if self._layers is None:
            self.isolation  # noqa: B018 - starts a worker if none has reported yet
        assert self._layers is not None
        return list(self._layers)

    def _request(
        self,
        spec: FunctionSpec,
        tag: str,
        payload: dict[str, Any],
        on_sql: OnSql | None,
        on_http: OnHttp | None = None,
    ) -> Reply:
        worker = self._acquire(overflow=spec.kind == "procedure")
        try:
            if spec.id not in worker.loaded or tag == "load":
                reply = self._exchange(worker, spec, ("load", spec.load_message()), None)
                if reply[0] == "ok":
                    worker.loaded[spec.id] = LoadInfo(**reply[1])
                if reply[0] != "ok" or tag == "load":
                    return reply
            reply = self._exchange(worker, spec, (tag, payload), on_sql, on_http)
            if reply[0] == "error" and reply[1].get("kind") == "memory":
                worker.kill()  # it reported MemoryError and exits; do not wait for it
            return reply
        finally:
            self._release(worker)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._running -= len(idle)
            self._cond.notify_all()
        for w in idle:
            w.shutdown()
        if self._log is not None:
            self._log.close()
            self._log = None

    # -- workers -------------------------------------------------------------------------------

    def _acquire(self, *, overflow: bool) -> _Worker:
        # A procedure may hold its worker while its SQL calls functions of this same pool from
        # other threads, so procedures never wait for a slot: they start an extra worker.
        with self._cond:
            while True:
                if self._closed:
                    raise WorkerError("The worker pool is closed.")
                if self._idle:
                    return self._idle.pop()
                if self._running < self.size or overflow:
                    self._running += 1
                    break
                self._cond.wait()
        try:
            return self._spawn()
        except BaseException:
            with self._cond:
                self._running -= 1
                self._cond.notify()
            raise

    def _release(self, worker: _Worker) -> None:
        with self._cond:
            keep = not worker.broken and not self._closed and self._running <= self.size
            if keep:
                self._idle.append(worker)
            else:
                self._running -= 1
            self._cond.notify()
        if not keep:
            worker.shutdown() if not worker.broken else worker.kill()

    def _log_file(self) -> IO[bytes]:
        with self._cond:
            if self._log is None:
                path = self.log_path or Path(os.devnull)
                path.parent.mkdir(parents=True, exist_ok=True)
                self._log = open(path, "ab", buffering=0)  # noqa: SIM115 - kept for all workers
            return self._log

    def _spawn(self) -> _Worker:
        tmpdir = sandbox.work_dirs().new()
        try:
            proc = subprocess.Popen(
                [str(self.executable), "-I", "-S", "-B", str(BOOTSTRAP)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._log_file(),
                env=_worker_env(tmpdir),
                cwd=tmpdir,
                close_fds=True,
                start_new_session=True,
            )
        except OSError as exc:
            shutil.rmtree(tmpdir, ignore_errors=True)
            raise WorkerError(f"Cannot start the Python runtime {self.executable}: {exc}") from None
        worker = _Worker(proc, tmpdir)
        try:
            self._handshake(worker)
        except BaseException:
            worker.kill()
            raise
        return worker

    def _handshake(self, worker: _Worker) -> None:
        site = environment_site_dir(self.env_path) if self.env_path else None
        init = {
            "memory_limit": self.memory_limit,
            "sys_path": [str(site)] if site else [],
            "tmpdir": worker.tmpdir,
            "read_dirs": [str(p) for p in (self.env_path, self.imports) if p is not None],
            "import_dir": str(self.imports) + "/" if self.imports else None,
            "import_paths": [str(self.imports), *self.import_paths] if self.imports else [],
            "sandbox": self._sandbox_config(worker.proc.pid) if self.sandbox else None,
        }
        deadline = time.monotonic() + max(self.timeout, 30.0)
        try:
            worker.channel.send(("init", init), deadline)
            tag, ready = worker.channel.recv(deadline)
        except (ChannelClosed, ChannelTimeout, ProtocolViolation) as exc:
            raise WorkerError(
                f"The Python runtime {self.executable} could not start a worker "
                f"({type(exc).__name__}, exit status {worker.exit_status()}); see the worker log."
            ) from None
        if tag != "ready":
            raise WorkerError(f"The worker sent {tag!r} instead of 'ready'.")
        layers, missing = sandbox.measured_layers(ready.get("facts", {}), ready["isolation"])
        worker.layers = layers
        worker.isolation = sandbox.describe(layers, missing) if layers else ready["isolation"]
        self._isolation = worker.isolation
        self._layers = [layer.name for layer in layers]

    def _sandbox_config(self, pid: int) -> dict[str, Any]:
        program, why_not = sandbox.seccomp_program()
        uid = sandbox.worker_uid(pid)
        return {
            "uid": uid,
            "gid": uid,
            "process_limit": self.process_limit,
            "seccomp": program,
            "seccomp_missing": why_not,
        }

    def _exchange(
        self,
        worker: _Worker,
        spec: FunctionSpec,
        message: tuple[str, Any],
        on_sql: OnSql | None,
        on_http: OnHttp | None = None,
    ) -> Reply:
        deadline = time.monotonic() + self.timeout
        try:
            worker.channel.send(message, deadline)
            while True:
                tag, payload = worker.channel.recv(deadline)
                if tag not in ("sql", "http"):
                    return tag, payload
                started = time.monotonic()
                if tag == "sql":
                    answer = _run_sql(on_sql, payload, message)
                else:
                    answer = _run_http(on_http, payload, message)
                deadline += time.monotonic() - started  # the engine's SQL time is not the code's
                worker.channel.send(answer, deadline)
        except ChannelTimeout:
            worker.kill()
            raise WorkerError(
                f"Function {spec.name} exceeded the timeout of {self.timeout:g} seconds "
                f"(setting {_setting('worker_timeout')})."
            ) from None
        except ChannelClosed:
            raise self._died(worker, spec) from None
        except ProtocolViolation as exc:
            worker.kill()
            raise WorkerError(f"The worker running {spec.name} broke the protocol: {exc}") from None

    def _died(self, worker: _Worker, spec: FunctionSpec) -> WorkerError:
        status = worker.exit_status()
        worker.kill()
        if status == -signal.SIGKILL:
            return WorkerError(
                f"The worker running function {spec.name} was killed (SIGKILL), as the kernel "
                "does when memory runs out; a worker may use at most "
                f"{self.memory_limit / (1 << 20):g} MiB "
                f"(setting {_setting('worker_memory_limit')})."
            )
        how = f"signal {-status}" if status is not None and status < 0 else f"code {status}"
        return WorkerError(
            f"The worker running function {spec.name} exited unexpectedly ({how}) during the "
            "call; the next call starts a new worker."
        )


def _run_http(on_http: OnHttp | None, request: Any, current: tuple[str, Any]) -> tuple[str, Any]:
    """Serve a request of a procedure's Snowpark session, only with the running call's token."""
    if not (isinstance(request, dict) and isinstance(request.get("request"), dict)):
        raise ProtocolViolation("an HTTP request is not {'call': ..., 'request': {...}}")
    tag, payload = current
    if on_http is None or tag != "proc" or request.get("call") != payload.get("call"):
        return ("http_error", "no engine channel for this request: its call has ended")
    try:
        return ("http_response", on_http(request["request"]))
    except Exception as exc:  # the connector sees a failed request, the engine keeps serving
        return ("http_error", str(exc))


def _run_sql(on_sql: OnSql | None, request: Any, current: tuple[str, Any]) -> tuple[str, Any]:
    """Serve a procedure's SQL request, only when it carries the running call's token."""
    if not (isinstance(request, dict) and isinstance(request.get("query"), str)):
        raise ProtocolViolation("a SQL request is not {'call': ..., 'query': str}")
    tag, payload = current
    if on_sql is None or tag != "proc":
        return ("sql_error", "SQL can only be run from a procedure.")
    if request.get("call") != payload.get("call"):
        return (
            "sql_error",
            "SQL can only be run from the procedure call that is running: this session belongs "
            "to a call that has ended.",
        )
    try:
        columns, rows = on_sql(request["query"])
    except Exception as exc:  # the engine's error, shown to the procedure's code as its message
        return ("sql_error", str(exc))
    return ("sql_result", {"columns": list(columns), "rows": [list(r) for r in rows]})


_probed: dict[Path, list[str]] = {}


def isolation_layers(executable: Path | None = None) -> list[str]:
    """Names of the isolation layers in force in a worker of ``executable`` (default: this
    interpreter), measured in a real worker started once per process; see ``sandbox.py``."""
    exe = Path(executable or sys.executable)
    if exe not in _probed:
        with WorkerPool(exe, None, size=1, timeout=30.0) as probe:
            _probed[exe] = probe.layers
    return list(_probed[exe])
