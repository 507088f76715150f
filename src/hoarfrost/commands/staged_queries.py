"""Querying staged files (Snowflake's "Querying data in staged files"), INFER_SCHEMA and
CREATE TABLE ... USING TEMPLATE.

``SELECT $1, METADATA$FILENAME FROM @st/path (FILE_FORMAT => 'f', PATTERN => '...')`` runs as
ordinary SQL over a scan view of the matching files (``copy.scan_view``). INFER_SCHEMA reads each
file's columns with DuckDB's own detection and answers with the reference's columns
(COLUMN_NAME, TYPE, NULLABLE, EXPRESSION, FILENAMES, ORDER_ID).
"""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa

from hoarfrost.commands.copy import scan_view
from hoarfrost.commands.file_formats import resolve_format
from hoarfrost.commands.ordinary import run_ordinary
from hoarfrost.engine.context import Context, Handler
from hoarfrost.engine.result import Result
from hoarfrost.engine.stage_files import StagedFile
from hoarfrost.engine.stage_refs import Located, locate
from hoarfrost.engine.stage_scan import sql_string
from hoarfrost.errors import InvalidValue
from hoarfrost.sql.ast import InferSchema, Ordinary, StagedSelect, StageRef, TemplateTable
from hoarfrost.sql.locations import parse_stage
from hoarfrost.sql.tokens import split

__all__ = ["HANDLERS", "infer_columns"]


def _format(context: Context, found: Located, named: str | None) -> dict[str, Any]:
    base = found.stage.props.get("file_format") if found.stage else None
    given = {"FORMAT_NAME": named} if named else {}
    return resolve_format(context, given, base or {})


def _files(found: Located, pattern: str | None) -> list[StagedFile]:
    files = found.area.files(found.path, pattern)
    if found.path and not found.folder:
        exact = [f for f in files if f.relpath == found.path]
        return exact or files
    return files


def staged_query(context: Context, node: StagedSelect) -> Result:
    found = locate(context, node.stage)
    fmt = _format(context, found, node.alias_options.get("FILE_FORMAT"))
    files = _files(found, node.alias_options.get("PATTERN"))
    scan_view(context, found, files, fmt)
    try:
        return run_ordinary(context, Ordinary(split(node.sql)[0]))
    finally:
        context.duck.execute(f"DROP VIEW IF EXISTS {node.view}")


# -- INFER_SCHEMA -------------------------------------------------------------------------------
_TYPES = [
    (re.compile(r"DECIMAL\((\d+),\s*(\d+)\)"), None),
    (re.compile(r"(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?)"), "NUMBER(38, 0)"),
    (re.compile(r"(DOUBLE|FLOAT|REAL)"), "REAL"),
    (re.compile(r"VARCHAR"), "TEXT"),
    (re.compile(r"BOOLEAN"), "BOOLEAN"),
    (re.compile(r"DATE"), "DATE"),
    (re.compile(r"TIMESTAMP WITH TIME ZONE"), "TIMESTAMP_TZ"),
    (re.compile(r"TIMESTAMP(_NS|_MS|_S)?"), "TIMESTAMP_NTZ"),
    (re.compile(r"TIME"), "TIME"),
    (re.compile(r"BLOB"), "BINARY"),
    (re.compile(r"JSON"), "VARIANT"),
]


def snowflake_type(duck_type: str) -> str:
    text = duck_type.upper()
    for pattern, name in _TYPES:
        match = pattern.fullmatch(text)
        if match:
            return name or f"NUMBER({match.group(1)}, {match.group(2)})"
    if text.endswith("[]"):
        return "ARRAY"
    if text.startswith(("STRUCT", "MAP")):
        return "OBJECT"
    return "TEXT"


