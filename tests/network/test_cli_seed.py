"""SEED.md's integration and repository statements, the egress query and the private-link
integration, run through the installed ``hoarfrost sql`` as written (only the hosts of the public
repository are replaced by a loopback server; the private-link host is kept and reached through
a provisioned endpoint)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.network.conftest import CHAIN, PASSWORD, PL_HOST, USER, IndexFactory

SCRIPT = Path(sys.executable).with_name("hoarfrost")
SEED_PATH = "/repository/pypi-proxy/simple/"


def _hoarfrost(home: Path, sql_file: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HOARFROST_")}
    environ.update(env)
    return subprocess.run(
        [str(SCRIPT), "sql", "--home", str(home), "-f", str(sql_file), "--format", "json"],
        capture_output=True,
        text=True,
        env=environ,
        timeout=300,
    )


def _seed_script(public: str, pl_port: int) -> str:
    return f"""
CREATE OR REPLACE SECRET my_repo_secret
  TYPE = PASSWORD
  USERNAME = '{USER}'
  PASSWORD = '{PASSWORD}';

CREATE OR REPLACE API INTEGRATION python_repo_integration
  API_PROVIDER = ARTIFACT_REPOSITORY_API
  API_ALLOWED_PREFIXES = ('{public}', 'https://artifactory.example.com')
  ALLOWED_AUTHENTICATION_SECRETS = (my_repo_secret)
  ENABLED = TRUE;

SELECT SYSTEM$GET_SNOWFLAKE_EGRESS_IP_RANGES();

SELECT SYSTEM$PROVISION_PRIVATELINK_ENDPOINT('127.0.0.1:{pl_port}', '{PL_HOST}');

CREATE OR REPLACE API INTEGRATION python_repo_integration_pl
  API_PROVIDER = ARTIFACT_REPOSITORY_API
  API_ALLOWED_PREFIXES = ('https://{PL_HOST}')
  USE_PRIVATELINK_ENDPOINT = TRUE
  ALLOWED_AUTHENTICATION_SECRETS = (my_repo_secret)
  ENABLED = TRUE;

-- Create the artifact repository object
CREATE OR REPLACE ARTIFACT REPOSITORY my_python_repo
  TYPE = PYPI
  API_INTEGRATION = python_repo_integration
  INDEX_URL = '{public}{SEED_PATH}'
  AUTHENTICATION_SECRET = my_repo_secret
  COMMENT = 'Customer-hosted Python package repository (Nexus)';

CREATE OR REPLACE ARTIFACT REPOSITORY my_python_repo_pl
  TYPE = PYPI
  API_INTEGRATION = python_repo_integration_pl
  INDEX_URL = 'https://{PL_HOST}{SEED_PATH}'
  AUTHENTICATION_SECRET = my_repo_secret
  COMMENT = 'Customer-hosted Python package repository (Nexus, private link)';

SELECT SYSTEM$RESOLVE_PYTHON_PACKAGES('3.11', $$('app')$$, 'my_python_repo') AS public_lock;
SELECT SYSTEM$RESOLVE_PYTHON_PACKAGES('3.11', $$('app')$$, 'my_python_repo_pl') AS private_lock;
SELECT SYSTEM$GET_PRIVATELINK_ENDPOINTS_INFO() AS endpoints;
"""


def test_seed_statements_through_the_cli(
    tmp_path: Path, index_server: IndexFactory, ca_pem: Path
) -> None:
    public = index_server("127.0.0.1", prefix=SEED_PATH)
    private = index_server("127.0.0.1", tls_for=PL_HOST, prefix=SEED_PATH)
    script = tmp_path / "seed.sql"
    script.write_text(_seed_script(public.url, private.port))
    env = {
        "HOARFROST_EDITION": "BUSINESS_CRITICAL",
        "HOARFROST_EGRESS_SOURCE_ADDRESS": "127.0.0.2",
        "HOARFROST_EGRESS_RANGES": "127.0.0.0/30@2025-01-01@2099-12-31",
        "HOARFROST_CA_BUNDLE": str(ca_pem),
        "HOARFROST_CACHE_DIR": str(tmp_path / "cache"),
    }
    proc = _hoarfrost(tmp_path / "acct", script, env)
    assert proc.returncode == 0, proc.stderr
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(results) == 10
    assert results[1] == [{"status": "Integration PYTHON_REPO_INTEGRATION successfully created."}]
    (egress,) = results[2][0].values()
    assert json.loads(egress) == [
        {
            "ipv4_prefix": "127.0.0.0/30",
            "effective": "2025-01-01T00:00:00Z",
            "expires": "2099-12-31T00:00:00Z",
        }
    ]
    (provisioned,) = results[3][0].values()
    assert "has been provisioned successfully" in provisioned
    assert results[4] == [
        {"status": "Integration PYTHON_REPO_INTEGRATION_PL successfully created."}
    ]
    assert json.loads(results[7][0]["PUBLIC_LOCK"]) == CHAIN
    assert json.loads(results[8][0]["PRIVATE_LOCK"]) == CHAIN
    assert [e["host"] for e in json.loads(results[9][0]["ENDPOINTS"])] == [PL_HOST]
    for server in (public, private):
        assert server.requests and {r.peer[0] for r in server.requests} == {"127.0.0.2"}
    assert {r.headers["host"] for r in private.requests} == {PL_HOST}


def test_source_outside_the_published_ranges_stops_the_cli(tmp_path: Path) -> None:
    script = tmp_path / "egress.sql"
    script.write_text("SELECT SYSTEM$GET_SNOWFLAKE_EGRESS_IP_RANGES();\n")
    env = {"HOARFROST_EGRESS_SOURCE_ADDRESS": "127.0.0.2", "HOARFROST_EGRESS_RANGES": "10.0.0.0/8"}
    proc = _hoarfrost(tmp_path / "acct", script, env)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith(
        "hoarfrost: 251005 (08001): HOARFROST_EGRESS_SOURCE_ADDRESS 127.0.0.2 is not inside the "
        "published egress ranges (10.0.0.0/8@"
    )


def test_private_link_integration_is_refused_below_business_critical(tmp_path: Path) -> None:
    script = tmp_path / "pl.sql"
    script.write_text(
        "SHOW PARAMETERS LIKE 'EDITION' IN ACCOUNT;\n"
        "CREATE OR REPLACE API INTEGRATION python_repo_integration_pl\n"
        "  API_PROVIDER = ARTIFACT_REPOSITORY_API\n"
        f"  API_ALLOWED_PREFIXES = ('https://{PL_HOST}')\n"
        "  USE_PRIVATELINK_ENDPOINT = TRUE\n"
        "  ENABLED = TRUE;\n"
    )
    proc = _hoarfrost(tmp_path / "acct", script, {"HOARFROST_EDITION": "STANDARD"})
    assert proc.returncode == 1
    assert json.loads(proc.stdout.splitlines()[0])[0]["value"] == "STANDARD"
    assert "USE_PRIVATELINK_ENDPOINT = TRUE requires the Business Critical edition" in proc.stderr
