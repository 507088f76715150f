"""Roles and their hierarchy, as the reference's access control model has them.

System roles: ACCOUNTADMIN inherits SECURITYADMIN and SYSADMIN, SECURITYADMIN inherits
USERADMIN, and every role inherits PUBLIC, which every user holds. Custom roles are catalog
objects of kind ROLE; ``GRANT ROLE r TO ROLE p`` makes ``p`` inherit ``r``, ``GRANT ROLE r TO
USER u`` lets ``u`` use ``r`` (and all it inherits). A grant that would make a role inherit
itself is refused.

What a role inherits is computed from ``role_grants`` and cached per store until the next change
of roles or grants (:attr:`CatalogStore.access_memo`), so a privilege check costs a set
lookup, not a query.
"""

from __future__ import annotations

import datetime as dt

from hoarfrost.catalog.store import CatalogStore

__all__ = [
    "SYSTEM_PARENTS",
    "SYSTEM_ROLES",
    "available_roles",
    "direct_user_roles",
    "grant_role",
    "inherited",
    "revoke_role",
    "role_exists",
    "roles_granted_to_role",
    "users_of_role",
]

SYSTEM_ROLES = ("ACCOUNTADMIN", "SECURITYADMIN", "USERADMIN", "SYSADMIN", "PUBLIC")
# role -> the system roles it inherits directly
SYSTEM_PARENTS: dict[str, tuple[str, ...]] = {
    "ACCOUNTADMIN": ("SECURITYADMIN", "SYSADMIN"),
    "SECURITYADMIN": ("USERADMIN",),
}


def role_exists(store: CatalogStore, role: str) -> bool:
    return role in SYSTEM_ROLES or store.get("ROLE", "", "", role) is not None


def roles_granted_to_role(store: CatalogStore, role: str) -> list[str]:
    """The roles granted directly to ``role`` (system ones included)."""
    rows = store.execute(
        "SELECT role FROM role_grants WHERE grantee_kind='ROLE' AND grantee=? ORDER BY role",
        [role],
    )
    return [*SYSTEM_PARENTS.get(role, ()), *(r[0] for r in rows)]


def inherited(store: CatalogStore, role: str) -> frozenset[str]:
    """``role`` and every role it inherits, PUBLIC included."""
    memo = store.access_memo
    key = ("INHERITED", role)
    found = memo.get(key)
    if found is None:
        seen = {role, "PUBLIC"}
        todo = [role]
        while todo:
            for parent in roles_granted_to_role(store, todo.pop()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        found = memo[key] = frozenset(seen)
    return found


def direct_user_roles(store: CatalogStore, user: str) -> list[str]:
    rows = store.execute(
        "SELECT role FROM role_grants WHERE grantee_kind='USER' AND grantee=? ORDER BY role",
        [user],
    )
    return [r[0] for r in rows]


def available_roles(store: CatalogStore, user: str) -> frozenset[str]:
    """Every role ``user`` may use: those granted to them, what those inherit, and PUBLIC."""
    memo = store.access_memo
    key = ("AVAILABLE", user)
    found = memo.get(key)
    if found is None:
        roles: set[str] = {"PUBLIC"}
        for role in direct_user_roles(store, user):
            roles |= inherited(store, role)
        found = memo[key] = frozenset(roles)
    return found


def users_of_role(store: CatalogStore, role: str) -> list[str]:
    rows = store.execute(
        "SELECT grantee FROM role_grants WHERE grantee_kind='USER' AND role=? ORDER BY grantee",
        [role],
    )
    return [r[0] for r in rows]


def grant_role(
    store: CatalogStore, role: str, grantee_kind: str, grantee: str, granted_by: str
) -> bool:
    """Record the grant; False when it would make ``grantee`` inherit itself (a cycle)."""
    if grantee_kind == "ROLE" and (role == grantee or grantee in inherited(store, role)):
        return False
    store.execute(
        "INSERT OR IGNORE INTO role_grants VALUES (?,?,?,?,?)",
        [role, grantee_kind, grantee, granted_by, dt.datetime.now(dt.timezone.utc)],
    )
    store.access_changed()
    return True


def revoke_role(store: CatalogStore, role: str, grantee_kind: str, grantee: str) -> None:
    store.execute(
        "DELETE FROM role_grants WHERE role=? AND grantee_kind=? AND grantee=?",
        [role, grantee_kind, grantee],
    )
    store.access_changed()
