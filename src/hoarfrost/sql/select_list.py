"""The outermost SELECT list of a statement's tokens, and the names Snowflake gives its columns.

Shared by the UDF call rewriter (which aliases the items it rewrites) and the translator (which
aliases expression columns), so that both cut the list and name a column the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot.tokens import Token, TokenType

__all__ = ["CLOSE", "OPEN", "select_items", "snowflake_name"]

OPEN = {TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE}
CLOSE = {TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE}

# Keywords that end a SELECT list (at parenthesis depth 0).
_LIST_END = {
    TokenType.FROM,
    TokenType.WHERE,
    TokenType.GROUP_BY,
    TokenType.HAVING,
    TokenType.QUALIFY,
    TokenType.ORDER_BY,
    TokenType.LIMIT,
    TokenType.OFFSET,
    TokenType.FETCH,
    TokenType.UNION,
    TokenType.EXCEPT,
    TokenType.INTERSECT,
    TokenType.INTO,
    TokenType.WINDOW,
}


def select_items(tokens: Sequence[Token]) -> list[tuple[int, int]]:
    """Token index ranges ``[a, b)`` of the items of the outermost SELECT list; DISTINCT, ALL
    and TOP n before the first item are not part of it."""
    depth, start = 0, None
    for k, tok in enumerate(tokens):
        depth += (tok.token_type in OPEN) - (tok.token_type in CLOSE)
        if depth == 0 and tok.token_type == TokenType.SELECT:
            start = k + 1
            break
    if start is None:
        return []
    while start < len(tokens) and tokens[start].token_type in (TokenType.DISTINCT, TokenType.ALL):
        start += 1
    if start + 1 < len(tokens) and tokens[start].text.upper() == "TOP":
        start += 2
    items, depth, a, k = [], 0, start, len(tokens)
    for k in range(start, len(tokens)):
        kind = tokens[k].token_type
        if depth == 0 and kind in _LIST_END:
            break
        depth += (kind in OPEN) - (kind in CLOSE)
        if depth == 0 and kind == TokenType.COMMA:
            items.append((a, k))
            a = k + 1
    else:
        k = len(tokens)
    items.append((a, k))
    return [(x, y) for x, y in items if x < y]


def snowflake_name(text: str, item: Sequence[Token], offset: int = 0) -> str:
    """The name Snowflake gives an unaliased column: the item's text upper-cased, except quoted
    identifiers. ``offset`` is the position of ``text`` in the string the tokens index."""
    out, pos = [], item[0].start
    for tok in item:
        if tok.token_type == TokenType.IDENTIFIER:
            out += [text[pos - offset : tok.start - offset].upper()]
            out += [text[tok.start - offset : tok.end + 1 - offset]]
            pos = tok.end + 1
    out.append(text[pos - offset : item[-1].end + 1 - offset].upper())
    return "".join(out)
