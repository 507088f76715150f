"""Tags: CREATE / DROP / SHOW TAGS, ALTER <object> SET TAG / UNSET TAG, SYSTEM$GET_TAG.

A tag is a schema-level catalog object (kind TAG, its ALLOWED_VALUES in its props); the value
an object carries is kept in the catalog's parameters table under scope ``TAG``, target
``<KIND>:<db>.<schema>.<name>`` and the tag's qualified name. Setting a tag needs the tag's
OWNERSHIP or APPLY on it (or APPLY TAG on the account) and OWNERSHIP of the object.
"""

from __future__ import annotations

from typing import Any

from hoarfrost.catalog.lookup import find, not_found
from hoarfrost.catalog.privileges import has_account_privilege, has_privilege
from hoarfrost.catalog.relations import database as database_record
from hoarfrost.catalog.relations import relation
from hoarfrost.catalog.relations import schema as schema_record
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.commands.common import drop_object, show_objects, store_new
from hoarfrost.engine.context import Context, Handler, SystemFunction
from hoarfrost.engine.result import Result, status_result
from hoarfrost.errors import InsufficientPrivileges, InvalidValue
from hoarfrost.sql.arguments import name_argument
from hoarfrost.sql.ast import Create, Drop, Name, SetTags, Show
from hoarfrost.sql.tag_statements import joined_values

__all__ = ["HANDLERS", "SYSTEM_FUNCTIONS"]


def create_tag(session: Context, node: Create) -> Result:
    db, schema, name = session.qualify(node.name)
    allowed = node.props.get("ALLOWED_VALUES")
    comment = node.props.get("COMMENT")
    props: dict[str, Any] = {}
    if allowed is not None:
        props["allowed_values"] = joined_values(getattr(allowed, "value", ""))
    obj = CatalogObject(
        "TAG",
        db,
        schema,
        name,
        owner=session.role,
        comment=getattr(comment, "value", None),
        props=props,
    )
    return store_new(session, obj, or_replace=node.or_replace, if_not_exists=node.if_not_exists)


def drop_tag(session: Context, node: Drop) -> Result:
    def forget_values(tag: CatalogObject) -> None:
        if not has_privilege(session, "OWNERSHIP", tag):
            raise InsufficientPrivileges(
                "SQL access control error:\nInsufficient privileges to operate on tag "
                f"'{tag.name}'."
            )
        session.catalog.execute(
            "DELETE FROM parameters WHERE scope = 'TAG' AND name = ?", [_qualified(tag)]
        )

    return drop_object(session, "TAG", node.name, node.if_exists, before=forget_values)


_SHOW_COLUMNS = [
    "created_on",
    "name",
    "database_name",
    "schema_name",
    "owner",
    "comment",
    "allowed_values",
    "owner_role_type",
]


def show_tags(session: Context, node: Show) -> Result:
    def row(tag: CatalogObject) -> list[Any]:
        allowed = tag.props.get("allowed_values")
        shown = None if allowed is None else "[" + ",".join(f'"{v}"' for v in allowed) + "]"
        return [
            tag.created_on,
            tag.name,
            tag.database,
            tag.schema,
            tag.owner,
            tag.comment or "",
            shown,
            "ROLE",
        ]

    return show_objects(session, node, _SHOW_COLUMNS, row)


def _qualified(tag: CatalogObject) -> str:
    return f"{tag.database}.{tag.schema}.{tag.name}"


def _target(session: Context, kind: str, name: Name) -> tuple[str, CatalogObject | None]:
    """The parameters-table target of a taggable object, and its record when the catalog
    keeps one (for the ownership check)."""
    if kind == "DATABASE":
        return f"DATABASE:{name.last}", database_record(session.catalog, name.last)
    if kind == "WAREHOUSE":
        return f"WAREHOUSE:{name.last}", None
    if kind == "SCHEMA":
        db = name.parts[0] if len(name.parts) == 2 else session.need_database()
        return f"SCHEMA:{db}.{name.last}", schema_record(session.catalog, db, name.last)
    db, schema, obj_name = session.qualify(name)
    if kind == "STAGE":
        return f"STAGE:{db}.{schema}.{obj_name}", find(session, "STAGE", name)
    record = relation(session.catalog, db, schema, obj_name)
    return f"{kind}:{db}.{schema}.{obj_name}", record


def set_tags(session: Context, node: SetTags) -> Result:
    target, record = _target(session, node.kind, node.name)
    if record is not None and not has_privilege(session, "OWNERSHIP", record):
        raise InsufficientPrivileges(
            "SQL access control error:\nInsufficient privileges to operate on "
            f"{node.kind.lower()} '{node.name.last}'."
        )
    catalog = session.catalog
    with catalog.transaction():
        for tag_name, value in node.set:
            tag = _applicable(session, tag_name)
            allowed = tag.props.get("allowed_values")
            if allowed is not None and value not in allowed:
                raise InvalidValue(
                    f"SQL compilation error:\nTag {tag.name} cannot be set to '{value}': "
                    f"its ALLOWED_VALUES are {', '.join(repr(v) for v in allowed)}."
                )
            catalog.set_param("TAG", target, _qualified(tag), value)
        for tag_name in node.unset:
            catalog.set_param("TAG", target, _qualified(_applicable(session, tag_name)), None)
    return status_result("Statement executed successfully.")


def _applicable(session: Context, name: Name) -> CatalogObject:
    tag = find(session, "TAG", name)
    if not (has_privilege(session, "APPLY", tag) or has_account_privilege(session, "APPLY TAG")):
        raise not_found(tag.qualified)
    return tag


def _get_tag(session: Context, args: list[str]) -> str | None:
    """SYSTEM$GET_TAG('<tag>', '<object>', '<domain>'): the value the object carries, or NULL."""
    if len(args) != 3:
        raise InvalidValue("SQL compilation error:\nSYSTEM$GET_TAG takes 3 argument(s).")
    tag = find(session, "TAG", name_argument(args[0]))
    domain = args[2].strip().upper()
    if domain not in ("TABLE", "VIEW", "SCHEMA", "DATABASE", "STAGE", "WAREHOUSE"):
        raise InvalidValue(
            f"SQL compilation error:\nSYSTEM$GET_TAG cannot read tags of a {domain.lower()}."
        )
    target, _ = _target(session, domain, name_argument(args[1]))
    return session.catalog.get_param("TAG", target, _qualified(tag))


SYSTEM_FUNCTIONS: dict[str, SystemFunction] = {"SYSTEM$GET_TAG": _get_tag}

HANDLERS: dict[tuple[str, str], Handler] = {
    ("Create", "TAG"): create_tag,
    ("Drop", "TAG"): drop_tag,
    ("Show", "TAG"): show_tags,
    **{
        ("SetTags", kind): set_tags
        for kind in ("TABLE", "VIEW", "SCHEMA", "DATABASE", "STAGE", "WAREHOUSE")
    },
}
