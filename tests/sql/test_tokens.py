"""Tokenizing a long statement pauses the cyclic garbage collector (sql/tokens.py) and leaves it
as it found it, on success and on error."""

from __future__ import annotations

import gc

import pytest

from hoarfrost.errors import SqlSyntaxError
from hoarfrost.sql.tokens import split, tokenize

LONG = "SELECT 1 WHERE a IN (" + ", ".join(str(i) for i in range(20000)) + ")"


def test_a_long_statement_leaves_the_collector_on() -> None:
    assert gc.isenabled()
    assert len(tokenize(LONG)) == 2 * 20000 + 6  # SELECT 1 WHERE a IN ( ... )
    assert gc.isenabled()
    with pytest.raises(SqlSyntaxError):
        tokenize(LONG + " AND b = 'unterminated")
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_caller_stays_off() -> None:
    gc.disable()
    try:
        assert [s.text for s in split(f"{LONG}; SELECT 2")][1] == "SELECT 2"
        assert not gc.isenabled()
    finally:
        gc.enable()
