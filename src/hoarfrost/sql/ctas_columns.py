"""``CREATE TABLE t (a INT, b VARCHAR) AS SELECT ...``: a CTAS with a column list (what Snowpark's
``save_as_table`` sends), which sqlglot does not parse. It becomes the equivalent CTAS without a
list: the query's columns renamed by position and cast to the declared types::

    CREATE TABLE t AS SELECT CAST("A" AS INT) AS "A", CAST("B" AS VARCHAR) AS "B"
    FROM (SELECT ...) AS "__HF_CTAS"("A", "B")
"""

from __future__ import annotations

from sqlglot.tokens import Token, TokenType

from hoarfrost.sql.tokens import tokenize

__all__ = ["ctas_without_column_list"]

# Words that end a column's type in its definition (constraints, defaults, comments...).
_AFTER_TYPE = {
    "NOT",
    "NULL",
    "DEFAULT",
    "PRIMARY",
    "UNIQUE",
    "REFERENCES",
    "COMMENT",
    "COLLATE",
    "CONSTRAINT",
    "AUTOINCREMENT",
    "IDENTITY",
    "WITH",
    "MASKING",
    "TAG",
    "CHECK",
    "FOREIGN",
}


def ctas_without_column_list(sql: str) -> str:
    head = sql.lstrip()[:200].upper()
    if not head.startswith("CREATE") or " AS" not in sql.upper():
        return sql
    toks = tokenize(sql)
    table = next((i for i, t in enumerate(toks[:12]) if t.token_type == TokenType.TABLE), None)
    if table is None:
        return sql
    i = table + 1
    if [t.text.upper() for t in toks[i : i + 3]] == ["IF", "NOT", "EXISTS"]:
        i += 3
    while i < len(toks) and toks[i].token_type in (
        TokenType.VAR,
        TokenType.DOT,
        TokenType.IDENTIFIER,
    ):
        i += 1  # the (possibly qualified) name
    if i >= len(toks) or toks[i].token_type != TokenType.L_PAREN:
        return sql
    close = _closing(toks, i)
    if close is None or close + 1 >= len(toks) or toks[close + 1].token_type != TokenType.ALIAS:
        return sql
    columns = _columns(sql, toks[i + 1 : close])
    if not columns:
        return sql
    query = sql[toks[close + 2].start :] if close + 2 < len(toks) else ""
    names = ", ".join(name for name, _ in columns)
    select = ", ".join(f"CAST({name} AS {kind}) AS {name}" for name, kind in columns)
    prefix = sql[: toks[i].start]
    return f'{prefix.rstrip()} AS SELECT {select} FROM ({query}) AS "__HF_CTAS"({names})'


def _closing(toks: list[Token], open_at: int) -> int | None:
    depth = 0
    for j in range(open_at, len(toks)):
        depth += toks[j].token_type == TokenType.L_PAREN
        depth -= toks[j].token_type == TokenType.R_PAREN
        if depth == 0:
            return j
    return None


def _columns(sql: str, toks: list[Token]) -> list[tuple[str, str]]:
    """(name as written, type as written) of each column definition."""
    parts: list[list[Token]] = [[]]
    depth = 0
    for tok in toks:
        depth += tok.token_type == TokenType.L_PAREN
        depth -= tok.token_type == TokenType.R_PAREN
        if tok.token_type == TokenType.COMMA and depth == 0:
            parts.append([])
        else:
            parts[-1].append(tok)
    out = []
    for part in parts:
        if len(part) < 2 or part[0].text.upper() in ("CONSTRAINT", "PRIMARY", "UNIQUE", "FOREIGN"):
            return []  # a table constraint: leave the statement alone
        name = sql[part[0].start : part[0].end + 1]
        end = 1
        depth = 0
        while end < len(part):
            tok = part[end]
            depth += tok.token_type == TokenType.L_PAREN
            depth -= tok.token_type == TokenType.R_PAREN
            if depth == 0 and tok.text.upper() in _AFTER_TYPE:
                break
            end += 1
        kind = sql[part[1].start : part[end - 1].end + 1]
        out.append((name, kind))
    return out
