"""Snowflake DDL that DuckDB spells differently or spreads over several statements.

- ``CREATE [TRANSIENT] TABLE ... CLUSTER BY (..) COMMENT = '..'``: TRANSIENT and CLUSTER BY are
  accepted (they change storage, not results; the clustering key is kept in the catalog, see
  :func:`table_details`); table and column comments become DuckDB COMMENT ON statements.
- ``CREATE TABLE t CLONE s``: a copy of the table's rows and column types.
- ``AUTOINCREMENT`` / ``IDENTITY`` columns: a sequence of the engine's own (``__HF_SEQ_...``)
  and a ``DEFAULT nextval(..)``.
- ``s.NEXTVAL``: DuckDB's ``nextval('s')``.
- ``ALTER TABLE a SWAP WITH b``: three renames, in one transaction.
- ``ALTER TABLE t SET COMMENT = '..'``: COMMENT ON TABLE; ``ALTER TABLE t CLUSTER BY``: accepted.
- ``CREATE TABLE t IF NOT EXISTS (..)`` (the clause after the name): moved before the name.
"""

from __future__ import annotations

import uuid

from sqlglot import exp
from sqlglot.tokens import TokenType

from hoarfrost.errors import SqlSyntaxError
from hoarfrost.sql.tokens import tokenize

__all__ = [
    "ENGINE_SEQUENCE_PREFIX",
    "if_not_exists_after_name",
    "sequence_calls",
    "split_ddl",
    "storage_types",
    "table_details",
]

ENGINE_SEQUENCE_PREFIX = "__HF_SEQ_"


# --- text: IF NOT EXISTS after the table name --------------------------------------------------


def if_not_exists_after_name(sql: str) -> str:
    """``CREATE TABLE t IF NOT EXISTS (..)`` as ``CREATE TABLE IF NOT EXISTS t (..)``."""
    if "EXISTS" not in sql.upper():
        return sql
    try:
        tokens = tokenize(sql)
    except SqlSyntaxError:
        return sql  # the parser reports it with its position
    words = [t.text.upper() if t.token_type != TokenType.IDENTIFIER else "" for t in tokens]
    if "TABLE" not in words[:6] or words[:1] != ["CREATE"]:
        return sql
    i = words.index("TABLE") + 1
    j = i + 1  # past the name's first part, then past each ".part"
    while j + 1 < len(tokens) and tokens[j].token_type == TokenType.DOT:
        j += 2
    if i >= len(tokens) or words[j : j + 3] != ["IF", "NOT", "EXISTS"]:
        return sql
    name_start, name_end = tokens[i].start, tokens[j - 1].end + 1
    clause_end = tokens[j + 2].end + 1
    return sql[:name_start] + "IF NOT EXISTS " + sql[name_start:name_end] + sql[clause_end:]


# --- expressions: NEXTVAL ------------------------------------------------------------------


def _quoted_name(parts: list[exp.Identifier]) -> str:
    return ".".join('"' + p.name.replace('"', '""') + '"' for p in parts)


def sequence_calls(tree: exp.Expr) -> exp.Expr:
    """``s.NEXTVAL`` (and ``db.sch.s.nextval``) as DuckDB's ``nextval('"S"')``."""
    for column in list(tree.find_all(exp.Column)):
        if column.name.upper() != "NEXTVAL" or not column.table:
            continue
        parts = [p for p in column.parts[:-1] if isinstance(p, exp.Identifier)]
        call = exp.Anonymous(this="nextval", expressions=[exp.Literal.string(_quoted_name(parts))])
        if column is tree:
            return call
        column.replace(call)
    # a DuckDB sequence reached through a Dot (db.schema.seq.nextval)
    return tree


