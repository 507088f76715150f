"""Tokenising and splitting scripts with sqlglot's Snowflake tokenizer.

Splitting on the tokenizer's SEMICOLON tokens (never on the raw text) keeps `$$`-quoted bodies,
quoted strings and comments intact. Statement texts keep the user's original spelling.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlglot.dialects.snowflake import Snowflake
from sqlglot.errors import TokenError
from sqlglot.tokens import Token, TokenType

from hoarfrost.errors import SqlSyntaxError

__all__ = ["STRING_TYPES", "Statement", "split", "tokenize"]

STRING_TYPES = {TokenType.STRING, TokenType.RAW_STRING, TokenType.NATIONAL_STRING}


class _Tokenizer(Snowflake.Tokenizer):
    # sqlglot turns the rest of a CALL / EXECUTE statement into one string token; we parse CALL
    # ourselves, so every word stays a token.
    COMMANDS = set[TokenType]()


# From this many characters on, tokenizing runs with the cyclic garbage collector paused.
_PAUSE_GC_FROM = 65536


def tokenize(sql: str) -> list[Token]:
    try:
        with _gc_paused(len(sql) >= _PAUSE_GC_FROM):
            return list(_Tokenizer().tokenize(sql))
    except TokenError as exc:
        line, col = _position(sql, getattr(exc, "start", None))
        # The tokenizer's own message quotes text around the failure, which may hold a secret.
        raise SqlSyntaxError(
            "SQL compilation error:\n"
            f"syntax error line {line} at position {col}: unterminated string, quoted identifier "
            "or comment."
        ) from None


@contextmanager
def _gc_paused(pause: bool) -> Iterator[None]:
    """Every token is a new tracked object (its comments are a list), so a 1 MB statement's
    400k tokens set off collection after collection, each walking all the tokens made so far:
    a third of the tokenizing time. None of them can be garbage before the list is complete, so
    the collector waits until then (and runs as usual afterwards)."""
    if not pause or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _position(sql: str, offset: int | None) -> tuple[int, int]:
    if offset is None:
        return 1, 0
    before = sql[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1)


@dataclass
class Statement:
    """One statement of a script: its original text and its tokens (no trailing `;`)."""

    text: str
    tokens: list[Token] = field(repr=False)
    offset: int = 0

    def position(self, token: Token) -> tuple[int, int]:
        line, col = _position(self.text, token.start - self.offset)
        return line, col


def split(sql: str) -> list[Statement]:
    tokens = tokenize(sql)
    statements: list[Statement] = []
    current: list[Token] = []
    for tok in tokens:
        if tok.token_type == TokenType.SEMICOLON:
            if current:
                statements.append(_statement(sql, current))
            current = []
        else:
            current.append(tok)
    if current:
        statements.append(_statement(sql, current))
    return statements


def _statement(sql: str, tokens: list[Token]) -> Statement:
    start, end = tokens[0].start, tokens[-1].end + 1
    return Statement(sql[start:end], tokens, start)
