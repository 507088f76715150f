"""DATABASE and SCHEMA statements, USE, and SHOW / DESCRIBE of tables and views.

A Snowflake database is an attached DuckDB database of the same name; its schemas are DuckDB
schemas. DuckDB's own ``main`` schema is an implementation detail and never shown.
"""

from __future__ import annotations

from typing import Any

from hoarfrost.catalog.lookup import like_to_glob, not_found
from hoarfrost.catalog.privileges import (
    has_any_privilege,
    has_privilege,
    require_account_privilege,
    require_ownership,
)
from hoarfrost.catalog.props import Props
from hoarfrost.catalog.relations import database as database_record
from hoarfrost.catalog.relations import record
from hoarfrost.catalog.relations import schema as schema_record
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.commands.clones import clone_source, copy_tables
from hoarfrost.commands.columns import table_columns
from hoarfrost.commands.common import schema_exists
from hoarfrost.commands.parameters import alter_params
from hoarfrost.engine.context import Context, Handler
from hoarfrost.engine.engine import DEFAULT_SCHEMA
from hoarfrost.engine.result import Result, rows_result, status_result
from hoarfrost.errors import InsufficientPrivileges, ObjectAlreadyExists
from hoarfrost.sql.ast import Alter, Create, Describe, Drop, Name, Show, Use

__all__ = ["HANDLERS"]

_HIDDEN_SCHEMAS = ("main", "pg_catalog")
_DB_PROPS = {
    "COMMENT",
    "DATA_RETENTION_TIME_IN_DAYS",
    "MAX_DATA_EXTENSION_TIME_IN_DAYS",
    "CLONE",
}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def create_database(session: Context, node: Create) -> Result:
    props = Props(node.props, "DATABASE", _DB_PROPS)
    name = node.name.last
    if len(node.name.parts) != 1:
        raise not_found(str(node.name))
    exists = name in session.engine.attached()
    if exists and node.if_not_exists:
        return status_result(f"{name} already exists, statement succeeded.")
    require_account_privilege(session, "CREATE DATABASE")
    old = database_record(session.catalog, name)
    if exists and node.or_replace and old is not None:
        require_ownership(session, old)
    obj = CatalogObject(
        "DATABASE", name, "", name, owner=session.role, comment=props.string("COMMENT")
    )
    source = clone_source(node.props.get("CLONE"))
    if source is not None and source[-1] not in session.engine.attached():
        raise not_found(source[-1])
    session.engine.create_database(obj, replace=node.or_replace)
    session.catalog.access_changed()
    session.use(name, DEFAULT_SCHEMA)
    if source is not None:
        copy_tables(session, (source[-1], None), (name, DEFAULT_SCHEMA))
    return status_result(f"Database {name} successfully created.")


def drop_database(session: Context, node: Drop) -> Result:
    name = node.name.last
    if name not in session.engine.attached() or name == "memory":
        if node.if_exists:
            return status_result(f"Drop statement executed successfully ({name} already dropped).")
        raise not_found(name)
    record = database_record(session.catalog, name)
    if record is not None:
        require_ownership(session, record)
    session.engine.drop_database(name)
    session.catalog.access_changed()
    if session.database == name:
        session.database, session.schema = None, None
        session.duck.execute("USE memory")
    return status_result(f"{name} successfully dropped.")


def _schema_key(session: Context, name: Name) -> tuple[str, str]:
    if len(name.parts) > 2:
        raise not_found(str(name))
    db = name.parts[0] if len(name.parts) == 2 else session.need_database()
    if db not in session.engine.attached():
        raise not_found(db)
    return db, name.last


def create_schema(session: Context, node: Create) -> Result:
    Props(node.props, "SCHEMA", _DB_PROPS | {"WITH", "MANAGED", "CLONE"})
    db, schema = _schema_key(session, node.name)
    _need_database_usage(session, db)
    if schema_exists(session, db, schema):
        if node.if_not_exists:
            return status_result(f"{schema} already exists, statement succeeded.")
        if not node.or_replace:
            raise ObjectAlreadyExists(f"SQL compilation error:\nObject '{schema}' already exists.")
        require_ownership(session, schema_record(session.catalog, db, schema))
        session.run_internal(f"DROP SCHEMA {_q(db)}.{_q(schema)} CASCADE")
        session.catalog.delete_in(db, schema)
    db_obj = database_record(session.catalog, db)
    if db_obj is not None and not has_privilege(session, "CREATE SCHEMA", db_obj):
        raise InsufficientPrivileges(
            "SQL access control error:\nInsufficient privileges to operate on database "
            f"'{db}'. The role {session.role} needs CREATE SCHEMA on it."
        )
    source = clone_source(node.props.get("CLONE"))
    if source is not None and not schema_exists(session, *_schema_key(session, Name(source))):
        raise not_found(".".join(source))
    session.run_internal(f"CREATE SCHEMA {_q(db)}.{_q(schema)}")
    record(session.catalog, CatalogObject("SCHEMA", db, "", schema, owner=session.role))
    session.use(db, schema)
    if source is not None:
        copy_tables(session, _schema_key(session, Name(source)), (db, schema))
    return status_result(f"Schema {schema} successfully created.")


