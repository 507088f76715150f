"""SHOW TABLES / VIEWS / OBJECTS / COLUMNS / SEQUENCES / PRIMARY | UNIQUE | IMPORTED KEYS /
WAREHOUSES with the reference's columns (reference pages "SHOW TABLES", "SHOW COLUMNS", ...),
and GET_DDL for tables and views.

Rows come from DuckDB's catalog functions (the data) and the catalog (owners, creation times,
what CREATE declared); only what an active role holds a privilege on is listed. ``IN ACCOUNT |
DATABASE [db] | SCHEMA [s] | <db>`` scope the listing (``IN TABLE t`` for columns and keys);
TERSE, STARTS WITH and LIMIT ... FROM are applied by :mod:`hoarfrost.commands.show_filters`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from hoarfrost.catalog.lookup import like_to_glob, not_found
from hoarfrost.catalog.privileges import has_any_privilege
from hoarfrost.catalog.relations import database as database_record
from hoarfrost.catalog.relations import relation
from hoarfrost.catalog.relations import schema as schema_record
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.commands.columns import ColumnInfo, relation_comments, table_columns
from hoarfrost.commands.function_info import routine_ddl
from hoarfrost.engine.context import Context, Handler, SystemFunction
from hoarfrost.engine.result import Result, rows_result
from hoarfrost.errors import InvalidValue
from hoarfrost.sql.arguments import name_argument
from hoarfrost.sql.ast import Show
from hoarfrost.sql.transforms_ddl import ENGINE_SEQUENCE_PREFIX

__all__ = ["HANDLERS", "SYSTEM_FUNCTIONS", "WAREHOUSE"]

WAREHOUSE = "HOARFROST_WH"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class _Relation:
    obj: CatalogObject
    kind: str  # TABLE | VIEW
    temporary: bool
    created: dt.datetime


def _matches(name: str, like: str | None) -> bool:
    import fnmatch

    return like is None or fnmatch.fnmatchcase(name.upper(), like_to_glob(like).upper())


def _scope(session: Context, node: Show) -> tuple[str | None, str | None, str | None]:
    """(database, schema, table) the SHOW is limited to; None where it is not."""
    kind, name = node.in_kind, node.in_name
    parts = name.parts if name is not None else ()
    if kind == "ACCOUNT":
        return None, None, None
    if kind == "DATABASE":
        return (parts[-1] if parts else session.need_database()), None, None
    if kind == "SCHEMA_OR_DATABASE" and len(parts) == 1:
        return parts[0], None, None
    if kind in ("SCHEMA", "SCHEMA_OR_DATABASE"):
        if len(parts) == 2:
            return parts[0], parts[1], None
        if len(parts) == 1:
            return session.need_database(), parts[0], None
        return session.need_database(), session.need_schema(), None
    if kind in ("TABLE", "VIEW") and name is not None:
        return session.qualify(name)
    return session.need_database(), session.need_schema(), None


def _created(session: Context, obj: CatalogObject | None, db: str) -> dt.datetime:
    if obj is not None:
        return obj.created_on
    found = database_record(session.catalog, db)
    return found.created_on if found is not None else _EPOCH


def relations(
    session: Context, db: str | None, schema: str | None, table: str | None = None
) -> list[_Relation]:
    """Tables and views in scope that an active role may see, by database, schema, name."""
    where, params = "", list[str]()
    for column, value in (("table_catalog", db), ("table_schema", schema), ("table_name", table)):
        if value is not None:
            where, params = where + f" AND {column} = ?", [*params, value]
    rows = session.run_internal(
        "SELECT table_catalog, table_schema, table_name, table_type FROM information_schema.tables"
        " WHERE table_catalog NOT IN ('memory', 'system') AND table_schema NOT IN ('main', "
        f"'pg_catalog', 'information_schema'){where} ORDER BY 1, 2, 3",
        params,
    ).fetchall()
    found = []
    for d, s, n, table_type in rows:
        kind = "VIEW" if table_type == "VIEW" else "TABLE"
        temp = session.temp_objects.get((kind, d, s, n, ""))
        recorded = temp or relation(session.catalog, d, s, n)
        obj = recorded or CatalogObject(
            kind, d, s, n, owner=schema_record(session.catalog, d, s).owner
        )
        if temp is not None or has_any_privilege(session, obj):
            found.append(_Relation(obj, kind, temp is not None, _created(session, recorded, d)))
    # DuckDB keeps an unqualified temporary table in its own temp catalog; the session knows
    # which database and schema it belongs to.
    seen = {(r.obj.database, r.obj.schema, r.obj.name) for r in found}
    for o in session.temp_objects.values():
        key = (o.database, o.schema, o.name)
        wanted = (db, schema, table)
        in_scope = all(w is None or w == k for w, k in zip(wanted, key, strict=True))
        if o.kind in ("TABLE", "VIEW") and key not in seen and in_scope:
            found.append(_Relation(o, o.kind, True, o.created_on))
    return sorted(found, key=lambda r: (r.obj.database, r.obj.schema, r.obj.name))


def _in_scope(session: Context, node: Show) -> list[_Relation]:
    db, schema, table = _scope(session, node)
    return [r for r in relations(session, db, schema, table) if _matches(r.obj.name, node.like)]


def _sizes(session: Context) -> dict[tuple[str, str, str], int]:
    rows = session.run_internal(
        "SELECT database_name, schema_name, table_name, estimated_size FROM duckdb_tables()"
    ).fetchall()
    return {(d, s, n): int(size or 0) for d, s, n, size in rows}


def _comments(session: Context, found: list[_Relation]) -> dict[tuple[str, str, str], str]:
    comments: dict[tuple[str, str, str], str] = {}
    for db in {r.obj.database for r in found}:
        comments.update({(db, s, n): v for (s, n), v in relation_comments(session, db).items()})
    return comments


def _table_kind(r: _Relation) -> str:
    if r.temporary:
        return "TEMPORARY"
    return "TRANSIENT" if r.obj.props.get("KIND") == "TRANSIENT" else "TABLE"


_TABLE_COLUMNS = [
    "created_on",
    "name",
    "database_name",
    "schema_name",
    "kind",
    "comment",
    "cluster_by",
    "rows",
    "bytes",
    "owner",
    "retention_time",
    "automatic_clustering",
    "change_tracking",
    "is_external",
    "enable_schema_evolution",
    "owner_role_type",
    "is_event",
    "is_hybrid",
    "is_iceberg",
    "is_dynamic",
    "is_immutable",
]


def show_tables(session: Context, node: Show) -> Result:
    found = [r for r in _in_scope(session, node) if r.kind == "TABLE"]
    sizes, comments = _sizes(session), _comments(session, found)
    rows = []
    for r in found:
        o = r.obj
        cluster = o.props.get("CLUSTER_BY") or ""
        rows.append(
            (
                r.created,
                o.name,
                o.database,
                o.schema,
                _table_kind(r),
                comments.get((o.database, o.schema, o.name), o.comment or ""),
                cluster,
                sizes.get((o.database, o.schema, o.name), 0),
                0,
                o.owner,
                "1",
                "ON" if cluster else "OFF",
                "OFF",
                "N",
                "N",
                "ROLE",
                "N",
                "N",
                "N",
                "N",
                "N",
            )
        )
    return rows_result(_TABLE_COLUMNS, rows)


def _view_texts(session: Context, found: list[_Relation]) -> dict[tuple[str, str, str], str]:
    rows = session.run_internal(
        "SELECT database_name, schema_name, view_name, sql FROM duckdb_views() WHERE NOT internal"
    ).fetchall()
    duck = {(d, s, n): text for d, s, n, text in rows}
    return {
        (r.obj.database, r.obj.schema, r.obj.name): r.obj.props.get("TEXT")
        or duck.get((r.obj.database, r.obj.schema, r.obj.name), "")
        for r in found
    }


_VIEW_FLAGS = ("false", "false", "ROLE", "OFF")


def show_views(session: Context, node: Show) -> Result:
    found = [r for r in _in_scope(session, node) if r.kind == "VIEW"]
    comments, texts = _comments(session, found), _view_texts(session, found)
    cols = [
        "created_on",
        "name",
        "reserved",
        "database_name",
        "schema_name",
        "owner",
        "comment",
        "text",
        "is_secure",
        "is_materialized",
        "owner_role_type",
        "change_tracking",
    ]
    rows = []
    for r in found:
        o = r.obj
        key = (o.database, o.schema, o.name)
        comment = comments.get(key, o.comment or "")
        rows.append(
            (r.created, o.name, "", *key[:2], o.owner, comment, texts.get(key, ""), *_VIEW_FLAGS)
        )
    return rows_result(cols, rows)


def show_objects(session: Context, node: Show) -> Result:
    found = _in_scope(session, node)
    sizes, comments = _sizes(session), _comments(session, found)
    cols = [
        "created_on",
        "name",
        "database_name",
        "schema_name",
        "kind",
        "comment",
        "cluster_by",
        "rows",
        "bytes",
        "owner",
        "retention_time",
        "owner_role_type",
        "is_dynamic",
        "is_iceberg",
    ]
    rows = []
    for r in found:
        o = r.obj
        key = (o.database, o.schema, o.name)
        rows.append(
            (
                r.created,
                o.name,
                o.database,
                o.schema,
                r.kind,  # SHOW OBJECTS says TABLE or VIEW (SHOW TABLES tells TRANSIENT apart)
                comments.get(key, o.comment or ""),
                o.props.get("CLUSTER_BY") or "",
                sizes.get(key, 0) if r.kind == "TABLE" else 0,
                0,
                o.owner,
                "1",
                "ROLE",
                "N",
                "N",
            )
        )
    return rows_result(cols, rows)


# --- columns ------------------------------------------------------------------------------


def _data_type_json(c: ColumnInfo) -> str:
    """SHOW COLUMNS' data_type: the column's type as the reference's JSON."""
    t = c.type
    logical = {"NUMBER": "FIXED", "FLOAT": "REAL"}.get(t.data_type, t.data_type)
    shape: dict[str, Any] = {"type": logical}
    if logical == "FIXED":
        shape.update(precision=t.precision, scale=t.scale)
    elif logical in ("TEXT", "BINARY"):
        shape.update(length=t.length, byteLength=t.length, fixed=False)
    elif t.datetime_precision is not None:
        shape.update(precision=0, scale=t.datetime_precision)
    shape["nullable"] = c.nullable
    return json.dumps(shape, separators=(",", ":"))


