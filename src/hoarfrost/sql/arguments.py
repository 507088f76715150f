"""Reading string arguments of engine-answered functions whose text holds SQL: the package list
of ``SYSTEM$RESOLVE_PYTHON_PACKAGES`` (``$$('numpy', 'pandas>=2')$$``). Object names given as
strings are read by :func:`hoarfrost.sql.names.parse_name`."""

from __future__ import annotations

from hoarfrost.errors import InvalidValue
from hoarfrost.sql.tokens import STRING_TYPES, tokenize

__all__ = ["parse_spec_list"]


def parse_spec_list(text: str) -> list[str]:
    """`('a', 'b>=1')` (or a bare `'a'`) as given in the second argument."""
    specs = [tok.text for tok in tokenize(text) if tok.token_type in STRING_TYPES]
    if not specs and text.strip():
        raise InvalidValue(
            "SYSTEM$RESOLVE_PYTHON_PACKAGES expects the package list as a string holding quoted "
            "specs, e.g. $$('numpy', 'pandas>=2')$$."
        )
    return specs
