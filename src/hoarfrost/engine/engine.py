"""The Engine owns one account: its home, the catalog, the user-data DuckDB instance and keys.

Layout of a home directory::

    catalog.duckdb        governance objects, parameters, grants, query history
    master.key            0600, only when HOARFROST_MASTER_KEY is not set
    databases/<db>.duckdb one DuckDB file per Snowflake database, attached under its name

One engine per home per process (a registry shares it between connections): DuckDB allows
one writer process per file, and a second process gets a clear error instead.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import duckdb

from hoarfrost.catalog.crypto import KeyRing
from hoarfrost.catalog.relations import open_to_public
from hoarfrost.catalog.shared_repository import ensure_shared_repository
from hoarfrost.catalog.store import CatalogObject, CatalogStore
from hoarfrost.catalog.users import bootstrap_user
from hoarfrost.cluster import WorkerBackend, open_backend
from hoarfrost.config import Settings
from hoarfrost.engine.stage_files import StageRoot
from hoarfrost.errors import ConfigurationError, ObjectAlreadyExists, UnsupportedFeature

__all__ = ["DEFAULT_DATABASE", "DEFAULT_SCHEMA", "Engine", "open_engine"]

DEFAULT_DATABASE = "HOARFROST"
DEFAULT_SCHEMA = "PUBLIC"
MEMORY = ":memory:"
S = TypeVar("S")

_registry: dict[str, Engine] = {}
_registry_lock = threading.Lock()


def open_engine(home: str | Path | None, settings: Settings) -> Engine:
    """The engine of a home, opened once per process (``:memory:`` is always a new one)."""
    if str(home) == MEMORY:
        throwaway = Engine(None, settings)
        throwaway.refs = 1  # closed when its only connection closes
        return throwaway
    path = Path(home).expanduser().resolve() if home is not None else _default_home(settings)
    with _registry_lock:
        engine = _registry.get(str(path))
        if engine is None or engine.closed:
            engine = Engine(path, settings)
            _registry[str(path)] = engine
        engine.refs += 1
        return engine


def _default_home(settings: Settings) -> Path:
    home = settings.home
    return (Path(home) if home else Path(".hoarfrost")).expanduser().resolve()


class Engine:
    def __init__(self, home: Path | None, settings: Settings, backend: WorkerBackend | None = None):
        """``backend``: where user code runs; default: the one the settings name (a Ray
        cluster is connected to here, so an unreachable one stops the engine from opening)."""
        self.home = home
        self.settings = settings
        # First: an unreachable cluster must fail before any account file is opened.
        self.backend = backend if backend is not None else open_backend(settings)
        self.closed = False
        self.refs = 0
        self.lock = threading.RLock()
        self._session_ids = 0
        if home is not None:
            _private_dir(home)
            _private_dir(home / "databases")
        self.keyring = KeyRing.load(home, settings.master_key)
        self.catalog = CatalogStore(home / "catalog.duckdb" if home else None)
        if home is not None:
            _private_file(home / "catalog.duckdb")
        # DuckDB spills to this directory, the only one besides databases/ it may touch.
        self.spill = Path(tempfile.mkdtemp(prefix="hoarfrost-spill-")) if home is None else None
        # Staged files (stage_files.py): in the home, or private to a throwaway account.
        staged = home / "stages" if home else Path(tempfile.mkdtemp(prefix="hoarfrost-stages-"))
        self.stages = StageRoot(staged)
        self.data = duckdb.connect(MEMORY)
        if settings.duckdb_threads:
            self.data.execute(f"SET threads = {int(settings.duckdb_threads)}")
        self.services: dict[str, Any] = {}  # later subsystems (runtimes, env store, pools)
        self._init_account()
        if not self.catalog.list("USER"):
            # An account made before users were kept, or a new one: the local user (setting
            # ``user``) is its first administrator.
            bootstrap_user(self.catalog, str(settings.user), None, admin=True)
            open_to_public(self.catalog, DEFAULT_DATABASE, DEFAULT_SCHEMA)
        ensure_shared_repository(self.catalog, str(settings.pypi_shared_repository_url))
        for db in self.catalog.list("DATABASE"):
            self._attach(db.name)
        # Files of stages dropped with their database or schema (the catalog forgot them).
        live = {str(o.props.get("area")) for o in self.catalog.list("STAGE")}
        self.stages.sweep_named(live)
        self._lock_down()

    def _lock_down(self) -> None:
        """No statement may reach the host through DuckDB (issue 10): after this, DuckDB reads
        and writes only the account's database files and its spill directory, loads no
        extension, scans no Python variable and refuses every configuration change. The
        translator refuses DuckDB-only calls first (:mod:`hoarfrost.sql.surface`); this layer
        holds on its own."""
        spill = self.home / "tmp" if self.home is not None else self.spill
        assert spill is not None
        _private_dir(spill)
        # Stage areas are the one other place DuckDB may read and write (COPY, staged queries).
        allowed = [str(spill) + "/", str(self.stages.directory) + "/"]
        if self.home is not None:
            allowed.append(str(self.home / "databases") + "/")
        for statement, value in (
            ("SET temp_directory = ?", str(spill)),
            ("SET allowed_directories = ?", allowed),
            ("SET autoinstall_known_extensions = ?", False),
            ("SET autoload_known_extensions = ?", False),
            ("SET python_enable_replacements = ?", False),
            ("SET enable_external_access = ?", False),
            ("SET lock_configuration = ?", True),
        ):
            self.data.execute(statement, [value])

    def service(self, name: str, make: Callable[[Engine], S]) -> S:
        """The engine's one ``name`` subsystem (package manager, UDF service, ...), made by
        ``make(self)`` on first use; sessions on several threads may ask at once."""
        found = self.services.get(name)
        if found is None:
            with self.lock:
                found = self.services.get(name)
                if found is None:
                    found = self.services[name] = make(self)
        return cast(S, found)

    # -- account -------------------------------------------------------------------------
    def _init_account(self) -> None:
        if self.catalog.get_param("ACCOUNT", "", "EDITION") is not None:
            return
        edition = str(self.settings.edition).upper()
        if edition not in ("STANDARD", "ENTERPRISE", "BUSINESS_CRITICAL"):
            raise ConfigurationError(
                f"HOARFROST_EDITION '{edition}' is not an edition; use STANDARD, ENTERPRISE or "
                "BUSINESS_CRITICAL."
            )
        with self.catalog.transaction():
            self.catalog.set_param("ACCOUNT", "", "EDITION", edition)
            self.catalog.set_param("ACCOUNT", "", "CREATED_ON", _now().isoformat())
            self.catalog.put(CatalogObject("DATABASE", DEFAULT_DATABASE, "", DEFAULT_DATABASE))
        self._attach(DEFAULT_DATABASE)

    @property
    def edition(self) -> str:
        return self.catalog.get_param("ACCOUNT", "", "EDITION") or "ENTERPRISE"

    def next_session_id(self) -> int:
        with self.lock:
            self._session_ids += 1
            return self._session_ids

    # -- databases -----------------------------------------------------------------------
    def database_file(self, name: str) -> str:
        if self.home is None:
            return MEMORY
        safe = name if name.replace("_", "").isalnum() and name.isascii() else name.encode().hex()
        return str(self.home / "databases" / f"{safe}.duckdb")

    def attached(self) -> set[str]:
        # self.data is shared by every session of the process: one query at a time on it (DuckDB
        # refuses a concurrent call on a busy connection, and results must not interleave).
        with self.lock:
            rows = self.data.execute("SELECT database_name FROM duckdb_databases()").fetchall()
        return {r[0] for r in rows}

    def _attach(self, name: str) -> None:
        if any(a.upper() == name.upper() for a in self.attached()):
            if name in self.attached():
                return
            raise UnsupportedFeature(
                f"Database '{name}' differs only by case from an existing database; hoarfrost "
                "stores databases case-insensitively. Choose another name."
            )
        path = self.database_file(name)
        quoted = '"' + name.replace('"', '""') + '"'
        self.data.execute(f"ATTACH '{path}' AS {quoted}")
        if self.home is not None:
            _private_file(Path(path))
        schemas = self.data.execute(
            "SELECT schema_name FROM information_schema.schemata WHERE catalog_name = ?", [name]
        ).fetchall()
        if not any(s[0] == DEFAULT_SCHEMA for s in schemas):
            self.data.execute(f'CREATE SCHEMA IF NOT EXISTS {quoted}."{DEFAULT_SCHEMA}"')

    def create_database(self, obj: CatalogObject, replace: bool) -> None:
        with self.lock:
            if replace and obj.name in self.attached():
                self.drop_database(obj.name)
            elif obj.name in self.attached():
                raise ObjectAlreadyExists(
                    f"SQL compilation error:\nObject '{obj.name}' already exists."
                )
            self._attach(obj.name)
            self.catalog.put(obj)

    def drop_database(self, name: str) -> None:
        with self.lock:
            quoted = '"' + name.replace('"', '""') + '"'
            self.data.execute(f"DETACH DATABASE IF EXISTS {quoted}")
            with self.catalog.transaction():
                self.catalog.delete(CatalogObject("DATABASE", name, "", name))
                self.catalog.delete_in(name)
            if self.home is not None:
                for suffix in ("", ".wal"):
                    Path(self.database_file(name) + suffix).unlink(missing_ok=True)

    # -- life cycle ----------------------------------------------------------------------
    def release(self) -> None:
        with _registry_lock:
            self.refs -= 1
            if self.refs > 0:
                return
            if self.home is not None:
                _registry.pop(str(self.home), None)
        self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for service in self.services.values():
            closer = getattr(service, "close", None)
            if callable(closer):
                closer()
        self.backend.close()  # after the services: their runners release the backend's workers
        self.data.close()
        self.catalog.close()
        if self.spill is not None:
            shutil.rmtree(self.spill, ignore_errors=True)
        if self.home is None:
            shutil.rmtree(self.stages.directory, ignore_errors=True)


def _private_dir(path: Path) -> None:
    """An account directory only its owner may enter (0700): it holds the catalog and data."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def _private_file(path: Path) -> None:
    if path.exists():
        os.chmod(path, 0o600)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
