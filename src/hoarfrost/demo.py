"""`make demo`: the SEED.md scenario against a fresh account, printing each statement's result.

The object statements run exactly as SEED.md writes them (the repository hosts are examples and
are never contacted by these statements).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

import hoarfrost

SEED_OBJECT_STATEMENTS = [
    """CREATE OR REPLACE SECRET my_repo_secret
  TYPE = PASSWORD
  USERNAME = 'your_username'
  PASSWORD = 'your_password_or_token'""",
    """CREATE OR REPLACE API INTEGRATION python_repo_integration
  API_PROVIDER = ARTIFACT_REPOSITORY_API
  API_ALLOWED_PREFIXES = ('https://nexus.example.com', 'https://artifactory.example.com')
  ALLOWED_AUTHENTICATION_SECRETS = (my_repo_secret)
  ENABLED = TRUE""",
    """CREATE OR REPLACE ARTIFACT REPOSITORY my_python_repo
  TYPE = PYPI
  API_INTEGRATION = python_repo_integration
  INDEX_URL = 'https://nexus.example.com/repository/pypi-proxy/simple/'
  AUTHENTICATION_SECRET = my_repo_secret
  COMMENT = 'Customer-hosted Python package repository (Nexus)'""",
    "SHOW ARTIFACT REPOSITORIES",
    "DESCRIBE SECRET my_repo_secret",
    "SELECT SYSTEM$GET_ARTIFACT_REPOSITORY_INFO('my_python_repo')",
]


def show(console: Console, sql: str, cursor: hoarfrost.Cursor) -> None:
    console.rule()
    console.print(sql, style="bold cyan", highlight=False)
    table = Table(*[d[0] for d in cursor.description or []])
    for row in cursor.fetchall():
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)


def main() -> None:
    console = Console()
    with (
        tempfile.TemporaryDirectory(prefix="hoarfrost-demo-") as tmp,
        hoarfrost.connect(Path(tmp) / "account") as con,
    ):
        for sql in SEED_OBJECT_STATEMENTS:
            show(console, sql, con.execute(sql))


if __name__ == "__main__":
    main()
