"""CREATE / ALTER / DROP / SHOW / DESCRIBE API INTEGRATION with API_PROVIDER =
ARTIFACT_REPOSITORY_API (SPEC.md section 3)."""

from __future__ import annotations

from typing import Any

from hoarfrost.catalog.integrations import PROVIDER
from hoarfrost.catalog.lookup import find, find_for_alter
from hoarfrost.catalog.privileges import require_account_admin
from hoarfrost.catalog.props import Props
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.commands.common import drop_object, show_objects, store_new
from hoarfrost.engine.context import Context, Handler
from hoarfrost.engine.result import Result, rows_result, status_result
from hoarfrost.errors import InvalidValue, UnsupportedFeature
from hoarfrost.packages.prefixes import Prefix
from hoarfrost.sql.ast import Alter, Create, Describe, Drop, Ident, ListValue, Show

__all__ = ["HANDLERS"]

_CREATE_PROPS = {
    "API_PROVIDER",
    "API_ALLOWED_PREFIXES",
    "API_BLOCKED_PREFIXES",
    "ALLOWED_AUTHENTICATION_SECRETS",
    "USE_PRIVATELINK_ENDPOINT",
    "ENABLED",
    "COMMENT",
    "API_AWS_ROLE_ARN",
    "API_KEY",
    "API_USER_AUTHENTICATION",
}
_ALTER_PROPS = {
    "ENABLED",
    "API_ALLOWED_PREFIXES",
    "API_BLOCKED_PREFIXES",
    "ALLOWED_AUTHENTICATION_SECRETS",
    "USE_PRIVATELINK_ENDPOINT",
    "COMMENT",
    "API_PROVIDER",
}
_UNSUPPORTED_PROPS = {
    "API_AWS_ROLE_ARN": "IAM roles",
    "API_KEY": "API keys",
    "API_USER_AUTHENTICATION": "OAuth user authentication",
}


def _prefixes(props: Props, key: str, required: bool) -> list[str] | None:
    values = props.strings(key)
    if values is None:
        if required:
            raise props.missing(key)
        return None
    if required and not values:
        raise InvalidValue(
            f"SQL compilation error:\n{key} must list at least one URL prefix, e.g. "
            "('https://nexus.example.com')."
        )
    for value in values:
        Prefix.parse(value, prop=key)
    return values


def _secrets(session: Context, props: Props) -> Any:
    value = props.props.get("ALLOWED_AUTHENTICATION_SECRETS")
    if value is None:
        return None
    if isinstance(value, Ident) and value.name.last in ("ALL", "NONE"):
        return value.name.last
    if isinstance(value, ListValue) and len(value.items) == 1:
        only = value.items[0]
        if isinstance(only, Ident) and only.name.last in ("ALL", "NONE"):
            return only.name.last
    names = props.names("ALLOWED_AUTHENTICATION_SECRETS") or []
    out = []
    for name in names:
        obj = find(session, "SECRET", name)
        out.append(f"{obj.database}.{obj.schema}.{obj.name}")
    return out


def _reject_unsupported(props: Props) -> None:
    for key, what in _UNSUPPORTED_PROPS.items():
        if key in props:
            raise UnsupportedFeature(
                f"{key} ({what}) is not supported for artifact repositories: authenticate with a "
                "SECRET of TYPE = PASSWORD or GENERIC_STRING listed in "
                "ALLOWED_AUTHENTICATION_SECRETS."
            )


def _check_provider(props: Props) -> None:
    provider = props.word("API_PROVIDER", required=True)
    if provider != PROVIDER:
        raise UnsupportedFeature(
            f"API_PROVIDER = {provider} is not supported; hoarfrost supports API_PROVIDER = "
            f"{PROVIDER} (customer-hosted artifact repositories)."
        )


def _check_privatelink(session: Context, enabled: bool | None) -> None:
    if enabled and session.engine.edition not in ("BUSINESS_CRITICAL",):
        raise UnsupportedFeature(
            "USE_PRIVATELINK_ENDPOINT = TRUE requires the Business Critical edition (or higher); "
            f"this account is {session.engine.edition} (set HOARFROST_EDITION when creating the "
            "account)."
        )


def create_integration(session: Context, node: Create) -> Result:
    require_account_admin(session, "CREATE INTEGRATION")
    props = Props(node.props, "API INTEGRATION", _CREATE_PROPS)
    _reject_unsupported(props)
    _check_provider(props)
    privatelink = props.boolean("USE_PRIVATELINK_ENDPOINT") or False
    _check_privatelink(session, privatelink)
    enabled = props.boolean("ENABLED")
    obj = CatalogObject(
        "INTEGRATION", "", "", node.name.last, owner=session.role, comment=props.string("COMMENT")
    )
    obj.props = {
        "api_provider": PROVIDER,
        "allowed_prefixes": _prefixes(props, "API_ALLOWED_PREFIXES", required=True),
        "blocked_prefixes": _prefixes(props, "API_BLOCKED_PREFIXES", required=False) or [],
        "allowed_secrets": _secrets(session, props) or "NONE",
        "use_privatelink_endpoint": privatelink,
        "enabled": True if enabled is None else enabled,
    }
    return store_new(session, obj, or_replace=node.or_replace, if_not_exists=node.if_not_exists)


