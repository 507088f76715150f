"""ARTIFACT REPOSITORY objects (SPEC.md section 4) and SYSTEM$GET_ARTIFACT_REPOSITORY_INFO."""

from __future__ import annotations

import json

from hoarfrost.catalog.integrations import PROVIDER, secret_allowed
from hoarfrost.catalog.lookup import find, find_for_alter, not_found
from hoarfrost.catalog.privileges import require_usage
from hoarfrost.catalog.props import Props
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.commands.common import drop_object, show_objects, store_new
from hoarfrost.engine.context import Context, Handler
from hoarfrost.engine.result import Result, rows_result, status_result
from hoarfrost.errors import InvalidValue, UnsupportedFeature
from hoarfrost.packages.prefixes import (
    PrefixSet,
    is_loopback_host,
    parse_url,
    redact_url,
    url_has_credentials,
)
from hoarfrost.sql.arguments import name_argument
from hoarfrost.sql.ast import Alter, Create, Describe, Drop, Name, Show

__all__ = ["HANDLERS", "repository_info"]

_PROPS = {
    "TYPE",
    "API_INTEGRATION",
    "INDEX_URL",
    "AUTHENTICATION_SECRET",
    "PACKAGE_RETENTION",
    "COMMENT",
}
_ALTER_PROPS = {
    "INDEX_URL",
    "AUTHENTICATION_SECRET",
    "COMMENT",
    "TYPE",
    "API_INTEGRATION",
    "PACKAGE_RETENTION",
}


def _integration(session: Context, name: Name) -> CatalogObject:
    if len(name.parts) != 1:
        raise not_found(str(name))
    integration = session.catalog.get("INTEGRATION", "", "", name.last)
    if integration is None:
        raise not_found(name.last)
    require_usage(session, integration)
    if integration.props.get("api_provider") != PROVIDER:
        raise InvalidValue(
            f"SQL compilation error:\nIntegration '{name.last}' has API_PROVIDER "
            f"{integration.props.get('api_provider')}; an artifact repository needs an API "
            f"integration with API_PROVIDER = {PROVIDER}."
        )
    return integration


def check_index_url(url: str, integration: CatalogObject) -> None:
    if url_has_credentials(url):
        raise InvalidValue(
            f"SQL compilation error:\nINDEX_URL '{redact_url(url)}' carries credentials; remove "
            "them from the URL and store them in a SECRET named by AUTHENTICATION_SECRET."
        )
    if "?" in url or "#" in url:  # where tokens travel (?token=...): never echoed back
        base = redact_url(url).split("#", 1)[0].split("?", 1)[0]
        raise InvalidValue(
            f"SQL compilation error:\nINDEX_URL '{base}' carries a query string or fragment; "
            "remove it and store a token in a SECRET named by AUTHENTICATION_SECRET."
        )
    parsed = parse_url(url)
    if parsed.scheme != "https" and not (parsed.scheme == "http" and is_loopback_host(parsed.host)):
        raise InvalidValue(
            f"SQL compilation error:\nINDEX_URL '{url}' must use https:// (plain http:// is "
            "accepted only for loopback hosts such as 127.0.0.1 or localhost)."
        )
    props = integration.props
    prefixes = PrefixSet.from_lists(props["allowed_prefixes"], props.get("blocked_prefixes") or [])
    if not prefixes.allows(url):
        raise InvalidValue(
            f"SQL compilation error:\nINDEX_URL '{url}' is not covered by API_ALLOWED_PREFIXES "
            f"of integration {integration.name} (or is matched by its API_BLOCKED_PREFIXES); "
            "add a prefix that covers it to the integration."
        )


def _secret(session: Context, name: Name, integration: CatalogObject) -> CatalogObject:
    secret = find(session, "SECRET", name)
    require_usage(session, secret)
    if not secret_allowed(integration, secret):
        raise InvalidValue(
            f"SQL compilation error:\nSecret '{secret.name}' is not allowed by integration "
            f"{integration.name}; add it to the integration's ALLOWED_AUTHENTICATION_SECRETS."
        )
    return secret


def _check_type(props: Props) -> None:
    repo_type = props.word("TYPE", required=True)
    if repo_type != "PYPI":
        raise UnsupportedFeature(
            f"Artifact repository TYPE = {repo_type} is not supported; use TYPE = PYPI."
        )


def _check_retention(props: Props) -> None:
    retention = props.word("PACKAGE_RETENTION")
    if retention not in (None, "ON_OBJECT_CREATION"):
        raise InvalidValue(
            f"SQL compilation error:\ninvalid value '{retention}' for PACKAGE_RETENTION; the only "
            "value is ON_OBJECT_CREATION (packages are always retained when a function is created)."
        )


