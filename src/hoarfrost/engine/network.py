"""The network path of repository traffic (SPEC.md section 8, issue 5).

* ``SYSTEM$GET_SNOWFLAKE_EGRESS_IP_RANGES([hideAnnotations])``: the published ranges of
  :mod:`hoarfrost.egress` as the reference's JSON. They are true statements: every connection the
  gateway opens is bound to ``HOARFROST_EGRESS_SOURCE_ADDRESS`` (:func:`gateway_options`), and
  start-up refuses a source address outside the ranges.
* ``SYSTEM$PROVISION_PRIVATELINK_ENDPOINT('<address:port>', '<host>')``,
  ``SYSTEM$GET_PRIVATELINK_ENDPOINTS_INFO()`` and
  ``SYSTEM$DEPROVISION_PRIVATELINK_ENDPOINT('<address:port>'[, '<host>'])``: Business Critical
  edition and the ACCOUNTADMIN role. [engine] The provider service name is the private address
  (``ip:port``, ``[ipv6]:port`` or ``host:port``) that connections for the host are sent to; the
  original host stays the TLS server name and the ``Host`` header. One endpoint per host; a host
  may be a wildcard (``*.example.com``: any host strictly under it; the most specific wins).
  Endpoints are catalog objects of kind ``PRIVATELINK ENDPOINT`` (account level).
* Routing: for an integration with ``USE_PRIVATELINK_ENDPOINT = TRUE`` every connection goes to
  the endpoint of its host, and a host without one is refused before anything is sent, with an
  error naming the host and the function to call. Other integrations never use an endpoint.
"""

from __future__ import annotations

import ipaddress
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hoarfrost.catalog.store import CatalogObject
from hoarfrost.egress import EgressRanges
from hoarfrost.engine.context import Context, SystemFunction
from hoarfrost.errors import (
    InsufficientPrivileges,
    InvalidValue,
    ObjectAlreadyExists,
    ObjectNotFound,
    RepositoryError,
    UnsupportedFeature,
)

__all__ = [
    "ENDPOINT_KIND",
    "SYSTEM_FUNCTIONS",
    "PrivateRoutes",
    "gateway_options",
    "parse_host_name",
    "parse_provider_service",
]

ENDPOINT_KIND = "PRIVATELINK ENDPOINT"
PROVISION = "SYSTEM$PROVISION_PRIVATELINK_ENDPOINT"
DEPROVISION = "SYSTEM$DEPROVISION_PRIVATELINK_ENDPOINT"
INFO = "SYSTEM$GET_PRIVATELINK_ENDPOINTS_INFO"
EGRESS = "SYSTEM$GET_SNOWFLAKE_EGRESS_IP_RANGES"
PRIVATE_EDITIONS = ("BUSINESS_CRITICAL",)

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


# -- argument checks --------------------------------------------------------------------------
def _arity(name: str, args: list[str], low: int, high: int, usage: str) -> None:
    if not low <= len(args) <= high:
        raise InvalidValue(
            f"SQL compilation error:\n{name} takes {low if low == high else f'{low} to {high}'} "
            f"argument(s), got {len(args)}: {name}({usage})."
        )


def _require_private_link(session: Context, function: str) -> None:
    """Business Critical (or higher) first, then the ACCOUNTADMIN role."""
    edition = session.engine.edition
    if edition not in PRIVATE_EDITIONS:
        raise UnsupportedFeature(
            f"Unsupported feature: {function} requires the Business Critical edition (or "
            f"higher); this account is {edition}. Private connectivity endpoints are not "
            "available (an account's edition is chosen when it is created: "
            "HOARFROST_EDITION=BUSINESS_CRITICAL)."
        )
    if session.role != "ACCOUNTADMIN":
        raise InsufficientPrivileges(
            "SQL access control error:\nInsufficient privileges to operate on account: "
            f"{function} can only be called with the ACCOUNTADMIN role (current role "
            f"{session.role}). Run USE ROLE ACCOUNTADMIN."
        )


def _valid_dns_name(name: str) -> bool:
    return len(name) <= 253 and all(_LABEL.fullmatch(label) for label in name.split("."))


