"""Finding stored objects by name, with Snowflake's not-found error, and the name helpers every
object kind shares."""

from __future__ import annotations

from hoarfrost.catalog.scope import Scope
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.errors import ObjectNotFound
from hoarfrost.sql.ast import Name, quote_ident

__all__ = [
    "ACCOUNT_LEVEL",
    "display_name",
    "find",
    "find_for_alter",
    "find_optional",
    "like_to_glob",
    "not_found",
    "object_key",
    "title",
]

ACCOUNT_LEVEL = {"INTEGRATION", "DATABASE", "ROLE", "USER"}


def title(kind: str) -> str:
    return kind.capitalize()


def not_found(name: str) -> ObjectNotFound:
    return ObjectNotFound(
        f"SQL compilation error:\nObject '{name}' does not exist or not authorized."
    )


def object_key(scope: Scope, kind: str, name: Name) -> tuple[str, str, str]:
    if kind in ACCOUNT_LEVEL:
        if len(name.parts) != 1:
            raise not_found(str(name))
        return "", "", name.last
    return scope.qualify(name)


def find(scope: Scope, kind: str, name: Name) -> CatalogObject:
    db, schema, obj_name = object_key(scope, kind, name)
    obj = scope.catalog.get(kind, db, schema, obj_name)
    if obj is None:
        raise not_found(display_name(db, schema, obj_name))
    return obj


def find_optional(scope: Scope, kind: str, name: Name) -> CatalogObject | None:
    db, schema, obj_name = object_key(scope, kind, name)
    return scope.catalog.get(kind, db, schema, obj_name)


def find_for_alter(scope: Scope, kind: str, name: Name, if_exists: bool) -> CatalogObject | None:
    """The object an ALTER names; None (nothing to do) only with IF EXISTS."""
    return find_optional(scope, kind, name) if if_exists else find(scope, kind, name)


def display_name(db: str, schema: str, name: str) -> str:
    return ".".join(quote_ident(p) for p in (db, schema, name) if p)


def like_to_glob(like: str) -> str:
    """A SHOW ... LIKE pattern as an fnmatch pattern (``%`` and ``_``; the rest literal)."""
    out = []
    for ch in like:
        out.append({"%": "*", "_": "?", "*": "[*]", "?": "[?]", "[": "[[]"}.get(ch, ch))
    return "".join(out)
