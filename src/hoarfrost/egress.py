"""Egress settings: the source address repository connections are bound to, and the ranges
published by ``SYSTEM$GET_SNOWFLAKE_EGRESS_IP_RANGES()`` (SPEC.md section 8, issue 5).

Settings (declared in :mod:`hoarfrost.config`):

* ``HOARFROST_EGRESS_SOURCE_ADDRESS``: one IPv4 or IPv6 address of this machine. Every
  connection the gateway opens to a repository is bound to it (a destination of the other
  address family cannot be reached then, which is the point: no traffic from elsewhere).
* ``HOARFROST_EGRESS_RANGES``: ``cidr[@effective[@expires]],...`` -- e.g.
  ``203.0.113.0/28@2025-01-01@2026-06-30T23:59:59Z,2001:db8::/64``. Dates are ISO-8601 (a date
  alone is midnight UTC; no zone means UTC). No effective date: in effect from start-up; no
  expiry: ``"expires": null``. Unset: the /32 (or /128) of the source address, in effect from
  start-up, no expiry.

:func:`check_egress` runs when settings are resolved, i.e. when a connection is opened: a source
address that is not an address of this machine, or that is not inside a range in effect, is a
:class:`~hoarfrost.errors.ConfigurationError` then, not a puzzling failure at the first fetch.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
from dataclasses import dataclass
from typing import Any

from hoarfrost.errors import ConfigurationError

__all__ = [
    "EgressRange",
    "EgressRanges",
    "check_egress",
    "parse_egress_ranges",
    "parse_source_address",
]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_SOURCE = "HOARFROST_EGRESS_SOURCE_ADDRESS"
_RANGES = "HOARFROST_EGRESS_RANGES"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def iso_z(when: dt.datetime) -> str:
    """``2025-06-30T23:59:59Z``: the reference's spelling of a UTC instant."""
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class EgressRange:
    network: IPNetwork
    effective: dt.datetime
    expires: dt.datetime | None = None

    def in_effect(self, at: dt.datetime) -> bool:
        return self.effective <= at and (self.expires is None or at < self.expires)

    def as_json(self) -> dict[str, Any]:
        key = "ipv4_prefix" if self.network.version == 4 else "ipv6_prefix"
        return {
            key: str(self.network),
            "effective": iso_z(self.effective),
            "expires": None if self.expires is None else iso_z(self.expires),
        }

    def __str__(self) -> str:
        text = f"{self.network}@{iso_z(self.effective)}"
        return text if self.expires is None else f"{text}@{iso_z(self.expires)}"


@dataclass(frozen=True)
class EgressRanges:
    """The published ranges; ``derived`` when they are the default made from the source."""

    ranges: tuple[EgressRange, ...]
    derived: bool = False

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.ranges)

    def as_json(self) -> list[dict[str, Any]]:
        return [r.as_json() for r in self.ranges]


def parse_source_address(text: str) -> str | None:
    """A canonical IP address, or None for an empty value (unset)."""
    raw = text.strip()
    if not raw:
        return None
    try:
        address = ipaddress.ip_address(raw.removeprefix("[").removesuffix("]"))
    except ValueError:
        raise ConfigurationError(
            f"{_SOURCE} '{raw}' is not an IP address; give one IPv4 or IPv6 address of this "
            "machine, e.g. 192.0.2.10 or 2001:db8::10."
        ) from None
    if address.is_unspecified or address.is_multicast:
        raise ConfigurationError(
            f"{_SOURCE} '{raw}' cannot be a source address: give one address of this machine "
            "that repository connections are bound to."
        )
    return str(address)


def _instant(text: str, what: str, item: str) -> dt.datetime:
    t = text.strip()
    if t.endswith(("Z", "z")):
        t = t[:-1] + "+00:00"
    try:
        if len(t) == 10:
            when = dt.datetime.combine(dt.date.fromisoformat(t), dt.time())
        else:
            when = dt.datetime.fromisoformat(t)
    except ValueError:
        raise ConfigurationError(
            f"{_RANGES}: the {what} date '{text}' of '{item}' is not ISO-8601; use e.g. "
            "2026-06-30 or 2026-06-30T23:59:59Z."
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc)


