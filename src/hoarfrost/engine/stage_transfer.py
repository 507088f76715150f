"""PUT and GET as plans, and their execution on local paths.

A PUT or GET statement answers with a :class:`Upload` or :class:`Download` plan (on
``Result.transfer``). Over the wire the client moves the bytes itself (``server/files.py``
answers with the upload or download command the connectors act on); a ``hoarfrost.connect()``
cursor shares the machine with its engine, so :func:`run_locally` moves them here, with the same
rules the connectors follow: files matched by the local wildcard, gzip when AUTO_COMPRESS and the
file is not compressed already, SKIPPED for an existing file without OVERWRITE, and the
reference's result rows.
"""

from __future__ import annotations

import glob
import gzip
import os
from dataclasses import dataclass, field
from pathlib import Path

from hoarfrost.engine.result import Result, rows_result
from hoarfrost.engine.stage_files import StageArea, StagedFile
from hoarfrost.errors import InvalidValue, ProgrammingError

__all__ = [
    "DOWNLOAD_COLUMNS",
    "UPLOAD_COLUMNS",
    "Download",
    "Upload",
    "compression_of",
    "run_locally",
    "target_name",
]

UPLOAD_COLUMNS = (
    "source",
    "target",
    "source_size",
    "target_size",
    "source_compression",
    "target_compression",
    "status",
    "message",
)
DOWNLOAD_COLUMNS = ("file", "size", "status", "message")
# File name endings the connectors recognise as already compressed (their compression table).
_BY_SUFFIX = {
    ".gz": "GZIP",
    ".bz2": "BZIP2",
    ".br": "BROTLI",
    ".zst": "ZSTD",
    ".deflate": "DEFLATE",
    ".raw_deflate": "RAW_DEFLATE",
    ".parquet": "PARQUET",
    ".orc": "ORC",
}
SOURCE_COMPRESSIONS = {"AUTO_DETECT", "NONE", *_BY_SUFFIX.values()}
_CHUNK = 1 << 20


@dataclass
class Upload:
    area: StageArea
    folder: str  # the stage folder files go to ('' or 'a/b')
    local: str  # the local path as written, wildcards and all
    auto_compress: bool = True
    source_compression: str = "AUTO_DETECT"
    overwrite: bool = False
    parallel: int = 4
    command: str = "UPLOAD"

    def relpath(self, filename: str) -> str:
        return f"{self.folder}/{filename}" if self.folder else filename


@dataclass
class Download:
    area: StageArea
    files: list[StagedFile] = field(default_factory=list)
    local: str = ""  # the local directory
    parallel: int = 10
    command: str = "DOWNLOAD"


def compression_of(path: str, declared: str = "AUTO_DETECT") -> str:
    if declared != "AUTO_DETECT":
        return declared
    for suffix, name in _BY_SUFFIX.items():
        if path.lower().endswith(suffix):
            return name
    try:
        with open(path, "rb") as handle:
            if handle.read(2) == b"\x1f\x8b":
                return "GZIP"
    except OSError:
        pass
    return "NONE"


def target_name(path: str, compression: str, auto_compress: bool) -> tuple[str, str]:
    """(file name on the stage, its compression) of a local file."""
    name = os.path.basename(path)
    if compression == "NONE" and auto_compress:
        return name + ".gz", "GZIP"
    return name, compression


def run_locally(plan: Upload | Download) -> Result:
    if isinstance(plan, Upload):
        return _upload(plan)
    return _download(plan)


def _upload(plan: Upload) -> Result:
    sources = sorted(p for p in glob.glob(os.path.expanduser(plan.local)) if os.path.isfile(p))
    if not sources:
        raise ProgrammingError(
            f"File doesn't exist: ['{plan.local}']", errno=253006, sqlstate="02000"
        )
    rows = [_upload_one(plan, source) for source in sources]
    return rows_result(UPLOAD_COLUMNS, rows, "OTHER")


def _upload_one(plan: Upload, source: str) -> tuple[object, ...]:
    compression = compression_of(source, plan.source_compression)
    name, target_compression = target_name(source, compression, plan.auto_compress)
    relpath = plan.relpath(name)
    size = os.path.getsize(source)
    if not plan.overwrite and plan.area.exists(relpath):
        row = (os.path.basename(source), name, size, 0, compression, target_compression)
        return (*row, "SKIPPED", "")
    with plan.area.writer(relpath) as writer, open(source, "rb") as handle:
        if target_compression == "GZIP" and compression == "NONE":
            with gzip.GzipFile(fileobj=writer, mode="wb", mtime=0) as zipped:  # type: ignore[arg-type]
                while chunk := handle.read(_CHUNK):
                    zipped.write(chunk)
        else:
            while chunk := handle.read(_CHUNK):
                writer.write(chunk)
        writer.commit()
        written = writer.size
    row = (os.path.basename(source), name, size, written, compression, target_compression)
    return (*row, "UPLOADED", "")


def _download(plan: Download) -> Result:
    directory = Path(os.path.expanduser(plan.local))
    if not directory.is_dir():
        raise InvalidValue(
            f"The local path is not a directory: {plan.local}", errno=253007, sqlstate="22000"
        )
    rows = []
    for staged in plan.files:
        target = directory / os.path.basename(staged.relpath)
        with open(target, "wb") as handle:
            for chunk in plan.area.read_chunks(staged.relpath):
                handle.write(chunk)
        rows.append((os.path.basename(staged.relpath), staged.size, "DOWNLOADED", ""))
    return rows_result(DOWNLOAD_COLUMNS, rows, "OTHER")
