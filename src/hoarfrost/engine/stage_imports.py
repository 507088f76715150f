"""IMPORTS of Python functions and procedures: staged ``.py`` files and ``.zip`` archives.

At CREATE each staged file is read once and kept content-addressed (``<stage root>/imports/
<sha256>``); the function records what it imported by location, name and sha256 (DESCRIBE
shows them), so governance knows exactly what runs. Like the packages lock, imports are frozen
at CREATE: changing or removing the staged file later does not change an existing function
(CREATE OR REPLACE it to take the new file). A worker sees the function's imports as one
read-only directory of its own (``imports/sets/<hash>``), on ``sys.path`` (zips too), readable
through the kernel sandbox, and named by ``sys._xoptions['snowflake_import_directory']`` as the
reference documents.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from hoarfrost.engine.context import Context
from hoarfrost.engine.stage_refs import locate
from hoarfrost.errors import InvalidValue
from hoarfrost.sql.locations import parse_stage

__all__ = ["import_directory", "snapshot_imports", "zip_paths"]

_CHUNK = 1 << 20


def _store(context: Context) -> Path:
    return context.engine.stages.directory / "imports"


def snapshot_imports(context: Context, locations: list[str]) -> list[dict[str, Any]]:
    """Read each staged file once; its content is kept by sha256. Records in the given order."""
    records: list[dict[str, Any]] = []
    names: set[str] = set()
    for location in locations:
        ref = parse_stage(location)
        found = locate(context, ref)
        if not found.path or not found.area.exists(found.path):
            raise InvalidValue(
                f"SQL compilation error:\nFile '{location}' does not exist or not authorized.",
                errno=2003,
                sqlstate="02000",
            )
        name = found.path.rpartition("/")[2]
        if name in names:
            raise InvalidValue(
                f"SQL compilation error:\nTwo IMPORTS have the same file name '{name}'.",
                errno=1008,
                sqlstate="22023",
            )
        names.add(name)
        digest = _keep(context, found.area.read_chunks(found.path))
        records.append({"location": location, "name": name, "sha256": digest})
    return records


def _keep(context: Context, chunks: Any) -> str:
    store = _store(context)
    store.mkdir(mode=0o700, parents=True, exist_ok=True)
    temp = store / f".incoming-{uuid.uuid4().hex}"
    digest = hashlib.sha256()
    with open(temp, "wb") as handle:
        for chunk in chunks:
            digest.update(chunk)
            handle.write(chunk)
    target = store / digest.hexdigest()
    if target.exists():
        temp.unlink()
    else:
        os.chmod(temp, 0o400)
        os.replace(temp, target)
    return digest.hexdigest()


def import_directory(stage_root: Path, records: list[dict[str, Any]]) -> Path:
    """The directory a worker reads the imports from, made once per distinct set."""
    store = stage_root / "imports"
    key = hashlib.sha256(
        "\0".join(f"{r['name']}\0{r['sha256']}" for r in records).encode()
    ).hexdigest()
    directory = store / "sets" / key
    if directory.is_dir():
        return directory
    building = store / "sets" / f".building-{uuid.uuid4().hex}"
    building.mkdir(mode=0o700, parents=True)
    for record in records:
        source = store / record["sha256"]
        if not source.is_file():
            shutil.rmtree(building, ignore_errors=True)
            raise InvalidValue(
                f"The import {record['location']} (sha256 {record['sha256']}) is no longer "
                "kept; CREATE OR REPLACE the function.",
            )
        shutil.copyfile(source, building / record["name"])
    try:
        os.replace(building, directory)
    except OSError:  # another creator won: theirs is the same content
        shutil.rmtree(building, ignore_errors=True)
    return directory


def zip_paths(directory: Path) -> list[str]:
    return sorted(str(p) for p in directory.iterdir() if p.suffix in (".zip", ".whl"))
