"""CREATE / ALTER / DROP / SHOW / DESCRIBE USER.

Users are catalog objects (:mod:`hoarfrost.catalog.users`); ``hoarfrost serve`` logs them in.
CREATE USER needs the CREATE USER privilege (USERADMIN and the roles above it hold it); the
creating role owns the user and may alter or drop it. A user may change its own password and
defaults.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from hoarfrost.catalog.lookup import like_to_glob, not_found
from hoarfrost.catalog.privileges import (
    has_privilege,
    require_account_privilege,
    require_ownership,
)
from hoarfrost.catalog.props import Props, value_text
from hoarfrost.catalog.roles import direct_user_roles, revoke_role
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.catalog.users import USER_PROPS, find_user, hash_password
from hoarfrost.engine.context import Context, Handler
from hoarfrost.engine.result import Result, rows_result, status_result
from hoarfrost.errors import InvalidValue, ObjectAlreadyExists
from hoarfrost.sql.ast import Alter, Bool, Create, Describe, Drop, Show, Value

__all__ = ["HANDLERS"]

_BOOLEAN = {"DISABLED", "MUST_CHANGE_PASSWORD"}
_NUMBERS = {"DAYS_TO_EXPIRY", "MINS_TO_UNLOCK"}
# What a user may change about itself without owning its user object.
_SELF_SERVICE = {
    "PASSWORD",
    "DEFAULT_ROLE",
    "DEFAULT_WAREHOUSE",
    "DEFAULT_NAMESPACE",
    "DEFAULT_SECONDARY_ROLES",
    "DISPLAY_NAME",
    "FIRST_NAME",
    "MIDDLE_NAME",
    "LAST_NAME",
    "EMAIL",
    "COMMENT",
    "MUST_CHANGE_PASSWORD",
}


def _apply(obj: CatalogObject, props: dict[str, Value]) -> CatalogObject:
    """The user with ``props`` set, validated; PASSWORD is stored hashed."""
    checked = Props(props, "USER", USER_PROPS)
    values = dict(obj.props)
    comment = obj.comment
    for key in props:
        if key == "PASSWORD":
            password = checked.string(key)
            if not password:
                raise InvalidValue(
                    "SQL compilation error:\nPASSWORD must be a non-empty quoted string."
                )
            values["PASSWORD_HASH"] = hash_password(password)
        elif key in _BOOLEAN:
            values[key] = bool(checked.boolean(key))
        elif key in _NUMBERS:
            values[key] = checked.number_text(key)
        elif key == "COMMENT":
            comment = checked.string(key)
        elif key == "DEFAULT_SECONDARY_ROLES":
            values[key] = [s.upper() for s in checked.strings(key) or []]
        else:
            value = props[key]
            text = value_text(value)
            if text is None:
                raise InvalidValue(
                    f"SQL compilation error:\ninvalid value for property {key} of USER: "
                    "expected a name or a quoted string."
                )
            values[key] = text.upper() if key in ("DEFAULT_ROLE", "LOGIN_NAME") else text
    return obj.evolve(props=values, comment=comment)


def create_user(session: Context, node: Create) -> Result:
    require_account_privilege(session, "CREATE USER")
    if len(node.name.parts) != 1:
        raise not_found(str(node.name))
    name = node.name.last
    with session.catalog.transaction():
        existing = session.catalog.get("USER", "", "", name)
        if existing is not None:
            if node.if_not_exists:
                return status_result(f"{name} already exists, statement succeeded.")
            if not node.or_replace:
                raise ObjectAlreadyExists(f"SQL compilation error:\nUser '{name}' already exists.")
            require_ownership(session, existing)
        user = _apply(CatalogObject("USER", "", "", name, owner=session.role), node.props)
        session.catalog.put(user)
    return status_result(f"User {name} successfully created.")


def alter_user(session: Context, node: Alter) -> Result:
    assert node.name is not None
    user = find_user(session.catalog, node.name.last)
    if user is None:
        if node.if_exists:
            return status_result("Statement executed successfully.")
        raise not_found(node.name.last)
    own = user.name == session.user
    if not (own and set(node.set) <= _SELF_SERVICE and not node.unset and not node.rename_to):
        require_ownership(session, user)
    with session.catalog.transaction():
        if node.rename_to is not None:
            new = node.rename_to.last
            if session.catalog.get("USER", "", "", new) is not None:
                raise ObjectAlreadyExists(f"SQL compilation error:\nUser '{new}' already exists.")
            session.catalog.delete(user)
            session.catalog.execute(
                "UPDATE role_grants SET grantee=? WHERE grantee_kind='USER' AND grantee=?",
                [new, user.name],
            )
            user = user.evolve(name=new)
        user = _apply(user, node.set)
        for key in node.unset:
            if key not in USER_PROPS:
                Props({key: Bool(True)}, "USER", USER_PROPS)  # the invalid-property error
            if key == "COMMENT":
                user = user.evolve(comment=None)
            else:
                user.props.pop("PASSWORD_HASH" if key == "PASSWORD" else key, None)
        session.catalog.put(user)
        session.catalog.access_changed()
    return status_result("Statement executed successfully.")


def drop_user(session: Context, node: Drop) -> Result:
    user = session.catalog.get("USER", "", "", node.name.last)
    if user is None:
        if node.if_exists:
            return status_result("Drop statement executed successfully.")
        raise not_found(node.name.last)
    require_ownership(session, user)
    with session.catalog.transaction():
        session.catalog.delete(user)
        for role in direct_user_roles(session.catalog, user.name):
            revoke_role(session.catalog, role, "USER", user.name)
    return status_result(f"{user.name} successfully dropped.")


_SHOW_COLUMNS = [
    "name",
    "created_on",
    "login_name",
    "display_name",
    "first_name",
    "last_name",
    "email",
    "mins_to_unlock",
    "days_to_expiry",
    "comment",
    "disabled",
    "must_change_password",
    "snowflake_lock",
    "default_warehouse",
    "default_namespace",
    "default_role",
    "default_secondary_roles",
    "ext_authn_duo",
    "ext_authn_uid",
    "mins_to_bypass_mfa",
    "owner",
    "last_success_login",
    "expires_at_time",
    "locked_until_time",
    "has_password",
    "has_rsa_public_key",
    "type",
    "has_mfa",
]


def _show_row(user: CatalogObject) -> list[Any]:
    p = user.props
    secondary = p.get("DEFAULT_SECONDARY_ROLES")
    return [
        user.name,
        user.created_on,
        p.get("LOGIN_NAME", user.name),
        p.get("DISPLAY_NAME", user.name),
        p.get("FIRST_NAME"),
        p.get("LAST_NAME"),
        p.get("EMAIL"),
        p.get("MINS_TO_UNLOCK"),
        p.get("DAYS_TO_EXPIRY"),
        user.comment,
        _flag(p.get("DISABLED")),
        _flag(p.get("MUST_CHANGE_PASSWORD")),
        "false",
        p.get("DEFAULT_WAREHOUSE"),
        p.get("DEFAULT_NAMESPACE"),
        p.get("DEFAULT_ROLE"),
        None if secondary is None else "[" + ", ".join(f'"{s}"' for s in secondary) + "]",
        "false",
        None,
        None,
        user.owner,
        None,
        None,
        None,
        _flag("PASSWORD_HASH" in p),
        "false",
        p.get("TYPE"),
        "false",
    ]


def _flag(value: object) -> str:
    return "true" if value else "false"


def show_users(session: Context, node: Show) -> Result:
    users = [
        u
        for u in session.catalog.list("USER")
        if u.name == session.user or has_privilege(session, "MONITOR", u)
    ]
    if node.like is not None:
        pattern = like_to_glob(node.like).upper()
        users = [u for u in users if fnmatch.fnmatchcase(u.name.upper(), pattern)]
    columns = (
        ["name", "created_on", "login_name", "display_name", "comment"] if node.terse else None
    )
    rows = [_show_row(u) for u in users]
    if columns is None:
        return rows_result(_SHOW_COLUMNS, rows)
    keep = [_SHOW_COLUMNS.index(c) for c in columns]
    return rows_result(columns, [[r[i] for i in keep] for r in rows])


def describe_user(session: Context, node: Describe) -> Result:
    user = find_user(session.catalog, node.name.last)
    if user is None or not (user.name == session.user or has_privilege(session, "MONITOR", user)):
        raise not_found(node.name.last)
    row = dict(zip(_SHOW_COLUMNS, _show_row(user), strict=True))
    order = [
        ("NAME", "name"),
        ("COMMENT", "comment"),
        ("LOGIN_NAME", "login_name"),
        ("DISPLAY_NAME", "display_name"),
        ("FIRST_NAME", "first_name"),
        ("LAST_NAME", "last_name"),
        ("EMAIL", "email"),
        ("PASSWORD", None),
        ("MUST_CHANGE_PASSWORD", "must_change_password"),
        ("DISABLED", "disabled"),
        ("SNOWFLAKE_LOCK", "snowflake_lock"),
        ("DAYS_TO_EXPIRY", "days_to_expiry"),
        ("MINS_TO_UNLOCK", "mins_to_unlock"),
        ("DEFAULT_WAREHOUSE", "default_warehouse"),
        ("DEFAULT_NAMESPACE", "default_namespace"),
        ("DEFAULT_ROLE", "default_role"),
        ("DEFAULT_SECONDARY_ROLES", "default_secondary_roles"),
        ("TYPE", "type"),
        ("HAS_PASSWORD", "has_password"),
    ]
    rows = []
    for prop, column in order:
        if column is None:  # the hash is never shown, only that there is one
            value = "********" if "PASSWORD_HASH" in user.props else None
        else:
            value = row[column]
        rows.append((prop, None if value is None else str(value), None, None))
    return rows_result(["property", "value", "default", "description"], rows, "DESCRIBE")


HANDLERS: dict[tuple[str, str], Handler] = {
    ("Create", "USER"): create_user,
    ("Alter", "USER"): alter_user,
    ("Drop", "USER"): drop_user,
    ("Show", "USER"): show_users,
    ("Describe", "USER"): describe_user,
}
