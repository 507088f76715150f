"""Credentials for a customer repository, as a type whose value never leaks (DESIGN decision 7).

A :class:`Credentials` is what the gateway holds in memory after the catalog decrypted a SECRET.
Its ``repr``/``str`` are masked, it refuses to be pickled (so it cannot slip into a worker, a
subprocess or a cache file), and the only way to read the value is :meth:`Credentials.header`,
the ``Authorization`` header value the fetcher sends to the index's own origin.

Wire format (SPEC.md section 2): a PASSWORD secret is ``Basic base64(user:password)``; a
GENERIC_STRING secret is ``Bearer <token>`` [engine].
"""

from __future__ import annotations

import base64
from typing import Any, Literal, NoReturn

__all__ = ["Credentials"]


class Credentials:
    """Basic or bearer credentials; build with :meth:`basic` or :meth:`bearer`."""

    __slots__ = ("_kind", "_secret", "_username")

    def __init__(self, kind: Literal["basic", "bearer"], username: str | None, secret: str):
        if kind not in ("basic", "bearer"):
            raise ValueError("credentials kind must be 'basic' or 'bearer'")
        if any(c in secret or c in (username or "") for c in "\r\n\0"):
            # A CR/LF in a header value would let a secret smuggle extra headers upstream.
            raise ValueError("credentials must not contain CR, LF or NUL characters")
        self._kind = kind
        self._username = username
        self._secret = secret

    @classmethod
    def basic(cls, username: str, password: str) -> Credentials:
        """PASSWORD secret; ``username`` may be empty (some servers want a token as password)."""
        if ":" in username:
            raise ValueError("a basic-auth user name cannot contain ':'")
        return cls("basic", username, password)

    @classmethod
    def bearer(cls, token: str) -> Credentials:
        """GENERIC_STRING secret sent as ``Authorization: Bearer <token>``."""
        if not token:
            raise ValueError("a bearer token cannot be empty")
        return cls("bearer", None, token)

    @property
    def kind(self) -> str:
        return self._kind

    @property
    def username(self) -> str | None:
        """The user name is not a secret (DESCRIBE SECRET shows it)."""
        return self._username

    def header(self) -> str:
        """The value of the ``Authorization`` header."""
        if self._kind == "bearer":
            return f"Bearer {self._secret}"
        raw = f"{self._username}:{self._secret}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    def scrub(self, text: str) -> str:
        """``text`` with every occurrence of the secret (raw or as the header value) masked.

        Used as a last line of defence on foreign exception texts before they reach a message.
        """
        for value in (self.header().split(" ", 1)[1], self._secret):
            if value:
                text = text.replace(value, "****")
        return text

    def __repr__(self) -> str:
        who = f" user={self._username!r}" if self._username is not None else ""
        return f"<Credentials {self._kind}{who} secret=****>"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials):
            return NotImplemented
        return (self._kind, self._username, self._secret) == (
            other._kind,
            other._username,
            other._secret,
        )

    def __hash__(self) -> int:
        return hash((self._kind, self._username, self._secret))

    def __reduce__(self) -> NoReturn:
        raise TypeError("Credentials cannot be pickled: secrets stay in the gateway's memory")

    def __getstate__(self) -> Any:
        raise TypeError("Credentials cannot be pickled: secrets stay in the gateway's memory")
