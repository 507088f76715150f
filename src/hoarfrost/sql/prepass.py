"""Token-level rewrites done before translation, for things only the engine can answer:

- ``SYSTEM$...('literal', ...)`` calls are evaluated by the engine (they read the catalog) and
  replaced by their value; a bare select-list item keeps Snowflake's column name.
- ``TABLE([db.]INFORMATION_SCHEMA.<fn>(...))`` table functions backed by the catalog are
  replaced by the name of a view the engine registers for the statement; so are the plain
  ``[db.]INFORMATION_SCHEMA.<view>`` references of the names in ``views`` (e.g. FUNCTIONS).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlglot.tokens import Token, TokenType

from hoarfrost.sql.tokens import STRING_TYPES, Statement

__all__ = ["Prepassed", "prepass"]

SystemFunction = Callable[[list[str]], str | bool | None]
_LITERAL_TYPES = {*STRING_TYPES, TokenType.NUMBER, TokenType.TRUE, TokenType.FALSE}


@dataclass
class Prepassed:
    sql: str
    virtual_tables: list[str] = field(default_factory=list)


def prepass(
    statement: Statement,
    system_functions: dict[str, SystemFunction],
    table_functions: set[str],
    views: set[str] | frozenset[str] = frozenset(),
) -> Prepassed:
    toks = statement.tokens
    out: list[str] = []
    tables: list[str] = []
    pos = statement.offset
    i = 0
    while i < len(toks):
        tok = toks[i]
        name = tok.text.upper()
        call = _call_span(toks, i) if name in system_functions else None
        if call is not None:
            end, args = call
            value = system_functions[name](args)
            out.append(_text(statement, pos, tok.start))
            literal = _literal(value)
            if _is_select_item(toks, i, end):
                original = _text(statement, tok.start, toks[end].end + 1)
                literal += ' AS "' + _column_name(original).replace('"', '""') + '"'
            out.append(literal)
            pos = toks[end].end + 1
            i = end + 1
            continue
        span = _table_function(toks, i, table_functions) or _view(toks, i, views)
        if span is not None:
            end, fn = span
            out.append(_text(statement, pos, tok.start))
            view = f"__HF_{fn}"
            out.append(f'"{view}"')
            tables.append(fn)
            pos = toks[end].end + 1
            i = end + 1
            continue
        i += 1
    out.append(_text(statement, pos, statement.offset + len(statement.text)))
    return Prepassed("".join(out), tables)


def _text(statement: Statement, start: int, end: int) -> str:
    return statement.text[start - statement.offset : end - statement.offset]


def _literal(value: str | bool | None) -> str:
    if value is None:
        return "CAST(NULL AS VARCHAR)"
    if isinstance(value, bool):  # IS_ROLE_IN_SESSION and its kind answer a BOOLEAN
        return "TRUE" if value else "FALSE"
    return _quote(value)


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _column_name(text: str) -> str:
    head, paren, rest = text.partition("(")
    return head.upper() + paren + rest


def _call_span(toks: list[Token], i: int) -> tuple[int, list[str]] | None:
    """(index of the closing paren, literal args) when toks[i] starts `name(lit, ...)`."""
    if i + 1 >= len(toks) or toks[i + 1].token_type != TokenType.L_PAREN:
        return None
    args: list[str] = []
    j = i + 2
    expect_arg = True
    while j < len(toks):
        t = toks[j]
        if t.token_type == TokenType.R_PAREN:
            return j, args
        if expect_arg and t.token_type in _LITERAL_TYPES:
            args.append(t.text)
            expect_arg = False
        elif not expect_arg and t.token_type == TokenType.COMMA:
            expect_arg = True
        else:
            return None
        j += 1
    return None


def _is_select_item(toks: list[Token], start: int, end: int) -> bool:
    before = toks[start - 1].token_type if start > 0 else None
    after = toks[end + 1].token_type if end + 1 < len(toks) else None
    return before in (TokenType.SELECT, TokenType.COMMA) and after in (
        None,
        TokenType.COMMA,
        TokenType.FROM,
    )


def _view(toks: list[Token], i: int, names: set[str] | frozenset[str]) -> tuple[int, str] | None:
    """`[db.]INFORMATION_SCHEMA.<name>` not followed by `(` -> (index of the name, name)."""
    if not names or (i > 0 and toks[i - 1].token_type == TokenType.DOT):
        return None
    j = i
    if toks[j].text.upper() != "INFORMATION_SCHEMA":
        j = i + 2  # db.INFORMATION_SCHEMA
        if j >= len(toks) or toks[i + 1].token_type != TokenType.DOT:
            return None
        if toks[j].text.upper() != "INFORMATION_SCHEMA":
            return None
    if j + 2 >= len(toks) or toks[j + 1].token_type != TokenType.DOT:
        return None
    name = toks[j + 2].text.upper()
    if name not in names:
        return None
    if j + 3 < len(toks) and toks[j + 3].token_type in (TokenType.L_PAREN, TokenType.DOT):
        return None
    return j + 2, name


def _table_function(toks: list[Token], i: int, names: set[str]) -> tuple[int, str] | None:
    """`TABLE( [db.]INFORMATION_SCHEMA.fn( ... ) )` -> (index of the last paren, fn)."""
    if toks[i].token_type != TokenType.TABLE or i + 1 >= len(toks):
        return None
    if toks[i + 1].token_type != TokenType.L_PAREN:
        return None
    j = i + 2
    parts: list[str] = []
    while j < len(toks) and toks[j].token_type not in (TokenType.L_PAREN, TokenType.R_PAREN):
        if toks[j].token_type != TokenType.DOT:
            parts.append(toks[j].text.upper())
        j += 1
    if not parts or parts[-1] not in names or j >= len(toks):
        return None
    if len(parts) > 1 and parts[-2] != "INFORMATION_SCHEMA":
        return None
    depth = 0
    while j < len(toks):
        depth += toks[j].token_type == TokenType.L_PAREN
        depth -= toks[j].token_type == TokenType.R_PAREN
        if depth == 0:
            break
        j += 1
    if j + 1 < len(toks) and toks[j + 1].token_type == TokenType.R_PAREN:
        return j + 1, parts[-1]
    return None
