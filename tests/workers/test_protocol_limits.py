"""A worker that lies about its frame sizes fails its call without making the engine allocate.

User code finds the protocol pipe (the write end of a pipe among its own fds) and writes a frame
header of its own before the bootstrap's reply. The engine must refuse an announced size above
the limit before allocating anything, and below the limit hold only the bytes that really came.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from hoarfrost.errors import WorkerError
from hoarfrost.workers.pool import WorkerPool
from hoarfrost.workers.protocol import MAX_FRAME
from hoarfrost.workers.spec import FunctionSpec
from hoarfrost.workers.types import SqlType

INT = SqlType.parse("INT")
TIMEOUT = 4.0
# The engine's own allocations during one call stay far below this; a lie is 1-2 GiB.
ALLOCATION_BOUND = 64 << 20

LIAR = """
import fcntl, os, stat, struct

def lie(x):
    for fd in range(3, 256):
        try:
            st = os.fstat(fd)
            flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        except OSError:
            continue
        if stat.S_ISFIFO(st.st_mode) and flags & os.O_ACCMODE == os.O_WRONLY:
            os.write(fd, struct.pack(">I", {size}) + b"x" * 100)
    return x
"""


def liar(size: int) -> FunctionSpec:
    return FunctionSpec("LIAR", LIAR.format(size=size), "lie", arg_types=(INT,), returns=INT)


OK = FunctionSpec("OK", "def f(x):\n    return x + 1\n", "f", arg_types=(INT,), returns=INT)


@pytest.fixture(scope="module")
def lie_pool(runtime: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerPool]:
    log = tmp_path_factory.mktemp("liar") / "workers.log"
    with WorkerPool(
        runtime, None, size=1, timeout=TIMEOUT, memory_limit=256 << 20, log_path=log
    ) as pool:
        yield pool


def _call_traced(pool: WorkerPool, spec: FunctionSpec) -> tuple[WorkerError, int, float]:
    """The call's error, the peak of the engine's Python allocations during it, and its time."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(WorkerError) as info:
            pool.call(spec, [[1, 2]], 2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return info.value, peak, time.monotonic() - started


def test_a_header_of_2_gib_is_refused_before_allocating(lie_pool: WorkerPool) -> None:
    error, peak, elapsed = _call_traced(lie_pool, liar(2**31))
    assert "broke the protocol" in error.msg
    assert f"frame of {2**31} bytes, more than the limit of {MAX_FRAME} bytes" in error.msg
    assert peak < ALLOCATION_BOUND, f"the engine allocated {peak} bytes for a lie"
    assert elapsed < TIMEOUT  # refused at once, not after waiting for 2 GiB
    # The liar's worker is gone; the pool serves the next call with a fresh one.
    assert list(lie_pool.call(OK, [[1, 2]], 2)) == [2, 3]


def test_a_header_under_the_limit_allocates_only_what_arrives(lie_pool: WorkerPool) -> None:
    # 1 GiB announced, a few hundred bytes sent: the call times out waiting for the rest, and
    # the engine never held more than what it received.
    error, peak, _ = _call_traced(lie_pool, liar(MAX_FRAME))
    assert "exceeded the timeout" in error.msg
    assert peak < ALLOCATION_BOUND, f"the engine allocated {peak} bytes for a lie"
    assert list(lie_pool.call(OK, [[5]], 1)) == [6]


def test_big_honest_frames_still_arrive_whole(lie_pool: WorkerPool) -> None:
    # A reply of ~24 MiB crosses every growth step of the receive buffer.
    text = SqlType.parse("VARCHAR")
    spec = FunctionSpec(
        "BIG", "def big(n):\n    return 'ab' * n\n", "big", arg_types=(INT,), returns=text
    )
    sizes = [3 << 20, 1, 9 << 20]
    out = list(lie_pool.call(spec, [sizes], len(sizes)))
    assert [len(s) for s in out] == [2 * n for n in sizes]
    assert out[2][-4:] == "abab"
