"""Privilege checks, after the reference's access control model (SPEC.md section 9).

A session acts with its *active roles*: its primary role and every role that one inherits
(:mod:`hoarfrost.catalog.roles`), plus, after ``USE SECONDARY ROLES ALL``, every role its user
holds. An active role holds a privilege on an object when it owns the object or was granted the
privilege (or ALL, or OWNERSHIP) on it; ACCOUNTADMIN holds every privilege (hoarfrost's account
administrator is also the superuser of its single account). Account-level privileges (CREATE
DATABASE, CREATE ROLE, ...) come from grants ON ACCOUNT and from the system roles' defaults.

What the role cannot use does not exist for it: a missing USAGE or SELECT is reported as "does
not exist or not authorized", a missing OWNERSHIP as an access control error. Checks read the
grants through a per-store memo that every GRANT / REVOKE / ownership change empties.
"""

from __future__ import annotations

from hoarfrost.catalog.lookup import not_found
from hoarfrost.catalog.roles import available_roles, inherited
from hoarfrost.catalog.scope import Scope
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.errors import InsufficientPrivileges

__all__ = [
    "ACCOUNT_PRIVILEGES",
    "OBJECT_PRIVILEGES",
    "active_roles",
    "grant_target",
    "has_account_privilege",
    "has_any_privilege",
    "has_privilege",
    "require_account_admin",
    "require_account_privilege",
    "require_ownership",
    "require_usage",
]

# Privileges each kind of object can be granted (besides OWNERSHIP and ALL).
OBJECT_PRIVILEGES: dict[str, frozenset[str]] = {
    "ACCOUNT": frozenset(
        {
            "CREATE DATABASE",
            "CREATE ROLE",
            "CREATE USER",
            "CREATE INTEGRATION",
            "CREATE WAREHOUSE",
            "MANAGE GRANTS",
            "MONITOR",
            "MONITOR EXECUTION",
            "APPLY PACKAGES POLICY",
            "APPLY TAG",
            "CREATE TAG",
            "EXECUTE TASK",
        }
    ),
    "DATABASE": frozenset({"USAGE", "CREATE SCHEMA", "MONITOR", "MODIFY"}),
    "SCHEMA": frozenset(
        {
            "USAGE",
            "MODIFY",
            "MONITOR",
            "CREATE TABLE",
            "CREATE VIEW",
            "CREATE FUNCTION",
            "CREATE PROCEDURE",
            "CREATE SECRET",
            "CREATE STAGE",
            "CREATE FILE FORMAT",
            "CREATE SEQUENCE",
            "CREATE ARTIFACT REPOSITORY",
            "CREATE PACKAGES POLICY",
            "CREATE TAG",
        }
    ),
    "TABLE": frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES"}),
    "VIEW": frozenset({"SELECT", "REFERENCES"}),
    "FUNCTION": frozenset({"USAGE"}),
    "PROCEDURE": frozenset({"USAGE"}),
    "SECRET": frozenset({"USAGE", "READ"}),
    "INTEGRATION": frozenset({"USAGE"}),
    "ARTIFACT REPOSITORY": frozenset({"USAGE", "READ"}),
    "PACKAGES POLICY": frozenset({"USAGE", "APPLY"}),
    "STAGE": frozenset({"USAGE", "READ", "WRITE"}),
    "FILE FORMAT": frozenset({"USAGE"}),
    "TAG": frozenset({"APPLY", "READ"}),
    "SEQUENCE": frozenset({"USAGE"}),
    "ROLE": frozenset(),
    "USER": frozenset({"MONITOR"}),
}
ACCOUNT_PRIVILEGES = OBJECT_PRIVILEGES["ACCOUNT"]

# What the system roles hold on the account without any grant (the reference's defaults).
_SYSTEM_ACCOUNT_PRIVILEGES: dict[str, frozenset[str]] = {
    "SYSADMIN": frozenset({"CREATE DATABASE", "CREATE WAREHOUSE"}),
    "USERADMIN": frozenset({"CREATE USER", "CREATE ROLE"}),
    "SECURITYADMIN": frozenset({"MANAGE GRANTS"}),
}


