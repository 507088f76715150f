"""Private endpoints and routing (issue 5, items 2-4): editions, the ACCOUNTADMIN rule, host
validation, one endpoint per host, and integrations with USE_PRIVATELINK_ENDPOINT = TRUE whose
host does not resolve reaching a local repository only through a provisioned endpoint."""

from __future__ import annotations

import json
import re
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

import hoarfrost
from tests.conftest import PypiServerFactory
from tests.network.conftest import (
    CHAIN,
    PASSWORD,
    PL_HOST,
    USER,
    IndexFactory,
    resolve,
    resolve_error,
    setup_repository,
    sql_value,
)
from tests.support.tlsproxy import TlsProxy

PROVISION = "SELECT SYSTEM$PROVISION_PRIVATELINK_ENDPOINT(%s, %s)"
DEPROVISION = "SELECT SYSTEM$DEPROVISION_PRIVATELINK_ENDPOINT(%s)"
INFO = "SELECT SYSTEM$GET_PRIVATELINK_ENDPOINTS_INFO()"
SEED_PL = f"""CREATE OR REPLACE API INTEGRATION python_repo_integration_pl
  API_PROVIDER = ARTIFACT_REPOSITORY_API
  API_ALLOWED_PREFIXES = ('https://{PL_HOST}')
  USE_PRIVATELINK_ENDPOINT = TRUE
  ENABLED = TRUE"""


@pytest.fixture
def bc(tmp_path: Path) -> Iterator[hoarfrost.Connection]:
    with hoarfrost.connect(
        ":memory:", edition="BUSINESS_CRITICAL", cache_dir=tmp_path / "cache"
    ) as con:
        yield con


def _info(con: hoarfrost.Connection) -> list[dict[str, str]]:
    return list(json.loads(sql_value(con, INFO)))


def _provision(con: hoarfrost.Connection, service: str, host: str = PL_HOST) -> str:
    row = con.execute(PROVISION, [service, host]).fetchone()
    assert row is not None
    return str(row[0])


# -- editions and roles -----------------------------------------------------------------------
@pytest.mark.parametrize("edition", ["STANDARD", "ENTERPRISE"])
def test_private_link_needs_business_critical(edition: str) -> None:
    with hoarfrost.connect(":memory:", edition=edition) as con:
        assert con.execute("SHOW PARAMETERS LIKE 'EDITION' IN ACCOUNT").fetchone()[1] == edition  # type: ignore[index]
        with pytest.raises(hoarfrost.NotSupportedError) as info:
            con.execute(SEED_PL)
        assert "USE_PRIVATELINK_ENDPOINT = TRUE requires the Business Critical edition" in str(
            info.value
        )
        assert edition in str(info.value)
        con.execute(SEED_PL.replace("TRUE\n  ENABLED", "FALSE\n  ENABLED"))
        with pytest.raises(hoarfrost.NotSupportedError, match="Business Critical"):
            con.execute(
                "ALTER API INTEGRATION python_repo_integration_pl SET USE_PRIVATELINK_ENDPOINT = TRUE"
            )
        for sql, args in (
            (PROVISION, ["127.0.0.1:8443", PL_HOST]),
            (INFO, None),
            (DEPROVISION, ["127.0.0.1:8443"]),
        ):
            with pytest.raises(hoarfrost.NotSupportedError) as info:
                con.execute(sql, args)
            assert str(info.value).startswith("000002 (0A000): Unsupported feature: SYSTEM$")
            assert (
                f"requires the Business Critical edition (or higher); this account is {edition}"
                in str(info.value)
            )


