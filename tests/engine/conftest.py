"""Fixtures for engine tests: throwaway accounts and the SEED.md object statements."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import hoarfrost

SEED_SECRET = """CREATE OR REPLACE SECRET my_repo_secret
  TYPE = PASSWORD
  USERNAME = 'your_username'
  PASSWORD = 'your_password_or_token'"""

SEED_INTEGRATION = """CREATE OR REPLACE API INTEGRATION python_repo_integration
  API_PROVIDER = ARTIFACT_REPOSITORY_API
  API_ALLOWED_PREFIXES = ('https://nexus.example.com', 'https://artifactory.example.com')
  ALLOWED_AUTHENTICATION_SECRETS = (my_repo_secret)
  ENABLED = TRUE"""

SEED_PL_INTEGRATION = """CREATE OR REPLACE API INTEGRATION python_repo_integration_pl
  API_PROVIDER = ARTIFACT_REPOSITORY_API
  API_ALLOWED_PREFIXES = ('https://nexus-pl.internal.example.com')
  USE_PRIVATELINK_ENDPOINT = TRUE
  ALLOWED_AUTHENTICATION_SECRETS = (my_repo_secret)
  ENABLED = TRUE"""

SEED_REPOSITORY = """CREATE OR REPLACE ARTIFACT REPOSITORY my_python_repo
  TYPE = PYPI
  API_INTEGRATION = python_repo_integration
  INDEX_URL = 'https://nexus.example.com/repository/pypi-proxy/simple/'
  AUTHENTICATION_SECRET = my_repo_secret
  COMMENT = 'Customer-hosted Python package repository (Nexus)'"""

SEED_OBJECTS = [SEED_SECRET, SEED_INTEGRATION, SEED_REPOSITORY]


@pytest.fixture
def con() -> Iterator[hoarfrost.Connection]:
    with hoarfrost.connect(":memory:") as connection:
        yield connection


@pytest.fixture
def seeded(con: hoarfrost.Connection) -> hoarfrost.Connection:
    for statement in SEED_OBJECTS:
        con.execute(statement)
    return con
