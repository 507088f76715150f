"""The account catalog: governance objects, parameters, grants and query history, kept in a
DuckDB file of their own (``catalog.duckdb`` in the home).

The catalog lives in a separate DuckDB instance from user data so that no user query can read
it. Every change is one transaction, which is what makes a SIGKILL mid-statement harmless: the
WAL either holds the whole object or none of it.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from hoarfrost.errors import ConfigurationError

__all__ = ["CatalogObject", "CatalogStore"]

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS objects (
        kind VARCHAR NOT NULL, database VARCHAR NOT NULL, schema VARCHAR NOT NULL,
        name VARCHAR NOT NULL, signature VARCHAR NOT NULL, owner VARCHAR,
        created_on TIMESTAMPTZ, comment VARCHAR, props VARCHAR, secret BLOB,
        PRIMARY KEY (kind, database, schema, name, signature))""",
    """CREATE TABLE IF NOT EXISTS parameters (
        scope VARCHAR NOT NULL, target VARCHAR NOT NULL, name VARCHAR NOT NULL, value VARCHAR,
        PRIMARY KEY (scope, target, name))""",
    """CREATE TABLE IF NOT EXISTS grants (
        privilege VARCHAR NOT NULL, kind VARCHAR NOT NULL, target VARCHAR NOT NULL,
        role VARCHAR NOT NULL, PRIMARY KEY (privilege, kind, target, role))""",
    # Added after the first release: catalogs made before them gain the columns on open.
    "ALTER TABLE grants ADD COLUMN IF NOT EXISTS granted_by VARCHAR",
    "ALTER TABLE grants ADD COLUMN IF NOT EXISTS created_on TIMESTAMPTZ",
    "ALTER TABLE grants ADD COLUMN IF NOT EXISTS grant_option BOOLEAN DEFAULT FALSE",
    # A role granted to a user or to another role (the role hierarchy).
    """CREATE TABLE IF NOT EXISTS role_grants (
        role VARCHAR NOT NULL, grantee_kind VARCHAR NOT NULL, grantee VARCHAR NOT NULL,
        granted_by VARCHAR, created_on TIMESTAMPTZ,
        PRIMARY KEY (role, grantee_kind, grantee))""",
    # GRANT ... ON FUTURE <kind>s IN SCHEMA|DATABASE: copied to each new object of the kind.
    """CREATE TABLE IF NOT EXISTS future_grants (
        privilege VARCHAR NOT NULL, kind VARCHAR NOT NULL, container_kind VARCHAR NOT NULL,
        container VARCHAR NOT NULL, role VARCHAR NOT NULL,
        PRIMARY KEY (privilege, kind, container_kind, container, role))""",
    """CREATE TABLE IF NOT EXISTS query_history (
        query_id VARCHAR PRIMARY KEY, session_id BIGINT, user_name VARCHAR, role_name VARCHAR,
        database_name VARCHAR, schema_name VARCHAR, query_text VARCHAR, query_type VARCHAR,
        execution_status VARCHAR, error_code VARCHAR, error_message VARCHAR,
        start_time TIMESTAMPTZ, end_time TIMESTAMPTZ, rows_produced BIGINT)""",
    """CREATE TABLE IF NOT EXISTS fetch_audit (
        fetched_at TIMESTAMPTZ, repository VARCHAR, url VARCHAR, filename VARCHAR,
        sha256 VARCHAR, size BIGINT, policy_decision VARCHAR)""",
]


@dataclass
class CatalogObject:
    kind: str
    database: str
    schema: str
    name: str
    signature: str = ""
    owner: str = "ACCOUNTADMIN"
    created_on: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    comment: str | None = None
    props: dict[str, Any] = field(default_factory=dict)
    secret: bytes | None = None

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.kind, self.database, self.schema, self.name, self.signature)

    @property
    def qualified(self) -> str:
        from hoarfrost.sql.ast import quote_ident

        parts = [p for p in (self.database, self.schema, self.name) if p]
        return ".".join(quote_ident(p) for p in parts)

    def evolve(self, **changes: Any) -> CatalogObject:
        return replace(self, **changes)


