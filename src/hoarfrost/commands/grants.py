"""Roles and grants: CREATE / DROP / SHOW ROLES, USE ROLE, USE SECONDARY ROLES, GRANT and REVOKE
(roles, privileges, OWNERSHIP, ON ALL / ON FUTURE), SHOW GRANTS (SPEC.md section 9).

The checks themselves live with the catalog (:mod:`hoarfrost.catalog.privileges`), the role
hierarchy in :mod:`hoarfrost.catalog.roles`.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
from typing import Any

from hoarfrost.catalog.lookup import display_name, find, like_to_glob, not_found
from hoarfrost.catalog.privileges import (
    OBJECT_PRIVILEGES,
    active_roles,
    grant_target,
    has_account_privilege,
    has_any_privilege,
    has_privilege,
    require_account_privilege,
)
from hoarfrost.catalog.relations import database as database_record
from hoarfrost.catalog.relations import relation
from hoarfrost.catalog.relations import schema as schema_record
from hoarfrost.catalog.roles import (
    SYSTEM_ROLES,
    available_roles,
    direct_user_roles,
    grant_role,
    inherited,
    revoke_role,
    role_exists,
    roles_granted_to_role,
    users_of_role,
)
from hoarfrost.catalog.routines import find_routine
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.commands.common import schema_exists
from hoarfrost.engine.context import Context, Handler, SystemFunction
from hoarfrost.engine.result import Result, rows_result, status_result
from hoarfrost.errors import (
    InsufficientPrivileges,
    InvalidValue,
    ObjectAlreadyExists,
    ProgrammingError,
)
from hoarfrost.sql.ast import Create, Drop, Grant, Name, Show, Use

__all__ = ["HANDLERS", "SYSTEM_FUNCTIONS"]

_ROLE_COMMENTS = {
    "ACCOUNTADMIN": "Account administrator can manage all aspects of the account.",
    "SECURITYADMIN": "Security administrator can manage security aspects of the account.",
    "USERADMIN": "User administrator can create and manage users and roles",
    "SYSADMIN": "System administrator can create and manage databases and warehouses.",
    "PUBLIC": "Public role is automatically available to every user in the account.",
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _role_not_found(role: str) -> ProgrammingError:
    return ProgrammingError(
        f"SQL compilation error:\nRole '{role}' does not exist or not authorized.",
        errno=2003,
        sqlstate="02000",
    )


def _need_role(session: Context, role: str) -> None:
    if not role_exists(session.catalog, role):
        raise _role_not_found(role)


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
        raise _role_not_found(name)
    _require_role_admin(session, obj)
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


def _require_role_admin(session: Context, role: CatalogObject) -> None:
    """Who may grant, revoke or drop a role: its owner or a role with MANAGE GRANTS."""
    if has_privilege(session, "OWNERSHIP", role) or has_account_privilege(session, "MANAGE GRANTS"):
        return
    raise InsufficientPrivileges(
        f"SQL access control error:\nInsufficient privileges to operate on role '{role.name}'."
    )


def use_role(session: Context, node: Use) -> Result:
    role = node.name.last
    _need_role(session, role)
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


# -- GRANT / REVOKE ----------------------------------------------------------------------
def grant(session: Context, node: Grant) -> Result:
    if node.on_kind == "ROLE" and node.privileges == ["ROLE"]:
        return _grant_role(session, node)
    if node.grantee_kind != "ROLE":
        raise InvalidValue(
            "SQL compilation error:\nPrivileges are granted to roles; grant the role to the "
            "user instead (GRANT ROLE r TO USER u)."
        )
    _need_role(session, node.role)
    privileges = _privileges(node)
    if node.bulk:
        return _grant_bulk(session, node, privileges)
    if node.on_kind == "ACCOUNT":
        if not has_account_privilege(session, "MANAGE GRANTS"):
            raise InsufficientPrivileges(
                "SQL access control error:\nInsufficient privileges to operate on account: "
                f"granting privileges on the account needs MANAGE GRANTS (current role "
                f"{session.role})."
            )
        targets = [("ACCOUNT", "")]
    else:
        assert node.on_name is not None
        obj = _object(session, node.on_kind, node.on_name, node.arg_types)
        if "OWNERSHIP" in privileges:
            return _transfer(session, node, obj)
        _require_grant_admin(session, obj, privileges)
        targets = [(obj.kind, grant_target(obj))]
    catalog = session.catalog
    with catalog.transaction():
        for kind, target in targets:
            for privilege in privileges:
                if node.revoke:
                    catalog.execute(
                        "DELETE FROM grants WHERE privilege=? AND kind=? AND target=? AND role=?",
                        [privilege, kind, target, node.role],
                    )
                else:
                    catalog.execute(
                        "INSERT OR REPLACE INTO grants (privilege, kind, target, role, "
                        "granted_by, created_on, grant_option) VALUES (?,?,?,?,?,?,?)",
                        [
                            privilege,
                            kind,
                            target,
                            node.role,
                            session.role,
                            _now(),
                            node.grant_option,
                        ],
                    )
        catalog.access_changed()
    return status_result("Statement executed successfully.")


def _privileges(node: Grant) -> list[str]:
    kind = "ACCOUNT" if node.on_kind == "ACCOUNT" else node.on_kind
    allowed = OBJECT_PRIVILEGES.get(kind, frozenset())
    out: list[str] = []
    for privilege in node.privileges:
        priv = " ".join(privilege.upper().split()).replace(" PRIVILEGES", "")
        if priv == "ALL":
            out.extend(sorted(allowed))
            continue
        if priv != "OWNERSHIP" and priv not in allowed:
            raise InvalidValue(
                f"SQL compilation error:\nInvalid privilege {privilege} on {kind.lower()}; use "
                f"one of {', '.join(sorted(allowed | {'OWNERSHIP', 'ALL'}))}."
            )
        out.append(priv)
    return out


def _object(
    session: Context, kind: str, name: Name, arg_types: list[str] | None = None
) -> CatalogObject:
    if kind in ("FUNCTION", "PROCEDURE"):
        return find_routine(session, kind, name, arg_types).obj
    if kind in ("DATABASE", "SCHEMA", "TABLE", "VIEW"):
        return _data_object(session, kind, name)
    if kind == "ROLE":
        obj = session.catalog.get("ROLE", "", "", name.last)
        if obj is None:
            raise _role_not_found(name.last)
        return obj
    obj = find(session, kind, name)
    if not has_privilege(session, "USAGE", obj) and not _any_grant(session, obj):
        raise not_found(obj.qualified)
    return obj


def _data_object(session: Context, kind: str, name: Name) -> CatalogObject:
    """A database, schema, table or view (its record, or one owned by its container's owner)."""
    catalog = session.catalog
    if kind == "DATABASE":
        found = database_record(catalog, name.last) if len(name.parts) == 1 else None
        if found is None or not has_any_privilege(session, found):
            raise not_found(str(name))
        return found
    if kind == "SCHEMA":
        if len(name.parts) > 2:
            raise not_found(str(name))
        db = name.parts[0] if len(name.parts) == 2 else session.need_database()
        if not schema_exists(session, db, name.last):
            raise not_found(f"{db}.{name.last}")
        found = schema_record(catalog, db, name.last)
    else:
        db, schema_name, obj_name = session.qualify(name)
        found = relation(catalog, db, schema_name, obj_name)
        if found is None:
            rows = session.run_internal(
                "SELECT table_type FROM information_schema.tables WHERE table_catalog = ? AND "
                "table_schema = ? AND table_name = ?",
                [db, schema_name, obj_name],
            ).fetchall()
            if not rows:
                raise not_found(display_name(db, schema_name, obj_name))
            owner = schema_record(catalog, db, schema_name).owner
            found = CatalogObject(kind, db, schema_name, obj_name, owner=owner)
    if not has_any_privilege(session, found):
        raise not_found(found.qualified)
    return found


def _any_grant(session: Context, obj: CatalogObject) -> bool:
    return any(has_privilege(session, p, obj) for p in OBJECT_PRIVILEGES.get(obj.kind, ()))


def _require_grant_admin(session: Context, obj: CatalogObject, privileges: list[str]) -> None:
    """The owner grants; so does a role with MANAGE GRANTS or one granted WITH GRANT OPTION."""
    if has_privilege(session, "OWNERSHIP", obj) or has_account_privilege(session, "MANAGE GRANTS"):
        return
    roles = active_roles(session)
    rows = session.catalog.execute(
        "SELECT privilege, role FROM grants WHERE kind=? AND target=? AND grant_option",
        [obj.kind, grant_target(obj)],
    )
    optioned = {p for p, r in rows if r in roles}
    if set(privileges) <= optioned:
        return
    raise InsufficientPrivileges(
        f"SQL access control error:\nInsufficient privileges to operate on "
        f"{obj.kind.lower()} '{obj.name}'."
    )


def _transfer(session: Context, node: Grant, obj: CatalogObject) -> Result:
    """GRANT OWNERSHIP: the new owner role; other grants are kept only with COPY CURRENT
    GRANTS (the reference refuses the transfer of an object with grants otherwise; hoarfrost
    revokes them, as REVOKE CURRENT GRANTS does)."""
    if node.revoke:
        raise InvalidValue(
            "SQL compilation error:\nOWNERSHIP cannot be revoked; grant it to another role."
        )
    if not (
        has_privilege(session, "OWNERSHIP", obj) or has_account_privilege(session, "MANAGE GRANTS")
    ):
        raise InsufficientPrivileges(
            f"SQL access control error:\nInsufficient privileges to operate on "
            f"{obj.kind.lower()} '{obj.name}'."
        )
    catalog = session.catalog
    with catalog.transaction():
        if not node.copy_current_grants:
            catalog.execute(
                "DELETE FROM grants WHERE kind=? AND target=?", [obj.kind, grant_target(obj)]
            )
        catalog.execute(
            "UPDATE objects SET owner=? WHERE kind=? AND database=? AND schema=? AND name=? "
            "AND signature=?",
            [node.role, *obj.key],
        )
        catalog.access_changed()
    return status_result("Statement executed successfully.")


def _grant_bulk(session: Context, node: Grant, privileges: list[str]) -> Result:
    """ON ALL <kind>s IN ...: every existing object; ON FUTURE: every one created later."""
    assert node.on_name is not None
    parts = node.on_name.parts
    if node.container_kind == "DATABASE":
        database, schema = parts[-1], None
    else:
        database = parts[0] if len(parts) == 2 else session.need_database()
        schema = parts[-1]
    if not has_account_privilege(session, "MANAGE GRANTS"):
        raise InsufficientPrivileges(
            "SQL access control error:\nInsufficient privileges to operate on "
            f"{node.container_kind.lower()} '{parts[-1]}': ON {node.bulk} grants need MANAGE "
            "GRANTS."
        )
    catalog = session.catalog
    container = database if schema is None else f"{database}.{schema}"
    with catalog.transaction():
        if node.bulk == "FUTURE":
            for privilege in privileges:
                if node.revoke:
                    catalog.execute(
                        "DELETE FROM future_grants WHERE privilege=? AND kind=? AND "
                        "container_kind=? AND container=? AND role=?",
                        [privilege, node.on_kind, node.container_kind, container, node.role],
                    )
                else:
                    catalog.execute(
                        "INSERT OR IGNORE INTO future_grants VALUES (?,?,?,?,?)",
                        [privilege, node.on_kind, node.container_kind, container, node.role],
                    )
        else:
            for obj in catalog.list(node.on_kind, database, schema):
                for privilege in privileges:
                    params = [privilege, obj.kind, grant_target(obj), node.role]
                    if node.revoke:
                        catalog.execute(
                            "DELETE FROM grants WHERE privilege=? AND kind=? AND target=? "
                            "AND role=?",
                            params,
                        )
                    else:
                        catalog.execute(
                            "INSERT OR IGNORE INTO grants (privilege, kind, target, role, "
                            "granted_by, created_on) VALUES (?,?,?,?,?,?)",
                            [*params, session.role, _now()],
                        )
        catalog.access_changed()
    return status_result("Statement executed successfully.")


def _grant_role(session: Context, node: Grant) -> Result:
    assert node.on_name is not None
    role = node.on_name.last
    _need_role(session, role)
    obj = session.catalog.get("ROLE", "", "", role)
    if obj is not None:
        _require_role_admin(session, obj)
    elif not has_account_privilege(session, "MANAGE GRANTS") and role not in active_roles(session):
        # A system role: only the roles above it may hand it out.
        raise InsufficientPrivileges(
            f"SQL access control error:\nInsufficient privileges to operate on role '{role}'."
        )
    if node.grantee_kind == "USER":
        if session.catalog.get("USER", "", "", node.role) is None:
            raise ProgrammingError(
                f"SQL compilation error:\nUser '{node.role}' does not exist or not authorized.",
                errno=2003,
                sqlstate="02000",
            )
    else:
        _need_role(session, node.role)
    catalog = session.catalog
    if node.revoke:
        revoke_role(catalog, role, node.grantee_kind, node.role)
    elif not grant_role(catalog, role, node.grantee_kind, node.role, session.role):
        raise InvalidValue(
            f"SQL compilation error:\nCannot grant role '{role}' to role '{node.role}': "
            f"'{node.role}' is already granted to '{role}' (directly or through other roles), "
            "and a role cannot inherit itself."
        )
    return status_result("Statement executed successfully.")


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
    _need_role(session, role)
    if role not in active_roles(session) and not has_account_privilege(session, "MANAGE GRANTS"):
        raise _role_not_found(role)


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
    obj = _object(session, kind, name, arg_types)
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
    ("Show", "GRANT"): show_grants,
    **{
        ("Grant", kind): grant
        for kind in (
            "ACCOUNT",
            "INTEGRATION",
            "ARTIFACT REPOSITORY",
            "SECRET",
            "PACKAGES POLICY",
            "FUNCTION",
            "PROCEDURE",
            "ROLE",
            "DATABASE",
            "SCHEMA",
            "TABLE",
            "VIEW",
            "USER",
        )
    },
}