def test_edition_is_chosen_when_the_account_is_created(tmp_path: Path) -> None:
    with hoarfrost.connect(":memory:") as con:
        row = con.execute("SHOW PARAMETERS LIKE 'EDITION' IN ACCOUNT").fetchone()
        assert row is not None and row[1:4] == ("ENTERPRISE", "ENTERPRISE", "ACCOUNT")
    with pytest.raises(hoarfrost.InterfaceError, match="'PLATINUM' is not an edition"):
        hoarfrost.connect(":memory:", edition="platinum")
    home = tmp_path / "acct"
    with hoarfrost.connect(home, edition="BUSINESS_CRITICAL") as con:
        _provision(con, "127.0.0.1:8443")
    with hoarfrost.connect(home, edition="STANDARD") as con:  # too late: the account exists
        row = con.execute("SHOW PARAMETERS LIKE 'EDITION' IN ACCOUNT").fetchone()
        assert row is not None and row[1] == "BUSINESS_CRITICAL"
        assert [e["host"] for e in _info(con)] == [PL_HOST]  # endpoints persist with the account


def test_endpoint_functions_need_accountadmin(bc: hoarfrost.Connection) -> None:
    bc.execute("CREATE ROLE dev")
    bc.execute("GRANT ROLE dev TO USER hoarfrost")
    bc.execute("USE ROLE dev")
    for sql, args in (
        (PROVISION, ["127.0.0.1:8443", PL_HOST]),
        (INFO, None),
        (DEPROVISION, ["127.0.0.1:8443"]),
    ):
        with pytest.raises(hoarfrost.ProgrammingError) as info:
            bc.execute(sql, args)
        assert str(info.value).startswith(
            "003001 (42501): SQL access control error:\nInsufficient privileges to operate on account: SYSTEM$"
        )
        assert "can only be called with the ACCOUNTADMIN role (current role DEV)" in str(info.value)
    bc.execute("USE ROLE ACCOUNTADMIN")
    assert _info(bc) == []


# -- provisioning -----------------------------------------------------------------------------
def test_provision_info_deprovision(bc: hoarfrost.Connection) -> None:
    message = _provision(bc, "127.0.0.1:8443", "Nexus-PL.Internal.Example.com.")
    assert message.startswith('Private endpoint with id "hfpe-')
    assert (
        f'to service "127.0.0.1:8443" for host "{PL_HOST}" has been provisioned successfully.'
        in message
    )
    _provision(bc, "[::1]:9443", "*.cdn.example.net")
    info = _info(bc)
    assert [
        (e["host"], e["provider_service_name"], e["endpoint_state"], e["status"]) for e in info
    ] == [
        ("*.cdn.example.net", "[::1]:9443", "CREATED", "Available"),
        (PL_HOST, "127.0.0.1:8443", "CREATED", "Available"),
    ]
    assert all(e["snowflake_endpoint_name"].startswith("hfpe-") for e in info)
    removed = sql_value(bc, "SELECT SYSTEM$DEPROVISION_PRIVATELINK_ENDPOINT('127.0.0.1:8443')")
    assert "has been deprovisioned successfully" in removed and PL_HOST in removed
    assert [e["host"] for e in _info(bc)] == ["*.cdn.example.net"]
    with pytest.raises(
        hoarfrost.ProgrammingError,
        match=re.escape(
            "No private connectivity endpoint with provider service name '127.0.0.1:8443'"
        ),
    ):
        bc.execute(DEPROVISION, ["127.0.0.1:8443"])


