"""The connection layer against real loopback servers: prefixes before connecting, redirects,
credentials by origin, TLS, limits, error mapping, and the issue-5 hooks."""

from __future__ import annotations

import pickle
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from hoarfrost.config import Settings
from hoarfrost.errors import RepositoryError
from hoarfrost.packages.credentials import Credentials
from hoarfrost.packages.fetch import Fetcher
from hoarfrost.packages.prefixes import PrefixSet
from tests.packages.conftest import PASSWORD, USER
from tests.support.hostile import HostileServer, Reply

CREDS = Credentials.basic(USER, PASSWORD)


def fetcher(index: str, allowed: list[str], gw_settings: Settings, **kw: object) -> Fetcher:
    return Fetcher(index, PrefixSet.from_lists(allowed), settings=gw_settings, **kw)  # type: ignore[arg-type]


def refused(excinfo: pytest.ExceptionInfo[RepositoryError]) -> str:
    msg = excinfo.value.msg
    assert PASSWORD not in msg and PASSWORD not in str(excinfo.value)
    return msg


# -- credentials --------------------------------------------------------------------------------


def test_credentials_are_masked_and_not_picklable() -> None:
    basic, bearer = Credentials.basic("bob", "hunter2"), Credentials.bearer("tok-123")
    for c in (basic, bearer):
        assert "hunter2" not in repr(c) and "tok-123" not in str(c) and "****" in repr(c)
        with pytest.raises(TypeError):
            pickle.dumps(c)
    assert basic.header() == "Basic Ym9iOmh1bnRlcjI="
    assert bearer.header() == "Bearer tok-123"
    assert basic.scrub("x hunter2 Ym9iOmh1bnRlcjI= y") == "x **** **** y"
    with pytest.raises(ValueError):
        Credentials.basic("bob", "a\r\nX-Evil: 1")


# -- prefixes and redirects -------------------------------------------------------------------


def test_first_url_outside_prefixes_is_400_without_connecting(
    gw_settings: Settings, second_host: HostileServer
) -> None:
    f = fetcher("http://127.0.0.1:1/simple/", ["http://127.0.0.1:1/simple/"], gw_settings)
    with pytest.raises(RepositoryError) as exc:
        f.get_page(f"{second_host.url}/simple/x/", accept="*/*")
    assert exc.value.http_status == 400
    assert second_host.url in refused(exc) and "allowed prefixes" in exc.value.msg
    assert second_host.connections == 0


def test_url_with_credentials_is_refused(gw_settings: Settings, auth_index: HostileServer) -> None:
    f = fetcher(f"{auth_index.url}/simple/", [auth_index.url], gw_settings)
    with pytest.raises(RepositoryError) as exc:
        f.get_page(f"http://{USER}:{PASSWORD}@127.0.0.1:{auth_index.port}/simple/", accept="*/*")
    assert exc.value.http_status == 400 and "credentials" in refused(exc)
    assert auth_index.connections == 0


def test_redirect_to_a_host_outside_prefixes_is_403_without_contacting_it(
    gw_settings: Settings, auth_index: HostileServer, second_host: HostileServer
) -> None:
    auth_index.route("/simple/x/", Reply(302, headers={"Location": f"{second_host.url}/x/"}))
    f = fetcher(f"{auth_index.url}/simple/", [auth_index.url], gw_settings, credentials=CREDS)
    with pytest.raises(RepositoryError) as exc:
        f.get_page(f"{auth_index.url}/simple/x/", accept="*/*")
    assert exc.value.http_status == 403
    assert f"{second_host.url}/x/" in refused(exc)
    assert second_host.connections == 0


def test_redirect_to_an_allowed_host_sends_it_no_credentials(
    gw_settings: Settings, auth_index: HostileServer, second_host: HostileServer
) -> None:
    auth_index.route("/simple/x/", Reply(302, headers={"Location": f"{second_host.url}/cdn/x/"}))
    second_host.route("/cdn/x/", Reply(body=b"<a href='x-1.0-py3-none-any.whl'>x</a>"))
    allowed = [auth_index.url, f"{second_host.url}/cdn/"]
    f = fetcher(f"{auth_index.url}/simple/", allowed, gw_settings, credentials=CREDS)
    page = f.get_page(f"{auth_index.url}/simple/x/", accept="*/*")
    assert page.url == f"{second_host.url}/cdn/x/" and b"x-1.0" in page.body
    assert auth_index.requests[0].headers["authorization"] == CREDS.header()
    assert [r.path for r in second_host.requests] == ["/cdn/x/"]
    assert "authorization" not in second_host.requests[0].headers
    assert all("cookie" not in r.headers for r in second_host.requests)