def grant_target(obj: CatalogObject) -> str:
    """How a grant names its object in the grants table (its key, signature aside)."""
    return f"{obj.database}.{obj.schema}.{obj.name}"


def active_roles(scope: Scope) -> frozenset[str]:
    """The roles whose privileges the scope acts with."""
    roles = inherited(scope.catalog, scope.role)
    if scope.secondary_roles:
        roles = roles | available_roles(scope.catalog, scope.user)
    return roles


def _grants_of(scope: Scope, kind: str, target: str) -> dict[str, frozenset[str]]:
    """privilege -> roles holding it on one object (memoised until the next access change)."""
    memo = scope.catalog.access_memo
    key = ("GRANTS", kind, target)
    found = memo.get(key)
    if found is None:
        rows = scope.catalog.execute(
            "SELECT privilege, role FROM grants WHERE kind=? AND target=?", [kind, target]
        )
        holders: dict[str, set[str]] = {}
        for privilege, role in rows:
            holders.setdefault(privilege, set()).add(role)
        found = memo[key] = {p: frozenset(r) for p, r in holders.items()}
    return found


def has_privilege(scope: Scope, privilege: str, obj: CatalogObject) -> bool:
    roles = active_roles(scope)
    if "ACCOUNTADMIN" in roles or obj.owner in roles:
        return True
    grants = _grants_of(scope, obj.kind, grant_target(obj))
    return any(roles & grants.get(p, frozenset()) for p in (privilege, "OWNERSHIP", "ALL"))


def has_any_privilege(scope: Scope, obj: CatalogObject) -> bool:
    """True when an active role holds any privilege on ``obj`` (what SHOW lists)."""
    roles = active_roles(scope)
    if "ACCOUNTADMIN" in roles or obj.owner in roles:
        return True
    return any(
        roles & holders for holders in _grants_of(scope, obj.kind, grant_target(obj)).values()
    )


def require_usage(scope: Scope, obj: CatalogObject) -> None:
    if not has_privilege(scope, "USAGE", obj):
        # SPEC.md section 9: what the role cannot use does not exist for it.
        raise not_found(obj.qualified)


def require_ownership(scope: Scope, obj: CatalogObject) -> None:
    if not has_privilege(scope, "OWNERSHIP", obj):
        if not has_any_privilege(scope, obj):  # it does not exist for this role
            raise not_found(obj.qualified)
        raise InsufficientPrivileges(
            f"SQL access control error:\nInsufficient privileges to operate on "
            f"{obj.kind.lower()} '{obj.name}'. The role {scope.role} needs OWNERSHIP."
        )


def has_account_privilege(scope: Scope, privilege: str) -> bool:
    roles = active_roles(scope)
    if "ACCOUNTADMIN" in roles:
        return True
    if any(privilege in _SYSTEM_ACCOUNT_PRIVILEGES.get(r, ()) for r in roles):
        return True
    return bool(roles & _grants_of(scope, "ACCOUNT", "").get(privilege, frozenset()))


def require_account_privilege(scope: Scope, privilege: str) -> None:
    if not has_account_privilege(scope, privilege):
        raise InsufficientPrivileges(
            f"SQL access control error:\nInsufficient privileges to operate on account: "
            f"{privilege} needs a grant of {privilege} ON ACCOUNT to the role or one it "
            f"inherits (current role {scope.role})."
        )


def require_account_admin(scope: Scope, what: str) -> None:
    if not has_account_privilege(scope, what):
        raise InsufficientPrivileges(
            f"SQL access control error:\nInsufficient privileges to operate on account: "
            f"{what} needs the ACCOUNTADMIN role or a grant of {what} ON ACCOUNT "
            f"(current role {scope.role})."
        )