def parse_egress_ranges(text: str, *, now: dt.datetime | None = None) -> EgressRanges | None:
    """``cidr[@effective[@expires]],...``; None for an empty value (unset)."""
    now = now or _now()
    items = [i.strip() for i in text.split(",")]
    if not any(items):
        return None
    out = []
    for item in items:
        if not item:
            raise ConfigurationError(f"{_RANGES} has an empty item; separate ranges with ','.")
        parts = item.split("@")
        if len(parts) > 3:
            raise ConfigurationError(
                f"{_RANGES}: '{item}' has too many '@'; the form is cidr[@effective[@expires]]."
            )
        cidr = parts[0].strip()
        try:
            network = ipaddress.ip_network(cidr, strict=True)
        except ValueError as exc:
            hint = ""
            try:
                hint = f" (did you mean {ipaddress.ip_network(cidr, strict=False)}?)"
            except ValueError:
                pass
            raise ConfigurationError(
                f"{_RANGES}: '{cidr}' is not a CIDR range{hint}: {exc}."
            ) from None
        effective = now
        if len(parts) > 1 and parts[1].strip():
            effective = _instant(parts[1], "effective", item)
        expires = None
        if len(parts) > 2 and parts[2].strip():
            expires = _instant(parts[2], "expires", item)
            if expires <= effective:
                raise ConfigurationError(f"{_RANGES}: '{item}' expires before it is effective.")
        out.append(EgressRange(network, effective, expires))
    return EgressRanges(tuple(out))


def check_egress(values: dict[str, Any], *, now: dt.datetime | None = None) -> None:
    """Cross-check the two egress settings in resolved ``values``; fill in the default ranges.

    Raises :class:`ConfigurationError` when ranges are published without a source address, when
    the source is not an address of this machine, or when no range in effect contains it.
    """
    now = now or _now()
    source = values.get("egress_source_address")
    ranges = values.get("egress_ranges")
    if isinstance(source, str):
        source = parse_source_address(source)
    elif source is not None:
        source = parse_source_address(str(source))
    if isinstance(ranges, str):
        ranges = parse_egress_ranges(ranges, now=now)
    if isinstance(ranges, EgressRanges) and ranges.derived:
        ranges = None
    values["egress_source_address"] = source
    if source is None:
        if ranges is not None:
            raise ConfigurationError(
                f"{_RANGES} is set but {_SOURCE} is not: published egress ranges must contain "
                "the address repository connections are bound to. Set "
                f"{_SOURCE} to an address of this machine inside {ranges}."
            )
        values["egress_ranges"] = None
        return
    _check_local(source)
    address = ipaddress.ip_address(source)
    if ranges is None:
        network = ipaddress.ip_network(f"{address}/{address.max_prefixlen}")
        values["egress_ranges"] = EgressRanges((EgressRange(network, now),), derived=True)
        return
    assert isinstance(ranges, EgressRanges)
    containing = [r for r in ranges.ranges if address in r.network]
    if not containing:
        raise ConfigurationError(
            f"{_SOURCE} {source} is not inside the published egress ranges ({ranges}): "
            "customers' firewalls allow those ranges only. Add a range containing it to "
            f"{_RANGES}, or bind to an address inside them."
        )
    if not any(r.in_effect(now) for r in containing):
        raise ConfigurationError(
            f"{_SOURCE} {source} is inside published egress ranges, but none of them is in "
            f"effect now ({iso_z(now)}): {', '.join(str(r) for r in containing)}. Publish a "
            f"range in effect in {_RANGES}."
        )
    values["egress_ranges"] = ranges


def _check_local(source: str) -> None:
    """The source must be an address of this machine (bindable), checked once at start-up."""
    family = socket.AF_INET6 if ":" in source else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.bind((source, 0))
    except OSError as exc:
        raise ConfigurationError(
            f"{_SOURCE} {source} is not an address of this machine; repository connections "
            f"cannot be bound to it ({exc.strerror or exc})."
        ) from None