def test_same_origin_redirect_keeps_credentials(
    gw_settings: Settings, auth_index: HostileServer
) -> None:
    auth_index.route("/simple/x", Reply(301, headers={"Location": "/simple/x/"}))
    auth_index.route("/simple/x/", Reply(body=b"ok"))
    f = fetcher(f"{auth_index.url}/simple/", [auth_index.url], gw_settings, credentials=CREDS)
    assert f.get_page(f"{auth_index.url}/simple/x", accept="*/*").body == b"ok"
    assert [r.headers.get("authorization") for r in auth_index.requests] == [CREDS.header()] * 2


def test_redirect_loop_is_502(gw_settings: Settings, second_host: HostileServer) -> None:
    second_host.route("/a", Reply(302, headers={"Location": "/b"}))
    second_host.route("/b", Reply(302, headers={"Location": "/a"}))
    f = fetcher(f"{second_host.url}/", [second_host.url], gw_settings)
    with pytest.raises(RepositoryError) as exc:
        f.get_page(f"{second_host.url}/a", accept="*/*")
    assert exc.value.http_status == 502 and "loop" in refused(exc)
    assert len(second_host.requests) == 2


@pytest.mark.parametrize(("hops", "ok"), [(20, True), (21, False)])
def test_at_most_20_redirects(
    gw_settings: Settings, second_host: HostileServer, hops: int, ok: bool
) -> None:
    for i in range(hops):
        second_host.route(f"/r{i}", Reply(307, headers={"Location": f"/r{i + 1}"}))
    second_host.route(f"/r{hops}", Reply(body=b"end"))
    f = fetcher(f"{second_host.url}/", [second_host.url], gw_settings)
    if ok:
        assert f.get_page(f"{second_host.url}/r0", accept="*/*").body == b"end"
        return
    with pytest.raises(RepositoryError) as exc:
        f.get_page(f"{second_host.url}/r0", accept="*/*")
    assert exc.value.http_status == 502 and "More than 20 redirects" in exc.value.msg
    assert len(second_host.requests) == 21


# -- auth_index statuses and network failures -------------------------------------------------


@pytest.mark.parametrize(
    ("status", "creds", "expected", "text"),
    [
        (401, True, 401, "Authentication failed. Please check your credentials."),
        (403, True, 401, "Authentication failed. Please check your credentials."),
        (401, False, 401, "AUTHENTICATION_SECRET"),
        (403, False, 403, "forbidden"),
        (404, True, 404, "Not found"),
        (500, True, 502, "HTTP 500"),
    ],
)
def test_upstream_statuses_map_to_spec(
    gw_settings: Settings,
    second_host: HostileServer,
    status: int,
    creds: bool,
    expected: int,
    text: str,
) -> None:
    second_host.route("/simple/x/", Reply(status, b"no"))
    kw = {"credentials": CREDS} if creds else {}
    f = fetcher(f"{second_host.url}/simple/", [second_host.url], gw_settings, **kw)
    with pytest.raises(RepositoryError) as exc:
        f.get_page(f"{second_host.url}/simple/x/", accept="*/*")
    assert exc.value.http_status == expected
    assert len(second_host.requests) == (3 if status >= 500 else 1)  # 5xx: retried twice
    assert text in refused(exc) and f"{second_host.url}/simple/x/" in exc.value.msg


def test_transient_failures_are_retried(gw_settings: Settings, second_host: HostileServer) -> None:
    answers = iter([Reply(503), Reply(502), Reply(body=b"third time")])
    second_host.route("/flaky", lambda _rec: next(answers))
    f = fetcher(f"{second_host.url}/", [second_host.url], gw_settings)
    assert f.get_page(f"{second_host.url}/flaky", accept="*/*").body == b"third time"
    assert len(second_host.requests) == 3


