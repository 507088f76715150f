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

    def recv(self) -> Any:
        (size,) = HEADER.unpack(self._read(HEADER.size))
        return pickle.loads(self._read(size))

    def send(self, message: Any) -> None:
        body = pickle.dumps(message, protocol=PICKLE_PROTOCOL)
        view = memoryview(HEADER.pack(len(body)) + body)
        while view:
            view = view[os.write(self.wfd, view) :]

    def _read(self, size: int) -> bytes:
        buf = bytearray()
        while len(buf) < size:
            chunk = os.read(self.rfd, size - len(buf))
            if not chunk:
                raise EOFError("engine closed the pipe")
            buf += chunk
        return bytes(buf)


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
            return _plain_list(self.handler() for _ in range(nrows))
        return _plain_list(map(self.handler, *columns))

    def _call_vectorized(self, columns: list[Any], nrows: int) -> list[Any] | array.array[Any]:
        pd = _import_pandas()
        frame = pd.DataFrame(
            {
                i: _series(pd, col, k)
                for i, (col, k) in enumerate(zip(columns, self.arg_kinds, strict=True))
            }
        )
        if not columns:
            frame = pd.DataFrame(index=range(nrows))
        step = self.max_batch_size or max(nrows, 1)
        parts = [
            _series_values(
                pd, self.handler(frame.iloc[i : i + step]), len(frame.iloc[i : i + step])
            )
            for i in range(0, nrows, step)
        ]
        if len(parts) == 1:
            return parts[0]
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
# Isolation: filled by _isolate; kept honest, it reports exactly what was applied.


def _isolate(init: dict[str, Any]) -> str:
    return "none (not implemented yet)"


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
        except Exception:
            pass


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
