"""COPY INTO <location>: unloading a table or query into staged files (Snowflake's COPY INTO
<location> page).

The rows are a temporary view made by ordinary SQL (so the query is translated like any other),
written by DuckDB's own COPY into a fresh directory under the stage root's ``incoming`` area
(the sandbox lets DuckDB write nowhere else), then renamed into the stage with the reference's
names: ``<prefix>data_0_0_0.csv.gz`` ... (``<prefix>`` is the path when it does not end with
``/``), the path itself with SINGLE = TRUE, one folder per value with PARTITION BY.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from hoarfrost.catalog.file_formats import options_json
from hoarfrost.catalog.props import Props
from hoarfrost.commands.file_formats import resolve_format
from hoarfrost.commands.ordinary import run_ordinary
from hoarfrost.engine.context import Context, Handler
from hoarfrost.engine.result import Result, rows_result
from hoarfrost.engine.stage_files import StageArea, clean_path
from hoarfrost.engine.stage_refs import locate
from hoarfrost.engine.stage_scan import sql_string
from hoarfrost.errors import InvalidValue, UnsupportedFeature
from hoarfrost.sql.ast import Ordinary, Unload
from hoarfrost.sql.tokens import split

__all__ = ["HANDLERS"]

_OPTIONS = {
    "FILE_FORMAT",
    "HEADER",
    "SINGLE",
    "MAX_FILE_SIZE",
    "OVERWRITE",
    "INCLUDE_QUERY_ID",
    "DETAILED_OUTPUT",
}
_VIEW = "__HF_UNLOAD"
_PART = "__HF_PARTITION"
DEFAULT_MAX_FILE_SIZE = 16 * 1024 * 1024


def unload(context: Context, node: Unload) -> Result:
    props = Props(node.options, "COPY", _OPTIONS)
    found = locate(context, node.stage, write=True)
    base = found.stage.props.get("file_format") if found.stage else None
    fmt = resolve_format(
        context, options_json(node.options.get("FILE_FORMAT"), "FILE_FORMAT"), base or {}
    )
    single = bool(props.boolean("SINGLE"))
    size_text = props.number_text("MAX_FILE_SIZE")
    max_size = int(size_text) if size_text and size_text.isdigit() else DEFAULT_MAX_FILE_SIZE
    folder, prefix = _split(found.path, found.folder)
    if single and not prefix:
        raise InvalidValue(
            "SQL compilation error:\nSINGLE = TRUE needs a file name in the location, e.g. "
            "@stage/path/result.csv.gz.",
            errno=1008,
            sqlstate="22023",
        )
    existing = [f for f in found.area.files(folder) if f.relpath.startswith(found.path)]
    if existing and not props.boolean("OVERWRITE"):
        raise InvalidValue(
            f"Files already existing at the unload destination: {node.stage}. Use overwrite "
            "option to force unloading.",
            errno=100157,
            sqlstate="22000",
        )
    for staged in existing:
        found.area.remove(staged.relpath)
    select = node.query
    if node.partition_by:
        select = f"SELECT *, ({node.partition_by}) AS {_PART} FROM ({node.query})"
    run_ordinary(
        context, Ordinary(split(f"CREATE OR REPLACE TEMPORARY VIEW {_VIEW} AS {select}")[0])
    )
    try:
        writer = _Writer(context, found.area, fmt, bool(props.boolean("HEADER")), max_size)
        if node.partition_by:
            values = context.duck.execute(f"SELECT DISTINCT {_PART} FROM {_VIEW}").fetchall()
            for (value,) in values:
                where = (
                    f"{_PART} IS NULL" if value is None else f"{_PART} = {sql_string(str(value))}"
                )
                part = "_NULL_" if value is None else "/".join(clean_path(str(value)))
                sub = "/".join(p for p in (folder, part) if p)
                writer.write(
                    f"SELECT * EXCLUDE ({_PART}) FROM {_VIEW} WHERE {where}", sub, prefix, single
                )
        else:
            writer.write(f"SELECT * FROM {_VIEW}", folder, prefix, single)
    finally:
        context.duck.execute(f"DROP VIEW IF EXISTS {_VIEW}")
    result = rows_result(
        ("rows_unloaded", "input_bytes", "output_bytes"),
        [(writer.rows, writer.bytes, writer.bytes)],
        "DML",
    )
    result.rowcount = writer.rows
    return result


def _split(path: str, folder: bool) -> tuple[str, str]:
    """(folder, file name prefix) of an unload location."""
    if folder or not path:
        return path, ""
    parent, _, name = path.rpartition("/")
    return parent, name


class _Writer:
    def __init__(
        self, context: Context, area: StageArea, fmt: dict[str, Any], header: bool, max_size: int
    ):
        self.context = context
        self.area = area
        self.fmt = fmt
        self.header = header
        self.max_size = max_size
        self.rows = 0
        self.bytes = 0

    def write(self, select: str, folder: str, prefix: str, single: bool) -> None:
        scratch = self.area.root.directory / "incoming" / uuid.uuid4().hex
        scratch.mkdir(mode=0o700, parents=True)
        try:
            options, extension = self._options()
            if not single:
                options.append(f"FILE_SIZE_BYTES {self.max_size}")
                options.append("PER_THREAD_OUTPUT false")
                target = scratch
            else:
                target = scratch / "single"
            count = self.context.duck.execute(
                f"COPY ({select}) TO {sql_string(str(target))} ({', '.join(options)})"
            ).fetchone()
            self.rows += int(count[0]) if count else 0
            self._place(scratch, folder, prefix, extension, single)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _place(self, scratch: Path, folder: str, prefix: str, extension: str, single: bool) -> None:
        produced = sorted(p for p in scratch.rglob("*") if p.is_file())
        for n, path in enumerate(produced):
            stem = f"{prefix}_" if prefix else "data_"
            name = prefix if single else f"{stem}0_0_{n}{extension}"
            rel = "/".join(p for p in (folder, name) if p)
            self.bytes += path.stat().st_size
            with open(path, "rb") as handle:
                self.area.write_chunks(rel, iter(lambda: handle.read(1 << 20), b""))
            os.unlink(path)

    def _options(self) -> tuple[list[str], str]:
        kind = self.fmt["TYPE"]
        compression = str(self.fmt.get("COMPRESSION", "AUTO")).upper()
        if kind == "CSV":
            codec = {"AUTO": "gzip", "GZIP": "gzip", "NONE": "none", "ZSTD": "zstd"}.get(
                compression
            )
            if codec is None:
                raise UnsupportedFeature(
                    f"COMPRESSION = {compression} is not supported for unloading."
                )
            quote = self.fmt.get("FIELD_OPTIONALLY_ENCLOSED_BY", "NONE")
            nulls = self.fmt.get("NULL_IF") or ["\\N"]
            options = [
                "FORMAT csv",
                f"DELIMITER {sql_string(str(self.fmt.get('FIELD_DELIMITER', ',')))}",
                f"HEADER {'true' if self.header else 'false'}",
                f"NULLSTR {sql_string(str(nulls[0]))}",
                f"COMPRESSION {codec}",
            ]
            if quote not in (None, "NONE"):
                options.append(f"QUOTE {sql_string(str(quote))}")
            ext = {"gzip": ".csv.gz", "zstd": ".csv.zst", "none": ".csv"}[codec]
            return options, ext
        if kind == "JSON":
            codec = "none" if compression == "NONE" else "gzip"
            return ["FORMAT json", f"COMPRESSION {codec}"], ".json" + (
                ".gz" if codec == "gzip" else ""
            )
        codec = {"AUTO": "snappy", "SNAPPY": "snappy", "NONE": "uncompressed", "ZSTD": "zstd"}.get(
            compression, "snappy"
        )
        return ["FORMAT parquet", f"COMPRESSION {codec}"], f".{codec}.parquet".replace(
            ".uncompressed", ""
        )


HANDLERS: dict[tuple[str, str], Handler] = {("Unload", ""): unload}
