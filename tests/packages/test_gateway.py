"""The gateway against real loopback servers: an honest authenticated index, a hostile one,
and uv resolving and installing through it."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from uv import find_uv_bin

from hoarfrost.config import Settings
from hoarfrost.errors import RepositoryError
from hoarfrost.packages.credentials import Credentials
from hoarfrost.packages.gateway import Gateway
from hoarfrost.packages.policy import Policy
from hoarfrost.packages.prefixes import PrefixSet
from hoarfrost.packages.retention import FetchRecord, FileStore
from tests.packages.conftest import PASSWORD, USER
from tests.support.hostile import HostileServer, Reply, wheel_metadata
from tests.support.wheels import build_wheel

CREDS = Credentials.basic(USER, PASSWORD)
JSON_ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def fetch_records() -> list[FetchRecord]:
    return []


@pytest.fixture
def open_gateway(
    auth_index: HostileServer,
    gw_store: FileStore,
    gw_settings: Settings,
    fetch_records: list[FetchRecord],
) -> Iterator[Any]:
    """open_gateway(**overrides) -> a started Gateway on ``auth_index`` (closed at teardown)."""
    started: list[Gateway] = []

    def make(allowed: list[str] | None = None, **kw: Any) -> Gateway:
        args: dict[str, Any] = {
            "index_url": f"{auth_index.url}/simple/",
            "prefixes": PrefixSet.from_lists(allowed or [auth_index.url]),
            "credentials": CREDS,
            "store": gw_store,
            "settings": gw_settings,
            "on_fetch": fetch_records.append,
            "repository_name": "DB.S.REPO",
        }
        args.update(kw)
        gw = Gateway(**args).start()
        started.append(gw)
        return gw

    yield make
    for gw in started:
        gw.close()


def get(url: str, **headers: str) -> httpx.Response:
    return httpx.get(url, headers=headers, timeout=10)


def links(gw: Gateway, project: str) -> list[dict[str, Any]]:
    response = get(f"{gw.index_url}{project}/", accept=JSON_ACCEPT)
    assert response.status_code == 200, response.text
    return list(response.json()["files"])


def file_url(gw: Gateway, href: str) -> str:
    return str(httpx.URL(gw.index_url).join(href))


# -- the honest index ---------------------------------------------------------------------------


def test_token_guard(
    open_gateway: Any, auth_index: HostileServer, chain_wheels: dict[str, Path]
) -> None:
    auth_index.serve_index(chain_wheels.values())
    gw = open_gateway()
    base = gw.index_url.split("/", 3)[:3]
    for path in ("/simple/alpha/", "/wrong-token/simple/alpha/", "/wrong-token/files/x/a.whl"):
        assert get("/".join(base) + path).status_code == 404
    assert auth_index.requests == []
    assert get(f"{gw.index_url}alpha/").status_code == 200


@pytest.mark.parametrize(("fmt", "absolute"), [("html", False), ("json", False), ("json", True)])
def test_pages_in_json_and_html_with_links_to_the_gateway(
    open_gateway: Any,
    auth_index: HostileServer,
    chain_wheels: dict[str, Path],
    fmt: str,
    absolute: bool,
) -> None:
    auth_index.serve_index(chain_wheels.values(), fmt=fmt, absolute=absolute)
    gw = open_gateway()
    js = get(f"{gw.index_url}Alpha/", accept=JSON_ACCEPT)
    assert js.headers["content-type"].startswith("application/vnd.pypi.simple.v1+json")
    doc = js.json()
    assert doc["name"] == "alpha" and doc["versions"] == ["1.0", "2.0"]
    by_name = {f["filename"]: f for f in doc["files"]}
    assert set(by_name) == {"alpha-1.0-py3-none-any.whl", "alpha-2.0-py3-none-any.whl"}
    for name, f in by_name.items():
        assert f["hashes"] == {"sha256": sha(chain_wheels[name])}
        assert f["url"].startswith(
            f"/{gw.index_url.split('/')[3]}/files/{sha(chain_wheels[name])}/"
        )
    page = get(f"{gw.index_url}alpha/")
    assert page.headers["content-type"].startswith("text/html")
    assert f"#sha256={sha(chain_wheels['alpha-1.0-py3-none-any.whl'])}" in page.text
    assert auth_index.url not in page.text and auth_index.url not in js.text
    assert auth_index.requests[0].headers["authorization"] == CREDS.header()
    assert len(auth_index.requests) == 1  # one auth_index read per project per gateway


def test_file_is_verified_retained_recorded_and_then_served_offline(
    open_gateway: Any,
    auth_index: HostileServer,
    chain_wheels: dict[str, Path],
    gw_store: FileStore,
    fetch_records: list[FetchRecord],
) -> None:
    auth_index.serve_index(chain_wheels.values())
    gw = open_gateway()
    f = next(f for f in links(gw, "gamma"))
    data = get(file_url(gw, f["url"])).content
    assert data == chain_wheels["gamma-1.0-py3-none-any.whl"].read_bytes()
    assert gw_store.has(sha(chain_wheels["gamma-1.0-py3-none-any.whl"]))
    (rec,) = fetch_records
    assert (rec.repository, rec.filename, rec.size) == ("DB.S.REPO", f["filename"], len(data))
    assert rec.url == f"{auth_index.url}/packages/gamma-1.0-py3-none-any.whl"
    assert (
        rec.sha256 == sha(chain_wheels["gamma-1.0-py3-none-any.whl"]) and rec.policy_allowed is None
    )
    before = len(auth_index.requests)
    assert get(file_url(gw, f["url"])).content == data
    other = open_gateway()  # a later build, same gw_store: the page is read, the file is not
    g = links(other, "gamma")[0]
    assert get(file_url(other, g["url"])).content == data
    assert [r.path for r in auth_index.requests[before:]] == ["/simple/gamma/"]
    assert len(fetch_records) == 1


def test_head_and_range_on_files(
    open_gateway: Any, auth_index: HostileServer, chain_wheels: dict[str, Path]
) -> None:
    auth_index.serve_index(chain_wheels.values())
    gw = open_gateway()
    url = file_url(gw, links(gw, "beta")[0]["url"])
    data = chain_wheels["beta-1.0-py3-none-any.whl"].read_bytes()
    head = httpx.head(url)
    assert head.status_code == 200 and int(head.headers["content-length"]) == len(data)
    assert head.headers["accept-ranges"] == "bytes" and head.content == b""
    part = get(url, range="bytes=10-19")
    assert part.status_code == 206 and part.content == data[10:20]
    tail = get(url, range=f"bytes=-{len(data) - 5}")
    assert tail.content == data[5:]


def test_metadata_from_upstream_pep_658(
    open_gateway: Any, auth_index: HostileServer, chain_wheels: dict[str, Path]
) -> None:
    auth_index.serve_index(chain_wheels.values(), fmt="json", metadata=True)
    gw = open_gateway()
    f = next(f for f in links(gw, "alpha") if f["filename"].startswith("alpha-2.0"))
    meta = wheel_metadata(chain_wheels["alpha-2.0-py3-none-any.whl"])
    assert f["core-metadata"] == {"sha256": hashlib.sha256(meta).hexdigest()}
    assert get(file_url(gw, f["url"]) + ".metadata").content == meta
    assert auth_index.paths()[-1] == "/packages/alpha-2.0-py3-none-any.whl.metadata"
    html = get(f"{gw.index_url}alpha/").text
    assert f'data-core-metadata="sha256={hashlib.sha256(meta).hexdigest()}"' in html


def test_metadata_not_matching_its_sha256_is_502(
    open_gateway: Any, auth_index: HostileServer, chain_wheels: dict[str, Path]
) -> None:
    auth_index.serve_index(chain_wheels.values(), metadata=True)
    forged = b"Metadata-Version: 2.1\nName: gamma\nVersion: 1.0\nRequires-Dist: evil\n"
    auth_index.route("/packages/gamma-1.0-py3-none-any.whl.metadata", Reply(body=forged))
    gw = open_gateway()
    err = fail(gw, file_url(gw, links(gw, "gamma")[0]["url"]) + ".metadata", 502)
    assert "does not match its sha256" in err.msg


def test_metadata_read_from_the_wheel_when_upstream_has_none(
    open_gateway: Any, auth_index: HostileServer, chain_wheels: dict[str, Path]
) -> None:
    auth_index.serve_index(chain_wheels.values())
    gw = open_gateway()
    f = next(f for f in links(gw, "alpha") if f["filename"].startswith("alpha-1.0"))
    assert f["core-metadata"] is True
    meta = get(file_url(gw, f["url"]) + ".metadata")
    assert meta.content == wheel_metadata(chain_wheels["alpha-1.0-py3-none-any.whl"])
    assert b"Requires-Dist: beta" in meta.content


def test_policy_hides_disallowed_versions(
    open_gateway: Any,
    auth_index: HostileServer,
    chain_wheels: dict[str, Path],
    fetch_records: list[FetchRecord],
) -> None:
    auth_index.serve_index(chain_wheels.values())
    policy = Policy.from_strings(blocklist=["alpha==2.0"])
    gw = open_gateway(policy_filter=lambda n, v: policy.decide(n, v, at_creation=True))
    files = links(gw, "alpha")
    assert [f["filename"] for f in files] == ["alpha-1.0-py3-none-any.whl"]
    ((version, decision),) = gw.hidden_versions["alpha"]
    assert version == "2.0" and (decision.rule, decision.spec) == ("BLOCKLIST", "alpha==2.0")
    get(file_url(gw, files[0]["url"]))
    assert fetch_records[0].policy_allowed is True


def test_wrong_password_is_recorded_as_401(
    open_gateway: Any, auth_index: HostileServer, chain_wheels: dict[str, Path]
) -> None:
    auth_index.serve_index(chain_wheels.values())
    gw = open_gateway(credentials=Credentials.basic(USER, "wrong-pw"))
    assert get(f"{gw.index_url}alpha/").status_code == 404
    err = gw.first_error
    assert err is not None and err.http_status == 401
    assert "Authentication failed. Please check your credentials." in err.msg
    assert f"{auth_index.url}/simple/alpha/" in err.msg and "wrong-pw" not in err.msg


# -- the hostile index -------------------------------------------------------------------------


def hostile_page(auth_index: HostileServer, body: bytes, content_type: str = "text/html") -> None:
    auth_index.route("/simple/alpha/", Reply(body=body, headers={"Content-Type": content_type}))


def fail(gw: Gateway, url: str, status: int) -> RepositoryError:
    response = get(url)
    assert response.status_code in (404, 502)
    err = gw.first_error
    assert err is not None and err.http_status == status, err
    assert PASSWORD not in err.msg and CREDS.header() not in err.msg
    return err


def test_file_link_outside_prefixes_is_refused_without_connecting(
    open_gateway: Any,
    auth_index: HostileServer,
    second_host: HostileServer,
    chain_wheels: dict[str, Path],
) -> None:
    evil = f"{second_host.url}/evil/alpha-3.0-py3-none-any.whl"
    hostile_page(auth_index, f'<a href="{evil}">alpha-3.0-py3-none-any.whl</a>'.encode())
    gw = open_gateway()
    (f,) = links(gw, "alpha")
    err = fail(gw, file_url(gw, f["url"]), 400)
    assert evil in err.msg and "allowed prefixes" in err.msg
    assert fail(gw, file_url(gw, f["url"]) + ".metadata", 400) is err
    assert second_host.connections == 0


def test_file_redirect_to_a_host_outside_prefixes_is_403(
    open_gateway: Any,
    auth_index: HostileServer,
    second_host: HostileServer,
    chain_wheels: dict[str, Path],
) -> None:
    auth_index.serve_index(chain_wheels.values())
    target = f"{second_host.url}/x/gamma-1.0-py3-none-any.whl"
    auth_index.route(
        "/packages/gamma-1.0-py3-none-any.whl", Reply(302, headers={"Location": target})
    )
    gw = open_gateway()
    err = fail(gw, file_url(gw, links(gw, "gamma")[0]["url"]), 403)
    assert target in err.msg
    assert second_host.connections == 0


def test_file_redirect_to_an_allowed_cdn_gets_no_credentials(
    open_gateway: Any,
    auth_index: HostileServer,
    second_host: HostileServer,
    chain_wheels: dict[str, Path],
    fetch_records: list[FetchRecord],
) -> None:
    auth_index.serve_index(chain_wheels.values())
    wheel = chain_wheels["gamma-1.0-py3-none-any.whl"]
    cdn = f"{second_host.url}/cdn/gamma-1.0-py3-none-any.whl"
    auth_index.route("/packages/gamma-1.0-py3-none-any.whl", Reply(302, headers={"Location": cdn}))
    second_host.route("/cdn/gamma-1.0-py3-none-any.whl", Reply(body=wheel.read_bytes()))
    gw = open_gateway(allowed=[auth_index.url, f"{second_host.url}/cdn"])
    assert get(file_url(gw, links(gw, "gamma")[0]["url"])).content == wheel.read_bytes()
    assert [r.path for r in second_host.requests] == ["/cdn/gamma-1.0-py3-none-any.whl"]
    assert "authorization" not in second_host.requests[0].headers
    assert fetch_records[0].url == cdn


def test_redirect_loop_on_the_page_is_502(open_gateway: Any, auth_index: HostileServer) -> None:
    auth_index.route("/simple/alpha/", Reply(302, headers={"Location": "/loop/"}))
    auth_index.route("/loop/", Reply(302, headers={"Location": "/simple/alpha/"}))
    gw = open_gateway()
    assert "loop" in fail(gw, f"{gw.index_url}alpha/", 502).msg


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'<html><body><a href="alpha-1.0-py3-none-any.whl', "text/html"),
        (b'<html><a href="alpha-1.0-py3-none-any.whl"\x00>x</a>', "text/html"),
        (b'{"meta": {"api-version": "1.1"}, "files": [{"filename": ', "application/json"),
        (
            b'{"meta": {"api-version": "1.1"}, "files": {"a": 1}}',
            "application/vnd.pypi.simple.v1+json",
        ),
        (b'{"meta": {"api-version": "2.0"}, "files": []}', "application/vnd.pypi.simple.v1+json"),
    ],
)
def test_malformed_pages_are_502(
    open_gateway: Any, auth_index: HostileServer, body: bytes, content_type: str
) -> None:
    hostile_page(auth_index, body, content_type)
    gw = open_gateway()
    err = fail(gw, f"{gw.index_url}alpha/", 502)
    kind = "JSON" if "json" in content_type else "HTML"
    assert f"Malformed {kind} index page at {auth_index.url}/simple/alpha/" in err.msg


def test_oversized_page_is_502(open_gateway: Any, auth_index: HostileServer) -> None:
    hostile_page(auth_index, b"<!-- padding -->" * 10_000)
    gw = open_gateway()
    assert "larger than the limit" in fail(gw, f"{gw.index_url}alpha/", 502).msg


def test_sha256_mismatch_is_refused_and_not_retained(
    open_gateway: Any,
    auth_index: HostileServer,
    chain_wheels: dict[str, Path],
    gw_store: FileStore,
    fetch_records: list[FetchRecord],
    tmp_path: Path,
) -> None:
    auth_index.serve_index(chain_wheels.values())
    impostor = build_wheel(tmp_path, "gamma", "1.0", files={"gamma/__init__.py": "evil = 1\n"})
    auth_index.route("/packages/gamma-1.0-py3-none-any.whl", Reply(body=impostor.read_bytes()))
    gw = open_gateway()
    err = fail(gw, file_url(gw, links(gw, "gamma")[0]["url"]), 502)
    assert "gamma-1.0-py3-none-any.whl" in err.msg and "sha256 mismatch" in err.msg
    assert not gw_store.has(sha(impostor)) and fetch_records == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (
            json.dumps(
                {
                    "meta": {"api-version": "1.0"},
                    "files": [{"filename": "../../evil-1.0-py3-none-any.whl", "url": "x.whl"}],
                }
            ).encode(),
            "application/vnd.pypi.simple.v1+json",
        ),
        (b'<a href="..%2F..%2Fevil-1.0-py3-none-any.whl">x</a>', "text/html"),
        (b'<a href="/files/beta-1.0-py3-none-any.whl">beta</a>', "text/html"),
        (b'<a href="/files/alpha-1.0-py3-none-any.whl.exe">x</a>', "text/html"),
        (b'<a href="/files/alpha-1.0-py3-none-any-and-more.whl">x</a>', "text/html"),
    ],
)
def test_unsafe_or_foreign_file_names_are_dropped(
    open_gateway: Any, auth_index: HostileServer, body: bytes, content_type: str
) -> None:
    hostile_page(auth_index, body, content_type)
    gw = open_gateway()
    response = get(f"{gw.index_url}alpha/", accept=JSON_ACCEPT)
    if b".exe" in body:  # not a wheel at all: silently ignored, like an sdist
        assert response.status_code == 200 and response.json()["files"] == []
        return
    err = fail(gw, f"{gw.index_url}alpha/", 502)
    assert "no usable wheel for alpha" in err.msg and gw.hostile_links
    assert any(w in err.msg for w in ("path traversal", "project 'beta'", "invalid wheel"))


def test_good_links_survive_beside_hostile_ones(
    open_gateway: Any,
    auth_index: HostileServer,
    chain_wheels: dict[str, Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = chain_wheels["alpha-1.0-py3-none-any.whl"]
    auth_index.route("/files/alpha-1.0-py3-none-any.whl", Reply(body=good.read_bytes()))
    hostile_page(
        auth_index,
        b'<a href="..%2Fevil-1.0-py3-none-any.whl">x</a>'
        b'<a href="../../files/alpha-1.0-py3-none-any.whl">a</a>',
    )
    gw = open_gateway()
    (f,) = links(gw, "alpha")
    assert f["hashes"] == {}  # no hash auth_index: pinned at first download
    assert get(file_url(gw, f["url"])).content == good.read_bytes()
    assert links(gw, "alpha")[0]["hashes"] == {"sha256": sha(good)}
    assert gw.errors == [] and len(gw.hostile_links) == 1
    assert "path traversal" in caplog.text and PASSWORD not in caplog.text


# -- offline ------------------------------------------------------------------------------------


def test_offline_gateway_serves_retained_files_only(
    gw_store: FileStore, chain_wheels: dict[str, Path]
) -> None:
    known = [
        (gw_store.put_file(p).sha256, n) for n, p in chain_wheels.items() if n.startswith("beta")
    ]
    missing = hashlib.sha256(b"gone").hexdigest()
    with Gateway.offline(gw_store, [*known, (missing, "gamma-1.0-py3-none-any.whl")]) as gw:
        files = links(gw, "beta")
        assert sorted(f["filename"] for f in files) == sorted(n for _, n in known)
        f = files[0]
        assert get(file_url(gw, f["url"])).content == chain_wheels[f["filename"]].read_bytes()
        assert b"Name: beta" in get(file_url(gw, f["url"]) + ".metadata").content
        assert get(f"{gw.index_url}gamma/").status_code == 404
        assert gw.first_error is not None and "gamma-1.0-py3-none-any.whl" in gw.first_error.msg
        assert get(f"{gw.index_url}unknown/", accept=JSON_ACCEPT).json()["files"] == []


# -- uv end to end ------------------------------------------------------------------------------


def uv(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(cwd),
        "UV_NO_CONFIG": "1",
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_CACHE_DIR": str(cwd / "uv-cache"),
    }
    return subprocess.run(
        [find_uv_bin(), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
    )


@pytest.mark.slow
def test_uv_resolves_and_installs_through_the_gateway_then_offline(
    open_gateway: Any,
    auth_index: HostileServer,
    chain_wheels: dict[str, Path],
    gw_store: FileStore,
    fetch_records: list[FetchRecord],
    tmp_path: Path,
) -> None:
    auth_index.serve_index(chain_wheels.values(), fmt="json", metadata=True)
    gw = open_gateway()
    common = ["--python-version", "3.11", "--only-binary", ":all:", "--no-header"]
    lock = uv("pip", "compile", "-", "--index-url", gw.index_url, "--generate-hashes", *common,
              cwd=tmp_path, stdin="alpha\n")  # fmt: skip
    assert lock.returncode == 0, lock.stderr
    pins = [line.split(" ")[0] for line in lock.stdout.splitlines() if "==" in line]
    assert pins == ["alpha==2.0", "beta==1.1", "gamma==1.0"]
    (tmp_path / "lock.txt").write_text(lock.stdout)
    install = ["pip", "install", "--require-hashes", "-r", "lock.txt", "--python-version", "3.11"]
    done = uv(*install, "--index-url", gw.index_url, "--target", "env1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "env1" / "gamma" / "__init__.py").is_file()
    assert sorted(r.filename for r in fetch_records) == [
        "alpha-2.0-py3-none-any.whl", "beta-1.1-py3-none-any.whl", "gamma-1.0-py3-none-any.whl"
    ]  # fmt: skip
    assert all(PASSWORD not in a for a in lock.args + done.args)

    # The auth_index goes away: the retained files rebuild the environment with no index at all.
    retained = [(r.sha256, r.filename) for r in fetch_records]
    auth_index.route("/simple/alpha/", Reply(503))
    cold = ["--no-index", "--find-links", str(gw_store.link_dir(retained)), "--no-cache"]
    rebuilt = uv(*install, *cold, "--target", "env2", cwd=tmp_path)
    assert rebuilt.returncode == 0, rebuilt.stderr
    with Gateway.offline(gw_store, retained) as offline:
        again = uv(*install, "--index-url", offline.index_url, "--no-cache", "--target", "env3",
                   cwd=tmp_path)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert (
        (tmp_path / "env3" / "alpha" / "__init__.py").read_text().startswith("__version__ = '2.0'")
    )


@pytest.mark.slow
def test_uv_through_the_gateway_to_a_real_pypiserver_with_auth(
    pypiserver_factory: Any,
    chain_wheels: dict[str, Path],
    gw_store: FileStore,
    gw_settings: Settings,
    tmp_path: Path,
) -> None:
    packages = tmp_path / "packages"
    packages.mkdir()
    for name, path in chain_wheels.items():
        (packages / name).write_bytes(path.read_bytes())
    server = pypiserver_factory(packages, auth=(USER, PASSWORD))
    prefixes = PrefixSet.from_lists([server.url])

    def gateway(creds: Credentials) -> Gateway:
        return Gateway(index_url=server.index_url, prefixes=prefixes, credentials=creds,
                       store=gw_store, settings=gw_settings)  # fmt: skip

    with gateway(CREDS) as gw:
        lock = uv("pip", "compile", "-", "--index-url", gw.index_url, "--python-version", "3.11",
                  "--no-header", cwd=tmp_path, stdin="alpha<2\n")  # fmt: skip
    assert lock.returncode == 0, lock.stderr
    pins = [line.split(" ")[0] for line in lock.stdout.splitlines() if "==" in line]
    assert pins == ["alpha==1.0", "beta==1.1", "gamma==1.0"]
    with gateway(Credentials.basic(USER, "wrong-pw")) as bad:
        failed = uv("pip", "compile", "-", "--index-url", bad.index_url, "--python-version", "3.11",
                    "--no-cache", cwd=tmp_path, stdin="alpha\n")  # fmt: skip
        assert failed.returncode != 0
        assert bad.first_error is not None and bad.first_error.http_status == 401
        assert server.index_url in bad.first_error.msg
