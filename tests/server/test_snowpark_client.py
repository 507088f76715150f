"""Snowpark unchanged from the client (issue 13, items 1 and 2): snowflake-snowpark-python 1.56 in a
venv of its own (with the 4.8 connector it pins) against `hoarfrost serve`, registering UDFs and
procedures through the governed path (artifact_repository= on an authenticated pypiserver that
hosts the real Snowpark wheels), DataFrames built from pandas, staged closures, permanent
functions, and the statements Snowpark sends around them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.conftest import PASSWORD, USER, free_port, wait_for_port
from tests.support.downloads import download_wheels
from tests.support.old_connector import run_script, snowpark_python
from tests.support.processes import stop_process
from tests.support.pypiserver import PypiServer
from tests.support.seed import CORRECTED_PROCEDURE
from tests.support.snowpark import snowpark_wheels
from tests.support.wheels import build_wheel

REPO_USER, REPO_PASSWORD = "snowpark-client", "Client-Repo-Pa55"
BASE = Path(
    os.environ.get("HOARFROST_TEST_WHEELS", Path.home() / ".cache" / "hoarfrost-test-wheels")
)
WHEELS = BASE / "snowpark-cp311"

SCRIPT = """
from snowflake.snowpark import Session
import snowflake.snowpark.types as T
from snowflake.snowpark.functions import col, lit, seq4, sum as sum_
import pandas as pd

s = Session.builder.configs(dict(
    host="127.0.0.1", port=ARGS["port"], protocol="http", account="hoarfrost",
    user=ARGS["user"], password=ARGS["password"], database="HOARFROST", schema="PUBLIC",
)).create()
for sql in ARGS["setup"]:
    s.sql(sql).collect()
out = {}
out["range"] = [r[0] for r in s.range(3).collect()]
out["generator"] = [r[0] for r in s.generator(seq4(), rowcount=2).collect()]
out["from_pandas"] = [tuple(r) for r in s.create_dataframe(pd.DataFrame({"A": [1, 2]})).collect()]
s.write_pandas(pd.DataFrame({"K": ["x", "y", "x"], "V": [1, 2, 3]}), "SALES", auto_create_table=True)
out["agg"] = sorted(
    tuple(r) for r in s.table("SALES").group_by("K").agg(sum_("V").alias("T")).collect()
)
out["explain"] = "GlobalStats" in (s.table("SALES")._explain_string() or "")
frame = s.create_dataframe([[1, "a"], [2, "b"]], schema=["id", "name"])
frame.write.save_as_table("SAVED", mode="overwrite")
frame.write.save_as_table("SAVED", mode="ignore")
frame.write.save_as_table("SAVED", mode="append")
out["saved"] = s.table("SAVED").count()
out["cached"] = sorted(tuple(r) for r in s.table("SAVED").filter(col("ID") == 1).cache_result().collect())
out["iterated"] = len(list(s.table("SAVED").to_local_iterator()))
out["batches"] = sum(len(b) for b in s.table("SAVED").to_pandas_batches())
s.sql(
    "CREATE OR REPLACE PROCEDURE numbers(n INT) RETURNS TABLE (a INT, b VARCHAR) LANGUAGE PYTHON "
    "RUNTIME_VERSION = '3.11' HANDLER = 'run' AS $$\\ndef run(session, n):\\n"
    "    return [(i, str(i)) for i in range(n)]\\n$$"
).collect()
out["table_procedure"] = [tuple(r) for r in s.call("numbers", 3).collect()]
big = "x" * 10000  # over 8 KiB pickled: Snowpark stages it and refers to it with IMPORTS
plus = s.udf.register(
    lambda x: x + 1, return_type=T.IntegerType(), input_types=[T.IntegerType()],
    name="plus_one", replace=True, artifact_repository="sp_repo", packages=["cloudpickle"],
)
closure = s.udf.register(
    lambda x: len(big) + x, return_type=T.IntegerType(), input_types=[T.IntegerType()],
    name="big_closure", replace=True, artifact_repository="sp_repo", packages=["cloudpickle"],
)
out["udfs"] = [tuple(r) for r in s.table("SALES").select(plus(col("V")), closure(col("V"))).sort(col("V")).collect()]

