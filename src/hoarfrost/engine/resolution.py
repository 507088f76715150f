"""Governed package resolution for one account: the repository chain, the gateway, uv, the
packages policy on the whole lock, and content-addressed environments (SPEC.md sections 3-6,
DESIGN decisions 3 and 4).

Everything that touches the customer's repository goes through one :class:`Gateway` per
resolution; uv sees only the gateway's loopback URL. The lock is checked against the policy
after resolution (transitive dependencies included) and is what a function freezes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hoarfrost.catalog.lookup import find, not_found
from hoarfrost.catalog.parameters import effective_default_repository
from hoarfrost.catalog.policies import account_policy
from hoarfrost.catalog.privileges import require_usage
from hoarfrost.catalog.secrets import read_secret
from hoarfrost.catalog.shared_repository import system_integration
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.engine.network import gateway_options
from hoarfrost.errors import PackageError, ProgrammingError, RepositoryError
from hoarfrost.packages.credentials import Credentials
from hoarfrost.packages.envstore import EnvStore
from hoarfrost.packages.gateway import Gateway
from hoarfrost.packages.installer import UvInstaller
from hoarfrost.packages.lock import Lock
from hoarfrost.packages.policy import Decision, Policy
from hoarfrost.packages.prefixes import PrefixSet
from hoarfrost.packages.resolver import PREFIX, platform_for, resolve
from hoarfrost.packages.retention import FetchRecord, FileStore
from hoarfrost.packages.runtimes import Runtime, discover_runtimes, require_runtime
from hoarfrost.sql.ast import Name

if TYPE_CHECKING:
    from hoarfrost.engine.context import Context
    from hoarfrost.engine.engine import Engine

__all__ = ["PackageManager", "Repository", "packages_of"]

# Issue 5 plugs network routing in here: (session, integration) -> gateway keyword arguments.
NetworkHook = Callable[["Context", CatalogObject], dict[str, Any]]


@dataclass(frozen=True)
class Repository:
    """A repository with everything the gateway needs, read once per resolution."""

    obj: CatalogObject
    integration: CatalogObject
    credentials: Credentials | None

    @property
    def name(self) -> str:
        return f"{self.obj.database}.{self.obj.schema}.{self.obj.name}"


class PackageManager:
    """One per engine (:func:`packages_of`)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.cache = Path(engine.settings.cache_path)
        self.store = FileStore(self.cache / "files")
        self._envs: EnvStore | None = None
        self._lock = threading.Lock()
        self.network_hooks: list[NetworkHook] = [gateway_options]  # issue 5: egress, private link
        # Listeners told what a long resolution or build is doing (the CLI shows a spinner).
        self.progress: list[Callable[[str], None]] = []

    def _say(self, message: str) -> None:
        for listener in list(self.progress):
            listener(message)

    # -- runtimes ------------------------------------------------------------------------
    def runtime(self, version: object) -> Runtime:
        return require_runtime(self.engine.settings, version)

    def runtimes(self) -> dict[str, Runtime]:
        return discover_runtimes(self.engine.settings)

    @property
    def envs(self) -> EnvStore:
        with self._lock:
            if self._envs is None:
                interpreters = {v: r.executable for v, r in self.runtimes().items()}
                self._envs = EnvStore(self.cache, UvInstaller(self.cache, interpreters))
            return self._envs

    # -- repositories --------------------------------------------------------------------
    def repository(self, session: Context, name: Name | None) -> Repository:
        """The named repository, else the default one (schema > database > account)."""
        if name is None:
            value, _level = effective_default_repository(
                session.catalog, session.database, session.schema
            )
            if value is None:
                raise ProgrammingError(
                    "Cannot create a Python function with the specified packages: no "
                    "ARTIFACT_REPOSITORY was given and no DEFAULT_PYTHON_ARTIFACT_REPOSITORY is "
                    "set on the schema, database or account. Name a repository or set a default.",
                    errno=2003,
                    sqlstate="42S02",
                )
            name = Name(tuple(value.split(".", 2)))  # stored as db.schema.name
        obj = find(session, "ARTIFACT REPOSITORY", name)
        require_usage(session, obj)
        integration = system_integration(obj) or self.engine.catalog.get(
            "INTEGRATION", "", "", obj.props["api_integration"]
        )
        if integration is None:
            raise not_found(obj.props["api_integration"])
        if not integration.props.get("enabled", True):
            raise RepositoryError(
                f"Artifact repository {obj.name} cannot be used: its API integration "
                f"{integration.name} is disabled (ENABLED = FALSE). Run ALTER API INTEGRATION "
                f"{integration.name} SET ENABLED = TRUE.",
                http_status=403,
            )
        return Repository(obj, integration, self._credentials(session, obj))

    def _credentials(self, session: Context, repo: CatalogObject) -> Credentials | None:
        secret_name = repo.props.get("authentication_secret")
        if not secret_name:
            return None
        database, schema, name = secret_name.split(".", 2)
        secret = self.engine.catalog.get("SECRET", database, schema, name)
        if secret is None:
            raise ProgrammingError(
                f"SQL compilation error:\nSecret '{secret_name}' of artifact repository "
                f"{repo.name} does not exist or not authorized; recreate it or ALTER ARTIFACT "
                "REPOSITORY ... SET AUTHENTICATION_SECRET.",
                errno=2003,
                sqlstate="42S02",
            )
        value = read_secret(session, secret)
        if value.secret_type == "PASSWORD":
            return Credentials.basic(value.username or "", value.value)
        return Credentials.bearer(value.value)

    # -- resolution ----------------------------------------------------------------------
    def resolve(
        self,
        session: Context,
        runtime_version: object,
        specs: Sequence[str],
        repository: Name | None,
        *,
        architecture: str | None = None,
        build: bool = True,
    ) -> tuple[Lock, Repository | None]:
        """Freeze ``specs`` for the runtime; with ``build``, also build its environment."""
        runtime = self.runtime(runtime_version)
        if not specs:
            return Lock((), runtime.version, runtime.full_version, platform_for(architecture)), None
        repo = self.repository(session, repository)
        policy = account_policy(session.catalog)
        self._say(f"Resolving {', '.join(specs)} for Python {runtime.version} from {repo.name}")
        with self._gateway(session, repo, policy) as gw:
            try:
                lock = resolve(
                    specs,
                    runtime,
                    gw.index_url,
                    platform=platform_for(architecture),
                    cache_dir=self.cache / "uv",
                )
            except PackageError as exc:
                raise self._explain(gw, policy, exc) from None
            _check_lock(lock, policy)
            if build:
                self._build(lock, gw)
        return lock, repo

    def _gateway(self, session: Context, repo: Repository, policy: Policy | None) -> Gateway:
        integration = repo.integration.props
        prefixes = PrefixSet.from_lists(
            integration["allowed_prefixes"], integration.get("blocked_prefixes") or []
        )
        extra: dict[str, Any] = {}
        for hook in self.network_hooks:
            extra.update(hook(session, repo.integration))

        def decide(name: str, version: str) -> Decision:
            assert policy is not None
            return policy.decide(name, version, at_creation=True)

        return Gateway(
            index_url=repo.obj.props["index_url"],
            prefixes=prefixes,
            store=self.store,
            credentials=repo.credentials,
            settings=self.engine.settings,
            policy_filter=decide if policy is not None else None,
            on_fetch=self._record_fetch,
            repository_name=repo.name,
            **extra,
        )

    def _explain(self, gw: Gateway, policy: Policy | None, failure: PackageError) -> Exception:
        """The precise reason a resolution failed: upstream error, policy, or uv's own text."""
        upstream = gw.first_error
        if upstream is not None and upstream.http_status == 404 and "not found" in failure.msg:
            # A missing project or version: keep the reference text users search for, and
            # say what the repository answered.
            return PackageError(f"{failure.msg} The repository answered: {upstream.msg}")
        if upstream is not None:
            return upstream
        if policy is not None and gw.hidden_versions:
            # uv saw no acceptable version of a package whose versions the policy hid: name the
            # package, the newest hidden version and the rule, not uv's generic text.
            named = [n for n in gw.hidden_versions if n.lower() in failure.msg.lower()]
            name = (named or list(gw.hidden_versions))[0]
            version = gw.hidden_versions[name][-1][0]
            decision = policy.decide(name, version, at_creation=True)
            return PackageError(f"{PREFIX} '{policy.violation_message(name, version, decision)}'")
        return failure

    def _build(self, lock: Lock, gw: Gateway) -> Path:
        if not self.envs.exists(lock):
            self._say(f"Building the environment of {len(lock.packages)} package(s)")
        return self.envs.ensure(lock, index_url=gw.index_url)

    def ensure_env(self, lock: Lock) -> Path:
        """The environment of a frozen lock, rebuilt from retained files if it was pruned."""
        if self.envs.exists(lock) or not lock.packages:
            return self.envs.path(lock)
        self._say("Rebuilding an environment from retained files")
        with Gateway.offline(self.store, lock.files()) as gw:
            return self.envs.ensure(lock, index_url=gw.index_url)

    def _record_fetch(self, record: FetchRecord) -> None:
        decision = "NO POLICY"
        if record.policy_allowed is True:
            decision = "ALLOWED"
        elif record.policy_allowed is False:
            decision = f"BLOCKED ({record.policy_rule} {record.policy_spec or ''})".strip()
        self.engine.catalog.execute(
            "INSERT INTO fetch_audit VALUES (?,?,?,?,?,?,?)",
            [
                record.time,
                record.repository,
                record.url,
                record.filename,
                record.sha256,
                record.size,
                decision,
            ],
        )


def _check_lock(lock: Lock, policy: Policy | None) -> None:
    if policy is None:
        return
    for package in lock.packages:
        decision = policy.decide(package.name, package.version, at_creation=True)
        if not decision.allowed:
            message = policy.violation_message(package.name, package.version, decision)
            raise PackageError(f"{PREFIX} '{message}'")


def packages_of(engine: Engine) -> PackageManager:
    return engine.service("packages", PackageManager)
