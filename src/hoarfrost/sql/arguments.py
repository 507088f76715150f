"""Reading the string arguments of engine-answered functions whose text is SQL: an object name
(``SYSTEM$GET_ARTIFACT_REPOSITORY_INFO('db.s.repo')``) or the package list of
``SYSTEM$RESOLVE_PYTHON_PACKAGES`` (``$$('numpy', 'pandas>=2')$$``). These are values that
reach a function at run time, not parts of a statement: the statement parser never sees them,
so they are read here, once, for the function that receives them."""

from __future__ import annotations

from hoarfrost.errors import InvalidValue
from hoarfrost.sql.ast import Name
from hoarfrost.sql.names import parse_name
from hoarfrost.sql.tokens import STRING_TYPES, tokenize

__all__ = ["name_argument", "parse_spec_list"]


def name_argument(text: str) -> Name:
    """An object name given as a string argument (``'db.schema.obj'``, ``'"Quoted".x'``)."""
    return parse_name(text)


def parse_spec_list(text: str) -> list[str]:
    """`('a', 'b>=1')` (or a bare `'a'`) as given in the second argument."""
    specs = [tok.text for tok in tokenize(text) if tok.token_type in STRING_TYPES]
    if not specs and text.strip():
        raise InvalidValue(
            "SYSTEM$RESOLVE_PYTHON_PACKAGES expects the package list as a string holding quoted "
            "specs, e.g. $$('numpy', 'pandas>=2')$$."
        )
    return specs