def drop_schema(session: Context, node: Drop) -> Result:
    db, schema = _schema_key(session, node.name)
    if not schema_exists(session, db, schema) or schema in _HIDDEN_SCHEMAS:
        if node.if_exists:
            return status_result(
                f"Drop statement executed successfully ({schema} already dropped)."
            )
        raise not_found(f"{db}.{schema}")
    require_ownership(session, schema_record(session.catalog, db, schema))
    if session.database == db and session.schema == schema:
        session.use(db, None)
    session.run_internal(f"DROP SCHEMA {_q(db)}.{_q(schema)} CASCADE")
    session.catalog.delete_in(db, schema)
    session.catalog.execute(
        "DELETE FROM objects WHERE kind='SCHEMA' AND database=? AND name=?", [db, schema]
    )
    session.catalog.access_changed()
    return status_result(f"{schema} successfully dropped.")


def alter_database(session: Context, node: Alter) -> Result:
    return alter_params(session, node)


def use(session: Context, node: Use) -> Result:
    if node.kind == "WAREHOUSE":
        return status_result("Statement executed successfully.", "USE")
    if node.kind == "DATABASE":
        name = node.name.last
        if name not in session.engine.attached():
            raise not_found(name)
        _need_database_usage(session, name)
        schema = DEFAULT_SCHEMA if schema_exists(session, name, DEFAULT_SCHEMA) else None
        if schema and not has_privilege(
            session, "USAGE", schema_record(session.catalog, name, schema)
        ):
            schema = None
        session.use(name, schema)
    else:
        db, schema = _schema_key(session, node.name)
        if not schema_exists(session, db, schema):
            raise not_found(f"{db}.{schema}")
        _need_database_usage(session, db)
        if not has_privilege(session, "USAGE", schema_record(session.catalog, db, schema)):
            raise _insufficient("schema", schema)
        session.use(db, schema)
    return status_result("Statement executed successfully.", "USE")


def _insufficient(kind: str, name: str) -> InsufficientPrivileges:
    return InsufficientPrivileges(
        f"SQL access control error:\nInsufficient privileges to operate on {kind} '{name}'."
    )


def _need_database_usage(session: Context, db: str) -> None:
    obj = database_record(session.catalog, db)
    if obj is not None and not has_privilege(session, "USAGE", obj):
        raise _insufficient("database", db)


def _like(column: str, node: Show) -> tuple[str, list[str]]:
    if node.like is None:
        return "", []
    return f" AND upper({column}) LIKE upper(?)", [node.like]


def show_databases(session: Context, node: Show) -> Result:
    rows = []
    for obj in session.catalog.list("DATABASE"):
        if node.like and not _matches(obj.name, node.like):
            continue
        if not has_any_privilege(session, obj):
            continue
        current = "Y" if obj.name == session.database else "N"
        rows.append(
            (
                obj.created_on,
                obj.name,
                current,
                "N",
                "",
                obj.owner,
                obj.comment or "",
                "",
                "1",
                "STANDARD",
                None,
                "ROLE",
            )
        )
    cols = [
        "created_on",
        "name",
        "is_default",
        "is_current",
        "origin",
        "owner",
        "comment",
        "options",
        "retention_time",
        "kind",
        "budget",
        "owner_role_type",
    ]
    return rows_result(cols, [(r[0], r[1], "N", r[2], *r[4:]) for r in rows])


def _matches(name: str, like: str) -> bool:
    import fnmatch

    return fnmatch.fnmatchcase(name.upper(), like_to_glob(like).upper())


def _scope_db(session: Context, node: Show) -> str | None:
    if node.in_kind == "ACCOUNT":
        return None
    if node.in_name is not None and node.in_kind in ("DATABASE", "SCHEMA_OR_DATABASE"):
        return node.in_name.parts[0]
    return session.database