def alter_integration(session: Context, node: Alter) -> Result:
    assert node.name is not None
    obj = find_for_alter(session, "INTEGRATION", node.name, node.if_exists)
    if obj is None:
        return status_result("Statement executed successfully.")
    require_account_admin(session, "ALTER INTEGRATION")
    props = Props(node.set, "API INTEGRATION", _ALTER_PROPS)
    if "API_PROVIDER" in props:
        raise InvalidValue(
            "SQL compilation error:\nAPI_PROVIDER of an integration cannot be altered; create a "
            "new integration."
        )
    if "ENABLED" in props:
        obj.props["enabled"] = props.boolean("ENABLED")
    if "API_ALLOWED_PREFIXES" in props:
        obj.props["allowed_prefixes"] = _prefixes(props, "API_ALLOWED_PREFIXES", required=True)
    if "API_BLOCKED_PREFIXES" in props:
        obj.props["blocked_prefixes"] = _prefixes(props, "API_BLOCKED_PREFIXES", required=False)
    if "ALLOWED_AUTHENTICATION_SECRETS" in props:
        obj.props["allowed_secrets"] = _secrets(session, props)
    if "USE_PRIVATELINK_ENDPOINT" in props:
        privatelink = props.boolean("USE_PRIVATELINK_ENDPOINT") or False
        _check_privatelink(session, privatelink)
        obj.props["use_privatelink_endpoint"] = privatelink
    if "COMMENT" in props:
        obj.comment = props.string("COMMENT")
    for key in node.unset:
        _unset(obj, key)
    session.catalog.put(obj)
    return status_result("Statement executed successfully.")


_UNSETTABLE: dict[str, tuple[str, Any]] = {
    "COMMENT": ("comment", None),
    "API_BLOCKED_PREFIXES": ("blocked_prefixes", []),
    "ALLOWED_AUTHENTICATION_SECRETS": ("allowed_secrets", "NONE"),
    "ENABLED": ("enabled", True),
    "USE_PRIVATELINK_ENDPOINT": ("use_privatelink_endpoint", False),
}


def _unset(obj: CatalogObject, key: str) -> None:
    if key not in _UNSETTABLE:
        raise InvalidValue(
            f"SQL compilation error:\nUNSET {key} is not valid for an API INTEGRATION; "
            f"unsettable: {', '.join(sorted(_UNSETTABLE))}."
        )
    field, default = _UNSETTABLE[key]
    if field == "comment":
        obj.comment = None
    else:
        obj.props[field] = default


def drop_integration(session: Context, node: Drop) -> Result:
    return drop_object(
        session,
        "INTEGRATION",
        node.name,
        node.if_exists,
        before=lambda o: require_account_admin(session, "DROP INTEGRATION"),
    )


def show_integrations(session: Context, node: Show) -> Result:
    columns = ["name", "type", "category", "enabled", "comment", "created_on"]
    return show_objects(
        session,
        node,
        columns,
        lambda o: (
            o.name,
            f"EXTERNAL_API - {o.props['api_provider']}",
            "API",
            "true" if o.props["enabled"] else "false",
            o.comment,
            o.created_on,
        ),
    )


def _list_text(values: Any) -> str:
    if isinstance(values, str):
        return values
    return ",".join(values or [])


def describe_integration(session: Context, node: Describe) -> Result:
    obj = find(session, "INTEGRATION", node.name)
    p = obj.props
    secrets = p["allowed_secrets"]
    rows = [
        ("ENABLED", "Boolean", "true" if p["enabled"] else "false", "false"),
        ("API_PROVIDER", "String", p["api_provider"], ""),
        ("API_ALLOWED_PREFIXES", "List", _list_text(p["allowed_prefixes"]), "[]"),
        ("API_BLOCKED_PREFIXES", "List", _list_text(p["blocked_prefixes"]), "[]"),
        ("ALLOWED_AUTHENTICATION_SECRETS", "List", _list_text(secrets), "[]"),
        (
            "USE_PRIVATELINK_ENDPOINT",
            "Boolean",
            "true" if p["use_privatelink_endpoint"] else "false",
            "false",
        ),
        ("COMMENT", "String", obj.comment or "", ""),
    ]
    columns = ["property", "property_type", "property_value", "property_default"]
    return rows_result(columns, rows, "DESCRIBE")


HANDLERS: dict[tuple[str, str], Handler] = {
    ("Create", "INTEGRATION"): create_integration,
    ("Alter", "INTEGRATION"): alter_integration,
    ("Drop", "INTEGRATION"): drop_integration,
    ("Show", "INTEGRATION"): show_integrations,
    ("Describe", "INTEGRATION"): describe_integration,
}
