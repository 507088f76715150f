"""UDTFs (process + end_partition across partitions) and procedures with SQL callbacks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from hoarfrost.errors import UserCodeError
from hoarfrost.workers.pool import WorkerPool
from hoarfrost.workers.runner import FakeRunner, Runner
from hoarfrost.workers.spec import FunctionSpec
from hoarfrost.workers.types import SqlType

pytestmark = pytest.mark.slow

INT = SqlType.parse("INT")
TOTALS = """
class Totals:
    def __init__(self):
        self.total = 0

    def process(self, x):
        self.total += x
        yield (x, x * 2)
        if x > 10:
            yield (x, -1)

    def end_partition(self):
        yield ("total", self.total)
"""


@pytest.fixture(params=["pool", "fake"])
def runner(request: pytest.FixtureRequest, pool: WorkerPool) -> Runner:
    # The fake runs the worker's code in-process: both must behave the same.
    return pool if request.param == "pool" else FakeRunner()


def test_udtf_process_and_end_partition(runner: Runner) -> None:
    spec = FunctionSpec("TOTALS", TOTALS, "Totals", kind="udtf", arg_types=(INT,))
    out = runner.call_udtf(spec, [[[1, 2]], [[20]], [[]]])
    assert out == [
        [(0, [1, 2]), (1, [2, 4]), (None, ["total", 3])],
        [(0, [20, 40]), (0, [20, -1]), (None, ["total", 20])],
        [(None, ["total", 0])],
    ]


def test_udtf_strict_skips_null_rows_and_keeps_source_indices(runner: Runner) -> None:
    spec = FunctionSpec("TOTALS", TOTALS, "Totals", kind="udtf", arg_types=(INT,), strict=True)
    out = runner.call_udtf(spec, [[[None, 5]]])
    assert out == [[(1, [5, 10]), (None, ["total", 5])]]


def test_udtf_handler_must_be_a_class_with_process(runner: Runner) -> None:
    spec = FunctionSpec("BAD", "def Totals():\n    pass\n", "Totals", kind="udtf")
    with pytest.raises(UserCodeError, match="must be a class with a process method"):
        runner.load(spec)


PROC = """
def run(session, name):
    rows = session.sql("SELECT a, b FROM t").collect()
    first = rows[0]
    return f"{name}: {first.A} {first['B']} {first[0]} {len(rows)} {rows[1].asDict()}"

def table(session):
    return session.table("t")

def failing(session):
    try:
        session.sql("SELECT nonsense").collect()
    except Exception as exc:
        return type(exc).__name__ + ": " + str(exc)
"""


class FakeSql:
    def __init__(self) -> None:
        self.queries: list[str] = []

    def __call__(self, text: str) -> tuple[Sequence[str], Sequence[Sequence[Any]]]:
        self.queries.append(text)
        if "nonsense" in text:
            raise ValueError("invalid identifier 'NONSENSE'")
        return ["A", "B"], [(1, "x"), (2, None)]


def test_procedure_runs_sql_through_the_engine(runner: Runner) -> None:
    sql = FakeSql()
    spec = FunctionSpec("P", PROC, "run", kind="procedure", arg_types=(SqlType.parse("VARCHAR"),))
    res = runner.call_procedure(spec, ["hi"], sql)
    assert not res.is_table
    assert res.value == "hi: 1 x 1 2 {'A': 2, 'B': None}"
    assert sql.queries == ["SELECT a, b FROM t"]


def test_procedure_returning_a_table(runner: Runner) -> None:
    spec = FunctionSpec("P", PROC, "table", kind="procedure")
    res = runner.call_procedure(spec, [], FakeSql())
    assert res.is_table and res.columns == ["A", "B"] and res.rows == [[1, "x"], [2, None]]


def test_sql_errors_reach_the_procedure_code(runner: Runner) -> None:
    spec = FunctionSpec("P", PROC, "failing", kind="procedure")
    res = runner.call_procedure(spec, [], FakeSql())
    assert res.value == "SnowparkSQLException: invalid identifier 'NONSENSE'"


LINGERING = """
import threading

STATE = {}

def run(session, step):
    if step == "first":
        def later(direct):
            STATE["go"].wait(30)
            try:
                if direct:  # past the session's own check, straight to the engine's channel
                    session._sql(session._call, "SELECT 'stale direct'")
                else:
                    session.sql("SELECT 'stale'").collect()
                STATE[direct] = "ran"
            except Exception as exc:
                STATE[direct] = type(exc).__name__ + ": " + str(exc)
        STATE["go"] = threading.Event()
        STATE["threads"] = [threading.Thread(target=later, args=(d,)) for d in (False, True)]
        for t in STATE["threads"]:
            t.start()
        return "started"
    STATE["go"].set()
    for t in STATE["threads"]:
        t.join(30)
    session.sql("SELECT 'own'").collect()
    return STATE[False] + " | " + STATE[True]
"""


def test_a_thread_left_by_an_earlier_call_cannot_run_sql(runner: Runner) -> None:
    # A procedure's SQL channel serves the call that is running, not a thread an earlier call
    # left behind (which would otherwise run SQL in the later caller's session).
    spec = FunctionSpec(
        "P", LINGERING, "run", kind="procedure", arg_types=(SqlType.parse("VARCHAR"),)
    )
    first, second = FakeSql(), FakeSql()
    assert runner.call_procedure(spec, ["first"], first).value == "started"
    outcome = runner.call_procedure(spec, ["second"], second).value
    assert outcome.count("SnowparkSQLException") == 2, outcome
    assert "procedure call that has ended" in outcome.split(" | ")[0]
    assert first.queries == [] and second.queries == ["SELECT 'own'"]


# The shape of the handler Snowpark generates for a registered UDF: the user's function behind a
# wrapper that serialises its first call only. ``func`` reports how many wrappers were made.
SNOWPARK_SHAPED = """
from threading import RLock
lock = RLock()
WRAPPED = [0]

def func(x):
    return x * 10 + WRAPPED[0] * 1000000

class InvokedFlag:
    def __init__(self):
        self.invoked = False

def lock_function_once(f, flag):
    WRAPPED[0] += 1
    def wrapper(*args):
        if not flag.invoked:
            with lock:
                flag.invoked = True
        return f(*args)
    return wrapper

invoked = InvokedFlag()

def compute(arg1):
    return lock_function_once(func, invoked)(arg1)
"""


def test_snowpark_shaped_handlers_are_called_without_a_wrapper_per_row(runner: Runner) -> None:
    spec = FunctionSpec("SP", SNOWPARK_SHAPED, "compute", arg_types=(INT,), returns=INT)
    values = list(range(1, 1001))
    # one wrapper for the batch (its first row), then the function itself: same values
    assert list(runner.call(spec, [values], len(values))) == [v * 10 + 1000000 for v in values]


def test_other_handlers_named_compute_are_called_as_written(runner: Runner) -> None:
    code = SNOWPARK_SHAPED.replace(
        "return lock_function_once(func, invoked)(arg1)", "return func(arg1) + 1"
    )
    spec = FunctionSpec("NOT_SP", code, "compute", arg_types=(INT,), returns=INT)
    assert list(runner.call(spec, [[1, 2, 3]], 3)) == [11, 21, 31]
