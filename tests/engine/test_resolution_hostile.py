"""A hostile index through the engine (issue 3 acceptance): the SQL objects, the gateway and uv
against a recording server of our own (``tests/support/hostile.py``). Each case runs the
CREATE-time resolution, ``SYSTEM$RESOLVE_PYTHON_PACKAGES``, and checks the error users get (the
HTTP meaning of SPEC.md section 6, the upstream URL, never the password) and what the hosts that
must not be contacted received."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import hoarfrost
from hoarfrost.errors import RepositoryError
from tests.support.hostile import HostileServer, Reply
from tests.support.pypiserver import build_chain_repository
from tests.support.wheels import build_wheel

pytestmark = pytest.mark.slow

USER, PASSWORD = "ci-bot", "Ho5tile-Index-Pa55word"
RESOLVE = "SELECT SYSTEM$RESOLVE_PYTHON_PACKAGES('3.11', $$('app')$$, 'repo')"
LEAF = "leaf-2.0-py3-none-any.whl"


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_chain_repository(tmp_path_factory.mktemp("wheels"))


@pytest.fixture
def index(wheels: dict[str, Path]) -> Iterator[HostileServer]:
    """The customer's index on 127.0.0.1, behind basic auth, honest until a test scripts it."""
    with HostileServer("127.0.0.1", auth=(USER, PASSWORD)) as server:
        server.serve_index(wheels.values())
        yield server


@pytest.fixture
def other_port() -> Iterator[HostileServer]:
    """Another port of the same loopback address, outside the allowed prefixes."""
    with HostileServer("127.0.0.1") as server:
        yield server


@pytest.fixture
def second_host() -> Iterator[HostileServer]:
    """A second "host" (127.0.0.2) with no auth of its own."""
    with HostileServer("127.0.0.2") as server:
        yield server


def connect(
    tmp_path: Path, index: HostileServer, *allowed: str, **settings: object
) -> hoarfrost.Connection:
    con = hoarfrost.connect(":memory:", cache_dir=tmp_path / "cache", **settings)
    con.execute(
        f"CREATE SECRET repo_secret TYPE = PASSWORD USERNAME = '{USER}' PASSWORD = %s", [PASSWORD]
    )
    prefixes = ", ".join(f"'{p}'" for p in (index.url, *allowed))
    con.execute(
        "CREATE API INTEGRATION repo_int API_PROVIDER = ARTIFACT_REPOSITORY_API "
        f"API_ALLOWED_PREFIXES = ({prefixes}) ALLOWED_AUTHENTICATION_SECRETS = (repo_secret)"
    )
    con.execute(
        "CREATE ARTIFACT REPOSITORY repo TYPE = PYPI API_INTEGRATION = repo_int "
        f"INDEX_URL = '{index.url}/simple/' AUTHENTICATION_SECRET = repo_secret"
    )
    return con


def resolve_fails(con: hoarfrost.Connection, http_status: int) -> str:
    """Run the resolution, expect a RepositoryError of ``http_status``; its text."""
    with pytest.raises(hoarfrost.Error) as info, con:
        con.execute(RESOLVE)
    error = info.value
    assert isinstance(error, RepositoryError), repr(error)
    assert error.http_status == http_status, str(error)
    text = str(error)
    assert text.startswith(f"{error.errno} ({error.sqlstate}): ") and error.errno == 100400
    assert PASSWORD not in text and "Authorization" not in text
    return text


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def page(server: HostileServer, project: str, body: bytes | str, content_type: str) -> None:
    raw = body.encode() if isinstance(body, str) else body
    server.route(f"/simple/{project}/", Reply(body=raw, headers={"Content-Type": content_type}))


def test_the_honest_index_resolves(tmp_path: Path, index: HostileServer) -> None:
    """The baseline every hostile case departs from."""
    with connect(tmp_path, index) as con:
        row = con.execute(RESOLVE).fetchone()
    assert row is not None and json.loads(row[0]) == ["app==2.0", "leaf==2.0", "mid==1.5"]
    assert all(r.headers.get("authorization") for r in index.requests)


def test_file_link_to_a_port_outside_the_prefixes_is_400_without_connecting(
    tmp_path: Path, index: HostileServer, other_port: HostileServer, wheels: dict[str, Path]
) -> None:
    wheel = wheels["app-2.0-py3-none-any.whl"]
    other_port.route(f"/evil/{wheel.name}", Reply(body=wheel.read_bytes()))
    evil = f"{other_port.url}/evil/{wheel.name}"
    page(
        index,
        "app",
        f'<a href="{evil}#sha256={sha(wheel.read_bytes())}">{wheel.name}</a>',
        "text/html",
    )
    text = resolve_fails(connect(tmp_path, index), 400)
    assert evil in text and "allowed prefixes" in text
    assert other_port.connections == 0 and other_port.requests == []


