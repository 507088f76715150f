"""Python functions inside DuckDB: worker pools per function and the registration of each
routine as a DuckDB Arrow UDF (``engine.service("udf")``, see :func:`udf_service`).

- One runner per function definition (:attr:`Routine.worker_key`: a worker runs one function's
  code only), made by the engine's worker backend (a local :class:`WorkerPool`, or actors on a
  Ray cluster: :mod:`hoarfrost.cluster`), kept warm, retired when the function is replaced or
  dropped and closed with the engine. Settings: ``worker_pool_size``, ``worker_timeout``,
  ``worker_memory_limit``, ``worker_process_limit``, ``worker_backend`` and the ``ray_*`` ones;
  the user code's stdout/stderr go to ``<home or cache>/logs/python_udf.log`` (on a Ray node:
  its own cache directory's ``logs/``).
- Each routine is registered under its stable ``duck_name`` (see :class:`Routine`) on a
  connection this service owns, so registrations outlive sessions and are visible to every
  cursor, including views queried later. A changed definition is registered afresh.
- DuckDB wraps an exception raised inside a UDF in its own text; :meth:`UdfService.unwrap` gives
  back the hoarfrost error that was raised (user tracebacks, worker crashes, policy refusals).
- The account's packages policy is checked at execution, once per statement and routine
  (SPEC.md section 5), with :func:`check_installed`.
"""

from __future__ import annotations

import inspect
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
from duckdb.func import ARROW, SPECIAL

from hoarfrost.catalog.lookup import not_found
from hoarfrost.catalog.policies import account_policy
from hoarfrost.catalog.privileges import has_privilege
from hoarfrost.catalog.routines import Routine
from hoarfrost.catalog.store import CatalogObject, CatalogStore
from hoarfrost.cluster import FunctionPlacement
from hoarfrost.engine.resolution import packages_of
from hoarfrost.engine.stage_imports import import_directory, zip_paths
from hoarfrost.errors import Error, InternalError, InvalidValue, PackageError
from hoarfrost.packages.envstore import SITE_PACKAGES
from hoarfrost.packages.policy import check_installed
from hoarfrost.workers import LoadInfo, Runner, arrow_to_python_columns, python_to_arrow
from hoarfrost.workers.types import SqlType

if TYPE_CHECKING:
    from hoarfrost.engine.context import Context
    from hoarfrost.engine.engine import Engine

__all__ = ["JSON_KINDS", "UdfService", "udf_service"]

JSON_KINDS = ("variant", "object", "array")
_MAX_ERRORS = 64


def _duck_param(t: SqlType) -> str:
    return t.duckdb_type


def _duck_return(t: SqlType) -> str:
    # JSON leaves the UDF as text (DuckDB refuses Arrow strings for a JSON return type); the
    # call site wraps the call in PARSE_JSON.
    return "VARCHAR" if t.kind in JSON_KINDS else t.duckdb_type


