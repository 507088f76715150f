"""Long runs of literals (``IN (1, 2, ... 200000)``, ``VALUES (1, 'a'), (2, 'b'), ...``) kept
out of sqlglot's tree.

sqlglot builds a node per literal and every transform walks them all, so a 1 MB IN list took a
minute to translate. A run of at least :data:`MIN_RUN` literals (or literal rows) is cut to its
first element plus a sentinel string before parsing, and the sentinel in the generated DuckDB
SQL is replaced by the rest of the run rendered for DuckDB. The result is the same statement;
translation time no longer grows with the run. If a transform moved or wrapped a sentinel, the
statement is translated whole instead (:func:`restore` returns None).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlglot.tokens import Token, TokenType

from hoarfrost.sql.tokens import STRING_TYPES, tokenize

__all__ = ["MIN_RUN", "Collapsed", "collapse"]

MIN_RUN = 256
_NUMBER = re.compile(r"\d+(\.\d*)?([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?")
_WORDS = {TokenType.NULL: "NULL", TokenType.TRUE: "TRUE", TokenType.FALSE: "FALSE"}


@dataclass(frozen=True)
class Collapsed:
    """``sql`` with its long runs cut; ``runs`` maps each sentinel to the DuckDB text it
    stands for (``rows`` tells whether the sentinel stands for a row: ``('<sentinel>')``)."""

    sql: str
    runs: tuple[tuple[str, str, bool], ...]

    def restore(self, statements: tuple[str, ...]) -> tuple[str, ...] | None:
        out = list(statements)
        for sentinel, text, rows in self.runs:
            needle = f", ('{sentinel}')" if rows else f", '{sentinel}')"
            hits = [i for i, s in enumerate(out) if needle in s]
            if len(hits) != 1 or out[hits[0]].count(sentinel) != 1:
                return None
            if any(sentinel.upper() in s for s in out):  # in a column name made from the text
                return None
            i = hits[0]
            out[i] = out[i].replace(needle, ", " + text + ("" if rows else ")"))
        return tuple(out)


def _literal(tokens: list[Token], i: int) -> tuple[str, int] | None:
    """The DuckDB text of the literal starting at token ``i`` and the index after it."""
    tok = tokens[i]
    if tok.token_type in STRING_TYPES and tok.token_type == TokenType.STRING:
        return "'" + tok.text.replace("'", "''") + "'", i + 1
    if tok.token_type == TokenType.NUMBER and _NUMBER.fullmatch(tok.text):
        return tok.text, i + 1
    if (
        tok.token_type == TokenType.DASH
        and i + 1 < len(tokens)
        and tokens[i + 1].token_type == TokenType.NUMBER
        and _NUMBER.fullmatch(tokens[i + 1].text)
    ):
        return "-" + tokens[i + 1].text, i + 2
    if tok.token_type in _WORDS:
        return _WORDS[tok.token_type], i + 1
    return None


def _flat(tokens: list[Token], i: int) -> tuple[list[str], int] | None:
    """``( lit, lit, ... )`` at token ``i``: the rendered literals and the index after ``)``."""
    if tokens[i].token_type != TokenType.L_PAREN:
        return None
    items, j = [], i + 1
    while j < len(tokens):
        found = _literal(tokens, j)
        if found is None:
            return None
        items.append(found[0])
        j = found[1]
        if j < len(tokens) and tokens[j].token_type == TokenType.R_PAREN:
            return items, j + 1
        if j >= len(tokens) or tokens[j].token_type != TokenType.COMMA:
            return None
        j += 1
    return None


def _rows(tokens: list[Token], i: int) -> tuple[list[str], int] | None:
    """``(row), (row), ...`` at token ``i``, every row a flat literal list of one width."""
    rows, j, width = [], i, None
    while j < len(tokens):
        found = _flat(tokens, j)
        if found is None or (width is not None and len(found[0]) != width):
            break
        width = len(found[0])
        rows.append("(" + ", ".join(found[0]) + ")")
        j = found[1]
        if j >= len(tokens) or tokens[j].token_type != TokenType.COMMA:
            return rows, j
        j += 1
    return (rows, j - 1) if rows else None


def collapse(sql: str) -> Collapsed | None:
    """``sql`` with its long literal runs cut, or None when it has none."""
    if len(sql) < MIN_RUN * 2:
        return None
    tokens = tokenize(sql)
    cuts: list[tuple[int, int, str]] = []  # (start offset, end offset, replacement)
    runs: list[tuple[str, str, bool]] = []
    i = 0
    while i < len(tokens):
        rows = _rows(tokens, i) if tokens[i].token_type == TokenType.L_PAREN else None
        if rows is not None and len(rows[0]) >= MIN_RUN:
            sentinel = f"__hf_rows_{secrets.token_hex(8)}__"
            end = tokens[rows[1] - 1].end + 1
            first = _flat(tokens, i)
            assert first is not None
            cuts.append((tokens[first[1] - 1].end + 1, end, f", ('{sentinel}')"))
            runs.append((sentinel, ", ".join(rows[0][1:]), True))
            i = rows[1]
            continue
        flat = _flat(tokens, i)
        if flat is not None and len(flat[0]) >= MIN_RUN:
            sentinel = f"__hf_list_{secrets.token_hex(8)}__"
            first_end = _literal(tokens, i + 1)
            assert first_end is not None
            close = tokens[flat[1] - 1]
            cuts.append((tokens[first_end[1] - 1].end + 1, close.start, f", '{sentinel}'"))
            runs.append((sentinel, ", ".join(flat[0][1:]), False))
            i = flat[1]
            continue
        i += 1
    if not cuts:
        return None
    out, pos = [], 0
    for start, end, replacement in cuts:
        out += [sql[pos:start], replacement]
        pos = end
    out.append(sql[pos:])
    return Collapsed("".join(out), tuple(runs))