class Splitter:
    def process(self, text: str):
        for word in text.split():
            yield (word,)

s.udtf.register(
    Splitter, output_schema=T.StructType([T.StructField("word", T.StringType())]),
    input_types=[T.StringType()], name="splitter", replace=True,
    artifact_repository="sp_repo", packages=["cloudpickle"],
)
out["udtf"] = [r[0] for r in s.table_function("splitter", lit("a b c")).collect()]
words = s.create_dataframe([["x y"], ["z"]], schema=["t"])
splitter = s.udtf.register(
    Splitter, output_schema=T.StructType([T.StructField("word", T.StringType())]),
    input_types=[T.StringType()], name="splitter2", replace=True,
    artifact_repository="sp_repo", packages=["cloudpickle"],
)
out["joined"] = sorted(tuple(r) for r in words.join_table_function(splitter(col("t"))).collect())

class Summer:
    def __init__(self):
        self._total = 0

    @property
    def aggregate_state(self):
        return self._total

    def accumulate(self, value):
        self._total += value

    def merge(self, other):
        self._total += other

    def finish(self):
        return self._total

summer = s.udaf.register(
    Summer, return_type=T.IntegerType(), input_types=[T.IntegerType()], name="summer",
    replace=True, artifact_repository="sp_repo", packages=["cloudpickle"],
)
out["udaf"] = sorted(tuple(r) for r in s.table("SALES").group_by("K").agg(summer(col("V"))).collect())

from snowflake.snowpark.functions import pandas_udf
from snowflake.snowpark.types import PandasSeriesType

doubled = pandas_udf(
    lambda series: series * 2, return_type=PandasSeriesType(T.IntegerType()),
    input_types=[PandasSeriesType(T.IntegerType())], name="doubled", replace=True,
    artifact_repository="sp_repo", packages=["pandas", "cloudpickle"], session=s,
)
out["pandas_udf"] = sorted(r[0] for r in s.table("SALES").select(doubled(col("V"))).collect())

def scaled(session: Session, factor: int) -> int:
    from snowflake.snowpark import Session as Real
    import pandas
    assert isinstance(session, Real)
    session.write_pandas(
        pandas.DataFrame({"F": [factor]}), "FACTORS", auto_create_table=True, overwrite=True
    )
    session.create_dataframe([[factor]], schema=["F"]).write.save_as_table(
        "FACTORS_SAVED", mode="overwrite"
    )
    total = session.table("SALES").filter(col("V") > 0).group_by("K").agg(sum_("V").alias("S"))
    return sum(r["S"] for r in total.collect()) * session.table("FACTORS").collect()[0][0]

