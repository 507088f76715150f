"""Columns of tables and views as the reference describes them, for DESCRIBE TABLE, SHOW COLUMNS,
INFORMATION_SCHEMA.COLUMNS and GET_DDL.

DuckDB keeps a column's type without what Snowflake declared beyond it (``VARCHAR(20)`` is
VARCHAR, ``TIME(9)`` is TIME, OBJECT and ARRAY are JSON); CREATE TABLE keeps the declared types
in the table's catalog record (:func:`hoarfrost.sql.transforms_ddl.table_details`), and a
declared type is shown where it is still of the column's DuckDB type's family (an ALTER COLUMN
... SET DATA TYPE since then falls back to DuckDB's type).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp
from sqlglot.errors import ParseError

from hoarfrost.catalog.relations import relation
from hoarfrost.engine.context import Context
from hoarfrost.engine.result import column_from_duckdb
from hoarfrost.sql.transforms_ddl import ENGINE_SEQUENCE_PREFIX

__all__ = ["ColumnInfo", "relation_comments", "table_columns", "type_info"]

TEXT_MAX = 16777216
BINARY_MAX = 8388608

T = exp.DataType.Type
_TEXT = {T.VARCHAR, T.CHAR, T.NCHAR, T.NVARCHAR, T.TEXT}
_BINARY = {T.BINARY, T.VARBINARY}
_TIMESTAMPS = {
    T.TIMESTAMP: "TIMESTAMP_NTZ",
    T.TIMESTAMPNTZ: "TIMESTAMP_NTZ",
    T.DATETIME: "TIMESTAMP_NTZ",
    T.TIMESTAMPLTZ: "TIMESTAMP_LTZ",
    T.TIMESTAMPTZ: "TIMESTAMP_TZ",
}
_SEMI = {T.OBJECT: "OBJECT", T.ARRAY: "ARRAY", T.VARIANT: "VARIANT"}


@dataclass(frozen=True)
class TypeInfo:
    text: str  # VARCHAR(20), NUMBER(10,2), TIME(9), TIMESTAMP_NTZ(9), ...
    data_type: str  # INFORMATION_SCHEMA's DATA_TYPE: TEXT, NUMBER, TIME, ...
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    datetime_precision: int | None = None


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    position: int
    type: TypeInfo
    nullable: bool
    default: str | None
    comment: str | None


def _param(dtype: exp.DataType, i: int) -> int | None:
    params = dtype.expressions
    if len(params) <= i:
        return None
    value = params[i].this if isinstance(params[i], exp.DataTypeParam) else params[i]
    try:
        return int(value.name if isinstance(value, exp.Expr) else value)
    except (TypeError, ValueError):
        return None


def _declared(text: str | None) -> exp.DataType | None:
    if not text:
        return None
    try:
        return exp.DataType.build(text, dialect="snowflake")
    except (ParseError, ValueError):
        return None


def _from_duckdb(duck_type: str) -> TypeInfo:
    col = column_from_duckdb("x", duck_type)
    if col.type == "FIXED":
        p, s = col.precision or 38, col.scale or 0
        return TypeInfo(f"NUMBER({p},{s})", "NUMBER", precision=p, scale=s)
    if col.type == "TEXT":
        return TypeInfo(f"VARCHAR({TEXT_MAX})", "TEXT", length=TEXT_MAX)
    if col.type == "BINARY":
        return TypeInfo(f"BINARY({BINARY_MAX})", "BINARY", length=BINARY_MAX)
    if col.type == "REAL":
        return TypeInfo("FLOAT", "FLOAT")
    if col.type in ("TIME", "TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP_TZ"):
        return TypeInfo(f"{col.type}(9)", col.type, datetime_precision=9)
    return TypeInfo(col.type, col.type)


def type_info(duck_type: str, declared: str | None = None) -> TypeInfo:
    """The reference's description of a column of ``duck_type`` declared as ``declared``."""
    base = _from_duckdb(duck_type)
    dtype = _declared(declared)
    if dtype is None:
        return base
    kind = dtype.this
    if kind in _TEXT and base.data_type == "TEXT":
        n = _param(dtype, 0) or (1 if kind in (T.CHAR, T.NCHAR) else TEXT_MAX)
        return TypeInfo(f"VARCHAR({n})", "TEXT", length=n)
    if kind in _BINARY and base.data_type == "BINARY":
        n = _param(dtype, 0) or BINARY_MAX
        return TypeInfo(f"BINARY({n})", "BINARY", length=n)
    if kind == T.TIME and base.data_type == "TIME":
        p = _param(dtype, 0)
        p = 9 if p is None else p
        return TypeInfo(f"TIME({p})", "TIME", datetime_precision=p)
    if kind in _TIMESTAMPS and base.data_type.startswith("TIMESTAMP"):
        p = _param(dtype, 0)
        p = 9 if p is None else p
        name = _TIMESTAMPS[kind] if kind != T.TIMESTAMP else base.data_type
        return TypeInfo(f"{name}({p})", name, datetime_precision=p)
    if kind in _SEMI and base.data_type in ("VARIANT", "OBJECT", "ARRAY"):
        return TypeInfo(_SEMI[kind], _SEMI[kind])
    return base


