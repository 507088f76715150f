"""Worker main: runs user Python code for the engine, in its own interpreter.

STANDARD LIBRARY ONLY and self-contained: this file runs under every supported runtime (3.10-3.13)
and next to any package environment, started as ``<python> -I -S -B bootstrap.py`` (isolated mode:
no user site, no PYTHON* variables, not even this file's directory on ``sys.path``). The engine
also imports it in-process for the fake runner, so nothing happens at import time.

Life of a worker (see ``protocol.py`` for the message list):

1. move the protocol pipes off fds 0/1, so that ``print`` and C-level writes of user code land in
   the log (fd 2, opened by the pool), never in the protocol stream;
2. read ``init``: apply the memory limit to itself (RLIMIT_AS), put itself in the kernel sandbox
   (namespaces, an unprivileged uid, no capabilities, Landlock, a process limit, seccomp: see
   "The kernel sandbox" below; from then on the answering process is a child of the one the
   engine started), report what is in force, put the environment on ``sys.path`` and install
   the ``_snowflake`` module;
3. answer ``load`` / ``call`` / ``udtf`` / ``proc`` until ``shutdown`` or EOF.

Values arrive and leave as plain Python values (the engine converts Arrow <-> Python); ``_plain``
turns numpy/pandas scalars into standard ones because the engine only unpickles standard types.
"""

from __future__ import annotations

import array
import ctypes
import datetime as dt
import decimal
import importlib
import io
import itertools
import linecache
import os
import pickle
import struct
import sys
import threading
import traceback
import types
from collections.abc import Callable, Iterable
from typing import Any, cast

HEADER = struct.Struct(">I")
PICKLE_PROTOCOL = 5
KEPT_BUFFER = 1 << 20
KINDS = ("scalar", "vectorized", "udtf", "procedure", "aggregate")
# What a Python UDAF's handler class must define (the reference's protocol).
AGGREGATE_MEMBERS = ("aggregate_state", "accumulate", "merge", "finish")
_THIS_FILE = os.path.abspath(__file__)


# ---------------------------------------------------------------------------------------------
# Framing (the engine's side is protocol.Channel; these few lines are its blocking twin)


class Wire:
    def __init__(self, read_fd: int, write_fd: int):
        self.rfd, self.wfd = read_fd, write_fd
        self._buf = bytearray(1 << 18)  # header and body usually arrive in one read
        self._owner = os.getpid()
        # A procedure's SQL (from any of its threads) and the call's answer take turns: the one
        # who sends a request reads its answer before anyone else speaks on the pipe.
        self.turn = threading.Lock()

    def claim(self) -> None:
        self._owner = os.getpid()

    def _mine(self) -> None:
        # A process forked by user code that falls back into the main loop (a fork bomb whose
        # fork finally failed, say) leaves quietly instead of speaking on the engine's pipe.
        if os.getpid() != self._owner:
            os._exit(0)

    def recv(self) -> Any:
        self._mine()
        buf, have, size = self._buf, 0, -1
        view = memoryview(buf)
        while size < 0 or have < HEADER.size + size:
            n = os.readv(self.rfd, [view[have:]])
            if not n:
                raise EOFError("engine closed the pipe")
            have += n
            if size < 0 and have >= HEADER.size:
                (size,) = HEADER.unpack_from(buf)
                if HEADER.size + size > len(buf):
                    bigger = bytearray(HEADER.size + size)
                    bigger[:have] = view[:have]
                    view.release()
                    buf, view = bigger, memoryview(bigger)
                    if len(bigger) <= KEPT_BUFFER:  # a 64k-row batch: no allocation next time
                        self._buf = bigger
        # The engine sends one frame and waits for the answer: nothing follows the frame.
        return pickle.loads(view[HEADER.size : HEADER.size + size])

    def send(self, message: Any) -> None:
        self._mine()
        body = pickle.dumps(message, protocol=PICKLE_PROTOCOL)
        view = memoryview(HEADER.pack(len(body)) + body)
        while view:
            view = view[os.write(self.wfd, view) :]


# ---------------------------------------------------------------------------------------------
# Errors: user exceptions travel as (type, message, the user's traceback); bootstrap frames and
# anything of the engine are filtered out, the rest is rendered exactly as Python renders it.


class LoadError(Exception):
    """The code cannot be loaded or the handler is not usable; the message says why."""


class CallError(Exception):
    """A user function broke the calling contract (wrong batch length, bad UDTF row)."""


def _strip(te: traceback.TracebackException) -> None:
    te.stack = traceback.StackSummary.from_list(
        [f for f in te.stack if os.path.abspath(f.filename) != _THIS_FILE]
    )
    for chained in (te.__cause__, te.__context__):
        if chained is not None:
            _strip(chained)


def describe_exception(exc: BaseException) -> dict[str, str]:
    te = traceback.TracebackException.from_exception(exc)
    _strip(te)
    return {"type": type(exc).__name__, "message": str(exc), "traceback": "".join(te.format())}


# ---------------------------------------------------------------------------------------------
# Values: the engine unpickles only standard types, so numpy/pandas values are made plain here.

_PLAIN = frozenset(
    {type(None), bool, int, float, str, bytes, decimal.Decimal, dt.date, dt.time, dt.timedelta}
)


def _plain(v: Any) -> Any:
    t = type(v)
    if t in _PLAIN:
        return v
    if isinstance(v, dt.datetime):
        if hasattr(v, "to_pydatetime"):  # pandas.Timestamp
            v = v.to_pydatetime()
        if v.tzinfo is not None and type(v.tzinfo) is not dt.timezone:
            v = v.replace(tzinfo=dt.timezone(v.utcoffset() or dt.timedelta(0)))
        return dt.datetime(
            v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond, v.tzinfo
        )
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, (bytearray, memoryview)):
        return bytes(v)
    if hasattr(v, "tolist"):  # numpy scalars and arrays
        return _plain(v.tolist())
    for base in (bool, int, float, str, bytes):  # subclasses (IntEnum, numpy.str_ ...)
        if isinstance(v, base):
            return cast(Any, base)(v)
    return v  # not a value we know: the pickling or the engine's type check will say so


def _plain_list(values: Iterable[Any]) -> list[Any]:
    return [v if type(v) in _PLAIN else _plain(v) for v in values]


# ---------------------------------------------------------------------------------------------
# The _snowflake module the reference provides to UDF code.


def make_snowflake_module() -> types.ModuleType:
    mod = types.ModuleType("_snowflake", "Helpers the reference system provides to UDF code.")

    def vectorized(*, input: Any, max_batch_size: int | None = None) -> Callable[[Any], Any]:
        def mark(func: Any) -> Any:
            func._sf_vectorized_input = input
            func._sf_max_batch_size = max_batch_size
            return func

        return mark

    mod.vectorized = vectorized  # type: ignore[attr-defined]
    return mod


# ---------------------------------------------------------------------------------------------
# Vectorized batches: pandas comes from the function's environment, never from us.


