"""Structural URL matching for ``API_ALLOWED_PREFIXES`` / ``API_BLOCKED_PREFIXES`` (SPEC.md s.3).

A prefix is never compared as a string: both the prefix and the URL are parsed into scheme,
host, port and path segments, normalised, and compared part by part, so that ``https://a.com``
does not admit ``https://a.com.evil.net`` or ``https://a.com@evil.net``, and ``/repo`` does not
admit ``/repository-evil``.

Normalisation (RFC 3986 s.6.2.2, with the choices that keep a URL inside its prefix):

* scheme and host are case-insensitive; a host's trailing dot is dropped; non-ASCII labels are
  IDNA-encoded exactly as httpx does it (``idna.encode(label.lower())``, IDNA 2008), so the host
  we compare is the host the gateway connects to;
* the port is always explicit (443 for https, 80 for http);
* in the path, escapes of unreserved characters are decoded (``/%72epo`` is ``/repo``), other
  escapes are upper-cased and raw characters outside ``pchar`` are encoded, then ``.`` and ``..``
  segments are removed;
* ``%2F`` (and ``%5C``) stay inside their segment. Because some servers (Java servlet containers,
  proxies) decode them, and drop ``;param`` parts, before resolving ``..``, a URL is admitted only
  if it stays inside the prefix under that reading too, and a blocked prefix blocks a URL that
  falls inside it under either reading.

Everything here is pure: no DNS, no I/O.
"""

from __future__ import annotations

import ipaddress
import re
import string
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import idna  # a dependency of httpx; used the way httpx uses it (see module docstring)

from hoarfrost.errors import InvalidValue

__all__ = [
    "DEFAULT_PORTS",
    "ParsedURL",
    "Prefix",
    "PrefixSet",
    "is_loopback_host",
    "parse_url",
    "redact_url",
    "url_has_credentials",
]

DEFAULT_PORTS: dict[str, int] = {"https": 443, "http": 80}

_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
# Scheme plus the slashes after it; used only to keep the scheme when redacting.
_SCHEME_AND_SLASHES_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[/\\]+")
_PORT_RE = re.compile(r"[0-9]{1,5}")
# Lenient LDH: underscores occur in internal DNS names, so they are accepted.
_ASCII_LABEL_RE = re.compile(r"[a-z0-9_-]{1,63}")
# WHATWG: a host whose last label is a number is an IPv4 address (possibly in a form such as
# 0x7f.1 that resolvers accept); we accept only the canonical dotted quad.
_NUMERIC_LABEL_RE = re.compile(r"0x[0-9a-f]*|[0-9]+")
_ENCODED_SEPARATOR_RE = re.compile(r"%2F|%5C")

_HEX = frozenset(string.hexdigits)
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
_PCHAR_RAW = _UNRESERVED | frozenset("!$&'()*+,;=:@")
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp", "Zs"})

_WILDCARD_RULE = (
    "'*' is only allowed as the whole leftmost label of the host, followed by a domain, "
    "as in 'https://*.example.com'"
)


@dataclass(frozen=True)
class ParsedURL:
    """A URL reduced to what prefix matching compares.

    ``segments`` is the normalised path; ``lenient_segments`` is the same path as a server that
    decodes ``%2F``/``%5C`` and drops ``;params`` would resolve it. The query and fragment are
    not kept: they play no part in matching.
    """

    scheme: str
    host: str
    port: int
    segments: tuple[str, ...]
    has_userinfo: bool
    lenient_segments: tuple[str, ...]

    @property
    def path_views(self) -> tuple[tuple[str, ...], ...]:
        return (self.segments, self.lenient_segments)


@dataclass(frozen=True)
class _Parts:
    """A URL split at its delimiters, before any normalisation."""

    scheme: str
    has_userinfo: bool
    host: str
    port: str | None
    path: str
    query: str | None
    fragment: str | None


# --------------------------------------------------------------------------------------------
# Public helpers


