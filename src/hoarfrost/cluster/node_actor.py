"""What runs inside a Ray actor on a node: one function's sandboxed worker.

:class:`NodeWorker` is a plain class; the engine makes it a Ray actor (``ray.remote``) and Ray
imports this module on the node, so hoarfrost must be installed there (``hoarfrost[ray]``).
The actor holds a :class:`~hoarfrost.workers.WorkerPool` of size one: the same
``python -I -S -B bootstrap.py`` worker, under the same kernel sandbox, as the local backend
starts, so the one-function-per-process rule and every isolation layer hold on every node. The
actor only relays: requests over the pool's pipe protocol, Arrow batches converted next to the
code (the node's CPU does the conversions, not the engine's).

Replies are plain tuples, never exceptions, so nothing of Ray's error wrapping reaches a user:
``("ok", value)``, the worker's own ``("error", {...})``, or ``("failed", error_state(exc))``
for a hoarfrost error raised here (a worker that crashed, a wheel whose hash is wrong, a runtime
missing on the node), which the engine raises again as the same class.
"""

from __future__ import annotations

import os
import queue
import threading
from typing import Any

import pyarrow as pa

from hoarfrost.cluster.node_envs import NodeEnvironments, node_directory
from hoarfrost.errors import Error, InternalError
from hoarfrost.packages.lock import Lock
from hoarfrost.workers import FunctionSpec, Runner, SqlType, WorkerPool

__all__ = ["NodeWorker", "error_state"]

Reply = tuple[str, Any]


def error_state(exc: Error) -> dict[str, Any]:
    """A hoarfrost error as plain values (its class name, message, errno, SQLSTATE)."""
    return {
        "class": type(exc).__name__,
        "msg": exc.msg,
        "errno": exc.errno,
        "sqlstate": exc.sqlstate,
    }


def _failed(exc: BaseException) -> Reply:
    if not isinstance(exc, Error):
        exc = InternalError(f"{type(exc).__name__}: {exc}")
    return ("failed", error_state(exc))


class NodeWorker:
    """One actor = one function definition's worker on this node."""

    def __init__(
        self,
        function: str,
        lock_json: str,
        wheels: list[tuple[str, Any]],
        limits: dict[str, Any],
        cache_dir: str | None,
    ):
        # Nothing is done here: a failure in an actor's constructor reaches the engine as
        # Ray's error text, while ready() answers with a hoarfrost error.
        self.function = function
        self.lock_json = lock_json
        self.wheels = wheels  # (sha256, ObjectRef of the file's bytes), fetched only to build
        self.limits = limits
        self.cache_dir = cache_dir
        self.pool: Runner | None = None
        self._events: queue.Queue[Reply] = queue.Queue()
        self._answers: queue.Queue[tuple[bool, Any]] = queue.Queue()

    # -- life cycle ----------------------------------------------------------------------
    def ready(self) -> Reply:
        """Build the environment on this node (once per node and lock) and start the sandboxed
        worker; answers what the worker measured of its isolation."""
        import ray

        try:
            address = ray.util.get_node_ip_address()
            envs = NodeEnvironments(node_directory(self.cache_dir, address))
            lock = Lock.from_json(self.lock_json)
            site = envs.ensure(lock, self._fetch)
            self.pool = WorkerPool(
                envs.runtime(lock.runtime).executable,
                site,
                size=1,
                timeout=float(self.limits["timeout"]),
                memory_limit=int(self.limits["memory_limit"]),
                log_path=envs.root / "logs" / "python_udf.log",
                process_limit=int(self.limits["process_limit"]),
            )
            pool = self.pool
            assert isinstance(pool, WorkerPool)
            return (
                "ok",
                {
                    "address": address,
                    "node_id": ray.get_runtime_context().get_node_id(),
                    "pid": os.getpid(),
                    "isolation": pool.isolation,  # starts the worker: measured, not asked
                    "layers": pool.layers,
                },
            )
        except Exception as exc:
            return _failed(exc)

    def _fetch(self) -> list[tuple[str, bytes]]:
        import ray

        shas = [sha for sha, _ in self.wheels]
        blobs = ray.get([ref for _, ref in self.wheels])
        return list(zip(shas, blobs, strict=True))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None

    # -- requests ------------------------------------------------------------------------
    def request(self, spec: FunctionSpec, tag: str, payload: dict[str, Any]) -> Reply:
        try:
            return self._pool().request(spec, tag, payload)
        except Exception as exc:
            return _failed(exc)

    def call_arrow(
        self, spec: FunctionSpec, batch: pa.RecordBatch, nrows: int, returns: SqlType
    ) -> Reply:
        try:
            return ("ok", self._pool().call_arrow(spec, list(batch.columns), nrows, returns))
        except Exception as exc:
            return _failed(exc)

    def _pool(self) -> Runner:
        if self.pool is None:
            raise InternalError(f"the actor of {self.function} was used before it was ready")
        return self.pool

    # -- procedures: the engine answers SQL and HTTP between two steps ---------------------
    def proc_start(self, spec: FunctionSpec, payload: dict[str, Any]) -> Reply:
        """Start a procedure call; returns its first event: ``("sql", query)``, ``("http",
        request)`` (answer with :meth:`proc_answer`) or ``("done", reply)``."""
        pool = self._pool()

        def run() -> None:
            try:
                reply = pool.request(spec, "proc", payload, self._sql, self._http)
            except Exception as exc:
                reply = _failed(exc)
            self._events.put(("done", reply))

        threading.Thread(target=run, name="hoarfrost-procedure", daemon=True).start()
        return self._events.get()

    def proc_answer(self, ok: bool, value: Any) -> Reply:
        self._answers.put((ok, value))
        return self._events.get()

    def _ask(self, kind: str, request: Any) -> Any:
        self._events.put((kind, request))
        ok, value = self._answers.get()
        if not ok:
            raise RuntimeError(value)  # the pool sends the procedure its text as sql_error
        return value

    def _sql(self, query: str) -> tuple[list[str], list[list[Any]]]:
        columns, rows = self._ask("sql", query)
        return list(columns), [list(r) for r in rows]

    def _http(self, request: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = self._ask("http", request)
        return answer
