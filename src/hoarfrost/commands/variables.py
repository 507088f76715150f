"""Session variables (reference: "Variables" in the SQL reference): SET v = expr,
SET (a, b) = (e1, e2), UNSET, SHOW VARIABLES, and ``$v`` in any ordinary statement or CALL.

A variable keeps the value its expression had when it was set (evaluated once, as a query), as
a typed SQL literal; a ``$v`` reference is replaced by that literal before the statement is
translated, so a statement that reads a variable is translated with the variable's value.
"""

from __future__ import annotations

import base64
import datetime as dt
import fnmatch
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from hoarfrost.catalog.lookup import like_to_glob
from hoarfrost.commands.ordinary import run_ordinary
from hoarfrost.engine.context import Context, Handler
from hoarfrost.engine.result import Result, rows_result, status_result
from hoarfrost.errors import ProgrammingError
from hoarfrost.sql.ast import Call, Ordinary, Show, Variables
from hoarfrost.sql.session_statements import with_variables
from hoarfrost.sql.tokens import Statement, split

__all__ = ["HANDLERS", "SessionVariable", "substituting"]

# The reference limits a variable's value to 256 bytes.
_MAX_BYTES = 256


@dataclass
class SessionVariable:
    literal: str  # the value as SQL
    value: str | None  # as SHOW VARIABLES shows it
    type: str  # fixed, real, text, boolean, date, ...
    created: dt.datetime
    updated: dt.datetime


def _literal(value: Any, type_name: str) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return f"{value!r}::FLOAT"
    if isinstance(value, bytes):
        return f"TO_BINARY('{base64.b16encode(value).decode()}', 'HEX')"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return f"{_quote(value.isoformat())}::{type_name}"
    if type_name in ("VARIANT", "OBJECT", "ARRAY"):
        return f"PARSE_JSON({_quote(value if isinstance(value, str) else json.dumps(value))})"
    return _quote(str(value))


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _store(session: Context) -> dict[str, SessionVariable]:
    return session.variables


def _set(session: Context, node: Variables) -> Result:
    exprs = [with_variables(_statement(v), lambda k: _lookup(session, k)).text for v in node.values]
    query = "SELECT " + ", ".join(exprs)
    result = run_ordinary(session, Ordinary(_statement(query)))
    row = result.table.to_pylist()[0] if result.table.num_rows else {}
    values = list(row.values()) if row else [None] * len(node.names)
    now = dt.datetime.now(dt.timezone.utc)
    for name, column, value in zip(node.names, result.columns, values, strict=True):
        shown = _shown(value)
        if shown is not None and len(shown.encode()) > _MAX_BYTES:
            raise ProgrammingError(
                f"Assignment to '{name}' not done because value exceeds size limit for variables. "
                f"Its size is {len(shown.encode())}; the limit is {_MAX_BYTES} (internal storage "
                "size in bytes).",
                errno=2296,
                sqlstate="22000",
            )
        old = _store(session).get(name)
        _store(session)[name] = SessionVariable(
            _literal(value, column.type),
            shown,
            column.type.lower(),
            old.created if old else now,
            now,
        )
    return status_result("Statement executed successfully.")


def _statement(text: str) -> Statement:
    (statement,) = split(text)
    return statement


def _unset(session: Context, node: Variables) -> Result:
    for name in node.names:
        if _store(session).pop(name, None) is None:
            raise _missing(name)
    return status_result("Statement executed successfully.")


def _missing(name: str) -> ProgrammingError:
    return ProgrammingError(
        f"SQL compilation error: error line 0 at position -1\nSession variable '${name}' does "
        "not exist",
        errno=2211,
        sqlstate="02000",
    )


def _lookup(session: Context, name: str) -> str:
    found = _store(session).get(name)
    if found is None:
        raise _missing(name)
    return found.literal


_SHOW_COLUMNS = ["session_id", "created_on", "updated_on", "name", "value", "type", "comment"]


def _show(session: Context, node: Show) -> Result:
    rows = [
        (session.id, v.created, v.updated, name, v.value, v.type, "")
        for name, v in sorted(_store(session).items())
    ]
    if node.like is not None:
        pattern = like_to_glob(node.like).upper()
        rows = [r for r in rows if fnmatch.fnmatchcase(str(r[3]).upper(), pattern)]
    return rows_result(_SHOW_COLUMNS, rows)


def substituting(handlers: Mapping[tuple[str, str], Handler]) -> dict[tuple[str, str], Handler]:
    """Ordinary statements and CALL see ``$name`` replaced by the variable's value."""
    wrapped = dict(handlers)
    for key, handler in handlers.items():
        if key[0] in ("Ordinary", "Call"):
            wrapped[key] = _substitute(handler)
    return wrapped


def _substitute(handler: Handler) -> Handler:
    def run(session: Context, node: Any) -> Result:
        if isinstance(node, Ordinary):
            statement = with_variables(node.statement, lambda k: _lookup(session, k))
            if statement is not node.statement:
                node = replace(node, statement=statement)
        elif isinstance(node, Call):
            args = []
            for arg in node.args:
                original = _statement(arg.sql)
                text = with_variables(original, lambda k: _lookup(session, k))
                if text is not original:
                    arg = replace(arg, sql=text.text, tokens=tuple(text.tokens))
                args.append(arg)
            node = replace(node, args=args)
        return handler(session, node)

    return run


HANDLERS: dict[tuple[str, str], Handler] = {
    ("Variables", "SET"): _set,
    ("Variables", "UNSET"): _unset,
    ("Show", "VARIABLE"): _show,
}
