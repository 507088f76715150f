"""``CREATE TEMPORARY TABLE | VIEW db.schema.t``: DuckDB keeps temporary tables in its own ``temp``
catalog and refuses a qualified name, while Snowflake (and Snowpark, which always qualifies its
``SNOWPARK_TEMP_TABLE_...`` names) puts the table in the named schema for the session's life.
Such a table is created as an ordinary one there; the session drops it when it ends
(``commands/table_access`` records it as the session's temporary object)."""

from __future__ import annotations

from sqlglot import exp

__all__ = ["qualified_temporary_tables"]


def qualified_temporary_tables(tree: exp.Expr) -> exp.Expr:
    kind = str(tree.args.get("kind") or "").upper()
    if not isinstance(tree, exp.Create) or kind not in ("TABLE", "VIEW"):
        return tree
    props = tree.args.get("properties")
    target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    if props is None or not isinstance(target, exp.Table) or not (target.db or target.catalog):
        return tree
    for prop in list(props.expressions):
        if isinstance(prop, exp.TemporaryProperty):
            prop.pop()
    return tree
