"""The served account (tests/server/conftest.py) and dbt in a venv of its own: dbt-snowflake pins
its own snowflake-connector-python, so it cannot share the project's venv. The venv is made once
(per machine; kept under ~/.cache) by a session fixture."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.server.conftest import connect, served

__all__ = ["connect", "dbt_executable", "served"]

# dbt-core 1.10 and later pull in a parser that downloads a binary at install time; 1.9 does not.
DBT_REQUIREMENTS = ("dbt-core~=1.9.0", "dbt-snowflake~=1.9.0")
DBT_VENV = Path.home() / ".cache" / "hoarfrost-dbt" / "venv-1.9"


@pytest.fixture(scope="session")
def dbt_executable() -> Path:
    dbt = DBT_VENV / "bin" / "dbt"
    stamp = DBT_VENV / ".installed"
    if not stamp.exists():
        subprocess.run([sys.executable, "-m", "venv", str(DBT_VENV)], check=True)
        subprocess.run(
            [str(DBT_VENV / "bin" / "python"), "-m", "pip", "install", "-q", *DBT_REQUIREMENTS],
            check=True,
            timeout=900,
        )
        stamp.touch()
    return dbt
