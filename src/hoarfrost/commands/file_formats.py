"""CREATE / ALTER / DROP / SHOW / DESCRIBE FILE FORMAT, and how a statement's format is found:
``FILE_FORMAT = (FORMAT_NAME = 'f')``, ``FILE_FORMAT = (TYPE = CSV ...)`` or the stage's own."""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
from typing import Any

from hoarfrost.catalog.file_formats import describe_rows, normalize, plain
from hoarfrost.catalog.lookup import display_name, like_to_glob, not_found
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.commands.common import schema_exists
from hoarfrost.engine.context import Context, Handler
from hoarfrost.engine.result import Result, rows_result, status_result
from hoarfrost.errors import InvalidValue, ObjectAlreadyExists
from hoarfrost.sql.ast import Alter, Create, Describe, Drop, Name, Show
from hoarfrost.sql.names import parse_name

__all__ = ["HANDLERS", "find_format", "resolve_format"]

_KIND = "FILE FORMAT"


def find_format(context: Context, name: Name) -> CatalogObject | None:
    db, schema, fmt = context.qualify(name)
    key = (_KIND, db, schema, fmt, "")
    found = context.temp_objects.get(key)
    return found if found is not None else context.catalog.get(*key)


def resolve_format(
    context: Context, given: dict[str, Any], base: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The complete format a statement uses: a named format, or ``given`` over ``base``."""
    name = given.get("FORMAT_NAME")
    if name is not None:
        obj = find_format(context, parse_name(str(name)))
        if obj is None:
            raise _missing(context, parse_name(str(name)))
        return dict(obj.props["format"])
    # A statement's format with a TYPE stands alone; bare options adjust the stage's format.
    base_format = resolve_format(context, base) if base and "TYPE" not in given else None
    return normalize(given, base_format)


def _missing(context: Context, name: Name) -> InvalidValue:
    db, schema, fmt = context.qualify(name)
    return InvalidValue(
        f"SQL compilation error:\nFile format '{display_name(db, schema, fmt)}' does not exist "
        "or not authorized.",
        errno=2003,
        sqlstate="02000",
    )


def create_format(context: Context, node: Create) -> Result:
    db, schema, name = context.qualify(node.name)
    if not schema_exists(context, db, schema):
        raise not_found(display_name(db, schema, ""))
    options = {k: plain(v) for k, v in node.props.items()}
    obj = CatalogObject(_KIND, db, schema, name, owner=context.role)
    obj.comment = str(options["COMMENT"]) if "COMMENT" in options else None
    obj.props = {"format": normalize(options), "temporary": node.temporary}
    existing = find_format(context, node.name)
    if existing is not None and bool(existing.props.get("temporary")) == node.temporary:
        if node.if_not_exists:
            return status_result(f"{name} already exists, statement succeeded.")
        if not node.or_replace:
            raise ObjectAlreadyExists(f"SQL compilation error:\nObject '{name}' already exists.")
    if node.temporary:
        context.temp_objects[obj.key] = obj
    else:
        context.catalog.put(obj)
    return status_result(f"File format {name} successfully created.")


def _store(context: Context, obj: CatalogObject, delete: bool = False) -> None:
    temporary = obj.props.get("temporary")
    if delete:
        context.temp_objects.pop(obj.key, None) if temporary else context.catalog.delete(obj)
    elif temporary:
        context.temp_objects[obj.key] = obj
    else:
        context.catalog.put(obj)


def drop_format(context: Context, node: Drop) -> Result:
    obj = find_format(context, node.name)
    if obj is None:
        if node.if_exists:
            return status_result(
                f"Drop statement executed successfully ({node.name.last} already dropped)."
            )
        raise _missing(context, node.name)
    _store(context, obj, delete=True)
    return status_result(f"{obj.name} successfully dropped.")


def alter_format(context: Context, node: Alter) -> Result:
    assert node.name is not None
    obj = find_format(context, node.name)
    if obj is None:
        if node.if_exists:
            return status_result("Statement executed successfully.")
        raise _missing(context, node.name)
    if node.rename_to is not None:
        db, schema, name = context.qualify(node.rename_to)
        if find_format(context, node.rename_to) is not None:
            raise ObjectAlreadyExists(f"SQL compilation error:\nObject '{name}' already exists.")
        _store(context, obj, delete=True)
        _store(context, obj.evolve(database=db, schema=schema, name=name))
        return status_result("Statement executed successfully.")
    options = {k: plain(v) for k, v in node.set.items()}
    if "COMMENT" in options:
        obj.comment = str(options.pop("COMMENT"))
    if options:
        obj.props["format"] = normalize(options, obj.props["format"])
    for key in node.unset:
        if key == "COMMENT":
            obj.comment = None
        else:
            kind = obj.props["format"]["TYPE"]
            default = normalize({"TYPE": kind})
            if key not in default:
                raise InvalidValue(f"SQL compilation error:\ninvalid property '{key}'.")
            obj.props["format"][key] = default[key]
    _store(context, obj)
    return status_result("Statement executed successfully.")


_SHOW_COLUMNS = (
    "created_on",
    "name",
    "database_name",
    "schema_name",
    "type",
    "owner",
    "comment",
    "format_options",
    "owner_role_type",
)


def show_formats(context: Context, node: Show) -> Result:
    found = [o for o in context.temp_objects.values() if o.kind == _KIND]
    found += context.catalog.list(_KIND)
    if node.in_kind != "ACCOUNT":
        db = node.in_name.parts[0] if node.in_name is not None else context.database
        schema = (
            node.in_name.parts[-1]
            if node.in_name is not None and len(node.in_name.parts) == 2
            else (context.schema if node.in_name is None else None)
        )
        found = [
            o
            for o in found
            if (db is None or o.database == db) and (schema is None or o.schema == schema)
        ]
    if node.like is not None:
        glob = like_to_glob(node.like).upper()
        found = [o for o in found if fnmatch.fnmatchcase(o.name.upper(), glob)]
    found.sort(key=lambda o: (o.database, o.schema, o.name))
    rows = [_show_row(o) for o in found]
    return rows_result(_SHOW_COLUMNS, rows)


def _show_row(obj: CatalogObject) -> tuple[Any, ...]:
    fmt = obj.props["format"]
    created = obj.created_on
    if isinstance(created, dt.datetime) and created.tzinfo is None:
        created = created.replace(tzinfo=dt.timezone.utc)
    options = json.dumps({k: v for k, v in fmt.items() if k != "TYPE"})
    return (
        created,
        obj.name,
        obj.database,
        obj.schema,
        fmt["TYPE"],
        obj.owner,
        obj.comment or "",
        options,
        "ROLE",
    )


def describe_format(context: Context, node: Describe) -> Result:
    obj = find_format(context, node.name)
    if obj is None:
        raise _missing(context, node.name)
    rows = describe_rows(obj.props["format"])
    columns = ("property", "property_type", "property_value", "property_default")
    return rows_result(columns, rows, "DESCRIBE")


HANDLERS: dict[tuple[str, str], Handler] = {
    ("Create", _KIND): create_format,
    ("Drop", _KIND): drop_format,
    ("Alter", _KIND): alter_format,
    ("Show", _KIND): show_formats,
    ("Describe", _KIND): describe_format,
}