def show_columns(session: Context, node: Show) -> Result:
    cols = [
        "table_name",
        "schema_name",
        "column_name",
        "data_type",
        "null?",
        "default",
        "kind",
        "expression",
        "comment",
        "database_name",
        "autoincrement",
    ]
    rows = []
    db, schema, table = _scope(session, node)
    if table is not None and not relations(session, db, schema, table):
        raise not_found(f"{db}.{schema}.{table}")
    by_schema: dict[tuple[str, str], list[_Relation]] = {}
    for r in relations(session, db, schema, table):
        by_schema.setdefault((r.obj.database, r.obj.schema), []).append(r)
    for (d, s), found in by_schema.items():
        columns = table_columns(session, d, s)
        for r in found:
            listed = columns.get(r.obj.name)
            if listed is None and r.temporary:
                listed = table_columns(session, d, s, r.obj.name).get(r.obj.name)
            for c in listed or []:
                if not _matches(c.name, node.like):
                    continue
                identity = (c.default or "").startswith("IDENTITY")
                rows.append(
                    (
                        r.obj.name,
                        s,
                        c.name,
                        _data_type_json(c),
                        "true" if c.nullable else "false",
                        "" if identity else (c.default or ""),
                        "COLUMN",
                        "",
                        c.comment or "",
                        d,
                        (c.default or "").replace("IDENTITY ", "").lower() if identity else "",
                    )
                )
    return rows_result(cols, rows)


