"""Client-side parameter binding: qmark (``?``) and pyformat (``%s``, ``%(name)s``), done on
tokens so that a ``?`` or ``%s`` inside a string literal or comment is never touched.

Values become Snowflake literals, the way snowflake-connector-python's pyformat binding does.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from sqlglot.tokens import Token, TokenType

from hoarfrost.errors import ProgrammingError
from hoarfrost.sql.tokens import tokenize

__all__ = ["bind", "literal", "placeholders"]


def literal(value: Any) -> str:
    """A Snowflake SQL literal for a Python value."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return f"'{value}'::FLOAT"
        return repr(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"TO_BINARY('{bytes(value).hex()}', 'HEX')"
    if isinstance(value, dt.datetime):
        kind = "TIMESTAMP_TZ" if value.tzinfo else "TIMESTAMP_NTZ"
        return f"{_string(value.isoformat(sep=' '))}::{kind}"
    if isinstance(value, dt.date):
        return f"{_string(value.isoformat())}::DATE"
    if isinstance(value, dt.time):
        return f"{_string(value.isoformat())}::TIME"
    if isinstance(value, (list, tuple, dict)):
        return f"PARSE_JSON({_string(json.dumps(value, default=str))})"
    raise ProgrammingError(
        f"Binding data of type {type(value).__name__} is not supported; use str, int, float, "
        "Decimal, bool, bytes, date, time, datetime, list, dict or None.",
        errno=252004,
        sqlstate="22000",
    )


def _string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


# Values DuckDB binds as Snowflake would read the literal (other kinds are inlined by ``bind``).
_PLAIN = (str, int, float, decimal.Decimal, dt.date, dt.time)


def bind(sql: str, params: Sequence[Any] | Mapping[str, Any] | None) -> str:
    if params is None:
        return sql
    return _substitute(sql, params, literal)[0]


def placeholders(
    sql: str, params: Sequence[Any] | Mapping[str, Any]
) -> tuple[str, list[Any]] | None:
    """``sql`` with every placeholder written ``?`` and the values in order, so that the text
    (and its translation) is the same whatever the values; ``None`` when a value is of a kind
    that only reads right as a literal (booleans, bytes, lists, dicts, NaN)."""
    tokens = tokenize(sql)
    if _names_an_object(tokens):
        return None
    text, values = _substitute(sql, params, lambda _: "?", tokens)
    for value in values:
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, _PLAIN):
            return None
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            return None
    return text, values


def _names_an_object(tokens: list[Token]) -> bool:
    """Whether a placeholder is the argument of IDENTIFIER(...): a name must be known when the
    statement is compiled, so its value goes in as a literal."""
    return any(
        tokens[i - 1].token_type == TokenType.L_PAREN and tokens[i - 2].text.upper() == "IDENTIFIER"
        for i in range(2, len(tokens))
        if _placeholder(tokens, i) is not None
    )


def _substitute(
    sql: str,
    params: Sequence[Any] | Mapping[str, Any],
    render: Any,
    tokens: list[Token] | None = None,
) -> tuple[str, list[Any]]:
    tokens = tokenize(sql) if tokens is None else tokens
    out: list[str] = []
    values: list[Any] = []
    pos = 0
    positional = iter(params) if not isinstance(params, Mapping) else None
    i = 0
    while i < len(tokens):
        span = _placeholder(tokens, i)
        if span is None:
            i += 1
            continue
        end, key = span
        out.append(sql[pos : tokens[i].start])
        value = _value(params, positional, key)
        values.append(value)
        out.append(render(value))
        pos = tokens[end].end + 1
        i = end + 1
    out.append(sql[pos:])
    if positional is not None and len(values) != len(params):  # type: ignore[arg-type]
        raise ProgrammingError(
            f"The statement has {len(values)} placeholder(s) but {len(params)} parameter(s) "  # type: ignore[arg-type]
            "were given.",
            errno=252005,
            sqlstate="07001",
        )
    return "".join(out), values


def _value(params: Any, positional: Any, key: str | None) -> Any:
    if key is not None:
        if not isinstance(params, Mapping) or key not in params:
            raise ProgrammingError(
                f"No value was given for the parameter %({key})s.", errno=252005, sqlstate="07001"
            )
        return params[key]
    try:
        return next(positional)
    except (StopIteration, TypeError):
        raise ProgrammingError(
            "The statement has more placeholders than parameters given.",
            errno=252005,
            sqlstate="07001",
        ) from None


def _placeholder(tokens: list[Token], i: int) -> tuple[int, str | None] | None:
    """`?` -> (i, None); `%s` -> (i+1, None); `%(name)s` -> (i+4, name)."""
    tok = tokens[i]
    if tok.token_type == TokenType.PLACEHOLDER and tok.text == "?":
        return i, None
    if tok.token_type != TokenType.MOD:
        return None
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    if nxt is not None and nxt.text == "s" and nxt.start == tok.end + 1:
        return i + 1, None
    if (
        i + 4 < len(tokens)
        and tokens[i + 1].token_type == TokenType.L_PAREN
        and tokens[i + 3].token_type == TokenType.R_PAREN
        and tokens[i + 4].text == "s"
    ):
        return i + 4, tokens[i + 2].text
    return None
