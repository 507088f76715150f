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
from hoarfrost.catalog.privileges import (
    grant_target,
    has_any_privilege,
    has_privilege,
    require_ownership,
)
from hoarfrost.catalog.relations import apply_future_grants, forget
from hoarfrost.catalog.relations import database as database_record
from hoarfrost.catalog.relations import schema as schema_record
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.engine.context import Context
from hoarfrost.engine.result import Result, rows_result, status_result
from hoarfrost.errors import InsufficientPrivileges, ObjectAlreadyExists
from hoarfrost.sql.ast import Name, Show

__all__ = ["drop_object", "require_create", "schema_exists", "show_objects", "store_new"]


def schema_exists(session: Context, database: str, schema: str) -> bool:
    rows = session.run_internal(
        "SELECT 1 FROM information_schema.schemata WHERE catalog_name = ? AND schema_name = ?",
        [database, schema],
    ).fetchall()
    return bool(rows)


def require_create(session: Context, kind: str, database: str, schema_name: str) -> None:
    """USAGE on the database and schema, and CREATE <kind> on the schema (the reference)."""
    db_obj = database_record(session.catalog, database)
    container = schema_record(session.catalog, database, schema_name)
    if db_obj is None or not has_privilege(session, "USAGE", db_obj):
        raise not_found(display_name(database, "", ""))
    if not has_privilege(session, "USAGE", container):
        raise not_found(display_name(database, schema_name, ""))
    if not has_privilege(session, f"CREATE {kind}", container):
        raise InsufficientPrivileges(
            "SQL access control error:\nInsufficient privileges to operate on schema "
            f"'{schema_name}'. The role {session.role} needs CREATE {kind} on it."
        )


def store_new(
    session: Context, obj: CatalogObject, *, or_replace: bool, if_not_exists: bool
) -> Result:
    catalog = session.catalog
    if obj.kind not in ACCOUNT_LEVEL:
        if not schema_exists(session, obj.database, obj.schema):
            raise not_found(display_name(obj.database, obj.schema, ""))
        require_create(session, obj.kind, obj.database, obj.schema)
    with catalog.transaction():
        existing = catalog.get(*obj.key)
        if existing is not None and if_not_exists:
            return status_result(f"{obj.name} already exists, statement succeeded.", "DDL")
        if existing is not None and not or_replace:
            raise ObjectAlreadyExists(
                f"SQL compilation error:\nObject '{obj.name}' already exists."
            )
        if existing is not None:
            require_ownership(session, existing)
            catalog.execute(  # a replaced object's grants go with it (no COPY GRANTS)
                "DELETE FROM grants WHERE kind=? AND target=?", [obj.kind, grant_target(obj)]
            )
        catalog.put(obj)
        apply_future_grants(catalog, obj)
        catalog.access_changed()
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
    forget(session.catalog, obj)  # its grants go with it
    return status_result(f"{obj_name} successfully dropped.")


def show_objects(
    session: Context,
    node: Show,
    columns: Sequence[str],
    row: Callable[[CatalogObject], Sequence[Any]],
) -> Result:
    # SHOW lists what an active role holds a privilege on (temporary objects are the session's).
    objects = [
        o
        for o in _in_scope(session, node)
        if o.key in session.temp_objects or has_any_privilege(session, o)
    ]
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
