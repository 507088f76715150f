"""Tags: ``CREATE [OR REPLACE] TAG [IF NOT EXISTS] name [ALLOWED_VALUES 'a', 'b'] [COMMENT = 'c']``
and ``ALTER <kind> [IF EXISTS] name SET TAG t = 'v' [, ...] | UNSET TAG t [, ...]``."""

from __future__ import annotations

from sqlglot.tokens import TokenType

from hoarfrost.errors import SqlSyntaxError
from hoarfrost.sql.ast import Create, SetTags, Str
from hoarfrost.sql.parser import TokenCursor

__all__ = ["TAGGABLE", "joined_values", "parse_create_tag", "parse_tag_alter"]

# What ALTER ... SET TAG reaches here (the reference tags many more kinds of objects).
TAGGABLE = ("TABLE", "VIEW", "SCHEMA", "DATABASE", "STAGE", "WAREHOUSE")


def parse_create_tag(cur: TokenCursor, node: Create) -> Create:
    """The rest of CREATE TAG after its name."""
    while not cur.at_end:
        if cur.accept("ALLOWED_VALUES"):
            values = [cur.string("an allowed value")]
            while cur.accept_type(TokenType.COMMA):
                values.append(cur.string("an allowed value"))
            node.props["ALLOWED_VALUES"] = Str("\x1f".join(values))
        elif cur.accept("COMMENT"):
            cur.expect_type(TokenType.EQ, "= after COMMENT")
            node.props["COMMENT"] = Str(cur.string("a comment"))
        else:
            cur.fail("expected ALLOWED_VALUES or COMMENT")
    return node


def parse_tag_alter(cur: TokenCursor) -> SetTags | None:
    """``<kind> [IF EXISTS] name SET TAG ... | UNSET TAG ...`` (after ALTER), else None with the
    cursor where it was."""
    start = cur.i
    kind = next((k for k in TAGGABLE if cur.accept(k)), None)
    if kind is None:
        return None
    if_exists = cur.accept("IF", "EXISTS")
    name = cur.name()
    node = SetTags(kind, name, if_exists)
    if cur.accept("SET", "TAG"):
        while True:
            tag = cur.name()
            cur.expect_type(TokenType.EQ, "= after the tag name")
            node.set.append((tag, cur.string("the tag's value, a quoted string")))
            if not cur.accept_type(TokenType.COMMA):
                break
    elif cur.accept("UNSET", "TAG"):
        node.unset.append(cur.name())
        while cur.accept_type(TokenType.COMMA):
            node.unset.append(cur.name())
    else:
        cur.i = start
        return None
    cur.end()
    return node


def joined_values(text: str) -> list[str]:
    if not text:
        raise SqlSyntaxError("SQL compilation error:\nALLOWED_VALUES needs at least one value.")
    return text.split("\x1f")
