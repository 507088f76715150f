"""EXPLAIN [USING TEXT | JSON | TABULAR] <query>: the plan DuckDB makes for the translated
statement, in the reference's three shapes (one ``content`` column for TEXT and JSON; a row per
operation for TABULAR). The statement is checked for privileges as if it ran; it does not run.
"""

from __future__ import annotations

import json
from typing import Any

from hoarfrost.commands.ordinary import translated
from hoarfrost.commands.table_access import authorize
from hoarfrost.engine.context import Context, Handler
from hoarfrost.engine.result import Result, rows_result
from hoarfrost.errors import UnsupportedFeature
from hoarfrost.sql.ast import Explain

__all__ = ["HANDLERS"]

_TABULAR = [
    "step",
    "id",
    "parent",
    "operation",
    "objects",
    "alias",
    "expressions",
    "partitionsTotal",
    "partitionsAssigned",
    "bytesAssigned",
]


def _operations(plan: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The plan's operators in pre-order, each with its id and its parent's."""
    found: list[dict[str, Any]] = []

    def walk(node: dict[str, Any], parent: int | None) -> None:
        me = len(found)
        extra = node.get("extra_info") or {}
        found.append(
            {
                "id": me,
                "parent": parent,
                "operation": str(node.get("name", "")).replace("_", " ").title(),
                "objects": extra.get("Table") if isinstance(extra, dict) else None,
                "expressions": "; ".join(f"{k}: {v}" for k, v in extra.items() if k != "Table")
                if isinstance(extra, dict)
                else str(extra),
            }
        )
        for child in node.get("children") or []:
            walk(child, me)

    for root in plan:
        walk(root, None)
    return found


def explain(session: Context, node: Explain) -> Result:
    with translated(session, node.statement) as translation:
        if translation.kind != "query":
            raise UnsupportedFeature(
                "SQL compilation error:\nEXPLAIN explains queries (SELECT); this statement "
                "is not one."
            )
        authorize(session, translation.accesses)  # what the role may not read, it may not plan
        row = session.duck.execute("EXPLAIN (FORMAT json) " + translation.statements[-1]).fetchall()
    operations = _operations(json.loads(row[0][1]) if row else [])
    stats = {"partitionsTotal": 0, "partitionsAssigned": 0, "bytesAssigned": 0}
    if node.format == "TABULAR":
        rows = [[None, None, None, "GlobalStats", None, None, None, 0, 0, 0]]
        rows += [
            [1, o["id"], o["parent"], o["operation"], o["objects"], None, o["expressions"], 0, 0, 0]
            for o in operations
        ]
        return rows_result(_TABULAR, rows, "EXPLAIN")
    if node.format == "JSON":
        content = json.dumps({"GlobalStats": stats, "Operations": [operations]})
        return rows_result(["content"], [[content]], "EXPLAIN")
    lines = ["GlobalStats:", *(f"    {k}={v}" for k, v in stats.items()), "Operations:"]
    depth: dict[int, int] = {}
    for o in operations:
        depth[o["id"]] = 0 if o["parent"] is None else depth[o["parent"]] + 1
        detail = f" {o['objects']}" if o["objects"] else ""
        lines.append(f"{'    ' * (depth[o['id']] + 1)}1:{o['id']}     ->{o['operation']}{detail}")
    return rows_result(["content"], [["\n".join(lines) + "\n"]], "EXPLAIN")


HANDLERS: dict[tuple[str, str], Handler] = {("Explain", ""): explain}
