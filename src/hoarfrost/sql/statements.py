"""Parse one statement: hoarfrost's own statements into :mod:`hoarfrost.sql.ast` dataclasses,
anything else into :class:`~hoarfrost.sql.ast.Ordinary` for the translator.

The grammar follows SPEC.md sections 2-6 (and Snowflake's SHOW / DESCRIBE / USE forms).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot.tokens import TokenType

from hoarfrost.errors import SqlSyntaxError, UnsupportedFeature
from hoarfrost.sql.ast import (
    Alter,
    AnonymousProcedure,
    Call,
    Create,
    Describe,
    Drop,
    Explain,
    Grant,
    Ident,
    Name,
    Ordinary,
    Parsed,
    Show,
    Str,
    Use,
    Value,
)
from hoarfrost.sql.copy_statements import COPY_HEADS, template_table
from hoarfrost.sql.identifiers import inline_identifiers
from hoarfrost.sql.names import parse_name
from hoarfrost.sql.parser import TokenCursor
from hoarfrost.sql.session_statements import HEADS as SESSION_HEADS
from hoarfrost.sql.stage_statements import STAGE_HEADS
from hoarfrost.sql.tag_statements import parse_create_tag, parse_tag_alter
from hoarfrost.sql.tokens import Statement

__all__ = ["parse"]

# Object kinds we own, by the words that name them (longest first where they share a word).
_KINDS: list[tuple[tuple[str, ...], str]] = [
    (("API", "INTEGRATION"), "INTEGRATION"),
    (("INTEGRATION",), "INTEGRATION"),
    (("ARTIFACT", "REPOSITORY"), "ARTIFACT REPOSITORY"),
    (("PACKAGES", "POLICY"), "PACKAGES POLICY"),
    (("SECRET",), "SECRET"),
    (("FUNCTION",), "FUNCTION"),
    (("PROCEDURE",), "PROCEDURE"),
    (("DATABASE",), "DATABASE"),
    (("SCHEMA",), "SCHEMA"),
    (("ROLE",), "ROLE"),
    (("USER",), "USER"),
    (("STAGE",), "STAGE"),
    (("TAG",), "TAG"),
    (("FILE FORMAT",), "FILE FORMAT"),
    (("FILE", "FORMAT"), "FILE FORMAT"),
]
# Kinds named only by DESCRIBE / SHOW (their DDL is ordinary SQL).
_DESCRIBE_ONLY: list[tuple[tuple[str, ...], str]] = [
    (("TABLE",), "TABLE"),
    (("VIEW",), "VIEW"),
]
_PLURALS: list[tuple[tuple[str, ...], str]] = [
    (("SECRETS",), "SECRET"),
    (("API", "INTEGRATIONS"), "INTEGRATION"),
    (("INTEGRATIONS",), "INTEGRATION"),
    (("ARTIFACT", "REPOSITORIES"), "ARTIFACT REPOSITORY"),
    (("PACKAGES", "POLICIES"), "PACKAGES POLICY"),
    (("DATABASES",), "DATABASE"),
    (("SCHEMAS",), "SCHEMA"),
    (("TABLES",), "TABLE"),
    (("VIEWS",), "VIEW"),
    (("OBJECTS",), "OBJECT"),
    (("USER", "FUNCTIONS"), "FUNCTION"),
    (("FUNCTIONS",), "FUNCTION"),
    (("USER", "PROCEDURES"), "PROCEDURE"),
    (("PROCEDURES",), "PROCEDURE"),
    (("PARAMETERS",), "PARAMETER"),
    (("PYTHON", "RUNTIMES"), "PYTHON RUNTIME"),
    (("ROLES",), "ROLE"),
    (("USERS",), "USER"),
    (("GRANTS",), "GRANT"),
    (("COLUMNS",), "COLUMN"),
    (("VARIABLES",), "VARIABLE"),
    (("STAGES",), "STAGE"),
    (("TAGS",), "TAG"),
    (("FILE", "FORMATS"), "FILE FORMAT"),
    (("PRIMARY", "KEYS"), "PRIMARY KEY"),
    (("UNIQUE", "KEYS"), "UNIQUE KEY"),
    (("IMPORTED", "KEYS"), "IMPORTED KEY"),
    (("WAREHOUSES",), "WAREHOUSE"),
    (("SEQUENCES",), "SEQUENCE"),
    (("TRANSACTIONS",), "TRANSACTION"),
]
# SPEC.md section 7: contexts that cannot use customer-hosted repositories.
_UNSUPPORTED_KINDS = {
    "NOTEBOOK": "Snowflake Notebooks",
    "STREAMLIT": "Streamlit",
    "APPLICATION": "Snowflake Native Apps",
    "SERVICE": "Snowpark Container Services",
}
_TEMP_WORDS = (("SCOPED", "TEMPORARY"), ("LOCAL", "TEMPORARY"), ("TEMPORARY",), ("TEMP",))
_FUNCTION_KINDS = ("FUNCTION", "PROCEDURE")
_CLONABLE = ("SCHEMA", "DATABASE")  # CREATE SCHEMA s CLONE src (tables: ordinary SQL)


def parse(statement: Statement) -> Parsed:
    statement = inline_identifiers(statement)
    cur = TokenCursor(statement)
    head = cur.word()
    parser = _HEADS.get(head or "")
    if parser is None:
        return _ordinary(statement)
    return parser(cur)


def _ordinary(statement: Statement) -> Parsed:
    cur = TokenCursor(statement)
    if cur.at("WITH") and _has_anonymous_procedure(cur):
        return _anonymous_procedure(cur)
    return Ordinary(statement)


# SPEC.md section 7: an anonymous procedure cannot name a customer-hosted repository (its
# PACKAGES come from the account's default repository, as a dbt Python model's do).
_NOT_IN_ANONYMOUS = ("ARTIFACT_REPOSITORY", "ARTIFACT_REPOSITORY_PACKAGES")


def _anonymous_procedure(cur: TokenCursor) -> Parsed:
    cur.expect("WITH")
    name = cur.name()
    cur.expect("AS")
    cur.expect("PROCEDURE")
    create = Create("PROCEDURE", name, {}, temporary=True)
    _function_rest(cur, create, then_end=False)
    named = [key for key in _NOT_IN_ANONYMOUS if key in create.props]
    if named:
        raise UnsupportedFeature(
            f"Anonymous procedures (WITH ... AS PROCEDURE) cannot use customer-hosted artifact "
            f"repositories ({named[0]}); list the packages in PACKAGES to take them from the "
            "account's default Python artifact repository, or create the procedure with "
            "CREATE PROCEDURE."
        )
    if not cur.at("CALL"):
        cur.fail(f"expected CALL {name.last}(...) after the anonymous procedure's body")
    call = _call(cur)
    assert isinstance(call, Call)
    if call.name.last != name.last or len(call.name.parts) != 1:
        raise SqlSyntaxError(
            f"SQL compilation error:\nthe statement must call the anonymous procedure "
            f"{name.last} it defines, not {call.name}."
        )
    return AnonymousProcedure(create, call)


def _has_anonymous_procedure(cur: TokenCursor) -> bool:
    return any(
        cur.word(k) == "AS" and cur.word(k + 1) == "PROCEDURE" for k in range(len(cur.tokens))
    )


def _kind(cur: TokenCursor, table: list[tuple[tuple[str, ...], str]]) -> str | None:
    for words, kind in table:
        if cur.accept(*words):
            return kind
    return None


def _unsupported_kind(cur: TokenCursor) -> None:
    word = cur.word() or ""
    if word in _UNSUPPORTED_KINDS:
        raise UnsupportedFeature(
            f"{_UNSUPPORTED_KINDS[word]} ({word}) objects are not supported by hoarfrost, and "
            "customer-hosted artifact repositories cannot be used from them; use Python "
            "functions and procedures instead."
        )


# --- CREATE ------------------------------------------------------------------------------
def _create(cur: TokenCursor) -> Parsed:
    cur.expect("CREATE")
    or_replace = cur.accept("OR", "REPLACE")
    temporary = any(cur.accept(*w) for w in _TEMP_WORDS)
    secure = cur.accept("SECURE")
    cur.accept("TRANSIENT")
    aggregate = cur.at("AGGREGATE", "FUNCTION") and cur.accept("AGGREGATE")
    _unsupported_kind(cur)
    kind = _kind(cur, _KINDS)
    if kind is None:
        return template_table(cur.statement) or _ordinary(cur.statement)
    if_not_exists = cur.accept("IF", "NOT", "EXISTS")
    if or_replace and if_not_exists:
        raise SqlSyntaxError(
            "SQL compilation error:\nOR REPLACE and IF NOT EXISTS cannot be used together; "
            "remove one of them."
        )
    name = cur.name()
    node = Create(kind, name, {}, or_replace, if_not_exists, temporary, secure)
    if kind == "TAG":
        return parse_create_tag(cur, node)
    if aggregate:
        node.flags["AGGREGATE"] = "TRUE"  # a Python UDAF (accumulate / merge / finish)
    if kind in _FUNCTION_KINDS:
        _function_rest(cur, node)
    else:
        clone = Ident(cur.name()) if kind in _CLONABLE and cur.accept("CLONE") else None
        node.props = _props_with_commas(cur)
        if clone is not None:
            node.props["CLONE"] = clone
    return node


def _function_rest(cur: TokenCursor, node: Create, then_end: bool = True) -> None:
    node.args = cur.args()
    cur.expect("RETURNS")
    if cur.accept("TABLE"):
        node.returns_table = cur.args() if cur.at_type(TokenType.L_PAREN) else []
    else:
        node.returns = cur.type_text()
    if cur.accept("NOT", "NULL"):
        node.returns_not_null = True
    else:
        cur.accept("NULL")
    while not cur.at_end:
        if cur.accept("AS"):
            node.body = cur.string("the function body: a string or $$ ... $$")
            if then_end:
                cur.end()
            return
        if not _function_flag(cur, node.flags):
            key = cur.identifier()
            if key in node.props:
                raise SqlSyntaxError(
                    f"SQL compilation error:\nproperty '{key}' is specified more than once."
                )
            cur.expect_type(TokenType.EQ, f"= after {key}")
            node.props[key] = _named(key, cur.value())


_FLAG_WORDS: list[tuple[tuple[str, ...], str, str]] = [
    (("LANGUAGE",), "LANGUAGE", ""),
    (("CALLED", "ON", "NULL", "INPUT"), "NULL_HANDLING", "CALLED ON NULL INPUT"),
    (("RETURNS", "NULL", "ON", "NULL", "INPUT"), "NULL_HANDLING", "RETURNS NULL ON NULL INPUT"),
    (("STRICT",), "NULL_HANDLING", "RETURNS NULL ON NULL INPUT"),
    (("VOLATILE",), "VOLATILITY", "VOLATILE"),
    (("IMMUTABLE",), "VOLATILITY", "IMMUTABLE"),
    (("EXECUTE", "AS", "OWNER"), "EXECUTE_AS", "OWNER"),
    (("EXECUTE", "AS", "CALLER"), "EXECUTE_AS", "CALLER"),
    (("EXECUTE", "AS", "RESTRICTED", "CALLER"), "EXECUTE_AS", "RESTRICTED CALLER"),
    (("COPY", "GRANTS"), "COPY_GRANTS", "TRUE"),
]


def _function_flag(cur: TokenCursor, flags: dict[str, str]) -> bool:
    for words, key, value in _FLAG_WORDS:
        if cur.at(*words) and not (key == "LANGUAGE" and cur.word(1) is None):
            cur.accept(*words)
            flags[key] = cur.identifier() if key == "LANGUAGE" else value
            return True
    return False


def _props_with_commas(cur: TokenCursor) -> dict:
    props: dict = {}
    while not cur.at_end:
        more = cur.properties(stop=())
        dup = set(more) & set(props)
        if dup:
            raise SqlSyntaxError(
                f"SQL compilation error:\nproperty '{sorted(dup)[0]}' is specified more than once."
            )
        props.update({key: _named(key, value) for key, value in more.items()})
        if not cur.accept_type(TokenType.COMMA):
            break
    cur.end()
    return props


# --- ALTER -------------------------------------------------------------------------------
def _alter(cur: TokenCursor) -> Parsed:
    cur.expect("ALTER")
    tags = parse_tag_alter(cur)
    if tags is not None:
        return tags
    if cur.accept("ACCOUNT"):
        return _alter_set_unset(cur, Alter("ACCOUNT", None))
    if cur.accept("SESSION"):
        return _alter_set_unset(cur, Alter("SESSION", None))
    kind = _kind(cur, _KINDS)
    if kind is None:
        return _ordinary(cur.statement)
    if_exists = cur.accept("IF", "EXISTS")
    name = cur.name()
    node = Alter(kind, name, if_exists)
    if kind in _FUNCTION_KINDS and cur.at_type(TokenType.L_PAREN):
        cur.type_list()
    if cur.accept("RENAME", "TO"):
        node.rename_to = cur.name()
        cur.end()
        return node
    return _alter_set_unset(cur, node)


def _alter_set_unset(cur: TokenCursor, node: Alter) -> Alter:
    if cur.accept("SET"):
        if cur.accept("PACKAGES", "POLICY"):
            node.set["PACKAGES POLICY"] = _ident_value(cur)
            node.force = cur.accept("FORCE")
            cur.end()
            return node
        node.set = _props_with_commas(cur)
        if not node.set:
            cur.fail("expected a property to SET")
        return node
    if cur.accept("UNSET"):
        node.unset = cur.word_list()
        cur.end()
        return node
    cur.fail("expected SET, UNSET or RENAME TO")
    return node


def _ident_value(cur: TokenCursor) -> Ident:
    return Ident(cur.name())


# Properties whose value names an object. A quoted name there (`ARTIFACT_REPOSITORY =
# 'db.s.repo'`) is parsed here, once, so that handlers always receive a Name.
_NAME_VALUED = {
    "ARTIFACT_REPOSITORY",
    "DEFAULT_PYTHON_ARTIFACT_REPOSITORY",
    "API_INTEGRATION",
    "AUTHENTICATION_SECRET",
}


def _named(key: str, value: Value) -> Value:
    if key in _NAME_VALUED and isinstance(value, Str) and value.value.strip():
        return Ident(parse_name(value.value))
    return value


# --- DROP / DESCRIBE / SHOW / USE / CALL / GRANT ----------------------------------------
def _drop(cur: TokenCursor) -> Parsed:
    cur.expect("DROP")
    kind = _kind(cur, _KINDS)
    if kind is None:
        return _ordinary(cur.statement)
    if_exists = cur.accept("IF", "EXISTS")
    name = cur.name()
    arg_types = cur.type_list() if cur.at_type(TokenType.L_PAREN) else None
    if kind in _FUNCTION_KINDS and arg_types is None:
        cur.fail(f"expected the argument types of the {kind.lower()}, e.g. DROP {kind} f(NUMBER)")
    cascade = cur.accept("CASCADE")
    cur.accept("RESTRICT")
    cur.end()
    return Drop(kind, name, if_exists, arg_types, cascade)


def _describe(cur: TokenCursor) -> Parsed:
    cur.next()  # DESC | DESCRIBE
    kind = _kind(cur, _KINDS) or _kind(cur, _DESCRIBE_ONLY) or "TABLE"
    if kind == "TABLE" and cur.at("RESULT"):
        raise UnsupportedFeature("DESCRIBE RESULT is not supported.")
    name = cur.name()
    arg_types = cur.type_list() if cur.at_type(TokenType.L_PAREN) else None
    cur.accept("TYPE", "=", "COLUMNS")
    return Describe(kind, name, arg_types)


def _show(cur: TokenCursor) -> Parsed:
    cur.expect("SHOW")
    terse = cur.accept("TERSE")
    kind = _kind(cur, _PLURALS)
    if kind is None:
        cur.fail("expected what to SHOW (e.g. SECRETS, INTEGRATIONS, ARTIFACT REPOSITORIES)")
    assert kind is not None
    node = Show(kind, terse=terse)
    if kind == "GRANT":
        return _show_grants(cur, node)
    if cur.accept("LIKE"):
        node.like = cur.string("a LIKE pattern")
    if cur.accept("IN") or cur.accept("ON"):
        _show_in(cur, node)
    if cur.accept("STARTS", "WITH"):
        node.starts_with = cur.string("a STARTS WITH prefix")
    if cur.accept("LIMIT"):
        node.limit = int(cur.expect_type(TokenType.NUMBER, "a row count").text)
        if cur.accept("FROM"):
            node.limit_from = cur.string("a name to start from")
    cur.end()
    return node


def _show_grants(cur: TokenCursor, node: Show) -> Show:
    if cur.accept("TO"):
        for word in ("ROLE", "USER"):
            if cur.accept(word):
                node.in_kind, node.in_name = f"TO {word}", Name((cur.identifier(),))
                break
        else:
            cur.fail("expected ROLE or USER after SHOW GRANTS TO")
    elif cur.accept("OF"):
        cur.expect("ROLE")
        node.in_kind, node.in_name = "OF ROLE", Name((cur.identifier(),))
    elif cur.accept("ON"):
        kind, name, arg_types = _grant_target(cur)
        node.in_kind, node.in_name = f"ON {kind}", name
        node.arg_types = arg_types
    cur.end()
    return node


def _show_in(cur: TokenCursor, node: Show) -> None:
    for word in ("ACCOUNT", "SESSION", "DATABASE", "SCHEMA", "TABLE", "VIEW", "FUNCTION"):
        if cur.accept(word):
            node.in_kind = word
            if word not in ("ACCOUNT", "SESSION") and not cur.at_end:
                node.in_name = cur.name()
            return
    node.in_kind = "SCHEMA_OR_DATABASE"
    node.in_name = cur.name()


def _use(cur: TokenCursor) -> Parsed:
    cur.expect("USE")
    for word in ("DATABASE", "SCHEMA", "ROLE", "WAREHOUSE"):
        if cur.accept(word):
            node = Use(word, cur.name())
            cur.end()
            return node
    if cur.accept("SECONDARY", "ROLES"):
        return Use("SECONDARY ROLES", Name((cur.identifier(),)))
    name = cur.name()
    cur.end()
    return Use("SCHEMA" if len(name.parts) == 2 else "DATABASE", name)


def _call(cur: TokenCursor) -> Parsed:
    cur.expect("CALL")
    name = cur.name()
    cur.expect_type(TokenType.L_PAREN, "(")
    args = cur.call_args()
    cur.expect_type(TokenType.R_PAREN, ")")
    cur.end()
    return Call(name, args)


def _grant(cur: TokenCursor) -> Parsed:
    revoke = cur.word() == "REVOKE"
    cur.next()
    to = "FROM" if revoke else "TO"
    if cur.accept("ROLE"):
        role = cur.identifier()
        cur.expect(to)
        grantee_kind = "USER" if cur.accept("USER") else "ROLE"
        if grantee_kind == "ROLE":
            cur.accept("ROLE")
        grantee = cur.identifier()
        cur.end()
        return Grant(["ROLE"], "ROLE", Name((role,)), grantee, revoke, grantee_kind)
    if revoke:
        cur.accept("GRANT", "OPTION", "FOR")
    privileges = [_privilege(cur)]
    while cur.accept_type(TokenType.COMMA):
        privileges.append(_privilege(cur))
    cur.expect("ON")
    node = Grant(privileges, "", None, "", revoke)
    bulk = "ALL" if cur.accept("ALL") else "FUTURE" if cur.accept("FUTURE") else ""
    if bulk:
        kind = _kind(cur, _PLURALS)
        if kind is None:
            cur.fail(f"expected the kind of objects after ON {bulk}, e.g. TABLES")
        cur.expect("IN")
        container = "DATABASE" if cur.accept("DATABASE") else "SCHEMA"
        if container == "SCHEMA":
            cur.expect("SCHEMA")
        node.bulk, node.on_kind, node.container_kind = bulk, kind or "", container
        node.on_name = cur.name()
    else:
        node.on_kind, node.on_name, node.arg_types = _grant_target(cur)
    cur.expect(to)
    node.grantee_kind = "USER" if cur.accept("USER") else "ROLE"
    if node.grantee_kind == "ROLE":
        cur.accept("ROLE")
    node.role = cur.identifier()
    while not cur.at_end:
        if cur.accept("WITH", "GRANT", "OPTION"):
            node.grant_option = True
        elif cur.accept("COPY", "CURRENT", "GRANTS"):
            node.copy_current_grants = True
        elif not any(
            cur.accept(*w) for w in (("REVOKE", "CURRENT", "GRANTS"), ("CASCADE",), ("RESTRICT",))
        ):
            cur.fail("expected the end of the statement")
    return node


def _privilege(cur: TokenCursor) -> str:
    words = [cur.identifier()]
    while cur.word() not in (None, "ON") and not cur.at_type(TokenType.COMMA):
        words.append(cur.identifier())
    return " ".join(words)


def _grant_target(cur: TokenCursor) -> tuple[str, Name | None, list[str] | None]:
    if cur.accept("ACCOUNT"):
        return "ACCOUNT", None, None
    kind = _kind(cur, _KINDS) or _kind(cur, _DESCRIBE_ONLY)
    if kind is None:
        cur.fail("expected the kind of object to grant on")
    assert kind is not None
    name = cur.name()
    arg_types = cur.type_list() if cur.at_type(TokenType.L_PAREN) else None
    return kind, name, arg_types


def _explain(cur: TokenCursor) -> Parsed:
    cur.expect("EXPLAIN")
    form = "TABULAR"
    if cur.accept("USING"):
        form = cur.identifier().upper()
        if form not in ("TEXT", "JSON", "TABULAR"):
            raise SqlSyntaxError(
                f"SQL compilation error:\nEXPLAIN USING {form}: use TEXT, JSON or TABULAR."
            )
    if cur.at_end:
        cur.fail("expected the statement to explain")
    statement = cur.statement
    first = cur.tokens[cur.i]
    rest = Statement(
        statement.text[first.start - statement.offset :], cur.tokens[cur.i :], first.start
    )
    return Explain(form, rest)


_HEADS: dict[str, Callable[[TokenCursor], Parsed]] = {
    "EXPLAIN": _explain,
    "CREATE": _create,
    "ALTER": _alter,
    "DROP": _drop,
    "DESC": _describe,
    "DESCRIBE": _describe,
    "SHOW": _show,
    "USE": _use,
    "CALL": _call,
    "GRANT": _grant,
    "REVOKE": _grant,
    **SESSION_HEADS,
    **STAGE_HEADS,
    **COPY_HEADS,
}