def test_redirect_to_a_host_outside_the_prefixes_is_403_without_contacting_it(
    tmp_path: Path, index: HostileServer, second_host: HostileServer
) -> None:
    target = f"{second_host.url}/x/{LEAF}"
    index.route(f"/packages/{LEAF}", Reply(302, headers={"Location": target}))
    text = resolve_fails(connect(tmp_path, index), 403)
    assert target in text
    assert second_host.connections == 0 and second_host.requests == []


def test_redirect_to_an_allowed_second_host_works_without_credentials(
    tmp_path: Path, index: HostileServer, second_host: HostileServer, wheels: dict[str, Path]
) -> None:
    cdn = f"{second_host.url}/cdn/{LEAF}"
    index.route(f"/packages/{LEAF}", Reply(302, headers={"Location": cdn}))
    second_host.route(f"/cdn/{LEAF}", Reply(body=wheels[LEAF].read_bytes()))
    with connect(tmp_path, index, f"{second_host.url}/cdn") as con:
        row = con.execute(RESOLVE).fetchone()
        urls = dict(
            con.execute(
                "SELECT filename, url FROM TABLE(INFORMATION_SCHEMA.PACKAGE_FETCH_HISTORY())"
            ).fetchall()
        )
    assert row is not None and json.loads(row[0]) == ["app==2.0", "leaf==2.0", "mid==1.5"]
    assert [r.path for r in second_host.requests] == [f"/cdn/{LEAF}"]
    assert all("authorization" not in r.headers for r in second_host.requests)
    assert urls[LEAF] == cdn  # the audit names where the bytes really came from
    assert any(
        r.path == f"/packages/{LEAF}" and r.headers.get("authorization") for r in index.requests
    )


def test_redirect_loop_is_502(tmp_path: Path, index: HostileServer) -> None:
    index.route("/simple/app/", Reply(302, headers={"Location": "/loop/"}))
    index.route("/loop/", Reply(302, headers={"Location": "/simple/app/"}))
    text = resolve_fails(connect(tmp_path, index), 502)
    assert f"Redirect loop at {index.url}/" in text


@pytest.mark.parametrize(
    ("body", "content_type", "kind"),
    [
        (b'<html><body><a href="app-2.0-py3-none-any.whl', "text/html", "HTML"),
        (
            b'{"meta": {"api-version": "1.1"}, "files": [{"filename": ',
            "application/vnd.pypi.simple.v1+json",
            "JSON",
        ),
    ],
    ids=["html", "json"],
)
def test_malformed_page_is_502(
    tmp_path: Path, index: HostileServer, body: bytes, content_type: str, kind: str
) -> None:
    page(index, "app", body, content_type)
    text = resolve_fails(connect(tmp_path, index), 502)
    assert f"Malformed {kind} index page at {index.url}/simple/app/" in text


def test_oversized_page_is_502(tmp_path: Path, index: HostileServer) -> None:
    page(index, "app", b"<!-- padding -->" * 1024, "text/html")  # 16 KiB
    text = resolve_fails(connect(tmp_path, index, max_page_size=8192), 502)
    assert "larger than the limit" in text and f"{index.url}/simple/app/" in text


def test_sha256_mismatch_is_502_and_nothing_is_retained(
    tmp_path: Path, index: HostileServer, wheels: dict[str, Path]
) -> None:
    impostor = build_wheel(
        tmp_path / "impostor", "leaf", "2.0", files={"leaf/__init__.py": "evil = 1\n"}
    )
    index.route(f"/packages/{LEAF}", Reply(body=impostor.read_bytes()))
    con = connect(tmp_path, index)
    text = resolve_fails(con, 502)
    assert LEAF in text and "sha256 mismatch" in text and f"{index.url}/packages/{LEAF}" in text
    retained = {p.name for p in (tmp_path / "cache" / "files").rglob("*") if p.is_file()}
    assert sha(impostor.read_bytes()) not in retained
    assert retained <= {sha(w.read_bytes()) for w in wheels.values()}  # no partial download left


def test_path_traversal_file_name_is_refused(tmp_path: Path, index: HostileServer) -> None:
    doc = {
        "meta": {"api-version": "1.0"},
        "name": "app",
        "files": [
            {
                "filename": "../../app-2.0-py3-none-any.whl",
                "url": "../../packages/x.whl",
                "hashes": {},
            }
        ],
    }
    page(index, "app", json.dumps(doc), "application/vnd.pypi.simple.v1+json")
    text = resolve_fails(connect(tmp_path, index), 502)
    assert "no usable wheel for app" in text and "path traversal" in text
    assert not any("x.whl" in r.path for r in index.requests)
