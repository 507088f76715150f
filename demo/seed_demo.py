"""`make demo`: the SEED.md scenario end to end against a real, local, authenticated repository.

1. starts a local pypiserver with an htpasswd user (no fallback to PyPI),
2. builds and uploads `test_whl_package`,
3. makes `snowflake-snowpark-python` and its dependencies available in that repository
   (downloaded from PyPI once, cached in .cache/demo-wheels),
4. runs the SEED.md statements, pointed at that repository, printing each result,
5. shows a second user, with a role of its own, using the repository once the administrator
   granted the role USAGE on it (and not before), while the administrator's function stays
   out of its reach,
6. stops the server.

The procedure body in SEED.md uses `test_whl_package` without importing it: CREATE succeeds and
CALL fails with a NameError; the demo shows that, then runs the corrected body.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.pypiserver import PypiServer  # noqa: E402
from tests.support.seed import CORRECTED_PROCEDURE, SEED_FUNCTION, SEED_PROCEDURE  # noqa: E402
from tests.support.snowpark import snowpark_wheels  # noqa: E402
from tests.support.wheels import build_wheel  # noqa: E402

import hoarfrost  # noqa: E402
from hoarfrost.sql.redaction import redacted_text  # noqa: E402
from hoarfrost.sql.tokens import split  # noqa: E402

USER, PASSWORD = "demo-user", "demo-Passw0rd"
WHEEL_CACHE = ROOT / ".cache" / "demo-wheels"


def seed_statements(server: PypiServer) -> list[str]:
    """SEED.md as written, with the example hosts replaced by the local repository."""
    return [
        f"""CREATE OR REPLACE SECRET my_repo_secret
  TYPE = PASSWORD
  USERNAME = '{USER}'
  PASSWORD = '{PASSWORD}'""",
        f"""CREATE OR REPLACE API INTEGRATION python_repo_integration
  API_PROVIDER = ARTIFACT_REPOSITORY_API
  API_ALLOWED_PREFIXES = ('{server.url}', 'https://artifactory.example.com')
  ALLOWED_AUTHENTICATION_SECRETS = (my_repo_secret)
  ENABLED = TRUE""",
        f"""CREATE OR REPLACE ARTIFACT REPOSITORY my_python_repo
  TYPE = PYPI
  API_INTEGRATION = python_repo_integration
  INDEX_URL = '{server.index_url}'
  AUTHENTICATION_SECRET = my_repo_secret
  COMMENT = 'Customer-hosted Python package repository (local pypiserver)'""",
        SEED_FUNCTION,
        "SELECT test_udf()",
        SEED_PROCEDURE,
        "CALL test_sproc()",
        CORRECTED_PROCEDURE,
        "CALL test_sproc()",
        "DESCRIBE FUNCTION test_udf()",
    ]


ANALYST_FUNCTION = """CREATE OR REPLACE FUNCTION dana_udf()
  RETURNS STRING
  LANGUAGE PYTHON
  RUNTIME_VERSION = '3.11'
  ARTIFACT_REPOSITORY = my_python_repo
  ARTIFACT_REPOSITORY_PACKAGES = ('test_whl_package')
  HANDLER = 'run'
AS $$
import test_whl_package

def run():
  return 'dana: ' + test_whl_package.say_hello()
$$"""

# The administrator makes a role and a user; then (who runs it, statement): the user tries the
# repository before and after the grant.
ROLE_SETUP = [
    "CREATE ROLE data_engineer",
    "CREATE USER dana PASSWORD = 'Dana-Demo-Pa55' DEFAULT_ROLE = data_engineer",
    "GRANT ROLE data_engineer TO USER dana",
]
ROLE_STATEMENTS = [
    ("dana", "SELECT CURRENT_USER(), CURRENT_ROLE()"),
    ("dana", ANALYST_FUNCTION),
    ("admin", "GRANT USAGE ON ARTIFACT REPOSITORY my_python_repo TO ROLE data_engineer"),
    ("dana", ANALYST_FUNCTION),
    ("dana", "SELECT dana_udf()"),
    ("dana", "SELECT test_udf()"),
    ("dana", "SHOW USER FUNCTIONS"),
    ("admin", "SHOW GRANTS TO ROLE data_engineer"),
]


def _display(sql: str) -> str:
    """The statement as the query history shows it: secret values redacted."""
    (statement,) = split(sql)
    return redacted_text(statement)


def show(console: Console, sql: str, con: hoarfrost.Connection) -> None:
    console.rule()
    console.print(_display(sql), style="bold cyan", highlight=False)
    try:
        cursor = con.execute(sql)
    except hoarfrost.Error as exc:
        console.print(f"[red]{exc}[/red]", highlight=False)
        return
    table = Table(*[d[0] for d in cursor.description or []])
    for row in cursor.fetchall():
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)


def main() -> None:
    console = Console()
    with tempfile.TemporaryDirectory(prefix="hoarfrost-demo-") as tmp:
        packages = Path(tmp) / "packages"
        packages.mkdir()
        build_wheel(packages, "test_whl_package", "1.0")
        for wheel in snowpark_wheels(WHEEL_CACHE).glob("*.whl"):
            (packages / wheel.name).symlink_to(wheel)
        with PypiServer(packages, Path(tmp) / "server", auth=(USER, PASSWORD)) as server:
            console.print(f"Local repository: {server.index_url} (user {USER}, htpasswd)")
            account, cache = Path(tmp) / "account", ROOT / ".cache" / "hoarfrost"
            with hoarfrost.connect(account, cache_dir=cache) as con:
                for sql in seed_statements(server):
                    show(console, sql, con)
                console.rule("[bold]A second user, with a role of its own")
                for sql in ROLE_SETUP:
                    show(console, sql, con)
                with hoarfrost.connect(account, cache_dir=cache, user="dana") as dana:
                    for who, sql in ROLE_STATEMENTS:
                        console.print(f"[bold]{who}>[/bold]", highlight=False)
                        show(console, sql, con if who == "admin" else dana)


if __name__ == "__main__":
    main()
