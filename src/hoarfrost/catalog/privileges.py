"""The reference privilege model, reduced to what SPEC.md section 9 asks (roles, OWNERSHIP, USAGE,
CREATE INTEGRATION, APPLY PACKAGES POLICY).

ACCOUNTADMIN holds every privilege. Other roles hold what they own and what was granted to them
or to PUBLIC. A repository the role cannot use is reported as not found, not as forbidden.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from hoarfrost.catalog.objects import find, not_found
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.engine.result import Result, status_result
from hoarfrost.errors import (
    InsufficientPrivileges,
    InvalidValue,
    ObjectAlreadyExists,
    UnsupportedFeature,
)
from hoarfrost.sql.ast import Create, Drop, Grant, Use

if TYPE_CHECKING:
    from hoarfrost.engine.session import Session

__all__ = [
    "HANDLERS",
    "has_privilege",
    "require_account_admin",
    "require_ownership",
    "require_usage",
]

SYSTEM_ROLES = ("ACCOUNTADMIN", "SECURITYADMIN", "SYSADMIN", "USERADMIN", "PUBLIC")
_GRANTABLE = {"USAGE", "OWNERSHIP", "READ", "ALL", "APPLY PACKAGES POLICY", "CREATE INTEGRATION"}


def _target(obj: CatalogObject) -> str:
    return f"{obj.database}.{obj.schema}.{obj.name}"


def has_privilege(session: Session, privilege: str, obj: CatalogObject) -> bool:
    if session.role == "ACCOUNTADMIN" or obj.owner == session.role:
        return True
    rows = session.engine.catalog.execute(
        "SELECT 1 FROM grants WHERE kind=? AND target=? AND role IN (?, 'PUBLIC') "
        "AND privilege IN (?, 'OWNERSHIP', 'ALL')",
        [obj.kind, _target(obj), session.role, privilege],
    )
    return bool(rows)


def require_usage(session: Session, obj: CatalogObject) -> None:
    if not has_privilege(session, "USAGE", obj):
        # SPEC.md section 9: what the role cannot use does not exist for it.
        raise not_found(obj.qualified)


def require_ownership(session: Session, obj: CatalogObject) -> None:
    if not has_privilege(session, "OWNERSHIP", obj):
        raise InsufficientPrivileges(
            f"SQL access control error:\nInsufficient privileges to operate on "
            f"{obj.kind.lower()} '{obj.name}'. The role {session.role} needs OWNERSHIP."
        )


def require_account_admin(session: Session, what: str) -> None:
    if session.role != "ACCOUNTADMIN" and not _account_grant(session, what):
        raise InsufficientPrivileges(
            f"SQL access control error:\nInsufficient privileges to operate on account: "
            f"{what} needs the ACCOUNTADMIN role or a grant of {what} ON ACCOUNT "
            f"(current role {session.role})."
        )


def _account_grant(session: Session, privilege: str) -> bool:
    rows = session.engine.catalog.execute(
        "SELECT 1 FROM grants WHERE kind='ACCOUNT' AND target='' AND role IN (?, 'PUBLIC') "
        "AND privilege=?",
        [session.role, privilege],
    )
    return bool(rows)


def role_exists(session: Session, role: str) -> bool:
    return role in SYSTEM_ROLES or session.engine.catalog.get("ROLE", "", "", role) is not None


def create_role(session: Session, node: Create) -> Result:
    require_account_admin(session, "CREATE ROLE")
    name = node.name.last
    if role_exists(session, name):
        if node.if_not_exists:
            return status_result(f"{name} already exists, statement succeeded.")
        if not node.or_replace or name in SYSTEM_ROLES:
            raise ObjectAlreadyExists(f"SQL compilation error:\nObject '{name}' already exists.")
    session.engine.catalog.put(CatalogObject("ROLE", "", "", name, owner=session.role))
    return status_result(f"Role {name} successfully created.")


def drop_role(session: Session, node: Drop) -> Result:
    require_account_admin(session, "DROP ROLE")
    obj = session.engine.catalog.get("ROLE", "", "", node.name.last)
    if obj is None:
        if node.if_exists:
            return status_result("Drop statement executed successfully.")
        raise not_found(node.name.last)
    with session.engine.catalog.transaction():
        session.engine.catalog.delete(obj)
        session.engine.catalog.execute("DELETE FROM grants WHERE role=?", [obj.name])
    return status_result(f"{obj.name} successfully dropped.")


def use_role(session: Session, node: Use) -> Result:
    role = node.name.last
    if not role_exists(session, role):
        raise not_found(role)
    session.role = role
    return status_result("Statement executed successfully.", "USE")


def grant(session: Session, node: Grant) -> Result:
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
        kind, target = obj.kind, _target(obj)
    for privilege in node.privileges:
        priv = privilege.upper().replace(" PRIVILEGES", "")
        if priv not in _GRANTABLE:
            raise InvalidValue(
                f"SQL compilation error:\nprivilege {privilege} is not supported; use one of "
                f"{', '.join(sorted(_GRANTABLE))}."
            )
        if node.revoke:
            session.engine.catalog.execute(
                "DELETE FROM grants WHERE privilege=? AND kind=? AND target=? AND role=?",
                [priv, kind, target, node.role],
            )
        else:
            session.engine.catalog.execute(
                "INSERT OR IGNORE INTO grants VALUES (?,?,?,?)", [priv, kind, target, node.role]
            )
    return status_result("Statement executed successfully.")


def _routine_grants(node: Grant) -> Result:
    raise UnsupportedFeature(
        f"Privileges on a {node.on_kind.lower()} are not modelled by hoarfrost: every role may "
        "call functions and procedures, and USAGE on their artifact repository is checked when "
        "they run. Grant USAGE ON ARTIFACT REPOSITORY instead."
    )


HANDLERS: dict[tuple[str, str], Callable[..., Result]] = {
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
