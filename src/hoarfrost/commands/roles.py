"""Roles: CREATE / DROP / SHOW ROLES, USE ROLE, USE SECONDARY ROLES, and the context functions
CURRENT_AVAILABLE_ROLES, IS_ROLE_IN_SESSION, CURRENT_SECONDARY_ROLES (SPEC.md section 9).

The hierarchy lives with the catalog (:mod:`hoarfrost.catalog.roles`); GRANT and REVOKE are in
:mod:`hoarfrost.commands.grants`, SHOW GRANTS in :mod:`hoarfrost.commands.grant_info`.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json

from hoarfrost.catalog.lookup import like_to_glob
from hoarfrost.catalog.privileges import (
    active_roles,
    has_account_privilege,
    has_privilege,
    require_account_privilege,
)
from hoarfrost.catalog.roles import (
    SYSTEM_ROLES,
    available_roles,
    direct_user_roles,
    inherited,
    role_exists,
    roles_granted_to_role,
    users_of_role,
)
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.engine.context import Context, Handler, SystemFunction
from hoarfrost.engine.result import Result, rows_result, status_result
from hoarfrost.errors import (
    InsufficientPrivileges,
    InvalidValue,
    ObjectAlreadyExists,
    ProgrammingError,
)
from hoarfrost.sql.ast import Create, Drop, Show, Use

__all__ = ["HANDLERS", "SYSTEM_FUNCTIONS", "need_role", "require_role_admin", "role_not_found"]

_ROLE_COMMENTS = {
    "ACCOUNTADMIN": "Account administrator can manage all aspects of the account.",
    "SECURITYADMIN": "Security administrator can manage security aspects of the account.",
    "USERADMIN": "User administrator can create and manage users and roles",
    "SYSADMIN": "System administrator can create and manage databases and warehouses.",
    "PUBLIC": "Public role is automatically available to every user in the account.",
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def role_not_found(role: str) -> ProgrammingError:
    return ProgrammingError(
        f"SQL compilation error:\nRole '{role}' does not exist or not authorized.",
        errno=2003,
        sqlstate="02000",
    )


def need_role(session: Context, role: str) -> None:
    if not role_exists(session.catalog, role):
        raise role_not_found(role)


# -- roles -------------------------------------------------------------------------------
def create_role(session: Context, node: Create) -> Result:
    require_account_privilege(session, "CREATE ROLE")
    name = node.name.last
    if role_exists(session.catalog, name):
        if node.if_not_exists:
            return status_result(f"{name} already exists, statement succeeded.")
        if not node.or_replace or name in SYSTEM_ROLES:
            raise ObjectAlreadyExists(f"SQL compilation error:\nObject '{name}' already exists.")
    comment = node.props.get("COMMENT")
    obj = CatalogObject(
        "ROLE",
        "",
        "",
        name,
        owner=session.role,
        comment=getattr(comment, "value", None),
    )
    with session.catalog.transaction():
        session.catalog.put(obj)
        session.catalog.access_changed()
    return status_result(f"Role {name} successfully created.")


def drop_role(session: Context, node: Drop) -> Result:
    name = node.name.last
    if name in SYSTEM_ROLES:
        raise InsufficientPrivileges(
            f"SQL access control error:\nCannot drop the system role {name}."
        )
    obj = session.catalog.get("ROLE", "", "", name)
    if obj is None:
        if node.if_exists:
            return status_result("Drop statement executed successfully.")
        raise role_not_found(name)
    require_role_admin(session, obj)
    catalog = session.catalog
    with catalog.transaction():
        catalog.delete(obj)
        # Like the reference: what the dropped role owned now belongs to the role dropping it.
        catalog.execute("UPDATE objects SET owner=? WHERE owner=?", [session.role, name])
        catalog.execute("DELETE FROM grants WHERE role=?", [name])
        catalog.execute("DELETE FROM future_grants WHERE role=?", [name])
        catalog.execute(
            "DELETE FROM role_grants WHERE role=? OR (grantee_kind='ROLE' AND grantee=?)",
            [name, name],
        )
        catalog.access_changed()
    return status_result(f"{name} successfully dropped.")


def require_role_admin(session: Context, role: CatalogObject) -> None:
    """Who may grant, revoke or drop a role: its owner or a role with MANAGE GRANTS."""
    if has_privilege(session, "OWNERSHIP", role) or has_account_privilege(session, "MANAGE GRANTS"):
        return
    raise InsufficientPrivileges(
        f"SQL access control error:\nInsufficient privileges to operate on role '{role.name}'."
    )


def use_role(session: Context, node: Use) -> Result:
    role = node.name.last
    need_role(session, role)
    if role not in available_roles(session.catalog, session.user):
        raise InsufficientPrivileges(
            f"SQL access control error:\nRequested role '{role}' is not assigned to the "
            "executing user.  Specify another role to activate.",
            errno=3013,
        )
    session.role = role
    return status_result("Statement executed successfully.", "USE")


def use_secondary_roles(session: Context, node: Use) -> Result:
    word = node.name.last.upper()
    if word not in ("ALL", "NONE"):
        raise InvalidValue(
            "SQL compilation error:\nUSE SECONDARY ROLES takes ALL or NONE in hoarfrost."
        )
    session.secondary_roles = word == "ALL"
    return status_result("Statement executed successfully.", "USE")


def show_roles(session: Context, node: Show) -> Result:
    catalog = session.catalog
    current = inherited(catalog, session.role)
    custom = {r.name: r for r in catalog.list("ROLE")}
    names = [*SYSTEM_ROLES, *sorted(custom)]
    if node.like is not None:
        pattern = like_to_glob(node.like).upper()
        names = [n for n in names if fnmatch.fnmatchcase(n.upper(), pattern)]
    rows = []
    for name in names:
        obj = custom.get(name)
        parents = catalog.execute(
            "SELECT count(*) FROM role_grants WHERE role=? AND grantee_kind='ROLE'", [name]
        )[0][0] + sum(name in kids for kids in _SYSTEM_CHILDREN.values())
        rows.append(
            [
                obj.created_on if obj else _account_created(session),
                name,
                "Y" if name == _default_role(session) else "N",
                "Y" if name == session.role else "N",
                "Y" if name in current and name != session.role else "N",
                len(users_of_role(catalog, name)),
                parents,
                len(roles_granted_to_role(catalog, name)),
                obj.owner if obj else ("" if name == "ACCOUNTADMIN" else "ACCOUNTADMIN"),
                obj.comment if obj else _ROLE_COMMENTS[name],
            ]
        )
    columns = [
        "created_on",
        "name",
        "is_default",
        "is_current",
        "is_inherited",
        "assigned_to_users",
        "granted_to_roles",
        "granted_roles",
        "owner",
        "comment",
    ]
    if node.terse:
        return rows_result(["created_on", "name"], [r[:2] for r in rows])
    return rows_result(columns, rows)


_SYSTEM_CHILDREN = {"ACCOUNTADMIN": ("SECURITYADMIN", "SYSADMIN"), "SECURITYADMIN": ("USERADMIN",)}


def _default_role(session: Context) -> str | None:
    user = session.catalog.get("USER", "", "", session.user)
    return None if user is None else user.props.get("DEFAULT_ROLE")


def _account_created(session: Context) -> dt.datetime | None:
    text = session.catalog.get_param("ACCOUNT", "", "CREATED_ON")
    return dt.datetime.fromisoformat(text) if text else None


# -- context functions -------------------------------------------------------------------
def _available(session: Context, args: list[str]) -> str:
    return json.dumps(sorted(available_roles(session.catalog, session.user)))


def _in_session(session: Context, args: list[str]) -> bool:
    if len(args) != 1:
        raise InvalidValue("SQL compilation error:\nIS_ROLE_IN_SESSION takes 1 argument(s).")
    return args[0].strip().upper() in active_roles(session)


def _secondary(session: Context, args: list[str]) -> str:
    if not session.secondary_roles:
        return json.dumps({"roles": "", "value": ""})
    roles = ",".join(sorted(direct_user_roles(session.catalog, session.user)))
    return json.dumps({"roles": roles, "value": "ALL"})


SYSTEM_FUNCTIONS: dict[str, SystemFunction] = {
    "CURRENT_AVAILABLE_ROLES": _available,
    "IS_ROLE_IN_SESSION": _in_session,
    "CURRENT_SECONDARY_ROLES": _secondary,
}

HANDLERS: dict[tuple[str, str], Handler] = {
    ("Create", "ROLE"): create_role,
    ("Drop", "ROLE"): drop_role,
    ("Use", "ROLE"): use_role,
    ("Use", "SECONDARY ROLES"): use_secondary_roles,
    ("Show", "ROLE"): show_roles,
}
