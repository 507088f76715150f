"""GRANT and REVOKE: roles to users and roles, privileges on objects and the account,
OWNERSHIP, ON ALL / ON FUTURE (SPEC.md section 9). The checks live with the catalog
(:mod:`hoarfrost.catalog.privileges`).
"""

from __future__ import annotations

import datetime as dt

from hoarfrost.catalog.lookup import display_name, find, not_found
from hoarfrost.catalog.privileges import (
    OBJECT_PRIVILEGES,
    active_roles,
    grant_target,
    has_account_privilege,
    has_any_privilege,
    has_privilege,
)
from hoarfrost.catalog.relations import database as database_record
from hoarfrost.catalog.relations import relation
from hoarfrost.catalog.relations import schema as schema_record
from hoarfrost.catalog.roles import (
    grant_role,
    revoke_role,
)
from hoarfrost.catalog.routines import find_routine
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.commands.common import schema_exists
from hoarfrost.commands.roles import need_role, require_role_admin, role_not_found
from hoarfrost.engine.context import Context, Handler
from hoarfrost.engine.result import Result, status_result
from hoarfrost.errors import (
    InsufficientPrivileges,
    InvalidValue,
    ProgrammingError,
)
from hoarfrost.sql.ast import Grant, Name

__all__ = ["HANDLERS", "grant_object"]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# -- GRANT / REVOKE ----------------------------------------------------------------------
def grant(session: Context, node: Grant) -> Result:
    if node.on_kind == "ROLE" and node.privileges == ["ROLE"]:
        return _grant_role(session, node)
    if node.grantee_kind != "ROLE":
        raise InvalidValue(
            "SQL compilation error:\nPrivileges are granted to roles; grant the role to the "
            "user instead (GRANT ROLE r TO USER u)."
        )
    need_role(session, node.role)
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
        obj = grant_object(session, node.on_kind, node.on_name, node.arg_types)
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


def grant_object(
    session: Context, kind: str, name: Name, arg_types: list[str] | None = None
) -> CatalogObject:
    if kind in ("FUNCTION", "PROCEDURE"):
        return find_routine(session, kind, name, arg_types).obj
    if kind in ("DATABASE", "SCHEMA", "TABLE", "VIEW"):
        return _data_object(session, kind, name)
    if kind == "ROLE":
        obj = session.catalog.get("ROLE", "", "", name.last)
        if obj is None:
            raise role_not_found(name.last)
        return obj
    obj = find(session, kind, name)
    if not has_any_privilege(session, obj):
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
    need_role(session, role)
    obj = session.catalog.get("ROLE", "", "", role)
    if obj is not None:
        require_role_admin(session, obj)
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
        need_role(session, node.role)
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


HANDLERS: dict[tuple[str, str], Handler] = {
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
        "STAGE",
        "FILE FORMAT",
        "TAG",
    )
}
