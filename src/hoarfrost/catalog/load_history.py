"""Load metadata: which staged file (by path and content) each table has loaded, so that COPY
loads a file once unless FORCE = TRUE (Snowflake keeps it for 64 days; here it is kept until the
table is loaded again with FORCE or the file changes). Kept in the catalog's DuckDB, in a table
of its own created on first use."""

from __future__ import annotations

import datetime as dt

from hoarfrost.catalog.store import CatalogStore

__all__ = ["loaded_files", "record_loaded"]

_DDL = """CREATE TABLE IF NOT EXISTS copy_load_history (
    table_key VARCHAR NOT NULL, file VARCHAR NOT NULL, md5 VARCHAR NOT NULL,
    loaded_at TIMESTAMPTZ, rows_loaded BIGINT, PRIMARY KEY (table_key, file, md5))"""


def _ready(catalog: CatalogStore) -> None:
    catalog.execute(_DDL)


def loaded_files(catalog: CatalogStore, table_key: str) -> set[tuple[str, str]]:
    """(file, md5) pairs the table has loaded."""
    _ready(catalog)
    rows = catalog.execute(
        "SELECT file, md5 FROM copy_load_history WHERE table_key = ?", [table_key]
    )
    return {(r[0], r[1]) for r in rows}


def record_loaded(catalog: CatalogStore, table_key: str, file: str, md5: str, rows: int) -> None:
    _ready(catalog)
    catalog.execute(
        "INSERT OR REPLACE INTO copy_load_history VALUES (?, ?, ?, ?, ?)",
        [table_key, file, md5, dt.datetime.now(dt.timezone.utc), rows],
    )
