"""Parse an object name given as text (system function arguments, parameter values)."""

from __future__ import annotations

from hoarfrost.errors import InvalidValue
from hoarfrost.sql.ast import Name
from hoarfrost.sql.parser import TokenCursor
from hoarfrost.sql.tokens import split

__all__ = ["parse_name"]


def parse_name(text: str) -> Name:
    """`db.schema.obj`, `"Quoted".x`... with Snowflake identifier rules."""
    statements = split(text) if text.strip() else []
    if len(statements) != 1:
        raise InvalidValue(f"SQL compilation error:\ninvalid object name '{text}'.")
    cur = TokenCursor(statements[0])
    name = cur.name()
    if not cur.at_end:
        raise InvalidValue(f"SQL compilation error:\ninvalid object name '{text}'.")
    return name
