"""Reading staged files with DuckDB: the scan of one file in a file format, as DuckDB SQL.

A CSV file's columns are ``"$1"``, ``"$2"``... (Snowflake's positional columns), typed as the
caller asks (VARCHAR by default, the target table's types for a plain COPY so that bad values
become rejected rows with their line and column). A JSON file gives one row per record: the
record's keys as columns (``records``), or the whole record as one JSON column ``"$1"``. A
Parquet file gives its own columns. Only engine-generated SQL reads files: the statement
translator refuses DuckDB's readers in user SQL, and DuckDB's sandbox allows the stage root only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from hoarfrost.errors import UnsupportedFeature

__all__ = ["csv_width", "scan_sql", "sql_string"]

_NO_NULL = "\x00"  # NULL_IF = () with EMPTY_FIELD_AS_NULL = FALSE: nothing reads as NULL
_COMPRESSION = {
    "AUTO": "auto",
    "GZIP": "gzip",
    "ZSTD": "zstd",
    "NONE": "none",
}


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _compression(fmt: dict[str, Any]) -> str:
    name = str(fmt.get("COMPRESSION", "AUTO")).upper()
    if name not in _COMPRESSION:
        raise UnsupportedFeature(
            f"COMPRESSION = {name} is not supported for loading; use AUTO, GZIP, ZSTD or NONE."
        )
    return _COMPRESSION[name]


def _csv_options(fmt: dict[str, Any]) -> list[str]:
    quote = fmt.get("FIELD_OPTIONALLY_ENCLOSED_BY", "NONE")
    quote = "" if quote in (None, "NONE") else str(quote)
    escape = fmt.get("ESCAPE", "NONE")
    escape = quote if escape in (None, "NONE") else str(escape)
    nulls = [str(n) for n in fmt.get("NULL_IF", [])]
    if fmt.get("EMPTY_FIELD_AS_NULL", True):
        nulls.append("")
    opts = [
        f"delim={sql_string(str(fmt.get('FIELD_DELIMITER', ',')))}",
        f"quote={sql_string(quote)}",
        f"escape={sql_string(escape)}",
        f"nullstr=[{', '.join(sql_string(n) for n in (nulls or [_NO_NULL]))}]",
        f"compression={sql_string(_compression(fmt))}",
        "auto_detect=false",
        "parallel=true",
    ]
    header = bool(fmt.get("PARSE_HEADER"))
    opts.append(f"header={'true' if header else 'false'}")
    skip = int(fmt.get("SKIP_HEADER", 0) or 0)
    if skip:
        opts.append(f"skip={skip}")
    if not fmt.get("ERROR_ON_COLUMN_COUNT_MISMATCH", True):
        opts += ["null_padding=true", "strict_mode=false"]
    for key, option in (("DATE_FORMAT", "dateformat"), ("TIMESTAMP_FORMAT", "timestampformat")):
        value = str(fmt.get(key, "AUTO"))
        if value.upper() != "AUTO":
            opts.append(f"{option}={sql_string(strftime(value))}")
    return opts


def strftime(snowflake: str) -> str:
    """A Snowflake date/time format (YYYY-MM-DD HH24:MI:SS) as a strftime pattern."""
    out = snowflake
    for ours, theirs in (
        ("YYYY", "%Y"),
        ("YY", "%y"),
        ("MM", "%m"),
        ("MON", "%b"),
        ("DD", "%d"),
        ("HH24", "%H"),
        ("HH12", "%I"),
        ("MI", "%M"),
        ("SS", "%S"),
        ("FF", "%f"),
        ("AM", "%p"),
        ("PM", "%p"),
    ):
        out = out.replace(ours, theirs)
    return out


def csv_width(duck: duckdb.DuckDBPyConnection, path: Path, fmt: dict[str, Any]) -> int:
    """How many fields the file's first record has."""
    options = [o for o in _csv_options(fmt) if not o.startswith(("auto_detect", "header"))]
    sql = (
        f"SELECT * FROM read_csv({sql_string(str(path))}, {', '.join(options)}, "
        "all_varchar=true, header=false) LIMIT 0"
    )
    try:
        return len(duck.execute(sql).description or [])
    except duckdb.Error:
        return 1


def scan_sql(
    path: Path,
    fmt: dict[str, Any],
    *,
    columns: Sequence[tuple[str, str]] | None = None,
    rejects: str | None = None,
    records: bool = False,
) -> str:
    """DuckDB SQL reading one staged file."""
    kind = fmt.get("TYPE", "CSV")
    where = sql_string(str(path))
    if kind == "CSV":
        opts = _csv_options(fmt)
        if columns is not None:
            spec = ", ".join(f"{sql_string(n)}: {sql_string(t)}" for n, t in columns)
            opts.append(f"columns={{{spec}}}")
        else:
            opts.append("all_varchar=true")
        if rejects is not None:
            opts += [
                "store_rejects=true",
                f"rejects_table={sql_string(rejects + '_errors')}",
                f"rejects_scan={sql_string(rejects + '_scans')}",
            ]
        return f"SELECT * FROM read_csv({where}, {', '.join(opts)})"
    if kind == "JSON":
        shape = "array" if fmt.get("STRIP_OUTER_ARRAY") else "auto"
        compression = sql_string(_compression(fmt))
        if records:
            return (
                f"SELECT * FROM read_json({where}, format={sql_string(shape)}, "
                f"records=true, compression={compression})"
            )
        return (
            f'SELECT json AS "$1" FROM read_json_objects({where}, format={sql_string(shape)}, '
            f"compression={compression})"
        )
    if kind == "PARQUET":
        return f"SELECT * FROM read_parquet({where}, binary_as_string=true)"
    raise UnsupportedFeature(f"File format TYPE = {kind} is not supported.")
