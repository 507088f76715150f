"""The built-in ``snowflake.snowpark.pypi_shared_repository`` every account has.

Like the reference's, it is an ARTIFACT REPOSITORY over a public index, with no credentials,
that every role may use (the reference grants its SNOWFLAKE.PYPI_REPOSITORY_USER database role
to PUBLIC; hoarfrost grants USAGE on the repository to PUBLIC). The index is the setting
``pypi_shared_repository_url`` (default: the public PyPI simple index), re-read each time the
account opens. Its API integration is the system's own (not a catalog object, not shown by SHOW
INTEGRATIONS) and allows that index's host only. The packages policy governs it like any other
repository.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from hoarfrost.catalog.privileges import grant_target
from hoarfrost.catalog.store import CatalogObject, CatalogStore

__all__ = ["INTEGRATION", "KEY", "ensure_shared_repository", "system_integration"]

KEY = ("SNOWFLAKE", "SNOWPARK", "PYPI_SHARED_REPOSITORY")
INTEGRATION = "SNOWFLAKE$PYPI_SHARED_REPOSITORY"


def _prefix(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def system_integration(repository: CatalogObject) -> CatalogObject | None:
    """The API integration of the shared repository (None for any other repository)."""
    if (repository.kind, repository.database, repository.schema, repository.name) != (
        "ARTIFACT REPOSITORY",
        *KEY,
    ):
        return None
    return CatalogObject(
        "INTEGRATION",
        "",
        "",
        INTEGRATION,
        owner="ACCOUNTADMIN",
        created_on=repository.created_on,
        props={
            "api_provider": "ARTIFACT_REPOSITORY_API",
            "allowed_prefixes": [_prefix(str(repository.props["index_url"]))],
            "blocked_prefixes": [],
            "allowed_secrets": "NONE",
            "use_privatelink_endpoint": False,
            "enabled": True,
        },
    )


def ensure_shared_repository(store: CatalogStore, index_url: str) -> None:
    """Create the shared repository, or point it at ``index_url`` when the setting changed."""
    now = dt.datetime.now(dt.timezone.utc)
    repository = CatalogObject(
        "ARTIFACT REPOSITORY",
        *KEY,
        owner="ACCOUNTADMIN",
        created_on=now,
        comment="Packages from a public index, for every role (built in).",
        props={
            "type": "PYPI",
            "api_integration": INTEGRATION,
            "index_url": index_url,
            "authentication_secret": None,
            "package_retention": "ON_OBJECT_CREATION",
        },
    )
    with store.transaction():
        old = store.get(*repository.key)
        if old is None or old.props != repository.props:
            if old is not None:
                repository = repository.evolve(created_on=old.created_on)
            store.put(repository)
        store.execute(
            "INSERT OR IGNORE INTO grants (privilege, kind, target, role, granted_by, created_on) "
            "VALUES ('USAGE', 'ARTIFACT REPOSITORY', ?, 'PUBLIC', 'ACCOUNTADMIN', ?)",
            [grant_target(repository), now],
        )
    store.access_changed()
