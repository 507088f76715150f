"""Mutated versions of every statement form of SPEC.md yield only hoarfrost errors."""

from __future__ import annotations

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

import hoarfrost
from hoarfrost.sql.tokens import tokenize

STATEMENTS = [
    "CREATE OR REPLACE SECRET s TYPE = PASSWORD USERNAME = 'u' PASSWORD = 'p' COMMENT = 'c'",
    "CREATE SECRET IF NOT EXISTS g TYPE = GENERIC_STRING SECRET_STRING = 'tok'",
    "ALTER SECRET IF EXISTS s SET USERNAME = 'v' PASSWORD = 'q' COMMENT = 'x'",
    "ALTER SECRET s UNSET COMMENT",
    "DROP SECRET IF EXISTS s",
    "SHOW SECRETS LIKE '%s%' IN SCHEMA hoarfrost.public",
    "DESC SECRET s",
    "CREATE OR REPLACE API INTEGRATION i API_PROVIDER = ARTIFACT_REPOSITORY_API "
    "API_ALLOWED_PREFIXES = ('https://nexus.example.com', 'https://*.cdn.example.net/pkgs/') "
    "API_BLOCKED_PREFIXES = ('https://nexus.example.com/private') "
    "ALLOWED_AUTHENTICATION_SECRETS = (s) USE_PRIVATELINK_ENDPOINT = FALSE ENABLED = TRUE "
    "COMMENT = 'c'",
    "ALTER API INTEGRATION IF EXISTS i SET ENABLED = FALSE API_ALLOWED_PREFIXES = ('https://a.com')",
    "DROP API INTEGRATION IF EXISTS i",
    "SHOW API INTEGRATIONS LIKE 'I%'",
    "DESCRIBE API INTEGRATION i",
    "CREATE OR REPLACE ARTIFACT REPOSITORY r TYPE = PYPI API_INTEGRATION = i "
    "INDEX_URL = 'https://nexus.example.com/simple/' AUTHENTICATION_SECRET = s "
    "PACKAGE_RETENTION = ON_OBJECT_CREATION COMMENT = 'c'",
    "ALTER ARTIFACT REPOSITORY IF EXISTS r SET INDEX_URL = 'https://nexus.example.com/x/simple/'",
    "ALTER ARTIFACT REPOSITORY r UNSET AUTHENTICATION_SECRET",
    "DROP ARTIFACT REPOSITORY IF EXISTS r",
    "SHOW ARTIFACT REPOSITORIES LIKE 'R%' IN DATABASE hoarfrost",
    "DESC ARTIFACT REPOSITORY r",
    "SELECT SYSTEM$GET_ARTIFACT_REPOSITORY_INFO('r')",
    "ALTER ACCOUNT SET DEFAULT_PYTHON_ARTIFACT_REPOSITORY = hoarfrost.public.r",
    "ALTER SCHEMA hoarfrost.public UNSET DEFAULT_PYTHON_ARTIFACT_REPOSITORY",
    "SELECT SYSTEM$GET_DEFAULT_PYTHON_ARTIFACT_REPOSITORY('3.11', 'schema', '\"PUBLIC\"')",
    "CREATE OR REPLACE PACKAGES POLICY p LANGUAGE PYTHON ALLOWLIST = ('numpy', 'pandas==2.*') "
    "BLOCKLIST = ('requests<2') ADDITIONAL_CREATION_BLOCKLIST = ('scikit-learn') COMMENT = 'c'",
    "ALTER PACKAGES POLICY IF EXISTS p SET BLOCKLIST = ('x>=1')",
    "ALTER PACKAGES POLICY p UNSET ALLOWLIST",
    "ALTER ACCOUNT SET PACKAGES POLICY hoarfrost.public.p FORCE",
    "ALTER ACCOUNT UNSET PACKAGES POLICY",
    "SHOW PACKAGES POLICIES",
    "DESCRIBE PACKAGES POLICY p",
    "DROP PACKAGES POLICY IF EXISTS p",
    "CREATE OR REPLACE TEMPORARY SECURE FUNCTION f(a NUMBER DEFAULT 1, b VARCHAR) "
    "RETURNS TABLE (x INT) LANGUAGE PYTHON STRICT IMMUTABLE RUNTIME_VERSION = 3.11 "
    "ARTIFACT_REPOSITORY = r ARTIFACT_REPOSITORY_PACKAGES = ('a==1') "
    "RESOURCE_CONSTRAINT = (architecture = 'x86') HANDLER = 'H' AS $$\nclass H: pass\n$$",
    "CREATE PROCEDURE p() RETURNS STRING LANGUAGE PYTHON RUNTIME_VERSION = '3.11' "
    "PACKAGES = ('snowflake-snowpark-python') HANDLER = 'run' EXECUTE AS CALLER AS 'def run(s): 1'",
    "CALL p(1, 'a')",
    "SELECT a, count(*) FROM t WHERE b = 'x' GROUP BY a ORDER BY 2 DESC",
    "CREATE TABLE t2 (a NUMBER(10,2), v VARIANT)",
    "USE SCHEMA hoarfrost.public",
    "SHOW PARAMETERS LIKE 'DEFAULT%' IN ACCOUNT",
]

VOCAB = [
    "(",
    ")",
    ",",
    "=",
    "'",
    "$$",
    ";",
    ".",
    "*",
    "IF",
    "NOT",
    "EXISTS",
    "OR",
    "REPLACE",
    "SET",
    "UNSET",
    "TYPE",
    "PASSWORD",
    "TABLE",
    "NULL",
    "'x'",
    "1",
    '"q"',
    "@",
    "--",
    "/*",
    "SYSTEM$X()",
    "SELECT",
    "FORCE",
    "?",
    "%s",
]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    sql = draw(st.sampled_from(STATEMENTS))
    words = [
        t.text if t.token_type.name not in ("STRING",) else f"'{t.text}'" for t in tokenize(sql)
    ]
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["drop", "dup", "swap", "insert", "cut", "char"]))
        if not words:
            break
        i = draw(st.integers(0, len(words) - 1))
        if op == "drop":
            del words[i]
        elif op == "dup":
            words.insert(i, words[i])
        elif op == "swap":
            j = draw(st.integers(0, len(words) - 1))
            words[i], words[j] = words[j], words[i]
        elif op == "insert":
            words.insert(i, draw(st.sampled_from(VOCAB)))
        elif op == "cut":
            words = words[:i]
        else:
            words[i] = words[i] + draw(st.sampled_from(["'", '"', "$", "(", "é", "\x00"]))
    return " ".join(words)


_CON = hoarfrost.connect(":memory:")
for _setup in (
    STATEMENTS[:2] + STATEMENTS[7:8] + STATEMENTS[12:13] + ["CREATE TABLE t (a INT, b VARCHAR)"]
):
    _CON.execute(_setup)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutations_raise_only_hoarfrost_errors(sql: str) -> None:
    try:
        _CON.execute(sql)
    except hoarfrost.Error as exc:
        assert str(exc)[:6].isdigit()


def test_unmutated_statements_parse() -> None:
    """The table above is valid SQL: every statement runs or fails with a hoarfrost error."""
    from hoarfrost.sql.statements import parse
    from hoarfrost.sql.tokens import split

    for sql in STATEMENTS:
        (statement,) = split(sql)
        parse(statement)