def show_schemas(session: Context, node: Show) -> Result:
    db = _scope_db(session, node)
    where, params = _like("schema_name", node)
    if db is not None:
        where, params = where + " AND catalog_name = ?", [*params, db]
    rows = session.run_internal(
        "SELECT catalog_name, schema_name FROM information_schema.schemata WHERE "
        f"schema_name NOT IN ('main', 'pg_catalog', 'information_schema') "
        f"AND catalog_name NOT IN ('memory', 'system', 'temp'){where} ORDER BY 1, 2",
        params,
    ).fetchall()
    records = [schema_record(session.catalog, d, s) for d, s in rows]
    out: list[tuple[Any, ...]] = [
        (
            _schema_created(session, r),
            r.name,
            "N",
            "Y" if (r.database, r.name) == (session.database, session.schema) else "N",
            r.database,
            r.owner,
            r.comment or "",
            "",
            "1",
            "ROLE",
            None,
        )
        for r in records
        if has_any_privilege(session, r)
    ]
    out += [
        (
            _database_created(session, d),
            "INFORMATION_SCHEMA",
            "N",
            "N",
            d,
            "",
            "Views describing the contents of schemas in this database",
            "",
            "1",
            "",
            None,
        )
        for d in sorted({r[0] for r in rows})
        if node.like is None or _matches("INFORMATION_SCHEMA", node.like)
    ]
    cols = [
        "created_on",
        "name",
        "is_default",
        "is_current",
        "database_name",
        "owner",
        "comment",
        "options",
        "retention_time",
        "owner_role_type",
        "budget",
    ]
    return rows_result(cols, out)


def _database_created(session: Context, db: str) -> Any:
    found = database_record(session.catalog, db)
    return found.created_on if found is not None else None


def _schema_created(session: Context, obj: CatalogObject) -> Any:
    """A schema made by a statement keeps its time; one DuckDB made (PUBLIC) has its database's."""
    if session.catalog.get("SCHEMA", obj.database, "", obj.name) is not None:
        return obj.created_on
    return _database_created(session, obj.database)


def _key_columns(session: Context, db: str, schema: str, table: str) -> dict[str, set[str]]:
    """The table's PRIMARY KEY and UNIQUE columns, as DESCRIBE TABLE flags them."""
    rows = session.run_internal(
        "SELECT constraint_type, constraint_column_names FROM duckdb_constraints() WHERE "
        "database_name = ? AND schema_name = ? AND table_name = ? AND constraint_type IN "
        "('PRIMARY KEY', 'UNIQUE')",
        [db, schema, table],
    ).fetchall()
    keys: dict[str, set[str]] = {"PRIMARY KEY": set(), "UNIQUE": set()}
    for kind, names in rows:
        keys[kind].update(names)
    return keys


def describe_table(session: Context, node: Describe) -> Result:
    db, schema, name = session.qualify(node.name)
    columns = table_columns(session, db, schema, name).get(name)
    if not columns:
        raise not_found(f"{db}.{schema}.{name}")
    keys = _key_columns(session, db, schema, name)
    out = [
        (
            c.name,
            c.type.text,
            "COLUMN",
            "Y" if c.nullable else "N",
            c.default,
            "Y" if c.name in keys["PRIMARY KEY"] else "N",
            "Y" if c.name in keys["UNIQUE"] else "N",
            None,
            None,
            c.comment,
            None,
            None,
        )
        for c in columns
    ]
    cols = [
        "name",
        "type",
        "kind",
        "null?",
        "default",
        "primary key",
        "unique key",
        "check",
        "expression",
        "comment",
        "policy name",
        "privacy domain",
    ]
    return rows_result(cols, out, "DESCRIBE")


HANDLERS: dict[tuple[str, str], Handler] = {
    ("Create", "DATABASE"): create_database,
    ("Drop", "DATABASE"): drop_database,
    ("Alter", "DATABASE"): alter_database,
    ("Create", "SCHEMA"): create_schema,
    ("Drop", "SCHEMA"): drop_schema,
    ("Alter", "SCHEMA"): alter_database,
    ("Use", "DATABASE"): use,
    ("Use", "SCHEMA"): use,
    ("Use", "WAREHOUSE"): use,
    ("Show", "DATABASE"): show_databases,
    ("Show", "SCHEMA"): show_schemas,
    ("Describe", "TABLE"): describe_table,
    ("Describe", "VIEW"): describe_table,
}
