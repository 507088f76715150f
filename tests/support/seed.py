"""The function and procedure statements of SEED.md, as written, for the tests and the demo
(one copy, so both show the same thing)."""

from __future__ import annotations

__all__ = ["CORRECTED_PROCEDURE", "SEED_FUNCTION", "SEED_PROCEDURE"]

SEED_FUNCTION = """CREATE OR REPLACE FUNCTION test_udf()
  RETURNS STRING
  LANGUAGE PYTHON
  RUNTIME_VERSION = 3.10
  ARTIFACT_REPOSITORY = my_python_repo
  ARTIFACT_REPOSITORY_PACKAGES = ('test_whl_package')
  HANDLER = 'test'
AS $$
import test_whl_package

def test():
  return test_whl_package.say_hello()
$$"""

SEED_PROCEDURE = """CREATE OR REPLACE PROCEDURE test_sproc()
RETURNS STRING
LANGUAGE PYTHON
RUNTIME_VERSION = '3.11'
ARTIFACT_REPOSITORY = my_python_repo
ARTIFACT_REPOSITORY_PACKAGES = ('snowflake-snowpark-python', 'test_whl_package')
HANDLER = 'run'
AS $$
def run(session):
  return test_whl_package.say_hello()
$$"""

# SEED.md's procedure uses test_whl_package without importing it (CALL fails with a NameError);
# this is the body with the import added.
CORRECTED_PROCEDURE = SEED_PROCEDURE.replace(
    "def run(session):", "import test_whl_package\n\ndef run(session):"
)
