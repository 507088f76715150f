"""The one place where foreign exceptions become hoarfrost errors (DESIGN decision 6)."""

from __future__ import annotations

import re

import duckdb

from hoarfrost.engine.duck_messages import reworded, without_prefix
from hoarfrost.errors import (
    DataError,
    Error,
    InsufficientPrivileges,
    IntegrityError,
    InternalError,
    InvalidIdentifier,
    ObjectAlreadyExists,
    ObjectNotFound,
    ProgrammingError,
    SqlSyntaxError,
)

__all__ = ["translate_exception"]

_MISSING = re.compile(
    r"(?:Table|View|Schema|Catalog|Table Function|Scalar Function|Function) with name "
    r"\"?([^\"\s]+)\"? does not exist"
)
_EXISTS = re.compile(r"with name \"?([^\"\s]+)\"? already exists")
_COLUMN = re.compile(r'Referenced column "?([^"\s]+)"? not found')


def translate_exception(exc: BaseException, *, sensitive: bool = False) -> Error:
    if isinstance(exc, Error):
        return exc
    if sensitive:
        # Never echo anything of a secret statement that we did not write ourselves.
        return InternalError("The statement failed; details are hidden because it holds a secret.")
    if isinstance(exc, duckdb.Error):
        return _duckdb(exc)
    return InternalError(f"Internal error: {type(exc).__name__}: {exc}")


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    for prefix in (
        "Catalog Error: ",
        "Binder Error: ",
        "Parser Error: ",
        "Conversion Error: ",
        "Constraint Error: ",
        "Invalid Input Error: ",
        "Not implemented Error: ",
    ):
        text = text.replace(prefix, "")
    # whatever DuckDB's kind of error, its name is not the reference's wording
    return without_prefix(text.split("\n")[0].strip())


def _duckdb(exc: duckdb.Error) -> Error:
    found = reworded(str(exc).split("\n")[0])
    if found is not None:
        return found
    line = _first_line(exc)
    if isinstance(exc, duckdb.CatalogException):
        m = _MISSING.search(line)
        if m:
            return ObjectNotFound(
                f"SQL compilation error:\nObject '{m.group(1)}' does not exist or not authorized."
            )
        m = _EXISTS.search(line)
        if m:
            return ObjectAlreadyExists(
                f"SQL compilation error:\nObject '{m.group(1)}' already exists."
            )
        return ProgrammingError(f"SQL compilation error:\n{line}")
    if isinstance(exc, duckdb.BinderException):
        m = _COLUMN.search(line)
        if m:
            return InvalidIdentifier(
                "SQL compilation error: error line 0 at position 0\n"
                f"invalid identifier '{m.group(1)}'"
            )
        return ProgrammingError(f"SQL compilation error:\n{line}")
    if isinstance(exc, duckdb.ParserException):
        return SqlSyntaxError(f"SQL compilation error:\n{line}")
    if isinstance(exc, duckdb.PermissionException):
        # The locked-down instance refused a file or a setting; its message names host paths.
        return InsufficientPrivileges(
            "SQL access control error:\nInsufficient privileges: statements cannot read or write "
            "files of the host, load extensions or change engine settings."
        )
    if isinstance(exc, duckdb.ConstraintException):
        return IntegrityError(line)
    if isinstance(
        exc, (duckdb.ConversionException, duckdb.InvalidInputException, duckdb.OutOfRangeException)
    ):
        return DataError(line)
    if isinstance(exc, duckdb.NotImplementedException):
        from hoarfrost.errors import UnsupportedFeature

        return UnsupportedFeature(f"Unsupported feature: {line}")
    return ProgrammingError(line)
