"""Fixtures for the network path (issue 5): wheel sets, a test CA, recording index servers and
the SQL that sets up a repository behind an integration."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trustme

import hoarfrost
from tests.support.hostile import HostileServer
from tests.support.pypiserver import build_chain_repository

PL_HOST = "nexus-pl.internal.example.com"  # does not resolve: only an endpoint reaches it
USER, PASSWORD = "ci-bot", "Pa55-w0rd-for-the-index"
CHAIN = ["app==2.0", "leaf==2.0", "mid==1.5"]  # what ('app') freezes to in the chain repository


@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("wheels")
    build_chain_repository(dest)
    return dest


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_pem(ca: trustme.CA, tmp_path: Path) -> Path:
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    return pem


IndexFactory = Callable[..., HostileServer]


@pytest.fixture
def index_server(wheels: Path, ca: trustme.CA) -> Iterator[IndexFactory]:
    """``factory(host="127.0.0.1", tls_for=None | "name", prefix="/simple/")``: a recording
    PEP 503 index of the chain wheels behind basic auth, at ``prefix``, over TLS with a
    certificate for ``tls_for`` when given."""
    started: list[HostileServer] = []

    def factory(
        host: str = "127.0.0.1", *, tls_for: str | None = None, prefix: str = "/simple/"
    ) -> HostileServer:
        ctx = None
        if tls_for is not None:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ca.issue_cert(tls_for).configure_cert(ctx)
        server = HostileServer(host, auth=(USER, PASSWORD), ssl_context=ctx)
        server.serve_index(sorted(wheels.glob("*.whl")), prefix=prefix)
        started.append(server.__enter__())
        return server

    yield factory
    for server in started:
        server.__exit__(None, None, None)


def setup_repository(
    con: hoarfrost.Connection,
    base_url: str,
    *,
    privatelink: bool = False,
    name: str = "repo",
) -> None:
    """Secret (once), integration ``<name>_int`` allowing ``base_url``, repository ``<name>``
    with index ``<base_url>/simple/``."""
    con.execute(
        "CREATE SECRET IF NOT EXISTS repo_secret TYPE = PASSWORD "
        f"USERNAME = '{USER}' PASSWORD = '{PASSWORD}'"
    )
    con.execute(
        f"CREATE OR REPLACE API INTEGRATION {name}_int API_PROVIDER = ARTIFACT_REPOSITORY_API "
        f"API_ALLOWED_PREFIXES = ('{base_url}') "
        f"USE_PRIVATELINK_ENDPOINT = {'TRUE' if privatelink else 'FALSE'} "
        "ALLOWED_AUTHENTICATION_SECRETS = (repo_secret) ENABLED = TRUE"
    )
    con.execute(
        f"CREATE OR REPLACE ARTIFACT REPOSITORY {name} TYPE = PYPI API_INTEGRATION = {name}_int "
        f"INDEX_URL = '{base_url}/simple/' AUTHENTICATION_SECRET = repo_secret"
    )


def resolve(con: hoarfrost.Connection, repo: str = "repo", specs: str = "('app')") -> list[str]:
    row = con.execute(
        "SELECT SYSTEM$RESOLVE_PYTHON_PACKAGES('3.11', %s, %s)", [specs, repo]
    ).fetchone()
    assert row is not None
    return list(json.loads(row[0]))


def resolve_error(con: hoarfrost.Connection, repo: str = "repo") -> hoarfrost.Error:
    with pytest.raises(hoarfrost.Error) as info:
        resolve(con, repo)
    assert PASSWORD not in str(info.value)
    return info.value


def sql_value(con: hoarfrost.Connection, sql: str) -> str:
    row = con.execute(sql).fetchone()
    assert row is not None
    return str(row[0])