class UdfService:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._lock = threading.RLock()
        # One pool per function (Routine.worker_key): a worker never runs two functions' code.
        self._pools: dict[str, tuple[str, Runner]] = {}  # worker key -> (duck name, runner)
        self._registered: dict[str, str] = {}  # DUCK NAME -> stamp
        # DUCK NAME -> (the Arrow UDF, its pool, its return type): for batched evaluation
        self.batchable: dict[str, tuple[Any, Runner, SqlType]] = {}
        self.display: dict[str, str] = {}  # DUCK NAME -> qualified name(signature), for errors
        self._duck = engine.data.cursor()  # registrations belong to the connection that made them
        self._names: dict[tuple[str, str, str], dict[str, list[CatalogObject]]] = {}
        self._errors: OrderedDict[str, Error] = OrderedDict()
        self._checked: dict[str, int] = {}
        self._isolation: tuple[str, list[str]] | None = None  # (description, layer names)
        self.serial = 0
        self._session: Context | None = None  # the statement's session, for policy checks

    # -- pools ---------------------------------------------------------------------------
    def pool(self, routine: Routine) -> Runner:
        """The runner of ``routine``'s definition, made by the engine's worker backend (a local
        pool or actors on a Ray cluster) on first use."""
        key = routine.worker_key
        with self._lock:
            found = self._pools.get(key)
        if found is not None:
            return found[1]
        runner = self.engine.backend.runner(self._placement(routine))
        with self._lock:
            found = self._pools.get(key)
            if found is None:
                found = self._pools[key] = (routine.duck_name, runner)
        if found[1] is not runner:  # another thread made one first
            runner.close()
        return found[1]

    def _placement(self, routine: Routine) -> FunctionPlacement:
        manager = packages_of(self.engine)
        lock = routine.lock
        records = routine.props.get("imports") or []
        imports = import_directory(self.engine.stages.directory, records) if records else None

        def environment() -> Path | None:
            return manager.ensure_env(lock) / SITE_PACKAGES if lock.packages else None

        return FunctionPlacement(
            name=routine.qualified + routine.obj.signature,
            key=routine.worker_key,
            kind="procedure" if routine.kind == "PROCEDURE" else routine.spec.kind,
            lock=lock,
            executable=manager.runtime(lock.runtime).executable,
            environment=environment,
            files=manager.store,
            log_path=self.log_path,
            check=lambda: self._check_account_policy(routine),
            imports=imports,
            import_paths=tuple(zip_paths(imports)) if imports else (),
        )

    def _check_account_policy(self, routine: Routine) -> None:
        """The account's packages policy on the whole lock (what a backend checks before it
        sends a lock and its wheels anywhere)."""
        _check_policy(
            routine,
            self.engine.catalog,
            "checked against the account's packages policy before it is sent to workers",
        )

    def _retire(self, duck_name: str, keep: str | None) -> None:
        """Stop the workers of a replaced or dropped function (all but the ``keep`` key's)."""
        with self._lock:
            old = [
                key for key, (name, _) in self._pools.items() if name == duck_name and key != keep
            ]
            pools = [self._pools.pop(key)[1] for key in old]
        for pool in pools:
            pool.close()

    @property
    def log_path(self) -> Path:
        base = self.engine.home or Path(self.engine.settings.cache_path)
        return base / "logs" / "python_udf.log"

    def load(self, routine: Routine) -> LoadInfo:
        """Run the code once in a worker of its environment: the handler must exist."""
        return self.pool(routine).load(routine.spec)

    def isolation(self) -> str:
        """What isolation workers run under, as the workers themselves report it."""
        return self._measured()[0]

    def layers(self) -> list[str]:
        """Names of the isolation layers in force in workers, as measured in one."""
        return self._measured()[1]

    def _measured(self) -> tuple[str, list[str]]:
        if self._isolation is None:
            runtimes = packages_of(self.engine).runtimes()
            if not runtimes:
                return "unknown (no Python runtime available)", []
            version = "3.11" if "3.11" in runtimes else next(iter(runtimes))
            self._isolation = self.engine.backend.isolation(version, runtimes[version].executable)
        return self._isolation

    # -- names ---------------------------------------------------------------------------
    def names(self, kind: str, db: str, schema: str) -> dict[str, list[CatalogObject]]:
        """Permanent routines of one schema by name, cached until the next routine DDL."""
        key = (kind, db, schema)
        with self._lock:
            cached = self._names.get(key)
        if cached is not None:
            return cached
        found: dict[str, list[CatalogObject]] = {}
        for obj in self.engine.catalog.list(kind, db, schema):
            found.setdefault(obj.name, []).append(obj)
        with self._lock:
            self._names[key] = found
        return found

    def invalidate(self, routine: Routine | None = None, *, dropped: bool = False) -> None:
        """After DDL: forget cached names and the DuckDB registration of ``routine``, and stop
        the workers of its previous definition (of every definition when it was dropped)."""
        if routine is not None:
            self._retire(routine.duck_name, None if dropped else routine.worker_key)
        with self._lock:
            self._names.clear()
            if routine is not None and routine.duck_name in self._registered:
                self._registered.pop(routine.duck_name)
                self.batchable.pop(routine.duck_name, None)
                try:
                    self._duck.remove_function(routine.duck_name)
                except duckdb.Error:
                    pass

    # -- statements ----------------------------------------------------------------------
    def begin_statement(self, session: Context) -> None:
        with self._lock:
            self.serial += 1
            self._session = session

    def register(self, routine: Routine) -> str:
        """Make ``routine`` callable in DuckDB under ``routine.duck_name``."""
        name = routine.duck_name
        with self._lock:
            if self._registered.get(name) == routine.stamp:
                return name
            if name in self._registered:
                self._registered.pop(name)
                self.batchable.pop(name, None)
                self._duck.remove_function(name)
            aggregate = routine.props.get("udf_kind") == "aggregate"
            params: list[Any] = [
                _duck_param(t) + ("[]" if aggregate else "") for t in routine.arg_types
            ] or ["BOOLEAN"]
            assert routine.returns is not None
            function = _scalar(self, routine, len(params))
            self._duck.create_function(
                name,
                function,
                params,
                _duck_return(routine.returns),
                type=ARROW,
                null_handling=SPECIAL,
                side_effects=routine.volatile,
            )
            self._registered[name] = routine.stamp
            self.batchable[name] = (function, self.pool(routine), routine.returns)
            self.display[name] = routine.qualified + routine.obj.signature
        return name

    def forget(self, duck_name: str) -> None:
        """A registration DuckDB no longer has (e.g. after a rolled back transaction)."""
        with self._lock:
            self._registered.pop(duck_name.upper(), None)
            self.batchable.pop(duck_name.upper(), None)

    def check_policy(self, routine: Routine, session: Context | None = None) -> None:
        """Refuse to run ``routine`` when the account's packages policy refuses a package."""
        if session is None and self._checked.get(routine.duck_name) == self.serial:
            return  # already checked in this statement (a plain dict read: no lock per batch)
        with self._lock:
            if self._checked.get(routine.duck_name) == self.serial and session is None:
                return
            serial, session = self.serial, session or self._session
        if session is None or not routine.lock.packages:
            return
        self._check_usage(routine, session)
        _check_policy(
            routine, session.catalog, "checked at execution against the account's packages policy"
        )
        with self._lock:
            self._checked[routine.duck_name] = serial

    def _check_usage(self, routine: Routine, session: Context) -> None:
        """SPEC.md section 9: executing a function that uses a repository needs USAGE on it; a
        repository the role cannot use is reported as not found."""
        repo_name = routine.props.get("artifact_repository")
        if not repo_name:
            return
        database, schema, name = repo_name.split(".", 2)
        repo = self.engine.catalog.get("ARTIFACT REPOSITORY", database, schema, name)
        if repo is not None and not has_privilege(session, "USAGE", repo):
            raise not_found(repo.qualified)

    # -- errors --------------------------------------------------------------------------
    def remember(self, error: Error) -> None:
        with self._lock:
            self._errors[str(error)] = error
            while len(self._errors) > _MAX_ERRORS:
                self._errors.popitem(last=False)

    def unwrap(self, exc: BaseException) -> Error | None:
        """The hoarfrost error a UDF raised, from DuckDB's wrapping of it."""
        text = str(exc)
        if "Python exception occurred while executing the UDF" not in text:
            return None
        with self._lock:
            for key in reversed(self._errors):
                if key in text or key.split("\n")[0] in text:
                    return self._errors.pop(key)
        return None

    def close(self) -> None:
        with self._lock:
            pools, self._pools = [pool for _, pool in self._pools.values()], {}
        for pool in pools:
            pool.close()
        try:
            self._duck.close()
        except duckdb.Error:
            pass


