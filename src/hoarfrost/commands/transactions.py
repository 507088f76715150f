"""Transactions as Snowflake has them (reference: "Transactions" in the SQL reference).

- BEGIN [TRANSACTION | WORK] / START TRANSACTION open one; BEGIN inside one is ignored.
- COMMIT / ROLLBACK end it; without one they do nothing and succeed.
- With AUTOCOMMIT off (login parameter or ALTER SESSION), the first DML statement or query
  opens one implicitly.
- A DDL statement commits the open transaction first and then runs in its own (DDL is never
  part of a transaction), and so does changing AUTOCOMMIT.
- CURRENT_TRANSACTION() is the open transaction's id, or NULL.

DuckDB holds the work: BEGIN / COMMIT / ROLLBACK go to the session's DuckDB connection. DuckDB
has no savepoints, so a statement that fails *inside DuckDB* rolls the whole transaction back
(Snowflake rolls back only the statement): the transaction is then marked aborted, and the
session has to say COMMIT or ROLLBACK before anything else runs, so that no later statement is
committed as if the earlier ones had been.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections.abc import Mapping

import duckdb

from hoarfrost.engine.context import Context, Handler, OpenTransaction, SystemFunction
from hoarfrost.engine.result import Result, rows_result, status_result
from hoarfrost.errors import ProgrammingError
from hoarfrost.sql.ast import Ordinary, Transaction

__all__ = ["HANDLERS", "SYSTEM_FUNCTIONS", "autocommit", "end_transaction", "transactional"]

_OK = "Statement executed successfully."
_ids = itertools.count()

# Statement words that define objects: DDL commits the open transaction (ALTER SESSION is
# handled apart: only a change of AUTOCOMMIT commits).
_DDL_NODES = {"Create", "Alter", "Drop", "Grant"}
_DDL_WORDS = {"CREATE", "ALTER", "DROP", "UNDROP", "COMMENT", "GRANT", "REVOKE"}


def autocommit(session: Context) -> bool:
    return session.parameters.get("AUTOCOMMIT", "TRUE").upper() not in ("FALSE", "0", "OFF")


def _new_id() -> int:
    # The reference's ids are epoch milliseconds followed by six digits of sequence.
    return int(time.time() * 1000) * 1_000_000 + next(_ids) % 1_000_000


def begin(session: Context, name: str | None = None) -> OpenTransaction:
    if session.transaction is None:
        session.duck.execute("BEGIN TRANSACTION")
        session.transaction = OpenTransaction(_new_id(), dt.datetime.now(dt.timezone.utc), name)
    return session.transaction


def end_transaction(session: Context, commit: bool) -> None:
    """COMMIT (or ROLLBACK) the open transaction, if any."""
    open_ = session.transaction
    if open_ is None:
        return
    session.transaction = None
    session.duck.execute("COMMIT" if commit and not open_.aborted else "ROLLBACK")
    if commit and open_.aborted:
        raise ProgrammingError(
            f"Transaction {open_.id} was rolled back because a statement in it failed; "
            "COMMIT could not apply it.",
            errno=2048,
            sqlstate="25000",
        )


def _begin(session: Context, node: Transaction) -> Result:
    begin(session, node.name)
    return status_result(_OK)


def _commit(session: Context, _node: Transaction) -> Result:
    end_transaction(session, commit=True)
    return status_result(_OK)


def _rollback(session: Context, _node: Transaction) -> Result:
    end_transaction(session, commit=False)
    return status_result(_OK)


def _first_word(node: Ordinary) -> str:
    tokens = node.statement.tokens
    return tokens[0].text.upper() if tokens else ""


def _is_ddl(node: object) -> bool:
    kind = type(node).__name__
    if kind == "Alter":
        return getattr(node, "kind", "") != "SESSION"
    if kind in _DDL_NODES:
        return True
    return isinstance(node, Ordinary) and _first_word(node) in _DDL_WORDS


def _changes_autocommit(node: object) -> bool:
    if type(node).__name__ != "Alter" or getattr(node, "kind", "") != "SESSION":
        return False
    return "AUTOCOMMIT" in getattr(node, "set", {}) or "AUTOCOMMIT" in getattr(node, "unset", [])


def _opens_implicitly(node: object) -> bool:
    """DML and queries (and CALL) open a transaction when AUTOCOMMIT is off."""
    return isinstance(node, Ordinary) or type(node).__name__ == "Call"


def _aborted_error(open_: OpenTransaction) -> ProgrammingError:
    return ProgrammingError(
        f"Transaction {open_.id} was rolled back because a statement in it failed; end it with "
        "ROLLBACK (or COMMIT) before running other statements.",
        errno=2048,
        sqlstate="25P02",
    )


def _duck_aborted(session: Context) -> bool:
    try:
        session.duck.execute("SELECT 1").fetchall()
    except duckdb.Error:  # DuckDB refuses every statement of an aborted transaction
        return True
    return False


def transactional(handlers: Mapping[tuple[str, str], Handler]) -> dict[tuple[str, str], Handler]:
    """Every handler, run under the session's transaction rules (see the module docstring)."""
    return {key: _wrap(handler) for key, handler in handlers.items()}


def _wrap(handler: Handler) -> Handler:
    def run(session: Context, node: object) -> Result:
        open_ = session.transaction
        if isinstance(node, Transaction):
            return handler(session, node)
        if open_ is not None and open_.aborted:
            raise _aborted_error(open_)
        if _is_ddl(node) or _changes_autocommit(node):
            end_transaction(session, commit=True)
        elif open_ is None and _opens_implicitly(node) and not autocommit(session):
            begin(session)
        try:
            return handler(session, node)
        except BaseException:
            open_ = session.transaction
            if open_ is not None and _duck_aborted(session):
                open_.aborted = True
            raise

    return run


def _current_transaction(session: Context, _args: list[str]) -> str | None:
    open_ = session.transaction
    return None if open_ is None else str(open_.id)


def _show(session: Context, _node: object) -> Result:
    """SHOW TRANSACTIONS: the session's open transaction (others' are not visible here)."""
    cols = ["id", "user", "session", "name", "started_on", "state", "scope"]
    open_ = session.transaction
    if open_ is None:
        return rows_result(cols, [])
    name = open_.name or str(open_.id)
    row = (open_.id, session.user, session.id, name, open_.started, "running", 0)
    return rows_result(cols, [row])


HANDLERS: dict[tuple[str, str], Handler] = {
    ("Show", "TRANSACTION"): _show,
    ("Transaction", "BEGIN"): _begin,
    ("Transaction", "COMMIT"): _commit,
    ("Transaction", "ROLLBACK"): _rollback,
}

SYSTEM_FUNCTIONS: dict[str, SystemFunction] = {"CURRENT_TRANSACTION": _current_transaction}