def storage_types(tree: exp.Expr) -> exp.Expr:
    """Snowflake's FLOAT4 / REAL are 64-bit like every FLOAT there (DuckDB's REAL is 32-bit),
    and DuckDB's BLOB takes no length: BINARY(n) keeps its length in the catalog only."""
    for dtype in list(tree.find_all(exp.DataType)):
        if dtype.this == exp.DataType.Type.FLOAT:
            dtype.set("this", exp.DataType.Type.DOUBLE)
        elif dtype.this in (exp.DataType.Type.BINARY, exp.DataType.Type.VARBINARY):
            dtype.set("expressions", [])
    return tree


# --- details kept in the catalog ------------------------------------------------------------


def _props(tree: exp.Create) -> list[exp.Expr]:
    props = tree.args.get("properties")
    return list(props.expressions) if isinstance(props, exp.Properties) else []


def table_details(tree: exp.Expr) -> dict[str, str]:
    """What a CREATE TABLE declares that DuckDB does not keep: declared column types (VARCHAR(20),
    TIME(9), ...), the clustering key, TRANSIENT; a view's Snowflake text. Read before any
    transform."""
    if not isinstance(tree, exp.Create):
        return {}
    kind = str(tree.args.get("kind") or "").upper()
    if kind == "VIEW":
        return {"TEXT": tree.sql(dialect="snowflake")}
    if kind != "TABLE":
        return {}
    details: dict[str, str] = {}
    schema = tree.this if isinstance(tree.this, exp.Schema) else None
    for column in schema.expressions if schema is not None else []:
        if isinstance(column, exp.ColumnDef) and isinstance(column.args.get("kind"), exp.DataType):
            details[f"TYPE:{column.name}"] = column.args["kind"].sql(dialect="snowflake")
    for prop in _props(tree):
        if isinstance(prop, exp.ClusterProperty):
            keys = ", ".join(e.sql(dialect="snowflake") for e in prop.expressions)
            details["CLUSTER_BY"] = f"LINEAR({keys})"
        elif isinstance(prop, exp.TransientProperty):
            details["KIND"] = "TRANSIENT"
        elif isinstance(prop, exp.Tags):  # WITH TAG (t = 'v', ...): set once the table exists
            for tag in prop.expressions:
                if isinstance(tag, exp.Property) and isinstance(tag.args.get("value"), exp.Literal):
                    details[f"TAG:{tag.name}"] = str(tag.args["value"].this)
    return details


# --- statements -----------------------------------------------------------------------------


def _table_of(tree: exp.Create) -> exp.Table:
    target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    assert isinstance(target, exp.Table)
    return target


def _comment_on(kind: str, target: exp.Expr, text: exp.Expr) -> exp.Comment:
    return exp.Comment(this=target.copy(), kind=kind, expression=text.copy())


_IDENTITY = (exp.GeneratedAsIdentityColumnConstraint, exp.AutoIncrementColumnConstraint)


def _identity_sequence(table: exp.Table, column: exp.ColumnDef) -> tuple[exp.Expr, exp.Expr]:
    """(CREATE SEQUENCE for an AUTOINCREMENT / IDENTITY column, its DEFAULT nextval(..))."""
    identity = next(
        c.args["kind"]
        for c in column.args.get("constraints") or []
        if isinstance(c.args.get("kind"), _IDENTITY)
    )
    start = identity.args.get("start") or exp.Literal.number(1)
    increment = identity.args.get("increment") or exp.Literal.number(1)
    name = f"{ENGINE_SEQUENCE_PREFIX}{table.name}_{column.name}_{uuid.uuid4().hex[:8]}".upper()
    seq = _sibling(table, exp.to_identifier(name))
    create = exp.Create(
        this=seq,
        kind="SEQUENCE",
        properties=exp.Properties(
            expressions=[exp.SequenceProperties(start=start.copy(), increment=increment.copy())]
        ),
    )
    parts = [p for p in seq.parts if isinstance(p, exp.Identifier)]
    default = exp.Anonymous(this="nextval", expressions=[exp.Literal.string(_quoted_name(parts))])
    return create, default


