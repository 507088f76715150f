"""Request bodies, read with limits before anything is buffered.

A body is read from the socket chunk by chunk: the bytes as sent, and the bytes after gzip
decompression, each count against the limit as they arrive, so neither a large body nor a small
gzip bomb is ever held whole. Only then is it parsed, off the event loop, as UTF-8 JSON whose
nesting is bounded and whose strings are valid Unicode (no lone surrogates: they cannot be
encoded, and every string ends up encoded somewhere). Anything else is a :class:`BadBody`, which
the app answers with an error envelope naming the problem.

The connectors send ``Content-Type: application/json``, gzip-compressed when non-empty
(``Content-Encoding: gzip``); some clients send plain JSON. Another content type is refused: it
is not a connector (a browser's cross-site form post is one), and nothing else is spoken here.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect

__all__ = ["MAX_DEPTH", "MAX_LOGIN_BODY", "BadBody", "read_json"]

# Login and token requests are a few KiB (the client environment is the bulk of them), and they
# come before authentication: whoever can reach the port may send them.
MAX_LOGIN_BODY = 1 << 20
# The connectors nest four levels deep (bindings, query context); JSON deeper than this is not
# theirs, and must not reach recursive code.
MAX_DEPTH = 64
_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_WBITS = 16 + zlib.MAX_WBITS
# A JSON escape of a UTF-16 surrogate: only then can the parsed text hold a lone one.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")


# Bodies parsed on the event loop itself: a small body parses in microseconds, less than the
# hop to a worker thread costs; a large one would hold up every other request meanwhile.
_PARSE_INLINE = 64 * 1024


class BadBody(Exception):
    """A body that is refused; ``too_large`` when it is over the limit."""

    def __init__(self, message: str, *, too_large: bool = False):
        super().__init__(message)
        self.too_large = too_large


async def read_json(
    headers: Headers, stream: AsyncIterator[bytes], limit: int, limit_name: str = ""
) -> dict[str, Any]:
    """The JSON object of a request body of at most ``limit`` bytes, sent and decompressed.

    ``limit_name`` says, in the error, which limit applies (a setting, or the login limit).
    """
    _check_headers(headers, limit, limit_name)
    reader = _Reader(_encoding(headers), limit, limit_name)
    try:
        async for chunk in stream:
            reader.feed(chunk)
    except ClientDisconnect:
        raise BadBody("The client disconnected before the end of the request body.") from None
    raw = reader.finish()
    if not raw.strip():
        return {}
    if len(raw) <= _PARSE_INLINE:
        return _parse(raw)
    return await run_in_threadpool(_parse, raw)


def _check_headers(headers: Headers, limit: int, limit_name: str) -> None:
    declared = headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise _too_large(limit, limit_name)  # refused before a byte of it is read
    content_type = headers.get("content-type")
    if content_type is None:
        return  # a body without one is still read as JSON: it must parse as such
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise BadBody(
            f"Content-Type {media_type or '(empty)'} is not accepted; requests are "
            "application/json."
        )


def _encoding(headers: Headers) -> str | None:
    """``gzip``, ``identity``, or None when the body itself says (gzip's magic bytes)."""
    encoding = headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return "gzip"
    raise BadBody(f"Content-Encoding {encoding} is not accepted; use gzip or none.")


def _too_large(limit: int, limit_name: str) -> BadBody:
    named = f" ({limit_name})" if limit_name else ""
    return BadBody(
        f"Request body too large: more than {limit} bytes as sent or after decompression{named}.",
        too_large=True,
    )


class _Reader:
    """Collects a body, decompressing gzip as it comes, never past ``limit`` bytes either way."""

    def __init__(self, encoding: str | None, limit: int, limit_name: str):
        self._limit = limit
        self._limit_name = limit_name
        self._sent = 0
        self._head = b""  # the first bytes, until they say whether the body is gzip
        self._gzip: Any = None
        self._decided = encoding is not None
        if encoding == "gzip":
            self._gzip = zlib.decompressobj(_GZIP_WBITS)
        self._out = bytearray()

    def feed(self, chunk: bytes) -> None:
        self._sent += len(chunk)
        if self._sent > self._limit:
            raise _too_large(self._limit, self._limit_name)
        if not self._decided:
            self._head += chunk
            if len(self._head) < len(_GZIP_MAGIC):
                return
            self._decided = True
            if self._head.startswith(_GZIP_MAGIC):
                self._gzip = zlib.decompressobj(_GZIP_WBITS)
            chunk, self._head = self._head, b""
        if self._gzip is None:
            self._out += chunk
        else:
            self._inflate(chunk)

    def _inflate(self, data: bytes) -> None:
        while data:
            room = self._limit - len(self._out) + 1  # one byte more than allowed tells "over"
            try:
                self._out += self._gzip.decompress(data, room)
            except zlib.error:
                raise BadBody("Request body is not valid gzip.") from None
            if len(self._out) > self._limit:
                raise _too_large(self._limit, self._limit_name)
            data = self._gzip.unconsumed_tail
            if self._gzip.eof:  # concatenated gzip members are one body, like gzip.decompress
                data = self._gzip.unused_data
                if data:
                    self._gzip = zlib.decompressobj(_GZIP_WBITS)

    def finish(self) -> bytes:
        if not self._decided:
            self._out += self._head
        elif self._gzip is not None and not self._gzip.eof:
            raise BadBody("Request body is not valid gzip (truncated).")
        return bytes(self._out)


def _parse(raw: bytes) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadBody("Request body is not UTF-8.") from None
    try:
        body = json.loads(text)
    except RecursionError:
        raise _too_deep() from None
    except ValueError as exc:
        raise BadBody(f"Request body is not JSON ({exc}).") from None
    if not isinstance(body, dict):
        raise BadBody("Request body is not a JSON object.")
    _check_tree(body, check_strings=_SURROGATE_ESCAPE.search(raw) is not None)
    return body


def _too_deep() -> BadBody:
    return BadBody(f"Request body is JSON nested deeper than {MAX_DEPTH} levels.")


def _check_tree(body: dict[str, Any], *, check_strings: bool) -> None:
    """Nesting at most MAX_DEPTH; with ``check_strings``, no string with a lone surrogate."""
    stack: list[tuple[Any, int]] = [(body, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _too_deep()
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if check_strings:
                _check_string(key)
                _check_string(item)
            if isinstance(item, (dict, list)):
                stack.append((item, depth + 1))


def _check_string(value: Any) -> None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadBody(
                "Request body holds a lone UTF-16 surrogate (an unpaired \\ud800-\\udfff "
                "escape), which is not a character."
            ) from None
