"""COPY INTO <table> (load) and COPY INTO <location> (unload), and SELECTs over staged files.

Grammar (Snowflake's COPY INTO <table> and COPY INTO <location> pages)::

    COPY INTO <table> [( col, ... )]
        FROM { <location> | ( SELECT <expr>, ... FROM <location> [alias] ) }
        [FILES = ( '<file>', ... )] [PATTERN = '<regex>'] [FILE_FORMAT = ( ... )]
        [<copy option> = <value> ...] [VALIDATION_MODE = RETURN_n_ROWS | RETURN_ERRORS]
    COPY INTO <location> FROM { <table> | ( <query> ) } [PARTITION BY <expr>]
        [FILE_FORMAT = ( ... )] [HEADER = b] [SINGLE = b] [MAX_FILE_SIZE = n] [OVERWRITE = b]

Any other COPY (DuckDB's ``COPY ... TO 'file'``) is ordinary SQL, which the translator refuses.

A SELECT over staged files is rewritten token by token into SQL over a scan view the engine
creates: the location (``@st/path`` or ``'@st/path'``, with an optional ``(FILE_FORMAT => 'f',
PATTERN => '...')``) becomes the view, ``$n`` the view's column ``"$n"`` and ``$1:key`` (a
semi-structured row's field) the column ``"key"``.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot.tokens import Token, TokenType

from hoarfrost.sql.ast import (
    CopyInto,
    InferSchema,
    Ordinary,
    Parsed,
    StagedSelect,
    StageRef,
    TemplateTable,
    Unload,
)
from hoarfrost.sql.locations import parse_stage, read_stage
from hoarfrost.sql.parser import TokenCursor
from hoarfrost.sql.tokens import STRING_TYPES, Statement

__all__ = ["COPY_HEADS", "INFER_VIEW", "SCAN_VIEW", "staged_select", "template_table"]

SCAN_VIEW = "__HF_STAGE_SCAN"
INFER_VIEW = "__HF_INFER_SCHEMA"


def _copy(cur: TokenCursor) -> Parsed:
    cur.expect("COPY")
    if not cur.accept("INTO"):
        return Ordinary(cur.statement)
    if _at_location(cur):
        return _unload(cur)
    table = cur.name()
    columns = None
    if cur.accept_type(TokenType.L_PAREN):
        columns = [cur.identifier()]
        while cur.accept_type(TokenType.COMMA):
            columns.append(cur.identifier())
        cur.expect_type(TokenType.R_PAREN, ")")
    cur.expect("FROM")
    select = None
    if cur.at_type(TokenType.L_PAREN):
        start = cur.i + 1
        depth = 0
        while True:
            tok = cur.next()
            depth += tok.token_type == TokenType.L_PAREN
            depth -= tok.token_type == TokenType.R_PAREN
            if depth == 0:
                break
        select = staged_select(cur.statement, cur.tokens[start : cur.i - 1])
        stage = select.stage
    else:
        stage = read_stage(cur)
    options = cur.properties()
    cur.end()
    return CopyInto(table, columns, stage, select, options)


def _at_location(cur: TokenCursor) -> bool:
    tok = cur.peek()
    if tok is None:
        return False
    if tok.token_type in STRING_TYPES:
        return tok.text.startswith("@")
    return tok.token_type == TokenType.PARAMETER and tok.text == "@"


def _unload(cur: TokenCursor) -> Parsed:
    stage = read_stage(cur)
    cur.expect("FROM")
    if cur.at_type(TokenType.L_PAREN):
        cur.next()
        query = cur.text_until({TokenType.R_PAREN})
        cur.expect_type(TokenType.R_PAREN, ")")
    else:
        query = "SELECT * FROM " + str(cur.name())
    partition = None
    if cur.accept("PARTITION BY") or cur.accept("PARTITION", "BY"):
        partition = _until_option(cur)
    options = cur.properties()
    cur.end()
    return Unload(stage, query, partition, options)


def _until_option(cur: TokenCursor) -> str:
    """The text of an expression, up to the first ``KEY =`` option at depth 0."""
    first, depth = cur.i, 0
    while not cur.at_end:
        tok = cur.peek()
        assert tok is not None
        if depth == 0 and cur.word() is not None and cur.word(1) is None:
            nxt = cur.peek(1)
            if nxt is not None and nxt.token_type == TokenType.EQ:
                break
        depth += tok.token_type == TokenType.L_PAREN
        depth -= tok.token_type == TokenType.R_PAREN
        cur.next()
    if cur.i == first:
        cur.fail("expected the PARTITION BY expression")
    off = cur.statement.offset
    start, end = cur.tokens[first].start, cur.tokens[cur.i - 1].end + 1
    return cur.statement.text[start - off : end - off]


def staged_select(statement: Statement, tokens: list[Token]) -> StagedSelect:
    """Rewrite a SELECT's tokens over one staged location for the scan view."""
    text, offset = statement.text, statement.offset
    pieces: list[str] = []
    stage: StageRef | None = None
    options: dict[str, str] = {}
    pos = tokens[0].start if tokens else 0
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        replacement, used = _column_ref(tokens, i)
        if replacement is None and stage is None and _is_location(tokens, i):
            stage, used = _location(text, offset, tokens, i)
            replacement = SCAN_VIEW
            used += _alias_options(tokens, i + used, options)
        if replacement is not None:
            pieces.append(text[pos - offset : tok.start - offset])
            pieces.append(replacement)
            pos = tokens[i + used - 1].end + 1
            i += used
            continue
        i += 1
    if tokens:
        pieces.append(text[pos - offset : tokens[-1].end + 1 - offset])
    if stage is None:
        raise_no_stage(statement)
    assert stage is not None
    return StagedSelect("".join(pieces), stage, SCAN_VIEW, options)