class CatalogStore:
    def __init__(self, path: Path | None):
        try:
            self._con = duckdb.connect(str(path) if path else ":memory:")
        except duckdb.IOException as exc:
            raise ConfigurationError(
                f"The account at {path.parent if path else ':memory:'} cannot be opened: it is in "
                f"use by another process or not readable ({exc.__class__.__name__})."
            ) from None
        self._lock = threading.RLock()
        for ddl in _SCHEMA:
            self._con.execute(ddl)
        # What privilege checks derived from roles and grants (the roles a role inherits, ...),
        # emptied by every change to roles, grants or ownership.
        self.access_memo: dict[tuple[str, ...], Any] = {}
        self._columns: dict[str, list[str]] = {}  # of the catalog's own tables (append)

    def access_changed(self) -> None:
        self.access_memo = {}

    def close(self) -> None:
        with self._lock:
            self._con.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            self._con.execute("BEGIN TRANSACTION")
            try:
                yield
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            self._con.execute("COMMIT")

    def execute(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._con.execute(sql, params or []).fetchall()

    def append(self, table: str, rows: list[list[Any]]) -> None:
        """Rows appended to one of the catalog's own tables in one statement (DuckDB pays
        per statement: a row at a time costs a plan and an index probe each)."""
        if not rows:
            return
        with self._lock:
            names = self._columns.get(table)
            if names is None:
                names = [r[0] for r in self._con.execute(f"DESCRIBE {table}").fetchall()]
                self._columns[table] = names
            columns = {name: [row[i] for row in rows] for i, name in enumerate(names)}
            incoming = pa.table(columns)
            self._con.register("__appended", incoming)
            try:
                self._con.execute(f"INSERT INTO {table} SELECT * FROM __appended")
            finally:
                self._con.unregister("__appended")

    # -- objects -------------------------------------------------------------------------
    def get(
        self, kind: str, database: str, schema: str, name: str, signature: str = ""
    ) -> CatalogObject | None:
        rows = self.execute(
            "SELECT * FROM objects WHERE kind=? AND database=? AND schema=? AND name=? "
            "AND signature=?",
            [kind, database, schema, name, signature],
        )
        return _obj(rows[0]) if rows else None

    def list(
        self, kind: str, database: str | None = None, schema: str | None = None
    ) -> list[CatalogObject]:
        sql, params = "SELECT * FROM objects WHERE kind=?", [kind]
        if database is not None:
            sql, params = sql + " AND database=?", [*params, database]
        if schema is not None:
            sql, params = sql + " AND schema=?", [*params, schema]
        return [_obj(r) for r in self.execute(sql + " ORDER BY database, schema, name", params)]

    def put(self, obj: CatalogObject) -> None:
        """Insert or replace one object (callers hold a transaction when several go together)."""
        self.execute(
            "INSERT OR REPLACE INTO objects VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                *obj.key,
                obj.owner,
                obj.created_on,
                obj.comment,
                json.dumps(obj.props, sort_keys=True),
                obj.secret,
            ],
        )

    def delete(self, obj: CatalogObject) -> None:
        self.execute(
            "DELETE FROM objects WHERE kind=? AND database=? AND schema=? AND name=? "
            "AND signature=?",
            list(obj.key),
        )

    def delete_in(self, database: str, schema: str | None = None) -> None:
        if schema is None:
            self.execute("DELETE FROM objects WHERE database=? AND kind <> 'DATABASE'", [database])
        else:
            self.execute("DELETE FROM objects WHERE database=? AND schema=?", [database, schema])

    # -- parameters ----------------------------------------------------------------------
    def get_param(self, scope: str, target: str, name: str) -> str | None:
        rows = self.execute(
            "SELECT value FROM parameters WHERE scope=? AND target=? AND name=?",
            [scope, target, name],
        )
        return rows[0][0] if rows else None

    def set_param(self, scope: str, target: str, name: str, value: str | None) -> None:
        if value is None:
            self.execute(
                "DELETE FROM parameters WHERE scope=? AND target=? AND name=?",
                [scope, target, name],
            )
        else:
            self.execute(
                "INSERT OR REPLACE INTO parameters VALUES (?,?,?,?)", [scope, target, name, value]
            )

    def params_of(self, scope: str, target: str) -> dict[str, str]:
        rows = self.execute(
            "SELECT name, value FROM parameters WHERE scope=? AND target=?", [scope, target]
        )
        return dict(rows)


def _obj(row: tuple[Any, ...]) -> CatalogObject:
    kind, database, schema, name, signature, owner, created_on, comment, props, secret = row
    return CatalogObject(
        kind,
        database,
        schema,
        name,
        signature,
        owner,
        created_on,
        comment,
        json.loads(props or "{}"),
        bytes(secret) if secret is not None else None,
    )
