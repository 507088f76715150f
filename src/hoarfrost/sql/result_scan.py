"""``TABLE(RESULT_SCAN('<query id>'))``: a result the session produced earlier, read as a table.
The call (with its TABLE wrapper) is replaced by the name of a relation the engine registers
for the statement's run; which result each name stands for is returned beside the SQL."""

from __future__ import annotations

from sqlglot.tokens import TokenType

from hoarfrost.sql.tokens import STRING_TYPES, tokenize

__all__ = ["rewrite_result_scans"]


def rewrite_result_scans(sql: str) -> tuple[str, list[tuple[str, str]]]:
    """(the SQL with each RESULT_SCAN replaced, [(relation name, query id), ...])."""
    if "RESULT_SCAN" not in sql.upper():
        return sql, []
    toks = tokenize(sql)
    spans: list[tuple[int, int, str]] = []
    i = 0
    while i < len(toks):
        tok = toks[i]
        if tok.text.upper() == "RESULT_SCAN" and _at(toks, i + 1, TokenType.L_PAREN):
            arg, close = i + 2, i + 3
            if (
                arg < len(toks)
                and toks[arg].token_type in STRING_TYPES
                and _at(toks, close, TokenType.R_PAREN)
            ):
                start, end = tok.start, toks[close].end
                # TABLE( RESULT_SCAN(...) ): the wrapper goes too
                if (
                    i >= 2
                    and toks[i - 1].token_type == TokenType.L_PAREN
                    and toks[i - 2].token_type == TokenType.TABLE
                    and _at(toks, close + 1, TokenType.R_PAREN)
                ):
                    start, end = toks[i - 2].start, toks[close + 1].end
                    close += 1
                spans.append((start, end, toks[arg].text))
                i = close + 1
                continue
        i += 1
    out, pos, names = [], 0, []
    for n, (start, end, query_id) in enumerate(spans):
        name = f"__HF_RESULT_{n}"
        out += [sql[pos:start], f'"{name}"']
        names.append((name, query_id))
        pos = end + 1
    out.append(sql[pos:])
    return "".join(out), names


def _at(toks: list, i: int, kind: TokenType) -> bool:
    return i < len(toks) and toks[i].token_type == kind
