"""The reference privilege model, reduced to what SPEC.md section 9 asks (roles, OWNERSHIP, USAGE,
CREATE INTEGRATION, APPLY PACKAGES POLICY).

ACCOUNTADMIN holds every privilege. Other roles hold what they own and what was granted to them
or to PUBLIC. A repository the role cannot use is reported as not found, not as forbidden.
"""

from __future__ import annotations

from hoarfrost.catalog.lookup import not_found
from hoarfrost.catalog.scope import Scope
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.errors import InsufficientPrivileges

__all__ = [
    "GRANTABLE",
    "SYSTEM_ROLES",
    "grant_target",
    "has_privilege",
    "require_account_admin",
    "require_ownership",
    "require_usage",
    "role_exists",
]

SYSTEM_ROLES = ("ACCOUNTADMIN", "SECURITYADMIN", "SYSADMIN", "USERADMIN", "PUBLIC")
GRANTABLE = {"USAGE", "OWNERSHIP", "READ", "ALL", "APPLY PACKAGES POLICY", "CREATE INTEGRATION"}


def grant_target(obj: CatalogObject) -> str:
    """How a grant names its object in the grants table."""
    return f"{obj.database}.{obj.schema}.{obj.name}"


def has_privilege(scope: Scope, privilege: str, obj: CatalogObject) -> bool:
    if scope.role == "ACCOUNTADMIN" or obj.owner == scope.role:
        return True
    rows = scope.catalog.execute(
        "SELECT 1 FROM grants WHERE kind=? AND target=? AND role IN (?, 'PUBLIC') "
        "AND privilege IN (?, 'OWNERSHIP', 'ALL')",
        [obj.kind, grant_target(obj), scope.role, privilege],
    )
    return bool(rows)


def require_usage(scope: Scope, obj: CatalogObject) -> None:
    if not has_privilege(scope, "USAGE", obj):
        # SPEC.md section 9: what the role cannot use does not exist for it.
        raise not_found(obj.qualified)


def require_ownership(scope: Scope, obj: CatalogObject) -> None:
    if not has_privilege(scope, "OWNERSHIP", obj):
        raise InsufficientPrivileges(
            f"SQL access control error:\nInsufficient privileges to operate on "
            f"{obj.kind.lower()} '{obj.name}'. The role {scope.role} needs OWNERSHIP."
        )


def require_account_admin(scope: Scope, what: str) -> None:
    if scope.role != "ACCOUNTADMIN" and not _account_grant(scope, what):
        raise InsufficientPrivileges(
            f"SQL access control error:\nInsufficient privileges to operate on account: "
            f"{what} needs the ACCOUNTADMIN role or a grant of {what} ON ACCOUNT "
            f"(current role {scope.role})."
        )


def _account_grant(scope: Scope, privilege: str) -> bool:
    rows = scope.catalog.execute(
        "SELECT 1 FROM grants WHERE kind='ACCOUNT' AND target='' AND role IN (?, 'PUBLIC') "
        "AND privilege=?",
        [scope.role, privilege],
    )
    return bool(rows)


def role_exists(scope: Scope, role: str) -> bool:
    return role in SYSTEM_ROLES or scope.catalog.get("ROLE", "", "", role) is not None
