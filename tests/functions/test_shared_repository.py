"""The built-in snowflake.snowpark.pypi_shared_repository (issue 13, item 5): in every account,
usable by every role, pointed by a setting at a public index (here a local pypiserver without
credentials), governed by the packages policy like any other repository."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import hoarfrost
from tests.functions.conftest import error_of, rows
from tests.support.pypiserver import PypiServer
from tests.support.wheels import build_wheel

CREATE = (
    "CREATE OR REPLACE FUNCTION {name}() RETURNS VARCHAR LANGUAGE PYTHON RUNTIME_VERSION = '3.11' "
    "ARTIFACT_REPOSITORY = snowflake.snowpark.pypi_shared_repository PACKAGES = ('{spec}') "
    "HANDLER = 'f' AS $$\nimport shared_pkg\ndef f():\n    return shared_pkg.__name__ + "
    "' ' + __import__('importlib.metadata').metadata.version('shared-pkg')\n$$"
)


@pytest.fixture(scope="module")
def public_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PypiServer]:
    wheels = tmp_path_factory.mktemp("shared-wheels")
    for version in ("1.0", "2.0"):
        build_wheel(wheels, "shared_pkg", version)
    with PypiServer(wheels, tmp_path_factory.mktemp("shared-index")) as server:
        yield server


def test_every_role_uses_the_shared_repository_under_the_policy(
    public_index: PypiServer, tmp_path: Path
) -> None:
    home = tmp_path / "acct"
    settings = {"pypi_shared_repository_url": public_index.index_url, "cache_dir": tmp_path / "c"}
    with hoarfrost.connect(home, **settings) as admin:
        admin.execute("CREATE USER plain")
        described = dict(
            zip(
                [
                    d[0]
                    for d in admin.execute(
                        "DESCRIBE ARTIFACT REPOSITORY snowflake.snowpark.pypi_shared_repository"
                    ).description
                ],
                admin.execute(
                    "DESCRIBE ARTIFACT REPOSITORY snowflake.snowpark.pypi_shared_repository"
                ).fetchone(),
                strict=True,
            )
        )
        assert public_index.index_url in str(described.values())
        with hoarfrost.connect(home, user="plain", **settings) as plain:
            assert rows(plain, "SELECT CURRENT_ROLE()") == [("PUBLIC",)]
            plain.execute(CREATE.format(name="from_shared", spec="shared_pkg"))
            assert rows(plain, "SELECT from_shared()") == [("shared_pkg 2.0",)]
            admin.execute(
                "CREATE PACKAGES POLICY no_shared_two LANGUAGE PYTHON "
                "BLOCKLIST = ('shared_pkg==2.0')"
            )
            admin.execute("ALTER ACCOUNT SET PACKAGES POLICY no_shared_two")
            error = error_of(plain, "SELECT from_shared()")  # tightened: stops existing ones
            assert "blocked by the packages policy BLOCKLIST entry 'shared_pkg==2.0'" in str(error)
            error = error_of(plain, CREATE.format(name="pinned_two", spec="shared_pkg==2.0"))
            assert "BLOCKLIST" in str(error)
            plain.execute(CREATE.format(name="from_shared", spec="shared_pkg"))
            assert rows(plain, "SELECT from_shared()") == [("shared_pkg 1.0",)]