def parse_url(url: str, *, prop: str = "URL") -> ParsedURL:
    """Parse an http(s) URL; raise :class:`InvalidValue` (naming ``prop``) when it is malformed."""
    try:
        return _parse_url(url)
    except ValueError as exc:
        raise _invalid(prop, url, str(exc)) from None


def url_has_credentials(url: str) -> bool:
    """True when ``url`` carries userinfo. Unparseable text containing '@' counts as True."""
    try:
        return _parse_url(url).has_userinfo
    except ValueError:
        return redact_url(url) != url


def redact_url(url: str) -> str:
    """``url`` without userinfo, for error messages; never raises.

    Everything up to the LAST '@' goes, even past a '/', '?' or '#': a password may contain those
    characters, and a mangled message is better than a leaked credential.
    """
    at = url.rfind("@")
    if at < 0:
        return url
    match = _SCHEME_AND_SLASHES_RE.match(url)
    keep = match.end() if match and match.end() <= at else 0
    return url[:keep] + url[at + 1 :]


def is_loopback_host(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ::1 (also bracketed or IPv4-mapped)."""
    h = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    h = h.lower().removesuffix(".")
    if h == "localhost":
        return True
    try:
        addr = ipaddress.ip_address(h)
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped.is_loopback
    return addr.is_loopback


# --------------------------------------------------------------------------------------------
# Prefixes


@dataclass(frozen=True)
class Prefix:
    """One entry of API_ALLOWED_PREFIXES or API_BLOCKED_PREFIXES, normalised.

    With ``wildcard`` the prefix was ``scheme://*.host``: it matches hosts strictly under
    ``host``, never ``host`` itself.
    """

    scheme: str
    host: str
    wildcard: bool
    port: int
    segments: tuple[str, ...]

    @classmethod
    def parse(cls, text: str, prop: str = "API_ALLOWED_PREFIXES") -> Prefix:
        try:
            return _parse_prefix(text)
        except ValueError as exc:
            raise _invalid(prop, text, str(exc)) from None

    def matches(self, url: str | ParsedURL) -> bool:
        """True when ``url`` lies inside this prefix under every reading of its path.

        A URL with userinfo or one that cannot be parsed never matches.
        """
        parsed = _parse_or_none(url)
        if parsed is None or parsed.has_userinfo or not self._origin_matches(parsed):
            return False
        return all(self._contains(view) for view in parsed.path_views)

    def touches(self, url: str | ParsedURL) -> bool:
        """True when ``url`` lies inside this prefix under SOME reading: the test for blocking."""
        parsed = _parse_or_none(url)
        if parsed is None or not self._origin_matches(parsed):
            return False
        return any(self._contains(view) for view in parsed.path_views)

    def _origin_matches(self, url: ParsedURL) -> bool:
        if url.scheme != self.scheme or url.port != self.port:
            return False
        if self.wildcard:
            return url.host.endswith("." + self.host)
        return url.host == self.host

    def _contains(self, segments: tuple[str, ...]) -> bool:
        return segments[: len(self.segments)] == self.segments

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.wildcard:
            host = "*." + host
        port = "" if DEFAULT_PORTS[self.scheme] == self.port else f":{self.port}"
        path = "".join(f"/{s}" for s in self.segments)
        return f"{self.scheme}://{host}{port}{path}/"


@dataclass(frozen=True)
class PrefixSet:
    """The allowed and blocked prefixes of one API integration. Blocked wins."""

    allowed: tuple[Prefix, ...]
    blocked: tuple[Prefix, ...] = ()

    @classmethod
    def from_lists(cls, allowed: Sequence[str], blocked: Sequence[str] = ()) -> PrefixSet:
        return cls(
            tuple(Prefix.parse(p, "API_ALLOWED_PREFIXES") for p in allowed),
            tuple(Prefix.parse(p, "API_BLOCKED_PREFIXES") for p in blocked),
        )

    def allows(self, url: str | ParsedURL) -> bool:
        parsed = _parse_or_none(url)
        if parsed is None:
            return False
        if not any(p.matches(parsed) for p in self.allowed):
            return False
        return not any(p.touches(parsed) for p in self.blocked)


# --------------------------------------------------------------------------------------------
# Parsing. Internal functions raise ValueError(reason); the public entry points turn it into
# InvalidValue with the property name and the (redacted) offending text.


def _invalid(prop: str, text: str, reason: str) -> InvalidValue:
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in redact_url(text))
    return InvalidValue(f"Invalid {prop} value '{shown}': {reason}.")


def _parse_or_none(url: str | ParsedURL) -> ParsedURL | None:
    if isinstance(url, ParsedURL):
        return url
    try:
        return _parse_url(url)
    except ValueError:
        return None


def _parse_url(url: str) -> ParsedURL:
    parts = _split(url, "a URL")
    host = _canon_host(parts.host, "a URL")
    segments = [_canon_segment(s, "a URL") for s in _raw_segments(parts.path)]
    return ParsedURL(
        scheme=parts.scheme,
        host=host,
        port=_port(parts, "a URL"),
        segments=_remove_dot_segments(segments),
        has_userinfo=parts.has_userinfo,
        lenient_segments=_remove_dot_segments(_lenient(segments)),
    )


def _parse_prefix(text: str) -> Prefix:
    noun = "a prefix"
    parts = _split(text, noun)
    if parts.has_userinfo:
        raise ValueError(
            "a prefix must not contain credentials (user:password@); keep them in a SECRET"
        )
    if parts.query is not None or parts.fragment is not None:
        raise ValueError("a prefix must not contain a query ('?') or a fragment ('#')")
    wildcard, host = _split_wildcard(parts.host)
    host = _canon_host(host, noun)
    if wildcard and _is_ip(host):
        raise ValueError(_WILDCARD_RULE)
    return Prefix(parts.scheme, host, wildcard, _port(parts, noun), _prefix_segments(parts.path))


def _split(text: str, noun: str) -> _Parts:
    if not text:
        raise ValueError(f"{noun} must not be empty; give one such as 'https://host/path/'")
    if any(_is_forbidden_char(c) for c in text):
        raise ValueError(f"{noun} must not contain whitespace, backslashes or control characters")
    match = _SCHEME_RE.match(text)
    scheme = match.group(1).lower() if match else ""
    if match is None or scheme not in DEFAULT_PORTS or text[match.end() :][:2] != "//":
        raise ValueError(f"{noun} must start with https:// or http://")
    # RFC 3986 s.3: the authority ends at the first '/', '?' or '#'; userinfo ends at the
    # authority's LAST '@' (what httpx and browsers do), so 'https://a.com@evil.net' is evil.net.
    rest, fragment = _cut(text[match.end() + 2 :], "#")
    rest, query = _cut(rest, "?")
    authority, slash, path = rest.partition("/")
    _, at, hostport = authority.rpartition("@")
    host, port = _split_hostport(hostport, noun)
    return _Parts(scheme, bool(at), host, port, slash + path, query, fragment)


def _is_forbidden_char(c: str) -> bool:
    return c == "\\" or c.isspace() or unicodedata.category(c) in _FORBIDDEN_CATEGORIES


def _cut(text: str, sep: str) -> tuple[str, str | None]:
    head, found, tail = text.partition(sep)
    return head, (tail if found else None)


def _split_hostport(hostport: str, noun: str) -> tuple[str, str | None]:
    if hostport.startswith("["):
        end = hostport.find("]")
        after = hostport[end + 1 :] if end >= 0 else ""
        if end < 0 or (after and not after.startswith(":")):
            raise ValueError(f"{noun} has a malformed IPv6 address '{hostport}'")
        return hostport[: end + 1], (after[1:] if after else None)
    host, colon, port = hostport.partition(":")
    return host, (port if colon else None)


def _port(parts: _Parts, noun: str) -> int:
    if not parts.port:  # absent, or 'host:' with nothing after the colon (RFC 3986 s.3.2.3)
        return DEFAULT_PORTS[parts.scheme]
    if not _PORT_RE.fullmatch(parts.port) or not 0 < int(parts.port) < 65536:
        raise ValueError(f"the port of {noun} must be a number from 1 to 65535")
    return int(parts.port)


def _split_wildcard(host: str) -> tuple[bool, str]:
    wildcard = host.startswith("*.")
    rest = host[2:] if wildcard else host
    if "*" in rest:
        raise ValueError(_WILDCARD_RULE)
    return wildcard, rest


def _canon_host(raw: str, noun: str) -> str:
    if not raw:
        raise ValueError(f"{noun} must name a host after the scheme, as in 'https://host/'")
    bad = ValueError(f"the host '{raw}' is not a valid host name or IP address")
    if raw.startswith("["):
        # '%' would introduce an IPv6 zone id, which ipaddress accepts but a prefix cannot mean.
        if "%" in raw:
            raise bad
        try:
            return str(ipaddress.IPv6Address(raw[1:-1]))
        except ValueError:
            raise bad from None
    labels = raw.removesuffix(".").split(".")
    canon = [_canon_label(label) for label in labels]
    if not all(canon):
        raise bad
    if _NUMERIC_LABEL_RE.fullmatch(canon[-1]):
        return _canon_ipv4(".".join(canon), bad)
    return ".".join(canon)


def _canon_label(label: str) -> str:
    """The ASCII form of one host label, or '' when it is not a valid label."""
    if label.isascii():
        label = label.lower()
        return label if _ASCII_LABEL_RE.fullmatch(label) else ""
    try:
        return idna.encode(label.lower()).decode("ascii")
    except idna.IDNAError:
        return ""


def _canon_ipv4(host: str, bad: ValueError) -> str:
    try:
        return str(ipaddress.IPv4Address(host))
    except ValueError:
        raise bad from None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _raw_segments(path: str) -> list[str]:
    # '' and '/' are both the root: no segments. '/a/' is ['a', ''] (a trailing empty segment).
    return path[1:].split("/") if len(path) > 1 else []


def _canon_segment(segment: str, noun: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(segment):
        if segment[i] == "%":
            escape = segment[i + 1 : i + 3]
            if len(escape) != 2 or not set(escape) <= _HEX:
                raise ValueError(f"in {noun}, '%' must be followed by two hex digits")
            char = chr(int(escape, 16))
            out.append(char if char in _UNRESERVED else "%" + escape.upper())
            i += 3
        else:
            char = segment[i]
            out.append(char if char in _PCHAR_RAW else _percent_encode(char))
            i += 1
    return "".join(out)


def _percent_encode(char: str) -> str:
    return "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))


def _lenient(segments: list[str]) -> list[str]:
    """The segments as a server that decodes %2F/%5C and drops ';params' sees them."""
    split = [part for s in segments for part in _ENCODED_SEPARATOR_RE.split(s)]
    return [part.split(";", 1)[0] for part in split]


def _remove_dot_segments(segments: list[str]) -> tuple[str, ...]:
    """RFC 3986 s.5.2.4 on a segment list: '..' never climbs above the root."""
    out: list[str] = []
    for segment in segments:
        if segment == "..":
            if out:
                out.pop()
        elif segment != ".":
            out.append(segment)
    if segments and segments[-1] in (".", ".."):
        out.append("")  # '/a/b/..' is the directory '/a/'
    return tuple(out)


def _prefix_segments(path: str) -> tuple[str, ...]:
    segments = [_canon_segment(s, "a prefix") for s in _raw_segments(path)]
    if segments and segments[-1] == "":
        segments.pop()  # 'https://a.com/repo/' is the same prefix as 'https://a.com/repo'
    for segment in segments:
        _check_prefix_segment(segment)
    return tuple(segments)


def _check_prefix_segment(segment: str) -> None:
    if segment in ("", ".", ".."):
        raise ValueError("a prefix path must not contain empty ('//'), '.' or '..' segments")
    # Such a segment could never match: URLs are also read with %2F/%5C as separators and
    # without ';params' (see the module docstring).
    if ";" in segment or _ENCODED_SEPARATOR_RE.search(segment):
        raise ValueError("a prefix path must not contain ';', '%2F' or '%5C'")
