"""PACKAGES POLICY objects and the account's policy (SPEC.md section 5)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from hoarfrost.catalog.objects import (
    drop_object,
    find,
    find_for_alter,
    show_objects,
    store_new,
)
from hoarfrost.catalog.privileges import require_account_admin, require_ownership
from hoarfrost.catalog.props import Props
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.engine.result import Result, rows_result, status_result
from hoarfrost.errors import InvalidValue, ProgrammingError, UnsupportedFeature
from hoarfrost.packages.policy import PackageSpec, Policy
from hoarfrost.sql.ast import Alter, Create, Describe, Drop, Show

if TYPE_CHECKING:
    from hoarfrost.engine.session import Session

__all__ = ["HANDLERS", "account_policy", "set_account_policy", "unset_account_policy"]

_LISTS = {
    "ALLOWLIST": ("allowlist", ["*"]),
    "BLOCKLIST": ("blocklist", []),
    "ADDITIONAL_CREATION_BLOCKLIST": ("additional_creation_blocklist", []),
}
_PROPS = {"LANGUAGE", *_LISTS, "COMMENT"}
_POLICY_PARAM = "PACKAGES_POLICY"


def _specs(props: Props, key: str) -> list[str] | None:
    values = props.strings(key)
    if values is not None:
        for value in values:
            PackageSpec.parse(value, prop=key)
    return values


def create_policy(session: Session, node: Create) -> Result:
    props = Props(node.props, "PACKAGES POLICY", _PROPS)
    language = props.word("LANGUAGE", required=True)
    if language != "PYTHON":
        raise UnsupportedFeature(
            f"Packages policies for LANGUAGE {language} are not supported; use LANGUAGE PYTHON."
        )
    db, schema, name = session.qualify(node.name)
    obj = CatalogObject(
        "PACKAGES POLICY", db, schema, name, owner=session.role, comment=props.string("COMMENT")
    )
    obj.props = {"language": "PYTHON", "version": 1}
    for key, (field, default) in _LISTS.items():
        value = _specs(props, key)
        obj.props[field] = default if value is None else value
    if node.or_replace and account_policy_object(session) is not None:
        current = account_policy_object(session)
        assert current is not None
        if current.key == obj.key:
            obj.props["version"] = int(current.props.get("version", 1)) + 1
    return store_new(session, obj, or_replace=node.or_replace, if_not_exists=node.if_not_exists)


def alter_policy(session: Session, node: Alter) -> Result:
    assert node.name is not None
    obj = find_for_alter(session, "PACKAGES POLICY", node.name, node.if_exists)
    if obj is None:
        return status_result("Statement executed successfully.")
    require_ownership(session, obj)
    props = Props(node.set, "PACKAGES POLICY", _PROPS)
    if "LANGUAGE" in props:
        raise InvalidValue(
            "SQL compilation error:\nLANGUAGE of a packages policy cannot be altered."
        )
    for key, (field, _default) in _LISTS.items():
        value = _specs(props, key)
        if value is not None:
            obj.props[field] = value
    if "COMMENT" in props:
        obj.comment = props.string("COMMENT")
    for key in node.unset:
        if key == "COMMENT":
            obj.comment = None
        elif key in _LISTS:
            field, default = _LISTS[key]
            obj.props[field] = default
        else:
            raise InvalidValue(
                f"SQL compilation error:\nUNSET {key} is not valid for a PACKAGES POLICY; "
                f"unsettable: {', '.join([*_LISTS, 'COMMENT'])}."
            )
    obj.props["version"] = int(obj.props.get("version", 1)) + 1
    session.engine.catalog.put(obj)
    return status_result("Statement executed successfully.")


def _refuse_if_attached(session: Session, obj: CatalogObject) -> None:
    require_ownership(session, obj)
    current = account_policy_object(session)
    if current is not None and current.key == obj.key:
        raise ProgrammingError(
            f"SQL compilation error:\nPackages policy '{obj.name}' is set on the account and "
            "cannot be dropped; run ALTER ACCOUNT UNSET PACKAGES POLICY first.",
            errno=3213,
            sqlstate="22000",
        )


def drop_policy(session: Session, node: Drop) -> Result:
    return drop_object(
        session,
        "PACKAGES POLICY",
        node.name,
        node.if_exists,
        before=lambda o: _refuse_if_attached(session, o),
    )


def show_policies(session: Session, node: Show) -> Result:
    columns = ["created_on", "name", "database_name", "schema_name", "kind", "owner", "comment"]
    return show_objects(
        session,
        node,
        columns,
        lambda o: (
            o.created_on,
            o.name,
            o.database,
            o.schema,
            "PACKAGES_POLICY",
            o.owner,
            o.comment,
        ),
    )


def _list_text(values: list[str]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def describe_policy(session: Session, node: Describe) -> Result:
    obj = find(session, "PACKAGES POLICY", node.name)
    p = obj.props
    columns = [
        "name",
        "language",
        "allowlist",
        "blocklist",
        "additional_creation_blocklist",
        "comment",
    ]
    row = (
        obj.name,
        p["language"],
        _list_text(p["allowlist"]),
        _list_text(p["blocklist"]),
        _list_text(p["additional_creation_blocklist"]),
        obj.comment,
    )
    return rows_result(columns, [row], "DESCRIBE")


# -- the account's policy ---------------------------------------------------------------
def account_policy_object(session: Session) -> CatalogObject | None:
    value = session.engine.catalog.get_param("ACCOUNT", "", _POLICY_PARAM)
    if not value:
        return None
    db, schema, name = value.split(".", 2)
    return session.engine.catalog.get("PACKAGES POLICY", db, schema, name)


def account_policy(session: Session) -> Policy | None:
    """The account's policy, or None when none is set (everything allowed)."""
    obj = account_policy_object(session)
    if obj is None:
        return None
    p = obj.props
    policy = Policy.from_strings(p["allowlist"], p["blocklist"], p["additional_creation_blocklist"])
    return Policy(
        policy.allowlist,
        policy.blocklist,
        policy.additional_creation_blocklist,
        version=f"{obj.database}.{obj.schema}.{obj.name}:{p.get('version', 1)}",
    )


def set_account_policy(session: Session, name_text: str, force: bool) -> Result:
    require_account_admin(session, "APPLY PACKAGES POLICY")
    from hoarfrost.sql.names import parse_name

    obj = find(session, "PACKAGES POLICY", parse_name(name_text))
    current = account_policy_object(session)
    if current is not None and current.key != obj.key and not force:
        raise ProgrammingError(
            f"SQL compilation error:\nThe account already has packages policy "
            f"'{current.qualified}'; use FORCE to replace it, or ALTER ACCOUNT UNSET PACKAGES "
            "POLICY first.",
            errno=3214,
            sqlstate="22000",
        )
    session.engine.catalog.set_param(
        "ACCOUNT", "", _POLICY_PARAM, f"{obj.database}.{obj.schema}.{obj.name}"
    )
    return status_result("Statement executed successfully.")


def unset_account_policy(session: Session) -> None:
    require_account_admin(session, "APPLY PACKAGES POLICY")
    session.engine.catalog.set_param("ACCOUNT", "", _POLICY_PARAM, None)


HANDLERS: dict[tuple[str, str], Callable[..., Result]] = {
    ("Create", "PACKAGES POLICY"): create_policy,
    ("Alter", "PACKAGES POLICY"): alter_policy,
    ("Drop", "PACKAGES POLICY"): drop_policy,
    ("Show", "PACKAGES POLICY"): show_policies,
    ("Describe", "PACKAGES POLICY"): describe_policy,
}