s.sproc.register(
    scaled, return_type=T.IntegerType(), input_types=[T.IntegerType()], name="scaled",
    replace=True, artifact_repository="sp_repo",
    packages=["snowflake-snowpark-python", "cloudpickle", "pandas", "pyarrow"],
)
out["sproc"] = s.call("scaled", 10)
out["saved_in_proc"] = s.table("FACTORS_SAVED").collect()[0][0]
s.sql("CREATE STAGE IF NOT EXISTS perm_stage").collect()
s.udf.register(
    lambda x: x * 3, return_type=T.IntegerType(), input_types=[T.IntegerType()],
    name="tripled", replace=True, is_permanent=True, stage_location="@perm_stage",
    artifact_repository="sp_repo", packages=["cloudpickle"],
)
out["permanent"] = s.sql("SELECT tripled(3)").collect()[0][0]
s.sql(ARGS["seed_procedure"]).collect()
out["seed"] = s.call("test_sproc")
out["anonymous"] = s.sql(ARGS["anonymous"]).collect()[0][0]
described = {r[0]: r[1] for r in s.sql("DESCRIBE FUNCTION plus_one(INT)").collect()}
out["lock"] = described["installed_packages"]
shared = "snowflake.snowpark.pypi_shared_repository"
s.udf.register(
    lambda x: x - 1, return_type=T.IntegerType(), input_types=[T.IntegerType()],
    name="minus_one", replace=True, artifact_repository=shared, packages=["cloudpickle"],
)
out["shared"] = s.sql("SELECT minus_one(1)").collect()[0][0]
s.sql("CREATE PACKAGES POLICY no_cloudpickle LANGUAGE PYTHON BLOCKLIST = ('cloudpickle')").collect()
s.sql("ALTER ACCOUNT SET PACKAGES POLICY no_cloudpickle").collect()
try:
    s.udf.register(
        lambda x: x, return_type=T.IntegerType(), input_types=[T.IntegerType()],
        name="blocked", replace=True, artifact_repository=shared, packages=["cloudpickle"],
    )
    out["blocked"] = "registered"
except Exception as exc:
    out["blocked"] = str(exc)
s.sql("ALTER ACCOUNT UNSET PACKAGES POLICY").collect()
s.close()
print(json.dumps(out))
"""

RESTART = """
import snowflake.connector
c = snowflake.connector.connect(host="127.0.0.1", port=ARGS["port"], protocol="http",
    account="hoarfrost", user=ARGS["user"], password=ARGS["password"])
print(json.dumps(c.cursor().execute("SELECT tripled(5)").fetchone()[0]))
"""


class Server:
    """`hoarfrost serve` over one account home, restartable."""

    def __init__(self, root: Path):
        self.root = root
        self.home = root / "home"
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    def start(self, shared_index: str = "") -> None:
        self.port = free_port()
        self.shared_index = shared_index or getattr(self, "shared_index", "")
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOARFROST_")}
        env.update(
            HOARFROST_SERVER_USERS=f"{USER}:{PASSWORD}",
            HOARFROST_CACHE_DIR=str(self.root / "cache"),
            HOARFROST_PYPI_SHARED_REPOSITORY_URL=self.shared_index,
        )
        argv = [sys.executable, "-m", "hoarfrost", "serve", "--home", str(self.home)]
        log = self.root / "server.log"
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                [*argv, "--port", str(self.port)], stdout=out, stderr=subprocess.STDOUT, env=env
            )
        wait_for_port(self.port, self.process, log)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, timeout=15)
            self.process = None


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real Snowpark, pandas and pyarrow wheels (downloaded once) and test_whl_package."""
    found = tmp_path_factory.mktemp("client-packages")
    for source in (
        snowpark_wheels(WHEELS),
        download_wheels(BASE / "pandas-pyarrow-cp311", ["pandas", "pyarrow"]),
    ):
        for wheel in source.glob("*.whl"):
            if not (found / wheel.name).exists():
                shutil.copy(wheel, found / wheel.name)
    build_wheel(found, "test_whl_package", "1.0")
    return found


@pytest.fixture(scope="module")
def public_index(packages: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PypiServer]:
    """The same packages without credentials: the shared repository's index in this test."""
    with PypiServer(packages, tmp_path_factory.mktemp("client-public-index")) as server:
        yield server


@pytest.fixture(scope="module")
def served_here(
    tmp_path_factory: pytest.TempPathFactory, public_index: PypiServer
) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("snowpark-client"))
    server.start(public_index.index_url)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def repo(packages: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PypiServer]:
    server = PypiServer(
        packages, tmp_path_factory.mktemp("client-index"), auth=(REPO_USER, REPO_PASSWORD)
    )
    with server:
        yield server


