"""Each validation rule of SPEC.md sections 2-5 and 9, with the exact error a user gets."""

from __future__ import annotations

import pytest

import hoarfrost

# (statements run first, the statement that fails, the exact error text)
CASES = [
    (
        [],
        "CREATE OR REPLACE SECRET IF NOT EXISTS s TYPE = PASSWORD USERNAME = 'u' PASSWORD = 'p'",
        "001003 (42000): SQL compilation error:\nOR REPLACE and IF NOT EXISTS cannot be used together; remove one of them.",
    ),
    (
        [],
        "CREATE SECRET my_repo_secret TYPE = PASSWORD USERNAME = 'u' PASSWORD = 'p'",
        "002002 (42710): SQL compilation error:\nObject 'MY_REPO_SECRET' already exists.",
    ),
    (
        [],
        "CREATE SECRET s TYPE = PASSWORD USERNAME = 'u'",
        "001008 (22023): SQL compilation error:\nmissing required property PASSWORD for SECRET.",
    ),
    (
        [],
        "CREATE SECRET s TYPE = GENERIC_STRING PASSWORD = 'p'",
        "001008 (22023): SQL compilation error:\nproperty PASSWORD is not valid for a secret of TYPE = GENERIC_STRING; it takes SECRET_STRING.",
    ),
    (
        [],
        "CREATE SECRET s TYPE = OAUTH2 OAUTH_SCOPES = ('x')",
        "000002 (0A000): Secret type OAUTH2 is not supported for artifact repositories; supported secret types are PASSWORD (USERNAME and PASSWORD, for user names with passwords or tokens) and GENERIC_STRING (SECRET_STRING, for a bearer token).",
    ),
    (
        [],
        "CREATE SECRET s TYPE = CLOUD_PROVIDER_TOKEN",
        "000002 (0A000): Secret type CLOUD_PROVIDER_TOKEN is not supported for artifact repositories; supported secret types are PASSWORD (USERNAME and PASSWORD, for user names with passwords or tokens) and GENERIC_STRING (SECRET_STRING, for a bearer token).",
    ),
    (
        [],
        "CREATE SECRET s TYPE = SOMETHING",
        "001008 (22023): SQL compilation error:\ninvalid value 'SOMETHING' for property TYPE of SECRET; supported: PASSWORD (USERNAME and PASSWORD, for user names with passwords or tokens) and GENERIC_STRING (SECRET_STRING, for a bearer token).",
    ),
    (
        [],
        "CREATE SECRET s USERNAME = 'u' PASSWORD = 'p'",
        "001008 (22023): SQL compilation error:\nmissing required property TYPE for SECRET.",
    ),
    (
        [],
        "CREATE SECRET s TYPE = PASSWORD USERNAME = 'u' PASSWORD = 'p' BOGUS = 1",
        "001003 (42000): SQL compilation error:\ninvalid property 'BOGUS' for SECRET; valid properties are ALGORITHM, API_AUTHENTICATION, COMMENT, OAUTH_REFRESH_TOKEN, OAUTH_REFRESH_TOKEN_EXPIRY_TIME, OAUTH_SCOPES, PASSWORD, SECRET_STRING, SECRET_STRING_BASE64, TYPE, USERNAME.",
    ),
    (
        [],
        "CREATE SECRET s TYPE = PASSWORD USERNAME = 'u' PASSWORD = 'p' PASSWORD = 'q'",
        "001003 (42000): SQL compilation error:\nsyntax error line 1 at position 62: property 'PASSWORD' is specified more than once.",
    ),
    (
        [],
        "ALTER SECRET my_repo_secret SET TYPE = GENERIC_STRING",
        "001008 (22023): SQL compilation error:\nTYPE of a secret cannot be altered; create a new secret.",
    ),
    (
        [],
        "ALTER SECRET my_repo_secret SET SECRET_STRING = 'x'",
        "001008 (22023): SQL compilation error:\nproperty SECRET_STRING is not valid for a secret of TYPE = PASSWORD; it takes USERNAME and PASSWORD.",
    ),
    (
        [],
        "ALTER SECRET my_repo_secret UNSET USERNAME",
        "001008 (22023): SQL compilation error:\nUNSET USERNAME is not valid for a SECRET; only COMMENT can be unset.",
    ),
    (
        [],
        "ALTER SECRET nosuch SET COMMENT = 'x'",
        "002003 (42S02): SQL compilation error:\nObject 'HOARFROST.PUBLIC.NOSUCH' does not exist or not authorized.",
    ),
    (
        [],
        "DROP SECRET nosuch",
        "002003 (42S02): SQL compilation error:\nObject 'HOARFROST.PUBLIC.NOSUCH' does not exist or not authorized.",
    ),
    (
        [],
        "DESCRIBE SECRET nosuch",
        "002003 (42S02): SQL compilation error:\nObject 'HOARFROST.PUBLIC.NOSUCH' does not exist or not authorized.",
    ),
    (
        [],
        "CREATE API INTEGRATION i API_PROVIDER = aws_api_gateway API_ALLOWED_PREFIXES = ('https://a.com') ENABLED = TRUE",
        "000002 (0A000): API_PROVIDER = AWS_API_GATEWAY is not supported; hoarfrost supports API_PROVIDER = ARTIFACT_REPOSITORY_API (customer-hosted artifact repositories).",
    ),
    (
        [],
        "CREATE API INTEGRATION i API_ALLOWED_PREFIXES = ('https://a.com') ENABLED = TRUE",
        "001008 (22023): SQL compilation error:\nmissing required property API_PROVIDER for API INTEGRATION.",
    ),
    (
        [],
        "CREATE API INTEGRATION i API_PROVIDER = ARTIFACT_REPOSITORY_API ENABLED = TRUE",
        "001008 (22023): SQL compilation error:\nmissing required property API_ALLOWED_PREFIXES for API INTEGRATION.",
    ),
    (
        [],
        "CREATE API INTEGRATION i API_PROVIDER = ARTIFACT_REPOSITORY_API API_ALLOWED_PREFIXES = () ENABLED = TRUE",
        "001008 (22023): SQL compilation error:\nAPI_ALLOWED_PREFIXES must list at least one URL prefix, e.g. ('https://nexus.example.com').",
    ),
    (
        [],
        "CREATE API INTEGRATION i API_PROVIDER = ARTIFACT_REPOSITORY_API API_ALLOWED_PREFIXES = ('ftp://a.com') ENABLED = TRUE",
        "001008 (22023): Invalid API_ALLOWED_PREFIXES value 'ftp://a.com': a prefix must start with https:// or http://.",
    ),
    (
        [],
        "CREATE API INTEGRATION i API_PROVIDER = ARTIFACT_REPOSITORY_API API_ALLOWED_PREFIXES = ('https://a.*.com') ENABLED = TRUE",
        "001008 (22023): Invalid API_ALLOWED_PREFIXES value 'https://a.*.com': '*' is only allowed as the whole leftmost label of the host, followed by a domain, as in 'https://*.example.com'.",
    ),
    (
        [],
        "CREATE API INTEGRATION i API_PROVIDER = ARTIFACT_REPOSITORY_API API_ALLOWED_PREFIXES = ('https://a.com') API_BLOCKED_PREFIXES = ('https://u:p@a.com') ENABLED = TRUE",
        "001008 (22023): Invalid API_BLOCKED_PREFIXES value 'https://a.com': a prefix must not contain credentials (user:password@); keep them in a SECRET.",
    ),
    (
        [],
        "CREATE API INTEGRATION i API_PROVIDER = ARTIFACT_REPOSITORY_API API_ALLOWED_PREFIXES = ('https://a.com') ALLOWED_AUTHENTICATION_SECRETS = (nosuch) ENABLED = TRUE",
        "002003 (42S02): SQL compilation error:\nObject 'HOARFROST.PUBLIC.NOSUCH' does not exist or not authorized.",
    ),
    (
        [],
        "CREATE API INTEGRATION i API_PROVIDER = ARTIFACT_REPOSITORY_API API_ALLOWED_PREFIXES = ('https://a.com') API_AWS_ROLE_ARN = 'arn' ENABLED = TRUE",
        "000002 (0A000): API_AWS_ROLE_ARN (IAM roles) is not supported for artifact repositories: authenticate with a SECRET of TYPE = PASSWORD or GENERIC_STRING listed in ALLOWED_AUTHENTICATION_SECRETS.",
    ),
    (
        [],
        "CREATE API INTEGRATION i API_PROVIDER = ARTIFACT_REPOSITORY_API API_ALLOWED_PREFIXES = ('https://a.com') ENABLED = maybe",
        "001008 (22023): SQL compilation error:\ninvalid value for property ENABLED of API INTEGRATION: expected TRUE or FALSE.",
    ),
    (
        [],
        "ALTER API INTEGRATION python_repo_integration SET API_PROVIDER = aws_api_gateway",
        "001008 (22023): SQL compilation error:\nAPI_PROVIDER of an integration cannot be altered; create a new integration.",
    ),
    (
        [],
        "CREATE API INTEGRATION i API_PROVIDER = ARTIFACT_REPOSITORY_API API_ALLOWED_PREFIXES = ('https://a.com') USE_PRIVATELINK_ENDPOINT = TRUE",
        "000002 (0A000): USE_PRIVATELINK_ENDPOINT = TRUE requires the Business Critical edition (or higher); this account is ENTERPRISE (set HOARFROST_EDITION when creating the account).",
    ),
    (
        [],
        "CREATE API INTEGRATION python_repo_integration API_PROVIDER = ARTIFACT_REPOSITORY_API API_ALLOWED_PREFIXES = ('https://a.com')",
        "002002 (42710): SQL compilation error:\nObject 'PYTHON_REPO_INTEGRATION' already exists.",
    ),
    (
        [],
        "CREATE ARTIFACT REPOSITORY r TYPE = PYPI INDEX_URL = 'https://nexus.example.com/simple/'",
        "001008 (22023): SQL compilation error:\nmissing required property API_INTEGRATION for ARTIFACT REPOSITORY.",
    ),
    (
        [],
        "CREATE ARTIFACT REPOSITORY r TYPE = MAVEN API_INTEGRATION = python_repo_integration INDEX_URL = 'https://nexus.example.com/simple/'",
        "000002 (0A000): Artifact repository TYPE = MAVEN is not supported; use TYPE = PYPI.",
    ),
    (
        [],
        "CREATE ARTIFACT REPOSITORY r API_INTEGRATION = python_repo_integration INDEX_URL = 'https://nexus.example.com/simple/'",
        "001008 (22023): SQL compilation error:\nmissing required property TYPE for ARTIFACT REPOSITORY.",
    ),
    (
        [],
        "CREATE ARTIFACT REPOSITORY r TYPE = PYPI API_INTEGRATION = nosuch INDEX_URL = 'https://nexus.example.com/simple/'",
        "002003 (42S02): SQL compilation error:\nObject 'NOSUCH' does not exist or not authorized.",
    ),
    (
        [],
        "CREATE ARTIFACT REPOSITORY r TYPE = PYPI API_INTEGRATION = python_repo_integration",
        "001008 (22023): SQL compilation error:\nmissing required property INDEX_URL for ARTIFACT REPOSITORY.",
    ),
    (
        [],
        "CREATE ARTIFACT REPOSITORY r TYPE = PYPI API_INTEGRATION = python_repo_integration INDEX_URL = 'https://evil.example.com/simple/'",
        "001008 (22023): SQL compilation error:\nINDEX_URL 'https://evil.example.com/simple/' is not covered by API_ALLOWED_PREFIXES of integration PYTHON_REPO_INTEGRATION (or is matched by its API_BLOCKED_PREFIXES); add a prefix that covers it to the integration.",
    ),
    (
        [],
        "CREATE ARTIFACT REPOSITORY r TYPE = PYPI API_INTEGRATION = python_repo_integration INDEX_URL = 'https://nexus.example.com.evil.net/simple/'",
        "001008 (22023): SQL compilation error:\nINDEX_URL 'https://nexus.example.com.evil.net/simple/' is not covered by API_ALLOWED_PREFIXES of integration PYTHON_REPO_INTEGRATION (or is matched by its API_BLOCKED_PREFIXES); add a prefix that covers it to the integration.",
    ),
    (
        [],
        "CREATE ARTIFACT REPOSITORY r TYPE = PYPI API_INTEGRATION = python_repo_integration INDEX_URL = 'https://user:pw@nexus.example.com/simple/'",
        "001008 (22023): SQL compilation error:\nINDEX_URL 'https://nexus.example.com/simple/' carries credentials; remove them from the URL and store them in a SECRET named by AUTHENTICATION_SECRET.",
    ),
    (
        [
            "CREATE API INTEGRATION h API_PROVIDER = ARTIFACT_REPOSITORY_API API_ALLOWED_PREFIXES = ('http://nexus.example.com')"
        ],
        "CREATE ARTIFACT REPOSITORY r TYPE = PYPI API_INTEGRATION = h INDEX_URL = 'http://nexus.example.com/simple/'",
        "001008 (22023): SQL compilation error:\nINDEX_URL 'http://nexus.example.com/simple/' must use https:// (plain http:// is accepted only for loopback hosts such as 127.0.0.1 or localhost).",
    ),
    (
        ["CREATE SECRET other TYPE = PASSWORD USERNAME = 'u' PASSWORD = 'p'"],
        "CREATE ARTIFACT REPOSITORY r TYPE = PYPI API_INTEGRATION = python_repo_integration INDEX_URL = 'https://nexus.example.com/simple/' AUTHENTICATION_SECRET = other",
        "001008 (22023): SQL compilation error:\nSecret 'OTHER' is not allowed by integration PYTHON_REPO_INTEGRATION; add it to the integration's ALLOWED_AUTHENTICATION_SECRETS.",
    ),
    (
        [],
        "CREATE ARTIFACT REPOSITORY r TYPE = PYPI API_INTEGRATION = python_repo_integration INDEX_URL = 'https://nexus.example.com/simple/' AUTHENTICATION_SECRET = nosuch",
        "002003 (42S02): SQL compilation error:\nObject 'HOARFROST.PUBLIC.NOSUCH' does not exist or not authorized.",
    ),
    (
        [],
        "CREATE ARTIFACT REPOSITORY r TYPE = PYPI API_INTEGRATION = python_repo_integration INDEX_URL = 'https://nexus.example.com/simple/' PACKAGE_RETENTION = NEVER",
        "001008 (22023): SQL compilation error:\ninvalid value 'NEVER' for PACKAGE_RETENTION; the only value is ON_OBJECT_CREATION (packages are always retained when a function is created).",
    ),
    (
        [],
        "ALTER ARTIFACT REPOSITORY my_python_repo SET TYPE = PYPI",
        "001008 (22023): SQL compilation error:\nTYPE of an artifact repository cannot be altered; create a new repository.",
    ),
    (
        [],
        "ALTER ARTIFACT REPOSITORY my_python_repo SET API_INTEGRATION = python_repo_integration",
        "001008 (22023): SQL compilation error:\nAPI_INTEGRATION of an artifact repository cannot be altered; create a new repository.",
    ),
    (
        [],
        "ALTER ARTIFACT REPOSITORY my_python_repo SET INDEX_URL = 'https://elsewhere.com/simple/'",
        "001008 (22023): SQL compilation error:\nINDEX_URL 'https://elsewhere.com/simple/' is not covered by API_ALLOWED_PREFIXES of integration PYTHON_REPO_INTEGRATION (or is matched by its API_BLOCKED_PREFIXES); add a prefix that covers it to the integration.",
    ),
    (
        [],
        "ALTER ARTIFACT REPOSITORY my_python_repo UNSET INDEX_URL",
        "001008 (22023): SQL compilation error:\nUNSET INDEX_URL is not valid for an ARTIFACT REPOSITORY; only COMMENT and AUTHENTICATION_SECRET can be unset.",
    ),
    (
        [],
        "CREATE ARTIFACT REPOSITORY my_python_repo TYPE = PYPI API_INTEGRATION = python_repo_integration INDEX_URL = 'https://nexus.example.com/simple/'",
        "002002 (42710): SQL compilation error:\nObject 'MY_PYTHON_REPO' already exists.",
    ),
    (
        [],
        "DESCRIBE ARTIFACT REPOSITORY nosuch",
        "002003 (42S02): SQL compilation error:\nObject 'HOARFROST.PUBLIC.NOSUCH' does not exist or not authorized.",
    ),
    (
        [],
        "CREATE PACKAGES POLICY p LANGUAGE JAVA",
        "000002 (0A000): Packages policies for LANGUAGE JAVA are not supported; use LANGUAGE PYTHON.",
    ),
    (
        [],
        "CREATE PACKAGES POLICY p ALLOWLIST = ('numpy')",
        "001008 (22023): SQL compilation error:\nmissing required property LANGUAGE for PACKAGES POLICY.",
    ),
    (
        [],
        "CREATE PACKAGES POLICY p LANGUAGE PYTHON ALLOWLIST = ('numpy>=1,<2')",
        "001008 (22023): Invalid ALLOWLIST entry 'numpy>=1,<2': a spec may contain only one operator; use '*', a package name, or a name with one operator among ==, <=, >=, <, > and a version (for example 'numpy', 'numpy>=1.26', 'numpy==1.26.*').",
    ),
    (
        [],
        "CREATE PACKAGES POLICY p LANGUAGE PYTHON BLOCKLIST = ('numpy~=1.0')",
        "001008 (22023): Invalid BLOCKLIST entry 'numpy~=1.0': the operator '~=' is not accepted; use '*', a package name, or a name with one operator among ==, <=, >=, <, > and a version (for example 'numpy', 'numpy>=1.26', 'numpy==1.26.*').",
    ),
    (
        [],
        "CREATE PACKAGES POLICY p LANGUAGE PYTHON ADDITIONAL_CREATION_BLOCKLIST = ('not a name')",
        "001008 (22023): Invalid ADDITIONAL_CREATION_BLOCKLIST entry 'not a name': a package name may contain only letters, digits, '.', '_' and '-'; use '*', a package name, or a name with one operator among ==, <=, >=, <, > and a version (for example 'numpy', 'numpy>=1.26', 'numpy==1.26.*').",
    ),
    (
        [
            "CREATE PACKAGES POLICY p LANGUAGE PYTHON",
            "CREATE PACKAGES POLICY q LANGUAGE PYTHON",
            "ALTER ACCOUNT SET PACKAGES POLICY p",
        ],
        "ALTER ACCOUNT SET PACKAGES POLICY q",
        "003214 (22000): SQL compilation error:\nThe account already has packages policy 'HOARFROST.PUBLIC.P'; use FORCE to replace it, or ALTER ACCOUNT UNSET PACKAGES POLICY first.",
    ),
    (
        ["CREATE PACKAGES POLICY p LANGUAGE PYTHON", "ALTER ACCOUNT SET PACKAGES POLICY p"],
        "DROP PACKAGES POLICY p",
        "003213 (22000): SQL compilation error:\nPackages policy 'P' is set on the account and cannot be dropped; run ALTER ACCOUNT UNSET PACKAGES POLICY first.",
    ),
    (
        [],
        "ALTER ACCOUNT SET PACKAGES POLICY nosuch",
        "002003 (42S02): SQL compilation error:\nObject 'HOARFROST.PUBLIC.NOSUCH' does not exist or not authorized.",
    ),
    (
        ["CREATE PACKAGES POLICY p LANGUAGE PYTHON"],
        "ALTER PACKAGES POLICY p UNSET LANGUAGE",
        "001008 (22023): SQL compilation error:\nUNSET LANGUAGE is not valid for a PACKAGES POLICY; unsettable: ALLOWLIST, BLOCKLIST, ADDITIONAL_CREATION_BLOCKLIST, COMMENT.",
    ),
    (
        [],
        "ALTER ACCOUNT SET DEFAULT_PYTHON_ARTIFACT_REPOSITORY = nosuch",
        "002003 (42S02): SQL compilation error:\nObject 'HOARFROST.PUBLIC.NOSUCH' does not exist or not authorized.",
    ),
    (
        [],
        "ALTER ACCOUNT SET NOT_A_PARAMETER = 1",
        "001008 (22023): SQL compilation error:\ninvalid parameter 'NOT_A_PARAMETER' for ALTER ACCOUNT; supported: DEFAULT_PYTHON_ARTIFACT_REPOSITORY.",
    ),
    (
        [],
        "ALTER DATABASE nosuch SET DEFAULT_PYTHON_ARTIFACT_REPOSITORY = my_python_repo",
        "002003 (42S02): SQL compilation error:\nObject 'NOSUCH' does not exist or not authorized.",
    ),
    (
        [],
        "SELECT SYSTEM$GET_ARTIFACT_REPOSITORY_INFO('nosuch')",
        "002003 (42S02): SQL compilation error:\nObject 'HOARFROST.PUBLIC.NOSUCH' does not exist or not authorized.",
    ),
    (
        [],
        "SELECT SYSTEM$GET_DEFAULT_PYTHON_ARTIFACT_REPOSITORY('3.11', 'galaxy', 'x')",
        "001008 (22023): Invalid level 'GALAXY' for SYSTEM$GET_DEFAULT_PYTHON_ARTIFACT_REPOSITORY; use 'schema', 'database' or 'account'.",
    ),
    (
        ["CREATE ROLE dev", "GRANT ROLE dev TO USER hoarfrost", "USE ROLE dev"],
        "CREATE API INTEGRATION i API_PROVIDER = ARTIFACT_REPOSITORY_API API_ALLOWED_PREFIXES = ('https://a.com')",
        "003001 (42501): SQL access control error:\nInsufficient privileges to operate on account: CREATE INTEGRATION needs the ACCOUNTADMIN role or a grant of CREATE INTEGRATION ON ACCOUNT (current role DEV).",
    ),
    (
        ["CREATE ROLE dev", "GRANT ROLE dev TO USER hoarfrost", "USE ROLE dev"],
        "DESCRIBE ARTIFACT REPOSITORY my_python_repo",
        "002003 (42S02): SQL compilation error:\nObject 'HOARFROST.PUBLIC.MY_PYTHON_REPO' does not exist or not authorized.",
    ),
    (
        [
            "CREATE ROLE dev",
            "GRANT ROLE dev TO USER hoarfrost",
            "GRANT USAGE ON SECRET my_repo_secret TO ROLE dev",
            "USE ROLE dev",
        ],
        "ALTER SECRET my_repo_secret SET PASSWORD = 'x'",
        "003001 (42501): SQL access control error:\nInsufficient privileges to operate on secret 'MY_REPO_SECRET'. The role DEV needs OWNERSHIP.",
    ),
    (
        ["CREATE ROLE dev", "GRANT ROLE dev TO USER hoarfrost", "USE ROLE dev"],
        "ALTER ACCOUNT SET PACKAGES POLICY x",
        "003001 (42501): SQL access control error:\nInsufficient privileges to operate on account: APPLY PACKAGES POLICY needs the ACCOUNTADMIN role or a grant of APPLY PACKAGES POLICY ON ACCOUNT (current role DEV).",
    ),
    (
        [],
        "CREATE NOTEBOOK nb",
        "000002 (0A000): Snowflake Notebooks (NOTEBOOK) objects are not supported by hoarfrost, and customer-hosted artifact repositories cannot be used from them; use Python functions and procedures instead.",
    ),
    (
        [],
        "WITH p AS PROCEDURE () RETURNS STRING LANGUAGE PYTHON ARTIFACT_REPOSITORY = r "
        "HANDLER = 'x' AS $$x$$ CALL p()",
        "000002 (0A000): Anonymous procedures (WITH ... AS PROCEDURE) cannot use customer-hosted artifact repositories (ARTIFACT_REPOSITORY); list the packages in PACKAGES to take them from the account's default Python artifact repository, or create the procedure with CREATE PROCEDURE.",
    ),
]


@pytest.mark.parametrize(("setup", "statement", "expected"), CASES)
def test_rule_error(
    seeded: hoarfrost.Connection, setup: list[str], statement: str, expected: str
) -> None:
    for sql in setup:
        seeded.execute(sql)
    with pytest.raises(hoarfrost.Error) as info:
        seeded.execute(statement)
    assert str(info.value) == expected
