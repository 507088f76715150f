"""One function per process (issue 10, item 3): a worker runs the code of exactly one function,
so a function finds nothing of another's through ``gc``, ``sys.modules`` or its process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import hoarfrost

MARKER = "victim-argument-7Qx2"

# Workers live in their own PID namespaces, where every one of them is pid 2: a process is told
# apart by a token kept on its ``sys`` module, which every function run in that process shares.
PROCESS_TOKEN = "__import__('sys').__dict__.setdefault('_t', __import__('os').urandom(8).hex())"

VICTIM = f"""
KEPT = []
def victim(x):
    KEPT.append(x)  # the argument, kept in the victim's process
    return {PROCESS_TOKEN}
"""
SNOOP = f"""
import gc, sys
def snoop(reversed_probe):
    probe = reversed_probe[::-1]  # the argument itself never matches
    found = 0
    for obj in gc.get_objects():
        try:
            if isinstance(obj, str) and probe in obj and obj is not probe:
                found += 1
            elif isinstance(obj, list) and any(isinstance(i, str) and probe in i for i in obj):
                found += 1
        except Exception:
            pass
    victims = [m for m in sys.modules.values() if hasattr(m, "victim")]
    return f"{{{PROCESS_TOKEN}}}:{{found}}:{{len(victims)}}"
"""


def _create(con: Any, name: str, args: str, body: str, handler: str) -> None:
    con.execute(
        f"CREATE OR REPLACE FUNCTION {name}({args}) RETURNS VARCHAR LANGUAGE PYTHON "
        f"RUNTIME_VERSION = '3.11' HANDLER = '{handler}' AS $${body}$$"
    )


@pytest.fixture(scope="module")
def account(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with hoarfrost.connect(tmp_path_factory.mktemp("one-fn") / "acct") as con:
        _create(con, "victim", "x VARCHAR", VICTIM, "victim")
        _create(con, "snoop", "probe VARCHAR", SNOOP, "snoop")
        yield con


def test_another_function_finds_nothing_through_gc(account: Any) -> None:
    victim_pids = {
        r[0]
        for r in account.execute(
            f"SELECT victim('{MARKER}' || seq4()) FROM TABLE(GENERATOR(ROWCOUNT => 50))"
        ).fetchall()
    }
    (answer,) = account.execute("SELECT snoop(%s)", [MARKER[::-1]]).fetchone()
    pid, found, victims = answer.split(":")
    assert pid not in victim_pids
    # no argument of the victim, no module of its code
    assert (found, victims) == ("0", "0"), answer


def test_two_overloads_and_a_replacement_run_in_separate_processes(account: Any) -> None:
    body = f"def h(*a):\n    return {PROCESS_TOKEN}\n"
    _create(account, "pid_of", "", body, "h")
    _create(account, "pid_of", "x INT", body, "h")
    first = account.execute("SELECT pid_of()").fetchone()[0]
    second = account.execute("SELECT pid_of(1)").fetchone()[0]
    assert first != second
    _create(account, "pid_of", "", body + "# replaced\n", "h")
    replaced = account.execute("SELECT pid_of()").fetchone()[0]
    assert replaced not in (first, second)