def _detected(
    context: Context, found: Located, staged: StagedFile, fmt: dict[str, Any]
) -> list[tuple[str, str]]:
    path = sql_string(str(found.area.path_of(staged.relpath)))
    kind = fmt["TYPE"]
    if kind == "PARQUET":
        sql = f"SELECT * FROM read_parquet({path})"
    elif kind == "JSON":
        shape = "array" if fmt.get("STRIP_OUTER_ARRAY") else "auto"
        sql = f"SELECT * FROM read_json({path}, format={sql_string(shape)}, records=true)"
    else:
        header = "true" if fmt.get("PARSE_HEADER") else "false"
        delim = sql_string(str(fmt.get("FIELD_DELIMITER", ",")))
        skip = int(fmt.get("SKIP_HEADER", 0) or 0)
        sql = f"SELECT * FROM read_csv({path}, header={header}, delim={delim}, skip={skip})"
    relation = context.duck.sql(f"{sql} LIMIT 0")
    return [(name, str(t)) for name, t in zip(relation.columns, relation.types, strict=True)]


def infer_columns(context: Context, args: dict[str, str]) -> pa.Table:
    location = args.get("LOCATION")
    if not location:
        raise InvalidValue(
            "SQL compilation error:\nINFER_SCHEMA requires LOCATION => '@stage/path'.",
            errno=1008,
            sqlstate="22023",
        )
    ref: StageRef = parse_stage(location)
    found = locate(context, ref)
    fmt = _format(context, found, args.get("FILE_FORMAT"))
    files = _files(found, None)
    wanted = args.get("FILES")
    if wanted:
        files = [f for f in files if f.relpath.rpartition("/")[2] in wanted]
    order: dict[str, tuple[str, list[str]]] = {}
    for staged in files:
        for i, (name, duck_type) in enumerate(_detected(context, found, staged, fmt)):
            key = name if fmt["TYPE"] != "CSV" or fmt.get("PARSE_HEADER") else f"c{i + 1}"
            column = order.setdefault(key, (snowflake_type(duck_type), []))
            column[1].append(found.area.name_of(staged.relpath))
    names, types, exprs, sources = [], [], [], []
    for i, (name, (type_, where)) in enumerate(order.items()):
        names.append(name)
        types.append(type_)
        if fmt["TYPE"] == "CSV":
            exprs.append(f"${i + 1}::{type_}")
        else:
            exprs.append(f"$1:{_quoted(name)}::{type_}")
        sources.append(",".join(dict.fromkeys(where)))
    return pa.table(
        {
            "COLUMN_NAME": pa.array(names, pa.string()),
            "TYPE": pa.array(types, pa.string()),
            "NULLABLE": pa.array([True] * len(names), pa.bool_()),
            "EXPRESSION": pa.array(exprs, pa.string()),
            "FILENAMES": pa.array(sources, pa.string()),
            "ORDER_ID": pa.array(list(range(len(names))), pa.int64()),
        }
    )


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def infer_schema(context: Context, node: InferSchema) -> Result:
    table = infer_columns(context, node.args)
    context.duck.register(node.view, table)
    try:
        return run_ordinary(context, Ordinary(split(node.sql)[0]))
    finally:
        context.duck.unregister(node.view)


def template_table(context: Context, node: TemplateTable) -> Result:
    table = infer_columns(context, node.infer.args)
    if table.num_rows == 0:
        raise InvalidValue(
            "SQL compilation error:\nUSING TEMPLATE found no columns: the location has no files.",
            errno=2262,
            sqlstate="22023",
        )
    names = table.column("COLUMN_NAME").to_pylist()
    types = table.column("TYPE").to_pylist()
    columns = ", ".join(f"{_quoted(n)} {t}" for n, t in zip(names, types, strict=True))
    head = "CREATE OR REPLACE TABLE" if node.or_replace else "CREATE TABLE"
    sql = f"{head} {node.name} ({columns})"
    return run_ordinary(context, Ordinary(split(sql)[0]))


HANDLERS: dict[tuple[str, str], Handler] = {
    ("StagedSelect", ""): staged_query,
    ("InferSchema", ""): infer_schema,
    ("TemplateTable", ""): template_table,
}