def raise_no_stage(statement: Statement) -> None:
    from hoarfrost.errors import SqlSyntaxError

    raise SqlSyntaxError(
        "SQL compilation error:\nthe COPY transformation must select FROM a stage location "
        "(@stage/path)."
    )


def _adjacent(a: Token, b: Token) -> bool:
    return b.start == a.end + 1


def _column_ref(tokens: list[Token], i: int) -> tuple[str | None, int]:
    tok = tokens[i]
    if tok.token_type == TokenType.VAR and tok.text.upper().startswith("METADATA$"):
        return f'"{tok.text.upper()}"', 1
    if tok.token_type != TokenType.PARAMETER or tok.text != "$" or i + 1 >= len(tokens):
        return None, 0
    num = tokens[i + 1]
    if num.token_type != TokenType.NUMBER or not _adjacent(tok, num):
        return None, 0
    if (
        i + 3 < len(tokens)
        and tokens[i + 2].token_type == TokenType.COLON
        and tokens[i + 3].token_type in (TokenType.IDENTIFIER, TokenType.VAR, TokenType.STRING)
    ):
        key = tokens[i + 3].text
        return '"' + key.replace('"', '""') + '"', 4
    return f'"${num.text}"', 2


def _is_location(tokens: list[Token], i: int) -> bool:
    tok = tokens[i]
    if i == 0 or tokens[i - 1].token_type != TokenType.FROM:
        return False
    if tok.token_type in STRING_TYPES:
        return tok.text.startswith("@")
    return tok.token_type == TokenType.PARAMETER and tok.text == "@"


def _location(text: str, offset: int, tokens: list[Token], i: int) -> tuple[StageRef, int]:
    tok = tokens[i]
    if tok.token_type in STRING_TYPES:
        return parse_stage(tok.text), 1
    j = i
    while j + 1 < len(tokens) and _adjacent(tokens[j], tokens[j + 1]):
        if tokens[j + 1].token_type == TokenType.L_PAREN:
            break
        j += 1
    return parse_stage(text[tok.start - offset : tokens[j].end + 1 - offset]), j - i + 1


def _alias_options(tokens: list[Token], i: int, options: dict[str, str]) -> int:
    """``(FILE_FORMAT => 'f', PATTERN => '...')`` after a location: read, and count its tokens."""
    if i >= len(tokens) or tokens[i].token_type != TokenType.L_PAREN:
        return 0
    j = i + 1
    while j + 2 < len(tokens) and tokens[j + 1].token_type == TokenType.FARROW:
        options[tokens[j].text.upper()] = tokens[j + 2].text
        j += 3
        if tokens[j].token_type == TokenType.COMMA:
            j += 1
    if j < len(tokens) and tokens[j].token_type == TokenType.R_PAREN and options:
        return j - i + 1
    options.clear()
    return 0


# -- SELECT over staged files, INFER_SCHEMA, USING TEMPLATE ------------------------------------
def _select(cur: TokenCursor) -> Parsed:
    tokens = cur.tokens
    infer = _infer_schema(cur.statement, tokens)
    if infer is not None:
        return infer
    if any(_is_location(tokens, i) for i in range(len(tokens))):
        return staged_select(cur.statement, tokens)
    return Ordinary(cur.statement)


def _infer_schema(statement: Statement, tokens: list[Token]) -> InferSchema | None:
    """``TABLE(INFER_SCHEMA(name => 'value', ...))`` replaced by the inferred rows' view."""
    for i, tok in enumerate(tokens):
        if tok.text.upper() != "INFER_SCHEMA" or i + 1 >= len(tokens):
            continue
        start = i
        table_call = i >= 2 and tokens[i - 1].token_type == TokenType.L_PAREN
        if table_call and tokens[i - 2].text.upper() == "TABLE":
            start = i - 2
        args: dict[str, str] = {}
        j = i + 2
        while j + 2 < len(tokens) and tokens[j + 1].token_type == TokenType.FARROW:
            args[tokens[j].text.upper()] = tokens[j + 2].text
            j += 3
            if j < len(tokens) and tokens[j].token_type == TokenType.COMMA:
                j += 1
        if j >= len(tokens) or tokens[j].token_type != TokenType.R_PAREN:
            return None
        end = j if start == i else j + 1
        if end >= len(tokens) or tokens[end].token_type != TokenType.R_PAREN:
            return None
        off = statement.offset
        text = statement.text
        sql = text[: tokens[start].start - off] + INFER_VIEW + text[tokens[end].end + 1 - off :]
        return InferSchema(sql, INFER_VIEW, args)
    return None


def template_table(statement: Statement) -> Parsed | None:
    """CREATE [OR REPLACE] TABLE <name> USING TEMPLATE (...), or None for any other CREATE."""
    cur = TokenCursor(statement)
    cur.expect("CREATE")
    or_replace = cur.accept("OR", "REPLACE")
    if not cur.accept("TABLE"):
        return None
    name = cur.name()
    if not cur.accept("USING", "TEMPLATE"):
        return None
    infer = _infer_schema(statement, cur.tokens[cur.i :])
    if infer is None:
        cur.fail("USING TEMPLATE takes a query over TABLE(INFER_SCHEMA(...))")
    assert infer is not None
    return TemplateTable(name, or_replace, infer)


COPY_HEADS: dict[str, Callable[[TokenCursor], Parsed]] = {"COPY": _copy, "SELECT": _select}