def table_columns(
    session: Context, database: str, schema: str, table: str | None = None
) -> dict[str, list[ColumnInfo]]:
    """Columns of one table (or every table of the schema when ``table`` is None), by table."""
    sql = (
        "SELECT table_name, column_name, column_index, data_type, is_nullable, column_default, "
        "comment FROM duckdb_columns() WHERE database_name = ? AND schema_name = ?"
    )
    params = [database, schema]
    if table is not None:
        sql, params = sql + " AND table_name = ?", [*params, table]
    found: dict[str, list[ColumnInfo]] = {}
    rows = session.run_internal(sql + " ORDER BY table_name, column_index", params).fetchall()
    temp = table is not None and ("TABLE", database, schema, table, "") in session.temp_objects
    if not rows and temp:
        # an unqualified temporary table lives in DuckDB's own temp catalog
        rows = session.run_internal(
            sql + " ORDER BY table_name, column_index", ["temp", "main", table]
        ).fetchall()
    for name, column, index, duck_type, nullable, default, comment in rows:
        declared = _declared_types(session, database, schema, name)
        info = type_info(duck_type, declared.get(f"TYPE:{column}"))
        found.setdefault(name, []).append(
            ColumnInfo(column, index, info, bool(nullable), _default(session, default), comment)
        )
    return found


def _declared_types(session: Context, database: str, schema: str, table: str) -> dict[str, str]:
    temp = session.temp_objects.get(("TABLE", database, schema, table, ""))
    obj = temp or relation(session.catalog, database, schema, table)
    return dict(obj.props) if obj is not None else {}


def _default(session: Context, text: str | None) -> str | None:
    """DuckDB's default expression as the reference shows it: ``nextval('"S"')`` is S.NEXTVAL,
    and an AUTOINCREMENT / IDENTITY column's sequence is IDENTITY START n INCREMENT m."""
    if text is None or not (text.startswith("nextval('") and text.endswith("')")):
        return text
    name = text[len("nextval('") : -2].replace('"', "")
    if ENGINE_SEQUENCE_PREFIX not in name:
        return f"{name}.NEXTVAL"
    found = session.run_internal(
        "SELECT start_value, increment_by FROM duckdb_sequences() WHERE sequence_name = ?",
        [name.split(".")[-1]],
    ).fetchone()
    start, step = found if found else (1, 1)
    return f"IDENTITY START {start} INCREMENT {step} ORDER"


def relation_comments(session: Context, database: str) -> dict[tuple[str, str], str]:
    """COMMENT ON / COMMENT = of the database's tables and views, by (schema, name)."""
    rows = session.run_internal(
        "SELECT schema_name, table_name, comment FROM duckdb_tables() WHERE database_name = ? "
        "AND comment IS NOT NULL UNION ALL SELECT schema_name, view_name, comment FROM "
        "duckdb_views() WHERE database_name = ? AND comment IS NOT NULL",
        [database, database],
    ).fetchall()
    return {(schema, name): comment for schema, name, comment in rows}
