"""`hoarfrost envs list` and `hoarfrost envs prune` keep what functions use."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import hoarfrost
from hoarfrost.cli import cli
from hoarfrost.engine.resolution import packages_of
from hoarfrost.sql.names import parse_name
from tests.conftest import PypiServerFactory
from tests.support.pypiserver import build_chain_repository

FUNCTION = """CREATE FUNCTION hello() RETURNS STRING LANGUAGE PYTHON RUNTIME_VERSION = '3.11'
ARTIFACT_REPOSITORY = repo PACKAGES = ('app') HANDLER = 'h'
AS $$
import app
def h():
    return app.say_hello()
$$"""


def test_envs_list_and_prune(
    tmp_path: Path, pypiserver_factory: PypiServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_chain_repository(tmp_path / "wheels")
    server = pypiserver_factory(tmp_path / "wheels", auth=("u", "pw"))
    cache, home = tmp_path / "cache", tmp_path / "home"
    monkeypatch.setenv("HOARFROST_CACHE_DIR", str(cache))
    with hoarfrost.connect(home) as con:
        con.execute("CREATE SECRET s TYPE = PASSWORD USERNAME = 'u' PASSWORD = 'pw'")
        con.execute(
            f"CREATE API INTEGRATION i API_PROVIDER = ARTIFACT_REPOSITORY_API API_ALLOWED_PREFIXES = ('{server.url}') ALLOWED_AUTHENTICATION_SECRETS = (s)"
        )
        con.execute(
            f"CREATE ARTIFACT REPOSITORY repo TYPE = PYPI API_INTEGRATION = i INDEX_URL = '{server.index_url}' AUTHENTICATION_SECRET = s"
        )
        con.execute(FUNCTION)
        unused, _ = packages_of(con.engine).resolve(
            con.session, "3.11", ["leaf==1.0"], parse_name("repo")
        )
        assert packages_of(con.engine).envs.exists(unused)

    runner = CliRunner()
    listed = runner.invoke(cli, ["envs", "list", "--home", str(home)], env={"COLUMNS": "400"})
    assert listed.exit_code == 0, listed.output
    assert "app==2.0" in listed.output and "leaf==1.0" in listed.output
    assert "HOARFROST.PUBLIC.HELLO()" in listed.output

    pruned = runner.invoke(cli, ["envs", "prune", "--home", str(home)])
    assert pruned.exit_code == 0, pruned.output
    assert "Removed 1 environment(s); kept 1 in use." in pruned.output

    with hoarfrost.connect(home) as con:
        assert not packages_of(con.engine).envs.exists(unused)
        assert con.execute("SELECT hello()").fetchone() == ("Hello from app 2.0",)
