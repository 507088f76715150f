"""Translate ONE ordinary Snowflake statement into DuckDB SQL.

``translate(sql)`` parses with sqlglot's Snowflake dialect, applies Snowflake identifier rules
(unquoted -> upper case, quoted kept) and names unaliased result columns as Snowflake does
(``COUNT(*)``, ``$1``), runs the small pure transforms of :mod:`hoarfrost.sql.transforms`,
quotes every identifier (so DuckDB reports ``A`` for ``select a``) and generates DuckDB SQL.
It never touches a database: the engine runs the result (after ``USE db.schema``), one
Snowflake DATABASE being one attached DuckDB database of the same name.

Verified (tests/sql): CREATE [OR REPLACE] TABLE with Snowflake types, CTAS, CREATE [OR
REPLACE] VIEW, DROP TABLE/VIEW [IF EXISTS], ALTER TABLE ADD/DROP/RENAME COLUMN (several actions
become several statements), INSERT (VALUES, multi-row, SELECT, OVERWRITE), UPDATE, DELETE,
MERGE (with Snowflake's per-action counts), SELECT with joins, GROUP BY/HAVING, QUALIFY,
windows, CTEs, LIMIT/OFFSET, TOP, NULLS FIRST/LAST, the common scalar and aggregate functions,
``$n`` over VALUES, VARIANT/OBJECT/ARRAY as JSON (PARSE_JSON, OBJECT_CONSTRUCT, ARRAY_CONSTRUCT,
``v:a.b``, ``v[0]``, ``::string``, GET, GET_PATH, ARRAY_SIZE, TO_VARIANT, TYPEOF, FLATTEN) and
``[db.]INFORMATION_SCHEMA.TABLES/COLUMNS/SCHEMATA/VIEWS``.

Known not to translate (or to differ from Snowflake):
- ``$n`` positional references over anything but VALUES; FLATTEN's RECURSIVE and MODE, and its
  SEQ column (1 for every input row); PATH => only as a literal.
- OBJECT_CONSTRUCT(*); RANDOM(seed) is the same value on every row.
- OBJECT and ARRAY columns are JSON (their declared type is kept in the catalog and reported, see
  commands/columns.py); VARCHAR(n) lengths are not enforced; INT-family columns are BIGINT
  (NUMBER(38,0) is DECIMAL(38,0)).
- Comparing a VARIANT *column* (not a ``v:path``) to a string literal compares JSON text.
- DATEADD on a DATE column yields a TIMESTAMP (only visibly-DATE arguments stay DATE).
- HASH values differ from Snowflake's; identifiers differing only in case collide in DuckDB.
- Snowflake Scripting blocks, stages, COPY, PUT/GET and other statements sqlglot keeps as an
  opaque command raise UnsupportedFeature.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError, TokenError, UnsupportedError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from hoarfrost.errors import Error, SqlSyntaxError, UnsupportedFeature
from hoarfrost.sql.access import Access, accesses
from hoarfrost.sql.ctas_columns import ctas_without_column_list
from hoarfrost.sql.duck_dialect import DUCKDB
from hoarfrost.sql.literals import Runs, collapse
from hoarfrost.sql.select_list import select_items, snowflake_name
from hoarfrost.sql.surface import check_surface
from hoarfrost.sql.table_parens import unwrap_table_parens
from hoarfrost.sql.tokens import Statement, tokenize
from hoarfrost.sql.transforms import TRANSFORMS
from hoarfrost.sql.transforms_ddl import if_not_exists_after_name, split_ddl
from hoarfrost.sql.unsupported import statement_name, unsupported_wording

__all__ = ["RunsLost", "StatementKind", "Translation", "dml_counts", "translate"]

# sqlglot logs a warning whenever it falls back to an opaque Command; we turn those into
# UnsupportedFeature errors ourselves, so its log lines would only be noise on a user's terminal.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

StatementKind = Literal["query", "insert", "update", "delete", "merge", "ddl", "other"]

INSERTED = "number of rows inserted"
UPDATED = "number of rows updated"
MULTI_JOINED = "number of multi-joined rows updated"
DELETED = "number of rows deleted"

# DuckDB's RETURNING merge_action values -> Snowflake's MERGE result columns.
_MERGE_ACTIONS = {"INSERT": INSERTED, "UPDATE": UPDATED, "DELETE": DELETED}


@dataclass(frozen=True)
class Translation:
    """What the engine runs for one Snowflake statement.

    ``statements`` run in order, in one transaction; the last one's result is the statement's.
    ``count_columns`` are the Snowflake result columns of a DML statement, filled by
    :func:`dml_counts` from the rows DuckDB returns. ``status`` is Snowflake's one-row message
    for DDL ("Table T successfully created.").
    """

    statements: tuple[str, ...]
    kind: StatementKind
    count_columns: tuple[str, ...] = ()
    status: str | None = None
    # the tables and views the statement reads, writes, creates or drops (privilege checks)
    accesses: tuple[Access, ...] = ()

    @property
    def sql(self) -> str:
        """The statement when there is exactly one (the usual case)."""
        if len(self.statements) != 1:
            raise ValueError("this translation has several statements; use .statements")
        return self.statements[0]


def translate(sql: str, runs: Runs | None = None) -> Translation:
    """Translate one Snowflake statement (no trailing ``;``) to DuckDB; raise only our errors.

    ``runs``: the long literal runs :func:`hoarfrost.sql.literals.collapse` cut out of ``sql``
    (the engine collapses before its own passes); without them a long statement is collapsed
    here. Either way the result is the whole statement's translation, or its error.
    """
    try:
        if runs is None and len(sql) >= _COLLAPSE_FROM:
            collapsed = collapse(Statement(sql, tokenize(sql)))
            if collapsed is not None:
                sql, runs = collapsed.statement.text, collapsed.runs
        if runs is not None:
            whole = runs.expand(sql)
            if whole is None:
                raise RunsLost
            short = _short(sql, runs)
            if short is not None:
                return short
            sql = whole
        return _translate(sql)
    except (Error, RunsLost):
        raise
    except (ParseError, TokenError) as e:
        raise _syntax_error(e, sql) from None
    except UnsupportedError as e:
        raise UnsupportedFeature(f"SQL compilation error:\n{unsupported_wording(e)}") from None
    except Exception as e:  # a gap in our transforms must not surface as a Python error
        raise UnsupportedFeature(
            f"SQL compilation error:\ncannot translate statement ({type(e).__name__})"
        ) from None


class RunsLost(Exception):
    """A rewrite before translation lost or copied a run's sentinel: translate the text as it
    was sent instead (the caller has it)."""


# Shorter texts cannot hold a run worth cutting (MIN_RUN literals and their commas).
_COLLAPSE_FROM = 512


def _short(sql: str, runs: Runs) -> Translation | None:
    """The translation of the short text with its runs restored, or None to translate the
    whole text (a transform moved a sentinel, or the short text fails: the whole text's own
    error, with its own positions, is the one to report)."""
    try:
        translation = _translate(sql)
    except (Error, SqlglotError):
        return None
    restored = runs.restore(translation.statements)
    return None if restored is None else replace(translation, statements=restored)


def dml_counts(translation: Translation, rows: Sequence[Sequence[Any]]) -> tuple[int, ...]:
    """The values of ``translation.count_columns`` from the rows DuckDB returned.

    INSERT/UPDATE/DELETE return one row holding the count; MERGE returns one row per affected
    row holding its ``merge_action``.
    """
    if translation.kind == "merge":
        actions = Counter(_MERGE_ACTIONS[row[0]] for row in rows)
        return tuple(actions[column] for column in translation.count_columns)
    count = int(rows[0][0]) if rows else 0
    return (count, 0) if translation.kind == "update" else (count,)


# --- pipeline --------------------------------------------------------------------------------


def _translate(sql: str) -> Translation:
    return _translate_whole(ctas_without_column_list(unwrap_table_parens(sql)))


def _translate_whole(sql: str) -> Translation:
    sql = if_not_exists_after_name(sql)
    tree = _parse(sql)
    check_surface(tree)  # nothing DuckDB-only that reaches the host
    _name_projections(tree, sql)  # before normalising: names come from the original text
    tree = normalize_identifiers(tree, dialect="snowflake")
    touched = accesses(tree)
    for transform in TRANSFORMS:
        tree = transform(tree)
    kind = _kind(tree)
    statements = tuple(_generate(part) for part in _split(tree))
    return Translation(
        statements=statements,
        kind=kind,
        count_columns=_count_columns(tree, kind),
        status=_status(tree) if kind == "ddl" else None,
        accesses=touched,
    )


def _parse(sql: str) -> exp.Expr:
    tree = sqlglot.parse_one(sql, read="snowflake")
    if isinstance(tree, exp.Block):
        raise SqlSyntaxError(
            "SQL compilation error:\nexpected one statement, got several or a scripting block"
        )
    if not _supported(tree):
        # Includes exp.Command: sqlglot keeps statements it does not understand as opaque text.
        raise UnsupportedFeature(
            f"SQL compilation error:\nunsupported statement '{statement_name(sql, tree)}'"
        )
    return tree


# Statements that are ordinary SQL for DuckDB; the rest (stages, COPY, CALL, CREATE DATABASE...)
# are the engine's own or not supported.
_ORDINARY = (
    exp.Query,
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.TruncateTable,
    exp.Comment,
)
_DDL_KINDS = {"TABLE", "VIEW", "SCHEMA", "SEQUENCE"}


def _supported(tree: exp.Expr) -> bool:
    if isinstance(tree, exp.Create | exp.Drop | exp.Alter):
        return str(tree.args.get("kind") or "").upper() in _DDL_KINDS
    return isinstance(tree, _ORDINARY)


def _generate(tree: exp.Expr) -> str:
    for identifier in tree.find_all(exp.Identifier):
        identifier.set("quoted", True)
    if isinstance(tree, exp.Merge):
        # DuckDB reports one total; Snowflake one count per action (see dml_counts).
        tree.set("returning", exp.Returning(expressions=[exp.column("merge_action")]))
    return tree.sql(dialect=DUCKDB, unsupported_level=ErrorLevel.RAISE)


def _syntax_error(error: ParseError | TokenError, sql: str) -> SqlSyntaxError:
    details = getattr(error, "errors", None) or []
    if not sql.strip():
        return SqlSyntaxError("SQL compilation error:\nEmpty SQL statement.", errno=900)
    if details and details[0].get("line") is not None:
        first = details[0]
        highlight = first.get("highlight") or ""
        position = max(int(first.get("col") or 0) - len(highlight), 0)
        unexpected = highlight or "<EOF>"
        line = first["line"]
    else:
        # Tokenizer errors (an unterminated string or quoted name) carry no position.
        line, position, unexpected = 1, 0, "<EOF>"
    return SqlSyntaxError(
        f"SQL compilation error:\nsyntax error line {line} at position {position} "
        f"unexpected '{unexpected}'."
    )


# --- statement kinds, counts and status ------------------------------------------------------

_KINDS: list[tuple[type[exp.Expr], StatementKind]] = [
    (exp.Query, "query"),
    (exp.Insert, "insert"),
    (exp.Update, "update"),
    (exp.Delete, "delete"),
    (exp.Merge, "merge"),
    (exp.Create, "ddl"),
    (exp.Drop, "ddl"),
    (exp.Alter, "ddl"),
]


def _kind(tree: exp.Expr) -> StatementKind:
    return next((kind for cls, kind in _KINDS if isinstance(tree, cls)), "other")


def _merge_columns(merge: exp.Expr) -> tuple[str, ...]:
    """Snowflake shows one column per kind of action the MERGE can take, in this order."""
    present = set()
    for when in merge.find_all(exp.When):
        then = when.args.get("then")
        if isinstance(then, exp.Insert):
            present.add(INSERTED)
        elif isinstance(then, exp.Update):
            present.add(UPDATED)
        elif then is not None and "DELETE" in then.sql().upper():
            present.add(DELETED)
    return tuple(c for c in (INSERTED, UPDATED, DELETED) if c in present)


def _count_columns(tree: exp.Expr, kind: StatementKind) -> tuple[str, ...]:
    fixed: dict[StatementKind, tuple[str, ...]] = {
        "insert": (INSERTED,),
        "update": (UPDATED, MULTI_JOINED),
        "delete": (DELETED,),
    }
    return _merge_columns(tree) if kind == "merge" else fixed.get(kind, ())


def _status(tree: exp.Expr) -> str:
    kind = str(tree.args.get("kind") or "").upper()
    target = (tree.args.get("tables") or [tree.this])[0]  # DROP keeps its names in ``tables``
    target = target.this if isinstance(target, exp.Schema) else target
    name = target.name if isinstance(target, exp.Expr) else ""
    if isinstance(tree, exp.Create) and kind in ("TABLE", "VIEW", "SEQUENCE"):
        return f"{kind.capitalize()} {name} successfully created."
    if isinstance(tree, exp.Drop) and name:
        return f"{name} successfully dropped."
    return "Statement executed successfully."


# --- statements that need several DuckDB statements ------------------------------------------


def _split_alter(tree: exp.Expr) -> list[exp.Expr] | None:
    """DuckDB's ALTER TABLE takes one action; Snowflake's ``ADD COLUMN a INT, b INT`` several."""
    actions = tree.args.get("actions") or []
    if not isinstance(tree, exp.Alter) or len(actions) < 2:
        return None
    parts: list[exp.Expr] = []
    for action in actions:
        part = tree.copy()
        part.set("actions", [action.copy()])
        parts.append(part)
    return parts


def _split_insert_overwrite(tree: exp.Expr) -> list[exp.Expr] | None:
    """INSERT OVERWRITE empties the table first; DuckDB has no such clause."""
    if not isinstance(tree, exp.Insert) or not tree.args.get("overwrite"):
        return None
    table = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    insert = tree.copy()
    insert.set("overwrite", None)
    return [exp.Delete(this=table.copy()), insert]


_SPLITTERS: list[Callable[[exp.Expr], list[exp.Expr] | None]] = [
    split_ddl,
    _split_alter,
    _split_insert_overwrite,
]


def _split(tree: exp.Expr) -> list[exp.Expr]:
    for splitter in _SPLITTERS:
        parts = splitter(tree)
        if parts is not None:
            return parts
    return [tree]


# --- result column names ---------------------------------------------------------------------


def _main_select(tree: exp.Expr) -> exp.Select | None:
    node: exp.Expr | None = tree
    while node is not None and not isinstance(node, exp.Select):
        if isinstance(node, exp.Create | exp.Subquery):
            node = node.expression if isinstance(node, exp.Create) else node.this
        elif isinstance(node, exp.SetOperation):
            node = node.this
        else:
            return None
    return node


def _name_projections(tree: exp.Expr, sql: str) -> None:
    """Alias expression columns of the outermost SELECT with the name Snowflake gives them."""
    select = _main_select(tree)
    if select is None:
        return
    tokens = sqlglot.Dialect.get_or_raise("snowflake").tokenize(sql)
    items = [tokens[a:b] for a, b in select_items(tokens)]
    if len(items) != len(select.expressions):
        return  # the text and the tree disagree (e.g. a nested set operation): keep DuckDB's
    for item, projection in zip(items, select.expressions, strict=True):
        if not isinstance(projection, exp.Alias | exp.Column | exp.Star):
            name = snowflake_name(sql, item)
            projection.replace(exp.alias_(projection.copy(), name, quoted=True))
