"""Stage locations (``@st/path``, ``@~``, ``@%t``, ``'@"My Stage"/p'``) and local paths
(``file:///tmp/x.csv``) as they appear in PUT, GET, LIST, REMOVE and COPY.

A location is not SQL: the tokenizer splits ``@db.s.st/a/b.csv`` into a dozen tokens. It is one
word of the statement, so it is read as the text of a run of adjacent tokens (no space between
them) or of one quoted string, then parsed here character by character with Snowflake's
identifier rules (unquoted parts upper-cased, ``"quoted"`` parts kept, ``""`` an escaped quote).
"""

from __future__ import annotations

from sqlglot.tokens import TokenType

from hoarfrost.errors import SqlSyntaxError
from hoarfrost.sql.ast import Name, StageRef
from hoarfrost.sql.parser import TokenCursor
from hoarfrost.sql.tokens import STRING_TYPES

__all__ = ["parse_stage", "read_local", "read_stage", "read_word"]

_FILE = "file://"
_PLAIN = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_$")


def read_word(cur: TokenCursor) -> str:
    """One quoted string, or the original text of a run of tokens with no space between."""
    tok = cur.peek()
    if tok is None:
        cur.fail("expected a stage location or a file path")
    assert tok is not None
    if tok.token_type in STRING_TYPES:
        cur.next()
        return tok.text
    first = last = cur.next()
    while not cur.at_end:
        nxt = cur.peek()
        assert nxt is not None
        if nxt.start != last.end + 1 or nxt.token_type == TokenType.SEMICOLON:
            break
        last = cur.next()
    off = cur.statement.offset
    return cur.statement.text[first.start - off : last.end + 1 - off]


def read_stage(cur: TokenCursor) -> StageRef:
    return parse_stage(read_word(cur))


def read_local(cur: TokenCursor) -> str:
    """The path of a ``file://`` URL (``file:///tmp/x`` -> ``/tmp/x``)."""
    text = read_word(cur)
    if not text.lower().startswith(_FILE):
        raise SqlSyntaxError(
            "SQL compilation error:\nthe local file must be a file:// URL, e.g. "
            "file:///tmp/data.csv."
        )
    path = text[len(_FILE) :]
    if not path:
        raise SqlSyntaxError("SQL compilation error:\nthe file:// URL names no file.")
    return path


def parse_stage(text: str) -> StageRef:
    """``@~/p``, ``@%t/p``, ``@db.s.st/p``, ``@"My Stage"/p`` into a :class:`StageRef`."""
    text = text.strip()
    if not text.startswith("@"):
        raise _bad(text)
    rest = text[1:]
    if rest.startswith("~"):
        return StageRef("USER", None, _path(rest[1:], text))
    kind = "NAMED"
    if rest.startswith("%"):
        kind, rest = "TABLE", rest[1:]
    parts: list[str] = []
    i = 0
    while True:
        part, i = _identifier(rest, i, text)
        parts.append(part)
        if i < len(rest) and rest[i] == ".":
            i += 1
            continue
        break
    if len(parts) > 3:
        raise _bad(text)
    return StageRef(kind, Name(tuple(parts)), _path(rest[i:], text))


def _identifier(text: str, i: int, whole: str) -> tuple[str, int]:
    if i < len(text) and text[i] == '"':
        out, i = [], i + 1
        while i < len(text):
            if text[i] == '"':
                if i + 1 < len(text) and text[i + 1] == '"':
                    out.append('"')
                    i += 2
                    continue
                if not out:
                    raise _bad(whole)
                return "".join(out), i + 1
            out.append(text[i])
            i += 1
        raise _bad(whole)
    start = i
    while i < len(text) and text[i] in _PLAIN:
        i += 1
    if i == start or text[start].isdigit():
        raise _bad(whole)
    return text[start:i].upper(), i


def _path(rest: str, whole: str) -> str:
    if not rest:
        return ""
    if not rest.startswith("/"):
        raise _bad(whole)
    return rest.lstrip("/")


def _bad(text: str) -> SqlSyntaxError:
    return SqlSyntaxError(
        f"SQL compilation error:\ninvalid stage location '{text}': expected @name[/path], "
        "@~[/path] or @%table[/path]."
    )