def parse_host_name(text: str) -> str:
    """A fully qualified host name without port (``*.`` allowed as the leftmost label),
    lower-cased and without a trailing dot."""
    raw = text.strip()
    host = raw.lower().removesuffix(".")
    where = f"Invalid host name '{raw}' for {PROVISION}"
    if not host:
        raise InvalidValue(f"{where}: it is empty; give the repository's host name.")
    if "://" in host or "/" in host or "@" in host or "?" in host or "#" in host:
        raise InvalidValue(
            f"{where}: give the host name only, as in 'nexus-pl.internal.example.com', not a URL."
        )
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        raise InvalidValue(
            f"{where}: an IP address is not a host name; private endpoints map the host name "
            "of the repository's URLs."
        )
    if ":" in host:
        raise InvalidValue(
            f"{where}: the host name does not contain a port. The private address and port go "
            "in the first argument, e.g. ('10.0.0.5:443', 'nexus-pl.internal.example.com')."
        )
    name = host.removeprefix("*.")
    if not host.isascii() or "*" in name or not _valid_dns_name(name):
        raise InvalidValue(
            f"{where}: labels are letters, digits and '-' (not at either end), at most 63 "
            "characters each; '*' is allowed only as the whole leftmost label, as in "
            "'*.example.com'; non-ASCII names go in their xn-- form."
        )
    if host.startswith("*.") and "." not in name:
        raise InvalidValue(f"{where}: a wildcard needs a domain under it, as in '*.example.com'.")
    return host


@dataclass(frozen=True)
class ProviderService:
    text: str  # as given (stripped): what the user names the endpoint by
    address: str  # IP address or host name connections go to
    port: int

    @property
    def key(self) -> str:
        """Canonical form, so '10.0.0.5:443' and '10.0.0.5:0443' are the same service."""
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"


def parse_provider_service(text: str) -> ProviderService:
    """``ip:port``, ``[ipv6]:port`` or ``host:port``: where the host's connections are sent."""
    raw = text.strip()
    where = f"Invalid provider service name '{raw}' for {PROVISION}"
    usage = (
        "it is the private address and port that connections for the host are sent to, "
        "e.g. '10.0.0.5:443', '[fd00::5]:443' or 'nexus-pl.vpce.internal:8443'"
    )
    if raw.startswith("["):
        address, sep, port_text = raw[1:].partition("]:")
        if not sep:
            raise InvalidValue(f"{where}: {usage}.")
        try:
            address = str(ipaddress.IPv6Address(address))
        except ValueError:
            raise InvalidValue(f"{where}: '{address}' is not an IPv6 address; {usage}.") from None
    else:
        address, sep, port_text = raw.rpartition(":")
        if not sep or not address:
            raise InvalidValue(f"{where}: the port is missing; {usage}.")
        if ":" in address:
            raise InvalidValue(f"{where}: write an IPv6 address in brackets; {usage}.")
        address = address.lower()
        try:
            address = str(ipaddress.IPv4Address(address))
        except ValueError:
            if not address.isascii() or not _valid_dns_name(address.removesuffix(".")):
                raise InvalidValue(f"{where}: '{address}' is not an address; {usage}.") from None
            address = address.removesuffix(".")
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise InvalidValue(f"{where}: the port must be a number from 1 to 65535; {usage}.")
    return ProviderService(raw, address, int(port_text))


# -- endpoints --------------------------------------------------------------------------------
def _endpoints(session: Context) -> list[CatalogObject]:
    return session.catalog.list(ENDPOINT_KIND, "", "")


def provision(session: Context, args: list[str]) -> str:
    _arity(PROVISION, args, 2, 2, "'<private address:port>', '<host name>'")
    _require_private_link(session, PROVISION)
    service = parse_provider_service(args[0])
    host = parse_host_name(args[1])
    catalog = session.catalog
    with catalog.transaction():
        existing = catalog.get(ENDPOINT_KIND, "", "", host)
        if existing is not None:
            other = existing.props["provider_service_name"]
            raise ObjectAlreadyExists(
                f"A private connectivity endpoint for host '{host}' already exists (provider "
                f"service '{other}'); one endpoint per host. Call {DEPROVISION}('{other}') "
                "first to replace it."
            )
        endpoint_id = "hfpe-" + secrets.token_hex(8)
        obj = CatalogObject(ENDPOINT_KIND, "", "", host, owner=session.role)
        obj.props = {
            "provider_service_name": service.text,
            "service_key": service.key,
            "address": service.address,
            "port": service.port,
            "endpoint_id": endpoint_id,
        }
        catalog.put(obj)
    return (
        f'Private endpoint with id "{endpoint_id}" to service "{service.text}" for host '
        f'"{host}" has been provisioned successfully.'
    )


def endpoints_info(session: Context, args: list[str]) -> str:
    _arity(INFO, args, 0, 0, "")
    _require_private_link(session, INFO)
    rows = [
        {
            "provider_service_name": e.props["provider_service_name"],
            "snowflake_endpoint_name": e.props["endpoint_id"],
            "endpoint_state": "CREATED",
            "host": e.name,
            "status": "Available",
        }
        for e in _endpoints(session)
    ]
    return json.dumps(rows)


