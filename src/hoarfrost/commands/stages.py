"""Internal stages and their files: CREATE / ALTER / DROP / SHOW / DESCRIBE STAGE, PUT, GET,
LIST / LS and REMOVE / RM (Snowflake's pages of the same names).

A stage is a catalog object (a temporary one lives in its session only) naming a directory of
the account's stage root (``engine/stage_files.py``); the user stage ``@~`` and table stages
``@%t`` need no object. External stages (``URL =``) are refused: hoarfrost keeps files only in
the account's own storage.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from typing import Any

from hoarfrost.catalog.file_formats import describe_rows, options_json
from hoarfrost.catalog.lookup import display_name, like_to_glob
from hoarfrost.catalog.props import Props
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.commands.common import schema_exists
from hoarfrost.commands.file_formats import resolve_format
from hoarfrost.engine.context import Context, Handler
from hoarfrost.engine.result import Result, rows_result, status_result
from hoarfrost.engine.stage_files import new_area_id
from hoarfrost.engine.stage_refs import area_of, find_stage, locate, stage_missing
from hoarfrost.engine.stage_transfer import SOURCE_COMPRESSIONS, Download, Upload
from hoarfrost.errors import InvalidValue, ObjectAlreadyExists, UnsupportedFeature
from hoarfrost.sql.ast import (
    Alter,
    Create,
    Describe,
    Drop,
    Get,
    ListFiles,
    Put,
    RemoveFiles,
    Show,
)

__all__ = ["HANDLERS"]

_CREATE_PROPS = {
    "FILE_FORMAT",
    "COPY_OPTIONS",
    "COMMENT",
    "DIRECTORY",
    "ENCRYPTION",
    "URL",
    "STORAGE_INTEGRATION",
    "CREDENTIALS",
    "TAG",
}
_EXTERNAL = ("URL", "STORAGE_INTEGRATION", "CREDENTIALS")


# -- CREATE / ALTER / DROP ---------------------------------------------------------------
def create_stage(context: Context, node: Create) -> Result:
    props = Props(node.props, "STAGE", _CREATE_PROPS)
    for key in _EXTERNAL:
        if key in props:
            raise UnsupportedFeature(
                f"External stages ({key} = ...) are not supported by hoarfrost: create an internal "
                "stage (CREATE STAGE name) and load files into it with PUT."
            )
    db, schema, name = context.qualify(node.name)
    if not schema_exists(context, db, schema):
        raise InvalidValue(
            f"SQL compilation error:\nSchema '{display_name(db, schema, '')}' does not exist or "
            "not authorized.",
            errno=2003,
            sqlstate="02000",
        )
    directory = options_json(node.props.get("DIRECTORY"), "DIRECTORY")
    obj = CatalogObject("STAGE", db, schema, name, owner=context.role)
    obj.comment = props.string("COMMENT")
    obj.props = {
        "area": new_area_id(),
        "temporary": node.temporary,
        "file_format": options_json(node.props.get("FILE_FORMAT"), "FILE_FORMAT"),
        "copy_options": options_json(node.props.get("COPY_OPTIONS"), "COPY_OPTIONS"),
        "directory": bool(directory.get("ENABLE", False)),
    }
    resolve_format(context, obj.props["file_format"])  # a bad format fails the CREATE
    existing = find_stage(context, node.name)
    if existing is not None and existing.props.get("temporary") != node.temporary:
        existing = None if node.temporary else existing
    if existing is not None:
        if node.if_not_exists:
            return status_result(f"{name} already exists, statement succeeded.")
        if not node.or_replace:
            raise ObjectAlreadyExists(f"SQL compilation error:\nObject '{name}' already exists.")
    if node.temporary:
        context.temp_objects[obj.key] = obj
    else:
        context.catalog.put(obj)
    if existing is not None:
        area_of(context, existing).discard()
    return status_result(f"Stage area {name} successfully created.")


def drop_stage(context: Context, node: Drop) -> Result:
    obj = find_stage(context, node.name)
    if obj is None:
        if node.if_exists:
            return status_result(
                f"Drop statement executed successfully ({node.name.last} already dropped)."
            )
        raise stage_missing(display_name(*context.qualify(node.name)))
    if obj.props.get("temporary"):
        context.temp_objects.pop(obj.key, None)
    else:
        context.catalog.delete(obj)
    area_of(context, obj).discard()
    return status_result(f"{obj.name} successfully dropped.")


_ALTER_PROPS = {"FILE_FORMAT", "COPY_OPTIONS", "COMMENT", "DIRECTORY", "URL", "TAG"}


def alter_stage(context: Context, node: Alter) -> Result:
    assert node.name is not None
    obj = find_stage(context, node.name)
    if obj is None:
        if node.if_exists:
            return status_result("Statement executed successfully.")
        raise stage_missing(display_name(*context.qualify(node.name)))
    store = _store_for(context, obj)
    if node.rename_to is not None:
        db, schema, name = context.qualify(node.rename_to)
        if find_stage(context, node.rename_to) is not None:
            raise ObjectAlreadyExists(f"SQL compilation error:\nObject '{name}' already exists.")
        store(obj, delete=True)
        obj = obj.evolve(database=db, schema=schema, name=name)
        store(obj, delete=False)
        return status_result("Statement executed successfully.")
    props = Props(node.set, "STAGE", _ALTER_PROPS)
    if "URL" in props:
        raise UnsupportedFeature("External stages (URL = ...) are not supported by hoarfrost.")
    for key, field in (("FILE_FORMAT", "file_format"), ("COPY_OPTIONS", "copy_options")):
        if key in props:
            obj.props[field] = options_json(node.set.get(key), key)
    resolve_format(context, obj.props.get("file_format") or {})
    if "DIRECTORY" in props:
        directory = options_json(node.set.get("DIRECTORY"), "DIRECTORY")
        obj.props["directory"] = bool(directory.get("ENABLE", obj.props.get("directory")))
    if "COMMENT" in props:
        obj.comment = props.string("COMMENT")
    for key in node.unset:
        if key == "COMMENT":
            obj.comment = None
        elif key in ("FILE_FORMAT", "COPY_OPTIONS"):
            obj.props[key.lower()] = {}
        else:
            raise InvalidValue(f"SQL compilation error:\nUNSET {key} is not valid for a STAGE.")
    store(obj, delete=False)
    return status_result("Statement executed successfully.")


def _store_for(context: Context, obj: CatalogObject) -> Any:
    def store(target: CatalogObject, *, delete: bool) -> None:
        if target.props.get("temporary"):
            if delete:
                context.temp_objects.pop(target.key, None)
            else:
                context.temp_objects[target.key] = target
        elif delete:
            context.catalog.delete(target)
        else:
            context.catalog.put(target)

    return store


# -- SHOW / DESCRIBE ------------------------------------------------------------------------
_SHOW_COLUMNS = (
    "created_on",
    "name",
    "database_name",
    "schema_name",
    "url",
    "has_credentials",
    "has_encryption_key",
    "owner",
    "comment",
    "region",
    "type",
    "cloud",
    "notification_channel",
    "storage_integration",
    "endpoint",
    "owner_role_type",
    "directory_enabled",
)


def show_stages(context: Context, node: Show) -> Result:
    stages = [o for o in context.temp_objects.values() if o.kind == "STAGE"]
    stages += context.catalog.list("STAGE")
    db, schema = _show_scope(context, node)
    stages = [
        s
        for s in stages
        if (db is None or s.database == db) and (schema is None or s.schema == schema)
    ]
    if node.like is not None:
        glob = like_to_glob(node.like).upper()
        stages = [s for s in stages if fnmatch.fnmatchcase(s.name.upper(), glob)]
    stages.sort(key=lambda s: (s.database, s.schema, s.name))
    return rows_result(_SHOW_COLUMNS, [_show_row(s) for s in stages])


def _show_scope(context: Context, node: Show) -> tuple[str | None, str | None]:
    if node.in_kind == "ACCOUNT":
        return None, None
    if node.in_name is not None:
        parts = node.in_name.parts
        if node.in_kind == "DATABASE" or (node.in_kind == "SCHEMA_OR_DATABASE" and len(parts) == 1):
            return parts[-1], None
        return (parts[0] if len(parts) == 2 else context.need_database()), parts[-1]
    return context.database, context.schema


def _show_row(obj: CatalogObject) -> tuple[Any, ...]:
    kind = "INTERNAL TEMPORARY" if obj.props.get("temporary") else "INTERNAL"
    created = obj.created_on
    if isinstance(created, dt.datetime) and created.tzinfo is None:
        created = created.replace(tzinfo=dt.timezone.utc)
    return (
        created,
        obj.name,
        obj.database,
        obj.schema,
        "",
        "N",
        "N",
        obj.owner,
        obj.comment or "",
        None,
        kind,
        None,
        None,
        None,
        None,
        "ROLE",
        "Y" if obj.props.get("directory") else "N",
    )


def describe_stage(context: Context, node: Describe) -> Result:
    obj = find_stage(context, node.name)
    if obj is None:
        raise stage_missing(display_name(*context.qualify(node.name)))
    rows: list[tuple[Any, ...]] = []
    fmt = resolve_format(context, obj.props.get("file_format") or {})
    for key, kind, value, default in describe_rows(fmt):
        rows.append(("STAGE_FILE_FORMAT", key, kind, value, default))
    for key, value in sorted((obj.props.get("copy_options") or {}).items()):
        rows.append(("STAGE_COPY_OPTIONS", key, "String", _text(value), ""))
    rows.append(("STAGE_LOCATION", "URL", "String", "", ""))
    enabled = "true" if obj.props.get("directory") else "false"
    rows.append(("DIRECTORY", "ENABLE", "Boolean", enabled, "false"))
    columns = ("parent_property", "property", "property_type", "property_value", "property_default")
    return rows_result(columns, rows, "DESCRIBE")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    return str(value)


# -- files ---------------------------------------------------------------------------------
_LIST_COLUMNS = ("name", "size", "md5", "last_modified")


def list_files(context: Context, node: ListFiles) -> Result:
    found = locate(context, node.stage)
    files = found.area.files(found.path, node.pattern)
    rows = [
        (found.area.name_of(f.relpath), f.size, f.md5, _http_date(f.last_modified)) for f in files
    ]
    result = rows_result(_LIST_COLUMNS, rows, "OTHER")
    return result


def remove_files(context: Context, node: RemoveFiles) -> Result:
    found = locate(context, node.stage, write=True)
    files = found.area.files(found.path, node.pattern)
    for f in files:
        found.area.remove(f.relpath)
    rows = [(found.area.name_of(f.relpath), "removed") for f in files]
    return rows_result(("name", "result"), rows, "OTHER")


def _http_date(when: dt.datetime) -> str:
    # The reference's LIST shows RFC 1123 dates: 'Wed, 3 Dec 2025 06:22:00 GMT'.
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    when = when.astimezone(dt.timezone.utc)
    return (
        f"{days[when.weekday()]}, {when.day} {months[when.month - 1]} {when.year} "
        f"{when:%H:%M:%S} GMT"
    )


_PUT_OPTIONS = {"AUTO_COMPRESS", "SOURCE_COMPRESSION", "OVERWRITE", "PARALLEL"}
_GET_OPTIONS = {"PARALLEL", "PATTERN"}


def put_file(context: Context, node: Put) -> Result:
    props = Props(node.options, "PUT", _PUT_OPTIONS)
    found = locate(context, node.stage, write=True)
    source = (props.word("SOURCE_COMPRESSION") or "AUTO_DETECT").upper()
    if source not in SOURCE_COMPRESSIONS:
        raise InvalidValue(
            f"SQL compilation error:\ninvalid value [{source}] for parameter 'SOURCE_COMPRESSION'",
            errno=1008,
            sqlstate="22023",
        )
    plan = Upload(
        found.area,
        found.path,
        node.local,
        auto_compress=_flag(props, "AUTO_COMPRESS", True),
        source_compression=source,
        overwrite=_flag(props, "OVERWRITE", False),
        parallel=_parallel(props, 4),
    )
    result = rows_result(("status",), [], "OTHER")
    result.transfer = plan
    return result


def get_file(context: Context, node: Get) -> Result:
    props = Props(node.options, "GET", _GET_OPTIONS)
    found = locate(context, node.stage)
    files = found.area.files(found.path, props.string("PATTERN"))
    if found.path and not found.folder:
        exact = [f for f in files if f.relpath == found.path]
        files = exact or [f for f in files if f.relpath.startswith(found.path + "/")] or files
    plan = Download(found.area, files, node.local, parallel=_parallel(props, 10))
    result = rows_result(("status",), [], "OTHER")
    result.transfer = plan
    return result


def _flag(props: Props, key: str, default: bool) -> bool:
    value = props.boolean(key)
    return default if value is None else value


def _parallel(props: Props, default: int) -> int:
    text = props.number_text("PARALLEL")
    if text is None:
        return default
    if not text.isdigit() or not 1 <= int(text) <= 99:
        raise InvalidValue(
            "SQL compilation error:\ninvalid value for PARALLEL: expected a number from 1 to 99."
        )
    return int(text)


HANDLERS: dict[tuple[str, str], Handler] = {
    ("Create", "STAGE"): create_stage,
    ("Drop", "STAGE"): drop_stage,
    ("Alter", "STAGE"): alter_stage,
    ("Show", "STAGE"): show_stages,
    ("Describe", "STAGE"): describe_stage,
    ("ListFiles", ""): list_files,
    ("RemoveFiles", ""): remove_files,
    ("Put", ""): put_file,
    ("Get", ""): get_file,
}
