"""The PEP 249 Python API: ``hoarfrost.connect()`` -> Connection -> Cursor.

Cursor methods mirror snowflake-connector-python where it extends PEP 249 (``sfqid``,
``fetch_arrow_all``, ``fetch_pandas_all``, ``execute_string``), so code written for the
connector runs against an embedded account.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa

from hoarfrost.commands.session import Session
from hoarfrost.config import Settings
from hoarfrost.engine.engine import open_engine
from hoarfrost.engine.result import Result
from hoarfrost.engine.stage_transfer import run_locally
from hoarfrost.errors import InterfaceError

__all__ = ["Connection", "Cursor", "connect"]

Params = Sequence[Any] | Mapping[str, Any] | None


def connect(home: str | Path | None = None, **settings: Any) -> Connection:
    """Open (creating if needed) the account in ``home``.

    ``home`` defaults to ``HOARFROST_HOME``, else ``./.hoarfrost``; ``":memory:"`` gives a
    throwaway account. Keyword arguments override settings (see ``hoarfrost.config``);
    ``database``, ``schema``, ``role`` and ``user`` choose the session's context.
    """
    context = {k: settings.pop(k) for k in ("database", "schema") if k in settings}
    return Connection(home, Settings(settings), **context)


class Connection:
    def __init__(
        self,
        home: str | Path | None,
        settings: Settings,
        database: str | None = None,
        schema: str | None = None,
    ):
        self.settings = settings
        self._engine = open_engine(home if home is not None else settings.home, settings)
        # The connection's own settings name its user and role (the engine may be shared).
        kwargs: dict[str, Any] = {"user": settings.user, "role": settings.role}
        if database is not None:
            kwargs["database"] = database.upper()
            kwargs["schema"] = (schema or "PUBLIC").upper()
        self.session = Session(self._engine, **kwargs)
        self.closed = False

    @property
    def engine(self) -> Any:
        return self._engine

    def cursor(self) -> Cursor:
        self._check()
        return Cursor(self)

    def execute(self, sql: str, params: Params = None) -> Cursor:
        return self.cursor().execute(sql, params)

    def execute_string(self, sql: str) -> list[Cursor]:
        """Run a script; one cursor per statement (as the connector does)."""
        self._check()
        cursors = []
        for result in self.session.execute(sql):
            cur = Cursor(self)
            cur._set(result)
            cursors.append(cur)
        return cursors

    def commit(self) -> None:
        self._check()

    def rollback(self) -> None:
        self._check()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.session.close()
            self._engine.release()

    def _check(self) -> None:
        if self.closed:
            raise InterfaceError("Connection is closed.", errno=250002, sqlstate="08003")

    def __enter__(self) -> Connection:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class Cursor:
    arraysize = 1

    def __init__(self, connection: Connection):
        self.connection = connection
        self._result: Result | None = None
        self._rows: list[tuple[Any, ...]] = []
        self._pos = 0
        self._fetched = False
        self._rowcount_override: int | None = None
        self.closed = False

    # -- execution -----------------------------------------------------------------------
    def execute(self, sql: str, params: Params = None) -> Cursor:
        self._check()
        results = self.connection.session.execute(sql, params)
        self._set(results[-1])
        return self

    def executemany(self, sql: str, seq_of_params: Sequence[Params]) -> Cursor:
        total = 0
        for params in seq_of_params:
            self.execute(sql, params)
            total += max(self.rowcount, 0)
        self._rowcount_override = total
        return self

    def _set(self, result: Result) -> None:
        if result.transfer is not None:
            # PUT / GET: this cursor shares the machine with its engine, so it moves the files.
            result = run_locally(result.transfer)
        self._result = result
        self._rows = []
        self._fetched = False
        self._pos = 0
        self._rowcount_override = None

    def _materialise(self) -> list[tuple[Any, ...]]:
        if self._result is None:
            raise InterfaceError("No statement has been executed.", errno=252003, sqlstate="HY010")
        if not self._fetched:
            self._rows = self._result.rows()
            self._fetched = True
        return self._rows

    # -- PEP 249 -------------------------------------------------------------------------
    @property
    def description(self) -> list[tuple[Any, ...]] | None:
        if self._result is None:
            return None
        return [c.description() for c in self._result.columns]

    @property
    def rowcount(self) -> int:
        if self._rowcount_override is not None:
            return self._rowcount_override
        return -1 if self._result is None else self._result.rowcount

    @property
    def sfqid(self) -> str | None:
        return self._result.query_id if self._result else None

    def fetchone(self) -> tuple[Any, ...] | None:
        rows = self._materialise()
        if self._pos >= len(rows):
            return None
        self._pos += 1
        return rows[self._pos - 1]

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        rows = self._materialise()
        n = self.arraysize if size is None else size
        out = rows[self._pos : self._pos + n]
        self._pos += len(out)
        return out

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows = self._materialise()
        out = rows[self._pos :]
        self._pos = len(rows)
        return out

    def fetch_arrow_table(self) -> pa.Table:
        self._materialise()
        assert self._result is not None
        return self._result.table

    fetch_arrow_all = fetch_arrow_table

    def fetch_pandas_all(self) -> Any:
        return self.fetch_arrow_table().to_pandas()

    def setinputsizes(self, sizes: Any) -> None:
        pass

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def _check(self) -> None:
        if self.closed:
            raise InterfaceError("Cursor is closed.", errno=250002, sqlstate="08003")
        self.connection._check()

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        while (row := self.fetchone()) is not None:
            yield row

    def __enter__(self) -> Cursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
