"""SQL surface of package resolution: SYSTEM$RESOLVE_PYTHON_PACKAGES, SHOW PYTHON RUNTIMES and
the audit trail of fetched files, INFORMATION_SCHEMA.PACKAGE_FETCH_HISTORY()."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

import pyarrow as pa

from hoarfrost.engine.resolution import packages_of
from hoarfrost.engine.result import Result, rows_result
from hoarfrost.errors import InvalidValue
from hoarfrost.sql.ast import Show
from hoarfrost.sql.names import parse_name
from hoarfrost.sql.tokens import STRING_TYPES, tokenize

if TYPE_CHECKING:
    from hoarfrost.engine.session import Session

__all__ = ["HANDLERS", "SYSTEM_FUNCTIONS", "VIRTUAL_TABLES", "parse_spec_list"]


def parse_spec_list(text: str) -> list[str]:
    """`('a', 'b>=1')` (or a bare `'a'`) as given in the second argument."""
    specs = [tok.text for tok in tokenize(text) if tok.token_type in STRING_TYPES]
    if not specs and text.strip():
        raise InvalidValue(
            "SYSTEM$RESOLVE_PYTHON_PACKAGES expects the package list as a string holding quoted "
            "specs, e.g. $$('numpy', 'pandas>=2')$$."
        )
    return specs


def resolve_packages(session: Session, args: list[str]) -> str | None:
    if not 2 <= len(args) <= 3:
        raise InvalidValue(
            "SYSTEM$RESOLVE_PYTHON_PACKAGES takes 2 or 3 arguments: "
            "('<runtime>', $$('<spec>', ...)$$[, '<repository>'])."
        )
    repo = parse_name(args[2]) if len(args) == 3 else None
    lock, _ = packages_of(session.engine).resolve(
        session, args[0], parse_spec_list(args[1]), repo, build=False
    )
    return json.dumps(lock.installed_packages())


def show_runtimes(session: Session, node: Show) -> Result:
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


def fetch_history(session: Session) -> pa.Table:
    rows = session.engine.catalog.execute("SELECT * FROM fetch_audit ORDER BY fetched_at DESC")
    if not rows:
        types = [pa.timestamp("us", tz="UTC"), *[pa.string()] * 4, pa.int64(), pa.string()]
        return pa.Table.from_arrays([pa.array([], t) for t in types], names=_FETCH_COLUMNS)
    columns = [pa.array(list(col)) for col in zip(*rows, strict=True)]
    return pa.Table.from_arrays(columns, names=_FETCH_COLUMNS)


SYSTEM_FUNCTIONS: dict[str, Callable[[Session, list[str]], str | None]] = {
    "SYSTEM$RESOLVE_PYTHON_PACKAGES": resolve_packages,
}
VIRTUAL_TABLES: dict[str, Callable[[Session], pa.Table]] = {
    "PACKAGE_FETCH_HISTORY": fetch_history,
}
HANDLERS: dict[tuple[str, str], Callable[..., Result]] = {
    ("Show", "PYTHON RUNTIME"): show_runtimes,
}