@pytest.mark.parametrize("declared", [True, False])
def test_oversized_page_is_502(
    gw_settings: Settings, second_host: HostileServer, declared: bool
) -> None:
    second_host.route("/big", Reply(body=b"<a>" * 40_000, content_length=declared))
    f = fetcher(f"{second_host.url}/", [second_host.url], gw_settings)
    with pytest.raises(RepositoryError) as exc:
        f.get_page(f"{second_host.url}/big", accept="*/*")
    assert exc.value.http_status == 502 and "larger than the limit" in exc.value.msg


def test_timeout_is_502(gw_settings: Settings, second_host: HostileServer) -> None:
    second_host.route("/slow", Reply(body=b"late", delay=1.0))
    f = fetcher(f"{second_host.url}/", [second_host.url], gw_settings.with_values(http_timeout=0.2))
    with pytest.raises(RepositoryError) as exc:
        f.get_page(f"{second_host.url}/slow", accept="*/*")
    assert exc.value.http_status == 502 and "timed out" in exc.value.msg


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_refused_is_502(gw_settings: Settings) -> None:
    url = f"http://127.0.0.1:{free_port()}/simple/"
    with pytest.raises(RepositoryError) as exc:
        fetcher(url, [url], gw_settings).get_page(url, accept="*/*")
    assert exc.value.http_status == 502 and "refused" in exc.value.msg and url in exc.value.msg


def test_dns_failure_is_502(gw_settings: Settings) -> None:
    url = "https://no-such-host.invalid/simple/"
    with pytest.raises(RepositoryError) as exc:
        fetcher(url, [url], gw_settings).get_page(url, accept="*/*")
    assert exc.value.http_status == 502 and "DNS" in exc.value.msg


# -- TLS and the issue-5 hooks ------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server(ca: trustme.CA) -> Iterator[HostileServer]:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "nexus-pl.internal.example.com").configure_cert(ctx)
    with HostileServer("127.0.0.1", ssl_context=ctx) as server:
        server.route("/simple/x/", Reply(body=b"secure"))
        yield server


def test_tls_is_verified_with_system_cas_or_the_ca_bundle(
    gw_settings: Settings, tls_server: HostileServer, ca: trustme.CA, tmp_path: Path
) -> None:
    url = f"{tls_server.url}/simple/x/"
    with pytest.raises(RepositoryError) as exc:
        fetcher(url, [tls_server.url], gw_settings).get_page(url, accept="*/*")
    assert exc.value.http_status == 502 and "TLS" in exc.value.msg and url in exc.value.msg
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    trusted = gw_settings.with_values(ca_bundle=pem)
    assert fetcher(url, [tls_server.url], trusted).get_page(url, accept="*/*").body == b"secure"


def test_endpoint_for_connects_elsewhere_but_keeps_host_for_tls_and_header(
    gw_settings: Settings, tls_server: HostileServer, ca: trustme.CA, tmp_path: Path
) -> None:
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    host = "nexus-pl.internal.example.com"  # does not resolve: only the mapping reaches it
    url = f"https://{host}/simple/x/"
    routes = {host: ("127.0.0.1", tls_server.port)}
    f = fetcher(
        url, [f"https://{host}"], gw_settings.with_values(ca_bundle=pem), endpoint_for=routes.get
    )
    assert f.get_page(url, accept="*/*").body == b"secure"
    assert tls_server.requests[0].headers["host"] == host

    def refuse(h: str) -> tuple[str, int] | None:
        raise RepositoryError(f"no private endpoint for {h}", http_status=502)

    g = fetcher(
        url, [f"https://{host}"], gw_settings.with_values(ca_bundle=pem), endpoint_for=refuse
    )
    with pytest.raises(RepositoryError, match="no private endpoint for nexus-pl"):
        g.get_page(url, accept="*/*")


def test_source_address_binds_outgoing_connections(gw_settings: Settings) -> None:
    with HostileServer("127.0.0.1") as server:
        server.route("/x", Reply(body=b"hi"))
        f = fetcher(f"{server.url}/", [server.url], gw_settings, source_address="127.0.0.2")
        assert f.get_page(f"{server.url}/x", accept="*/*").body == b"hi"
        assert {r.peer[0] for r in server.requests} == {"127.0.0.2"}