# Options that change storage, retention or governance, not results: accepted, not kept by DuckDB
# (DATA_RETENTION_TIME_IN_DAYS = n, CHANGE_TRACKING = TRUE, WITH TAG (..), COPY GRANTS, ...).
_STORAGE_ONLY = (
    exp.ClusterProperty,
    exp.TransientProperty,
    exp.Tags,
    exp.CopyGrantsProperty,
)


def _split_create_table(tree: exp.Expr) -> list[exp.Expr] | None:
    if not isinstance(tree, exp.Create) or str(tree.args.get("kind") or "").upper() != "TABLE":
        return None
    before: list[exp.Expr] = []
    after: list[exp.Expr] = []
    table = _table_of(tree)
    clone = tree.args.get("clone")
    if isinstance(clone, exp.Clone):
        tree.set("clone", None)
        source = clone.this.copy()
        tree.set("expression", exp.select("*").from_(source))
    kept = []
    for prop in _props(tree):
        if isinstance(prop, exp.SchemaCommentProperty):
            after.append(_comment_on("TABLE", table, prop.this))
        elif not isinstance(prop, _STORAGE_ONLY) and type(prop) is not exp.Property:
            kept.append(prop)
    tree.set("properties", exp.Properties(expressions=kept) if kept else None)
    schema = tree.this if isinstance(tree.this, exp.Schema) else None
    for column in schema.expressions if schema is not None else []:
        if not isinstance(column, exp.ColumnDef):
            continue
        constraints = []
        for constraint in column.args.get("constraints") or []:
            kind = constraint.args.get("kind")
            if isinstance(kind, exp.CommentColumnConstraint):
                target = exp.column(column.this.copy(), table=table.this.copy())
                target.set("db", table.args.get("db"))
                target.set("catalog", table.args.get("catalog"))
                after.append(_comment_on("COLUMN", target, kind.this))
            elif isinstance(kind, _IDENTITY):
                create, default = _identity_sequence(table, column)
                before.append(create)
                constraints.append(
                    exp.ColumnConstraint(kind=exp.DefaultColumnConstraint(this=default))
                )
            else:
                constraints.append(constraint)
        column.set("constraints", constraints)
    if not before and not after:
        return None
    return [*before, tree, *after]


def _sibling(table: exp.Table, name: exp.Identifier) -> exp.Table:
    """A table of another name in the same database and schema."""
    sibling = table.copy()
    sibling.set("this", name.copy())
    return sibling


def _split_alter_table(tree: exp.Expr) -> list[exp.Expr] | None:
    if not isinstance(tree, exp.Alter) or str(tree.args.get("kind") or "").upper() != "TABLE":
        return None
    actions = tree.args.get("actions") or []
    if len(actions) != 1:
        return None
    (action,) = actions
    table = tree.this
    if isinstance(action, exp.SwapTable):
        other = action.this
        temp = exp.to_identifier(f"__HF_SWAP_{uuid.uuid4().hex[:12]}".upper())

        def rename(a: exp.Table, to: exp.Identifier) -> exp.Alter:
            return exp.Alter(
                this=a.copy(),
                kind="TABLE",
                actions=[exp.AlterRename(this=exp.Table(this=to.copy()))],
            )

        return [
            rename(table, temp),
            rename(other, table.this),
            rename(_sibling(table, temp), other.this),
        ]
    if isinstance(action, exp.AlterSet):
        comments = [
            p
            for props in action.expressions
            if isinstance(props, exp.Properties)
            for p in props.expressions
            if isinstance(p, exp.SchemaCommentProperty)
        ]
        if comments:
            return [_comment_on("TABLE", table, comments[0].this)]
    if isinstance(action, exp.ClusterProperty):
        # Clustering changes storage, not results: accepted, nothing to run.
        return [exp.select(exp.Literal.number(1)).limit(0)]
    return None


def split_ddl(tree: exp.Expr) -> list[exp.Expr] | None:
    """The DuckDB statements of one Snowflake DDL statement, or None when it is one as it is."""
    return _split_create_table(tree) or _split_alter_table(tree)
