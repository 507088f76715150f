"""Privileges on databases, schemas, tables and views for ordinary statements.

Before DuckDB runs a statement, each of its accesses (:mod:`hoarfrost.sql.access`) is checked as
the reference checks it: USAGE on the database and the schema, then SELECT / INSERT / UPDATE /
DELETE / TRUNCATE on the object, CREATE TABLE | VIEW on the schema for a new object, OWNERSHIP to
drop, alter, rename or replace one. An object the role may not touch is reported as not existing.
After the statement succeeded, the catalog learns what it created, dropped or renamed
(:func:`authorize` returns that step).
"""

from __future__ import annotations

from collections.abc import Callable

from hoarfrost.catalog.lookup import display_name, find, not_found
from hoarfrost.catalog.privileges import has_privilege
from hoarfrost.catalog.relations import database, forget, record, relation, rename, schema
from hoarfrost.catalog.scope import TempKey
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.engine.context import Context
from hoarfrost.errors import InsufficientPrivileges, InvalidValue
from hoarfrost.sql.access import Access
from hoarfrost.sql.ast import Name

__all__ = ["authorize"]

Step = Callable[[], None]


def _resolve(session: Context, parts: tuple[str, ...]) -> tuple[str, str, str] | None:
    """(database, schema, name), or None when the session cannot say (DuckDB will)."""
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    if len(parts) == 2:
        return (session.database, parts[0], parts[1]) if session.database else None
    if session.database and session.schema:
        return session.database, session.schema, parts[0]
    return None


def _temp_key(kind: str, key: tuple[str, str, str]) -> TempKey:
    return (kind, *key, "")


def _is_temporary(session: Context, key: tuple[str, str, str]) -> bool:
    return any(_temp_key(k, key) in session.temp_objects for k in ("TABLE", "VIEW"))


def _need_usage(session: Context, db: str, schema_name: str) -> None:
    db_obj = database(session.catalog, db)
    if db_obj is None:
        return  # not a database of the account (DuckDB's own): DuckDB answers
    if not has_privilege(session, "USAGE", db_obj):
        raise not_found(display_name(db, "", ""))
    if not has_privilege(session, "USAGE", schema(session.catalog, db, schema_name)):
        raise not_found(display_name(db, schema_name, ""))


def _existing(session: Context, key: tuple[str, str, str], kind: str) -> CatalogObject:
    """The object's record, or (made before records were kept) one owned by its schema's owner."""
    found = relation(session.catalog, *key)
    if found is not None:
        return found
    owner = schema(session.catalog, key[0], key[1]).owner
    return CatalogObject(kind, *key, owner=owner)


def authorize(session: Context, accesses: tuple[Access, ...]) -> Step:
    """Check every access; the returned step records what the statement created or dropped."""
    steps: list[Step] = []
    for access in accesses:
        if access.parts and access.parts[-1].startswith("__HF_"):
            continue  # the engine's own relations (virtual tables)
        key = _resolve(session, access.parts)
        if key is None and access.privilege == "CREATE":
            # The reference refuses to create an object nowhere (090105 / 090106).
            session.need_database()
            session.need_schema()
        if key is None or _is_temporary(session, key):
            if access.privilege == "OWNERSHIP" and key is not None and access.action == "DROP":
                steps.append(_drop_temp(session, key))
            continue
        _need_usage(session, key[0], key[1])
        if access.privilege == "CREATE":
            steps.append(_create(session, access, key))
            continue
        obj = _existing(session, key, access.kind)
        if not has_privilege(session, access.privilege, obj):
            if access.privilege == "OWNERSHIP" or has_privilege(session, "SELECT", obj):
                raise InsufficientPrivileges(
                    "SQL access control error:\nInsufficient privileges to operate on "
                    f"{obj.kind.lower()} '{obj.name}'."
                )
            raise not_found(display_name(*key))
        if relation(session.catalog, *key) is None:
            continue  # nothing recorded to update (an object made before records were kept)
        if access.action == "DROP":
            steps.append(_forget(session, obj))
        elif access.action == "RENAME":
            new_key = _resolve(session, access.new_parts) or key
            moved = obj.evolve(database=new_key[0], schema=new_key[1], name=new_key[2])
            steps.append(_rename(session, obj, moved))

    def after() -> None:
        for step in steps:
            step()

    return after


def _create(session: Context, access: Access, key: tuple[str, str, str]) -> Step:
    details = dict(access.details)
    if access.temporary:
        # A qualified name is created as an ordinary table the session drops when it ends.
        props: dict[str, object] = {**details, "drop_at_close": len(access.parts) > 1}
        obj = CatalogObject(access.kind, *key, owner=session.role, props=props)
        return lambda: session.temp_objects.__setitem__(_temp_key(access.kind, key), obj)
    container = schema(session.catalog, key[0], key[1])
    if not has_privilege(session, f"CREATE {access.kind}", container):
        raise InsufficientPrivileges(
            "SQL access control error:\nInsufficient privileges to operate on schema "
            f"'{key[1]}'. The role {session.role} needs CREATE {access.kind} on it."
        )
    if access.kind not in ("TABLE", "VIEW"):
        return lambda: session.catalog.put(CatalogObject(access.kind, *key, owner=session.role))
    existing = relation(session.catalog, *key)
    if (
        existing is not None
        and access.replace
        and not has_privilege(session, "OWNERSHIP", existing)
    ):
        raise InsufficientPrivileges(
            "SQL access control error:\nInsufficient privileges to operate on "
            f"{existing.kind.lower()} '{existing.name}'."
        )
    if existing is not None and not access.replace:
        return lambda: None  # IF NOT EXISTS on an existing object, or DuckDB refuses it
    tags = [(_tag(session, k[4:], v), v) for k, v in details.items() if k.startswith("TAG:")]
    props = {k: v for k, v in details.items() if not k.startswith("TAG:")}
    obj = CatalogObject(access.kind, *key, owner=session.role, props=props)

    def step() -> None:
        record(session.catalog, obj)
        for tag, value in tags:  # WITH TAG (t = 'v'): the new object carries the values
            session.catalog.set_param(
                "TAG", f"{access.kind}:{'.'.join(key)}", tag.qualified.replace('"', ""), value
            )

    return step


def _tag(session: Context, name: str, value: str) -> CatalogObject:
    tag = find(session, "TAG", Name((name.upper(),)))
    allowed = tag.props.get("allowed_values")
    if allowed is not None and value not in allowed:
        raise InvalidValue(
            f"SQL compilation error:\nTag {tag.name} cannot be set to '{value}': its "
            f"ALLOWED_VALUES are {', '.join(repr(v) for v in allowed)}."
        )
    return tag


def _forget(session: Context, obj: CatalogObject) -> Step:
    return lambda: forget(session.catalog, obj)


def _rename(session: Context, obj: CatalogObject, moved: CatalogObject) -> Step:
    return lambda: rename(session.catalog, obj, moved)


def _drop_temp(session: Context, key: tuple[str, str, str]) -> Step:
    def step() -> None:
        for kind in ("TABLE", "VIEW"):
            session.temp_objects.pop(_temp_key(kind, key), None)

    return step
