"""SECRET objects (SPEC.md section 2): PASSWORD and GENERIC_STRING, values encrypted at rest.

Only the username and comment are stored in clear; the password or secret string is encrypted
with the account key, bound to the secret's identity, and decrypted only by
:func:`read_secret` for the component that talks to the repository.
"""

from __future__ import annotations

from dataclasses import dataclass

from hoarfrost.catalog.crypto import KeyRing
from hoarfrost.catalog.scope import Scope
from hoarfrost.catalog.store import CatalogObject

__all__ = ["SecretValue", "encrypt_secret", "read_secret"]


@dataclass(frozen=True)
class SecretValue:
    """A decrypted secret; its repr never shows the value (DESIGN decision 7)."""

    secret_type: str
    username: str | None
    value: str

    def __repr__(self) -> str:
        return f"SecretValue(type={self.secret_type}, username={self.username!r}, value=***)"

    __str__ = __repr__


def _aad(obj: CatalogObject) -> str:
    return f"SECRET:{obj.database}.{obj.schema}.{obj.name}"


def encrypt_secret(keyring: KeyRing, obj: CatalogObject, value: str) -> bytes:
    """The stored form of a secret value, bound to the secret's identity."""
    return keyring.encrypt(value.encode(), _aad(obj))


def read_secret(scope: Scope, obj: CatalogObject) -> SecretValue:
    """Decrypt a secret for the repository gateway; never for display."""
    assert obj.secret is not None
    value = scope.keyring.decrypt(obj.secret, _aad(obj)).decode()
    return SecretValue(obj.props["secret_type"], obj.props.get("username"), value)