def _import_pandas() -> Any:
    try:
        import pandas  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        raise LoadError(
            "A vectorized UDF needs pandas, which is not in the function's environment; "
            "add 'pandas' to PACKAGES."
        ) from None
    return pandas


# pandas dtypes per type kind that keep NULLs as missing values; others stay object columns.
_PANDAS_DTYPES = {"int": "Int64", "float": "float64", "bool": "boolean"}


def _series(pd: Any, column: Any, kind: str) -> Any:
    if isinstance(column, array.array):  # no NULLs: a zero-copy numpy view
        import numpy  # type: ignore[import-not-found,import-untyped,unused-ignore]

        return pd.Series(numpy.frombuffer(column, dtype=column.typecode), copy=False)
    dtype = _PANDAS_DTYPES.get(kind)
    if kind in ("timestamp_ntz", "timestamp_tz"):
        dtype = "datetime64[us]" if kind == "timestamp_ntz" else "datetime64[us, UTC]"
    if dtype is not None:
        try:
            return pd.Series(column, dtype=dtype)
        except (OverflowError, TypeError, ValueError):
            pass  # e.g. integers beyond int64 or years pandas cannot hold: keep objects
    return pd.Series(column, dtype=object)


def _frame(pd: Any, columns: list[Any], kinds: list[str], nrows: int) -> Any:
    """The DataFrame a vectorized handler receives: columns labelled 0, 1, ..."""
    if not columns:
        return pd.DataFrame(index=range(nrows))
    first = columns[0]
    if isinstance(first, array.array) and all(
        isinstance(c, array.array) and c.typecode == first.typecode for c in columns
    ):
        # Flat columns of one type (no NULLs): one 2-D block, zero-copy for a single column.
        # Much cheaper than a frame assembled from Series, which costs more than most handlers.
        import numpy  # type: ignore[import-not-found,import-untyped,unused-ignore]

        flat = [numpy.frombuffer(c, dtype=c.typecode) for c in columns]
        block = flat[0].reshape(-1, 1) if len(flat) == 1 else numpy.column_stack(flat)
        return pd.DataFrame(block, copy=False)  # columns: RangeIndex 0..n-1
    frame = pd.DataFrame(
        {i: _series(pd, col, k) for i, (col, k) in enumerate(zip(columns, kinds, strict=True))}
    )
    return frame


def _series_values(pd: Any, result: Any, expected: int) -> list[Any] | array.array[Any]:
    if hasattr(result, "columns"):  # a one-column DataFrame
        result = result.iloc[:, 0]
    ser = result if isinstance(result, pd.Series) else pd.Series(list(result), dtype=object)
    if len(ser) != expected:
        raise CallError(
            f"The vectorized function returned {len(ser)} rows for {expected} input rows."
        )
    if str(ser.dtype) in ("int64", "float64"):
        data = ser.to_numpy()
        if data.dtype.kind == "i" or not ser.isna().any():
            return array.array("q" if data.dtype.kind == "i" else "d", data.tobytes())
    mask = ser.isna().tolist()
    return [
        None if m else _plain(v) for v, m in zip(ser.astype(object).tolist(), mask, strict=True)
    ]


# ---------------------------------------------------------------------------------------------
# A loaded function.


def _resolve(namespace: dict[str, Any], handler: str) -> Any:
    obj: Any = None
    for i, part in enumerate(handler.split(".")):
        if i == 0 and part not in namespace and "." in handler:
            # HANDLER = 'module.function': a module of the function's IMPORTS.
            try:
                obj = importlib.import_module(part)
            except ImportError as exc:
                raise LoadError(f"Handler module '{part}' cannot be imported: {exc}") from None
            continue
        obj = namespace.get(part) if i == 0 else getattr(obj, part, None)
        if obj is None:
            break
    if obj is None:
        names = sorted(n for n in namespace if not n.startswith("__"))
        raise LoadError(
            f"Handler '{handler}' is not defined in the code (handler names are case-sensitive; "
            f"defined: {', '.join(names) or 'nothing'})."
        )
    return obj


def _snowpark_wrapped(namespace: dict[str, Any], handler: str) -> Any:
    """The function behind the handler Snowpark generates for a registered UDF (``compute``
    calling ``lock_function_once(func, invoked)``), or None for any other code."""
    code = getattr(namespace.get(handler), "__code__", None)
    if (
        handler != "compute"
        or code is None
        or not callable(namespace.get("func"))
        or not callable(namespace.get("lock_function_once"))
        or type(namespace.get("invoked")).__name__ != "InvokedFlag"
        or set(code.co_names) != {"lock_function_once", "func", "invoked"}
    ):
        return None
    return namespace["func"]


