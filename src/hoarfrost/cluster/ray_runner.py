"""One function's group of Ray actors, used as a :class:`~hoarfrost.workers.Runner`.

Actors start lazily, at most ``size`` at once (a procedure may start one more, as with the local
pool), spread over the alive nodes (the node with the fewest actors of this group first), each
pinned to its node. A batch goes to an idle actor; the batched evaluation keeps ``size`` batches
in flight and gathers results in input order (:mod:`hoarfrost.engine.batched`).

Faults. Every wait on Ray has a deadline (the worker timeout plus a margin; environment builds
their own), so the engine never hangs on a node. A batch whose actor dies, whose node dies or
that gets no answer in time is sent again to a new actor on another node, up to ``retries``
times; the node is not used again by this group. Past that the query fails with an error naming
the node. A user error or a crash of the sandboxed worker is not retried: it is the answer, the
same one the local backend gives. Procedures are never retried (their SQL may have had effects).

Closing the group (function replaced or dropped, engine closed) kills its actors.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from hoarfrost import errors
from hoarfrost.cluster.ray_connection import NodeInfo, alive_nodes
from hoarfrost.config import SETTINGS
from hoarfrost.errors import Error, InternalError, RepositoryError, WorkerError
from hoarfrost.workers import FunctionSpec, Runner, SqlType
from hoarfrost.workers.spec import OnHttp, OnSql, UdtfRows
from hoarfrost.workers.types import Column

if TYPE_CHECKING:
    from hoarfrost.cluster.backend import FunctionPlacement
    from hoarfrost.cluster.ray_backend import RayBackend

__all__ = ["RayRunner"]

Reply = tuple[str, Any]
# Seconds over the worker timeout that a batch may take to travel to a node and back.
_MARGIN = 30.0
# Seconds an actor may take to become ready: building a large environment on a node included.
_BUILD_TIMEOUT = 1800.0


class _Actor:
    def __init__(self, handle: Any, node: NodeInfo, name: str):
        self.handle = handle
        self.node = node
        self.name = name


class _NodeLost(Exception):
    """The actor or its node failed (Ray's error, or no answer in time)."""

    def __init__(self, actor: _Actor, reason: str):
        super().__init__(reason)
        self.actor = actor
        self.reason = reason


class RayRunner(Runner):
    def __init__(
        self,
        backend: RayBackend,
        placement: FunctionPlacement,
        *,
        size: int,
        retries: int,
        timeout: float,
    ):
        self.backend = backend
        self.placement = placement
        self.size = max(1, size)
        self.retries = retries
        self.timeout = timeout
        self.memory_limit = int(backend.limits()["memory_limit"])
        self.closed = False
        self._cond = threading.Condition()
        self._idle: list[_Actor] = []
        self._live: list[_Actor] = []  # every actor of the group, idle or busy
        self._running = 0  # actors alive or starting
        self._lost: set[str] = set()  # node ids this group no longer uses
        self._placing: Counter[str] = Counter()  # node id -> actors starting there now
        self._serial = itertools.count(1)
        self._measured: tuple[str, list[str]] | None = None

    # -- Runner ------------------------------------------------------------------------------
    @property
    def isolation(self) -> str:
        return self._measure()[0]

    @property
    def layers(self) -> list[str]:
        return list(self._measure()[1])

    def _measure(self) -> tuple[str, list[str]]:
        if self._measured is None:
            self._release(self._acquire(overflow=False))
        assert self._measured is not None
        return self._measured

    def _request(
        self,
        spec: FunctionSpec,
        tag: str,
        payload: dict[str, Any],
        on_sql: OnSql | None,
        on_http: OnHttp | None = None,
    ) -> Reply:
        if tag == "proc":
            return self._procedure(spec, payload, on_sql, on_http)
        return self._retrying(lambda handle: handle.request.remote(spec, tag, payload))

    def call_arrow(
        self,
        spec: FunctionSpec,
        arrays: Sequence[pa.Array | pa.ChunkedArray],
        nrows: int,
        returns: SqlType,
    ) -> pa.Array:
        """Ships the Arrow batch as it is: the node converts it for the code and converts the
        results back, so the engine's share of the work is only Arrow in and out."""
        flat = [a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a for a in arrays]
        batch = pa.RecordBatch.from_arrays(flat, names=[f"a{i}" for i in range(len(flat))])
        reply = self._retrying(lambda handle: handle.call_arrow.remote(spec, batch, nrows, returns))
        result: pa.Array = self._ok(spec, reply)
        return result

    def call_udtf(self, spec: FunctionSpec, partitions: Sequence[Sequence[Column]]) -> UdtfRows:
        """Partitions are independent (a handler instance each), so they are spread over the
        group's actors, results kept in partition order."""
        if len(partitions) < 2 or self.size < 2:
            return super().call_udtf(spec, partitions)
        step = -(-len(partitions) // self.size)
        chunks = [partitions[i : i + step] for i in range(0, len(partitions), step)]
        run = super().call_udtf
        with ThreadPoolExecutor(len(chunks), thread_name_prefix="hoarfrost-udtf") as threads:
            parts = list(threads.map(lambda chunk: run(spec, chunk), chunks))
        return [rows for part in parts for rows in part]

    def close(self) -> None:
        with self._cond:
            self.closed = True
            actors, self._live, self._idle = self._live, [], []
            self._cond.notify_all()
        for actor in actors:
            _kill(actor)

    # -- sending -----------------------------------------------------------------------------
    def _retrying(self, send: Callable[[Any], Any]) -> Reply:
        tried: list[_NodeLost] = []
        while True:
            actor = self._acquire(overflow=False)
            try:
                reply = self._get(actor, send(actor.handle), self.timeout + _MARGIN)
            except _NodeLost as lost:
                self._lose(actor)
                tried.append(lost)
                if len(tried) > self.retries:
                    raise self._gave_up(tried) from None
                continue
            except BaseException:
                self._release(actor)
                raise
            self._release(actor)
            return self._relay(reply, actor)

    def _procedure(
        self,
        spec: FunctionSpec,
        payload: dict[str, Any],
        on_sql: OnSql | None,
        on_http: OnHttp | None,
    ) -> Reply:
        """A procedure on a node keeps its SQL channel to the engine: the actor returns each
        SQL (or HTTP) request of the code as an event, the engine runs it here and answers."""
        actor = self._acquire(overflow=True)
        deadline = self.timeout + _MARGIN
        try:
            event = self._get(actor, actor.handle.proc_start.remote(spec, payload), deadline)
            while event[0] in ("sql", "http"):
                kind, request = event
                try:
                    if kind == "sql":
                        if on_sql is None:
                            raise WorkerError("SQL can only be run from a procedure.")
                        columns, rows = on_sql(request)
                        answer: Any = (list(columns), [list(r) for r in rows])
                    else:
                        if on_http is None:
                            raise WorkerError("no engine channel for this request")
                        answer = on_http(request)
                    step = actor.handle.proc_answer.remote(True, answer)
                except Exception as exc:  # the engine's error, shown to the code as its text
                    step = actor.handle.proc_answer.remote(False, str(exc))
                event = self._get(actor, step, deadline)
        except _NodeLost as lost:
            self._lose(actor)
            raise self._gave_up([lost], retried=False) from None
        except BaseException:
            self._release(actor)
            raise
        self._release(actor)
        return self._relay(event[1], actor)

    def _get(self, actor: _Actor, ref: Any, timeout: float) -> Any:
        import ray
        from ray.exceptions import GetTimeoutError, RayError, RayTaskError

        try:
            return ray.get(ref, timeout=timeout)
        except RayTaskError as exc:  # our actor methods answer, they do not raise
            raise InternalError(f"The Ray actor of {self.placement.name} failed: {exc}") from None
        except GetTimeoutError:
            raise _NodeLost(actor, f"no answer within {timeout:g} seconds") from None
        except RayError as exc:
            raise _NodeLost(actor, _first_line(exc)) from None

    def _relay(self, reply: Reply, actor: _Actor) -> Reply:
        if reply[0] == "failed":
            raise _rebuilt(reply[1], actor.node)
        return reply

    def _gave_up(self, tried: list[_NodeLost], *, retried: bool = True) -> WorkerError:
        last = tried[-1].actor.node
        where = ", ".join(f"{t.actor.node.address} ({t.reason})" for t in tried)
        retries = (
            f" It was sent {len(tried)} time(s) ({where}); setting "
            f"{SETTINGS['ray_retries'].env_var} allows {self.retries} retries."
            if retried
            else " Procedures are not retried."
        )
        return WorkerError(
            f"Function {self.placement.name} failed on Ray node {last.address} "
            f"(node id {last.node_id[:16]}): {tried[-1].reason}.{retries}"
        )

    # -- actors ------------------------------------------------------------------------------
    def _acquire(self, *, overflow: bool) -> _Actor:
        with self._cond:
            while True:
                if self.closed:
                    raise WorkerError(f"The Ray actors of {self.placement.name} were released.")
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

    def _release(self, actor: _Actor) -> None:
        with self._cond:
            keep = not self.closed and actor in self._live and self._running <= self.size
            if keep:
                self._idle.append(actor)
            else:
                self._forget(actor)
            self._cond.notify()
        if not keep:
            _kill(actor)

    def _lose(self, actor: _Actor) -> None:
        """The actor failed: kill it and use its node no more in this group."""
        with self._cond:
            self._lost.add(actor.node.node_id)
            self._forget(actor)
            self._cond.notify()
        _kill(actor)

    def _forget(self, actor: _Actor) -> None:
        if actor in self._live:
            self._live.remove(actor)
        self._running -= 1

    def _spawn(self) -> _Actor:
        """A ready actor on the least used node this group still trusts; a node that fails
        while its actor starts is set aside like one that fails a batch."""
        self.placement.check()  # the packages policy, before anything is sent
        tried: list[_NodeLost] = []
        while True:
            node = self._choose_node()
            try:
                actor = self._start(node)
                tag, info = self._get(actor, actor.handle.ready.remote(), _BUILD_TIMEOUT)
            except _NodeLost as lost:
                self._placed(node, lost=True)
                _kill(lost.actor)
                tried.append(lost)
                if len(tried) > self.retries:
                    raise self._gave_up(tried) from None
                continue
            except BaseException:
                self._placed(node)
                raise
            if tag != "ok":
                self._placed(node)
                _kill(actor)
                raise _rebuilt(info, actor.node)
            self._placed(node, actor=actor, measured=(info["isolation"], info["layers"]))
            return actor

    def _placed(
        self,
        node: NodeInfo,
        *,
        lost: bool = False,
        actor: _Actor | None = None,
        measured: tuple[str, list[str]] | None = None,
    ) -> None:
        """An actor's start on ``node`` is over: it joined the group, failed, or its node
        was lost (in one step, so that placement never misses an actor)."""
        with self._cond:
            self._placing[node.node_id] -= 1
            if lost:
                self._lost.add(node.node_id)
            if actor is not None:
                self._live.append(actor)
            if measured is not None and self._measured is None:
                self._measured = (str(measured[0]), list(measured[1]))

    def _choose_node(self) -> NodeInfo:
        nodes = alive_nodes()
        with self._cond:
            usable = [n for n in nodes if n.node_id not in self._lost]
            # Actors still starting count: several batches start actors at the same moment.
            load = Counter(a.node.node_id for a in self._live) + self._placing
            if usable:
                chosen = min(usable, key=lambda n: load[n.node_id])
                self._placing[chosen.node_id] += 1
                return chosen
            shown = ", ".join(n.address for n in nodes) or "none"
            raise WorkerError(
                f"No Ray node is left to run function {self.placement.name}: the nodes that "
                f"failed during this engine's life are not used again (alive: {shown}). "
                "Replace the function (CREATE OR REPLACE) or reopen the engine to try them again."
            )

    def _start(self, node: NodeInfo) -> _Actor:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        backend, placement = self.backend, self.placement
        name = f"{backend.id}-{placement.key[:16]}-{next(self._serial)}"
        handle = backend.actor_class.options(
            name=name,
            num_cpus=0,  # the actor relays; its sandboxed worker does the work
            max_restarts=0,  # retries are ours: to another node, and counted
            max_task_retries=0,
            scheduling_strategy=NodeAffinitySchedulingStrategy(node.node_id, soft=False),
        ).remote(
            placement.name,
            backend.shipped_lock(placement.lock),
            backend.wheels(placement),
            backend.limits(),
            backend.cache_dir(),
        )
        return _Actor(handle, node, name)

    def actor_names(self) -> list[str]:
        """Names of the group's live actors (in the ``hoarfrost`` Ray namespace)."""
        with self._cond:
            return [a.name for a in self._live]


def _kill(actor: _Actor) -> None:
    import ray

    try:
        ray.kill(actor.handle, no_restart=True)
    except Exception:  # already dead, or the cluster is gone: nothing left to release
        pass


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _rebuilt(state: dict[str, Any], node: NodeInfo) -> Error:
    """The hoarfrost error a node reported, as the same class; a worker failure names the
    node it happened on."""
    cls = getattr(errors, str(state.get("class")), None)
    if not (isinstance(cls, type) and issubclass(cls, Error)):
        cls = WorkerError
    msg = str(state.get("msg", ""))
    if issubclass(cls, WorkerError):
        msg += f" (on Ray node {node.address})"
    error = cls.__new__(cls)
    Error.__init__(error, msg, errno=state.get("errno"), sqlstate=state.get("sqlstate"))
    if isinstance(error, RepositoryError):
        error.http_status = 0
    return error
