"""CREATE / ALTER / DROP / SHOW / DESCRIBE PACKAGES POLICY, and ALTER ACCOUNT SET | UNSET
PACKAGES POLICY (SPEC.md section 5)."""

from __future__ import annotations

from hoarfrost.catalog.lookup import find, find_for_alter
from hoarfrost.catalog.policies import POLICY_PARAM, account_policy_object
from hoarfrost.catalog.privileges import require_account_admin, require_ownership
from hoarfrost.catalog.props import Props
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.commands.common import drop_object, show_objects, store_new
from hoarfrost.engine.context import Context, Handler
from hoarfrost.engine.result import Result, rows_result, status_result
from hoarfrost.errors import InvalidValue, ProgrammingError, UnsupportedFeature
from hoarfrost.packages.policy import PackageSpec
from hoarfrost.sql.ast import Alter, Create, Describe, Drop, Name, Show

__all__ = ["HANDLERS", "set_account_policy", "unset_account_policy"]

_LISTS = {
    "ALLOWLIST": ("allowlist", ["*"]),
    "BLOCKLIST": ("blocklist", []),
    "ADDITIONAL_CREATION_BLOCKLIST": ("additional_creation_blocklist", []),
}
_PROPS = {"LANGUAGE", *_LISTS, "COMMENT"}


def _specs(props: Props, key: str) -> list[str] | None:
    values = props.strings(key)
    if values is not None:
        for value in values:
            PackageSpec.parse(value, prop=key)
    return values


def create_policy(session: Context, node: Create) -> Result:
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
    if node.or_replace and account_policy_object(session.catalog) is not None:
        current = account_policy_object(session.catalog)
        assert current is not None
        if current.key == obj.key:
            obj.props["version"] = int(current.props.get("version", 1)) + 1
    return store_new(session, obj, or_replace=node.or_replace, if_not_exists=node.if_not_exists)


def alter_policy(session: Context, node: Alter) -> Result:
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
    session.catalog.put(obj)
    return status_result("Statement executed successfully.")


def _refuse_if_attached(session: Context, obj: CatalogObject) -> None:
    require_ownership(session, obj)
    current = account_policy_object(session.catalog)
    if current is not None and current.key == obj.key:
        raise ProgrammingError(
            f"SQL compilation error:\nPackages policy '{obj.name}' is set on the account and "
            "cannot be dropped; run ALTER ACCOUNT UNSET PACKAGES POLICY first.",
            errno=3213,
            sqlstate="22000",
        )


def drop_policy(session: Context, node: Drop) -> Result:
    return drop_object(
        session,
        "PACKAGES POLICY",
        node.name,
        node.if_exists,
        before=lambda o: _refuse_if_attached(session, o),
    )


def show_policies(session: Context, node: Show) -> Result:
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


def describe_policy(session: Context, node: Describe) -> Result:
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


def set_account_policy(session: Context, name: Name, force: bool) -> Result:
    require_account_admin(session, "APPLY PACKAGES POLICY")
    obj = find(session, "PACKAGES POLICY", name)
    current = account_policy_object(session.catalog)
    if current is not None and current.key != obj.key and not force:
        raise ProgrammingError(
            f"SQL compilation error:\nThe account already has packages policy "
            f"'{current.qualified}'; use FORCE to replace it, or ALTER ACCOUNT UNSET PACKAGES "
            "POLICY first.",
            errno=3214,
            sqlstate="22000",
        )
    session.catalog.set_param(
        "ACCOUNT", "", POLICY_PARAM, f"{obj.database}.{obj.schema}.{obj.name}"
    )
    return status_result("Statement executed successfully.")


def unset_account_policy(session: Context) -> None:
    require_account_admin(session, "APPLY PACKAGES POLICY")
    session.catalog.set_param("ACCOUNT", "", POLICY_PARAM, None)


HANDLERS: dict[tuple[str, str], Handler] = {
    ("Create", "PACKAGES POLICY"): create_policy,
    ("Alter", "PACKAGES POLICY"): alter_policy,
    ("Drop", "PACKAGES POLICY"): drop_policy,
    ("Show", "PACKAGES POLICY"): show_policies,
    ("Describe", "PACKAGES POLICY"): describe_policy,
}