class Function:
    """User code of one function, executed in its own module namespace."""

    def __init__(self, spec: dict[str, Any]):
        self.name: str = spec.get("name") or "udf"
        self.kind: str = spec["kind"]
        if self.kind not in KINDS:
            raise LoadError(f"Unknown function kind {self.kind!r}; expected one of {KINDS}.")
        self.arg_kinds: list[str] = list(spec.get("arg_kinds") or [])
        self.return_kind: str | None = spec.get("return_kind")
        filename = f"<{self.name}>"
        code: str = spec["code"]
        # Registered with linecache so tracebacks show the user's source lines; mtime None keeps
        # checkcache from evicting the entry.
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        module = types.ModuleType(f"__hoarfrost_udf_{spec.get('id', 'x')}")
        module.__file__ = filename
        exec(compile(code, filename, "exec"), module.__dict__)
        self.handler: Any = _resolve(module.__dict__, spec["handler"])
        self._direct = _snowpark_wrapped(module.__dict__, spec["handler"])
        self.vectorized_input = getattr(self.handler, "_sf_vectorized_input", None)
        self.max_batch_size: int | None = getattr(self.handler, "_sf_max_batch_size", None)
        self._check()

    def _check(self) -> None:
        if self.kind == "aggregate":
            missing = [m for m in AGGREGATE_MEMBERS if not hasattr(self.handler, m)]
            if not isinstance(self.handler, type) or missing:
                raise LoadError(
                    f"The aggregate function handler '{getattr(self.handler, '__name__', '?')}' "
                    f"must be a class with {', '.join(AGGREGATE_MEMBERS)}; missing: "
                    f"{', '.join(missing) or 'it is not a class'}."
                )
        elif self.kind == "udtf":
            if not isinstance(self.handler, type) or not hasattr(self.handler, "process"):
                raise LoadError(
                    f"The UDTF handler '{getattr(self.handler, '__name__', self.handler)}' must be "
                    "a class with a process method."
                )
        elif not callable(self.handler):
            raise LoadError("The handler is not callable.")
        if self.kind == "vectorized" and self.vectorized_input is None:
            raise LoadError(
                "The handler is not marked vectorized (@vectorized or _sf_vectorized_input)."
            )
        if self.vectorized_input is not None and self.kind == "scalar":
            self.kind = "vectorized"

    def info(self) -> dict[str, Any]:
        return {"kind": self.kind, "max_batch_size": self.max_batch_size}

    def call(self, columns: list[Any], nrows: int) -> list[Any] | array.array[Any]:
        if self.kind == "vectorized":
            return self._call_vectorized(columns, nrows)
        if not columns:
            return self._pack([self.handler() for _ in range(nrows)])
        if self.kind == "aggregate":  # each row holds one group's values, a list per argument
            return self._pack([self._aggregate(lists) for lists in zip(*columns, strict=True)])
        if self._direct is not None and nrows > 1:
            # Snowpark's wrapper only serialises the first call: make it, then call the
            # function itself (what the wrapper does from then on), without a wrapper per row.
            first = self.handler(*(c[0] for c in columns))
            rest = map(self._direct, *(itertools.islice(c, 1, None) for c in columns))
            return self._pack([first, *rest])
        return self._pack(list(map(self.handler, *columns)))

    def _aggregate(self, lists: tuple[list[Any], ...]) -> Any:
        """One group: two partial states over its halves, merged, then finished, as the
        reference runs a UDAF across partitions (so ``merge`` is exercised too)."""
        rows = list(zip(*lists, strict=True))
        half = len(rows) // 2
        first, second = self.handler(), self.handler()
        for values in rows[:half]:
            first.accumulate(*values)
        for values in rows[half:]:
            second.accumulate(*values)
        first.merge(second.aggregate_state)
        return first.finish()

    def _pack(self, out: list[Any]) -> list[Any] | array.array[Any]:
        # Integer/float results go back as one flat buffer when they all fit: array() converts in
        # C and refuses None, floats for 'q', and anything else, which then takes the plain path.
        typecode = {"int": "q", "float": "d"}.get(self.return_kind or "")
        if typecode:
            try:
                return array.array(typecode, out)
            except (TypeError, OverflowError):
                pass
        return _plain_list(out)

    def _call_vectorized(self, columns: list[Any], nrows: int) -> list[Any] | array.array[Any]:
        pd = _import_pandas()
        frame = _frame(pd, columns, self.arg_kinds, nrows)
        step = self.max_batch_size or max(nrows, 1)
        if step >= nrows:  # the whole batch in one call (the usual case): no slicing
            return _series_values(pd, self.handler(frame), nrows)
        parts = []
        for i in range(0, nrows, step):
            part = frame.iloc[i : i + step]
            parts.append(_series_values(pd, self.handler(part), len(part)))
        out: list[Any] = []
        for p in parts:
            out.extend(p.tolist() if isinstance(p, array.array) else p)
        return out

    def udtf(self, partitions: list[list[Any]]) -> list[list[tuple[int | None, list[Any]]]]:
        """Rows per partition, each tagged with the index of the input row that produced it
        (``None`` for rows from ``end_partition``), so the engine can join laterally."""
        return [self._partition(cols) for cols in partitions]

    def _partition(self, columns: list[Any]) -> list[tuple[int | None, list[Any]]]:
        instance = self.handler()
        rows: list[tuple[int | None, list[Any]]] = []
        for i, args in enumerate(zip(*columns, strict=True)):
            self._collect(rows, i, instance.process(*args))
        end = getattr(instance, "end_partition", None)
        if end is not None:
            self._collect(rows, None, end())
        return rows

    @staticmethod
    def _collect(rows: list[tuple[int | None, list[Any]]], source: int | None, out: Any) -> None:
        for row in out or ():
            if not isinstance(row, (tuple, list)):
                raise CallError(f"A UDTF must produce tuples, not {type(row).__name__}.")
            rows.append((source, _plain_list(row)))

    def procedure(self, session: Any, args: list[Any]) -> dict[str, Any]:
        result = self.handler(session, *args)
        if isinstance(result, DataFrame):
            cols, rows = result.collect_raw()
            return {"table": True, "columns": cols, "rows": [_plain_list(r) for r in rows]}
        if hasattr(result, "collect") and hasattr(result, "columns"):  # a Snowpark DataFrame
            cols = [str(c).strip('"') for c in result.columns]
            rows = [list(r) for r in result.collect()]
            return {"table": True, "columns": cols, "rows": [_plain_list(r) for r in rows]}
        if isinstance(result, list) and result and isinstance(result[0], tuple):
            names = list(getattr(result[0], "_fields", ()) or ()) or None
            return {"table": True, "columns": names, "rows": [_plain_list(r) for r in result]}
        return {"table": False, "value": _plain(result)}


# ---------------------------------------------------------------------------------------------
# The session a procedure receives: SQL runs in the caller's session, through the engine.


class SnowparkSQLException(Exception):
    """SQL sent by a procedure failed in the engine; the message is the engine's."""


class Row(tuple):  # type: ignore[type-arg]
    """A result row: a tuple that also answers to its column names, like Snowpark's Row."""

    _fields: tuple[str, ...] = ()

    def __new__(cls, values: Iterable[Any], fields: Iterable[str] = ()) -> Row:
        row = super().__new__(cls, values)
        row._fields = tuple(fields)
        return row

    def __getattr__(self, name: str) -> Any:
        fields = object.__getattribute__(self, "_fields")
        for key in (name, name.upper()):
            if key in fields:
                return self[fields.index(key)]
        raise AttributeError(name)

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return self.__getattr__(key)
        return super().__getitem__(key)

    def asDict(self) -> dict[str, Any]:  # Snowpark's spelling
        return dict(zip(self._fields, self, strict=False))

    def __reduce__(self) -> Any:
        return (tuple, (tuple(self),))  # leave as a plain tuple: the engine knows no Row


SqlRunner = Callable[[str, str], "tuple[list[str], list[list[Any]]]"]


class DataFrame:
    """The lazily evaluated result of ``session.sql``; ``collect`` runs it."""

    def __init__(self, session: Session, query: str):
        self._session, self._query = session, query

    def collect_raw(self) -> tuple[list[str], list[list[Any]]]:
        return self._session.run(self._query)

    def collect(self) -> list[Row]:
        cols, rows = self.collect_raw()
        return [Row(r, cols) for r in rows]

    def to_pandas(self) -> Any:
        cols, rows = self.collect_raw()
        return _import_pandas().DataFrame(rows, columns=cols)


class Session:
    """A procedure's session: valid for its own call only (the engine checks the call token)."""

    def __init__(self, sql: SqlRunner, call: str):
        self._sql, self._call, self._open = sql, call, True

    def run(self, query: str) -> tuple[list[str], list[list[Any]]]:
        if not self._open:
            raise SnowparkSQLException(
                "This session belongs to a procedure call that has ended; SQL can only be run "
                "during the call."
            )
        return self._sql(self._call, query)

    def close(self) -> None:
        self._open = False

    def sql(self, query: str) -> DataFrame:
        return DataFrame(self, query)

    def table(self, name: str) -> DataFrame:
        return DataFrame(self, f"SELECT * FROM {name}")

    def call(self, name: str, *args: Any) -> Any:
        cols, rows = self.run(f"CALL {name}({', '.join(_sql_literal(a) for a in args)})")
        return rows[0][0] if len(cols) == 1 and len(rows) == 1 else [Row(r, cols) for r in rows]


