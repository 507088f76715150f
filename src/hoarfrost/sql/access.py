"""What one ordinary statement does to which tables and views, read off its parsed tree.

The statement layer checks each :class:`Access` against the catalog's privileges before DuckDB
runs anything: SELECT for every table or view read, INSERT / UPDATE / DELETE / TRUNCATE for the
target of a DML statement, CREATE TABLE | VIEW on the schema of a new object, OWNERSHIP to
alter, drop or replace one. Names are as the statement wrote them (normalised like Snowflake's
identifiers), one to three parts; common table expressions are not tables.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from hoarfrost.sql.transforms_ddl import table_details

__all__ = ["Access", "accesses"]


@dataclass(frozen=True)
class Access:
    privilege: str  # SELECT | INSERT | UPDATE | DELETE | TRUNCATE | CREATE | OWNERSHIP
    kind: str  # TABLE | VIEW ("TABLE" when a read does not say which)
    parts: tuple[str, ...]
    # CREATE: a new object (temporary, or replacing one of the same name); OWNERSHIP: what is
    # done to it (DROP | ALTER | RENAME, with ``new_parts``).
    temporary: bool = False
    replace: bool = False
    action: str = ""
    new_parts: tuple[str, ...] = ()
    # CREATE TABLE: what DuckDB does not keep (declared types, clustering key), for the catalog
    details: tuple[tuple[str, str], ...] = ()


def _parts(table: exp.Table) -> tuple[str, ...]:
    return tuple(p for p in (table.catalog, table.db, table.name) if p)


def _ctes(tree: exp.Expr) -> set[str]:
    return {cte.alias_or_name.upper() for cte in tree.find_all(exp.CTE)}


def _reads(tree: exp.Expr | None, skip: set[int], ctes: set[str]) -> list[Access]:
    if tree is None:
        return []
    found = []
    for table in tree.find_all(exp.Table):
        if id(table) in skip or not table.name:
            continue
        if isinstance(table.this, exp.Func) or table.args.get("this") is None:
            continue  # a table function, e.g. TABLE(GENERATOR(...))
        parts = _parts(table)
        if len(parts) == 1 and parts[0].upper() in ctes:
            continue
        found.append(Access("SELECT", "TABLE", parts))
    return found


def _target(node: exp.Expr | None) -> exp.Table | None:
    while node is not None and not isinstance(node, exp.Table):
        node = node.args.get("this")
    return node


def accesses(tree: exp.Expr) -> tuple[Access, ...]:
    """The accesses of one statement (empty for statements that touch no table)."""
    ctes = _ctes(tree)
    out: list[Access] = []
    target = None
    if isinstance(tree, exp.Insert | exp.Update | exp.Delete | exp.Merge | exp.TruncateTable):
        verbs = {
            exp.Insert: ("INSERT",),
            exp.Update: ("UPDATE",),
            exp.Delete: ("DELETE",),
            exp.TruncateTable: ("TRUNCATE",),
        }
        privileges = verbs.get(type(tree)) or _merge_privileges(tree)
        if isinstance(tree, exp.TruncateTable):
            tables = [t for t in tree.expressions if isinstance(t, exp.Table)]
            return tuple(Access("TRUNCATE", "TABLE", _parts(t)) for t in tables)
        target = _target(tree.args.get("this"))
        if target is not None:
            out += [Access(p, "TABLE", _parts(target)) for p in privileges]
    elif isinstance(tree, exp.Create):
        kind = str(tree.args.get("kind") or "").upper()
        target = _target(tree.args.get("this"))
        if kind in ("TABLE", "VIEW") and target is not None:
            props = tree.args.get("properties")
            temporary = bool(props and props.find(exp.TemporaryProperty))
            out.append(
                Access(
                    "CREATE",
                    kind,
                    _parts(target),
                    temporary=temporary,
                    replace=bool(tree.args.get("replace")),
                    details=tuple(sorted(table_details(tree).items())),
                )
            )
            clone = tree.args.get("clone")
            if clone is not None:
                source = _target(clone.args.get("this"))
                if source is not None:
                    out.append(Access("SELECT", "TABLE", _parts(source)))
        elif kind == "SEQUENCE" and target is not None:
            replace = bool(tree.args.get("replace"))
            return (Access("CREATE", kind, _parts(target), replace=replace),)
    elif isinstance(tree, exp.Comment):
        return _comment(tree)
    elif isinstance(tree, exp.Drop):
        kind = str(tree.args.get("kind") or "").upper()
        tables = tree.args.get("tables") or [tree.args.get("this")]
        if kind in ("TABLE", "VIEW"):
            return tuple(
                Access("OWNERSHIP", kind, _parts(t), action="DROP")
                for t in tables
                if isinstance(t, exp.Table)
            )
        return ()
    elif isinstance(tree, exp.Alter):
        kind = str(tree.args.get("kind") or "").upper()
        target = _target(tree.args.get("this"))
        if kind in ("TABLE", "VIEW") and target is not None:
            rename = next(
                (a for a in tree.args.get("actions") or [] if isinstance(a, exp.AlterRename)), None
            )
            new = _target(rename.args.get("this")) if rename is not None else None
            swap = next(
                (a for a in tree.args.get("actions") or [] if isinstance(a, exp.SwapTable)), None
            )
            other = _target(swap.args.get("this")) if swap is not None else None
            swapped = (Access("OWNERSHIP", kind, _parts(other), action="ALTER"),) if other else ()
            return (
                *swapped,
                Access(
                    "OWNERSHIP",
                    kind,
                    _parts(target),
                    action="RENAME" if new is not None else "ALTER",
                    new_parts=_parts(new) if new is not None else (),
                ),
            )
        return ()
    skip = {id(target)} if target is not None else set()
    return (*out, *_reads(tree, skip, ctes))


def _comment(tree: exp.Comment) -> tuple[Access, ...]:
    """COMMENT ON TABLE | VIEW | COLUMN: the owner of the table or view may comment."""
    kind = str(tree.args.get("kind") or "").upper()
    target = tree.this
    if kind == "COLUMN" and isinstance(target, exp.Column):
        parts = tuple(p.name for p in target.parts[:-1])
        return (Access("OWNERSHIP", "TABLE", parts, action="ALTER"),) if parts else ()
    if kind in ("TABLE", "VIEW") and isinstance(target, exp.Table):
        return (Access("OWNERSHIP", kind, _parts(target), action="ALTER"),)
    return ()


def _merge_privileges(tree: exp.Expr) -> tuple[str, ...]:
    found = []
    for when in tree.find_all(exp.When):
        then = when.args.get("then")
        if isinstance(then, exp.Insert):
            found.append("INSERT")
        elif isinstance(then, exp.Update):
            found.append("UPDATE")
        elif then is not None and "DELETE" in then.sql().upper():
            found.append("DELETE")
    return tuple(dict.fromkeys(found)) or ("UPDATE",)
