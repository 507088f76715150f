"""From a stage location in a statement to the stage's files: which stage (a temporary stage of
the session shadows a permanent one of the same name), its directory, and the path inside it."""

from __future__ import annotations

from dataclasses import dataclass

from hoarfrost.catalog.lookup import display_name
from hoarfrost.catalog.privileges import has_privilege
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.engine.context import Context
from hoarfrost.engine.stage_files import StageArea, clean_path
from hoarfrost.errors import ObjectNotFound
from hoarfrost.sql.ast import Name, StageRef

__all__ = [
    "Located",
    "area_of",
    "discard_temporary_stages",
    "find_stage",
    "locate",
    "stage_missing",
]


@dataclass(frozen=True)
class Located:
    area: StageArea
    path: str  # inside the stage, cleaned ('' for the whole stage)
    stage: CatalogObject | None  # None for @~ and @%t
    folder: bool  # the location ended with '/' (or named the stage itself)


def stage_missing(name: str) -> ObjectNotFound:
    # The reference's wording, errno and SQLSTATE for a stage it cannot find.
    return ObjectNotFound(
        f"SQL compilation error:\nStage '{name}' does not exist or not authorized.",
        sqlstate="02000",
    )


def find_stage(context: Context, name: Name) -> CatalogObject | None:
    db, schema, stage = context.qualify(name)
    key = ("STAGE", db, schema, stage, "")
    found = context.temp_objects.get(key)
    return found if found is not None else context.catalog.get(*key)


def area_of(context: Context, obj: CatalogObject) -> StageArea:
    label = obj.name.lower() if obj.name.isupper() or not obj.name else obj.name
    root = context.engine.stages
    if obj.props.get("temporary"):
        return root.temporary(obj.props["area"], label)
    return root.named(obj.props["area"], label)


def locate(context: Context, ref: StageRef, *, write: bool = False) -> Located:
    """The stage ``ref`` names, for reading (LIST, GET, COPY from it) or writing (PUT, REMOVE,
    unload): the role needs READ or WRITE on a named stage (or owns it), else the stage does not
    exist for it, as the reference reports."""
    names = clean_path(ref.path)
    path = "/".join(names)
    folder = not names or ref.path.endswith("/")
    if ref.kind == "USER":
        return Located(context.engine.stages.user(context.user), path, None, folder)
    assert ref.name is not None
    if ref.kind == "TABLE":
        db, schema, table = context.qualify(ref.name)
        rows = context.run_internal(
            "SELECT 1 FROM information_schema.tables WHERE table_catalog = ? AND "
            "table_schema = ? AND table_name = ?",
            [db, schema, table],
        ).fetchall()
        if not rows:
            raise stage_missing("%" + display_name(db, schema, table))
        return Located(context.engine.stages.table(db, schema, table), path, None, folder)
    obj = find_stage(context, ref.name)
    privilege = "WRITE" if write else "READ"
    if obj is None or not (obj.props.get("temporary") or has_privilege(context, privilege, obj)):
        db, schema, stage = context.qualify(ref.name)
        raise stage_missing(display_name(db, schema, stage))
    return Located(area_of(context, obj), path, obj, folder)


def discard_temporary_stages(context: Context) -> None:
    """A closing session's temporary stages go with their files."""
    for obj in list(context.temp_objects.values()):
        if obj.kind == "STAGE":
            area_of(context, obj).discard()
