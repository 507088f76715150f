"""Framing between the engine and a worker: a 4-byte big-endian length, then a pickle.

The worker side of this lives, duplicated in a few lines, in ``bootstrap.py`` (which must stay
standard-library only and self-contained). This module is the engine side and adds what the engine
needs and the worker does not:

* deadlines on every read and write (a worker may hang, or stop reading its pipe), and
* a *restricted* unpickler. Pickle is code: a worker runs untrusted user code, which can find the
  protocol pipe and write a crafted pickle to it. The engine therefore only resolves the handful of
  standard-library classes that values and replies are made of (see ``_ALLOWED``); anything else is
  a protocol violation, never an import.

Messages are tuples ``(tag, payload)``. Engine -> worker: ``init``, ``load``, ``call``, ``udtf``,
``proc``, ``sql_result``, ``sql_error``, ``shutdown``. Worker -> engine: ``ready``, ``ok``,
``error``, ``sql`` (a procedure asks the engine to run SQL mid-call; the engine answers with
``sql_result`` or ``sql_error`` and the worker carries on).
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import io
import os
import pickle
import select
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = [
    "HEADER",
    "PICKLE_PROTOCOL",
    "Channel",
    "ChannelClosed",
    "ChannelTimeout",
    "ProtocolViolation",
    "loads",
]

HEADER = struct.Struct(">I")
# Protocol 5 is understood by every supported runtime (3.8+) and sends bytes/array payloads flat.
PICKLE_PROTOCOL = 5
# A frame announced bigger than this is refused before anything is allocated: a batch of 64k rows
# of ordinary values is a few MiB, and a worker must not make the engine allocate what it claims.
MAX_FRAME = 1 << 30
# Below the limit, a big frame's buffer still grows only with the bytes that actually arrived
# (doubling from this size), so a header that lies costs nothing until the data is really sent.
_FIRST_BIG_BUFFER = 1 << 22
# Replies up to this size (a batch of 2048 values is ~20 KiB) are read into one reused buffer.
_READ_BUFFER = 1 << 18
# A bigger frame's buffer is kept for the next one up to this size: a 64k-row batch of numbers
# (512 KiB) then costs no allocation per batch.
_KEPT_BUFFER = 1 << 20
# A channel that moves a frame bigger than a default pipe (64 KiB) makes both its pipes hold this
# much (the unprivileged maximum): a 64k-row batch then moves in one write and one read instead
# of a dozen turns of both processes. At most ``_BIG_PIPES`` pipes of the process are enlarged:
# the kernel counts pipe memory per user, and past the user's quota (64 MiB by default) every new
# pipe of that user gets a single page.
PIPE_SIZE = 1 << 20
_DEFAULT_PIPE_SIZE = 1 << 16
_BIG_PIPES = threading.BoundedSemaphore(32)

# Everything a worker may legitimately send: values of SPEC.md section 6 and plain containers.
_ALLOWED: frozenset[tuple[str, str]] = frozenset(
    {
        ("datetime", "date"),
        ("datetime", "time"),
        ("datetime", "datetime"),
        ("datetime", "timedelta"),
        ("datetime", "timezone"),
        ("decimal", "Decimal"),
        ("zoneinfo", "ZoneInfo._unpickle"),
        ("array", "array"),
        ("array", "_array_reconstructor"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("builtins", "bytearray"),
        ("builtins", "complex"),
    }
)


def _gil_holding_io() -> tuple[Callable[..., int], Callable[..., int]] | None:
    """libc ``write`` and ``read`` called *without* releasing the GIL (ctypes.PyDLL).

    Both fds are non-blocking, so these calls never wait; keeping the GIL through them saves two
    GIL hand-offs per batch, which under several DuckDB threads cost more than the calls
    themselves (each hand-off is a futex wake and a context switch). ``None`` where libc cannot
    be loaded: the channel then uses ``os.write`` / ``os.readv``.
    """
    try:
        libc = ctypes.PyDLL(None, use_errno=True)
        write, read = libc.write, libc.read
    except (OSError, AttributeError):
        return None
    for fn in (write, read):
        fn.restype = ctypes.c_ssize_t
        fn.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
    return write, read


_LIBC_IO = _gil_holding_io()
# Transfers larger than this release the GIL (os.write / os.readv): copying a 64k-row batch
# through the pipe takes long enough that the other threads should run meanwhile.
_GIL_FREE_IO = 1 << 16


class ChannelClosed(Exception):
    """The other end went away (EOF or broken pipe)."""


class ChannelTimeout(Exception):
    """The deadline passed before a whole frame moved."""


class ProtocolViolation(Exception):
    """The worker sent something that is not a frame of allowed values."""


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise ProtocolViolation(f"worker sent a disallowed object {module}.{name}")


def loads(data: bytes | memoryview) -> Any:
    """Unpickle bytes from a worker, resolving only allowed standard-library classes."""
    try:
        return _RestrictedUnpickler(io.BytesIO(data)).load()
    except ProtocolViolation:
        raise
    except Exception as exc:
        raise ProtocolViolation(f"worker sent an unreadable frame: {exc!r}") from None


class Channel:
    """Engine end of a worker's pipes: ``send`` / ``recv`` with absolute deadlines.

    Called for every batch of every query, from several DuckDB threads at once, so it keeps GIL
    hand-offs per batch to one: the ``poll`` that waits for the worker. Writing the request (the
    pipe nearly always has room) and reading the reply (``poll`` said it is there) hold the GIL
    (see ``_gil_holding_io``), except transfers over ``_GIL_FREE_IO`` bytes (a large batch, whose
    copy the other threads should not wait for); header and body are usually read at once into a
    reused buffer.
    """

    def __init__(self, read_fd: int, write_fd: int, max_frame: int = MAX_FRAME):
        self._max_frame = max_frame
        self._rfd = read_fd
        self._wfd = write_fd
        os.set_blocking(read_fd, False)
        os.set_blocking(write_fd, False)
        self._big_pipes: list[int] | None = None  # enlarged once a big frame moves
        self._rpoll = select.poll()
        self._rpoll.register(read_fd, select.POLLIN)
        self._wpoll = select.poll()
        self._wpoll.register(write_fd, select.POLLOUT)
        self._buf = bytearray(_READ_BUFFER)

    def send(self, message: Any, deadline: float) -> None:
        body = pickle.dumps(message, protocol=PICKLE_PROTOCOL)
        self._fit_pipes(len(body))
        data = HEADER.pack(len(body)) + body
        done = 0
        while done < len(data):
            try:
                done += self._write(data, done)
            except BlockingIOError:  # the pipe is full: wait until the worker reads
                self._wait(self._wpoll, deadline)
            except (BrokenPipeError, ConnectionResetError):
                raise ChannelClosed() from None

    def recv(self, deadline: float) -> Any:
        buf = self._buf
        have, size = 0, -1
        while True:
            self._wait(self._rpoll, deadline)
            # The frame's size is known after its header: a large rest is read without the GIL.
            large = size >= 0 and HEADER.size + size - have > _GIL_FREE_IO
            try:
                n = self._read(buf, have, large)
            except BlockingIOError:
                continue
            if not n:
                raise ChannelClosed()
            have += n
            if size < 0 and have >= HEADER.size:
                (size,) = HEADER.unpack_from(buf)
                if size > self._max_frame:
                    raise ProtocolViolation(
                        f"worker announced a frame of {size} bytes, more than the limit of "
                        f"{self._max_frame} bytes"
                    )
                self._fit_pipes(size)
            if size >= 0 and have == len(buf) and have < HEADER.size + size:
                buf = _grown(buf, have, HEADER.size + size)  # a big frame: a buffer of its own
            if 0 <= size <= have - HEADER.size:
                if len(self._buf) < len(buf) <= _KEPT_BUFFER:
                    self._buf = buf
                with memoryview(buf) as view:
                    message = loads(view[HEADER.size : HEADER.size + size])
                # One frame at a time: a worker only sends after the engine asked something.
                if have != HEADER.size + size:
                    raise ProtocolViolation("worker sent data beyond its frame")
                return message

    def close(self) -> None:
        """Give back the pipes' share of the enlarged pipes (their fds are closed by the owner)."""
        for _ in self._big_pipes or ():
            _BIG_PIPES.release()
        self._big_pipes = []

    def _fit_pipes(self, frame: int) -> None:
        """Enlarge both pipes, once, when a ``frame`` bigger than a default pipe moves."""
        if frame <= _DEFAULT_PIPE_SIZE or self._big_pipes is not None:
            return
        self._big_pipes = []
        set_size: int | None = getattr(fcntl, "F_SETPIPE_SZ", None)  # Linux only
        if set_size is None:
            return
        for fd in (self._rfd, self._wfd):
            if not _BIG_PIPES.acquire(blocking=False):
                return
            try:
                fcntl.fcntl(fd, set_size, PIPE_SIZE)
            except OSError:  # over the quota, or not a pipe: the default size still works
                _BIG_PIPES.release()
            else:
                self._big_pipes.append(fd)

    def _write(self, data: bytes, offset: int) -> int:
        if _LIBC_IO is None or len(data) - offset > _GIL_FREE_IO:
            with memoryview(data) as view:
                return os.write(self._wfd, view[offset:])
        address = ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value or 0
        n = _LIBC_IO[0](self._wfd, address + offset, len(data) - offset)
        return n if n >= 0 else _raise_errno()

    def _read(self, buf: bytearray, offset: int, large: bool) -> int:
        if _LIBC_IO is None or large:
            with memoryview(buf) as view:
                return os.readv(self._rfd, [view[offset:]])
        # Holding the GIL: at most _GIL_FREE_IO bytes (a small frame whole, a large one's head).
        address = ctypes.addressof((ctypes.c_char * len(buf)).from_buffer(buf))
        n = _LIBC_IO[1](self._rfd, address + offset, min(len(buf) - offset, _GIL_FREE_IO))
        return n if n >= 0 else _raise_errno()

    @staticmethod
    def _wait(poller: select.poll, deadline: float) -> None:
        # poll, not select: an engine with many open files hands out fds above FD_SETSIZE.
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ChannelTimeout()
        if not poller.poll(remaining * 1000):
            raise ChannelTimeout()


def _grown(buf: bytearray, have: int, frame: int) -> bytearray:
    """A bigger buffer holding ``buf[:have]``: twice the size, at most the whole ``frame``."""
    bigger = bytearray(min(frame, max(2 * len(buf), _FIRST_BIG_BUFFER)))
    bigger[:have] = buf[:have]
    return bigger


def _raise_errno() -> int:
    err = ctypes.get_errno()
    if err in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR):
        raise BlockingIOError(err, os.strerror(err))
    if err in (errno.EPIPE, errno.ECONNRESET):
        raise BrokenPipeError(err, os.strerror(err))
    raise OSError(err, os.strerror(err))
