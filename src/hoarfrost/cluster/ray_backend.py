"""The Ray backend: functions run in actors on the nodes of a Ray cluster.

What travels to a node is the function's frozen lock (without the informational URLs, which
name the build's gateway) and its wheels, each put in Ray's object store once per lock by this
engine after re-hashing the retained file; a node fetches them only to build an environment it
does not have yet. No secret, setting or variable of the engine travels: the actors are made of
the lock, the wheels, the worker limits and the node cache directory.

Procedures run on the cluster only with ``ray_procedures``, and functions with IMPORTS (staged
files on this machine) stay on this machine's pool: :meth:`RayBackend.runner` hands those to the
local backend.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from hoarfrost.cluster.backend import FunctionPlacement, LocalBackend, WorkerBackend
from hoarfrost.cluster.node_actor import NodeWorker
from hoarfrost.cluster.ray_connection import alive_nodes, connect, disconnect
from hoarfrost.cluster.ray_runner import RayRunner
from hoarfrost.config import Settings
from hoarfrost.errors import IntegrityError, RepositoryError, WorkerError
from hoarfrost.packages.lock import Lock
from hoarfrost.workers import Runner

__all__ = ["RayBackend"]


class RayBackend(WorkerBackend):
    name = "ray"

    def __init__(self, settings: Settings, local: LocalBackend):
        self.settings = settings
        self.local = local
        self.address = str(settings.ray_address or "")
        connect(self.address, settings.ray_node_address)
        import ray

        self.actor_class: Any = ray.remote(NodeWorker)
        self.id = secrets.token_hex(4)  # names this engine's actors apart from other engines'
        self._lock = threading.Lock()
        self._wheels: dict[str, list[tuple[str, Any]]] = {}  # lock key -> (sha256, ObjectRef)
        self._runners: list[RayRunner] = []
        self._closed = False

    # -- WorkerBackend ----------------------------------------------------------------------
    def runner(self, placement: FunctionPlacement) -> Runner:
        if placement.imports is not None or (
            placement.kind == "procedure" and not self.settings.ray_procedures
        ):
            return self.local.runner(placement)
        s = self.settings
        runner = RayRunner(
            self,
            placement,
            size=int(s.ray_actors_per_function) or len(alive_nodes()) or 1,
            retries=max(0, int(s.ray_retries)),
            timeout=float(s.worker_timeout),
        )
        with self._lock:
            self._runners = [r for r in self._runners if not r.closed] + [runner]
        return runner

    def isolation(self, version: str, executable: Path) -> tuple[str, list[str]]:
        """Measured in a probe actor on every alive node: the layers in force on all of them,
        and each node's own description."""
        texts: list[str] = []
        common: list[str] | None = None
        for address, isolation, layers in self.probe_nodes(version):
            texts.append(f"node {address}: {isolation}")
            common = layers if common is None else [x for x in common if x in layers]
        return "; ".join(texts) or "unknown (no Ray node alive)", common or []

    def description(self) -> str:
        s = self.settings
        nodes = alive_nodes()
        per = int(s.ray_actors_per_function)
        return (
            f"ray at {self.address}: {len(nodes)} node(s) alive "
            f"({', '.join(n.address for n in nodes)}); "
            f"{per or 'one per node'} actor(s) per function; {int(s.ray_retries)} retries; "
            f"procedures {'on the cluster' if s.ray_procedures else 'local'}"
        )

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            runners, self._runners = self._runners, []
            self._wheels.clear()
        for runner in runners:
            runner.close()
        disconnect()

    # -- used by runners --------------------------------------------------------------------
    def limits(self) -> dict[str, Any]:
        s = self.settings
        return {
            "timeout": float(s.worker_timeout),
            "memory_limit": int(s.worker_memory_limit),
            "process_limit": int(s.worker_process_limit),
        }

    def cache_dir(self) -> str | None:
        value = self.settings.ray_node_cache_dir
        return str(value) if value else None

    def wheels(self, placement: FunctionPlacement) -> list[tuple[str, Any]]:
        """The lock's wheels in the object store, put once per lock; each retained file is
        hashed again first, so a node is never sent bytes that are not the lock's."""
        key = placement.lock.key
        with self._lock:
            found = self._wheels.get(key)
        if found is not None:
            return found
        import ray

        refs = []
        for sha, filename in placement.lock.files():
            if not placement.files.has(sha):
                raise RepositoryError(
                    f"{filename} (sha256 {sha}) of function {placement.name} is not retained "
                    f"in {placement.files.root}; the Ray nodes cannot build its environment.",
                    http_status=404,
                )
            if not placement.files.verify(sha):
                raise IntegrityError(
                    f"The retained file {filename} no longer has its sha256 {sha}; it is not "
                    "sent to the Ray nodes."
                )
            refs.append((sha, ray.put(placement.files.path(sha).read_bytes())))
        with self._lock:
            return self._wheels.setdefault(key, refs)

    @staticmethod
    def shipped_lock(lock: Lock) -> str:
        """The lock as sent to nodes: the files and their hashes, no URLs."""
        bare = tuple(replace(p, url=None) for p in lock.packages)
        return replace(lock, packages=bare).to_json()

    def probe_nodes(self, version: str = "3.11") -> list[tuple[str, str, list[str]]]:
        """(node address, isolation text, layer names) measured by a worker on each node."""
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        empty = Lock(packages=(), runtime=version, python_full_version="", platform="")
        probes = []
        for node in alive_nodes():
            actor = self.actor_class.options(
                num_cpus=0,
                scheduling_strategy=NodeAffinitySchedulingStrategy(node.node_id, soft=False),
            ).remote("(isolation probe)", empty.to_json(), [], self.limits(), self.cache_dir())
            probes.append((node, actor, actor.ready.remote()))
        found: list[tuple[str, str, list[str]]] = []
        try:
            for node, _actor, ref in probes:
                try:
                    tag, info = ray.get(ref, timeout=120.0)
                except Exception as exc:  # a node that dies during the probe is reported
                    found.append((node.address, f"not measured ({type(exc).__name__})", []))
                    continue
                if tag != "ok":
                    found.append((node.address, f"not measured ({info.get('msg')})", []))
                    continue
                found.append((node.address, info["isolation"], list(info["layers"])))
        finally:
            for _node, actor, _ref in probes:
                ray.kill(actor, no_restart=True)
        if not found:
            raise WorkerError(f"No node of the Ray cluster at {self.address} is alive.")
        return found
