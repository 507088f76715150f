"""Parameters: ALTER ACCOUNT / DATABASE / SCHEMA / SESSION SET|UNSET, SHOW PARAMETERS, and the
DEFAULT_PYTHON_ARTIFACT_REPOSITORY lookup (SPEC.md section 4, "Default repository").

Precedence of the default repository: the function's own clause > schema > database > account.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hoarfrost.catalog.objects import find, not_found, schema_exists
from hoarfrost.catalog.policies import set_account_policy, unset_account_policy
from hoarfrost.catalog.privileges import require_account_admin, require_usage
from hoarfrost.catalog.props import value_text
from hoarfrost.engine.result import Result, rows_result, status_result
from hoarfrost.errors import InvalidValue
from hoarfrost.sql.ast import Alter, Ident, Name, Show, Str, Value

if TYPE_CHECKING:
    from hoarfrost.engine.session import Session

__all__ = ["HANDLERS", "default_repository", "effective_default_repository"]

DEFAULT_REPO = "DEFAULT_PYTHON_ARTIFACT_REPOSITORY"


@dataclass(frozen=True)
class Param:
    name: str
    levels: frozenset[str]
    description: str
    type: str = "STRING"
    default: str = ""


PARAMS = {
    DEFAULT_REPO: Param(
        DEFAULT_REPO,
        frozenset({"ACCOUNT", "DATABASE", "SCHEMA"}),
        "Artifact repository used by new Python functions and procedures that list packages "
        "but name no ARTIFACT_REPOSITORY.",
    ),
}
_SESSION_PARAMS = {
    "TIMEZONE",
    "QUERY_TAG",
    "AUTOCOMMIT",
    "TIMESTAMP_OUTPUT_FORMAT",
    "DATE_OUTPUT_FORMAT",
    "USE_CACHED_RESULT",
    "STATEMENT_TIMEOUT_IN_SECONDS",
    "ROWS_PER_RESULTSET",
    "CLIENT_SESSION_KEEP_ALIVE",
    "QUOTED_IDENTIFIERS_IGNORE_CASE",
    "PYTHON_CONNECTOR_QUERY_RESULT_FORMAT",
    "JDBC_QUERY_RESULT_FORMAT",
    "MULTI_STATEMENT_COUNT",
    "BINARY_OUTPUT_FORMAT",
    "WEEK_START",
}


def _value_text(value: Value) -> str:
    text = value_text(value)
    return text if text is not None else str(getattr(value, "value", value))


def _repo_value(session: Session, value: Value) -> str:
    name = value.name if isinstance(value, Ident) else None
    if name is None and isinstance(value, Str):
        from hoarfrost.sql.names import parse_name

        name = parse_name(value.value)
    if name is None:
        raise InvalidValue(
            f"SQL compilation error:\ninvalid value for {DEFAULT_REPO}: expected an artifact "
            "repository name, e.g. db.schema.repo."
        )
    repo = find(session, "ARTIFACT REPOSITORY", name)
    require_usage(session, repo)
    return f"{repo.database}.{repo.schema}.{repo.name}"


def _target(session: Session, kind: str, name: Name | None) -> tuple[str, str]:
    """(scope, target) of ACCOUNT, DATABASE <db> or SCHEMA [<db>.]<schema>; it must exist."""
    if kind == "ACCOUNT":
        return "ACCOUNT", ""
    assert name is not None
    if kind == "DATABASE":
        if name.last not in session.engine.attached():
            raise not_found(name.last)
        return "DATABASE", name.last
    db, schema, _ = session.qualify(Name((*name.parts, "_")))
    if not schema_exists(session, db, schema):
        raise not_found(f"{db}.{schema}")
    return "SCHEMA", f"{db}.{schema}"


def _unknown(key: str, scope: str) -> InvalidValue:
    return InvalidValue(
        f"SQL compilation error:\ninvalid parameter '{key}' for ALTER {scope}; supported: "
        f"{', '.join(sorted(p for p, d in PARAMS.items() if scope in d.levels))}."
    )


def alter_params(session: Session, node: Alter) -> Result:
    if node.kind == "SESSION":
        return _alter_session(session, node)
    scope, target = _target(session, node.kind, node.name)
    if scope == "ACCOUNT":
        if "PACKAGES POLICY" in node.set:
            value = node.set["PACKAGES POLICY"]
            return set_account_policy(session, _value_text(value), node.force)
        if "PACKAGES POLICY" in node.unset:
            unset_account_policy(session)
            return status_result("Statement executed successfully.")
        require_account_admin(session, "ALTER ACCOUNT")
    for key, value in node.set.items():
        param = PARAMS.get(key)
        if param is None or scope not in param.levels:
            raise _unknown(key, scope)
        session.engine.catalog.set_param(scope, target, key, _repo_value(session, value))
    for key in node.unset:
        param = PARAMS.get(key)
        if param is None or scope not in param.levels:
            raise _unknown(key, scope)
        session.engine.catalog.set_param(scope, target, key, None)
    return status_result("Statement executed successfully.")


def _alter_session(session: Session, node: Alter) -> Result:
    for key, value in node.set.items():
        if key not in _SESSION_PARAMS:
            raise InvalidValue(f"SQL compilation error:\ninvalid session parameter '{key}'.")
        session.parameters[key] = _value_text(value)
    for key in node.unset:
        session.parameters.pop(key, None)
    return status_result("Statement executed successfully.")


def effective_default_repository(
    session: Session, database: str | None, schema: str | None, level: str = "SCHEMA"
) -> tuple[str | None, str]:
    """(value, level it came from) with schema > database > account precedence."""
    catalog = session.engine.catalog
    chain: list[tuple[str, str]] = []
    if level == "SCHEMA" and database and schema:
        chain.append(("SCHEMA", f"{database}.{schema}"))
    if level in ("SCHEMA", "DATABASE") and database:
        chain.append(("DATABASE", database))
    chain.append(("ACCOUNT", ""))
    for scope, target in chain:
        value = catalog.get_param(scope, target, DEFAULT_REPO)
        if value:
            return value, scope
    return None, ""


def default_repository(
    session: Session, _py_version: str, level: str, name_text: str
) -> str | None:
    """SYSTEM$GET_DEFAULT_PYTHON_ARTIFACT_REPOSITORY(version, level, name)."""
    from hoarfrost.sql.names import parse_name

    level = level.upper()
    if level not in ("SCHEMA", "DATABASE", "ACCOUNT"):
        raise InvalidValue(
            f"Invalid level '{level}' for SYSTEM$GET_DEFAULT_PYTHON_ARTIFACT_REPOSITORY; use "
            "'schema', 'database' or 'account'."
        )
    database, schema = session.database, session.schema
    if level == "SCHEMA" and name_text:
        parts = parse_name(name_text).parts
        database, schema = (parts[0], parts[1]) if len(parts) == 2 else (database, parts[-1])
    elif level == "DATABASE" and name_text:
        database = parse_name(name_text).last
    return effective_default_repository(session, database, schema, level)[0]


_SHOW_COLUMNS = ["key", "value", "default", "level", "description", "type"]
ParamRows = list[tuple[str, str, str, str, str, str]]


def show_parameters(session: Session, node: Show) -> Result:
    scope, target = _show_scope(session, node)
    rows: ParamRows = []
    if scope == "SESSION":
        rows = [(k, v, "", "SESSION", "", "STRING") for k, v in sorted(session.parameters.items())]
    else:
        rows = _param_rows(session, scope, target)
    for extra in _EXTRA_ROWS:
        rows.extend(extra(session, scope))
    if node.like is not None:
        import fnmatch

        from hoarfrost.catalog.objects import _like_to_glob

        pattern = _like_to_glob(node.like).upper()
        rows = [r for r in rows if fnmatch.fnmatchcase(r[0], pattern)]
    return rows_result(_SHOW_COLUMNS, rows)


def _show_scope(session: Session, node: Show) -> tuple[str, str]:
    if node.in_kind in (None, "SESSION"):
        return ("SESSION", "") if node.in_kind == "SESSION" else ("ACCOUNT", "")
    if node.in_kind == "ACCOUNT":
        return "ACCOUNT", ""
    if node.in_kind == "DATABASE":
        return _target(session, "DATABASE", node.in_name or Name((session._need_database(),)))
    current = Name((session._need_database(), session._need_schema()))
    return _target(session, "SCHEMA", node.in_name or current)


def _param_rows(session: Session, scope: str, target: str) -> ParamRows:
    rows: ParamRows = []
    for param in PARAMS.values():
        if scope not in param.levels:
            continue
        db, schema = _db_schema(scope, target)
        value, level = effective_default_repository(session, db, schema, scope)
        rows.append((param.name, value or "", param.default, level, param.description, param.type))
    return rows


def _db_schema(scope: str, target: str) -> tuple[str | None, str | None]:
    if scope == "SCHEMA":
        db, schema = target.split(".", 1)
        return db, schema
    if scope == "DATABASE":
        return target, None
    return None, None


def _edition_rows(session: Session, scope: str) -> ParamRows:
    if scope != "ACCOUNT":
        return []
    return [
        (
            "EDITION",
            session.engine.edition,
            "ENTERPRISE",
            "ACCOUNT",
            "Edition of the account (set by HOARFROST_EDITION when it was created).",
            "STRING",
        )
    ]


# Subsystems add rows to SHOW PARAMETERS IN ACCOUNT here (e.g. the worker isolation in force).
_EXTRA_ROWS: list[Callable[[Session, str], ParamRows]] = [_edition_rows]


HANDLERS: dict[tuple[str, str], Callable[..., Result]] = {
    ("Alter", "ACCOUNT"): alter_params,
    ("Alter", "SESSION"): alter_params,
    ("Show", "PARAMETER"): show_parameters,
}
