"""Every setting of hoarfrost, declared once: name, default, help and the ``HOARFROST_<NAME>``
environment variable that sets it.

This module is the only reader of ``os.environ`` for settings. Values given to
``hoarfrost.connect(**settings)`` win over the environment, which wins over the default.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hoarfrost.egress import check_egress, parse_egress_ranges, parse_source_address
from hoarfrost.errors import ConfigurationError

__all__ = ["SETTINGS", "Setting", "Settings", "default_cache_dir"]


def _int(text: str) -> int:
    return int(text)


def _float(text: str) -> float:
    return float(text)


def _path(text: str) -> Path:
    return Path(text).expanduser()


def _opt_path(text: str) -> Path | None:
    return Path(text).expanduser() if text else None


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(text)


def _str(text: str) -> str:
    return text


def _size(text: str) -> int:
    """Bytes from '512M', '1G', '1048576'."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    t = text.strip().upper().removesuffix("B")
    if t and t[-1] in units:
        return int(float(t[:-1]) * units[t[-1]])
    return int(t)


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hoarfrost"


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    parse: Callable[[str], Any] = _str

    @property
    def env_var(self) -> str:
        return f"HOARFROST_{self.name.upper()}"


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in [
        Setting(
            "home",
            None,
            "Account directory (DuckDB files, key, history) [default: ./.hoarfrost].",
            _opt_path,
        ),
        Setting(
            "cache_dir",
            None,
            "Shared cache of environments and retained wheels [default: $XDG_CACHE_HOME/hoarfrost "
            "or ~/.cache/hoarfrost].",
            _opt_path,
        ),
        Setting(
            "master_key",
            None,
            "Base64 32-byte key that encrypts secrets; else a 0600 key file in the home.",
        ),
        Setting(
            "ca_bundle", None, "PEM bundle of CAs trusted for private repositories.", _opt_path
        ),
        Setting("python_3_10", None, "Path of a CPython 3.10 interpreter.", _opt_path),
        Setting("python_3_11", None, "Path of a CPython 3.11 interpreter.", _opt_path),
        Setting("python_3_12", None, "Path of a CPython 3.12 interpreter.", _opt_path),
        Setting("python_3_13", None, "Path of a CPython 3.13 interpreter.", _opt_path),
        Setting(
            "duckdb_threads",
            None,
            "DuckDB worker threads (default: DuckDB's own, the number of cores).",
            _int,
        ),
        Setting(
            "worker_pool_size",
            os.cpu_count() or 1,
            "Worker processes per function (each runs one function's code).",
            _int,
        ),
        Setting("worker_timeout", 180.0, "Seconds one batch may run in a worker.", _float),
        Setting("worker_memory_limit", 2 << 30, "Address-space limit of a worker (bytes).", _size),
        Setting(
            "worker_process_limit",
            64,
            "Processes and threads one worker may run at once (its own included); every one dies "
            "with the worker.",
            _int,
        ),
        Setting(
            "udf_batch_memory",
            512 << 20,
            "Most bytes of a query's input held to evaluate its Python UDF calls in large batches "
            "(0: always per DuckDB vector).",
            _size,
        ),
        Setting(
            "worker_backend",
            "local",
            "Where Python functions run: 'local' (worker processes of this machine) or 'ray' "
            "(actors of the Ray cluster at ray_address; see README, 'Running functions on a "
            "Ray cluster').",
            lambda t: t.strip().lower(),
        ),
        Setting(
            "ray_address",
            None,
            "host:port of the Ray cluster's head (its GCS) when worker_backend is 'ray'.",
        ),
        Setting(
            "ray_actors_per_function",
            0,
            "Ray actors (each with one sandboxed worker) per function (0: one per node alive "
            "when the function first runs).",
            _int,
        ),
        Setting(
            "ray_retries",
            2,
            "Times a batch whose Ray node or actor failed is sent again, each time to an actor "
            "on another node, before the query fails naming the node.",
            _int,
        ),
        Setting(
            "ray_procedures",
            False,
            "Run Python procedures on the Ray cluster too (their SQL still runs in the engine).",
            _bool,
        ),
        Setting(
            "ray_node_cache_dir",
            None,
            "Directory on each Ray node for the environments it builds and the wheels it is sent "
            "[default: $XDG_CACHE_HOME/hoarfrost-ray or ~/.cache/hoarfrost-ray on the node]; one "
            "subdirectory per node address.",
            _opt_path,
        ),
        Setting(
            "ray_node_address",
            None,
            "Address of the Ray node on this machine the engine attaches to as a driver "
            "[default: the one Ray finds].",
        ),
        Setting("http_timeout", 30.0, "Seconds for one request to a repository.", _float),
        Setting("max_page_size", 20 << 20, "Largest index page read from a repository.", _size),
        Setting("max_file_size", 2 << 30, "Largest file downloaded from a repository.", _size),
        Setting("edition", "ENTERPRISE", "Edition of a new account.", lambda t: t.upper()),
        Setting(
            "egress_source_address",
            None,
            "IPv4 or IPv6 address of this machine that every repository connection is bound to.",
            parse_source_address,
        ),
        Setting(
            "egress_ranges",
            None,
            "Published egress ranges, 'cidr[@effective[@expires]],...' (ISO-8601 dates); "
            "default: the source address's /32 or /128. Must contain the source address.",
            parse_egress_ranges,
        ),
        Setting(
            "plan_cache_size",
            512,
            "Statements whose parse and translation each engine keeps, keyed by text and the "
            "session context that changes them (0: translate every statement afresh).",
            _int,
        ),
        Setting(
            "history_flush_interval",
            0.2,
            "Seconds query-history rows may wait in memory before they are written to the "
            "catalog (a crash loses at most this much history).",
            _float,
        ),
        Setting("user", "HOARFROST", "User name of local sessions.", lambda t: t.upper()),
        Setting(
            "pypi_shared_repository_url",
            "https://pypi.org/simple/",
            "Index of the built-in snowflake.snowpark.pypi_shared_repository (a PyPI simple "
            "index, no credentials).",
        ),
        Setting("role", "ACCOUNTADMIN", "Role of new local sessions.", lambda t: t.upper()),
        Setting(
            "server_users",
            None,
            "Users of `hoarfrost serve`, 'user:password,...' (set it in the environment, never "
            "in argv); default: the server_users_file, else a generated password for `user`.",
        ),
        Setting(
            "server_users_file",
            None,
            "File of `hoarfrost serve` users, one 'user:password' a line (keep it 0600).",
            _opt_path,
        ),
        Setting(
            "server_session_ttl",
            3600.0,
            "Seconds a wire-protocol session token is valid before the client must renew it.",
            _float,
        ),
        Setting(
            "server_public_url",
            None,
            "The URL clients reach `hoarfrost serve` at (e.g. https://hoarfrost.example.com "
            "behind a TLS proxy): PUT and GET answers send file transfers there. Default: the "
            "URL each request came to (X-Forwarded-Proto from a proxy on loopback honoured).",
        ),
        Setting(
            "server_max_request_size",
            64 << 20,
            "Largest request body `hoarfrost serve` reads, as sent and after gzip decompression "
            "(login requests: at most 1M).",
            _size,
        ),
        Setting(
            "server_login_max_retries",
            5,
            "Consecutive failed logins after which `hoarfrost serve` locks the user, like "
            "Snowflake's PASSWORD_MAX_RETRIES (0: never lock).",
            _int,
        ),
        Setting(
            "server_login_lockout",
            900.0,
            "Seconds a user stays locked after too many failed logins, like Snowflake's "
            "PASSWORD_LOCKOUT_TIME_MINS (15 minutes).",
            _float,
        ),
    ]
}


class Settings:
    """Resolved settings: explicit values > ``HOARFROST_*`` environment > defaults."""

    def __init__(
        self, overrides: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
    ):
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        overrides = dict(overrides or {})
        unknown = sorted(set(overrides) - set(SETTINGS))
        if unknown:
            raise ConfigurationError(
                f"Unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(SETTINGS))}."
            )
        for name, setting in SETTINGS.items():
            if name in overrides and overrides[name] is not None:
                raw = overrides[name]
                values[name] = setting.parse(raw) if isinstance(raw, str) else raw
            elif setting.env_var in env:
                try:
                    values[name] = setting.parse(env[setting.env_var])
                except ValueError:
                    raise ConfigurationError(
                        f"{setting.env_var} has an invalid value; expected: {setting.help}"
                    ) from None
            else:
                values[name] = setting.default
        check_egress(values)  # source address inside the published ranges (issue 5)
        self._values = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def get(self, name: str) -> Any:
        return self._values[name]

    def with_values(self, **changes: Any) -> Settings:
        merged = {k: v for k, v in self._values.items() if v is not None}
        merged.update(changes)
        return Settings(merged, env={})

    @property
    def cache_path(self) -> Path:
        return self._values["cache_dir"] or default_cache_dir()
