"""Who owns the account's databases, schemas, tables and views, and their lifecycle in the catalog.

Data lives in DuckDB; ownership and grants live here. Each table or view made through a
statement is recorded as a catalog object of kind TABLE or VIEW (owner: the creating role); a
schema as kind SCHEMA (database, '', name). Objects of an account made before they were recorded
(and schemas DuckDB made, such as PUBLIC) belong to the owner of their database.

New objects receive the FUTURE grants of their schema and database (``GRANT ... ON FUTURE TABLES
IN SCHEMA``), as the reference copies them at creation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from hoarfrost.catalog.privileges import grant_target
from hoarfrost.catalog.store import CatalogObject, CatalogStore

__all__ = [
    "PUBLIC_SCRATCH",
    "apply_future_grants",
    "database",
    "forget",
    "open_to_public",
    "record",
    "relation",
    "rename",
    "schema",
]

# What PUBLIC may do in the account's default database and its PUBLIC schema: a shared scratch
# area where every role may create objects; each object stays private to the role that made it.
PUBLIC_SCRATCH = {
    "DATABASE": ("USAGE",),
    "SCHEMA": (
        "USAGE",
        "CREATE TABLE",
        "CREATE VIEW",
        "CREATE FUNCTION",
        "CREATE PROCEDURE",
        "CREATE SECRET",
        "CREATE STAGE",
        "CREATE FILE FORMAT",
        "CREATE SEQUENCE",
    ),
}


def _memo(
    store: CatalogStore, key: tuple[str, ...], find: Callable[[], CatalogObject | None]
) -> CatalogObject | None:
    memo = store.access_memo
    if key not in memo:
        memo[key] = find()
    found: CatalogObject | None = memo[key]
    return found


def database(store: CatalogStore, name: str) -> CatalogObject | None:
    return _memo(store, ("DATABASE", name), lambda: store.get("DATABASE", name, "", name))


def schema(store: CatalogStore, db: str, name: str) -> CatalogObject:
    """The schema's record, or one owned by its database's owner when none was made."""

    def find() -> CatalogObject:
        found = store.get("SCHEMA", db, "", name)
        if found is not None:
            return found
        owner = database(store, db)
        return CatalogObject("SCHEMA", db, "", name, owner=owner.owner if owner else "ACCOUNTADMIN")

    obj = _memo(store, ("SCHEMA", db, name), find)
    assert obj is not None
    return obj


def relation(store: CatalogStore, db: str, schema_name: str, name: str) -> CatalogObject | None:
    """The table or view recorded under this name, if any."""

    def find() -> CatalogObject | None:
        return store.get("TABLE", db, schema_name, name) or store.get("VIEW", db, schema_name, name)

    return _memo(store, ("RELATION", db, schema_name, name), find)


def record(store: CatalogStore, obj: CatalogObject) -> None:
    """Keep a new object's ownership (replacing whatever had its name) and its FUTURE grants."""
    with store.transaction():
        for kind in ("TABLE", "VIEW"):
            old = store.get(kind, obj.database, obj.schema, obj.name)
            if old is not None:
                forget(store, old)
        store.put(obj)
        apply_future_grants(store, obj)
        store.access_changed()


def forget(store: CatalogStore, obj: CatalogObject) -> None:
    store.delete(obj)
    store.execute("DELETE FROM grants WHERE kind=? AND target=?", [obj.kind, grant_target(obj)])
    store.access_changed()


def rename(store: CatalogStore, obj: CatalogObject, new: CatalogObject) -> None:
    with store.transaction():
        store.delete(obj)
        store.put(new)
        store.execute(
            "UPDATE grants SET target=? WHERE kind=? AND target=?",
            [grant_target(new), obj.kind, grant_target(obj)],
        )
        store.access_changed()


def apply_future_grants(store: CatalogStore, obj: CatalogObject) -> None:
    plural_kind = obj.kind
    rows = store.execute(
        "SELECT privilege, role FROM future_grants WHERE kind=? AND ("
        "(container_kind='SCHEMA' AND container=?) OR (container_kind='DATABASE' AND container=?))",
        [plural_kind, f"{obj.database}.{obj.schema}", obj.database],
    )
    now = dt.datetime.now(dt.timezone.utc)
    for privilege, role in rows:
        store.execute(
            "INSERT OR IGNORE INTO grants (privilege, kind, target, role, granted_by, created_on) "
            "VALUES (?,?,?,?,?,?)",
            [privilege, obj.kind, grant_target(obj), role, obj.owner, now],
        )


def open_to_public(store: CatalogStore, db: str, schema_name: str) -> None:
    """Grant PUBLIC the scratch privileges on one database and schema (see PUBLIC_SCRATCH)."""
    now = dt.datetime.now(dt.timezone.utc)
    db_obj = CatalogObject("DATABASE", db, "", db)
    schema_obj = CatalogObject("SCHEMA", db, "", schema_name)
    for obj in (db_obj, schema_obj):
        for privilege in PUBLIC_SCRATCH[obj.kind]:
            store.execute(
                "INSERT OR IGNORE INTO grants (privilege, kind, target, role, granted_by, "
                "created_on) VALUES (?,?,?,?,?,?)",
                [privilege, obj.kind, grant_target(obj), "PUBLIC", "ACCOUNTADMIN", now],
            )
    store.access_changed()
