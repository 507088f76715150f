"""Account, database and schema parameters that the catalog keeps: which exist, at which levels,
and the DEFAULT_PYTHON_ARTIFACT_REPOSITORY lookup (SPEC.md section 4, "Default repository").

Precedence of the default repository: the function's own clause > schema > database > account.
"""

from __future__ import annotations

from dataclasses import dataclass

from hoarfrost.catalog.store import CatalogStore

__all__ = ["DEFAULT_REPO", "PARAMS", "Param", "effective_default_repository"]

DEFAULT_REPO = "DEFAULT_PYTHON_ARTIFACT_REPOSITORY"


@dataclass(frozen=True)
class Param:
    name: str
    levels: frozenset[str]
    description: str
    type: str = "STRING"
    default: str = ""


PARAMS = {
    DEFAULT_REPO: Param(
        DEFAULT_REPO,
        frozenset({"ACCOUNT", "DATABASE", "SCHEMA"}),
        "Artifact repository used by new Python functions and procedures that list packages "
        "but name no ARTIFACT_REPOSITORY.",
    ),
}


def effective_default_repository(
    catalog: CatalogStore, database: str | None, schema: str | None, level: str = "SCHEMA"
) -> tuple[str | None, str]:
    """(value, level it came from) with schema > database > account precedence."""
    chain: list[tuple[str, str]] = []
    if level == "SCHEMA" and database and schema:
        chain.append(("SCHEMA", f"{database}.{schema}"))
    if level in ("SCHEMA", "DATABASE") and database:
        chain.append(("DATABASE", database))
    chain.append(("ACCOUNT", ""))
    for scope, target in chain:
        value = catalog.get_param(scope, target, DEFAULT_REPO)
        if value:
            return value, scope
    return None, ""