def create_repository(session: Context, node: Create) -> Result:
    props = Props(node.props, "ARTIFACT REPOSITORY", _PROPS)
    _check_type(props)
    _check_retention(props)
    integration_name = props.name("API_INTEGRATION", required=True)
    assert integration_name is not None
    integration = _integration(session, integration_name)
    url = props.string("INDEX_URL", required=True) or ""
    check_index_url(url, integration)
    secret_name = props.name("AUTHENTICATION_SECRET")
    secret = _secret(session, secret_name, integration) if secret_name else None
    db, schema, name = session.qualify(node.name)
    obj = CatalogObject(
        "ARTIFACT REPOSITORY", db, schema, name, owner=session.role, comment=props.string("COMMENT")
    )
    obj.props = {
        "type": "PYPI",
        "api_integration": integration.name,
        "index_url": url,
        "authentication_secret": _qualified(secret) if secret else None,
        "package_retention": "ON_OBJECT_CREATION",
    }
    return store_new(session, obj, or_replace=node.or_replace, if_not_exists=node.if_not_exists)


def _qualified(obj: CatalogObject) -> str:
    return f"{obj.database}.{obj.schema}.{obj.name}"


def alter_repository(session: Context, node: Alter) -> Result:
    assert node.name is not None
    obj = find_for_alter(session, "ARTIFACT REPOSITORY", node.name, node.if_exists)
    if obj is None:
        return status_result("Statement executed successfully.")
    require_usage(session, obj)
    props = Props(node.set, "ARTIFACT REPOSITORY", _ALTER_PROPS)
    for fixed in ("TYPE", "API_INTEGRATION"):
        if fixed in props:
            raise InvalidValue(
                f"SQL compilation error:\n{fixed} of an artifact repository cannot be altered; "
                "create a new repository."
            )
    _check_retention(props)
    integration = _integration(session, Name((obj.props["api_integration"],)))
    if "INDEX_URL" in props:
        url = props.string("INDEX_URL") or ""
        check_index_url(url, integration)
        obj.props["index_url"] = url
    secret_name = props.name("AUTHENTICATION_SECRET")
    if secret_name is not None:
        obj.props["authentication_secret"] = _qualified(_secret(session, secret_name, integration))
    if "COMMENT" in props:
        obj.comment = props.string("COMMENT")
    for key in node.unset:
        if key == "COMMENT":
            obj.comment = None
        elif key == "AUTHENTICATION_SECRET":
            obj.props["authentication_secret"] = None
        else:
            raise InvalidValue(
                f"SQL compilation error:\nUNSET {key} is not valid for an ARTIFACT REPOSITORY; "
                "only COMMENT and AUTHENTICATION_SECRET can be unset."
            )
    session.catalog.put(obj)
    return status_result("Statement executed successfully.")


def drop_repository(session: Context, node: Drop) -> Result:
    return drop_object(
        session,
        "ARTIFACT REPOSITORY",
        node.name,
        node.if_exists,
        before=lambda o: require_usage(session, o),
    )


_SHOW_COLUMNS = [
    "created_on",
    "name",
    "database_name",
    "schema_name",
    "type",
    "api_integration",
    "owner",
    "comment",
]


def _row(o: CatalogObject) -> tuple:
    return (
        o.created_on,
        o.name,
        o.database,
        o.schema,
        o.props["type"],
        o.props["api_integration"],
        o.owner,
        o.comment,
    )


def show_repositories(session: Context, node: Show) -> Result:
    return show_objects(session, node, _SHOW_COLUMNS, _row)


def describe_repository(session: Context, node: Describe) -> Result:
    obj = find(session, "ARTIFACT REPOSITORY", node.name)
    require_usage(session, obj)
    columns = [*_SHOW_COLUMNS, "index_url", "authentication_secret"]
    row = (*_row(obj), obj.props["index_url"], obj.props["authentication_secret"])
    return rows_result(columns, [row], "DESCRIBE")


def repository_info(session: Context, name_text: str) -> str:
    """SYSTEM$GET_ARTIFACT_REPOSITORY_INFO: integration, secret name and index URL as JSON."""
    obj = find(session, "ARTIFACT REPOSITORY", name_argument(name_text))
    require_usage(session, obj)
    return json.dumps(
        {
            "name": _qualified(obj),
            "type": obj.props["type"],
            "api_integration": obj.props["api_integration"],
            "authentication_secret": obj.props["authentication_secret"],
            "index_url": obj.props["index_url"],
        }
    )


HANDLERS: dict[tuple[str, str], Handler] = {
    ("Create", "ARTIFACT REPOSITORY"): create_repository,
    ("Alter", "ARTIFACT REPOSITORY"): alter_repository,
    ("Drop", "ARTIFACT REPOSITORY"): drop_repository,
    ("Show", "ARTIFACT REPOSITORY"): show_repositories,
    ("Describe", "ARTIFACT REPOSITORY"): describe_repository,
}
