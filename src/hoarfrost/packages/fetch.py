"""The connection layer of the gateway: every byte hoarfrost reads from a customer repository.

A :class:`Fetcher` is built for ONE repository (its index URL, its integration's prefixes and its
decrypted credentials) and GETs pages and files for :mod:`hoarfrost.packages.gateway`:

* Redirects are followed by hand, at most 20 (SPEC.md section 3), and EVERY URL -- the first and
  each hop -- is checked against the integration's prefixes before a connection is opened, so a
  refused host receives zero connections. Refused first URL -> 400; refused redirect hop -> 403.
* ``Authorization`` goes only to the index URL's own origin (scheme, host, port), never to another
  origin, even when a redirect leads there (what pip and uv also do for index credentials).
* TLS is verified against the system CAs plus the PEM bundle of the ``ca_bundle`` setting.
* No environment is consulted (``trust_env=False``: no proxies, no ``.netrc``) and cookies are
  never stored, so nothing the upstream says can make us send anything to another place.
* Bodies are streamed and bounded: a page larger than ``max_page_size`` or a file larger than
  ``max_file_size`` is a 502 (the upstream misbehaves; nothing the user wrote is wrong).
* Transient failures (connection errors, timeouts, 429/5xx) are retried twice with a short
  backoff, so uv can run with its own retries off and fail fast on a clear error.
* Failures map to SPEC.md section 6 (400/401/403/404/502), and every message names the URL with
  its credentials removed.

Hooks for the network path of issue 5 are in :func:`build_transport`: ``source_address`` binds
every outgoing connection, and ``endpoint_for(host)`` sends a host's connections to a private
endpoint while TLS (SNI, certificate check) and the ``Host`` header keep the original name.
"""

from __future__ import annotations

import http.cookiejar
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import httpcore
import httpx

from hoarfrost.config import Settings
from hoarfrost.errors import RepositoryError
from hoarfrost.packages.credentials import Credentials
from hoarfrost.packages.prefixes import redact_url, url_has_credentials

__all__ = [
    "MAX_REDIRECTS",
    "Download",
    "EndpointFor",
    "Fetcher",
    "Page",
    "UrlAllowlist",
    "build_ssl_context",
    "build_transport",
    "origin_of",
]

MAX_REDIRECTS = 20
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_BACKOFF = 0.25  # seconds before the first retry; doubles each time
_AUTH_FAILED = "Authentication failed. Please check your credentials."

EndpointFor = Callable[[str], "tuple[str, int] | None"]
"""Maps a host name to the (address, port) its connections go to; None keeps the URL's own.
It may raise :class:`RepositoryError` to refuse the host (private link with no endpoint)."""


class UrlAllowlist(Protocol):
    """What the fetcher needs of :class:`hoarfrost.packages.prefixes.PrefixSet`."""

    def allows(self, url: str) -> bool: ...


