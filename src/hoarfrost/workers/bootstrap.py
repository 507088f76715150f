"""Worker main: runs user Python code for the engine, in its own interpreter.

STANDARD LIBRARY ONLY and self-contained: this file runs under every supported runtime (3.10-3.13)
and next to any package environment, started as ``<python> -I -S -B bootstrap.py`` (isolated mode:
no user site, no PYTHON* variables, not even this file's directory on ``sys.path``). The engine
also imports it in-process for the fake runner, so nothing happens at import time.

Life of a worker (see ``protocol.py`` for the message list):

1. move the protocol pipes off fds 0/1, so that ``print`` and C-level writes of user code land in
   the log (fd 2, opened by the pool), never in the protocol stream;
2. read ``init``: apply the memory limit to itself (RLIMIT_AS), restrict itself with Landlock, put
   the environment on ``sys.path`` and install the ``_snowflake`` module;
3. answer ``load`` / ``call`` / ``udtf`` / ``proc`` until ``shutdown`` or EOF.

Values arrive and leave as plain Python values (the engine converts Arrow <-> Python); ``_plain``
turns numpy/pandas scalars into standard ones because the engine only unpickles standard types.
"""

from __future__ import annotations

import array
import ctypes
import datetime as dt
import decimal
import linecache
import os
import pickle
import struct
import sys
import traceback
import types
from collections.abc import Callable, Iterable
from typing import Any, cast

HEADER = struct.Struct(">I")
PICKLE_PROTOCOL = 5
KINDS = ("scalar", "vectorized", "udtf", "procedure")
_THIS_FILE = os.path.abspath(__file__)


# ---------------------------------------------------------------------------------------------
# Framing (the engine's side is protocol.Channel; these few lines are its blocking twin)


class Wire:
    def __init__(self, read_fd: int, write_fd: int):
        self.rfd, self.wfd = read_fd, write_fd
        self._buf = bytearray(1 << 18)  # header and body usually arrive in one read

    def recv(self) -> Any:
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
        # The engine sends one frame and waits for the answer: nothing follows the frame.
        return pickle.loads(view[HEADER.size : HEADER.size + size])

    def send(self, message: Any) -> None:
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
        self.vectorized_input = getattr(self.handler, "_sf_vectorized_input", None)
        self.max_batch_size: int | None = getattr(self.handler, "_sf_max_batch_size", None)
        self._check()

    def _check(self) -> None:
        if self.kind == "udtf":
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
        return self._pack(list(map(self.handler, *columns)))

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
    def __init__(self, run: Callable[[str], tuple[list[str], list[list[Any]]]]):
        self.run = run

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
    parts.append("UDP not restricted")
    return f"landlock ABI {abi}: " + "; ".join(parts)


def _apply_memory_limit(limit: int | None) -> None:
    # The worker limits itself (soft = hard, so user code cannot raise it back) before any user
    # code runs; this avoids Popen(preexec_fn=...), which is unsafe in a multi-threaded engine.
    if limit:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


# ---------------------------------------------------------------------------------------------
# Main loop


SqlRunner = Callable[[str], "tuple[list[str], list[list[Any]]]"]


class Worker:
    """Loaded functions and the dispatch of requests; ``sql`` runs a procedure's SQL."""

    def __init__(self, sql: SqlRunner):
        self.sql = sql
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
        return self.functions[p["id"]].procedure(Session(self.sql), p["args"])

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
    def run(query: str) -> tuple[list[str], list[list[Any]]]:
        wire.send(("sql", query))  # the engine answers before anything else happens on the pipe
        tag, payload = wire.recv()
        if tag == "sql_error":
            raise SnowparkSQLException(payload)
        return list(payload["columns"]), [list(r) for r in payload["rows"]]

    return run


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
    isolation = _isolate(init)
    import site

    for path in init.get("sys_path", []):
        site.addsitedir(path)  # processes .pth files, as a normal site-packages would
    sys.modules["_snowflake"] = make_snowflake_module()
    wire.send(("ready", {"isolation": isolation, "python": sys.version.split()[0]}))
    worker = Worker(_remote_sql(wire))
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
        try:
            wire.send(reply)
        except Exception as exc:  # a result pickle refused (e.g. an object of a user class)
            wire.send(("error", {"kind": "contract", "message": f"unreturnable result: {exc}"}))


if __name__ == "__main__":
    main()
