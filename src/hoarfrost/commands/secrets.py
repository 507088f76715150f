"""SECRET objects (SPEC.md section 2): PASSWORD and GENERIC_STRING, values encrypted at rest.

Only the username and comment are stored in clear; the password or secret string is encrypted
with the account key, bound to the secret's identity, and decrypted only by
:func:`read_credentials` for the component that talks to the repository.
"""

from __future__ import annotations

from hoarfrost.catalog.lookup import find, find_for_alter
from hoarfrost.catalog.privileges import require_ownership, require_usage
from hoarfrost.catalog.props import Props
from hoarfrost.catalog.secrets import encrypt_secret
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.commands.common import drop_object, show_objects, store_new
from hoarfrost.engine.context import Context, Handler
from hoarfrost.engine.result import Result, rows_result, status_result
from hoarfrost.errors import InvalidValue, UnsupportedFeature
from hoarfrost.sql.ast import Alter, Create, Describe, Drop, Show

__all__ = ["HANDLERS"]

_SUPPORTED = (
    "PASSWORD (USERNAME and PASSWORD, for user names with passwords or tokens) and "
    "GENERIC_STRING (SECRET_STRING, for a bearer token)"
)
_UNSUPPORTED_TYPES = {"OAUTH2", "CLOUD_PROVIDER_TOKEN", "SYMMETRIC_KEY", "AUTHENTICATION"}
_FIELDS = {"PASSWORD": ("USERNAME", "PASSWORD"), "GENERIC_STRING": ("SECRET_STRING",)}
_SECRET_FIELDS = {"PASSWORD", "SECRET_STRING"}
_ALL = {
    "TYPE",
    "USERNAME",
    "PASSWORD",
    "SECRET_STRING",
    "COMMENT",
    "OAUTH_SCOPES",
    "OAUTH_REFRESH_TOKEN",
    "OAUTH_REFRESH_TOKEN_EXPIRY_TIME",
    "API_AUTHENTICATION",
    "ALGORITHM",
    "SECRET_STRING_BASE64",
}


def _secret_type(props: Props) -> str:
    word = props.word("TYPE", required=True)
    assert word is not None
    if word in _UNSUPPORTED_TYPES:
        raise UnsupportedFeature(
            f"Secret type {word} is not supported for artifact repositories; supported secret "
            f"types are {_SUPPORTED}."
        )
    if word not in _FIELDS:
        raise InvalidValue(
            f"SQL compilation error:\ninvalid value '{word}' for property TYPE of SECRET; "
            f"supported: {_SUPPORTED}."
        )
    return word


def _check_fields(props: Props, secret_type: str, creating: bool) -> None:
    fields = _FIELDS[secret_type]
    for key in props.props:
        if key in ("TYPE", "COMMENT"):
            continue
        if key not in fields:
            raise InvalidValue(
                f"SQL compilation error:\nproperty {key} is not valid for a secret of TYPE = "
                f"{secret_type}; it takes {' and '.join(fields)}."
            )
    if creating:
        for key in fields:
            if key not in props:
                raise props.missing(key)


def create_secret(session: Context, node: Create) -> Result:
    props = Props(node.props, "SECRET", _ALL)
    secret_type = _secret_type(props)
    _check_fields(props, secret_type, creating=True)
    db, schema, name = session.qualify(node.name)
    obj = CatalogObject(
        "SECRET", db, schema, name, owner=session.role, comment=props.string("COMMENT")
    )
    value_key = "PASSWORD" if secret_type == "PASSWORD" else "SECRET_STRING"
    obj.props = {"secret_type": secret_type, "username": props.string("USERNAME")}
    obj.secret = encrypt_secret(session.keyring, obj, props.string(value_key) or "")
    return store_new(session, obj, or_replace=node.or_replace, if_not_exists=node.if_not_exists)


def alter_secret(session: Context, node: Alter) -> Result:
    assert node.name is not None
    obj = find_for_alter(session, "SECRET", node.name, node.if_exists)
    if obj is None:
        return status_result("Statement executed successfully.")
    require_ownership(session, obj)
    if node.unset:
        for key in node.unset:
            if key != "COMMENT":
                raise InvalidValue(
                    f"SQL compilation error:\nUNSET {key} is not valid for a SECRET; only "
                    "COMMENT can be unset."
                )
        obj.comment = None
    if node.set:
        props = Props(node.set, "SECRET", _ALL - {"TYPE"} | {"TYPE"})
        if "TYPE" in props:
            raise InvalidValue(
                "SQL compilation error:\nTYPE of a secret cannot be altered; create a new secret."
            )
        secret_type = obj.props["secret_type"]
        _check_fields(props, secret_type, creating=False)
        if "USERNAME" in props:
            obj.props["username"] = props.string("USERNAME")
        for key in _SECRET_FIELDS & set(props.keys()):
            obj.secret = encrypt_secret(session.keyring, obj, props.string(key) or "")
        if "COMMENT" in props:
            obj.comment = props.string("COMMENT")
    session.catalog.put(obj)
    return status_result("Statement executed successfully.")


def drop_secret(session: Context, node: Drop) -> Result:
    return drop_object(
        session, "SECRET", node.name, node.if_exists, before=lambda o: require_ownership(session, o)
    )


_SHOW_COLUMNS = [
    "created_on",
    "name",
    "schema_name",
    "database_name",
    "owner",
    "comment",
    "secret_type",
    "owner_role_type",
]


def _type_label(obj: CatalogObject) -> str:
    return "PASSWORD" if obj.props["secret_type"] == "PASSWORD" else "GENERIC"


def show_secrets(session: Context, node: Show) -> Result:
    return show_objects(
        session,
        node,
        _SHOW_COLUMNS,
        lambda o: (
            o.created_on,
            o.name,
            o.schema,
            o.database,
            o.owner,
            o.comment,
            _type_label(o),
            "ROLE",
        ),
    )


def describe_secret(session: Context, node: Describe) -> Result:
    obj = find(session, "SECRET", node.name)
    require_usage(session, obj)
    columns = [
        "created_on",
        "name",
        "schema_name",
        "database_name",
        "owner",
        "comment",
        "secret_type",
        "username",
    ]
    row = (
        obj.created_on,
        obj.name,
        obj.schema,
        obj.database,
        obj.owner,
        obj.comment,
        _type_label(obj),
        obj.props.get("username"),
    )
    return rows_result(columns, [row], "DESCRIBE")


HANDLERS: dict[tuple[str, str], Handler] = {
    ("Create", "SECRET"): create_secret,
    ("Alter", "SECRET"): alter_secret,
    ("Drop", "SECRET"): drop_secret,
    ("Show", "SECRET"): show_secrets,
    ("Describe", "SECRET"): describe_secret,
}
