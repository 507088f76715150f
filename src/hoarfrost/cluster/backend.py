"""The seam between the engine and where user code runs: a :class:`WorkerBackend` makes one
:class:`~hoarfrost.workers.Runner` per function definition from a :class:`FunctionPlacement`.

The engine gets its backend by value (:func:`open_backend`, from the settings, when the engine
opens) and never asks which one it has: :class:`LocalBackend` gives a
:class:`~hoarfrost.workers.WorkerPool` of this machine, :class:`~hoarfrost.cluster.ray_backend.
RayBackend` a runner whose workers are Ray actors on the cluster's nodes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hoarfrost.config import Settings
from hoarfrost.errors import ConfigurationError
from hoarfrost.packages.lock import Lock
from hoarfrost.packages.retention import FileStore
from hoarfrost.workers import Runner, WorkerPool

__all__ = ["FunctionPlacement", "LocalBackend", "WorkerBackend", "open_backend"]


@dataclass(frozen=True)
class FunctionPlacement:
    """Everything a backend needs to run one function definition's workers."""

    name: str  # qualified name, for errors and logs
    key: str  # the definition's worker key: one runner (and its workers) per key
    kind: str  # scalar | vectorized | udtf | procedure | aggregate
    lock: Lock  # frozen at CREATE: the environment, wherever it is built
    executable: Path  # this machine's interpreter of lock.runtime
    environment: Callable[[], Path | None]  # this machine's site-packages, built on first call
    files: FileStore  # the retained wheels of the lock, by sha256
    log_path: Path
    check: Callable[[], None]  # the packages policy; raises when it refuses the lock
    imports: Path | None = None  # the function's IMPORTS directory on this machine
    import_paths: tuple[str, ...] = ()


class WorkerBackend:
    """Makes runners; one per engine, closed with it."""

    name = "local"

    def runner(self, placement: FunctionPlacement) -> Runner:
        raise NotImplementedError

    def isolation(self, version: str, executable: Path) -> tuple[str, list[str]]:
        """(description, layer names) of the isolation in force where user code runs, measured
        in a worker of runtime ``version`` started for the purpose (``executable``: this
        machine's interpreter of it)."""
        raise NotImplementedError

    def description(self) -> str:
        """What SHOW PARAMETERS says about the backend."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class LocalBackend(WorkerBackend):
    """Worker processes of this machine (``WorkerPool``), sized by the worker settings."""

    name = "local"

    def __init__(self, settings: Settings):
        self.settings = settings

    def runner(self, placement: FunctionPlacement) -> Runner:
        s = self.settings
        return WorkerPool(
            placement.executable,
            placement.environment(),
            size=int(s.worker_pool_size),
            timeout=float(s.worker_timeout),
            memory_limit=int(s.worker_memory_limit),
            log_path=placement.log_path,
            process_limit=int(s.worker_process_limit),
            imports=placement.imports,
            import_paths=placement.import_paths,
        )

    def isolation(self, version: str, executable: Path) -> tuple[str, list[str]]:
        with WorkerPool(executable, None, timeout=30.0) as probe:
            return probe.isolation, probe.layers

    def description(self) -> str:
        return f"local ({int(self.settings.worker_pool_size)} worker processes per function)"


def open_backend(settings: Settings) -> WorkerBackend:
    """The backend the settings name; a Ray cluster is connected to here, so an unreachable one
    stops the engine from opening (a configuration error naming the address)."""
    kind = str(settings.worker_backend)
    if kind == "local":
        return LocalBackend(settings)
    if kind == "ray":
        from hoarfrost.cluster.ray_backend import RayBackend

        return RayBackend(settings, LocalBackend(settings))
    raise ConfigurationError(
        f"HOARFROST_WORKER_BACKEND '{kind}' is not a worker backend; use 'local' or 'ray'."
    )
