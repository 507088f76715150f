"""Large query results as chunks the connector downloads (issue 15).

The rows of a query stream out of DuckDB batch by batch; the first rows travel inline in the
query response (``rowsetBase64``), the rest are cut into chunks of about ``CHUNK_ROWS`` rows,
each an Arrow IPC stream, gzip-compressed and appended to one spool file per result. The
response lists them (``chunks: [{url, rowCount, uncompressedSize, compressedSize}]``) with
``chunkHeaders`` holding a per-result token; the connector fetches the URLs (in parallel, in any
order) from ``GET /hoarfrost/results/<query id>/chunks/<n>`` with those headers. So the server
holds at most one chunk of a result in memory, and the client's session is free for its next
statement as soon as the response is sent.

Spools live in a temporary directory of the server; the newest ``KEPT`` results are kept (the
connector downloads a result's chunks right after its response), older ones are deleted, and
the directory goes when the server stops.
"""

from __future__ import annotations

import hmac
import os
import secrets
import shutil
import tempfile
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CHUNK_ROWS", "FIRST_ROWS", "TOKEN_HEADER", "ChunkSink", "ChunkStore", "ResultSpool"]

FIRST_ROWS = 8192  # rows sent inline with the query response
CHUNK_ROWS = 131072  # rows per downloaded chunk
KEPT = 32
TOKEN_HEADER = "x-hoarfrost-chunk-token"
_LEVEL = 1  # gzip level: loopback and LAN links are fast; compression must not be the bottleneck


@dataclass
class Chunk:
    offset: int
    length: int
    rows: int
    uncompressed: int


@dataclass
class ResultSpool:
    path: Path
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    chunks: list[Chunk] = field(default_factory=list)
    _size: int = 0

    def add(self, data: bytes, rows: int) -> None:
        packer = zlib.compressobj(_LEVEL, zlib.DEFLATED, 31)  # 31: a gzip member
        packed = packer.compress(data) + packer.flush()
        with self.path.open("ab") as out:
            out.write(packed)
        self.chunks.append(Chunk(self._size, len(packed), rows, len(data)))
        self._size += len(packed)

    def read(self, index: int) -> bytes:
        chunk = self.chunks[index]
        with self.path.open("rb") as source:
            source.seek(chunk.offset)
            return source.read(chunk.length)

    def allows(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token, self.token)

    def delete(self) -> None:
        self.path.unlink(missing_ok=True)


class ChunkStore:
    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="hoarfrost-chunks-"))
        os.chmod(self.directory, 0o700)
        self._spools: OrderedDict[str, ResultSpool] = OrderedDict()
        self._lock = threading.Lock()

    def new(self, query_id: str) -> ResultSpool:
        spool = ResultSpool(self.directory / f"{secrets.token_hex(8)}.chunks")
        with self._lock:
            self._spools[query_id] = spool
            while len(self._spools) > KEPT:
                _, old = self._spools.popitem(last=False)
                old.delete()
        return spool

    def get(self, query_id: str) -> ResultSpool | None:
        with self._lock:
            return self._spools.get(query_id)

    def close(self) -> None:
        with self._lock:
            self._spools.clear()
        shutil.rmtree(self.directory, ignore_errors=True)


@dataclass(frozen=True)
class ChunkSink:
    """Where a request's result chunks go and the base URL the client reaches them at."""

    store: ChunkStore
    base_url: str

    def url(self, query_id: str, index: int) -> str:
        return f"{self.base_url}/hoarfrost/results/{query_id}/chunks/{index}"
