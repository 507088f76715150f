"""How a statement or construct hoarfrost does not support is named in its error: the whole
statement kind (``CREATE OR REPLACE STREAM``, not ``CREATE OR``), and sqlglot's reasons without
its class names or DuckDB's ("Unsupported property transientproperty")."""

from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.errors import UnsupportedError
from sqlglot.tokens import TokenType

from hoarfrost.errors import SqlSyntaxError
from hoarfrost.sql.tokens import tokenize

__all__ = ["statement_name", "unsupported_wording"]

# Words that may come between the verb and the object kind.
_MODIFIERS = {
    "OR",
    "REPLACE",
    "ALTER",
    "TEMP",
    "TEMPORARY",
    "LOCAL",
    "GLOBAL",
    "VOLATILE",
    "TRANSIENT",
    "SECURE",
    "RECURSIVE",
    "SCOPED",
    "IF",
    "NOT",
    "EXISTS",
}
# First words of object kinds named by more than one word.
_COMPOUND = {
    "MATERIALIZED": 1,
    "EXTERNAL": 1,
    "DYNAMIC": 1,
    "EVENT": 1,
    "HYBRID": 1,
    "ICEBERG": 1,
    "NETWORK": 1,
    "MASKING": 1,
    "RESOURCE": 1,
    "NOTIFICATION": 1,
    "STORAGE": 1,
    "SECURITY": 1,
    "SESSION": 1,
    "ROW": 2,
    "AGGREGATION": 1,
    "PROJECTION": 1,
    "FILE": 1,
    "API": 1,
}


def statement_name(sql: str, tree: exp.Expr | None = None) -> str:
    """The verb, its modifiers and the object kind of a statement, upper-cased."""
    try:
        tokens = tokenize(sql)
    except SqlSyntaxError:
        tokens = []
    words = [
        t.text.upper()
        for t in tokens
        if t.token_type not in (TokenType.STRING, TokenType.IDENTIFIER, TokenType.NUMBER)
    ]
    if not words:
        return type(tree).__name__.upper() if tree is not None else "UNKNOWN"
    name = [words[0]]
    i = 1
    while i < len(words) and words[i] in _MODIFIERS:
        name.append(words[i])
        i += 1
    if i < len(words) and words[0] in ("CREATE", "ALTER", "DROP", "SHOW", "DESCRIBE", "UNDROP"):
        extra = _COMPOUND.get(words[i], 0)
        name += words[i : i + 1 + extra]
    return " ".join(name)


_PROPERTY = re.compile(r"Unsupported property (\w+?)property\b", re.I)


def unsupported_wording(error: UnsupportedError) -> str:
    text = str(error).strip().split("\n")[0]
    found = _PROPERTY.search(text)
    if found:
        return f"unsupported option {found.group(1).upper()}"
    text = re.sub(r"\b(?:in|by) DuckDB\b", "by hoarfrost", text)
    text = text.replace("DuckDB", "hoarfrost")
    return f"unsupported construct: {text}"
