"""Roles and grants: CREATE / DROP ROLE, USE ROLE, GRANT and REVOKE (SPEC.md section 9).

The checks themselves live with the catalog (:mod:`hoarfrost.catalog.privileges`).
"""

from __future__ import annotations

from hoarfrost.catalog.lookup import find, not_found
from hoarfrost.catalog.privileges import (
    GRANTABLE,
    SYSTEM_ROLES,
    grant_target,
    require_account_admin,
    role_exists,
)
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.engine.context import Context, Handler
from hoarfrost.engine.result import Result, status_result
from hoarfrost.errors import InvalidValue, ObjectAlreadyExists, UnsupportedFeature
from hoarfrost.sql.ast import Create, Drop, Grant, Use

__all__ = ["HANDLERS"]


def create_role(session: Context, node: Create) -> Result:
    require_account_admin(session, "CREATE ROLE")
    name = node.name.last
    if role_exists(session, name):
        if node.if_not_exists:
            return status_result(f"{name} already exists, statement succeeded.")
        if not node.or_replace or name in SYSTEM_ROLES:
            raise ObjectAlreadyExists(f"SQL compilation error:\nObject '{name}' already exists.")
    session.catalog.put(CatalogObject("ROLE", "", "", name, owner=session.role))
    return status_result(f"Role {name} successfully created.")


def drop_role(session: Context, node: Drop) -> Result:
    require_account_admin(session, "DROP ROLE")
    obj = session.catalog.get("ROLE", "", "", node.name.last)
    if obj is None:
        if node.if_exists:
            return status_result("Drop statement executed successfully.")
        raise not_found(node.name.last)
    with session.catalog.transaction():
        session.catalog.delete(obj)
        session.catalog.execute("DELETE FROM grants WHERE role=?", [obj.name])
    return status_result(f"{obj.name} successfully dropped.")


def use_role(session: Context, node: Use) -> Result:
    role = node.name.last
    if not role_exists(session, role):
        raise not_found(role)
    session.role = role
    return status_result("Statement executed successfully.", "USE")


def grant(session: Context, node: Grant) -> Result:
    require_account_admin(session, "GRANT")
    if node.on_kind == "ROLE":
        return status_result("Statement executed successfully.")
    if not role_exists(session, node.role):
        raise not_found(node.role)
    if node.on_kind == "ACCOUNT":
        kind, target = "ACCOUNT", ""
    else:
        assert node.on_name is not None
        obj = find(session, node.on_kind, node.on_name)
        kind, target = obj.kind, grant_target(obj)
    for privilege in node.privileges:
        priv = privilege.upper().replace(" PRIVILEGES", "")
        if priv not in GRANTABLE:
            raise InvalidValue(
                f"SQL compilation error:\nprivilege {privilege} is not supported; use one of "
                f"{', '.join(sorted(GRANTABLE))}."
            )
        if node.revoke:
            session.catalog.execute(
                "DELETE FROM grants WHERE privilege=? AND kind=? AND target=? AND role=?",
                [priv, kind, target, node.role],
            )
        else:
            session.catalog.execute(
                "INSERT OR IGNORE INTO grants VALUES (?,?,?,?)", [priv, kind, target, node.role]
            )
    return status_result("Statement executed successfully.")


def _routine_grants(node: Grant) -> Result:
    raise UnsupportedFeature(
        f"Privileges on a {node.on_kind.lower()} are not modelled by hoarfrost: every role may "
        "call functions and procedures, and USAGE on their artifact repository is checked when "
        "they run. Grant USAGE ON ARTIFACT REPOSITORY instead."
    )


HANDLERS: dict[tuple[str, str], Handler] = {
    ("Create", "ROLE"): create_role,
    ("Drop", "ROLE"): drop_role,
    ("Use", "ROLE"): use_role,
    ("Grant", "ACCOUNT"): grant,
    ("Grant", "INTEGRATION"): grant,
    ("Grant", "ARTIFACT REPOSITORY"): grant,
    ("Grant", "SECRET"): grant,
    ("Grant", "PACKAGES POLICY"): grant,
    ("Grant", "FUNCTION"): lambda session, node: _routine_grants(node),
    ("Grant", "PROCEDURE"): lambda session, node: _routine_grants(node),
    ("Grant", "ROLE"): grant,
}