def _sql_literal(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, float, decimal.Decimal)):
        return repr(v) if not isinstance(v, decimal.Decimal) else str(v)
    return "'" + str(v).replace("'", "''") + "'"


# ---------------------------------------------------------------------------------------------
# Isolation: Landlock (https://docs.kernel.org/userspace-api/landlock.html), through raw syscalls
# with ctypes because the bootstrap may import nothing but the standard library. The worker
# restricts itself, after its own startup and before any user code: afterwards it can read only
# the runtime, the environment and system libraries, write only its temporary directory, and (ABI
# 4+) neither connect nor bind TCP; (ABI 6+) it cannot signal other processes (the engine, other
# workers) nor reach abstract unix sockets outside itself. Landlock does not cover UDP or
# pre-opened descriptors; the report below says what is in force and nothing more.

_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446  # same on all arches
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38
_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1, 2, 4, 8
_FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 14, 1 << 15
_FILE_RIGHTS = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV
_READ = _FS_READ_FILE | _FS_READ_DIR
_NET_BIND_TCP, _NET_CONNECT_TCP = 1, 2
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1, 2

# Read-only system paths a CPython process and common wheels (numpy, pandas) need.
_SYSTEM_READ = (
    "/lib",
    "/lib64",
    "/usr/lib",
    "/usr/lib64",
    "/usr/local/lib",
    "/etc/ld.so.cache",
    "/etc/localtime",
    "/usr/share/zoneinfo",
    "/sys/devices/system/cpu",
    "/dev/urandom",
    "/dev/random",
    "/dev/zero",
    "/proc/self",
)


def _handled_fs(abi: int) -> int:
    # Every right the kernel knows is handled, so anything not granted below is denied.
    top = {1: 13, 2: 14, 3: 15, 4: 15}.get(abi, 16)
    return (1 << top) - 1


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1  # the kernel's struct landlock_path_beneath_attr is packed
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _Landlock:
    def __init__(self) -> None:
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.syscall.restype = ctypes.c_long

    def syscall(self, number: int, *args: Any) -> int:
        res = int(self.libc.syscall(ctypes.c_long(number), *args))
        if res < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
        return res

    def abi(self) -> int:
        flags = ctypes.c_uint32(_CREATE_RULESET_VERSION)
        return self.syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), flags)

    def restrict(self, abi: int, reads: list[str], writes: list[str]) -> None:
        handled = _handled_fs(abi)
        attr = _RulesetAttr(handled, 0, 0)
        size = 8  # the struct grew with the ABI; pass the size this kernel knows
        if abi >= 4:
            attr.net, size = _NET_BIND_TCP | _NET_CONNECT_TCP, 16  # no port rules: all denied
        if abi >= 6:
            attr.scoped, size = _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL, 24
        ruleset = self.syscall(
            _SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0)
        )
        try:
            grants = [(reads, _READ), (writes, handled), (["/dev/null"], _READ | _FS_WRITE_FILE)]
            for paths, rights in grants:
                for path in paths:
                    self._allow(ruleset, path, rights & handled)
            if self.libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
            self.syscall(_SYS_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0))
        finally:
            os.close(ruleset)

    def _allow(self, ruleset: int, path: str, rights: int) -> None:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            return  # absent on this system: nothing to allow
        try:
            if not os.path.isdir(path):
                rights &= _FILE_RIGHTS  # the kernel refuses directory rights on a file
            rule = _PathBeneath(rights, fd)
            self.syscall(
                _SYS_ADD_RULE,
                ctypes.c_int(ruleset),
                ctypes.c_int(_RULE_PATH_BENEATH),
                ctypes.byref(rule),
                ctypes.c_uint32(0),
            )
        finally:
            os.close(fd)


def _runtime_paths() -> list[str]:
    exe_dir = os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))
    return sorted({sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, exe_dir})


def _isolate(init: dict[str, Any]) -> str:
    """Apply Landlock and say exactly what is in force (shown to users as is)."""
    import errno

    if not sys.platform.startswith("linux"):
        return f"none (Landlock is Linux-only; this is {sys.platform})"
    ll = _Landlock()
    try:
        abi = ll.abi()
    except OSError as exc:
        if exc.errno == errno.ENOSYS:
            return "none (kernel has no Landlock)"
        if exc.errno == errno.EOPNOTSUPP:
            return "none (Landlock is disabled in this kernel: not in its lsm= list)"
        return f"none (Landlock unavailable: {exc})"
    reads = [*_runtime_paths(), *init.get("read_dirs", []), *_SYSTEM_READ]
    writes = [init["tmpdir"]] if init.get("tmpdir") else []
    try:
        ll.restrict(abi, reads, writes)
    except OSError as exc:  # restrict_self is the last step: on failure nothing is in force
        return f"none (Landlock ABI {abi} failed to apply: {exc})"
    parts = [
        "filesystem: read only the runtime, the environment and system libraries, "
        "write only the worker's temp dir",
        "network: no TCP connect or bind" if abi >= 4 else "network: NOT restricted (ABI < 4)",
    ]
    if abi >= 6:
        parts.append("no signals or abstract unix sockets beyond the worker")
    parts.append("UDP not restricted by Landlock")
    return f"landlock ABI {abi}: " + "; ".join(parts)


def _apply_memory_limit(limit: int | None) -> None:
    # The worker limits itself (soft = hard, so user code cannot raise it back) before any user
    # code runs; this avoids Popen(preexec_fn=...), which is unsafe in a multi-threaded engine.
    if limit:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


# ---------------------------------------------------------------------------------------------
# The kernel sandbox around Landlock (issue 10): namespaces, an unprivileged uid, no capabilities,
# a process limit and a seccomp filter. The worker applies it to itself, in this order, before
# any user code runs (the engine cannot use Popen(preexec_fn=...) from its many threads):
#
# 1. as root, its own mount namespace, where a tmpfs covers each directory an unprivileged uid
#    cannot traverse on the way to the runtime, the environment and the temp dir, with those
#    bound back in place (paths stay the same and the rest of, say, /root is hidden); one that
#    is itself closed to others gets a read-only idmapped mount where root's files are the
#    worker's;
# 2. its own network, PID and IPC namespaces (an unprivileged engine's worker creates them in a
#    user namespace of its own that maps only its own uid). A new network namespace has only a
#    loopback interface, down: no route to anything, the host's loopback included;
# 3. the capability bounding set emptied, then (as root) every uid and gid set to the engine's
#    unprivileged choice, every capability set cleared and no_new_privs set;
# 4. the split into three processes (``_enter_pid_namespace``): the one the engine started,
#    outside, mirroring the worker's exit status; the new PID namespace's init (pid 1), which
#    dies with it; the worker (pid 2). When an init dies the kernel kills every process of its
#    namespace, so nothing a UDF starts (double-forked, setsid or not) outlives its worker;
# 5. in the worker: Landlock (above), RLIMIT_NPROC and the seccomp filter the engine compiled (a
#    BPF program: the bootstrap only installs it, the engine builds it with libseccomp).
#
# Each step that the kernel refuses is recorded with its reason and the others still apply;
# ``_measure`` then reads back what is actually in force, which the engine reports.

