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

import io
import os
import pickle
import select
import struct
import time
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
# A frame bigger than this is refused: one batch of 2048 rows never gets near it, and a worker
# must not make the engine allocate whatever it claims.
MAX_FRAME = 1 << 31

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


def loads(data: bytes) -> Any:
    """Unpickle bytes from a worker, resolving only allowed standard-library classes."""
    try:
        return _RestrictedUnpickler(io.BytesIO(data)).load()
    except ProtocolViolation:
        raise
    except Exception as exc:
        raise ProtocolViolation(f"worker sent an unreadable frame: {exc!r}") from None


class Channel:
    """Engine end of a worker's pipes: ``send`` / ``recv`` with absolute deadlines."""

    def __init__(self, read_fd: int, write_fd: int):
        self._rfd = read_fd
        self._wfd = write_fd
        os.set_blocking(read_fd, False)
        os.set_blocking(write_fd, False)

    def send(self, message: Any, deadline: float) -> None:
        body = pickle.dumps(message, protocol=PICKLE_PROTOCOL)
        view = memoryview(HEADER.pack(len(body)) + body)
        while view:
            self._wait(self._wfd, deadline, write=True)
            try:
                n = os.write(self._wfd, view)
            except BlockingIOError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                raise ChannelClosed() from None
            view = view[n:]

    def recv(self, deadline: float) -> Any:
        (size,) = HEADER.unpack(self._read_exactly(HEADER.size, deadline))
        if size > MAX_FRAME:
            raise ProtocolViolation(f"worker announced a frame of {size} bytes")
        return loads(self._read_exactly(size, deadline))

    def _read_exactly(self, size: int, deadline: float) -> bytes:
        buf = bytearray()
        while len(buf) < size:
            self._wait(self._rfd, deadline, write=False)
            try:
                chunk = os.read(self._rfd, min(size - len(buf), 1 << 20))
            except BlockingIOError:
                continue
            if not chunk:
                raise ChannelClosed()
            buf += chunk
        return bytes(buf)

    @staticmethod
    def _wait(fd: int, deadline: float, *, write: bool) -> None:
        # poll, not select: an engine with many open files hands out fds above FD_SETSIZE.
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ChannelTimeout()
        poller = select.poll()
        poller.register(fd, select.POLLOUT if write else select.POLLIN)
        if not poller.poll(remaining * 1000):
            raise ChannelTimeout()
