"""Egress (issue 5, item 1): repository connections are bound to the configured source address,
SYSTEM$GET_SNOWFLAKE_EGRESS_IP_RANGES publishes ranges that contain it, and a source outside the
published ranges is a configuration error when a connection is opened."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
from pathlib import Path

import pytest

import hoarfrost
from hoarfrost.errors import ConfigurationError
from tests.network.conftest import (
    CHAIN,
    IndexFactory,
    resolve,
    resolve_error,
    setup_repository,
    sql_value,
)

EGRESS = "SELECT SYSTEM$GET_SNOWFLAKE_EGRESS_IP_RANGES()"


def _ranges(con: hoarfrost.Connection, sql: str = EGRESS) -> list[dict[str, str | None]]:
    return list(json.loads(sql_value(con, sql)))


def test_repository_sees_only_the_source_address(
    tmp_path: Path, index_server: IndexFactory
) -> None:
    server = index_server("127.0.0.1")
    with hoarfrost.connect(
        ":memory:", cache_dir=tmp_path / "cache", egress_source_address="127.0.0.2"
    ) as con:
        setup_repository(con, server.url)
        assert resolve(con) == CHAIN
        ranges = _ranges(con)
    peers = {r.peer[0] for r in server.requests}
    assert server.requests and peers == {"127.0.0.2"}
    assert any(
        ipaddress.ip_address("127.0.0.2") in ipaddress.ip_network(str(r["ipv4_prefix"]))
        for r in ranges
    )


def test_without_a_source_address_the_default_route_is_used(
    tmp_path: Path, index_server: IndexFactory
) -> None:
    """The control of the test above: the same server tells the two addresses apart."""
    server = index_server("127.0.0.1")
    with hoarfrost.connect(":memory:", cache_dir=tmp_path / "cache") as con:
        setup_repository(con, server.url)
        assert resolve(con) == CHAIN
        with pytest.raises(hoarfrost.NotSupportedError, match="HOARFROST_EGRESS_SOURCE_ADDRESS"):
            con.execute(EGRESS)
    assert {r.peer[0] for r in server.requests} == {"127.0.0.1"}


def test_binding_is_enforced_across_address_families(
    tmp_path: Path, index_server: IndexFactory
) -> None:
    """Bound to ::1, an IPv4 repository cannot be reached: nothing leaves from another address."""
    server = index_server("127.0.0.1")
    with hoarfrost.connect(
        ":memory:", cache_dir=tmp_path / "cache", egress_source_address="::1"
    ) as con:
        setup_repository(con, server.url)
        error = resolve_error(con)
        assert _ranges(con) == [
            {"ipv6_prefix": "::1/128", "effective": _ranges(con)[0]["effective"], "expires": None}
        ]
    assert f"Could not reach {server.url}/simple/app/" in str(error)
    assert server.connections == 0


def test_published_ranges_with_dates(tmp_path: Path) -> None:
    ranges = "127.0.0.0/30@2025-01-01@2099-06-30T23:59:59Z,2001:db8::/64@2025-02-01T12:00:00+02:00"
    with hoarfrost.connect(
        ":memory:", egress_source_address="127.0.0.2", egress_ranges=ranges
    ) as con:
        expected = [
            {
                "ipv4_prefix": "127.0.0.0/30",
                "effective": "2025-01-01T00:00:00Z",
                "expires": "2099-06-30T23:59:59Z",
            },
            {"ipv6_prefix": "2001:db8::/64", "effective": "2025-02-01T10:00:00Z", "expires": None},
        ]
        assert _ranges(con) == expected
        for arg in ("'hideAnnotations'", "'TRUE'", "'false'", "TRUE", "FALSE"):
            assert _ranges(con, f"SELECT SYSTEM$GET_SNOWFLAKE_EGRESS_IP_RANGES({arg})") == expected
        with pytest.raises(hoarfrost.ProgrammingError, match="hideAnnotations"):
            con.execute("SELECT SYSTEM$GET_SNOWFLAKE_EGRESS_IP_RANGES('everything')")


def test_default_range_is_the_source_address_effective_from_start_up() -> None:
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    with hoarfrost.connect(":memory:", egress_source_address="127.0.0.2") as con:
        (only,) = _ranges(con)
    assert only["ipv4_prefix"] == "127.0.0.2/32" and only["expires"] is None
    effective = dt.datetime.strptime(str(only["effective"]), "%Y-%m-%dT%H:%M:%SZ")
    assert effective.replace(tzinfo=dt.timezone.utc) >= before


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"egress_source_address": "127.0.0.2", "egress_ranges": "10.0.0.0/8"},
            "HOARFROST_EGRESS_SOURCE_ADDRESS 127.0.0.2 is not inside the published egress ranges",
        ),
        (
            {
                "egress_source_address": "127.0.0.2",
                "egress_ranges": "127.0.0.0/30@2020-01-01@2021-01-01",
            },
            "none of them is in effect now",
        ),
        (
            {"egress_source_address": "127.0.0.2", "egress_ranges": "127.0.0.0/30@2099-01-01"},
            "none of them is in effect now",
        ),
        ({"egress_ranges": "127.0.0.0/30"}, "HOARFROST_EGRESS_SOURCE_ADDRESS is not"),
        ({"egress_source_address": "nexus.example.com"}, "is not an IP address"),
        ({"egress_source_address": "0.0.0.0"}, "cannot be a source address"),
        ({"egress_source_address": "192.0.2.77"}, "is not an address of this machine"),
        (
            {"egress_source_address": "127.0.0.2", "egress_ranges": "127.0.0.2/24"},
            "did you mean 127.0.0.0/24?",
        ),
        (
            {"egress_source_address": "127.0.0.2", "egress_ranges": "127.0.0.0/24@yesterday"},
            "is not ISO-8601",
        ),
        (
            {
                "egress_source_address": "127.0.0.2",
                "egress_ranges": "127.0.0.0/24@2025-02-01@2025-01-01",
            },
            "expires before it is effective",
        ),
    ],
)
def test_configuration_errors_at_start_up(settings: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("?", r"\?")):
        hoarfrost.connect(":memory:", **settings)


def test_environment_variables_are_checked_when_a_connection_opens(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOARFROST_EGRESS_SOURCE_ADDRESS", "127.0.0.2")
    monkeypatch.setenv("HOARFROST_EGRESS_RANGES", "127.0.0.4/30")
    with pytest.raises(ConfigurationError, match="not inside the published egress ranges"):
        hoarfrost.connect(tmp_path / "acct")
    monkeypatch.setenv("HOARFROST_EGRESS_RANGES", "127.0.0.0/30,127.0.0.4/30@2025-01-01")
    with hoarfrost.connect(tmp_path / "acct") as con:
        assert [r["ipv4_prefix"] for r in _ranges(con)] == ["127.0.0.0/30", "127.0.0.4/30"]
