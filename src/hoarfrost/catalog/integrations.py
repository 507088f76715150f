"""API INTEGRATION objects with API_PROVIDER = ARTIFACT_REPOSITORY_API (SPEC.md section 3): the
rules a stored integration carries."""

from __future__ import annotations

from hoarfrost.catalog.store import CatalogObject

__all__ = ["PROVIDER", "secret_allowed"]

PROVIDER = "ARTIFACT_REPOSITORY_API"


def secret_allowed(integration: CatalogObject, secret: CatalogObject) -> bool:
    """Whether the integration's ALLOWED_AUTHENTICATION_SECRETS admits ``secret``."""
    allowed = integration.props["allowed_secrets"]
    if allowed == "ALL":
        return True
    if allowed == "NONE" or not allowed:
        return False
    return f"{secret.database}.{secret.schema}.{secret.name}" in allowed
