"""``FROM ( TABLE ( f(...) ) )``: the parenthesised table-function form Snowpark sends
(``session.range``, ``session.generator``, ``table_function``), which sqlglot does not parse.
The parentheses around a ``TABLE(...)`` that stands alone as a FROM or JOIN item carry no
meaning, so they are dropped before parsing."""

from __future__ import annotations

from sqlglot.dialects.snowflake import Snowflake
from sqlglot.tokens import TokenType

__all__ = ["unwrap_table_parens"]

_BEFORE = {TokenType.FROM, TokenType.JOIN, TokenType.COMMA, TokenType.LATERAL}


def unwrap_table_parens(sql: str) -> str:
    if "TABLE" not in sql.upper() or "(" not in sql:
        return sql
    tokens = Snowflake().tokenize(sql)
    drop: list[tuple[int, int]] = []  # character spans of the parentheses to remove
    for i, tok in enumerate(tokens[:-2]):
        if tok.token_type != TokenType.L_PAREN or tokens[i + 1].token_type != TokenType.TABLE:
            continue
        if i == 0 or tokens[i - 1].token_type not in _BEFORE:
            continue
        depth, j = 0, i + 1
        for j in range(i + 2, len(tokens)):  # the TABLE( ... ) group
            kind = tokens[j].token_type
            depth += kind == TokenType.L_PAREN
            depth -= kind == TokenType.R_PAREN
            if depth == 0:
                break
        if j + 1 < len(tokens) and tokens[j + 1].token_type == TokenType.R_PAREN:
            drop += [(tok.start, tok.end), (tokens[j + 1].start, tokens[j + 1].end)]
    if not drop:
        return sql
    out, pos = [], 0
    for start, end in sorted(drop):
        out.append(sql[pos:start])
        pos = end + 1
    out.append(sql[pos:])
    return "".join(out)
