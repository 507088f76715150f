"""Large query results as chunks the connector downloads (issue 15).

The rows of a query stream out of DuckDB batch by batch into one spool file per result, as
DuckDB gave them (Arrow IPC, uncompressed: writing them costs little more than reading them).
The first rows travel inline in the query response (``rowsetBase64``); the rest are cut into
chunks of about ``CHUNK_ROWS`` rows, listed in the response (``chunks: [{url, rowCount,
uncompressedSize, compressedSize}]``) with ``chunkHeaders`` holding a per-result token. A chunk
is made when the connector asks for it (``GET /hoarfrost/results/<query id>/chunks/<n>``, in
parallel, in any order): its batches are read back, converted to the reference's Arrow form and
gzip-compressed then. So the response goes out as soon as DuckDB has finished, the server's
conversion and compression overlap with the client's own work, and the server holds only the
chunks being sent in memory.

The sizes in the list are those of the raw batches: a chunk's exact sizes are known only once
it is made, and both connector lines only report these two numbers (``ResultBatch``'s
``compressed_size`` / ``uncompressed_size``), never rely on them.

Spools live in a temporary directory of the server. A result stays downloadable for
``KEEP_SECONDS`` after it was made (the connector downloads its chunks right after the response,
but a client may be slow or paused), unless the spools together pass ``SPOOL_BUDGET`` bytes: then
the oldest results go first, down to the newest one. The directory goes when the server stops.
"""

from __future__ import annotations

import hmac
import os
import secrets
import shutil
import tempfile
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

__all__ = [
    "CHUNK_ROWS",
    "FIRST_ROWS",
    "TOKEN_HEADER",
    "ChunkSink",
    "ChunkStore",
    "Converter",
    "RawSpool",
    "SpooledResult",
]

FIRST_ROWS = 8192  # rows sent inline with the query response
CHUNK_ROWS = 131072  # rows per downloaded chunk
KEEP_SECONDS = 3600.0
SPOOL_BUDGET = 4 << 30  # bytes of raw batches on disk, all results together
TOKEN_HEADER = "x-hoarfrost-chunk-token"
_LEVEL = 1  # gzip level: loopback and LAN links are fast; compression must not be the bottleneck

# Record batches of a result in the form the client reads, to one IPC stream's bytes.
Converter = Callable[[list[pa.RecordBatch]], bytes]


def gzip_member(data: bytes) -> bytes:
    packer = zlib.compressobj(_LEVEL, zlib.DEFLATED, 31)  # 31: a gzip member
    return packer.compress(data) + packer.flush()


@dataclass(frozen=True)
class _Segment:
    offset: int
    length: int
    rows: int
    schema: int  # index into RawSpool.schemas: a chunk never mixes two


@dataclass(frozen=True)
class _Slice:
    segment: int
    start: int
    rows: int


@dataclass(frozen=True)
class Chunk:
    slices: tuple[_Slice, ...]
    rows: int
    size: int  # bytes of the raw batches it is made of