def test_one_endpoint_per_host(bc: hoarfrost.Connection) -> None:
    _provision(bc, "127.0.0.1:8443")
    with pytest.raises(hoarfrost.ProgrammingError) as info:
        _provision(bc, "127.0.0.1:9443", PL_HOST.upper())
    assert f"A private connectivity endpoint for host '{PL_HOST}' already exists" in str(info.value)
    assert "SYSTEM$DEPROVISION_PRIVATELINK_ENDPOINT('127.0.0.1:8443')" in str(info.value)
    # One private address may serve several hosts; naming the host removes only its endpoint.
    _provision(bc, "127.0.0.1:8443", "artifactory-pl.internal.example.com")
    bc.execute(
        "SELECT SYSTEM$DEPROVISION_PRIVATELINK_ENDPOINT('127.0.0.1:8443', 'artifactory-pl.internal.example.com')"
    )
    assert [e["host"] for e in _info(bc)] == [PL_HOST]


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("nexus-pl.internal.example.com:443", "the host name does not contain a port"),
        ("https://nexus-pl.internal.example.com", "not a URL"),
        ("nexus-pl.internal.example.com/simple", "not a URL"),
        ("10.1.2.3", "an IP address is not a host name"),
        ("[fd00::1]", "an IP address is not a host name"),
        ("", "it is empty"),
        ("-bad-.example.com", "labels are letters, digits and '-'"),
        ("a..example.com", "labels are letters, digits and '-'"),
        ("nexus_pl.example.com", "labels are letters, digits and '-'"),
        ("nex*us.example.com", "'*' is allowed only as the whole leftmost label"),
        ("a.*.example.com", "'*' is allowed only as the whole leftmost label"),
        ("*.com", "a wildcard needs a domain under it"),
        ("x" * 64 + ".example.com", "at most 63"),
        ("nexus.exämple.com", "xn--"),
    ],
)
def test_host_names_are_validated(bc: hoarfrost.Connection, host: str, message: str) -> None:
    with pytest.raises(hoarfrost.ProgrammingError) as info:
        _provision(bc, "127.0.0.1:8443", host)
    assert f"Invalid host name '{host}' for SYSTEM$PROVISION_PRIVATELINK_ENDPOINT" in str(
        info.value
    )
    assert message in str(info.value)
    assert _info(bc) == []


@pytest.mark.parametrize(
    ("service", "message"),
    [
        ("127.0.0.1", "the port is missing"),
        ("127.0.0.1:0", "the port must be a number from 1 to 65535"),
        ("127.0.0.1:65536", "the port must be a number from 1 to 65535"),
        ("127.0.0.1:https", "the port must be a number from 1 to 65535"),
        ("::1:443", "write an IPv6 address in brackets"),
        ("[nexus]:443", "is not an IPv6 address"),
        ("bad_host:443", "is not an address"),
        ("com.amazonaws.vpce.us-west-2.vpce-svc-0123", "the port is missing"),
    ],
)
def test_provider_services_are_validated(
    bc: hoarfrost.Connection, service: str, message: str
) -> None:
    with pytest.raises(hoarfrost.ProgrammingError) as info:
        _provision(bc, service)
    assert f"Invalid provider service name '{service}'" in str(info.value) and message in str(
        info.value
    )


# -- routing ----------------------------------------------------------------------------------
def _refused(error: hoarfrost.Error, host: str = PL_HOST) -> None:
    text = str(error)
    assert f"no private connectivity endpoint is provisioned for host '{host}'" in text
    assert f"Call SYSTEM$PROVISION_PRIVATELINK_ENDPOINT('<private address:port>', '{host}')" in text


def test_private_link_routes_to_a_pypiserver_only_once_provisioned(
    tmp_path: Path,
    pypiserver_factory: PypiServerFactory,
    wheels: Path,
    ca: trustme.CA,
    ca_pem: Path,
) -> None:
    """pypiserver behind a TLS proxy whose certificate names the private-link host."""
    server = pypiserver_factory(wheels, auth=(USER, PASSWORD))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(PL_HOST).configure_cert(ctx)
    with (
        TlsProxy(ctx, ("127.0.0.1", server.port)) as proxy,
        hoarfrost.connect(
            ":memory:", edition="BUSINESS_CRITICAL", cache_dir=tmp_path / "cache", ca_bundle=ca_pem
        ) as con,
    ):
        setup_repository(con, f"https://{PL_HOST}", privatelink=True)
        _refused(resolve_error(con))
        assert proxy.peers == []
        _provision(con, f"127.0.0.1:{proxy.port}")
        assert resolve(con) == CHAIN
        assert proxy.peers
        history = "SELECT url FROM TABLE(INFORMATION_SCHEMA.PACKAGE_FETCH_HISTORY())"
        urls = [r[0] for r in con.execute(history).fetchall()]
        assert urls and all(u.startswith(f"https://{PL_HOST}/") for u in urls)
        con.execute(DEPROVISION, [f"127.0.0.1:{proxy.port}"])
        seen = len(proxy.peers)
        _refused(resolve_error(con, "repo"))
        assert len(proxy.peers) == seen


