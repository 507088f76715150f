"""INFORMATION_SCHEMA.DATABASES, SCHEMATA, TABLES, VIEWS and COLUMNS as the reference shows them:
its column names and type names, and only the objects an active role holds a privilege on.

The rows come from DuckDB's own information schema (the data) and the catalog (owners, grants);
they answer ``[db.]INFORMATION_SCHEMA.<view>`` in place of DuckDB's views, which know neither
Snowflake's types nor who may see what. Like the reference, the views describe the current
database.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from hoarfrost.catalog.privileges import has_any_privilege
from hoarfrost.catalog.relations import database as database_record
from hoarfrost.catalog.relations import relation
from hoarfrost.catalog.relations import schema as schema_record
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.commands.columns import TEXT_MAX, relation_comments, table_columns
from hoarfrost.engine.context import Context, VirtualTable

__all__ = ["VIRTUAL_TABLES"]

_HIDDEN_SCHEMAS = ("main", "pg_catalog", "information_schema")
_TYPE_NAMES = {"FIXED": "NUMBER", "REAL": "FLOAT"}


def _table(names: list[str], rows: list[list[Any]], types: dict[str, pa.DataType]) -> pa.Table:
    arrays = [
        pa.array([row[i] for row in rows], types.get(name, pa.string()))
        for i, name in enumerate(names)
    ]
    return pa.Table.from_arrays(arrays, names=names)


def _relations(session: Context) -> list[tuple[CatalogObject, str]]:
    """(object, DuckDB table type) of every table and view of the current database the session
    may see."""
    db = session.need_database()
    rows = session.run_internal(
        "SELECT table_schema, table_name, table_type FROM information_schema.tables "
        "WHERE table_catalog = ? AND table_schema NOT IN ('main', 'pg_catalog', "
        "'information_schema') ORDER BY 1, 2",
        [db],
    ).fetchall()
    found = []
    for schema_name, name, table_type in rows:
        kind = "VIEW" if table_type == "VIEW" else "TABLE"
        obj = relation(session.catalog, db, schema_name, name) or CatalogObject(
            kind, db, schema_name, name, owner=schema_record(session.catalog, db, schema_name).owner
        )
        if has_any_privilege(session, obj):
            found.append((obj, table_type))
    return found


def _tables(session: Context) -> pa.Table:
    names = [
        "TABLE_CATALOG",
        "TABLE_SCHEMA",
        "TABLE_NAME",
        "TABLE_OWNER",
        "TABLE_TYPE",
        "IS_TRANSIENT",
        "CLUSTERING_KEY",
        "ROW_COUNT",
        "BYTES",
        "RETENTION_TIME",
        "CREATED",
        "LAST_ALTERED",
        "COMMENT",
        "IS_DYNAMIC",
        "IS_ICEBERG",
        "IS_HYBRID",
    ]
    comments = relation_comments(session, session.need_database())
    rows = [
        [
            o.database,
            o.schema,
            o.name,
            o.owner,
            "VIEW" if table_type == "VIEW" else "BASE TABLE",
            "YES" if o.props.get("KIND") == "TRANSIENT" else "NO",
            o.props.get("CLUSTER_BY"),
            None,
            None,
            "1",
            o.created_on,
            o.created_on,
            comments.get((o.schema, o.name), o.comment),
            "NO",
            "NO",
            "NO",
        ]
        for o, table_type in _relations(session)
    ]
    stamp = pa.timestamp("us", tz="UTC")
    return _table(names, rows, {"CREATED": stamp, "LAST_ALTERED": stamp})


def _views(session: Context) -> pa.Table:
    names = ["TABLE_CATALOG", "TABLE_SCHEMA", "TABLE_NAME", "TABLE_OWNER", "VIEW_DEFINITION"]
    rows = []
    for obj, table_type in _relations(session):
        if table_type != "VIEW":
            continue
        found = session.run_internal(
            "SELECT sql FROM duckdb_views() WHERE database_name = ? AND schema_name = ? AND "
            "view_name = ?",
            [obj.database, obj.schema, obj.name],
        ).fetchall()
        rows.append([obj.database, obj.schema, obj.name, obj.owner, found[0][0] if found else None])
    return _table(names, rows, {})


def _columns(session: Context) -> pa.Table:
    names = [
        "TABLE_CATALOG",
        "TABLE_SCHEMA",
        "TABLE_NAME",
        "COLUMN_NAME",
        "ORDINAL_POSITION",
        "COLUMN_DEFAULT",
        "IS_NULLABLE",
        "DATA_TYPE",
        "CHARACTER_MAXIMUM_LENGTH",
        "CHARACTER_OCTET_LENGTH",
        "NUMERIC_PRECISION",
        "NUMERIC_PRECISION_RADIX",
        "NUMERIC_SCALE",
        "DATETIME_PRECISION",
        "COMMENT",
    ]
    visible = {(o.schema, o.name) for o, _ in _relations(session)}
    db = session.need_database()
    rows = []
    for schema_name in sorted({s for s, _ in visible}):
        for table, columns in sorted(table_columns(session, db, schema_name).items()):
            if (schema_name, table) not in visible:
                continue
            for c in columns:
                t = c.type
                fixed = t.data_type == "NUMBER"
                octets = t.length * 4 if t.data_type == "TEXT" and t.length else t.length
                rows.append(
                    [
                        db,
                        schema_name,
                        table,
                        c.name,
                        c.position,
                        c.default,
                        "YES" if c.nullable else "NO",
                        t.data_type,
                        t.length,
                        min(octets, TEXT_MAX) if octets else octets,
                        t.precision if fixed else None,
                        10 if fixed else None,
                        t.scale if fixed else None,
                        t.datetime_precision,
                        c.comment,
                    ]
                )
    ints = {
        n: pa.int64()
        for n in (
            "ORDINAL_POSITION",
            "CHARACTER_MAXIMUM_LENGTH",
            "CHARACTER_OCTET_LENGTH",
            "NUMERIC_PRECISION",
            "NUMERIC_PRECISION_RADIX",
            "NUMERIC_SCALE",
            "DATETIME_PRECISION",
        )
    }
    return _table(names, rows, ints)


def _schemata(session: Context) -> pa.Table:
    names = [
        "CATALOG_NAME",
        "SCHEMA_NAME",
        "SCHEMA_OWNER",
        "IS_MANAGED_ACCESS",
        "CREATED",
        "COMMENT",
    ]
    db = session.need_database()
    rows = []
    for (schema_name,) in session.run_internal(
        "SELECT schema_name FROM information_schema.schemata WHERE catalog_name = ? ORDER BY 1",
        [db],
    ).fetchall():
        if schema_name in _HIDDEN_SCHEMAS:
            continue
        obj = schema_record(session.catalog, db, schema_name)
        if has_any_privilege(session, obj):
            rows.append([db, schema_name, obj.owner, "NO", None, obj.comment])
    rows.append([db, "INFORMATION_SCHEMA", "", "NO", None, None])
    return _table(names, rows, {"CREATED": pa.timestamp("us", tz="UTC")})


def _databases(session: Context) -> pa.Table:
    names = ["DATABASE_NAME", "DATABASE_OWNER", "IS_TRANSIENT", "COMMENT", "CREATED"]
    rows = []
    for obj in session.catalog.list("DATABASE"):
        record = database_record(session.catalog, obj.name) or obj
        if has_any_privilege(session, record):
            rows.append([obj.name, obj.owner, "NO", obj.comment, obj.created_on])
    return _table(names, rows, {"CREATED": pa.timestamp("us", tz="UTC")})


VIRTUAL_TABLES: dict[str, VirtualTable] = {
    "TABLES": _tables,
    "VIEWS": _views,
    "COLUMNS": _columns,
    "SCHEMATA": _schemata,
    "DATABASES": _databases,
}
