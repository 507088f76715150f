"""Reading and validating `KEY = value` properties of a statement, with the errors users see."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from hoarfrost.errors import InvalidValue, SqlSyntaxError
from hoarfrost.sql.ast import Bool, Ident, ListValue, Name, Num, Str, Value

__all__ = ["Props", "value_text"]

T = TypeVar("T", Str, Ident)


def value_text(value: Value) -> str | None:
    """The text of a string, number or (possibly qualified) name value; None for other kinds."""
    if isinstance(value, Str):
        return value.value
    if isinstance(value, Num):
        return value.text
    if isinstance(value, Ident):
        return ".".join(value.name.parts)
    return None


class Props:
    def __init__(self, props: dict[str, Value], kind: str, allowed: Iterable[str]):
        allowed = set(allowed)
        for key in props:
            if key not in allowed:
                raise SqlSyntaxError(
                    f"SQL compilation error:\ninvalid property '{key}' for {kind}; "
                    f"valid properties are {', '.join(sorted(allowed))}."
                )
        self.props = props
        self.kind = kind

    def __contains__(self, key: str) -> bool:
        return key in self.props

    def keys(self) -> list[str]:
        return list(self.props)

    def missing(self, key: str) -> InvalidValue:
        return InvalidValue(
            f"SQL compilation error:\nmissing required property {key} for {self.kind}."
        )

    def _bad(self, key: str, expected: str) -> InvalidValue:
        return InvalidValue(
            f"SQL compilation error:\ninvalid value for property {key} of {self.kind}: "
            f"expected {expected}."
        )

    def string(self, key: str, required: bool = False) -> str | None:
        value = self.props.get(key)
        if value is None:
            if required:
                raise self.missing(key)
            return None
        if isinstance(value, Str):
            return value.value
        raise self._bad(key, "a quoted string")

    def word(self, key: str, required: bool = False) -> str | None:
        """A bare keyword or identifier (`TYPE = PASSWORD`), upper-cased; quoted text accepted."""
        value = self.props.get(key)
        if value is None:
            if required:
                raise self.missing(key)
            return None
        if isinstance(value, Ident) and len(value.name.parts) == 1:
            return value.name.last.upper()
        if isinstance(value, Str):
            return value.value.upper()
        raise self._bad(key, "a keyword")

    def name(self, key: str, required: bool = False) -> Name | None:
        value = self.props.get(key)
        if value is None:
            if required:
                raise self.missing(key)
            return None
        if isinstance(value, Ident):  # a quoted name was parsed by the statement parser
            return value.name
        raise self._bad(key, "an object name")

    def boolean(self, key: str) -> bool | None:
        value = self.props.get(key)
        if value is None:
            return None
        if isinstance(value, Bool):
            return value.value
        if isinstance(value, (Ident, Str)):
            text = value.name.last if isinstance(value, Ident) else value.value
            if text.upper() in ("TRUE", "FALSE"):
                return text.upper() == "TRUE"
        raise self._bad(key, "TRUE or FALSE")

    def number_text(self, key: str) -> str | None:
        value = self.props.get(key)
        if value is None:
            return None
        if isinstance(value, (Num, Str)):
            return value.text if isinstance(value, Num) else value.value
        raise self._bad(key, "a number or a quoted string")

    def strings(self, key: str) -> list[str] | None:
        """`( 'a', 'b' )`, `()` or a single `'a'`."""
        items = self._items(key, Str, "a list of quoted strings, e.g. ('a', 'b')")
        return None if items is None else [item.value for item in items]

    def names(self, key: str) -> list[Name] | None:
        """`( a, db.s.b )` or `()`."""
        items = self._items(key, Ident, "a list of object names, e.g. (my_secret)")
        return None if items is None else [item.name for item in items]

    def _items(self, key: str, kind: type[T], expected: str) -> list[T] | None:
        """The elements of a list value (a single value counts as a list of one)."""
        value = self.props.get(key)
        if value is None:
            return None
        items = value.items if isinstance(value, ListValue) else (value,)
        if not all(isinstance(item, kind) for item in items):
            raise self._bad(key, expected)
        return [item for item in items if isinstance(item, kind)]