def test_private_link_over_tls_keeps_the_host_name(
    tmp_path: Path, index_server: IndexFactory, ca_pem: Path
) -> None:
    server = index_server("127.0.0.1", tls_for=PL_HOST)
    with hoarfrost.connect(
        ":memory:",
        edition="BUSINESS_CRITICAL",
        cache_dir=tmp_path / "cache",
        ca_bundle=ca_pem,
        egress_source_address="127.0.0.2",
    ) as con:
        setup_repository(con, f"https://{PL_HOST}", privatelink=True)
        _refused(resolve_error(con))
        assert server.connections == 0  # refused before anything was sent
        _provision(con, f"127.0.0.1:{server.port}")
        assert resolve(con) == CHAIN
        assert {r.headers["host"] for r in server.requests} == {PL_HOST}
        assert {r.peer[0] for r in server.requests} == {"127.0.0.2"}
        con.execute(DEPROVISION, [f"127.0.0.1:{server.port}"])
        seen = len(server.requests)
        _refused(resolve_error(con, "repo"))
        assert len(server.requests) == seen


def test_tls_certificate_must_name_the_original_host(
    tmp_path: Path, index_server: IndexFactory, ca_pem: Path
) -> None:
    server = index_server("127.0.0.1", tls_for="other.internal.example.com")
    with hoarfrost.connect(
        ":memory:", edition="BUSINESS_CRITICAL", cache_dir=tmp_path / "cache", ca_bundle=ca_pem
    ) as con:
        setup_repository(con, f"https://{PL_HOST}", privatelink=True)
        _provision(con, f"127.0.0.1:{server.port}")
        error = resolve_error(con)
    assert "TLS certificate verification failed" in str(error)
    assert server.requests == []


def test_wildcard_endpoint(tmp_path: Path, index_server: IndexFactory, ca_pem: Path) -> None:
    server = index_server("127.0.0.1", tls_for=PL_HOST)
    with hoarfrost.connect(
        ":memory:", edition="BUSINESS_CRITICAL", cache_dir=tmp_path / "cache", ca_bundle=ca_pem
    ) as con:
        setup_repository(con, f"https://{PL_HOST}:8443", privatelink=True)
        _provision(con, f"127.0.0.1:{server.port}", "*.example.com")
        _provision(con, "127.0.0.1:9", "*.internal.example.com")  # more specific: wins
        assert "connection refused" in str(resolve_error(con))
        con.execute("SELECT SYSTEM$DEPROVISION_PRIVATELINK_ENDPOINT('127.0.0.1:9')")
        assert resolve(con) == CHAIN
    assert {r.headers["host"] for r in server.requests} == {f"{PL_HOST}:8443"}


def test_integration_without_private_link_never_uses_an_endpoint(
    bc: hoarfrost.Connection, index_server: IndexFactory
) -> None:
    public = index_server("127.0.0.1")
    private = index_server("127.0.0.3")
    setup_repository(bc, f"http://localhost:{public.port}")  # localhost: /etc/hosts, no DNS
    _provision(bc, f"127.0.0.3:{private.port}", "localhost")
    assert resolve(bc) == CHAIN
    assert public.requests and private.connections == 0
    # The same integration switched to private link goes to the endpoint instead.
    bc.execute("ALTER API INTEGRATION repo_int SET USE_PRIVATELINK_ENDPOINT = TRUE")
    before = len(public.requests)
    assert resolve(bc, specs="('mid==1.0')") == ["leaf==2.0", "mid==1.0"]
    assert private.requests and len(public.requests) == before