_CLONE_NEWNS, _CLONE_NEWIPC, _CLONE_NEWUSER = 0x00020000, 0x08000000, 0x10000000
_CLONE_NEWPID, _CLONE_NEWNET = 0x20000000, 0x40000000
_NAMESPACES = {"network": _CLONE_NEWNET, "pid": _CLONE_NEWPID, "ipc": _CLONE_NEWIPC}
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_BIND, _MS_REC, _MS_PRIVATE = 2, 4, 8, 4096, 16384, 1 << 18
_PR_SET_PDEATHSIG, _PR_SET_SECCOMP, _PR_CAPBSET_DROP, _PR_CAP_AMBIENT = 1, 22, 24, 47
_PR_CAP_AMBIENT_CLEAR_ALL, _SECCOMP_MODE_FILTER = 4, 2
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


class _Kernel:
    """The few libc calls the sandbox needs, raising OSError like the os module does."""

    def __init__(self) -> None:
        self.libc = ctypes.CDLL(None, use_errno=True)

    def _check(self, res: int, what: str) -> None:
        if res != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"{what}: {os.strerror(err)}")

    def unshare(self, flags: int) -> None:
        self._check(self.libc.unshare(ctypes.c_int(flags)), "unshare")

    def mount(self, source: str | None, target: str, fstype: str | None, flags: int) -> None:
        data = b"mode=0755,size=64k" if fstype == "tmpfs" else None
        res = self.libc.mount(
            source and source.encode(),
            target.encode(),
            fstype and fstype.encode(),
            ctypes.c_ulong(flags),
            data,
        )
        self._check(res, f"mount {target}")

    def prctl(self, option: int, arg: Any = 0) -> None:
        arg2 = ctypes.c_ulong(arg) if isinstance(arg, int) else arg  # an int or a byref()
        zero = ctypes.c_ulong(0)
        self._check(self.libc.prctl(ctypes.c_int(option), arg2, zero, zero, zero), "prctl")

    def clear_capabilities(self) -> None:
        header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
        data = (_CapData * 2)()
        self._check(self.libc.capset(ctypes.byref(header), data), "capset")
        self.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL)

    def drop_bounding_set(self) -> None:
        import errno

        for cap in range(64):
            try:
                self.prctl(_PR_CAPBSET_DROP, cap)
            except OSError as exc:
                if exc.errno == errno.EINVAL:  # past the last capability this kernel knows
                    return
                raise

    def seccomp(self, program: bytes) -> None:
        """Install a classic-BPF seccomp program (struct sock_filter[], 8 bytes each)."""
        buf = ctypes.create_string_buffer(program, len(program))
        prog = _SockFprog(len(program) // 8, ctypes.addressof(buf))
        res = self.libc.prctl(
            ctypes.c_int(_PR_SET_SECCOMP),
            ctypes.c_ulong(_SECCOMP_MODE_FILTER),
            ctypes.byref(prog),
            ctypes.c_ulong(0),
            ctypes.c_ulong(0),
        )
        self._check(res, "prctl(PR_SET_SECCOMP)")


def _may(st: os.stat_result, uid: int, gid: int, bits: int) -> bool:
    """Whether ``uid``/``gid`` (no supplementary groups, no capabilities) has ``bits`` (rwx as
    0o7) on a file of stat ``st``."""
    if st.st_uid == uid:
        return (st.st_mode >> 6) & bits == bits
    if st.st_gid == gid:
        return (st.st_mode >> 3) & bits == bits
    return st.st_mode & bits == bits


def _blocking_ancestor(path: str, uid: int, gid: int) -> str | None:
    """The outermost directory above ``path`` that ``uid`` cannot traverse, if any."""
    parts = path.strip("/").split("/")
    for i in range(len(parts)):
        ancestor = "/" + "/".join(parts[:i])
        if not _may(os.stat(ancestor), uid, gid, 0o1):
            return ancestor
    return None


def _reachable(path: str, uid: int, gid: int) -> bool:
    return _blocking_ancestor(path, uid, gid) is None and _may(os.stat(path), uid, gid, 0o5)


def _expose(kernel: _Kernel, dirs: list[str], uid: int, gid: int) -> None:
    """Make ``dirs`` reachable by ``uid`` in this (new) mount namespace: a tmpfs over each
    directory it cannot traverse, with the needed directories bound back at their own paths."""
    kernel.mount(None, "/", None, _MS_REC | _MS_PRIVATE)  # nothing propagates to the host
    groups: dict[str, list[str]] = {}
    for d in dirs:
        top = _blocking_ancestor(d, uid, gid)
        if top is not None:
            groups.setdefault(top, []).append(d)
    old_umask = os.umask(0o022)
    try:
        for top in sorted(groups):
            wanted = sorted(set(groups[top]))
            outermost = [d for d in wanted if not any(d.startswith(o + "/") for o in wanted)]
            fds = [os.open(d, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC) for d in outermost]
            try:
                kernel.mount("tmpfs", top, "tmpfs", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
                for d, fd in zip(outermost, fds, strict=True):
                    os.makedirs(d, exist_ok=True)
                    kernel.mount(f"/proc/self/fd/{fd}", d, None, _MS_BIND | _MS_REC)
            finally:
                for fd in fds:
                    os.close(fd)
    finally:
        os.umask(old_umask)


_SYS_OPEN_TREE, _SYS_MOVE_MOUNT, _SYS_MOUNT_SETATTR = 428, 429, 442  # same on all arches
_OPEN_TREE_CLONE, _AT_EMPTY_PATH, _MOVE_MOUNT_F_EMPTY_PATH = 1, 0x1000, 4
_MOUNT_ATTR_RDONLY, _MOUNT_ATTR_IDMAP = 0x1, 0x00100000


class _MountAttr(ctypes.Structure):
    _fields_ = [
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    ]


def _root_as(kernel: _Kernel, uid: int, gid: int) -> int:
    """An fd of a user namespace mapping 0 to ``uid``/``gid``: the idmapping of a mount where
    root's files belong to ``uid``. A child makes the namespace; root writes its maps."""
    ready_r, ready_w = os.pipe()
    done_r, done_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(ready_r)
            os.close(done_w)
            kernel.unshare(_CLONE_NEWUSER)
            os.write(ready_w, b"1")
            os.read(done_r, 1)
        finally:
            os._exit(0)
    os.close(ready_w)
    os.close(done_r)
    try:
        if os.read(ready_r, 1) != b"1":
            raise OSError(1, "could not create a user namespace for an idmapped mount")
        for name, text in (("uid_map", f"0 {uid} 1\n"), ("gid_map", f"0 {gid} 1\n")):
            with open(f"/proc/{pid}/{name}", "w") as f:
                f.write(text)
        return os.open(f"/proc/{pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    finally:
        os.close(ready_r)
        os.close(done_w)
        os.waitpid(pid, 0)


def _idmap_in_place(kernel: _Kernel, dirs: list[str], uid: int, gid: int) -> None:
    """Mount over each of ``dirs`` a read-only copy of itself where files of uid/gid 0 show as
    ``uid``/``gid`` (an idmapped mount, Linux 5.12+, on filesystems that support it)."""
    libc = kernel.libc
    libc.syscall.restype = ctypes.c_long
    userns = _root_as(kernel, uid, gid)
    try:
        attr = _MountAttr(_MOUNT_ATTR_IDMAP | _MOUNT_ATTR_RDONLY, 0, 0, userns)
        for d in dirs:
            tree = libc.syscall(
                ctypes.c_long(_SYS_OPEN_TREE), -100, d.encode(), ctypes.c_uint(_OPEN_TREE_CLONE)
            )
            kernel._check(0 if tree >= 0 else -1, f"open_tree {d}")
            try:
                res = libc.syscall(
                    ctypes.c_long(_SYS_MOUNT_SETATTR),
                    ctypes.c_int(tree),
                    b"",
                    ctypes.c_uint(_AT_EMPTY_PATH),
                    ctypes.byref(attr),
                    ctypes.c_size_t(ctypes.sizeof(attr)),
                )
                kernel._check(int(res), f"idmapping {d}")
                res = libc.syscall(
                    ctypes.c_long(_SYS_MOVE_MOUNT),
                    ctypes.c_int(tree),
                    b"",
                    -100,
                    d.encode(),
                    ctypes.c_uint(_MOVE_MOUNT_F_EMPTY_PATH),
                )
                kernel._check(int(res), f"move_mount {d}")
            finally:
                os.close(tree)
    finally:
        os.close(userns)


class _Sandbox:
    """Applies the steps above; ``missing`` maps each layer the kernel refused to the reason."""

    def __init__(self, config: dict[str, Any], tmpdir: str | None, needed: list[str]):
        self.config = config
        self.kernel = _Kernel()
        self.missing: dict[str, str] = {}
        self.root = os.geteuid() == 0
        self.uid: int | None = config.get("uid") if self.root else None
        self.gid: int | None = config.get("gid") if self.root else None
        self.tmpdir = tmpdir
        self.needed = sorted({os.path.realpath(p) for p in needed if os.path.isdir(p)})

    def _refused(self, layer: str, exc: BaseException) -> None:
        text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        self.missing.setdefault(layer, text)

    def before_landlock(self, keep_out: list[int]) -> None:
        """Namespaces, uid and capabilities, then (in a new PID namespace) the split into three
        processes, of which only the worker returns. Landlock comes after the split because
        its rule for ``/proc/self`` is a rule for one process's ``/proc/<pid>``."""
        self._namespaces()
        self._drop_privileges()
        if "pid-namespace" not in self.missing:
            try:
                self._enter_pid_namespace(keep_out)
            except OSError as exc:
                self._refused("pid-namespace", exc)

    def after_landlock(self) -> None:
        limit = self.config.get("process_limit")
        if limit:
            import resource

            try:
                resource.setrlimit(resource.RLIMIT_NPROC, (limit, limit))
            except (OSError, ValueError) as exc:
                self._refused("process-limit", exc)
        program = self.config.get("seccomp")
        if program:
            try:
                self.kernel.seccomp(program)
            except OSError as exc:
                self._refused("seccomp", exc)
        elif self.config.get("seccomp_missing"):
            self.missing["seccomp"] = self.config["seccomp_missing"]

    def _namespaces(self) -> None:
        names = {f"{n}-namespace": flag for n, flag in _NAMESPACES.items()}
        if not self.root:
            # An unprivileged process may create other namespaces only inside a user namespace
            # of its own, where it maps its own uid and gid and nothing else.
            uid, gid = os.getuid(), os.getgid()
            try:
                self.kernel.unshare(_CLONE_NEWUSER | sum(names.values()))
                for name, text in (
                    ("setgroups", "deny"),
                    ("uid_map", f"{uid} {uid} 1\n"),
                    ("gid_map", f"{gid} {gid} 1\n"),
                ):
                    with open(f"/proc/self/{name}", "w") as f:
                        f.write(text)
            except OSError as exc:
                for layer in ["user-namespace", *names]:
                    self._refused(layer, exc)
            return
        if self.uid is not None:
            # The mount namespace first: preparing it may need a short-lived child, which must
            # not become the init of the new PID namespace.
            try:
                self.kernel.unshare(_CLONE_NEWNS)
            except OSError as exc:
                self._refused("mount-namespace", exc)
            self._prepare_uid_switch()
        try:
            self.kernel.unshare(sum(names.values()))
        except OSError:
            for layer, flag in names.items():  # the ones that work, one by one
                try:
                    self.kernel.unshare(flag)
                except OSError as exc:
                    self._refused(layer, exc)

    def _prepare_uid_switch(self) -> None:
        """As root, before Landlock: make the runtime, the environment and the temp dir reachable
        by the unprivileged uid, or give up the switch (and say why) if that is not possible."""
        uid, gid = self.uid, self.gid
        assert uid is not None and gid is not None
        try:
            if self.tmpdir:
                os.chown(self.tmpdir, uid, gid)
            blocked = [d for d in self.needed if not _reachable(d, uid, gid)]
            if blocked and "mount-namespace" not in self.missing:
                _expose(self.kernel, blocked, uid, gid)
                # A directory that is itself closed to other users (say a 0700 environment)
                # is mounted over with an idmapped, read-only copy where root's files are the
                # worker's: its owner bits then apply to the worker.
                closed = [d for d in self.needed if not _reachable(d, uid, gid)]
                if closed:
                    _idmap_in_place(self.kernel, closed, uid, gid)
            blocked = [d for d in self.needed if not _reachable(d, uid, gid)]
        except OSError as exc:
            self._refused("unprivileged-uid", exc)
            self.uid = self.gid = None
            return
        if blocked:
            self.missing["unprivileged-uid"] = (
                f"{blocked[0]} is not readable by an unprivileged uid"
                + (" and no mount namespace" if "mount-namespace" in self.missing else "")
            )
            self.uid = self.gid = None

    def _drop_privileges(self) -> None:
        try:
            self.kernel.drop_bounding_set()
        except OSError as exc:
            self._refused("no-capabilities", exc)
        if self.uid is not None and self.gid is not None:
            try:
                os.setgroups([])
                os.setresgid(self.gid, self.gid, self.gid)
                os.setresuid(self.uid, self.uid, self.uid)  # clears every capability set
            except OSError as exc:
                self._refused("unprivileged-uid", exc)
        try:
            self.kernel.clear_capabilities()
        except OSError as exc:
            self._refused("no-capabilities", exc)
        try:
            self.kernel.prctl(_PR_SET_NO_NEW_PRIVS, 1)
        except OSError as exc:
            self._refused("no-new-privileges", exc)

    def _enter_pid_namespace(self, keep_out: list[int]) -> None:
        """Split into three processes; only the worker returns from here.

        The process the engine started stays outside the new PID namespace (a process whose
        children go to another PID namespace cannot create threads, so it cannot be the worker).
        It forks the namespace's init (pid 1), which forks the worker (pid 2). The init reaps
        orphans and passes the worker's wait status out; the outer process exits with that same
        status, so the engine sees the worker's own exit code or signal. The init dies with the
        outer process (PR_SET_PDEATHSIG) and the kernel then kills every process in the
        namespace: nothing a UDF starts, double-forked or setsid, outlives its worker.
        ``keep_out``: descriptors (the engine's pipes) that only the worker keeps.
        """
        import select
        import signal
        import struct

        status_r, status_w = os.pipe()
        alive_r, alive_w = os.pipe()
        init = os.fork()
        if init:
            for fd in (*keep_out, status_w, alive_r):
                os.close(fd)
            _mirror(init, status_r)  # never returns
        try:
            self.kernel.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
            os.close(alive_w)
            poller = select.poll()
            poller.register(alive_r, select.POLLIN)
            if poller.poll(0):  # EOF: the outer process died before the line above took effect
                os._exit(1)
            worker = os.fork()
        except BaseException:
            os._exit(1)
        if worker == 0:
            for fd in (status_r, status_w, alive_r):
                os.close(fd)
            return
        try:
            for fd in (*keep_out, status_r, alive_r):
                os.close(fd)
            while True:
                pid, status = os.wait()  # orphans of the namespace are reparented here
                if pid == worker:
                    os.write(status_w, struct.pack("=i", status))
                    break
        finally:
            os._exit(0)


def _mirror(child: int, status_r: int) -> None:
    """Wait for ``child`` and exit as the worker did (its status arrives on ``status_r``).
    Never returns, whatever happens."""
    import signal
    import struct

    code = 1
    try:
        _, status = os.waitpid(child, 0)
        data = os.read(status_r, 4)
        if len(data) == 4:
            (status,) = struct.unpack("=i", data)
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            if sig not in (signal.SIGKILL, signal.SIGSTOP):  # these cannot be caught anyway
                signal.signal(sig, signal.SIG_DFL)
            os.kill(os.getpid(), sig)
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1
    finally:
        os._exit(code)


def _read_status() -> dict[str, str]:
    status = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            status[key] = value.strip()
    return status


def _routes_nowhere() -> bool:
    """True when a UDP socket cannot even be connected (a route lookup, no packet sent) to the
    loopback or to a public address: the worker has no route anywhere."""
    import socket

    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET, "192.0.2.1")):
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as s:
                s.connect((host, 9))
            return False
        except OSError:
            continue
    return True


def _seccomp_probe() -> str:
    """errno of io_uring_setup(0, NULL): EPERM under the filter, EINVAL or EFAULT without it."""
    import errno

    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    res = libc.syscall(ctypes.c_long(425), ctypes.c_ulong(0), None)  # 425 on x86_64 and arm64
    return "ok" if res >= 0 else errno.errorcode.get(ctypes.get_errno(), "?")


def _measure(sandbox: _Sandbox | None) -> dict[str, Any]:
    """What is in force, read back from the kernel (the engine turns this into the report)."""
    import resource

    facts: dict[str, Any] = {
        "requested": sandbox is not None,
        "root": sandbox.root if sandbox is not None else os.geteuid() == 0,
        "asked_process_limit": sandbox.config.get("process_limit") if sandbox else None,
    }
    if not sys.platform.startswith("linux"):
        return facts
    status = _read_status()
    ns = {}
    for name in ("net", "pid", "ipc", "mnt", "user"):
        try:
            ns[name] = os.readlink(f"/proc/self/ns/{name}")
        except OSError:
            continue
    facts.update(
        uids=[int(x) for x in status.get("Uid", "0").split()],
        caps={k: int(status.get(k, "0"), 16) for k in ("CapEff", "CapPrm", "CapBnd", "CapAmb")},
        no_new_privs=status.get("NoNewPrivs") == "1",
        seccomp_mode=int(status.get("Seccomp", "0")),
        seccomp_probe=_seccomp_probe(),
        ns=ns,
        process_limit=resource.getrlimit(resource.RLIMIT_NPROC)[0],
        memory_limit=resource.getrlimit(resource.RLIMIT_AS)[0],
        routes_nowhere=_routes_nowhere(),
    )
    if sandbox is not None:
        # The init of its PID namespace is its parent, pid 1 (the engine sees that namespace).
        facts.update(init_alive=os.getppid() == 1, missing=dict(sandbox.missing))
    return facts


# ---------------------------------------------------------------------------------------------
# Main loop


class Worker:
    """Loaded functions and the dispatch of requests; ``sql`` runs a procedure's SQL, ``http``
    carries the requests of a procedure's Snowpark session to the engine."""

    def __init__(self, sql: SqlRunner, http: HttpRunner | None = None):
        self.sql = sql
        self.http = http
        self.functions: dict[str, Function] = {}
        self.dispatch: dict[str, Callable[[dict[str, Any]], Any]] = {
            "load": self.load,
            "call": self.call,
            "udtf": self.udtf,
            "proc": self.proc,
        }

    def load(self, p: dict[str, Any]) -> dict[str, Any]:
        fn = Function(p)
        self.functions[p["id"]] = fn
        return fn.info()

    def call(self, p: dict[str, Any]) -> Any:
        return self.functions[p["id"]].call(p["columns"], p["nrows"])

    def udtf(self, p: dict[str, Any]) -> Any:
        return self.functions[p["id"]].udtf(p["partitions"])

    def proc(self, p: dict[str, Any]) -> Any:
        session = Session(self.sql, p["call"])
        real = None
        if p.get("wire") and self.http is not None:
            real = _snowpark_session(self.http, p["call"], p["wire"])
        try:
            return self.functions[p["id"]].procedure(real or session, p["args"])
        finally:
            session.close()
            if real is not None:
                _close_snowpark(real)

    def handle(self, tag: str, payload: dict[str, Any]) -> tuple[str, Any]:
        try:
            return ("ok", self.dispatch[tag](payload))
        except MemoryError:
            raise  # the process state is suspect: main() reports and exits
        except LoadError as exc:
            return ("error", {"kind": "load", "type": "", "message": str(exc), "traceback": ""})
        except CallError as exc:
            return ("error", {"kind": "contract", "type": "", "message": str(exc), "traceback": ""})
        except Exception as exc:  # user code (or a SyntaxError in it)
            return ("error", {"kind": "user", **describe_exception(exc)})


def _remote_sql(wire: Wire) -> SqlRunner:
    def run(call: str, query: str) -> tuple[list[str], list[list[Any]]]:
        with wire.turn:
            # the engine answers before anything else happens on the pipe
            wire.send(("sql", {"call": call, "query": query}))
            tag, payload = wire.recv()
        if tag == "sql_error":
            raise SnowparkSQLException(payload)
        return list(payload["columns"]), [list(r) for r in payload["rows"]]

    return run


HttpRunner = Callable[[str, dict[str, Any]], dict[str, Any]]


def _remote_http(wire: Wire) -> HttpRunner:
    def run(call: str, request: dict[str, Any]) -> dict[str, Any]:
        with wire.turn:
            wire.send(("http", {"call": call, "request": request}))
            tag, payload = wire.recv()
        if tag != "http_response":
            raise ConnectionError(str(payload))
        return dict(payload)

    return run


# ---------------------------------------------------------------------------------------------
# A real Snowpark Session for procedures whose environment has Snowpark: the connector in the
# worker speaks the wire protocol to the engine over this process's pipe (its HTTP adapter is
# replaced), logged in with a token valid for the running call only. Nothing leaves the sandbox.

_CALL_HTTP: list[Callable[[dict[str, Any]], dict[str, Any]]] = []


class _Body:
    """A response body the connector may read whole or as a stream."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)
        self.decode_content = True

    def read(self, amt: int | None = None, decode_content: bool | None = None) -> bytes:
        return self._data.read(-1 if amt is None else amt)

    def stream(self, amt: int = 1 << 16, decode_content: bool | None = None) -> Iterable[bytes]:
        while chunk := self._data.read(amt):
            yield chunk

    def close(self) -> None:
        self._data.close()

    def release_conn(self) -> None:
        return None


def _route_requests() -> None:
    """Send every request of the (vendored) requests library through the call's pipe."""
    modules = []
    for name in ("snowflake.connector.vendored.requests", "requests"):
        try:
            modules.append(__import__(name, fromlist=["adapters", "models", "structures"]))
        except ImportError:
            continue
    for requests in modules:
        adapter = requests.adapters.HTTPAdapter
        if getattr(adapter, "_hoarfrost_routed", False):
            continue

        def send(
            self: Any, request: Any, stream: bool = False, *a: Any, _r: Any = requests, **k: Any
        ) -> Any:
            body = request.body or b""
            if hasattr(body, "read"):
                body = body.read()
            if isinstance(body, str):
                body = body.encode("utf-8")
            if not _CALL_HTTP:
                raise _r.exceptions.ConnectionError("no engine channel outside a procedure call")
            reply = _CALL_HTTP[-1](
                {
                    "method": request.method,
                    "url": request.url,
                    "headers": dict(request.headers),
                    "body": bytes(body),
                }
            )
            response = _r.models.Response()
            response.status_code = int(reply["status"])
            response.headers = _r.structures.CaseInsensitiveDict(reply["headers"])
            response.raw = _Body(reply["body"])
            if not stream:
                response._content = reply["body"]
            response.url = request.url
            response.request = request
            response.reason = reply.get("reason", "")
            response.encoding = _r.utils.get_encoding_from_headers(response.headers)
            response.connection = self
            return response

        adapter.send = send
        adapter._hoarfrost_routed = True


def _snowpark_session(http: HttpRunner, call: str, wire: dict[str, Any]) -> Any:
    """A connected snowflake.snowpark.Session, or None when Snowpark is not installed."""
    try:
        import snowflake.connector  # type: ignore[import-not-found]
        from snowflake.snowpark import Session as SnowparkSession  # type: ignore[import-not-found]
    except ImportError:
        return None
    _route_requests()
    _CALL_HTTP.append(lambda request: http(call, request))
    options = {k: v for k, v in wire.items() if v is not None and k != "token"}
    connection = snowflake.connector.connect(
        account="hoarfrost",
        host="hoarfrost.engine",
        port=80,
        protocol="http",
        authenticator="OAUTH",
        token=wire["token"],
        login_timeout=60,
        client_session_keep_alive=False,
        **options,
    )
    return SnowparkSession.builder.configs({"connection": connection}).create()


def _close_snowpark(session: Any) -> None:
    try:
        session.close()
    except Exception:  # the call's answer matters more than a failed logout
        pass
    finally:
        _CALL_HTTP.clear()


def _forget_unreadable_mime_files() -> None:
    """mimetypes.init() opens every known mime.types file that exists and fails on one the
    sandbox does not let it read (the connector's PUT calls it): keep only those it can read."""
    import mimetypes

    readable = []
    for name in mimetypes.knownfiles:
        try:
            with open(name, "rb"):
                readable.append(name)
        except OSError:
            continue
    mimetypes.knownfiles[:] = readable


def _take_protocol_fds() -> Wire:
    # Duplicates are non-inheritable, so subprocesses of user code do not get the pipe either.
    wire = Wire(os.dup(0), os.dup(1))
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)  # fd 2 is the log the pool opened: print() and C writes go there
    return wire


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            continue  # user code may have closed or replaced the stream; the batch still answers


