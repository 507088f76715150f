"""DuckDB's error messages reworded as the reference words the same failure, so no DuckDB
wording ("Could not convert string", "Unknown TimeZone", "Unimplemented type for cast",
"TransactionContext Error", ...) reaches a user. Used by :mod:`hoarfrost.engine.boundary`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from hoarfrost.errors import DataError, Error, ProgrammingError

__all__ = ["reworded", "without_prefix"]

# "Conversion Error: ", "TransactionContext Error: ", "Out of Range Error: ", ...
_PREFIX = re.compile(r"^(?:[A-Z][A-Za-z]*(?: [A-Za-z]+)*) Error: ")

# DuckDB's type names as Snowflake names them
_TYPES = {
    "INT8": "NUMBER",
    "INT16": "NUMBER",
    "INT32": "NUMBER",
    "INT64": "NUMBER",
    "INT128": "NUMBER",
    "TINYINT": "NUMBER",
    "SMALLINT": "NUMBER",
    "INTEGER": "NUMBER",
    "BIGINT": "NUMBER",
    "HUGEINT": "NUMBER",
    "DOUBLE": "FLOAT",
    "FLOAT": "FLOAT",
    "VARCHAR": "VARCHAR",
    "BOOLEAN": "BOOLEAN",
    "BOOL": "BOOLEAN",
    "DATE": "DATE",
    "TIME": "TIME",
    "TIMESTAMP": "TIMESTAMP_NTZ",
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMP_TZ",
    "BLOB": "BINARY",
    "JSON": "VARIANT",
}


def _type(name: str) -> str:
    name = name.strip().upper()
    if name.startswith("DECIMAL"):
        return "NUMBER" + name[len("DECIMAL") :].replace(" ", "")
    return _TYPES.get(name, name)


def without_prefix(line: str) -> str:
    return _PREFIX.sub("", line.strip())


def _not_recognized(value: str, target: str) -> Error:
    kind = _type(target)
    if kind in ("NUMBER", "FLOAT") or kind.startswith("NUMBER("):
        return DataError(f"Numeric value '{value}' is not recognized", errno=100038)
    if kind == "DATE":
        return DataError(f"Date '{value}' is not recognized", errno=100040, sqlstate="22007")
    if kind == "TIME":
        return DataError(f"Time '{value}' is not recognized", errno=100108, sqlstate="22007")
    if kind.startswith("TIMESTAMP"):
        return DataError(f"Timestamp '{value}' is not recognized", errno=100035, sqlstate="22007")
    if kind == "BOOLEAN":
        return DataError(f"Boolean value '{value}' is not recognized", errno=100037)
    return DataError(f"Value '{value}' is not recognized as {kind}", errno=100038)


_RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], Error]]] = [
    (
        re.compile(r"Could not convert string '(.*)' to '?([A-Z0-9_ ()]+?)'?$"),
        lambda m: _not_recognized(m.group(1), m.group(2)),
    ),
    (
        re.compile(r'(date|timestamp|time) field (?:format|value out of range): "(.*?)"', re.I),
        lambda m: _not_recognized(m.group(2), m.group(1)),
    ),
    (
        re.compile(r"Unknown TimeZone '(.*?)'"),
        lambda m: DataError(
            f"Timestamp '{m.group(1)}' is not recognized", errno=100035, sqlstate="22007"
        ),
    ),
    (
        re.compile(r"Unimplemented type for cast \((.+) -> (.+)\)"),
        lambda m: ProgrammingError(
            "SQL compilation error:\nInvalid argument types for function 'CAST': "
            f"({_type(m.group(1))}, {_type(m.group(2))})",
            errno=1044,
            sqlstate="22023",
        ),
    ),
    (
        re.compile(r"json_object\(\) keys must be VARCHAR"),
        lambda m: ProgrammingError(
            "SQL compilation error:\nInvalid argument types for function 'OBJECT_CONSTRUCT': "
            "keys must be strings",
            errno=1044,
            sqlstate="22023",
        ),
    ),
    (
        re.compile(r"Type \S+ with value (\S+) can't be cast"),
        lambda m: DataError(
            f"Numeric value '{m.group(1)}' is out of range", errno=100039, sqlstate="22003"
        ),
    ),
    (
        re.compile(r"(?:Conflict|conflict) on (?:tuple|update|table)"),
        lambda m: ProgrammingError(
            "Transaction was aborted because another transaction changed the same rows; "
            "run the statement again.",
            errno=625,
            sqlstate="57014",
        ),
    ),
    (
        re.compile(r"cannot (commit|rollback) - no transaction is active"),
        lambda m: ProgrammingError(
            "There is no open transaction to " + m.group(1).upper() + ".",
            errno=2048,
            sqlstate="25000",
        ),
    ),
]


def reworded(line: str) -> Error | None:
    """The reference's error for one line of DuckDB's message, when there is a rule for it."""
    text = without_prefix(line)
    for pattern, make in _RULES:
        found = pattern.search(text)
        if found:
            return make(found)
    return None
