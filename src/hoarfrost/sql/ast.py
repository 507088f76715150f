"""Plain dataclasses for hoarfrost's own statements (output of :mod:`hoarfrost.sql.statements`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlglot.tokens import Token

from hoarfrost.sql.tokens import Statement


@dataclass(frozen=True)
class Name:
    """A possibly qualified name; each part already follows Snowflake identifier rules."""

    parts: tuple[str, ...]

    @property
    def last(self) -> str:
        return self.parts[-1]

    def __str__(self) -> str:
        return ".".join(quote_ident(p) for p in self.parts)


def quote_ident(part: str) -> str:
    """Render an identifier the way Snowflake would show it back in SQL."""
    if _PLAIN.fullmatch(part):
        return part
    return '"' + part.replace('"', '""') + '"'


_PLAIN = re.compile(r"[A-Z_][A-Z0-9_$]*")


@dataclass(frozen=True)
class Str:
    value: str


@dataclass(frozen=True)
class Num:
    text: str


@dataclass(frozen=True)
class Bool:
    value: bool


@dataclass(frozen=True)
class Ident:
    name: Name


@dataclass(frozen=True)
class ListValue:
    items: tuple[Value, ...]


@dataclass(frozen=True)
class KeyValues:
    pairs: dict[str, Value]


Value = Str | Num | Bool | Ident | ListValue | KeyValues


@dataclass(frozen=True)
class Arg:
    name: str
    type: str
    default: str | None = None


@dataclass
class Create:
    kind: str
    name: Name
    props: dict[str, Value]
    or_replace: bool = False
    if_not_exists: bool = False
    temporary: bool = False
    secure: bool = False
    # FUNCTION / PROCEDURE only
    args: list[Arg] = field(default_factory=list)
    returns: str | None = None
    returns_table: list[Arg] | None = None
    returns_not_null: bool = False
    flags: dict[str, str] = field(default_factory=dict)
    body: str | None = None


@dataclass
class Alter:
    kind: str
    name: Name | None
    if_exists: bool = False
    set: dict[str, Value] = field(default_factory=dict)
    unset: list[str] = field(default_factory=list)
    force: bool = False
    rename_to: Name | None = None


@dataclass
class Drop:
    kind: str
    name: Name
    if_exists: bool = False
    arg_types: list[str] | None = None
    cascade: bool = False


@dataclass
class Show:
    kind: str
    like: str | None = None
    in_kind: str | None = None  # ACCOUNT | DATABASE | SCHEMA | TABLE; for GRANTS: TO ROLE,
    in_name: Name | None = None  # TO USER, OF ROLE, ON ACCOUNT, ON <kind>
    terse: bool = False
    arg_types: list[str] | None = None  # SHOW GRANTS ON FUNCTION f(NUMBER)
    starts_with: str | None = None
    limit: int | None = None
    limit_from: str | None = None


@dataclass
class Describe:
    kind: str
    name: Name
    arg_types: list[str] | None = None


@dataclass
class Use:
    kind: str  # DATABASE | SCHEMA | ROLE | WAREHOUSE | SECONDARY ROLES
    name: Name


@dataclass
class Grant:
    """GRANT / REVOKE. ``GRANT ROLE r TO USER u`` has ``on_kind`` ROLE and ``on_name`` r;
    ``ON ALL | FUTURE <kind>s IN SCHEMA | DATABASE n`` has ``bulk`` ALL or FUTURE, ``on_kind``
    the kind, ``on_name`` the container and ``container_kind`` SCHEMA or DATABASE."""

    privileges: list[str]
    on_kind: str
    on_name: Name | None
    role: str  # the grantee's name
    revoke: bool = False
    grantee_kind: str = "ROLE"  # ROLE | USER
    bulk: str = ""  # "" | ALL | FUTURE
    container_kind: str = ""
    copy_current_grants: bool = False
    grant_option: bool = False
    arg_types: list[str] | None = None  # ON FUNCTION f(NUMBER): the overload


@dataclass(frozen=True)
class CallArg:
    """One argument of CALL: ``value`` or ``name => value``, as text and as its tokens."""

    name: str | None
    sql: str
    tokens: tuple[Token, ...] = field(repr=False, compare=False)


@dataclass
class Call:
    name: Name
    args: list[CallArg] = field(default_factory=list)


@dataclass
class SetTags:
    """``ALTER <kind> name SET TAG t = 'v', ... | UNSET TAG t, ...``."""

    kind: str
    name: Name
    if_exists: bool = False
    set: list[tuple[Name, str]] = field(default_factory=list)
    unset: list[Name] = field(default_factory=list)


@dataclass
class Explain:
    """``EXPLAIN [USING TEXT | JSON | TABULAR] <query>``."""

    format: str  # TEXT | JSON | TABULAR
    statement: Statement


@dataclass
class AnonymousProcedure:
    """``WITH p AS PROCEDURE (...) RETURNS ... AS $$...$$ CALL p(...)``: a procedure that lives
    for one statement (``create`` is its temporary definition, ``call`` the call)."""

    create: Create
    call: Call


@dataclass
class Ordinary:
    """Anything else: handed to the Snowflake -> DuckDB translator, tokens and all."""

    statement: Statement
    # Values of the statement's ``?`` placeholders, bound by DuckDB (client-side binding).
    params: tuple[Any, ...] = ()

    @property
    def sql(self) -> str:
        return self.statement.text


@dataclass
class Transaction:
    """BEGIN [TRANSACTION | WORK] / START TRANSACTION / COMMIT [WORK] / ROLLBACK [WORK]."""

    kind: str  # BEGIN | COMMIT | ROLLBACK
    name: str | None = None


@dataclass
class Variables:
    """SET v = expr, SET (a, b) = (e1, e2), UNSET v, UNSET (a, b): session variables.

    ``values`` hold each expression's SQL text (evaluated by the handler as a query)."""

    kind: str  # SET | UNSET
    names: list[str]
    values: list[str] = field(default_factory=list)


