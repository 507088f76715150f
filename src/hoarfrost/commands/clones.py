"""CREATE SCHEMA s CLONE src / CREATE DATABASE d CLONE src: a copy of every table the role may
read in the source (rows, column types and what CREATE TABLE declared), owned by the creating
role. The reference's clones are zero-copy and keep views, sequences and stages; hoarfrost
copies tables only (views are left out)."""

from __future__ import annotations

from hoarfrost.catalog.lookup import not_found
from hoarfrost.catalog.privileges import has_privilege
from hoarfrost.catalog.relations import record, relation
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.commands.show_objects import relations
from hoarfrost.engine.context import Context
from hoarfrost.sql.ast import Ident, Value

__all__ = ["clone_source", "copy_tables"]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def clone_source(value: Value | None) -> tuple[str, ...] | None:
    """The CLONE clause's source name, as parts."""
    if value is None:
        return None
    assert isinstance(value, Ident)  # the statement parser reads CLONE <name>
    return value.name.parts


def copy_tables(session: Context, source: tuple[str, str | None], target: tuple[str, str]) -> None:
    """Copy the tables of a schema (or, with no schema, of every schema of a database: each into
    the target database's schema of the same name)."""
    src_db, src_schema = source
    found = [r for r in relations(session, src_db, src_schema) if r.kind == "TABLE"]
    if not found and src_db not in session.engine.attached():
        raise not_found(src_db)
    for r in found:
        if r.temporary or not has_privilege(session, "SELECT", r.obj):
            continue
        dst_schema = target[1] if src_schema is not None else r.obj.schema
        if src_schema is None:
            session.run_internal(f"CREATE SCHEMA IF NOT EXISTS {_q(target[0])}.{_q(dst_schema)}")
        src = ".".join(_q(p) for p in (r.obj.database, r.obj.schema, r.obj.name))
        dst = ".".join(_q(p) for p in (target[0], dst_schema, r.obj.name))
        session.run_internal(f"CREATE TABLE {dst} AS SELECT * FROM {src}")
        recorded = relation(session.catalog, r.obj.database, r.obj.schema, r.obj.name)
        props = dict(recorded.props) if recorded is not None else {}
        record(
            session.catalog,
            CatalogObject(
                "TABLE", target[0], dst_schema, r.obj.name, owner=session.role, props=props
            ),
        )