def deprovision(session: Context, args: list[str]) -> str:
    _arity(DEPROVISION, args, 1, 2, "'<private address:port>'[, '<host name>']")
    _require_private_link(session, DEPROVISION)
    raw = args[0].strip()
    try:
        key = parse_provider_service(raw).key
    except InvalidValue:
        key = None
    host = parse_host_name(args[1]) if len(args) == 2 else None
    catalog = session.catalog
    with catalog.transaction():
        matching = [
            e
            for e in _endpoints(session)
            if (e.props["provider_service_name"] == raw or e.props["service_key"] == key)
            and (host is None or e.name == host)
        ]
        if not matching:
            for_host = f" for host '{host}'" if host else ""
            raise ObjectNotFound(
                f"No private connectivity endpoint with provider service name '{raw}'"
                f"{for_host} is provisioned; {INFO}() lists them."
            )
        for endpoint in matching:
            catalog.delete(endpoint)
    ids = ", ".join(f'"{e.props["endpoint_id"]}"' for e in matching)
    hosts = ", ".join(f'"{e.name}"' for e in matching)
    service = matching[0].props["provider_service_name"]
    return (
        f'Private endpoint with id {ids} to service "{service}" for host {hosts} has been '
        "deprovisioned successfully."
    )


class PrivateRoutes:
    """``endpoint_for`` of a private-link integration's gateway: host -> (address, port), or a
    refusal naming the host and the function to call. Built from the endpoints provisioned when
    the gateway was created."""

    def __init__(self, integration: str, endpoints: Mapping[str, tuple[str, int]]):
        self.integration = integration
        self.endpoints = dict(endpoints)

    def __call__(self, host: str) -> tuple[str, int] | None:
        host = host.lower().removesuffix(".")
        found = self.endpoints.get(host)
        if found is None:
            wildcards = [h for h in self.endpoints if h.startswith("*.") and host.endswith(h[1:])]
            if wildcards:
                found = self.endpoints[max(wildcards, key=len)]
        if found is None:
            raise RepositoryError(
                f"API integration {self.integration} has USE_PRIVATELINK_ENDPOINT = TRUE, but no "
                f"private connectivity endpoint is provisioned for host '{host}'; the connection "
                f"was refused (nothing was sent). Call {PROVISION}('<private address:port>', "
                f"'{host}') as ACCOUNTADMIN.",
                http_status=502,
            )
        return found


def gateway_options(session: Context, integration: CatalogObject) -> dict[str, Any]:
    """The network hook of :class:`hoarfrost.engine.resolution.PackageManager`: bind every
    connection to the egress source address; route a private-link integration's connections
    to its hosts' endpoints."""
    options: dict[str, Any] = {}
    source = session.engine.settings.egress_source_address
    if source:
        options["source_address"] = source
    if integration.props.get("use_privatelink_endpoint"):
        endpoints = {e.name: (e.props["address"], e.props["port"]) for e in _endpoints(session)}
        options["endpoint_for"] = PrivateRoutes(integration.name, endpoints)
    return options


# -- egress -----------------------------------------------------------------------------------
_HIDE = {"HIDEANNOTATIONS", "TRUE", "FALSE", "1", "0"}


def egress_ranges(session: Context, args: list[str]) -> str:
    _arity(EGRESS, args, 0, 1, "['hideAnnotations']")
    if args and args[0].strip().upper() not in _HIDE:
        raise InvalidValue(
            f"SQL compilation error:\ninvalid argument '{args[0]}' for {EGRESS}: the only "
            "argument is hideAnnotations (TRUE or FALSE)."
        )
    ranges = session.engine.settings.egress_ranges
    if not isinstance(ranges, EgressRanges):
        raise UnsupportedFeature(
            f"{EGRESS}: no egress IP ranges are published because repository connections are "
            "not bound to a source address. Set HOARFROST_EGRESS_SOURCE_ADDRESS (and optionally "
            "HOARFROST_EGRESS_RANGES) to have outbound repository traffic come from known "
            "addresses."
        )
    # [engine] hoarfrost adds no annotations (such as Azure's "usage"), so hideAnnotations
    # changes nothing: the output is always the plain list.
    return json.dumps(ranges.as_json())


SYSTEM_FUNCTIONS: dict[str, SystemFunction] = {
    EGRESS: egress_ranges,
    PROVISION: provision,
    INFO: endpoints_info,
    DEPROVISION: deprovision,
}