def origin_of(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) with the default port filled in: the unit credentials are bound to."""
    u = httpx.URL(url)
    port = u.port if u.port is not None else (443 if u.scheme == "https" else 80)
    return (u.scheme, u.host.lower(), port)


def build_ssl_context(ca_bundle: object = None) -> ssl.SSLContext:
    """System CAs, plus the private CAs of ``ca_bundle`` (a PEM file) when set.

    Both, not either: a customer with a private Nexus may still have it redirect to a public CDN.
    """
    ctx = ssl.create_default_context()
    if ca_bundle:
        ctx.load_verify_locations(cafile=str(ca_bundle))
    return ctx


class _EndpointBackend(httpcore.SyncBackend):
    """Connects to ``endpoint_for(host)`` instead of the host. httpcore keeps the request's host
    as ``server_hostname`` for TLS, so SNI and certificate checks still use the original name."""

    def __init__(self, endpoint_for: EndpointFor):
        self._endpoint_for = endpoint_for

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):  # type: ignore[no-untyped-def]
        target = self._endpoint_for(host)
        if target is not None:
            host, port = target
        return super().connect_tcp(host, port, timeout, local_address, socket_options)


class _EndpointTransport(httpx.HTTPTransport):
    """An httpx transport whose connection pool uses :class:`_EndpointBackend`.

    httpx does not take a network backend as an argument, so the pool httpx built is replaced by
    an equivalent one that has it; tests/packages/test_fetch.py proves the mapping works (over
    TLS too), so a change of httpx internals shows up there.
    """

    def __init__(
        self, ssl_context: ssl.SSLContext, local_address: str | None, endpoint_for: EndpointFor
    ):
        super().__init__(verify=ssl_context, trust_env=False, local_address=local_address)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            local_address=local_address,
            network_backend=_EndpointBackend(endpoint_for),
        )


def build_transport(
    ssl_context: ssl.SSLContext,
    *,
    source_address: str | None = None,
    endpoint_for: EndpointFor | None = None,
) -> httpx.BaseTransport:
    """The ONE place outgoing repository connections are made (issue 5 hooks in here).

    ``source_address`` binds every connection (egress IP); ``endpoint_for`` redirects a host's
    connections to a private endpoint.
    """
    if endpoint_for is None:
        return httpx.HTTPTransport(
            verify=ssl_context, trust_env=False, local_address=source_address
        )
    return _EndpointTransport(ssl_context, source_address, endpoint_for)


@dataclass(frozen=True)
class Page:
    """An index page as read: the final URL (after redirects) resolves relative links."""

    url: str
    content_type: str
    body: bytes


@dataclass
class Download:
    """An open response; iterate :meth:`chunks` inside the ``Fetcher.open`` block."""

    url: str
    status: int
    headers: httpx.Headers
    _response: httpx.Response
    _fetcher: Fetcher

    def chunks(self, limit: int | None = None) -> Iterator[bytes]:
        """The decoded body, in chunks; more than ``limit`` bytes (default max_file_size) is 502."""
        limit = self._fetcher.max_file_size if limit is None else limit
        yield from self._fetcher._bounded(self._response, self.url, limit, "file", deadline=None)


class Fetcher:
    """GETs pages and files of one repository; see the module docstring for the rules."""

    def __init__(
        self,
        index_url: str,
        prefixes: UrlAllowlist,
        *,
        credentials: Credentials | None = None,
        settings: Settings | None = None,
        source_address: str | None = None,
        endpoint_for: EndpointFor | None = None,
        ssl_context: ssl.SSLContext | None = None,
        retries: int = 2,
    ):
        settings = settings or Settings()
        self.index_url = index_url
        self.prefixes = prefixes
        self._credentials = credentials
        self._auth_origin = origin_of(index_url)
        self.timeout = float(settings.http_timeout)
        self.max_page_size = int(settings.max_page_size)
        self.max_file_size = int(settings.max_file_size)
        self.retries = retries
        ctx = ssl_context or build_ssl_context(settings.ca_bundle)
        transport = build_transport(ctx, source_address=source_address, endpoint_for=endpoint_for)
        # A jar whose policy accepts nothing: upstream cookies are never stored nor sent.
        jar = http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        self._client = httpx.Client(
            transport=transport,
            trust_env=False,
            follow_redirects=False,
            cookies=jar,
            timeout=httpx.Timeout(self.timeout),
            headers={"User-Agent": "hoarfrost-gateway"},
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public -----------------------------------------------------------------------------

    def get_page(self, url: str, *, accept: str) -> Page:
        """An index page, whole, at most ``max_page_size`` bytes and ``http_timeout`` seconds."""
        deadline = time.monotonic() + self.timeout
        with self.open(url, accept=accept) as dl:
            body = b"".join(
                self._bounded(dl._response, dl.url, self.max_page_size, "page", deadline)
            )
            content_type = dl.headers.get("content-type", "")
        return Page(url=dl.url, content_type=content_type, body=body)

    @contextmanager
    def open(
        self, url: str, *, method: str = "GET", accept: str | None = None
    ) -> Iterator[Download]:
        """Follow redirects to a 2xx response and yield it open; errors become RepositoryError."""
        headers = {"Accept": accept} if accept else {}
        response, final_url = self._follow(method, url, headers)
        try:
            yield Download(final_url, response.status_code, response.headers, response, self)
        finally:
            response.close()

    # -- internals --------------------------------------------------------------------------

    def _follow(self, method: str, url: str, headers: dict[str, str]) -> tuple[httpx.Response, str]:
        seen: set[str] = set()
        current, previous = url, None
        for _hop in range(MAX_REDIRECTS + 1):
            current = self._check(current, previous=previous)
            response = self._send(method, current, headers)
            if response.status_code not in _REDIRECTS:
                if response.status_code >= 400:
                    response.close()
                    raise self._status_error(response.status_code, current)
                return response, current
            location = response.headers.get("location")
            response.close()
            if not location:
                raise RepositoryError(
                    f"{redact_url(current)} answered {response.status_code} without a Location.",
                    http_status=502,
                )
            seen.add(current)
            nxt = str(httpx.URL(current).join(location).copy_with(fragment=None))
            if nxt in seen:
                raise RepositoryError(
                    f"Redirect loop at {redact_url(current)} -> {redact_url(nxt)}.", http_status=502
                )
            current, previous = nxt, current
        raise RepositoryError(
            f"More than {MAX_REDIRECTS} redirects starting at {redact_url(url)}.", http_status=502
        )

    def _check(self, url: str, *, previous: str | None) -> str:
        """Refuse ``url`` unless the prefixes allow it; returns the normalised URL to contact.

        The URL given to ``allows`` is httpx's own normalisation of it, and urllib must agree
        with httpx on the host, so a URL two parsers read differently is refused, not guessed.
        """
        status = 400 if previous is None else 403
        try:
            parsed = httpx.URL(url)
            normal = str(parsed)
            agree = (urlsplit(normal).hostname or "") == parsed.raw_host.decode("ascii").lower()
        except (httpx.InvalidURL, ValueError):
            parsed, normal, agree = None, url, False
        if url_has_credentials(url) or (parsed is not None and parsed.userinfo):
            reason = "carries credentials in the URL (use a SECRET)"
        elif parsed is None or parsed.scheme not in ("http", "https") or not agree:
            reason = "is not a valid http(s) URL"
        elif self.prefixes.allows(normal):
            return normal
        else:
            reason = "is not in the allowed prefixes of the API integration"
        if previous is None:
            msg = f"URL {redact_url(url)} {reason}."
        else:
            msg = f"Redirect from {redact_url(previous)} to {redact_url(url)} refused: it {reason}."
        raise RepositoryError(msg, http_status=status)

    def _send(self, method: str, url: str, headers: dict[str, str]) -> httpx.Response:
        """One request, retried on transient failures (uv runs with retries off and relies on
        this): connection errors, timeouts and 429/5xx answers; never DNS or TLS failures."""
        headers = dict(headers)
        if self._credentials is not None and origin_of(url) == self._auth_origin:
            headers["Authorization"] = self._credentials.header()
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(_BACKOFF * 2 ** (attempt - 1))
            request = self._client.build_request(method, url, headers=headers)
            try:
                response = self._client.send(request, stream=True)
            except httpx.HTTPError as exc:
                if attempt == self.retries or not _transient(exc):
                    raise self._transport_error(exc, url) from None
                continue
            if response.status_code not in _RETRY_STATUSES or attempt == self.retries:
                return response
            response.close()
        raise AssertionError("unreachable")  # the loop returns or raises on its last attempt

    def _bounded(
        self,
        response: httpx.Response,
        url: str,
        limit: int,
        what: str,
        deadline: float | None,
    ) -> Iterator[bytes]:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise self._too_large(url, what, limit)
        total = 0
        try:
            for chunk in response.iter_bytes():
                total += len(chunk)
                if total > limit:
                    raise self._too_large(url, what, limit)
                if deadline is not None and time.monotonic() > deadline:
                    raise RepositoryError(
                        f"Timed out after {self.timeout:g} s reading {redact_url(url)}.",
                        http_status=502,
                    )
                yield chunk
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, url) from None

    @staticmethod
    def _too_large(url: str, what: str, limit: int) -> RepositoryError:
        return RepositoryError(
            f"The {what} at {redact_url(url)} is larger than the limit of {limit} bytes "
            f"(setting max_{what}_size).",
            http_status=502,
        )

    def _status_error(self, status: int, url: str) -> RepositoryError:
        where = redact_url(url)
        if status in (401, 403) and self._credentials is not None:
            return RepositoryError(f"{_AUTH_FAILED} ({where} answered {status})", http_status=401)
        if status == 401:
            return RepositoryError(
                f"{where} requires authentication and the repository has no "
                "AUTHENTICATION_SECRET (401).",
                http_status=401,
            )
        if status == 403:
            return RepositoryError(
                f"Access to {where} is forbidden upstream (403).", http_status=403
            )
        if status in (404, 410):
            return RepositoryError(f"Not found: {where} ({status}).", http_status=404)
        return RepositoryError(f"{where} answered HTTP {status}.", http_status=502)

    def _transport_error(self, exc: Exception, url: str) -> RepositoryError:
        where = redact_url(url)
        if isinstance(exc, httpx.TimeoutException):
            reason = f"timed out after {self.timeout:g} s"
        else:
            reason = _network_reason(exc, httpx.URL(url).host)
        if self._credentials is not None:
            reason = self._credentials.scrub(reason)
        return RepositoryError(f"Could not reach {where}: {reason}.", http_status=502)


def _transient(exc: BaseException) -> bool:
    """False for failures a retry cannot fix: DNS says the name does not exist, TLS refused."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (socket.gaierror, ssl.SSLError)):
            return False
        seen = seen.__cause__ or seen.__context__
    return True


def _network_reason(exc: BaseException, host: str) -> str:
    """A short reason from the exception chain: DNS, TLS, refused, or the transport's own text."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return f"DNS lookup of {host} failed"
        if isinstance(seen, ssl.SSLCertVerificationError):
            return f"TLS certificate verification failed ({seen.verify_message})"
        if isinstance(seen, ssl.SSLError):
            return f"TLS error ({seen.reason or seen})"
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        seen = seen.__cause__ or seen.__context__
    text = str(exc)
    if "Name or service not known" in text or "nodename nor servname" in text:
        return f"DNS lookup of {host} failed"
    if "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text:
        return f"TLS error ({text})"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