def _scalar(service: UdfService, routine: Routine, arity: int) -> Any:
    """The Arrow UDF DuckDB calls with each batch (from several threads at once)."""
    pool = service.pool(routine)
    spec = routine.spec
    nargs = len(routine.arg_types)
    returns = routine.returns
    assert returns is not None
    not_null = bool(routine.props.get("returns_not_null"))
    checked = bool(routine.lock.packages)  # no packages: the policy has nothing to refuse
    arg_types = spec.arg_types

    aggregate = routine.props.get("udf_kind") == "aggregate"

    def udf(*arrays: pa.Array) -> pa.Array:
        try:
            if checked:
                service.check_policy(routine)
            nrows = len(arrays[0])
            if aggregate:  # each argument is a list of a group's values (see engine/calls)
                columns = [_lists(a, t) for a, t in zip(arrays[:nargs], arg_types, strict=True)]
                result = python_to_arrow(pool.call(spec, columns, nrows), returns)
            else:  # converted where the code runs (a Ray node converts its own batches)
                result = pool.call_arrow(spec, arrays[:nargs], nrows, returns)
            if not_null and result.null_count:
                raise InvalidValue(
                    f"Function {routine.name} is declared RETURNS ... NOT NULL but returned NULL."
                )
            return result
        except Error as exc:
            service.remember(exc)
            raise
        except Exception as exc:  # a bug of ours: still one clear error, never DuckDB's text
            error = InternalError(f"Internal error in function {routine.name}: {exc!r}")
            service.remember(error)
            raise error from None

    # DuckDB checks the Python arity against the declared parameters.
    udf.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(f"a{i}", inspect.Parameter.POSITIONAL_ONLY) for i in range(arity)]
    )
    return udf


def _lists(array: pa.Array | pa.ChunkedArray, arg_type: SqlType) -> list[list[Any]]:
    """A column of lists (one per group) as Python lists of the argument's values."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    values = arrow_to_python_columns([array.flatten()], [arg_type])[0]
    flat = list(values)
    offsets = array.offsets.to_pylist()
    return [flat[offsets[i] : offsets[i + 1]] for i in range(len(array))]


def udf_service(engine: Engine) -> UdfService:
    return engine.service("udf", UdfService)


def _check_policy(routine: Routine, catalog: CatalogStore, checked: str) -> None:
    """The account's packages policy on the routine's whole lock; ``checked`` says in the error
    when and against what."""
    policy = account_policy(catalog)
    if policy is None or not routine.lock.packages:
        return
    installed = [(p.name, p.version) for p in routine.lock.packages]
    violation = check_installed(policy, installed, temporary=routine.temporary)
    if violation is not None:
        raise PackageError(
            f"{routine.kind.capitalize()} {routine.name} cannot run: {violation.message} "
            f"({checked})."
        )
