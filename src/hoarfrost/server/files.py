"""PUT and GET over the wire: the upload / download command the connectors act on, and the
file endpoint the bytes travel through.

The connectors move staged files themselves, to the cloud storage a PUT or GET answer names
(their ``file_transfer_agent`` / sf_core ``file_manager``). hoarfrost answers as a GCS stage
whose storage is this server's own port, so a client that shares no file system with the server
works too:

* **Presigned URLs** (every connector generation): GET lists one URL per file
  (``presignedUrls``); a PUT answers with a URL for the file its command names. Connector 4.x
  asks again for each file it uploads (``PUT file://<target name> ...``), so each URL names
  exactly one staged file.
* **Access token with an endpoint** (connector 5.x, whose core uploads every file of a PUT to
  the one URL it is given): ``endPoint`` is this server, the "bucket" a grant id and the key the
  stage path; the token travels as ``Authorization: Bearer``. Connector 4.x accepts only an
  https endpoint, hence the two styles; which one a session gets follows its login's
  CLIENT_APP_ID / CLIENT_APP_VERSION.

A grant is random (32 bytes), lives for an hour, and reaches one stage folder (token) or one
file (presigned). Bodies are streamed to a file of the stage's ``incoming`` directory and
renamed into place when complete; downloads are streamed from disk. Grant ids never reach the
logs: the access log shows ``/hoarfrost-stage/...`` without them.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse

from hoarfrost.engine.result import Result
from hoarfrost.engine.stage_files import StageArea, clean_path
from hoarfrost.engine.stage_transfer import Download, Upload
from hoarfrost.errors import Error

__all__ = [
    "PATH_PREFIX",
    "FileGrants",
    "RedactStagePaths",
    "file_endpoint",
    "transfer_data",
    "uses_token",
]

PATH_PREFIX = "/hoarfrost-stage"
GRANT_SECONDS = 3600.0
_WRITE_BATCH = 1 << 20


@dataclass
class Grant:
    area: StageArea
    upload: bool
    folder: str  # uploads: the stage folder; a key must be folder/<one name>
    keys: frozenset[str] = frozenset()  # presigned: exactly these keys
    bearer: str | None = None  # token style: the Authorization: Bearer value
    overwrite: bool = True
    expires: float = field(default_factory=lambda: time.monotonic() + GRANT_SECONDS)

    def allows(self, key: str) -> bool:
        if self.keys:
            return key in self.keys
        parent, _, name = key.rpartition("/")
        return bool(name) and parent == self.folder


class FileGrants:
    def __init__(self) -> None:
        self._grants: dict[str, Grant] = {}
        self._lock = threading.Lock()

    def add(self, grant: Grant) -> str:
        grant_id = secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            for stale in [k for k, g in self._grants.items() if g.expires < now]:
                del self._grants[stale]
            self._grants[grant_id] = grant
        return grant_id

    def get(self, grant_id: str) -> Grant | None:
        with self._lock:
            grant = self._grants.get(grant_id)
        if grant is None or grant.expires < time.monotonic():
            return None
        return grant


def uses_token(client_app_id: str, client_app_version: str) -> bool:
    """Whether a client takes the access-token style (its core accepts an http endpoint)."""
    major = client_app_version.split(".", 1)[0]
    return client_app_id == "PythonConnector" and major.isdigit() and int(major) >= 5


# -- the PUT / GET answer --------------------------------------------------------------------
def transfer_data(
    result: Result, grants: FileGrants, base_url: str, token_style: bool
) -> dict[str, Any]:
    plan = result.transfer
    base = base_url.rstrip("/") + PATH_PREFIX
    if isinstance(plan, Upload):
        return _upload_data(plan, grants, base, token_style)
    assert isinstance(plan, Download)
    return _download_data(plan, grants, base)


def _stage_info(plan_folder: str, grant_id: str, base: str, **extra: Any) -> dict[str, Any]:
    folder = f"{plan_folder}/" if plan_folder else ""
    return {
        "locationType": "GCS",
        "location": f"{grant_id}/{folder}",
        "path": folder,
        "region": "hoarfrost",
        "storageAccount": None,
        "isClientSideEncrypted": False,
        "useRegionalUrl": False,
        "useVirtualUrl": False,
        "endPoint": None,
        "creds": {},
        "presignedUrl": None,
        **extra,
    }


def _upload_data(plan: Upload, grants: FileGrants, base: str, token_style: bool) -> dict[str, Any]:
    if token_style:
        bearer = secrets.token_urlsafe(32)
        grant = Grant(plan.area, True, plan.folder, bearer=bearer, overwrite=plan.overwrite)
        grant_id = grants.add(grant)
        info = _stage_info(
            plan.folder, grant_id, base, endPoint=base, creds={"GCS_ACCESS_TOKEN": bearer}
        )
    else:
        name = os.path.basename(plan.local)
        url = None
        if name and not any(ch in name for ch in "*?["):
            # Connector 4.x asks for each file's URL with `PUT file://<target name> ...`: the
            # command names the staged file exactly.
            target = name
            key = plan.relpath(target)
            clean_path(key)
            grant = Grant(plan.area, True, plan.folder, frozenset({key}), overwrite=plan.overwrite)
            url = f"{base}/{grants.add(grant)}/{key}"
        info = _stage_info(plan.folder, "presigned", base, presignedUrl=url)
    return {
        "command": "UPLOAD",
        "src_locations": [plan.local],
        "stageInfo": info,
        "encryptionMaterial": None,
        "autoCompress": plan.auto_compress,
        "sourceCompression": plan.source_compression.lower(),
        "overwrite": plan.overwrite,
        "parallel": plan.parallel,
        "threshold": 200 * 1024 * 1024,
        "rowtype": [],
        "rowset": [],
    }


def _download_data(plan: Download, grants: FileGrants, base: str) -> dict[str, Any]:
    keys = frozenset(f.relpath for f in plan.files)
    grant_id = grants.add(Grant(plan.area, False, "", keys))
    return {
        "command": "DOWNLOAD",
        "src_locations": [plan.area.name_of(f.relpath) for f in plan.files],
        "presignedUrls": [f"{base}/{grant_id}/{f.relpath}" for f in plan.files],
        "localLocation": plan.local,
        "stageInfo": _stage_info("", grant_id, base),
        "encryptionMaterial": [],
        "parallel": plan.parallel,
        "rowtype": [],
        "rowset": [],
    }


# -- the file endpoint ---------------------------------------------------------------------
async def file_endpoint(request: Request, grants: FileGrants) -> Response:
    grant_id = request.path_params["grant"]
    key = request.path_params["key"]
    grant = grants.get(grant_id)
    if grant is None or not _authorized(request, grant):
        return Response(status_code=403)
    try:
        clean_path(key)
    except Error:
        return Response(status_code=400)
    if not grant.allows(key):
        return Response(status_code=403)
    if request.method == "PUT":
        if not grant.upload:
            return Response(status_code=403)
        return await _receive(request, grant, key)
    return await _send(request, grant, key)


def _authorized(request: Request, grant: Grant) -> bool:
    if grant.bearer is None:
        return True  # presigned: the grant id is the credential
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(value.strip(), grant.bearer)


async def _receive(request: Request, grant: Grant, key: str) -> Response:
    area = grant.area
    exists = await run_in_threadpool(area.exists, key)
    if exists and not grant.overwrite:
        async for _ in request.stream():  # OVERWRITE = FALSE keeps the staged file
            pass
        return Response(status_code=200)
    writer = await run_in_threadpool(area.writer, key)
    try:
        pending: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            pending.append(chunk)
            size += len(chunk)
            if size >= _WRITE_BATCH:
                await run_in_threadpool(_write, writer, pending)
                pending, size = [], 0
        await run_in_threadpool(_write, writer, pending)
        await run_in_threadpool(writer.commit)
    except ClientDisconnect:
        return Response(status_code=400)
    finally:
        writer.__exit__(None, None, None)
    return Response(status_code=200)


def _write(writer: Any, chunks: list[bytes]) -> None:
    for chunk in chunks:
        writer.write(chunk)


async def _send(request: Request, grant: Grant, key: str) -> Response:
    area = grant.area
    if not await run_in_threadpool(area.exists, key):
        return Response(status_code=404)
    fd = await run_in_threadpool(area.open_read, key)
    size = os.fstat(fd).st_size
    headers = {"content-length": str(size), "content-type": "application/octet-stream"}
    if request.method == "HEAD":
        os.close(fd)
        return Response(status_code=200, headers=headers)
    handle = os.fdopen(fd, "rb")

    async def body() -> AsyncIterator[bytes]:
        try:
            while chunk := await run_in_threadpool(handle.read, _WRITE_BATCH):
                yield chunk
        finally:
            handle.close()

    return StreamingResponse(body(), status_code=200, headers=headers)


class RedactStagePaths(logging.Filter):
    """Keeps grant ids out of the access log (a presigned URL is a credential)."""

    _GRANT = re.compile(re.escape(PATH_PREFIX) + r"/[^/\s]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self._GRANT.sub(PATH_PREFIX + "/...", a) if isinstance(a, str) else a
                for a in record.args
            )
        return True
