"""Python functions on a real Ray cluster (issue 16): the same results as the local pool, the
environment built once per node from the lock and the wheels, no node ever holding the
repository password, SHOW PARAMETERS measured on the nodes, actors released on DROP and on
close, procedures keeping their SQL channel, and a node killed in the middle of a query.

The tests run in file order and share one account on the cluster; the node-killing tests come
last."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray

import hoarfrost
from hoarfrost.errors import ConfigurationError
from tests.functions.conftest import PASSWORD, close_account, error_of, open_account, rows
from tests.support.pypiserver import PypiServer
from tests.support.ray_cluster import RayCluster

PY = "LANGUAGE PYTHON RUNTIME_VERSION = '3.11'"
PANDAS = "ARTIFACT_REPOSITORY = my_python_repo PACKAGES = ('pandas')"
FUNCTIONS = [
    f"CREATE FUNCTION twice(x INT) RETURNS INT {PY} HANDLER = 'f' AS $$\n"
    "def f(x):\n    return None if x is None else 2 * x\n$$",
    f"CREATE FUNCTION label(x INT, s STRING) RETURNS STRING {PY} HANDLER = 'f' AS $$\n"
    "def f(x, s):\n    return f'{s}-{x}'\n$$",
    f"CREATE FUNCTION strict_twice(x INT) RETURNS INT STRICT {PY} HANDLER = 'f' AS $$\n"
    "def f(x):\n    return 2 * x\n$$",
    f"CREATE FUNCTION scaled(x INT) RETURNS FLOAT {PY} {PANDAS} HANDLER = 'f' AS $$\n"
    "import pandas\nfrom _snowflake import vectorized\n\n"
    "@vectorized(input=pandas.DataFrame)\ndef f(df):\n    return df[0] * 1.5 + len(df) * 0\n$$",
    f"CREATE FUNCTION running(v INT) RETURNS TABLE (total INT, seen INT) {PY} "
    "HANDLER = 'Running' AS $$\n"
    "class Running:\n    def __init__(self):\n        self.total, self.seen = 0, 0\n"
    "    def process(self, v):\n        self.total += v\n        self.seen += 1\n"
    "        yield (self.total, self.seen)\n"
    "    def end_partition(self):\n        yield (self.total, -1)\n$$",
    f"CREATE FUNCTION splitter(s STRING) RETURNS TABLE (part STRING, pos INT) {PY} "
    "HANDLER = 'S' AS $$\nclass S:\n    def process(self, s):\n"
    "        for i, p in enumerate(s.split(',')):\n            yield (p, i)\n$$",
    f"CREATE FUNCTION seven() RETURNS INT {PY} HANDLER = 'f' AS $$\ndef f():\n    return 7\n$$",
    f"CREATE AGGREGATE FUNCTION py_sum(x INT) RETURNS INT {PY} HANDLER = 'S' AS $$\n"
    "class S:\n    def __init__(self):\n        self.s = 0\n"
    "    @property\n    def aggregate_state(self):\n        return self.s\n"
    "    def accumulate(self, x):\n        self.s += x or 0\n"
    "    def merge(self, other):\n        self.s += other\n"
    "    def finish(self):\n        return self.s\n$$",
    f"CREATE FUNCTION oops(x INT) RETURNS INT {PY} HANDLER = 'f' AS $$\n"
    "def f(x):\n    if x == 4242:\n        raise ValueError('no 4242 here')\n    return x\n$$",
]
TABLES = [
    "CREATE TABLE t AS SELECT range AS x, 'k' || (range % 5) AS s, "
    "CASE WHEN range % 10 = 0 THEN NULL ELSE range END AS n FROM range(200000)",
    "CREATE TABLE big AS SELECT range AS x FROM range(10000000)",
]
QUERIES = [
    "SELECT SUM(twice(x)), COUNT(label(x, s)), MAX(label(x, s)) FROM t",
    "SELECT x, twice(x), label(x, s) FROM t WHERE x % 9973 = 1 ORDER BY x",
    "SELECT SUM(twice(n)), COUNT(twice(n)), COUNT(strict_twice(n)), SUM(strict_twice(n)) FROM t",
    "SELECT SUM(scaled(x)), MIN(scaled(x)) FROM t",
    "SELECT x, scaled(x) FROM t WHERE x < 5 ORDER BY x",
    "SELECT COUNT(*), SUM(r.total), SUM(r.seen) FROM t, "
    "TABLE(running(t.x) OVER (PARTITION BY t.x % 7 ORDER BY t.x)) AS r",
    "SELECT t.x % 7 AS k, MAX(r.total) FROM t, "
    "TABLE(running(t.x) OVER (PARTITION BY t.x % 7 ORDER BY t.x)) AS r GROUP BY k ORDER BY k",
    "SELECT * FROM TABLE(splitter('a,b,c'))",
    "SELECT SUM(seven() + x) FROM t",
    "SELECT s, py_sum(x) FROM t GROUP BY s ORDER BY s",
    # ten million rows, 153 batches over the wire and back
    "SELECT SUM(twice(x)), MIN(twice(x)), MAX(twice(x)), COUNT(*) FROM big",
]


def _setup(con: hoarfrost.Connection) -> None:
    for statement in [*TABLES, *FUNCTIONS]:
        con.execute(statement)


def _ray_settings(cluster: RayCluster, **more: object) -> dict[str, object]:
    node_cache = cluster.base / "node-cache"
    return {
        "worker_backend": "ray",
        "ray_address": cluster.address,
        "ray_node_cache_dir": str(node_cache),
        **more,
    }


@pytest.fixture(scope="module")
def on_ray(
    cluster: RayCluster, repo_server: PypiServer, shared_cache: Path
) -> Iterator[hoarfrost.Connection]:
    con = open_account(repo_server, shared_cache, **_ray_settings(cluster, ray_procedures=True))
    _setup(con)
    yield con
    close_account(con)


@pytest.fixture(scope="module")
def local(repo_server: PypiServer, shared_cache: Path) -> Iterator[hoarfrost.Connection]:
    con = open_account(repo_server, shared_cache)
    _setup(con)
    yield con
    close_account(con)


def _actor_names() -> set[str]:
    return {a["name"] for a in ray.util.list_named_actors(all_namespaces=True)}


def _wait_until(condition: object, seconds: float = 60.0) -> None:
    """Wait (bounded) for ``condition()``; Ray releases actors asynchronously."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.2)


