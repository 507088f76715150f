"""The account's PACKAGES POLICY (SPEC.md section 5): which stored policy is in force, as a
:class:`~hoarfrost.packages.policy.Policy`."""

from __future__ import annotations

from hoarfrost.catalog.store import CatalogObject, CatalogStore
from hoarfrost.packages.policy import Policy

__all__ = ["POLICY_PARAM", "account_policy", "account_policy_object"]

# The account parameter that names the policy in force (db.schema.name).
POLICY_PARAM = "PACKAGES_POLICY"


def account_policy_object(catalog: CatalogStore) -> CatalogObject | None:
    value = catalog.get_param("ACCOUNT", "", POLICY_PARAM)
    if not value:
        return None
    db, schema, name = value.split(".", 2)
    return catalog.get("PACKAGES POLICY", db, schema, name)


def account_policy(catalog: CatalogStore) -> Policy | None:
    """The account's policy, or None when none is set (everything allowed)."""
    obj = account_policy_object(catalog)
    if obj is None:
        return None
    p = obj.props
    policy = Policy.from_strings(p["allowlist"], p["blocklist"], p["additional_creation_blocklist"])
    return Policy(
        policy.allowlist,
        policy.blocklist,
        policy.additional_creation_blocklist,
        version=f"{obj.database}.{obj.schema}.{obj.name}:{p.get('version', 1)}",
    )