def main() -> None:
    wire = _take_protocol_fds()
    _, init = wire.recv()
    _apply_memory_limit(init.get("memory_limit"))
    sandbox = None
    if init.get("sandbox") is not None and sys.platform.startswith("linux"):
        needed = [*_runtime_paths(), *init.get("read_dirs", []), init.get("tmpdir") or ""]
        sandbox = _Sandbox(init["sandbox"], init.get("tmpdir"), [p for p in needed if p])
        sandbox.before_landlock(keep_out=[wire.rfd, wire.wfd])
        wire.claim()  # this process may now be a fork of the one that read ``init``
    isolation = _isolate(init)
    if sandbox is not None:
        sandbox.after_landlock()
    facts = _measure(sandbox)
    _forget_unreadable_mime_files()
    import site

    for path in init.get("sys_path", []):
        site.addsitedir(path)  # processes .pth files, as a normal site-packages would
    # IMPORTS: the function's staged files and zips come first on the path, and the reference's
    # sys._xoptions['snowflake_import_directory'] names their directory.
    sys.path[:0] = list(init.get("import_paths") or [])
    if init.get("import_dir"):
        sys._xoptions["snowflake_import_directory"] = init["import_dir"]
    sys.modules["_snowflake"] = make_snowflake_module()
    ready = {"isolation": isolation, "facts": facts, "python": sys.version.split()[0]}
    wire.send(("ready", ready))
    _serve(wire, Worker(_remote_sql(wire), _remote_http(wire)))


def _serve(wire: Wire, worker: Worker) -> None:
    while True:
        try:
            tag, payload = wire.recv()
        except EOFError:
            return
        if tag == "shutdown":
            return
        try:
            reply = worker.handle(tag, payload)
        except MemoryError:
            _flush()
            wire.send(("error", {"kind": "memory", "type": "MemoryError", "message": ""}))
            os._exit(3)
        _flush()
        with wire.turn:  # a thread of the call may be waiting for its SQL's answer
            try:
                wire.send(reply)
            except Exception as exc:  # a result pickle refused (e.g. an object of a user class)
                message = f"unreturnable result: {exc}"
                wire.send(("error", {"kind": "contract", "message": message}))


if __name__ == "__main__":
    main()