def _builds(cluster: RayCluster) -> dict[str, list[str]]:
    """Lock keys built, per node directory (one line per build, written by the node)."""
    found = {}
    for log in sorted((cluster.base / "node-cache").glob("node-*/builds.log")):
        found[log.parent.name] = [line.split()[0] for line in log.read_text().splitlines()]
    return found


@pytest.mark.parametrize("query", QUERIES)
def test_results_match_the_local_backend(
    query: str, on_ray: hoarfrost.Connection, local: hoarfrost.Connection
) -> None:
    assert rows(on_ray, query) == rows(local, query)


def test_ten_million_rows_have_the_exact_answer(on_ray: hoarfrost.Connection) -> None:
    n = 10_000_000
    assert rows(on_ray, QUERIES[-1]) == [(n * (n - 1), 0, 2 * (n - 1), n)]


def test_user_errors_are_the_local_ones(
    on_ray: hoarfrost.Connection, local: hoarfrost.Connection
) -> None:
    query = "SELECT SUM(oops(x)) FROM t"
    remote, here = error_of(on_ray, query), error_of(local, query)
    assert type(remote) is type(here)
    assert (remote.errno, remote.sqlstate) == (here.errno, here.sqlstate)
    assert "ValueError: no 4242 here" in str(remote)


def test_the_functions_ran_on_both_nodes(on_ray: hoarfrost.Connection, cluster: RayCluster) -> None:
    rows(on_ray, "SELECT SUM(scaled(x)) FROM t")
    built = _builds(cluster)
    assert sorted(built) == ["node-127.0.0.2", "node-127.0.0.3"]