def test_snowpark_client_end_to_end(served_here: Server, repo: PypiServer) -> None:
    setup = [
        f"CREATE SECRET IF NOT EXISTS sp_secret TYPE = PASSWORD USERNAME = '{REPO_USER}' "
        f"PASSWORD = '{REPO_PASSWORD}'",
        "CREATE API INTEGRATION IF NOT EXISTS sp_integration "
        f"API_PROVIDER = ARTIFACT_REPOSITORY_API API_ALLOWED_PREFIXES = ('{repo.url}') "
        "ALLOWED_AUTHENTICATION_SECRETS = (sp_secret) ENABLED = TRUE",
        "CREATE ARTIFACT REPOSITORY IF NOT EXISTS sp_repo TYPE = PYPI "
        f"API_INTEGRATION = sp_integration INDEX_URL = '{repo.index_url}' "
        "AUTHENTICATION_SECRET = sp_secret",
        # SEED.md's procedure names its repository my_python_repo
        "CREATE ARTIFACT REPOSITORY IF NOT EXISTS my_python_repo TYPE = PYPI "
        f"API_INTEGRATION = sp_integration INDEX_URL = '{repo.index_url}' "
        "AUTHENTICATION_SECRET = sp_secret",
        "ALTER ACCOUNT SET DEFAULT_PYTHON_ARTIFACT_REPOSITORY = sp_repo",
    ]
    anonymous = (
        "WITH counter AS PROCEDURE () RETURNS INT LANGUAGE PYTHON RUNTIME_VERSION = '3.11' "
        "PACKAGES = ('snowflake-snowpark-python') HANDLER = 'run' AS $$\n"
        "def run(session):\n    return session.table('SALES').count()\n$$\nCALL counter()"
    )
    python = snowpark_python()
    out = run_script(
        python,
        SCRIPT,
        port=served_here.port,
        user=USER,
        password=PASSWORD,
        setup=setup,
        seed_procedure=CORRECTED_PROCEDURE,
        anonymous=anonymous,
    )
    assert out["range"] == [0, 1, 2]
    assert out["generator"] == [0, 1]
    assert out["from_pandas"] == [[1], [2]]
    assert out["agg"] == [["x", 4], ["y", 2]]
    assert out["explain"] is True
    assert out["saved"] == 4  # overwrite 2, ignore 0, append 2
    assert out["cached"] == [[1, "a"], [1, "a"]]
    assert out["iterated"] == 4
    assert out["batches"] == 4
    assert out["table_procedure"] == [[0, "0"], [1, "1"], [2, "2"]]  # through RESULT_SCAN
    assert out["udfs"] == [[2, 10001], [3, 10002], [4, 10003]]
    assert out["udtf"] == ["a", "b", "c"]
    assert out["joined"] == [["x y", "x"], ["x y", "y"], ["z", "z"]]
    assert out["udaf"] == [["x", 4], ["y", 2]]
    assert out["pandas_udf"] == [2, 4, 6]
    assert out["sproc"] == 60
    assert out["saved_in_proc"] == 10
    assert out["permanent"] == 9
    assert out["seed"] == "Hello from test_whl_package 1.0"  # SEED.md, through session.call
    assert out["anonymous"] == 3  # what dbt's Python models send
    assert "cloudpickle==" in out["lock"]  # the frozen lock, from the repository
    assert out["shared"] == 0  # the built-in shared repository, here over a local index
    assert "blocked by the packages policy BLOCKLIST entry 'cloudpickle'" in out["blocked"]


def test_a_permanent_udf_from_a_stage_survives_a_restart(
    served_here: Server, repo: PypiServer
) -> None:
    # test_snowpark_client_end_to_end registered it from a stage; a new server process over
    # the same home still runs it (from the frozen lock and the retained import).
    served_here.stop()
    served_here.start()
    python = snowpark_python()
    out = run_script(python, RESTART, port=served_here.port, user=USER, password=PASSWORD)
    assert out == 15
