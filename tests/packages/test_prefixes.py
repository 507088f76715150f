"""Structural prefix matching (SPEC.md section 3)."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from hoarfrost.errors import InvalidValue
from hoarfrost.packages.prefixes import (
    ParsedURL,
    Prefix,
    PrefixSet,
    is_loopback_host,
    parse_url,
    redact_url,
    url_has_credentials,
)

# (prefix, url, expected)
MATCH_CASES = [
    # host boundaries
    ("https://a.com", "https://a.com", True),
    ("https://a.com", "https://a.com/", True),
    ("https://a.com", "https://a.com/simple/numpy/", True),
    ("https://a.com", "https://a.com.evil.net/", False),
    ("https://a.com", "https://evil-a.com/", False),
    ("https://a.com", "https://x.a.com/", False),
    ("https://a.com", "https://a.co/", False),
    # userinfo: the host is after the last '@', and credentials never match
    ("https://a.com", "https://a.com@evil.net/", False),
    ("https://a.com", "https://user:pw@a.com/", False),
    ("https://a.com", "https://@a.com/", False),
    ("https://evil.net", "https://a.com@evil.net/", False),
    ("https://a.com", "https://evil.net/@a.com", False),
    ("https://a.com", "https://a.com?@evil.net", True),  # '?' ends the authority: host is a.com
    ("https://a.com", "https://a.com#@evil.net", True),
    # ports
    ("https://a.com", "https://a.com:443/", True),
    ("https://a.com:443", "https://a.com/", True),
    ("http://a.com", "http://a.com:80/x", True),
    ("https://a.com", "https://a.com:8443/", False),
    ("https://a.com:8443", "https://a.com/", False),
    ("https://a.com:8443", "https://a.com:8443/simple/", True),
    ("https://a.com", "https://a.com:/x", True),  # empty port is the default
    # path segments
    ("https://a.com/repo", "https://a.com/repo", True),
    ("https://a.com/repo", "https://a.com/repo/", True),
    ("https://a.com/repo", "https://a.com/repo/x/y.whl", True),
    ("https://a.com/repo", "https://a.com/repository", False),
    ("https://a.com/repo", "https://a.com/repo-evil/", False),
    ("https://a.com/repo", "https://a.com/", False),
    ("https://a.com/repo", "https://a.com/Repo/", False),  # paths are case-sensitive
    ("https://a.com/repo/", "https://a.com/repo", True),
    ("https://a.com/repo/", "https://a.com/repo/x", True),
    ("https://a.com/repo/", "https://a.com/repository", False),
    ("https://a.com/a/b", "https://a.com/a/b/c", True),
    ("https://a.com/a/b", "https://a.com/a/bc", False),
    ("https://a.com/repo", "https://a.com/repo/x?y=/../../evil", True),  # query ignored
    # percent-encoding
    ("https://a.com/repo", "https://a.com/%72epo/x", True),
    ("https://a.com/%72epo", "https://a.com/repo/x", True),
    ("https://a.com/r%c3%a9po", "https://a.com/r%C3%A9po/x", True),
    ("https://a.com/répo", "https://a.com/r%C3%A9po/x", True),
    ("https://a.com/repo", "https://a.com/repo%2Fx", False),
    ("https://a.com/repo", "https://a.com/repo%2f../x", False),
    ("https://a.com/repo", "https://a.com/repo/x%2F..%2F..%2Fadmin", False),
    ("https://a.com/repo", "https://a.com/repo/x%5C..%5C..%5Cadmin", False),
    ("https://a.com/repo", "https://a.com/repo/a%2Fb", True),  # stays inside either way
    ("https://a.com/a/b", "https://a.com/a%2Fb/c", False),
    # dot segments
    ("https://a.com/repo", "https://a.com/repo/../admin", False),
    ("https://a.com/repo", "https://a.com/repo/x/../../admin", False),
    ("https://a.com/repo", "https://a.com/repo/%2e%2e/admin", False),
    ("https://a.com/repo", "https://a.com/repo/x/../y", True),
    ("https://a.com/repo", "https://a.com/other/../repo/y", True),
    ("https://a.com/repo", "https://a.com/repo/./y", True),
    ("https://a.com/repo", "https://a.com/repo/..;/admin", False),  # servlet path parameter
    ("https://a.com/repo", "https://a.com/../../repo/x", True),  # '..' stops at the root
    # case, IDNA, trailing dot
    ("https://a.com", "HTTPS://A.COM/x", True),
    ("HTTPS://A.Com", "https://a.com/x", True),
    ("https://bücher.example", "https://xn--bcher-kva.example/", True),
    ("https://xn--bcher-kva.example", "https://BÜCHER.example/", True),
    ("https://strasse.de", "https://straße.de/", False),  # IDNA 2008: ß is not ss
    ("https://a.com", "https://a.com./x", True),
    ("https://a.com.", "https://a.com/x", True),
    ("https://a.com", "https://a.com../x", False),
    # scheme
    ("https://a.com", "http://a.com/", False),
    ("http://a.com", "https://a.com/", False),
    ("https://a.com", "ftp://a.com/", False),
    # wildcards
    ("https://*.example.net", "https://a.example.net/", True),
    ("https://*.example.net", "https://a.b.example.net/x", True),
    ("https://*.example.net", "https://example.net/", False),
    ("https://*.example.net", "https://aexample.net/", False),
    ("https://*.example.net", "https://a.example.net.evil.com/", False),
    ("https://*.example.net", "https://a.example.net@evil.com/", False),
    ("https://*.cdn.example.net/pkgs/", "https://eu.cdn.example.net/pkgs/a.whl", True),
    ("https://*.cdn.example.net/pkgs/", "https://eu.cdn.example.net/other/a.whl", False),
    ("https://*.EXAMPLE.net", "https://A.example.NET/", True),
    # IP literals
    ("http://[::1]:8080", "http://[::1]:8080/simple/", True),
    ("http://[::1]:8080", "http://[0:0:0:0:0:0:0:1]:8080/simple/", True),
    ("http://[::1]:8080", "http://[::1]/simple/", False),
    ("http://[::1]:8080", "http://[::2]:8080/", False),
    ("http://127.0.0.1:3141", "http://127.0.0.1:3141/simple/", True),
    ("http://127.0.0.1", "http://127.0.0.01/", False),  # not canonical: refused
    ("http://127.0.0.1", "http://0x7f.1/", False),
    ("http://127.0.0.1", "http://2130706433/", False),
    # garbage URLs never match
    ("https://a.com", "https://a.com\\@evil.net/", False),
    ("https://a.com", "https://a.com/ x", False),
    ("https://a.com", "https://a.com/x\n", False),
    ("https://a.com", "https://a.com/%zz", False),
    ("https://a.com", "https:/a.com/", False),
    ("https://a.com", "//a.com/", False),
    ("https://a.com", "", False),
    ("https://a.com", "https://*.a.com/", False),
    ("https://a.com", "https://a.com:99999/", False),
    ("https://a.com", "https://a.com:44x/", False),
]


@pytest.mark.parametrize(("prefix", "url", "expected"), MATCH_CASES)
def test_prefix_matches(prefix: str, url: str, expected: bool) -> None:
    assert Prefix.parse(prefix).matches(url) is expected


def test_table_is_big_and_balanced() -> None:
    assert len(MATCH_CASES) >= 40
    assert sum(expected for _, _, expected in MATCH_CASES) >= 20
    assert sum(not expected for _, _, expected in MATCH_CASES) >= 20


@pytest.mark.parametrize(
    ("allowed", "blocked", "url", "expected"),
    [
        (["https://a.com"], [], "https://a.com/repo/x", True),
        (["https://a.com"], ["https://a.com/private"], "https://a.com/repo/x", True),
        (["https://a.com"], ["https://a.com/private"], "https://a.com/private/x", False),
        (["https://a.com"], ["https://a.com/private"], "https://a.com/private", False),
        (["https://a.com"], ["https://a.com/private"], "https://a.com/privateer", True),
        (["https://a.com"], ["https://a.com/private"], "https://a.com/%70rivate/x", False),
        # a blocked prefix catches a URL that a decoding server would read as inside it
        (["https://a.com"], ["https://a.com/private"], "https://a.com/x%2F..%2Fprivate/", False),
        (["https://a.com"], ["https://a.com/private"], "https://a.com/private;x/y", False),
        (["https://*.example.net"], ["https://bad.example.net"], "https://ok.example.net/", True),
        (["https://*.example.net"], ["https://bad.example.net"], "https://bad.example.net/", False),
        (
            ["https://*.example.net"],
            ["https://*.bad.example.net"],
            "https://x.bad.example.net/",
            False,
        ),
        (["https://a.com", "https://b.com"], [], "https://b.com/x", True),
        (["https://a.com"], ["https://a.com"], "https://a.com/x", False),  # blocked wins
        (["https://a.com"], ["https://a.com:8443"], "https://a.com/x", True),
        ([], [], "https://a.com/x", False),
        (["https://a.com"], [], "not a url", False),
    ],
)
def test_prefix_set_blocked_wins(
    allowed: list[str], blocked: list[str], url: str, expected: bool
) -> None:
    assert PrefixSet.from_lists(allowed, blocked).allows(url) is expected


def test_prefix_set_accepts_parsed_urls() -> None:
    prefixes = PrefixSet.from_lists(["https://a.com/repo"])
    assert prefixes.allows(parse_url("https://a.com/repo/x"))
    assert not prefixes.allows(parse_url("https://a.com/other"))


def test_prefix_set_names_the_property_of_a_bad_blocked_prefix() -> None:
    with pytest.raises(InvalidValue, match="API_BLOCKED_PREFIXES value 'ftp://x'"):
        PrefixSet.from_lists(["https://a.com"], ["ftp://x"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ftp://x", "Invalid API_ALLOWED_PREFIXES value 'ftp://x': a prefix must start with"),
        ("a.com", "a prefix must start with https:// or http://"),
        ("https:/a.com", "a prefix must start with https:// or http://"),
        ("", "a prefix must not be empty"),
        ("https://", "a prefix must name a host"),
        ("https:///repo", "a prefix must name a host"),
        ("https://user:pw@a.com", "must not contain credentials"),
        ("https://a.com?x=1", "must not contain a query"),
        ("https://a.com#frag", "must not contain a query \\('\\?'\\) or a fragment"),
        ("https://a.*.com", "'\\*' is only allowed as the whole leftmost label"),
        ("https://*a.com", "'\\*' is only allowed as the whole leftmost label"),
        ("https://a.com.*", "'\\*' is only allowed as the whole leftmost label"),
        ("https://*", "'\\*' is only allowed as the whole leftmost label"),
        ("https://*.*.a.com", "'\\*' is only allowed as the whole leftmost label"),
        ("https://*.10.0.0.1", "'\\*' is only allowed as the whole leftmost label"),
        ("https://a.com:0", "the port of a prefix must be a number from 1 to 65535"),
        ("https://a.com:65536", "the port of a prefix must be a number from 1 to 65535"),
        ("https://a.com:http", "the port of a prefix must be a number from 1 to 65535"),
        ("https://a..com", "the host 'a..com' is not a valid host name or IP address"),
        ("https://a_b!.com", "is not a valid host name"),
        ("https://a%2ecom", "is not a valid host name"),
        ("https://[::1", "malformed IPv6 address"),
        ("https://[::1]x", "malformed IPv6 address"),
        ("https://[::g]", "is not a valid host name or IP address"),
        ("https://[fe80::1%25eth0]", "is not a valid host name or IP address"),
        ("https://999.1.1.1", "is not a valid host name or IP address"),
        ("https://a.com/repo/../x", "must not contain empty \\('//'\\), '.' or '..' segments"),
        ("https://a.com/./x", "'.' or '..' segments"),
        ("https://a.com/%2e%2e/x", "'.' or '..' segments"),
        ("https://a.com//x", "must not contain empty"),
        ("https://a.com/a%2Fb", "must not contain ';', '%2F' or '%5C'"),
        ("https://a.com/a;b", "must not contain ';', '%2F' or '%5C'"),
        ("https://a.com/%zz", "'%' must be followed by two hex digits"),
        ("https://a.com/%4", "'%' must be followed by two hex digits"),
        ("https://a.com/ x", "must not contain whitespace, backslashes or control characters"),
        ("https://a.com\\x", "must not contain whitespace, backslashes or control characters"),
        ("https://a.com/\x00", "must not contain whitespace, backslashes or control characters"),
        ("https://a.com/\u200b", "must not contain whitespace, backslashes or control characters"),
    ],
)
def test_invalid_prefix_messages(text: str, message: str) -> None:
    with pytest.raises(InvalidValue, match=message) as info:
        Prefix.parse(text)
    assert info.value.errno == 1008
    assert info.value.msg.endswith(".")


def test_star_in_a_prefix_path_is_an_ordinary_character() -> None:
    prefix = Prefix.parse("https://a.com/*/x")
    assert prefix.matches("https://a.com/*/x/y")
    assert not prefix.matches("https://a.com/anything/x/y")


def test_invalid_prefix_message_uses_the_given_property_name() -> None:
    with pytest.raises(InvalidValue) as info:
        Prefix.parse("ftp://x", prop="API_BLOCKED_PREFIXES")
    assert info.value.msg == (
        "Invalid API_BLOCKED_PREFIXES value 'ftp://x': "
        "a prefix must start with https:// or http://."
    )


def test_invalid_prefix_message_never_shows_credentials() -> None:
    with pytest.raises(InvalidValue) as info:
        Prefix.parse("https://bob:s3cret@a.com/repo")
    assert "s3cret" not in str(info.value)
    assert "bob" not in str(info.value)
    assert "'https://a.com/repo'" in info.value.msg


def test_invalid_prefix_message_escapes_control_characters() -> None:
    with pytest.raises(InvalidValue) as info:
        Prefix.parse("https://a.com/\x1b[31m")
    assert "\x1b" not in info.value.msg
    assert "\\x1b" in info.value.msg


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://A.com", Prefix("https", "a.com", False, 443, ())),
        ("https://a.com/", Prefix("https", "a.com", False, 443, ())),
        ("HTTP://a.com:8080/Repo/", Prefix("http", "a.com", False, 8080, ("Repo",))),
        ("https://*.Example.net/pkgs", Prefix("https", "example.net", True, 443, ("pkgs",))),
        ("https://[0::1]:8443/x", Prefix("https", "::1", False, 8443, ("x",))),
        ("https://a.com/%7euser/%c3%a9", Prefix("https", "a.com", False, 443, ("~user", "%C3%A9"))),
    ],
)
def test_prefix_parse_normalises(text: str, expected: Prefix) -> None:
    assert Prefix.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        ("https://A.com", "https://a.com/"),
        ("https://a.com:443/repo", "https://a.com/repo/"),
        ("https://*.b.com:8443/x/y/", "https://*.b.com:8443/x/y/"),
        ("http://[::1]:3141", "http://[::1]:3141/"),
    ],
)
def test_prefix_str_is_canonical(text: str, rendered: str) -> None:
    assert str(Prefix.parse(text)) == rendered
    assert Prefix.parse(rendered) == Prefix.parse(text)


def test_parse_url_structure() -> None:
    url = parse_url("HTTPS://User:Pw@Nexus.Example.COM.:8443/a/./b/../%63/x%2Fy?q=1#f")
    assert url == ParsedURL(
        scheme="https",
        host="nexus.example.com",
        port=8443,
        segments=("a", "c", "x%2Fy"),
        has_userinfo=True,
        lenient_segments=("a", "c", "x", "y"),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nope", "Invalid INDEX_URL value 'nope': a URL must start with https:// or http://."),
        ("https://a.com:x/", "the port of a URL must be a number"),
        ("https://u:pw@a b/", "Invalid INDEX_URL value 'https://a b/'"),
    ],
)
def test_parse_url_errors(text: str, message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        parse_url(text, prop="INDEX_URL")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:pw@a.com/simple/", True),
        ("https://token@a.com/simple/", True),
        ("https://@a.com/", True),
        ("https://a.com/simple/", False),
        ("https://a.com/simple/@scope/", False),
        ("https://a.com/simple/?x=a@b", False),
        ("https://u:p/w@a.com/simple/", True),  # a password with '/' makes it unparseable
        ("not a url", False),
    ],
)
def test_url_has_credentials(url: str, expected: bool) -> None:
    assert url_has_credentials(url) is expected


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("https://user:pw@a.com/simple/", "https://a.com/simple/"),
        ("https://a.com/simple/", "https://a.com/simple/"),
        ("https://u:p/w?x#y@a.com/s/", "https://a.com/s/"),
        ("https://a.com@evil.net/", "https://evil.net/"),
        ("user:pw@a.com", "a.com"),
        ("", ""),
    ],
)
def test_redact_url(url: str, redacted: str) -> None:
    assert redact_url(url) == redacted


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost", True),
        ("LOCALHOST.", True),
        ("127.0.0.1", True),
        ("127.42.0.9", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("128.0.0.1", False),
        ("10.0.0.1", False),
        ("::2", False),
        ("localhost.evil.net", False),
        ("evil-localhost", False),
        ("", False),
    ],
)
def test_is_loopback_host(host: str, expected: bool) -> None:
    assert is_loopback_host(host) is expected


# --------------------------------------------------------------------------------------------
# Properties

# A numeric last label would make the host an IPv4 address; keep hosts DNS names.
_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True).filter(
    lambda label: not re.fullmatch(r"0x[0-9a-f]*|[0-9]+", label)
)
_host = st.lists(_label, min_size=2, max_size=4).map(".".join)
_segment = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cf", "Cs", "Zs", "Zl", "Zp")),
    min_size=1,
    max_size=12,
).filter(lambda s: not set(s) & set("/?#\\%"))
_path = st.lists(_segment, max_size=4)


@given(host=_host, prefix_path=_path, suffix=st.lists(_segment, max_size=4))
def test_url_under_an_allowed_prefix_stays_allowed(
    host: str, prefix_path: list[str], suffix: list[str]
) -> None:
    assume(all(s not in (".", "..") and ";" not in s for s in prefix_path + suffix))
    prefix = PrefixSet.from_lists([f"https://{host}/" + "/".join(prefix_path)])
    base = f"https://{host}/" + "".join(f"{s}/" for s in prefix_path)
    assert prefix.allows(base)
    assert prefix.allows(base + "/".join(suffix))


def _under(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


@given(prefix_host=_host, url_host=_host, path=_path)
def test_a_host_not_under_the_prefix_host_is_never_allowed(
    prefix_host: str, url_host: str, path: list[str]
) -> None:
    assume(not _under(url_host, prefix_host))
    prefixes = PrefixSet.from_lists([f"https://{prefix_host}", f"https://*.{prefix_host}"])
    tail = "/".join(path)
    # (url, the host it really names)
    candidates = [
        (f"https://{url_host}/{tail}", url_host),
        (f"https://{prefix_host}@{url_host}/{tail}", url_host),
        (f"https://{prefix_host}.{url_host}/{tail}", f"{prefix_host}.{url_host}"),
        (f"https://{url_host}/{prefix_host}/{tail}", url_host),
        (f"https://{url_host}?{prefix_host}", url_host),
    ]
    for url, real_host in candidates:
        if not _under(real_host, prefix_host):
            assert not prefixes.allows(url), url


@given(host=_host, sub=_label, path=_path)
def test_wildcard_matches_subdomains_but_never_the_bare_domain(
    host: str, sub: str, path: list[str]
) -> None:
    prefix = Prefix.parse(f"https://*.{host}")
    tail = "/".join(path)
    assert prefix.matches(f"https://{sub}.{host}/{tail}")
    assert not prefix.matches(f"https://{host}/{tail}")


@given(
    host=_host,
    depth=st.integers(min_value=1, max_value=4),
    escape=st.sampled_from(["..", "%2e%2e", ".%2E", "x%2F..%2F..", "..;"]),
    target=_label,
)
def test_traversal_never_escapes_the_prefix_path(
    host: str, depth: int, escape: str, target: str
) -> None:
    assume(target != "repo")
    prefixes = PrefixSet.from_lists([f"https://{host}/repo"])
    url = f"https://{host}/repo/" + "/".join([escape] * depth) + f"/{target}/x.whl"
    assert not prefixes.allows(url)
