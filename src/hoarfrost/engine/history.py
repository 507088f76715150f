"""Query history written off the statement's path (issue 15).

A statement hands its row to :class:`QueryHistory` and returns; a background thread writes the
rows waiting, in one transaction, at most ``history_flush_interval`` seconds later (0.2 s by
default). Readers of the history (``INFORMATION_SCHEMA.QUERY_HISTORY``) and closing a session or
the engine flush first, so nothing a client can observe is missing. What a crash may lose: the
rows of the statements that finished in the last interval before the process died (their
effects on data are not affected; only their history rows).

The statement text is rendered (parameters inlined, secrets redacted) in the writer thread, so
that cost is off the statement's path as well.
"""

from __future__ import annotations

import atexit
import datetime as dt
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hoarfrost.catalog.store import CatalogStore

if TYPE_CHECKING:
    from hoarfrost.engine.engine import Engine

__all__ = ["HistoryRow", "QueryHistory", "query_history"]


@dataclass
class HistoryRow:
    query_id: str
    session_id: int
    user: str
    role: str
    database: str | None
    schema: str | None
    text: Callable[[], str]  # rendered by the writer
    query_type: str | None
    error_code: str | None
    error_message: str | None
    started: dt.datetime
    ended: dt.datetime
    rows: Callable[[], int | None]  # read when written: a streamed result counts as it drains

    def values(self) -> list[Any]:
        return [
            self.query_id,
            self.session_id,
            self.user,
            self.role,
            self.database,
            self.schema,
            self.text(),
            self.query_type,
            "SUCCESS" if self.error_code is None else "FAILED_WITH_ERROR",
            self.error_code,
            self.error_message,
            self.started,
            self.ended,
            self.rows(),
        ]


class QueryHistory:
    def __init__(self, catalog: CatalogStore, interval: float):
        self._catalog = catalog
        self._interval = interval
        self._pending: list[HistoryRow] = []
        self._lock = threading.Lock()  # guards _pending
        self._write_lock = threading.Lock()  # one writer at a time keeps rows in order
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None

    def record(self, row: HistoryRow) -> None:
        if self._interval <= 0:
            self._write([row])
            return
        with self._lock:
            self._pending.append(row)
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name="hoarfrost-history", daemon=True
                )
                self._thread.start()
                # A daemon thread inside DuckDB while the interpreter finalises aborts the
                # process: stop it (and write what waits) before that, on a weak reference so
                # that an engine closed long ago is not kept alive.
                atexit.register(_close_at_exit, weakref.ref(self))

    def flush(self) -> None:
        with self._write_lock:
            with self._lock:
                rows, self._pending = self._pending, []
            if rows:
                self._write(rows)

    def close(self) -> None:
        if self._closed and self._thread is None:
            return
        with self._lock:
            self._closed = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join()
        self._thread = None
        self.flush()

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self._interval)
            try:
                self.flush()
            except Exception:  # a closed catalog at shutdown: the final flush reports it
                if self._closed:
                    return

    def _write(self, rows: list[HistoryRow]) -> None:
        self._catalog.append("query_history", [row.values() for row in rows])


def _close_at_exit(ref: weakref.ref[QueryHistory]) -> None:
    history = ref()
    if history is not None:
        try:
            history.close()
        except Exception:  # the engine's catalog was closed without us: nothing to write to
            pass


def query_history(engine: Engine) -> QueryHistory:
    return engine.service(
        "history",
        lambda e: QueryHistory(e.catalog, float(e.settings.history_flush_interval)),
    )
