"""Credentials never reach the query history, accepted or refused (issue 10, item 5): quoted and
unquoted secret values, INDEX_URLs with user info, and tokens in a URL's query string."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import hoarfrost
from hoarfrost.errors import Error
from hoarfrost.sql.redaction import redacted_text
from hoarfrost.sql.tokens import split

TOKEN = "tok9b1d4c7e55aa"

SETUP = [
    "CREATE API INTEGRATION i API_PROVIDER = ARTIFACT_REPOSITORY_API "
    "API_ALLOWED_PREFIXES = ('https://nexus.example.com') ALLOWED_AUTHENTICATION_SECRETS = ALL "
    "ENABLED = TRUE",
]
ATTEMPTS = [
    # refused: credentials in the URL
    "CREATE ARTIFACT REPOSITORY r TYPE = PYPI API_INTEGRATION = i "
    f"INDEX_URL = 'https://ci:{TOKEN}@nexus.example.com/simple/'",
    # refused: a token in the query string
    "CREATE ARTIFACT REPOSITORY r TYPE = PYPI API_INTEGRATION = i "
    f"INDEX_URL = 'https://nexus.example.com/simple/?token={TOKEN}'",
    # refused: a token in the fragment
    "CREATE ARTIFACT REPOSITORY r TYPE = PYPI API_INTEGRATION = i "
    f"INDEX_URL = 'https://nexus.example.com/simple/#{TOKEN}'",
    # refused (a password must be quoted), yet the unquoted value is a password all the same
    f"CREATE SECRET s TYPE = PASSWORD USERNAME = 'ci' PASSWORD = {TOKEN}x",
    # refused (syntax): an unquoted secret string with a typo after it
    f"ALTER SECRET s SET PASSWORD = {TOKEN}y ,,",
    # an ordinary query quoting a credential URL
    f"SELECT 'https://ci:{TOKEN}@nexus.example.com/simple/' AS u",
]


@pytest.fixture(scope="module")
def history() -> Iterator[tuple[list[str], list[Any]]]:
    messages: list[str] = []
    with hoarfrost.connect(":memory:") as con:
        for sql in SETUP:
            con.execute(sql)
        for sql in ATTEMPTS:
            try:
                con.execute(sql).fetchall()
            except Error as exc:
                messages.append(str(exc))
        rows = con.execute(
            "SELECT query_text, error_message FROM TABLE(INFORMATION_SCHEMA.QUERY_HISTORY())"
        ).fetchall()
    yield messages, rows


def test_no_credential_in_history_or_errors(history: tuple[list[str], list[Any]]) -> None:
    messages, rows = history
    assert len(messages) == 5  # three refused URLs, the unquoted password, the syntax error
    assert len([r for r in rows if "ARTIFACT REPOSITORY" in (r[0] or "")]) == 3
    for text, error in rows:
        assert TOKEN not in (text or ""), text
        assert TOKEN not in (error or ""), error
    for message in messages:
        assert TOKEN not in message


def test_query_string_urls_are_refused_by_name(history: tuple[list[str], list[Any]]) -> None:
    messages, _ = history
    assert any("carries credentials" in m for m in messages)
    assert sum("carries a query string or fragment" in m for m in messages) == 2


@pytest.mark.parametrize(
    ("sql", "kept"),
    [
        ("SELECT 'https://nexus.example.com/simple/' AS u", True),
        ("SELECT 'a@b.c' AS email", True),
        ("CREATE SECRET s TYPE = PASSWORD USERNAME = 'u' PASSWORD = 'p'", False),
    ],
)
def test_only_what_must_be_hidden_is_masked(sql: str, kept: bool) -> None:
    (statement,) = split(sql)
    assert (redacted_text(statement) == sql) is kept
