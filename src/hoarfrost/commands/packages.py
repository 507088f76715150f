"""SQL surface of package resolution: SYSTEM$RESOLVE_PYTHON_PACKAGES, SHOW PYTHON RUNTIMES and
the audit trail of fetched files, INFORMATION_SCHEMA.PACKAGE_FETCH_HISTORY()."""

from __future__ import annotations

import json

import pyarrow as pa
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)

from hoarfrost.catalog.privileges import has_privilege
from hoarfrost.engine.context import Context, Handler, SystemFunction, VirtualTable
from hoarfrost.engine.resolution import packages_of
from hoarfrost.engine.result import Result, rows_result
from hoarfrost.errors import InvalidValue
from hoarfrost.sql.arguments import name_argument, parse_spec_list
from hoarfrost.sql.ast import Show

__all__ = ["HANDLERS", "SYSTEM_FUNCTIONS", "VIRTUAL_TABLES"]


def resolve_packages(session: Context, args: list[str]) -> str | None:
    if not 2 <= len(args) <= 3:
        raise InvalidValue(
            "SYSTEM$RESOLVE_PYTHON_PACKAGES takes 2 or 3 arguments: "
            "('<runtime>', $$('<spec>', ...)$$[, '<repository>'])."
        )
    repo = name_argument(args[2]) if len(args) == 3 else None
    lock, _ = packages_of(session.engine).resolve(
        session, args[0], parse_spec_list(args[1]), repo, build=False
    )
    return json.dumps(lock.installed_packages())


def show_runtimes(session: Context, node: Show) -> Result:
    runtimes = packages_of(session.engine).runtimes()
    rows = [(v, r.full_version, str(r.executable), r.source) for v, r in sorted(runtimes.items())]
    return rows_result(["runtime_version", "python_version", "executable", "found_by"], rows)


_FETCH_COLUMNS = [
    "FETCHED_AT",
    "REPOSITORY",
    "URL",
    "FILENAME",
    "SHA256",
    "SIZE",
    "POLICY_DECISION",
]


def _can_see(session: Context, repository: str, seen: dict[str, bool]) -> bool:
    """Fetches are shown to roles with USAGE on their repository (``DB.SCHEMA.NAME``)."""
    if repository not in seen:
        parts = repository.split(".")
        obj = session.catalog.get("ARTIFACT REPOSITORY", *parts) if len(parts) == 3 else None
        seen[repository] = obj is not None and has_privilege(session, "USAGE", obj)
    return seen[repository]


def fetch_history(session: Context) -> pa.Table:
    seen: dict[str, bool] = {}
    rows = [
        r
        for r in session.catalog.execute("SELECT * FROM fetch_audit ORDER BY fetched_at DESC")
        if _can_see(session, r[1], seen)
    ]
    if not rows:
        types = [pa.timestamp("us", tz="UTC"), *[pa.string()] * 4, pa.int64(), pa.string()]
        return pa.Table.from_arrays([pa.array([], t) for t in types], names=_FETCH_COLUMNS)
    columns = [pa.array(list(col)) for col in zip(*rows, strict=True)]
    return pa.Table.from_arrays(columns, names=_FETCH_COLUMNS)


def _name_version(filename: str) -> tuple[str, str] | None:
    try:
        if filename.endswith(".whl"):
            name, version, *_ = parse_wheel_filename(filename)
        else:
            name, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return str(name), str(version)


def packages_view(session: Context) -> pa.Table:
    """INFORMATION_SCHEMA.PACKAGES: the package versions this account has fetched from the
    repositories the role may use (the reference lists its Anaconda channel; a customer index
    cannot be listed whole at a reasonable cost, so the view shows what is known to work)."""
    seen: dict[str, bool] = {}
    found: set[tuple[str, str]] = set()
    for repository, filename in session.catalog.execute(
        "SELECT DISTINCT repository, filename FROM fetch_audit WHERE policy_decision <> 'BLOCKED'"
    ):
        pair = _name_version(filename) if _can_see(session, repository, seen) else None
        if pair is not None:
            found.add(pair)
    rows = sorted(found)
    return pa.Table.from_arrays(
        [
            pa.array([n for n, _ in rows], pa.string()),
            pa.array([v for _, v in rows], pa.string()),
            pa.array(["python"] * len(rows), pa.string()),
        ],
        names=["PACKAGE_NAME", "VERSION", "LANGUAGE"],
    )


SYSTEM_FUNCTIONS: dict[str, SystemFunction] = {
    "SYSTEM$RESOLVE_PYTHON_PACKAGES": resolve_packages,
}
VIRTUAL_TABLES: dict[str, VirtualTable] = {
    "PACKAGE_FETCH_HISTORY": fetch_history,
    "PACKAGES": packages_view,
}
HANDLERS: dict[tuple[str, str], Handler] = {
    ("Show", "PYTHON RUNTIME"): show_runtimes,
}
