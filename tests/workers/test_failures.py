"""User errors show the user's traceback; crashes, hangs and memory bombs fail only their call."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hoarfrost.errors import UserCodeError, WorkerError
from hoarfrost.workers.pool import WorkerPool
from hoarfrost.workers.spec import FunctionSpec
from hoarfrost.workers.types import SqlType

pytestmark = pytest.mark.slow

INT = SqlType.parse("INT")
OK = FunctionSpec("OK", "def f(x):\n    return x + 1\n", "f", arg_types=(INT,), returns=INT)


def fn(code: str, handler: str = "f") -> FunctionSpec:
    return FunctionSpec("F", code, handler, arg_types=(INT,), returns=INT)


@pytest.fixture(scope="module")
def small_pool(runtime: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerPool]:
    """No environment, a 2 s timeout and a 256 MiB address space."""
    log = tmp_path_factory.mktemp("small") / "workers.log"
    with WorkerPool(runtime, None, size=1, timeout=2, memory_limit=256 << 20, log_path=log) as p:
        yield p


USER_ERROR = """
def helper(x):
    if x > 2:
        raise ValueError(f"bad value {x}")
    return x

def f(x):
    return helper(x)
"""


def test_user_exception_shows_only_user_frames(pool: WorkerPool) -> None:
    with pytest.raises(UserCodeError) as info:
        pool.call(fn(USER_ERROR), [[1, 3]], 2)
    text = info.value.msg
    assert text.startswith("Python Interpreter Error:\nTraceback (most recent call last):\n")
    assert '  File "<F>", line 8, in f\n    return helper(x)\n' in text
    assert '  File "<F>", line 4, in helper\n    raise ValueError(f"bad value {x}")\n' in text
    assert "ValueError: bad value 3\n" in text
    assert "bootstrap" not in text and "hoarfrost" not in text
    assert text.endswith("in function F with handler f")


def test_chained_exceptions_keep_both_parts(pool: WorkerPool) -> None:
    code = (
        "def f(x):\n"
        "    try:\n"
        "        {}[x]\n"
        "    except KeyError as e:\n"
        "        raise RuntimeError('no') from e\n"
    )
    with pytest.raises(UserCodeError) as info:
        pool.call(fn(code), [[1]], 1)
    text = info.value.msg
    assert "KeyError: 1" in text and "direct cause" in text and "RuntimeError: no" in text
    assert "bootstrap" not in text


def test_missing_handler_is_named_and_case_sensitive(pool: WorkerPool) -> None:
    with pytest.raises(
        UserCodeError, match=r"Handler 'F' is not defined.*case-sensitive.*defined: f"
    ):
        pool.load(fn("def f(x):\n    return x\n", handler="F"))


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("def f(x)\n    return x\n", "SyntaxError"),
        ("import no_such_package_here\ndef f(x):\n    return x\n", "ModuleNotFoundError"),
    ],
)
def test_load_errors_are_user_errors(pool: WorkerPool, code: str, expected: str) -> None:
    with pytest.raises(UserCodeError, match=expected):
        pool.load(fn(code))
    assert list(pool.call(OK, [[1]], 1)) == [2]


FAILURES = {
    "exit": ("import os\ndef f(x):\n    os._exit(1)\n", r"exited unexpectedly \(code 1\)"),
    "loop": (
        "def f(x):\n    while True:\n        pass\n",
        r"timeout of 2 seconds \(setting HOARFROST_WORKER_TIMEOUT\)",
    ),
    "bomb": ("def f(x):\n    return len(bytearray(1 << 30))\n", "HOARFROST_WORKER_MEMORY_LIMIT"),
    "growth": (
        "def f(x):\n    hoard = []\n    while True:\n        hoard.append(' ' * (1 << 20))\n",
        "HOARFROST_WORKER_MEMORY_LIMIT",
    ),
    "oom-kill": (
        "import os, signal\ndef f(x):\n    os.kill(os.getpid(), signal.SIGKILL)\n",
        r"killed \(SIGKILL\).*256 MiB.*HOARFROST_WORKER_MEMORY_LIMIT",
    ),
}


@pytest.mark.parametrize("case", list(FAILURES))
def test_failure_fails_only_its_call(small_pool: WorkerPool, case: str) -> None:
    code, message = FAILURES[case]
    assert list(small_pool.call(OK, [[1]], 1)) == [2]
    with pytest.raises(WorkerError, match=message):
        small_pool.call(fn(code), [[1]], 1)
    assert list(small_pool.call(OK, [[41]], 1)) == [42]


def test_a_forged_pickle_from_user_code_is_refused(small_pool: WorkerPool, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    code = f"""
import gc, os, pickle, struct

class Evil:
    def __reduce__(self):
        return (os.system, ("touch {marker}",))

def f(x):
    wire = next(o for o in gc.get_objects() if type(o).__name__ == "Wire")
    body = pickle.dumps(("ok", Evil()))
    os.write(wire.wfd, struct.pack(">I", len(body)) + body)
    return x
"""
    with pytest.raises(WorkerError, match=r"broke the protocol.*disallowed object"):
        small_pool.call(fn(code), [[1]], 1)
    assert not marker.exists()
    assert list(small_pool.call(OK, [[1]], 1)) == [2]
