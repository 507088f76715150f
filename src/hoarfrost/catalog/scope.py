"""What the catalog needs to know about whoever asks: the Scope protocol.

Lookups and privilege checks resolve names against the current database and schema, decide
with the current role and see the session's temporary objects; secrets decrypt with the
account's key. They take any object with these members (the statement layer's session is one),
defined here, below every caller, so that the catalog never imports its callers.
"""

from __future__ import annotations

from typing import Protocol

from hoarfrost.catalog.crypto import KeyRing
from hoarfrost.catalog.store import CatalogObject, CatalogStore
from hoarfrost.sql.ast import Name

__all__ = ["Scope", "TempKey"]


TempKey = tuple[str, str, str, str, str]


class Scope(Protocol):
    id: int
    user: str
    role: str
    # USE SECONDARY ROLES ALL: every role the user holds acts too (NONE: the primary only).
    secondary_roles: bool
    database: str | None
    schema: str | None
    # TEMPORARY objects live with their session only, keyed like CatalogObject.key.
    temp_objects: dict[TempKey, CatalogObject]

    @property
    def catalog(self) -> CatalogStore: ...

    @property
    def keyring(self) -> KeyRing:
        """The account key that encrypts secrets."""
        ...

    def qualify(self, name: Name) -> tuple[str, str, str]:
        """(database, schema, name) of a schema-level object name, against the current ones."""
        ...

    def need_database(self) -> str:
        """The current database, or the reference's 090105 error when there is none."""
        ...

    def need_schema(self) -> str:
        """The current schema, or the reference's 090106 error when there is none."""
        ...
