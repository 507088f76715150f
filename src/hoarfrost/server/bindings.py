"""Server-side bindings of the query protocol: wire values -> Python values -> SQL literals.

The connector sends ``bindings`` as ``{"1": {"type": "FIXED", "value": "10"}, ...}`` for qmark
(``?``) and numeric (``:1``) placeholders, with a list as ``value`` for array binding (one
element per row). Values are strings in the connector's binding forms
(``binding_converters.py``): DATE in epoch milliseconds, TIME in nanoseconds since midnight,
TIMESTAMP_* in epoch nanoseconds (UTC), BINARY in hex, BOOLEAN "true"/"false", REAL with
"NaN"/"Infinity". Substitution works on tokens, so a ``?`` or ``:1`` inside a string literal or a
comment is never touched.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
from collections.abc import Callable, Mapping
from typing import Any

from sqlglot.tokens import Token, TokenType

from hoarfrost.errors import ProgrammingError
from hoarfrost.sql.binding import literal
from hoarfrost.sql.tokens import tokenize

__all__ = [
    "Run",
    "bound_runs",
    "bound_statements",
    "count_placeholders",
    "from_wire",
    "parameterized",
]

_EPOCH = dt.datetime(1970, 1, 1)
_EPOCH_DATE = dt.date(1970, 1, 1)


def _fixed(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        return decimal.Decimal(text)


def _real(text: str) -> float:
    return float(text)  # float() reads "NaN", "Infinity" and "-Infinity"


def _boolean(text: str) -> bool:
    return text.strip().lower() in ("true", "1", "t", "yes", "y", "on")


def _date(text: str) -> dt.date:
    return _EPOCH_DATE + dt.timedelta(milliseconds=int(text))


def _time(text: str) -> dt.time:
    micros = int(text) // 1000
    return (dt.datetime.min + dt.timedelta(microseconds=micros)).time()


def _timestamp_ntz(text: str) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=int(text) // 1000)


def _timestamp_utc(text: str) -> dt.datetime:
    return _timestamp_ntz(text).replace(tzinfo=dt.timezone.utc)


def _binary(text: str) -> bytes:
    return bytes.fromhex(text)


_CONVERTERS: dict[str, Callable[[str], Any]] = {
    "FIXED": _fixed,
    "REAL": _real,
    "TEXT": str,
    "BOOLEAN": _boolean,
    "DATE": _date,
    "TIME": _time,
    "TIMESTAMP": _timestamp_ntz,
    "TIMESTAMP_NTZ": _timestamp_ntz,
    "TIMESTAMP_LTZ": _timestamp_utc,
    "TIMESTAMP_TZ": _timestamp_utc,
    "BINARY": _binary,
}


def from_wire(kind: str, value: Any) -> Any:
    """One wire value as a Python value."""
    if value is None:
        return None
    convert = _CONVERTERS.get(kind.upper(), str)
    try:
        return convert(str(value))
    except (ValueError, ArithmeticError, OverflowError):
        raise ProgrammingError(
            f"Bind variable of type {kind.upper()} has a value that is not valid for it.",
            errno=2049,
            sqlstate="22018",
        ) from None


def bound_statements(sql: str, bindings: Mapping[str, Any] | None) -> list[str]:
    """The SQL with its placeholders replaced: one text, or one per row for array binding."""
    if not bindings:
        return [sql]
    return [_substitute(sql, row) for row in _rows(bindings)]


# A statement's text and its parameters (None: the values are in the text).
Run = tuple[str, list[Any] | None]


def bound_runs(sql: str, bindings: Mapping[str, Any] | None) -> list[Run]:
    """The statement once per row of bound values, the values kept as parameters where they
    can be (the text, and so its kept translation, is then the same for every value)."""
    if not bindings:
        return [(sql, None)]
    rows = _rows(bindings)
    kept = _kept(sql, rows)
    if kept is not None:
        text, values = kept
        return [(text, row) for row in values]
    return [(_substitute(sql, row), None) for row in rows]


def parameterized(sql: str, bindings: Mapping[str, Any]) -> tuple[str, list[list[Any]]] | None:
    """The SQL with each placeholder written ``?`` and the values of each row in that order, so
    that the statement's text (and its kept translation) is the same whatever the values; or
    ``None`` when the values are better inlined: a value whose type only a cast keeps (REAL,
    TIMESTAMP_LTZ), or a ``%`` token the session could read as a placeholder."""
    return _kept(sql, _rows(bindings))


def _kept(sql: str, rows: list[list[Any]]) -> tuple[str, list[list[Any]]] | None:
    if not rows:  # arrays of no rows: nothing to run (the caller says so)
        return None
    if any(isinstance(v, _Typed) for row in rows for v in row):
        return None
    tokens = tokenize(sql)
    if any(t.token_type == TokenType.MOD for t in tokens):
        return None
    positions = _positions(_placeholders(sql, tokens), len(rows[0]))
    order = [index for _, _, index in positions]
    return _rewrite(sql, positions, lambda _: "?"), [[row[i] for i in order] for row in rows]


def _rows(bindings: Mapping[str, Any]) -> list[list[Any]]:
    """The bound values, one list per row (one row unless the values are arrays)."""
    if not isinstance(bindings, Mapping):
        raise ProgrammingError(
            "Bindings must be an object of positions.", errno=2049, sqlstate="07001"
        )
    scalars: dict[int, Any] = {}
    arrays: dict[int, list[Any]] = {}
    for key in sorted(bindings, key=_position):
        spec = bindings[key] or {}
        if not isinstance(spec, Mapping):
            raise ProgrammingError(
                f"Bind variable {key} is not an object with a type and a value.",
                errno=2049,
                sqlstate="07001",
            )
        kind, value = str(spec.get("type") or "TEXT"), spec.get("value")
        if isinstance(value, list):
            arrays[len(scalars) + len(arrays)] = [_typed(kind, from_wire(kind, v)) for v in value]
        else:
            scalars[len(scalars) + len(arrays)] = _typed(kind, from_wire(kind, value))
    lengths = {len(a) for a in arrays.values()}
    if len(lengths) > 1:
        raise ProgrammingError(
            "Array bind variables must all have the same number of rows.",
            errno=2049,
            sqlstate="22000",
        )
    rows = lengths.pop() if lengths else 1
    width = len(scalars) + len(arrays)
    return [
        [arrays[j][i] if j in arrays else scalars[j] for j in range(width)] for i in range(rows)
    ]


def _check_index(index: int, width: int) -> None:
    if not 1 <= index <= width:
        raise ProgrammingError(f"Bind variable {index} not set.", errno=2049, sqlstate="07001")


def _position(key: str) -> int:
    try:
        return int(key)
    except ValueError:
        raise ProgrammingError(
            f"Bind variable {key!r} is not a position; named bindings are not supported.",
            errno=2049,
            sqlstate="07001",
        ) from None


class _Typed:
    """A bound value with the type the client named, where a bare literal would lose it."""

    def __init__(self, value: Any, cast: str):
        self.value, self.cast = value, cast

    def literal(self) -> str:
        return f"{literal(self.value)}::{self.cast}"


# A float literal reads as NUMBER and a timezone-aware one as TIMESTAMP_TZ: cast to the
# client's type.
_CASTS = {"REAL": "FLOAT", "TIMESTAMP_LTZ": "TIMESTAMP_LTZ"}


def _typed(kind: str, value: Any) -> Any:
    cast = _CASTS.get(kind.upper())
    return value if cast is None or value is None else _Typed(value, cast)


def _literal(value: Any) -> str:
    return value.literal() if isinstance(value, _Typed) else literal(value)


def _substitute(sql: str, values: list[Any]) -> str:
    """Replace ``?`` placeholders in order, or ``:N`` placeholders by position."""
    positions = _positions(_placeholders(sql), len(values))
    return _rewrite(sql, positions, lambda i: _literal(values[i]))


def _positions(spans: list[tuple[int, int, int]], width: int) -> list[tuple[int, int, int]]:
    """(start, end, value index from 0) of each placeholder: ``?`` count in order."""
    out = []
    next_qmark = 0
    for start, end, index in spans:
        if index == 0:
            next_qmark += 1
            index = next_qmark
        _check_index(index, width)
        out.append((start, end, index - 1))
    return out


def _rewrite(sql: str, positions: list[tuple[int, int, int]], render: Callable[[int], str]) -> str:
    out: list[str] = []
    pos = 0
    for start, end, index in positions:
        out += [sql[pos:start], render(index)]
        pos = end + 1
    out.append(sql[pos:])
    return "".join(out)


def _placeholders(sql: str, tokens: list[Token] | None = None) -> list[tuple[int, int, int]]:
    """(start, end, index) of each placeholder: index 0 for ``?``, N for ``:N``."""
    tokens = tokenize(sql) if tokens is None else tokens
    found = [
        (t.start, t.end, 0)
        for t in tokens
        if t.token_type == TokenType.PLACEHOLDER and t.text == "?"
    ]
    for colon, number in itertools.pairwise(tokens):
        if (
            colon.token_type == TokenType.COLON
            and number.token_type == TokenType.NUMBER
            and number.start == colon.end + 1
            and number.text.isdigit()
        ):
            found.append((colon.start, number.end, int(number.text)))
    return sorted(found)


def count_placeholders(sql: str) -> int:
    """How many values the statement's placeholders need (``?`` count, or the highest ``:N``)."""
    try:
        found = _placeholders(sql)
    except ProgrammingError:
        return 0
    return max(sum(1 for *_, i in found if i == 0), max((i for *_, i in found), default=0))
