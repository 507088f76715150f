"""What every catalog object kind shares: create with OR REPLACE / IF NOT EXISTS, lookup with
Snowflake's not-found error, drop, and SHOW with LIKE and IN filtering."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from hoarfrost.catalog.store import CatalogObject
from hoarfrost.engine.result import Result, rows_result, status_result
from hoarfrost.errors import ObjectAlreadyExists, ObjectNotFound
from hoarfrost.sql.ast import Name, Show, quote_ident

if TYPE_CHECKING:
    from hoarfrost.engine.session import Session

__all__ = [
    "ACCOUNT_LEVEL",
    "drop_object",
    "find",
    "not_found",
    "object_key",
    "show_objects",
    "store_new",
    "title",
]

ACCOUNT_LEVEL = {"INTEGRATION", "DATABASE", "ROLE"}


def title(kind: str) -> str:
    return kind.capitalize()


def not_found(name: str) -> ObjectNotFound:
    return ObjectNotFound(
        f"SQL compilation error:\nObject '{name}' does not exist or not authorized."
    )


def object_key(session: Session, kind: str, name: Name) -> tuple[str, str, str]:
    if kind in ACCOUNT_LEVEL:
        if len(name.parts) != 1:
            raise not_found(str(name))
        return "", "", name.last
    return session.qualify(name)


def schema_exists(session: Session, database: str, schema: str) -> bool:
    rows = session.run_internal(
        "SELECT 1 FROM information_schema.schemata WHERE catalog_name = ? AND schema_name = ?",
        [database, schema],
    ).fetchall()
    return bool(rows)


def find(session: Session, kind: str, name: Name) -> CatalogObject:
    db, schema, obj_name = object_key(session, kind, name)
    obj = session.engine.catalog.get(kind, db, schema, obj_name)
    if obj is None:
        raise not_found(_display(db, schema, obj_name))
    return obj


def find_optional(session: Session, kind: str, name: Name) -> CatalogObject | None:
    db, schema, obj_name = object_key(session, kind, name)
    return session.engine.catalog.get(kind, db, schema, obj_name)


def find_for_alter(
    session: Session, kind: str, name: Name, if_exists: bool
) -> CatalogObject | None:
    """The object an ALTER names; None (nothing to do) only with IF EXISTS."""
    return find_optional(session, kind, name) if if_exists else find(session, kind, name)


def _display(db: str, schema: str, name: str) -> str:
    return ".".join(quote_ident(p) for p in (db, schema, name) if p)


def store_new(
    session: Session, obj: CatalogObject, *, or_replace: bool, if_not_exists: bool
) -> Result:
    catalog = session.engine.catalog
    if obj.kind not in ACCOUNT_LEVEL and not schema_exists(session, obj.database, obj.schema):
        raise not_found(_display(obj.database, obj.schema, ""))
    with catalog.transaction():
        existing = catalog.get(*obj.key)
        if existing is not None and if_not_exists:
            return status_result(f"{obj.name} already exists, statement succeeded.", "DDL")
        if existing is not None and not or_replace:
            raise ObjectAlreadyExists(
                f"SQL compilation error:\nObject '{obj.name}' already exists."
            )
        catalog.put(obj)
    return status_result(f"{title(obj.kind)} {obj.name} successfully created.")


def drop_object(
    session: Session,
    kind: str,
    name: Name,
    if_exists: bool,
    before: Callable[[CatalogObject], None] | None = None,
) -> Result:
    db, schema, obj_name = object_key(session, kind, name)
    obj = session.engine.catalog.get(kind, db, schema, obj_name)
    if obj is None:
        if if_exists:
            return status_result(
                f"Drop statement executed successfully ({obj_name} already dropped)."
            )
        raise not_found(_display(db, schema, obj_name))
    if before is not None:
        before(obj)
    session.engine.catalog.delete(obj)
    return status_result(f"{obj_name} successfully dropped.")


def show_objects(
    session: Session,
    node: Show,
    columns: Sequence[str],
    row: Callable[[CatalogObject], Sequence[Any]],
) -> Result:
    objects = _in_scope(session, node)
    if node.like is not None:
        pattern = _like_to_glob(node.like)
        objects = [o for o in objects if fnmatch.fnmatchcase(o.name.upper(), pattern.upper())]
    return rows_result(columns, [row(o) for o in objects])


def _in_scope(session: Session, node: Show) -> list[CatalogObject]:
    catalog = session.engine.catalog
    if node.kind in ACCOUNT_LEVEL or node.in_kind == "ACCOUNT":
        return catalog.list(node.kind)
    if node.in_kind == "DATABASE":
        db = node.in_name.last if node.in_name else session._need_database()
        return catalog.list(node.kind, db)
    if node.in_kind in ("SCHEMA", "SCHEMA_OR_DATABASE") and node.in_name is not None:
        parts = node.in_name.parts
        if len(parts) == 1 and node.in_kind == "SCHEMA_OR_DATABASE":
            return catalog.list(node.kind, parts[0])
        db = parts[0] if len(parts) == 2 else session._need_database()
        return catalog.list(node.kind, db, parts[-1])
    if session.database and session.schema:
        return catalog.list(node.kind, session.database, session.schema)
    if session.database:
        return catalog.list(node.kind, session.database)
    return catalog.list(node.kind)


def _like_to_glob(like: str) -> str:
    out = []
    for ch in like:
        out.append({"%": "*", "_": "?", "*": "[*]", "?": "[?]", "[": "[[]"}.get(ch, ch))
    return "".join(out)