# --- keys ---------------------------------------------------------------------------------

_KEY_KINDS = {"PRIMARY KEY": "PRIMARY KEY", "UNIQUE KEY": "UNIQUE"}


def _constraints(session: Context, node: Show, kind: str) -> list[tuple[Any, ...]]:
    db, schema, table = _scope(session, node)
    visible = {(r.obj.database, r.obj.schema, r.obj.name) for r in relations(session, db, schema)}
    rows = session.run_internal(
        "SELECT database_name, schema_name, table_name, constraint_column_names, constraint_name,"
        " referenced_table, referenced_column_names FROM duckdb_constraints() "
        "WHERE constraint_type = ? ORDER BY 1, 2, 3, 5",
        [kind],
    ).fetchall()
    return [
        r
        for r in rows
        if (r[0], r[1], r[2]) in visible
        and (table is None or r[2] == table)
        and (schema is None or r[1] == schema)
    ]


def show_keys(session: Context, node: Show) -> Result:
    kind = _KEY_KINDS[node.kind]
    cols = [
        "created_on",
        "database_name",
        "schema_name",
        "table_name",
        "column_name",
        "key_sequence",
        "constraint_name",
        "rely",
        "comment",
    ]
    rows = []
    for d, s, t, columns, name, _ref, _ref_cols in _constraints(session, node, kind):
        created = _created(session, relation(session.catalog, d, s, t), d)
        for i, column in enumerate(columns, start=1):
            rows.append((created, d, s, t, column, i, name.upper(), "false", None))
    return rows_result(cols, rows)


