"""PUT, GET, LIST / LS and REMOVE / RM: the statements that move and name staged files.

Grammar (Snowflake's PUT, GET, LIST and REMOVE pages)::

    PUT file://<path> @<stage>[/<path>] [AUTO_COMPRESS = b] [SOURCE_COMPRESSION = c]
        [OVERWRITE = b] [PARALLEL = n]
    GET @<stage>[/<path>] file://<dir> [PARALLEL = n] [PATTERN = '<regex>']
    LIST | LS @<stage>[/<path>] [PATTERN = '<regex>']
    REMOVE | RM @<stage>[/<path>] [PATTERN = '<regex>']
"""

from __future__ import annotations

from collections.abc import Callable

from hoarfrost.sql.ast import Get, ListFiles, Parsed, Put, RemoveFiles, Str
from hoarfrost.sql.locations import read_local, read_stage
from hoarfrost.sql.parser import TokenCursor

__all__ = ["STAGE_HEADS"]


def _put(cur: TokenCursor) -> Parsed:
    cur.next()
    local = read_local(cur)
    stage = read_stage(cur)
    options = cur.properties()
    cur.end()
    return Put(local, stage, options)


def _get(cur: TokenCursor) -> Parsed:
    cur.next()
    stage = read_stage(cur)
    local = read_local(cur)
    options = cur.properties()
    cur.end()
    return Get(stage, local, options)


def _pattern(cur: TokenCursor) -> str | None:
    options = cur.properties()
    cur.end()
    for key in options:
        if key != "PATTERN":
            cur.fail(f"unexpected option {key} (only PATTERN is accepted)")
    value = options.get("PATTERN")
    if value is None:
        return None
    if not isinstance(value, Str):
        cur.fail("PATTERN takes a quoted regular expression")
    assert isinstance(value, Str)
    return value.value


def _list(cur: TokenCursor) -> Parsed:
    cur.next()
    stage = read_stage(cur)
    return ListFiles(stage, _pattern(cur))


def _remove(cur: TokenCursor) -> Parsed:
    cur.next()
    stage = read_stage(cur)
    return RemoveFiles(stage, _pattern(cur))


STAGE_HEADS: dict[str, Callable[[TokenCursor], Parsed]] = {
    "PUT": _put,
    "GET": _get,
    "LIST": _list,
    "LS": _list,
    "REMOVE": _remove,
    "RM": _remove,
}