class RawSpool:
    """A result's record batches as DuckDB gave them, on disk, one IPC stream per batch; read
    back by offset (``os.pread``), so concurrent chunk requests need no lock."""

    def __init__(self, directory: Path):
        fd, name = tempfile.mkstemp(dir=directory, suffix=".batches")
        os.unlink(name)  # the open descriptor keeps it: nothing to clean up after a crash
        self._fd = fd
        self._size = 0
        self.segments: list[_Segment] = []
        self.schemas: list[pa.Schema] = []

    def add(self, batch: pa.RecordBatch) -> None:
        if not self.schemas or batch.schema != self.schemas[-1]:
            self.schemas.append(batch.schema)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, batch.schema) as writer:
            writer.write_batch(batch)
        data = sink.getvalue()
        os.write(self._fd, data)  # a regular file: written whole
        self.segments.append(_Segment(self._size, data.size, batch.num_rows, len(self.schemas) - 1))
        self._size += data.size

    @property
    def size(self) -> int:
        """Bytes of the batches written so far."""
        return self._size

    def read(self, index: int) -> pa.RecordBatch:
        segment = self.segments[index]
        data = os.pread(self._fd, segment.length, segment.offset)
        return pa.ipc.open_stream(data).read_next_batch()

    def plan(self, skip: int) -> list[Chunk]:
        """The chunks of every row after the first ``skip``: about ``CHUNK_ROWS`` rows each,
        cut where the batches' schema changes."""
        chunks: list[Chunk] = []
        slices: list[_Slice] = []
        rows = size = 0
        schema = -1

        def close() -> None:
            nonlocal slices, rows, size
            if slices:
                chunks.append(Chunk(tuple(slices), rows, size))
            slices, rows, size = [], 0, 0

        for index, segment in enumerate(self.segments):
            start = min(skip, segment.rows)
            skip -= start
            if start == segment.rows:
                continue
            if segment.schema != schema:
                close()
                schema = segment.schema
            taken = segment.rows - start
            slices.append(_Slice(index, start, taken))
            rows += taken
            size += segment.length * taken // segment.rows
            if rows >= CHUNK_ROWS:
                close()
        close()
        return chunks

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


@dataclass
class SpooledResult:
    """The chunks of one result and what makes them."""

    spool: RawSpool
    chunks: list[Chunk]
    convert: Converter
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _closed: bool = False

    def batches(self, index: int) -> Iterator[pa.RecordBatch]:
        for piece in self.chunks[index].slices:
            batch = self.spool.read(piece.segment)
            yield batch.slice(piece.start, piece.rows)

    def read(self, index: int, compress: bool = True) -> bytes | None:
        """Chunk ``index`` as the client reads it (an IPC stream, gzip-compressed if
        ``compress``), or ``None`` once the result is gone."""
        with self._lock:
            if self._closed:
                return None
        try:
            data = self.convert(list(self.batches(index)))
            return gzip_member(data) if compress else data
        except OSError:  # deleted while being read (an old result, or over the budget)
            return None

    def allows(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token, self.token)

    def delete(self) -> None:
        with self._lock:
            self._closed = True
        self.spool.close()


class ChunkStore:
    def __init__(
        self,
        keep_seconds: float = KEEP_SECONDS,
        budget: int = SPOOL_BUDGET,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="hoarfrost-chunks-"))
        os.chmod(self.directory, 0o700)
        self._keep_seconds = keep_seconds
        self._budget = budget
        self._clock = clock
        # oldest first: query id -> (when it was kept, the result)
        self._results: OrderedDict[str, tuple[float, SpooledResult]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def spool(self) -> RawSpool:
        return RawSpool(self.directory)

    def keep(self, query_id: str, result: SpooledResult) -> None:
        now = self._clock()
        gone: list[SpooledResult] = []
        with self._lock:
            self._results[query_id] = (now, result)
            self._bytes += result.spool.size
            while len(self._results) > 1:
                kept_at, oldest = next(iter(self._results.values()))
                if now - kept_at < self._keep_seconds and self._bytes <= self._budget:
                    break
                self._results.popitem(last=False)
                self._bytes -= oldest.spool.size
                gone.append(oldest)
        for old in gone:  # files closed outside the lock
            old.delete()

    def get(self, query_id: str) -> SpooledResult | None:
        with self._lock:
            found = self._results.get(query_id)
        return None if found is None else found[1]

    def close(self) -> None:
        with self._lock:
            results = [result for _, result in self._results.values()]
            self._results.clear()
            self._bytes = 0
        for result in results:
            result.delete()
        shutil.rmtree(self.directory, ignore_errors=True)


@dataclass(frozen=True)
class ChunkSink:
    """Where a request's result chunks go and the base URL the client reaches them at."""

    store: ChunkStore
    base_url: str

    def url(self, query_id: str, index: int) -> str:
        return f"{self.base_url}/hoarfrost/results/{query_id}/chunks/{index}"
