"""What of a statement may be recorded (query history, the CLI's history file, logs).

* CREATE / ALTER SECRET: every string literal, and the value after a secret-valued property
  even when it is not quoted (``PASSWORD = hunter2`` is a valid, unquoted identifier).
* CREATE / ALTER USER: the value after ``PASSWORD =`` (the user's other properties stay).
* Any statement: a string literal holding a URL with credentials (``https://u:p@host/``) or with
  a query string or fragment (where tokens travel: ``...?token=...``), whether or not the
  statement was accepted.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlglot.tokens import Token, TokenType

from hoarfrost.sql.parser import TokenCursor
from hoarfrost.sql.tokens import STRING_TYPES, Statement

__all__ = ["carries_secrets", "redacted_text"]

MASK = "'***'"
_SECRET_VALUED = {
    "PASSWORD",
    "SECRET_STRING",
    "SECRET_STRING_BASE64",
    "OAUTH_REFRESH_TOKEN",
    "API_KEY",
}


def carries_secrets(statement: Statement) -> bool:
    """True for CREATE/ALTER SECRET: their literals are secret and never shown."""
    cur = TokenCursor(statement)
    if not (cur.accept("CREATE") or cur.accept("ALTER")):
        return False
    cur.accept("OR", "REPLACE")
    return cur.at("SECRET") or cur.at("SECRETS")


def _credential_url(text: str) -> bool:
    if "://" not in text:
        return False
    try:
        parts = urlsplit(text.strip())
    except ValueError:
        return True  # unparsable: assume the worst
    return "@" in parts.netloc or bool(parts.query) or bool(parts.fragment)


def _user_statement(statement: Statement) -> bool:
    """CREATE / ALTER USER: their PASSWORD value is secret."""
    cur = TokenCursor(statement)
    if not (cur.accept("CREATE") or cur.accept("ALTER")):
        return False
    cur.accept("OR", "REPLACE")
    return cur.at("USER")


def _masked(tokens: list[Token], secret_statement: bool, user_statement: bool = False) -> set[int]:
    """Indices of the tokens to mask."""
    masked = set()
    for i, tok in enumerate(tokens):
        if tok.token_type in STRING_TYPES and (secret_statement or _credential_url(tok.text)):
            masked.add(i)
        elif (
            (secret_statement or (user_statement and tok.text.upper() == "PASSWORD"))
            and tok.text.upper() in _SECRET_VALUED
            and i + 2 < len(tokens)
            and tokens[i + 1].token_type == TokenType.EQ
        ):
            masked.add(i + 2)
    return masked


def redacted_text(statement: Statement) -> str:
    """The statement as it may be recorded."""
    masked = _masked(statement.tokens, carries_secrets(statement), _user_statement(statement))
    if not masked:
        return statement.text
    parts: list[str] = []
    pos = statement.offset
    for i in sorted(masked):
        tok = statement.tokens[i]
        parts.append(statement.text[pos - statement.offset : tok.start - statement.offset])
        parts.append(MASK)
        pos = tok.end + 1
    parts.append(statement.text[pos - statement.offset :])
    return "".join(parts)
