"""Statements about the session itself: transactions (BEGIN / START TRANSACTION / COMMIT /
ROLLBACK) and session variables (SET / UNSET), and ``$name`` references to the variables.

Grammar after the reference's pages for BEGIN, COMMIT, ROLLBACK, SET and UNSET. ``BEGIN`` that
is not followed by TRANSACTION, WORK, NAME or the end is a Snowflake Scripting block, which is
left to the translator (it refuses it by name).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping

from sqlglot.tokens import Token, TokenType

from hoarfrost.sql.ast import Ordinary, Parsed, Transaction, Variables
from hoarfrost.sql.parser import TokenCursor
from hoarfrost.sql.tokens import Statement, split

__all__ = ["HEADS", "variable_references", "with_variables"]


def _name_clause(cur: TokenCursor) -> str | None:
    return cur.identifier() if cur.accept("NAME") else None


def _begin(cur: TokenCursor) -> Parsed:
    cur.expect("BEGIN")
    if not (cur.at_end or cur.at("TRANSACTION") or cur.at("WORK") or cur.at("NAME")):
        return Ordinary(cur.statement)  # a scripting block
    _ = cur.accept("TRANSACTION") or cur.accept("WORK")
    node = Transaction("BEGIN", _name_clause(cur))
    cur.end()
    return node


def _start(cur: TokenCursor) -> Parsed:
    cur.expect("START")
    if not cur.at("TRANSACTION"):
        return Ordinary(cur.statement)
    cur.expect("TRANSACTION")
    node = Transaction("BEGIN", _name_clause(cur))
    cur.end()
    return node


def _end_transaction(cur: TokenCursor) -> Parsed:
    kind = cur.word() or ""
    cur.next()
    cur.accept("WORK")
    cur.end()
    return Transaction(kind)


def _names(cur: TokenCursor) -> list[str]:
    if not cur.accept_type(TokenType.L_PAREN):
        return [cur.identifier()]
    names = [cur.identifier()]
    while cur.accept_type(TokenType.COMMA):
        names.append(cur.identifier())
    cur.expect_type(TokenType.R_PAREN, ")")
    return names


def _expressions(cur: TokenCursor, many: bool) -> list[str]:
    if not many:
        text = cur.text_until(set())
        return [text] if text else []
    cur.expect_type(TokenType.L_PAREN, "(")
    values = [cur.text_until({TokenType.COMMA, TokenType.R_PAREN})]
    while cur.accept_type(TokenType.COMMA):
        values.append(cur.text_until({TokenType.COMMA, TokenType.R_PAREN}))
    cur.expect_type(TokenType.R_PAREN, ")")
    return values


def _set(cur: TokenCursor) -> Parsed:
    cur.expect("SET")
    many = cur.at_type(TokenType.L_PAREN)
    names = _names(cur)
    cur.expect_type(TokenType.EQ, "=")
    values = _expressions(cur, many)
    cur.end()
    if len(values) != len(names) or not all(v.strip() for v in values):
        cur.fail(f"expected {len(names)} value(s) for {len(names)} variable(s)")
    return Variables("SET", names, values)


def _unset(cur: TokenCursor) -> Parsed:
    cur.expect("UNSET")
    names = _names(cur)
    cur.end()
    return Variables("UNSET", names)


HEADS: Mapping[str, Callable[[TokenCursor], Parsed]] = {
    "BEGIN": _begin,
    "START": _start,
    "COMMIT": _end_transaction,
    "ROLLBACK": _end_transaction,
    "SET": _set,
    "UNSET": _unset,
}


# --- $name references ---------------------------------------------------------------------


def variable_references(statement: Statement) -> list[tuple[Token, Token]]:
    """Each ``$name`` of the statement as (the ``$`` token, the name token); ``$1`` (a column
    position) is not a variable."""
    found = []
    tokens = statement.tokens
    for dollar, name in itertools.pairwise(tokens):
        if (
            dollar.token_type == TokenType.PARAMETER
            and name.start == dollar.end + 1
            and name.token_type not in (TokenType.NUMBER, TokenType.STRING)
            and (name.text[:1].isalpha() or name.text[:1] == "_")
        ):
            found.append((dollar, name))
    return found


def with_variables(statement: Statement, literal: Callable[[str], str]) -> Statement:
    """The statement with every ``$name`` replaced by ``literal(NAME)`` (SQL text)."""
    refs = variable_references(statement)
    if not refs:
        return statement
    text, off = statement.text, statement.offset
    pieces, last = [], 0
    for dollar, name in refs:
        start, end = dollar.start - off, name.end + 1 - off
        key = name.text if name.token_type == TokenType.IDENTIFIER else name.text.upper()
        pieces += [text[last:start], literal(key)]
        last = end
    pieces.append(text[last:])
    (rewritten,) = split("".join(pieces))
    return rewritten
