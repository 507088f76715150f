"""Wire sessions: token -> hoarfrost Session, with expiry and renewal.

A login issues a session token (short-lived) and a master token (four times longer). The client
sends the session token on every call; when it has expired the server answers 390112 and the
client renews it at ``/session/token-request`` with the master token, keeping the same session
(database, schema, temporary objects). Tokens are random and never logged.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hoarfrost.commands.session import Session

__all__ = ["RESULTS_KEPT", "QueryRecord", "ServerSession", "SessionRegistry", "TokenState"]

# Queries kept per session for `GET /queries/<id>/result` and `/monitoring/queries/<id>`
# (asynchronous queries and the children of a multi-statement query).
RESULTS_KEPT = 64
MASTER_FACTOR = 4


@dataclass
class QueryRecord:
    """One query of a session: RUNNING until ``payload`` (the whole envelope) is set."""

    query_id: str
    started: float
    status: str = "RUNNING"  # RUNNING | SUCCESS | FAILED_WITH_ERROR
    payload: dict[str, Any] | None = None
    ended: float | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def finish(self, payload: dict[str, Any]) -> None:
        self.payload = payload
        self.ended = time.time()
        self.status = "SUCCESS" if payload.get("success") else "FAILED_WITH_ERROR"
        self.done.set()


@dataclass
class ServerSession:
    id: int
    session: Session
    token: str
    master_token: str
    token_expires: float
    master_expires: float
    warehouse: str | None = None
    borrowed: bool = False  # a procedure call's session: closing the entry leaves it open
    # Held while a request runs on the session and while its streamed result drains.
    lock: threading.RLock = field(default_factory=threading.RLock)
    # PUT / GET (server/files.py): the style of answer this client takes, and where files go.
    file_tokens: bool = False
    files: Any = None
    queries: OrderedDict[str, QueryRecord] = field(default_factory=OrderedDict)

    records_lock: threading.Lock = field(default_factory=threading.Lock)

    def keep(self, record: QueryRecord) -> QueryRecord:
        with self.records_lock:
            self.queries[record.query_id] = record
            while len(self.queries) > RESULTS_KEPT:
                oldest = next(iter(self.queries))
                if self.queries[oldest].status == "RUNNING":
                    break
                del self.queries[oldest]
        return record

    def query(self, query_id: str) -> QueryRecord | None:
        with self.records_lock:
            return self.queries.get(query_id)


class TokenState:
    VALID, EXPIRED, UNKNOWN = "valid", "expired", "unknown"


class SessionRegistry:
    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.clock = clock
        self._lock = threading.Lock()
        self._by_token: dict[str, ServerSession] = {}
        self._by_master: dict[str, ServerSession] = {}

    def create(self, session: Session, borrowed: bool = False) -> ServerSession:
        self.reap()
        now = self.clock()
        entry = ServerSession(
            id=session.id,
            session=session,
            token=_token(),
            master_token=_token(),
            token_expires=now + self.ttl,
            master_expires=now + self.ttl * MASTER_FACTOR,
            borrowed=borrowed,
        )
        with self._lock:
            self._by_token[entry.token] = entry
            self._by_master[entry.master_token] = entry
        return entry

    def reap(self) -> None:
        """Close the sessions whose master token expired (clients that never logged out)."""
        now = self.clock()
        with self._lock:
            stale = [e for e in self._by_token.values() if now >= e.master_expires]
        for entry in stale:
            self.close(entry)

    def lookup(self, token: str | None) -> tuple[str, ServerSession | None]:
        with self._lock:
            entry = self._by_token.get(token or "")
        if entry is None:
            return TokenState.UNKNOWN, None
        if self.clock() >= entry.token_expires:
            return TokenState.EXPIRED, entry
        return TokenState.VALID, entry

    def renew(self, master_token: str | None, old_token: str | None) -> ServerSession | None:
        """New session and master tokens for a valid master token (and its session token)."""
        with self._lock:
            entry = self._by_master.get(master_token or "")
            if entry is None or self.clock() >= entry.master_expires:
                return None
            if old_token and old_token != entry.token:
                return None
            self._by_token.pop(entry.token, None)
            self._by_master.pop(entry.master_token, None)
            now = self.clock()
            entry.token, entry.master_token = _token(), _token()
            entry.token_expires = now + self.ttl
            entry.master_expires = now + self.ttl * MASTER_FACTOR
            self._by_token[entry.token] = entry
            self._by_master[entry.master_token] = entry
            return entry

    def close(self, entry: ServerSession) -> None:
        with self._lock:
            self._by_token.pop(entry.token, None)
            self._by_master.pop(entry.master_token, None)
        if entry.borrowed:
            return
        with entry.lock:
            entry.session.close()

    def close_all(self) -> None:
        with self._lock:
            entries = list(self._by_token.values())
        for entry in entries:
            self.close(entry)

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_token)


def _token() -> str:
    return secrets.token_urlsafe(32)