def test_environment_built_once_per_node(
    cluster: RayCluster, repo_server: PypiServer, shared_cache: Path
) -> None:
    # Four actors for one function on two nodes: two actors of a node race for one build.
    con = open_account(
        repo_server, shared_cache, **_ray_settings(cluster, ray_actors_per_function=4)
    )
    try:
        con.execute(TABLES[0])
        before = _builds(cluster)  # CREATE already runs the code once, on a node
        body = (
            "import pandas, pinned\nfrom _snowflake import vectorized\n\n"
            "@vectorized(input=pandas.DataFrame)\ndef f(df):\n    return df[0] + len(df) * 0\n"
        )
        con.execute(
            f"CREATE FUNCTION pinned_plus(x INT) RETURNS INT {PY} ARTIFACT_REPOSITORY = "
            "my_python_repo PACKAGES = ('pandas', 'pinned==1.0') HANDLER = 'f' "
            f"AS $$\n{body}$$"
        )
        for _ in range(2):
            assert rows(con, "SELECT SUM(pinned_plus(x)) FROM t") == [(199999 * 200000 // 2,)]
        con.execute(
            f"CREATE FUNCTION pinned_again(x INT) RETURNS INT {PY} ARTIFACT_REPOSITORY = "
            "my_python_repo PACKAGES = ('pandas', 'pinned==1.0') HANDLER = 'f' "
            f"AS $$\n{body}$$"
        )
        assert rows(con, "SELECT SUM(pinned_again(x)) FROM t") == [(199999 * 200000 // 2,)]
        after = _builds(cluster)
    finally:
        close_account(con)
    new = {node: keys[len(before.get(node, [])) :] for node, keys in after.items()}
    assert sorted(new) == ["node-127.0.0.2", "node-127.0.0.3"]
    assert [len(keys) for keys in new.values()] == [1, 1]  # one build per node for the lock
    assert len({keys[0] for keys in new.values()}) == 1  # the same lock on both


def test_show_parameters_reports_the_cluster(
    on_ray: hoarfrost.Connection, local: hoarfrost.Connection, cluster: RayCluster
) -> None:
    def params(con: hoarfrost.Connection) -> dict[str, str]:
        return {r[0]: r[1] for r in rows(con, "SHOW PARAMETERS LIKE 'PYTHON_UDF%' IN ACCOUNT")}

    remote, here = params(on_ray), params(local)
    assert remote["PYTHON_UDF_BACKEND"].startswith(f"ray at {cluster.address}: 2 node(s) alive")
    assert here["PYTHON_UDF_BACKEND"].startswith("local")
    assert "node 127.0.0.2: " in remote["PYTHON_UDF_ISOLATION"]
    assert "node 127.0.0.3: " in remote["PYTHON_UDF_ISOLATION"]
    # Same kernel, same bootstrap: the nodes' workers have every layer a local worker has.
    assert remote["PYTHON_UDF_ISOLATION_LAYERS"] == here["PYTHON_UDF_ISOLATION_LAYERS"] != ""


def test_procedures_run_on_the_cluster_with_sql_in_the_engine(
    on_ray: hoarfrost.Connection,
) -> None:
    before = _actor_names()
    on_ray.execute(  # CREATE runs the code once: on the cluster already
        f"CREATE PROCEDURE count_below(n INT) RETURNS INT {PY} HANDLER = 'run' AS $$\n"
        "def run(session, n):\n"
        "    session.sql(f'CREATE TABLE below AS SELECT x FROM t WHERE x < {n}').collect()\n"
        "    return session.sql('SELECT COUNT(*) FROM below').collect()[0][0]\n$$"
    )
    assert rows(on_ray, "CALL count_below(123)") == [(123,)]
    assert _actor_names() - before  # the procedure has actors of its own
    assert rows(on_ray, "SELECT COUNT(*) FROM below") == [(123,)]  # its SQL ran here
    failed = error_of(on_ray, "CALL count_below(5)")  # the table exists now: the SQL error
    assert "BELOW" in str(failed).upper() and "already exists" in str(failed)


def test_drop_and_close_release_the_actors(
    on_ray: hoarfrost.Connection,
    cluster: RayCluster,
    repo_server: PypiServer,
    shared_cache: Path,
) -> None:
    before = _actor_names()
    on_ray.execute(
        f"CREATE FUNCTION dropped(x INT) RETURNS INT {PY} HANDLER = 'f' AS $$\n"
        "def f(x):\n    return x\n$$"
    )
    assert rows(on_ray, "SELECT SUM(dropped(x)) FROM t") == [(199999 * 200000 // 2,)]
    mine = _actor_names() - before
    assert len(mine) == 2  # one per node
    on_ray.execute("DROP FUNCTION dropped(INT)")
    _wait_until(lambda: not (mine & _actor_names()))
    assert not (mine & _actor_names())

    other = open_account(repo_server, shared_cache, **_ray_settings(cluster))
    before = _actor_names()
    other.execute(FUNCTIONS[0])
    other.execute("SELECT twice(x) FROM (SELECT 1 AS x)")
    theirs = _actor_names() - before
    assert theirs
    close_account(other)
    _wait_until(lambda: not (theirs & _actor_names()))
    assert not (theirs & _actor_names())


def test_no_node_process_sees_the_repository_password(
    on_ray: hoarfrost.Connection, cluster: RayCluster
) -> None:
    secret = PASSWORD.encode()
    seen: list[str] = []
    sandboxed = 0
    for node in cluster.nodes:
        for pid in node.tree():
            try:
                environ = Path(f"/proc/{pid}/environ").read_bytes()
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:  # ended meanwhile
                continue
            sandboxed += b"bootstrap.py" in cmdline
            if secret in environ or secret in cmdline:
                seen.append(f"{pid}: {cmdline[:80]!r}")
    assert sandboxed >= 2  # the processes that run user code were among those read
    assert seen == []
    # Nor anything a node wrote: Ray's logs and session files, the node caches.
    for root in [*(n.temp_dir for n in cluster.nodes), cluster.base / "node-cache"]:
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                path = Path(dirpath) / name
                if path.is_file() and not path.is_symlink():
                    assert secret not in path.read_bytes(), path


def test_unreachable_cluster_is_a_configuration_error(cluster: RayCluster) -> None:
    with pytest.raises(ConfigurationError) as info:
        hoarfrost.connect(":memory:", worker_backend="ray", ray_address="127.0.0.2:9")
    assert "127.0.0.2:9" in str(info.value) and "251005" in str(info.value)
    with pytest.raises(ConfigurationError, match="HOARFROST_RAY_ADDRESS"):
        hoarfrost.connect(":memory:", worker_backend="ray")


# -- faults: a node killed in the middle of a query (these come last: they kill node 2) -------

SLOW = (
    f"CREATE FUNCTION slow_next(x INT) RETURNS INT {PY} HANDLER = 'f' AS $$\n"
    "import time\n"
    "def f(x):\n    if x % 65536 == 0:\n        time.sleep(0.4)\n    return x + 1\n$$"
)


def _kill_during(con: hoarfrost.Connection, node_kill: object, query: str) -> tuple[object, float]:
    """Run ``query``; kill the node from another thread once the query is under way."""
    killed_at: list[float] = []

    def killer() -> None:
        time.sleep(2.0)
        node_kill()  # type: ignore[operator]
        killed_at.append(time.monotonic())

    thread = threading.Thread(target=killer)
    thread.start()
    try:
        outcome: object = rows(con, query)
    except hoarfrost.Error as exc:
        outcome = exc
    finished = time.monotonic()
    thread.join()
    assert killed_at and killed_at[0] < finished  # the node died while the query ran
    return outcome, finished


def test_a_killed_node_is_retried_on_another(
    on_ray: hoarfrost.Connection, cluster: RayCluster
) -> None:
    on_ray.execute(SLOW)
    on_ray.execute("CREATE TABLE slow_in AS SELECT range AS x FROM range(3000000)")
    warm = "SELECT SUM(slow_next(x)) FROM t"  # four batches: both nodes get an actor
    assert rows(on_ray, warm) == [(199999 * 200000 // 2 + 200000,)]
    second = cluster.nodes[1]
    assert any(b"bootstrap.py" in _cmdline(p) for p in second.tree())
    outcome, _ = _kill_during(on_ray, second.kill, "SELECT SUM(slow_next(x)) FROM slow_in")
    n = 3_000_000
    assert outcome == [(n * (n - 1) // 2 + n,)]
    # The engine goes on with the node it has left.
    assert rows(on_ray, "SELECT SUM(twice(x)) FROM t") == [(199999 * 200000,)]


def test_a_killed_node_without_retries_fails_the_query_naming_it(
    cluster: RayCluster, repo_server: PypiServer, shared_cache: Path
) -> None:
    second = cluster.nodes[1]
    killed = {n["NodeID"] for n in ray.nodes() if n["NodeManagerAddress"] == second.address}
    cluster.restart(second)

    def settled() -> bool:  # the killed node marked dead, its successor registered
        alive = [n for n in ray.nodes() if n["Alive"]]
        addresses = sorted(n["NodeManagerAddress"] for n in alive)
        return addresses == ["127.0.0.2", "127.0.0.3"] and not any(
            n["NodeID"] in killed for n in alive
        )

    _wait_until(settled, 120.0)
    assert settled()
    settings = _ray_settings(cluster, ray_retries=0, ray_actors_per_function=2)
    con = open_account(repo_server, shared_cache, **settings)
    try:
        con.execute("CREATE TABLE slow_in AS SELECT range AS x FROM range(3000000)")
        con.execute(SLOW)
        assert rows(con, "SELECT COUNT(slow_next(x)) FROM slow_in WHERE x < 200000") == [(200000,)]
        assert any(b"bootstrap.py" in _cmdline(p) for p in second.tree())
        outcome, _ = _kill_during(con, second.kill, "SELECT SUM(slow_next(x)) FROM slow_in")
        assert isinstance(outcome, hoarfrost.OperationalError), outcome
        text = str(outcome)
        assert "failed on Ray node 127.0.0.3" in text
        assert "HOARFROST_RAY_RETRIES allows 0 retries" in text
        # Still usable: the next query runs on the head.
        assert rows(con, "SELECT COUNT(slow_next(x)) FROM slow_in WHERE x < 10") == [(10,)]
    finally:
        close_account(con)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
