"""``IDENTIFIER('db.s.name')`` in any statement, as the plain name it stands for.

The connectors bind object names this way (``write_pandas`` sends ``CREATE TABLE
IDENTIFIER(?)``, ``ALTER TABLE IDENTIFIER(?) RENAME TO IDENTIFIER(?)``...). A literal that is a
valid object name replaces the call, token for token; anything else (a literal that is not one
name) is left for the statement's own parser to refuse.
"""

from __future__ import annotations

from sqlglot.tokens import TokenType

from hoarfrost.errors import Error
from hoarfrost.sql.names import parse_name
from hoarfrost.sql.tokens import STRING_TYPES, Statement, split

__all__ = ["inline_identifiers"]


def inline_identifiers(statement: Statement) -> Statement:
    tokens = statement.tokens
    text, offset = statement.text, statement.offset
    pieces: list[str] = []
    pos = 0
    changed = False
    for i, tok in enumerate(tokens[:-3]):
        if tok.text.upper() != "IDENTIFIER" or tokens[i + 1].token_type != TokenType.L_PAREN:
            continue
        literal, close = tokens[i + 2], tokens[i + 3]
        if literal.token_type not in STRING_TYPES or close.token_type != TokenType.R_PAREN:
            continue
        try:
            name = parse_name(literal.text)
        except Error:
            continue
        pieces.append(text[pos : tok.start - offset])
        pieces.append(str(name))
        pos = close.end + 1 - offset
        changed = True
    if not changed:
        return statement
    pieces.append(text[pos:])
    rewritten = split("".join(pieces))
    return rewritten[0] if len(rewritten) == 1 else statement