SessionStatement = Transaction | Variables


@dataclass(frozen=True)
class StageRef:
    """A stage location: ``@name/path``, the user stage ``@~/path`` or a table stage
    ``@%t/path``. ``path`` is as written after the stage (no leading slash; a trailing one
    says "a folder")."""

    kind: str  # NAMED | USER | TABLE
    name: Name | None
    path: str = ""

    def __str__(self) -> str:
        head = {"USER": "~", "TABLE": "%"}.get(self.kind, "")
        name = str(self.name) if self.name is not None else ""
        return f"@{head}{name}" + (f"/{self.path}" if self.path else "")


@dataclass
class Put:
    """PUT file://<local> @stage[/path] [options]"""

    local: str
    stage: StageRef
    options: dict[str, Value] = field(default_factory=dict)


@dataclass
class Get:
    """GET @stage[/path] file://<local dir> [options]"""

    stage: StageRef
    local: str
    options: dict[str, Value] = field(default_factory=dict)


@dataclass
class ListFiles:
    """LIST / LS @stage[/path] [PATTERN = '...']"""

    stage: StageRef
    pattern: str | None = None


@dataclass
class RemoveFiles:
    """REMOVE / RM @stage[/path] [PATTERN = '...']"""

    stage: StageRef
    pattern: str | None = None


@dataclass
class StagedSelect:
    """A SELECT over staged files, rewritten for a scan view: the stage location became
    ``view``, ``$n`` became ``"$n"`` and ``$1:key`` became ``"key"``."""

    sql: str  # Snowflake SQL over the view
    stage: StageRef
    view: str
    alias_options: dict[str, str] = field(default_factory=dict)  # FILE_FORMAT =>, PATTERN =>


@dataclass
class InferSchema:
    """A SELECT over ``TABLE(INFER_SCHEMA(LOCATION => ..., FILE_FORMAT => ...))``: ``sql``
    reads the inferred columns from ``view``."""

    sql: str
    view: str
    args: dict[str, str] = field(default_factory=dict)


@dataclass
class TemplateTable:
    """CREATE [OR REPLACE] TABLE <name> USING TEMPLATE (... INFER_SCHEMA(...) ...)"""

    name: Name
    or_replace: bool
    infer: InferSchema


@dataclass
class CopyInto:
    """COPY INTO <table> [(cols)] FROM <location | (SELECT ... FROM <location>)> [options]"""

    table: Name
    columns: list[str] | None
    stage: StageRef
    select: StagedSelect | None
    options: dict[str, Value] = field(default_factory=dict)


@dataclass
class Unload:
    """COPY INTO <location> FROM <table | (query)> [PARTITION BY expr] [options]"""

    stage: StageRef
    query: str  # Snowflake SQL of the rows to write
    partition_by: str | None = None
    options: dict[str, Value] = field(default_factory=dict)


Parsed = (
    Create
    | Alter
    | Drop
    | Show
    | Describe
    | Use
    | Grant
    | Call
    | AnonymousProcedure
    | Explain
    | SetTags
    | Ordinary
    | SessionStatement
    | Put
    | Get
    | ListFiles
    | RemoveFiles
    | CopyInto
    | Unload
    | StagedSelect
    | InferSchema
    | TemplateTable
)
