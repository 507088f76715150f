"""Frames of every size through a real worker's pipes, in any order.

The engine and the worker keep a grown read buffer for the next frame (a 64k-row batch of numbers
is ~512 KiB): a frame smaller than the kept buffer, a bigger one that replaces it, and one past
what is kept must all arrive whole, with nothing of an earlier frame in them.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hoarfrost.workers.pool import WorkerPool
from hoarfrost.workers.protocol import PIPE_SIZE, Channel, ChannelTimeout
from hoarfrost.workers.spec import FunctionSpec
from hoarfrost.workers.types import SqlType

INT = SqlType.parse("INT")
TEXT = SqlType.parse("VARCHAR")
PLUS1 = FunctionSpec("PLUS1", "def f(x):\n    return x + 1\n", "f", arg_types=(INT,), returns=INT)
SHOUT = FunctionSpec(
    "SHOUT", "def f(s):\n    return s.upper() + '!'\n", "f", arg_types=(TEXT,), returns=TEXT
)
# Rows per call, in an order that grows, shrinks and grows the kept buffers past their bound.
SIZES = (10, 70_000, 3, 200_000, 65_536, 1, 40_000)


@pytest.fixture(scope="module")
def frames_pool(runtime: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerPool]:
    log = tmp_path_factory.mktemp("frames") / "workers.log"
    with WorkerPool(runtime, None, size=1, timeout=60, memory_limit=1 << 30, log_path=log) as pool:
        yield pool


def test_numbers_of_every_batch_size_come_back_whole(frames_pool: WorkerPool) -> None:
    for n in SIZES:
        start = n * 1_000
        result = frames_pool.call(PLUS1, [list(range(start, start + n))], n)
        assert list(result) == list(range(start + 1, start + n + 1)), n


def test_text_of_every_batch_size_comes_back_whole(frames_pool: WorkerPool) -> None:
    for n in SIZES:
        values = [f"{n}-{i}" * (1 + i % 5) for i in range(n)]
        result = frames_pool.call(SHOUT, [values], n)
        assert list(result) == [v.upper() + "!" for v in values], n


def _pipe_sizes(channel_fds: tuple[int, ...]) -> list[int]:
    return [fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ) for fd in channel_fds]


def test_a_channel_enlarges_its_pipes_once_a_big_frame_moves() -> None:
    read_fd, write_fd = os.pipe()  # one pipe as both ends: the channel reads what it sent
    try:
        channel = Channel(read_fd, write_fd)
        default = _pipe_sizes((read_fd, write_fd))
        deadline = time.monotonic() + 10
        channel.send(b"x" * 1_000, deadline)
        assert channel.recv(deadline) == b"x" * 1_000
        assert _pipe_sizes((read_fd, write_fd)) == default  # small frames: as it was
        big = os.urandom(300_000)  # more than a default pipe holds: no reader needed now
        channel.send(big, deadline)
        assert _pipe_sizes((read_fd, write_fd)) == [PIPE_SIZE, PIPE_SIZE]
        assert channel.recv(deadline) == big
        channel.close()
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_enlarged_pipes_are_bounded_and_given_back() -> None:
    pipes = [os.pipe() for _ in range(40)]
    channels = [Channel(r, w) for r, w in pipes]
    try:
        for channel in channels:
            try:  # past the bound the pipe keeps its size: the frame does not fit, no reader
                channel.send(b"y" * 100_000, time.monotonic() + 0.2)
            except ChannelTimeout:
                pass
        # Each channel here has one pipe as both ends: two of the 32 enlargements for one pipe.
        enlarged = sum(_pipe_sizes((r,)) == [PIPE_SIZE] for r, _ in pipes)
        assert 1 <= enlarged <= 16
        for channel in channels:
            channel.close()
        r, w = os.pipe()
        try:
            Channel(r, w).send(b"z" * 100_000, time.monotonic() + 10)
            assert _pipe_sizes((r, w)) == [PIPE_SIZE, PIPE_SIZE]
        finally:
            os.close(r)
            os.close(w)
    finally:
        for r, w in pipes:
            os.close(r)
            os.close(w)
