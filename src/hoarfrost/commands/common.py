"""What every object kind's statements share: create with OR REPLACE / IF NOT EXISTS, drop, and
SHOW with LIKE and IN filtering."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from typing import Any

from hoarfrost.catalog.lookup import (
    ACCOUNT_LEVEL,
    display_name,
    like_to_glob,
    not_found,
    object_key,
    title,
)
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.engine.context import Context
from hoarfrost.engine.result import Result, rows_result, status_result
from hoarfrost.errors import ObjectAlreadyExists
from hoarfrost.sql.ast import Name, Show

__all__ = ["drop_object", "schema_exists", "show_objects", "store_new"]


def schema_exists(session: Context, database: str, schema: str) -> bool:
    rows = session.run_internal(
        "SELECT 1 FROM information_schema.schemata WHERE catalog_name = ? AND schema_name = ?",
        [database, schema],
    ).fetchall()
    return bool(rows)


def store_new(
    session: Context, obj: CatalogObject, *, or_replace: bool, if_not_exists: bool
) -> Result:
    catalog = session.catalog
    if obj.kind not in ACCOUNT_LEVEL and not schema_exists(session, obj.database, obj.schema):
        raise not_found(display_name(obj.database, obj.schema, ""))
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
    session: Context,
    kind: str,
    name: Name,
    if_exists: bool,
    before: Callable[[CatalogObject], None] | None = None,
) -> Result:
    db, schema, obj_name = object_key(session, kind, name)
    obj = session.catalog.get(kind, db, schema, obj_name)
    if obj is None:
        if if_exists:
            return status_result(
                f"Drop statement executed successfully ({obj_name} already dropped)."
            )
        raise not_found(display_name(db, schema, obj_name))
    if before is not None:
        before(obj)
    session.catalog.delete(obj)
    return status_result(f"{obj_name} successfully dropped.")


def show_objects(
    session: Context,
    node: Show,
    columns: Sequence[str],
    row: Callable[[CatalogObject], Sequence[Any]],
) -> Result:
    objects = _in_scope(session, node)
    if node.like is not None:
        pattern = like_to_glob(node.like)
        objects = [o for o in objects if fnmatch.fnmatchcase(o.name.upper(), pattern.upper())]
    return rows_result(columns, [row(o) for o in objects])


def _in_scope(session: Context, node: Show) -> list[CatalogObject]:
    catalog = session.catalog
    if node.kind in ACCOUNT_LEVEL or node.in_kind == "ACCOUNT":
        return catalog.list(node.kind)
    if node.in_kind == "DATABASE":
        db = node.in_name.last if node.in_name else session.need_database()
        return catalog.list(node.kind, db)
    if node.in_kind in ("SCHEMA", "SCHEMA_OR_DATABASE") and node.in_name is not None:
        parts = node.in_name.parts
        if len(parts) == 1 and node.in_kind == "SCHEMA_OR_DATABASE":
            return catalog.list(node.kind, parts[0])
        db = parts[0] if len(parts) == 2 else session.need_database()
        return catalog.list(node.kind, db, parts[-1])
    if session.database and session.schema:
        return catalog.list(node.kind, session.database, session.schema)
    if session.database:
        return catalog.list(node.kind, session.database)
    return catalog.list(node.kind)