_RULES = ("NO ACTION", "NO ACTION")
_FK_TAIL = (None, "NOT DEFERRABLE", "false", None)


def show_imported_keys(session: Context, node: Show) -> Result:
    cols = [
        "created_on",
        "pk_database_name",
        "pk_schema_name",
        "pk_table_name",
        "pk_column_name",
        "fk_database_name",
        "fk_schema_name",
        "fk_table_name",
        "fk_column_name",
        "key_sequence",
        "update_rule",
        "delete_rule",
        "fk_name",
        "pk_name",
        "deferrability",
        "rely",
        "comment",
    ]
    rows = []
    for d, s, t, columns, name, ref, ref_cols in _constraints(session, node, "FOREIGN KEY"):
        created = _created(session, relation(session.catalog, d, s, t), d)
        for i, (column, ref_col) in enumerate(zip(columns, ref_cols, strict=False), start=1):
            rows.append(
                (created, d, s, ref, ref_col, d, s, t, column, i, *_RULES, name.upper(), *_FK_TAIL)
            )
    return rows_result(cols, rows)


# --- sequences and warehouses ---------------------------------------------------------------


def show_sequences(session: Context, node: Show) -> Result:
    db, schema, _ = _scope(session, node)
    where, params = "", []
    if db is not None:
        where, params = " AND database_name = ?", [db]
    if schema is not None:
        where, params = where + " AND schema_name = ?", [*params, schema]
    found = session.run_internal(
        "SELECT database_name, schema_name, sequence_name, start_value, increment_by, last_value "
        f"FROM duckdb_sequences() WHERE NOT temporary{where} ORDER BY 1, 2, 3",
        params,
    ).fetchall()
    cols = [
        "created_on",
        "name",
        "schema_name",
        "database_name",
        "next_value",
        "interval",
        "owner",
        "comment",
        "owner_role_type",
        "ordered",
    ]
    rows = []
    for d, s, n, start, step, last in found:
        if n.startswith(ENGINE_SEQUENCE_PREFIX) or not _matches(n, node.like):
            continue
        obj = session.catalog.get("SEQUENCE", d, s, n)
        owner = obj.owner if obj else schema_record(session.catalog, d, s).owner
        nxt = start if last is None else last + step
        rows.append((_created(session, obj, d), n, s, d, nxt, step, owner, "", "ROLE", "Y"))
    return rows_result(cols, rows)


def show_warehouses(session: Context, node: Show) -> Result:
    """One pretend warehouse: hoarfrost runs every query on this machine."""
    cols = [
        "name",
        "state",
        "type",
        "size",
        "min_cluster_count",
        "max_cluster_count",
        "started_clusters",
        "running",
        "queued",
        "is_default",
        "is_current",
        "auto_suspend",
        "auto_resume",
        "available",
        "provisioning",
        "quiescing",
        "other",
        "created_on",
        "resumed_on",
        "updated_on",
        "owner",
        "comment",
        "enable_query_acceleration",
        "query_acceleration_max_scale_factor",
        "resource_monitor",
        "scaling_policy",
        "owner_role_type",
    ]
    created = _created(session, None, session.database or "")
    row: tuple[Any, ...] = (WAREHOUSE, "STARTED", "STANDARD", "X-Small", 1, 1, 1, 0, 0, "Y", "Y")
    row += (600, "true", "100", "0", "0", "0", created, created, created, "ACCOUNTADMIN", "")
    row += ("false", 8, "null", "STANDARD", "ROLE")
    rows = [row] if _matches(WAREHOUSE, node.like) else []
    return rows_result(cols, rows)


