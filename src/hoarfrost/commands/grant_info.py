"""SHOW GRANTS: TO ROLE, TO USER, OF ROLE, ON <object> | ACCOUNT, in the reference's columns."""

from __future__ import annotations

from typing import Any

from hoarfrost.catalog.privileges import (
    active_roles,
    grant_target,
    has_account_privilege,
)
from hoarfrost.catalog.roles import (
    roles_granted_to_role,
)
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.commands.grants import grant_object
from hoarfrost.commands.roles import need_role, role_not_found
from hoarfrost.engine.context import Context, Handler
from hoarfrost.engine.result import Result, rows_result
from hoarfrost.errors import (
    InsufficientPrivileges,
)
from hoarfrost.sql.ast import Name, Show

__all__ = ["HANDLERS"]

# -- SHOW GRANTS -------------------------------------------------------------------------
_ON_COLUMNS = [
    "created_on",
    "privilege",
    "granted_on",
    "name",
    "granted_to",
    "grantee_name",
    "grant_option",
    "granted_by",
]
_OF_COLUMNS = ["created_on", "role", "granted_to", "grantee_name", "granted_by"]


def show_grants(session: Context, node: Show) -> Result:
    kind = node.in_kind or "TO USER"
    name = node.in_name.last if node.in_name is not None else session.user
    if kind == "TO USER":
        return _grants_to_user(session, name)
    if kind == "OF ROLE":
        return _grants_of_role(session, name)
    if kind == "TO ROLE":
        return _grants_to_role(session, name)
    return _grants_on(session, kind.removeprefix("ON "), node.in_name, node.arg_types)


def _visible_role(session: Context, role: str) -> None:
    need_role(session, role)
    if role not in active_roles(session) and not has_account_privilege(session, "MANAGE GRANTS"):
        raise role_not_found(role)


def _grants_to_user(session: Context, user: str) -> Result:
    if user != session.user and not has_account_privilege(session, "MANAGE GRANTS"):
        raise InsufficientPrivileges(
            f"SQL access control error:\nInsufficient privileges to operate on user '{user}'."
        )
    rows = session.catalog.execute(
        "SELECT created_on, role, granted_by FROM role_grants WHERE grantee_kind='USER' AND "
        "grantee=? ORDER BY role",
        [user],
    )
    return rows_result(_OF_COLUMNS, [[c, r, "USER", user, g] for c, r, g in rows])


def _grants_of_role(session: Context, role: str) -> Result:
    _visible_role(session, role)
    rows = session.catalog.execute(
        "SELECT created_on, grantee_kind, grantee, granted_by FROM role_grants WHERE role=? "
        "ORDER BY grantee_kind, grantee",
        [role],
    )
    return rows_result(_OF_COLUMNS, [[c, role, k, g, by] for c, k, g, by in rows])


def _grants_to_role(session: Context, role: str) -> Result:
    _visible_role(session, role)
    catalog = session.catalog
    rows: list[list[Any]] = []
    for obj in _owned_by(session, role):
        rows.append(
            [obj.created_on, "OWNERSHIP", obj.kind, _shown(obj), "ROLE", role, "true", role]
        )
    for created, privilege, kind, target, by, option in catalog.execute(
        "SELECT created_on, privilege, kind, target, granted_by, grant_option FROM grants "
        "WHERE role=? ORDER BY kind, target, privilege",
        [role],
    ):
        rows.append(
            [created, privilege, kind, _target_name(kind, target), "ROLE", role, _flag(option), by]
        )
    for parent in roles_granted_to_role(catalog, role):
        rows.append([None, "USAGE", "ROLE", parent, "ROLE", role, "false", None])
    return rows_result(_ON_COLUMNS, rows)


def _grants_on(
    session: Context, kind: str, name: Name | None, arg_types: list[str] | None
) -> Result:
    if kind == "ACCOUNT":
        found = session.catalog.execute(
            "SELECT created_on, privilege, role, granted_by, grant_option FROM grants "
            "WHERE kind='ACCOUNT' ORDER BY privilege, role"
        )
        return rows_result(
            _ON_COLUMNS,
            [[c, p, "ACCOUNT", "HOARFROST", "ROLE", r, _flag(o), by] for c, p, r, by, o in found],
        )
    assert name is not None
    obj = grant_object(session, kind, name, arg_types)
    rows: list[list[Any]] = [
        [obj.created_on, "OWNERSHIP", obj.kind, _shown(obj), "ROLE", obj.owner, "true", obj.owner]
    ]
    for created, privilege, role, by, option in session.catalog.execute(
        "SELECT created_on, privilege, role, granted_by, grant_option FROM grants "
        "WHERE kind=? AND target=? ORDER BY privilege, role",
        [obj.kind, grant_target(obj)],
    ):
        rows.append([created, privilege, obj.kind, _shown(obj), "ROLE", role, _flag(option), by])
    if obj.kind == "ROLE":
        for grantee_kind, grantee in session.catalog.execute(
            "SELECT grantee_kind, grantee FROM role_grants WHERE role=?", [obj.name]
        ):
            rows.append([None, "USAGE", "ROLE", obj.name, grantee_kind, grantee, "false", None])
    return rows_result(_ON_COLUMNS, rows)


def _owned_by(session: Context, role: str) -> list[CatalogObject]:
    rows = session.catalog.execute(
        "SELECT kind, database, schema, name, signature FROM objects WHERE owner=? "
        "ORDER BY kind, database, schema, name",
        [role],
    )
    found = [session.catalog.get(*r) for r in rows]
    return [o for o in found if o is not None]


def _shown(obj: CatalogObject) -> str:
    return obj.qualified + (obj.signature if obj.kind in ("FUNCTION", "PROCEDURE") else "")


def _target_name(kind: str, target: str) -> str:
    parts = [p for p in target.split(".") if p]
    if kind in ("DATABASE",) and parts:
        return parts[-1]
    return ".".join(parts) if parts else "HOARFROST"


def _flag(value: object) -> str:
    return "true" if value else "false"


HANDLERS: dict[tuple[str, str], Handler] = {("Show", "GRANT"): show_grants}