# --- GET_DDL --------------------------------------------------------------------------------


def _ddl_name(session: Context, text: str) -> tuple[str, str, str]:
    return session.qualify(name_argument(text))


def get_ddl(session: Context, args: list[str]) -> str:
    """GET_DDL('TABLE' | 'VIEW' | 'FUNCTION' | 'PROCEDURE', '<name>'): the statement that makes
    the object as it is now."""
    if len(args) < 2:
        raise InvalidValue("SQL compilation error:\nGET_DDL takes an object type and a name.")
    kind = args[0].strip().upper()
    if kind in ("FUNCTION", "PROCEDURE"):
        return routine_ddl(session, kind, args[1])
    db, schema, name = _ddl_name(session, args[1])
    found = relations(session, db, schema, name)
    if kind not in ("TABLE", "VIEW") or not found or found[0].kind != kind:
        if kind not in ("TABLE", "VIEW"):
            raise InvalidValue(
                f"SQL compilation error:\nGET_DDL of {kind} is not supported; use TABLE, VIEW, "
                "FUNCTION or PROCEDURE."
            )
        raise not_found(name)
    r = found[0]
    if kind == "VIEW":
        text = _view_texts(session, found)[(db, schema, name)].strip().rstrip(";")
        return text + ";"
    columns = table_columns(session, db, schema, name).get(name, [])
    lines = []
    for c in columns:
        line = f"\t{_ident(c.name)} {c.type.text}"
        if c.default:
            line += f" {c.default.lower()}" if c.default.startswith("IDENTITY") else ""
            if not c.default.startswith("IDENTITY"):
                line += f" DEFAULT {c.default}"
        if not c.nullable:
            line += " NOT NULL"
        if c.comment:
            line += " COMMENT '" + c.comment.replace("'", "\\'") + "'"
        lines.append(line)
    lines += _constraint_lines(session, db, schema, name)
    head = "create or replace "
    head += "TRANSIENT " if r.obj.props.get("KIND") == "TRANSIENT" else ""
    cluster = r.obj.props.get("CLUSTER_BY")
    tail = f" cluster by {cluster[len('LINEAR') :]}" if cluster else ""
    return f"{head}TABLE {_ident(name)} (\n" + ",\n".join(lines) + f"\n){tail};"


def _constraint_lines(session: Context, db: str, schema: str, name: str) -> list[str]:
    rows = session.run_internal(
        "SELECT constraint_type, constraint_column_names, referenced_table, "
        "referenced_column_names FROM duckdb_constraints() WHERE database_name = ? AND "
        "schema_name = ? AND table_name = ? AND constraint_type IN ('PRIMARY KEY', 'UNIQUE', "
        "'FOREIGN KEY') ORDER BY constraint_index",
        [db, schema, name],
    ).fetchall()
    lines = []
    for kind, columns, ref, ref_columns in rows:
        names = ", ".join(_ident(c) for c in columns)
        line = f"\t{kind.lower()} ({names})"
        if kind == "FOREIGN KEY":
            line += f" references {_ident(ref)}({', '.join(_ident(c) for c in ref_columns)})"
        lines.append(line)
    return lines


def _ident(name: str) -> str:
    plain = name.isupper() and name.replace("_", "").isalnum() and not name[0].isdigit()
    return name if plain else '"' + name.replace('"', '""') + '"'


HANDLERS: dict[tuple[str, str], Handler] = {
    ("Show", "TABLE"): show_tables,
    ("Show", "VIEW"): show_views,
    ("Show", "OBJECT"): show_objects,
    ("Show", "COLUMN"): show_columns,
    ("Show", "PRIMARY KEY"): show_keys,
    ("Show", "UNIQUE KEY"): show_keys,
    ("Show", "IMPORTED KEY"): show_imported_keys,
    ("Show", "SEQUENCE"): show_sequences,
    ("Show", "WAREHOUSE"): show_warehouses,
}

SYSTEM_FUNCTIONS: dict[str, SystemFunction] = {"GET_DDL": get_ddl}
