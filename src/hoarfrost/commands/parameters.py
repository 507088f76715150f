"""Parameters: ALTER ACCOUNT / DATABASE / SCHEMA / SESSION SET | UNSET, SHOW PARAMETERS and
SYSTEM$GET_DEFAULT_PYTHON_ARTIFACT_REPOSITORY (SPEC.md section 4, "Default repository").

Rows that other subsystems contribute to SHOW PARAMETERS (the edition, the worker isolation in
force) come from the session's registry.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping

from hoarfrost.catalog.lookup import find, like_to_glob, not_found
from hoarfrost.catalog.parameters import DEFAULT_REPO, PARAMS, effective_default_repository
from hoarfrost.catalog.privileges import require_account_admin, require_usage
from hoarfrost.catalog.props import value_text
from hoarfrost.commands.common import schema_exists
from hoarfrost.commands.policies import set_account_policy, unset_account_policy
from hoarfrost.commands.session_parameters import SESSION_PARAMETERS
from hoarfrost.engine.context import Context, Handler
from hoarfrost.engine.result import Result, rows_result, status_result
from hoarfrost.errors import InvalidValue
from hoarfrost.sql.arguments import name_argument
from hoarfrost.sql.ast import Alter, Ident, Name, Show, Value

__all__ = [
    "EDITION_ROWS",
    "HANDLERS",
    "alter_params",
    "apply_login_parameters",
    "default_repository",
    "session_parameter_values",
]

_SESSION_PARAMS = set(SESSION_PARAMETERS)


def _policy_name(value: Value) -> Name:
    assert isinstance(value, Ident)  # the parser reads SET PACKAGES POLICY <name>
    return value.name


def _value_text(value: Value) -> str:
    text = value_text(value)
    return text if text is not None else str(getattr(value, "value", value))


def _repo_value(session: Context, value: Value) -> str:
    if not isinstance(value, Ident):  # a quoted name was parsed by the statement parser
        raise InvalidValue(
            f"SQL compilation error:\ninvalid value for {DEFAULT_REPO}: expected an artifact "
            "repository name, e.g. db.schema.repo."
        )
    repo = find(session, "ARTIFACT REPOSITORY", value.name)
    require_usage(session, repo)
    return f"{repo.database}.{repo.schema}.{repo.name}"


def _target(session: Context, kind: str, name: Name | None) -> tuple[str, str]:
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


def alter_params(session: Context, node: Alter) -> Result:
    if node.kind == "SESSION":
        return _alter_session(session, node)
    scope, target = _target(session, node.kind, node.name)
    if scope == "ACCOUNT":
        if "PACKAGES POLICY" in node.set:
            return set_account_policy(
                session, _policy_name(node.set["PACKAGES POLICY"]), node.force
            )
        if "PACKAGES POLICY" in node.unset:
            unset_account_policy(session)
            return status_result("Statement executed successfully.")
        require_account_admin(session, "ALTER ACCOUNT")
    for key, value in node.set.items():
        param = PARAMS.get(key)
        if param is None or scope not in param.levels:
            raise _unknown(key, scope)
        session.catalog.set_param(scope, target, key, _repo_value(session, value))
    for key in node.unset:
        param = PARAMS.get(key)
        if param is None or scope not in param.levels:
            raise _unknown(key, scope)
        session.catalog.set_param(scope, target, key, None)
    return status_result("Statement executed successfully.")


def _alter_session(session: Context, node: Alter) -> Result:
    for key, value in node.set.items():
        if key not in _SESSION_PARAMS:
            raise InvalidValue(f"SQL compilation error:\ninvalid session parameter '{key}'.")
        session.parameters[key] = _value_text(value)
    for key in node.unset:
        session.parameters.pop(key, None)
    return status_result("Statement executed successfully.")


def apply_login_parameters(session: Context, values: Mapping[str, object]) -> None:
    """SESSION_PARAMETERS of a login request (the connector's ``autocommit=False`` arrives as
    AUTOCOMMIT there); unknown names are ignored, as clients send many."""
    for key, value in values.items():
        name = str(key).upper()
        if name in _SESSION_PARAMS and value is not None:
            text = str(value).upper() if isinstance(value, bool) else str(value)
            session.parameters[name] = text


def session_parameter_values(session: Context) -> dict[str, object]:
    """The session's parameters as a login or query answer lists them for the client."""
    values: dict[str, object] = {}
    for key, text in session.parameters.items():
        if key in _BOOLEAN_PARAMS:
            values[key] = text.upper() in ("TRUE", "1", "ON")
        else:
            values[key] = text
    return values


_BOOLEAN_PARAMS = {"AUTOCOMMIT", "USE_CACHED_RESULT", "CLIENT_SESSION_KEEP_ALIVE"}


def default_repository(
    session: Context, _py_version: str, level: str, name_text: str
) -> str | None:
    """SYSTEM$GET_DEFAULT_PYTHON_ARTIFACT_REPOSITORY(version, level, name)."""
    level = level.upper()
    if level not in ("SCHEMA", "DATABASE", "ACCOUNT"):
        raise InvalidValue(
            f"Invalid level '{level}' for SYSTEM$GET_DEFAULT_PYTHON_ARTIFACT_REPOSITORY; use "
            "'schema', 'database' or 'account'."
        )
    database, schema = session.database, session.schema
    if level == "SCHEMA" and name_text:
        parts = name_argument(name_text).parts
        database, schema = (parts[0], parts[1]) if len(parts) == 2 else (database, parts[-1])
    elif level == "DATABASE" and name_text:
        database = name_argument(name_text).last
    return effective_default_repository(session.catalog, database, schema, level)[0]


_SHOW_COLUMNS = ["key", "value", "default", "level", "description", "type"]
ParamRows = list[tuple[str, str, str, str, str, str]]


def show_parameters(session: Context, node: Show) -> Result:
    scope, target = _show_scope(session, node)
    rows = _session_rows(session) if scope == "SESSION" else _param_rows(session, scope, target)
    for extra in session.registry.parameter_rows:
        rows.extend(extra(session, scope))
    if node.like is not None:
        pattern = like_to_glob(node.like).upper()
        rows = [r for r in rows if fnmatch.fnmatchcase(r[0], pattern)]
    return rows_result(_SHOW_COLUMNS, rows)


def _session_rows(session: Context) -> ParamRows:
    """Every session parameter: its value, its default, and SESSION where the session set it."""
    rows: ParamRows = []
    for name, p in sorted(SESSION_PARAMETERS.items()):
        value = session.parameters.get(name)
        shown = p.default if value is None else value
        if p.type == "BOOLEAN":
            shown = shown.lower()
        rows.append(
            (name, shown, p.default, "" if value is None else "SESSION", p.description, p.type)
        )
    return rows


def _show_scope(session: Context, node: Show) -> tuple[str, str]:
    if node.in_kind in (None, "SESSION"):
        return ("SESSION", "") if node.in_kind == "SESSION" else ("ACCOUNT", "")
    if node.in_kind == "ACCOUNT":
        return "ACCOUNT", ""
    if node.in_kind == "DATABASE":
        return _target(session, "DATABASE", node.in_name or Name((session.need_database(),)))
    current = Name((session.need_database(), session.need_schema()))
    return _target(session, "SCHEMA", node.in_name or current)


def _param_rows(session: Context, scope: str, target: str) -> ParamRows:
    rows: ParamRows = []
    for param in PARAMS.values():
        if scope not in param.levels:
            continue
        db, schema = _db_schema(scope, target)
        value, level = effective_default_repository(session.catalog, db, schema, scope)
        rows.append((param.name, value or "", param.default, level, param.description, param.type))
    return rows


def _db_schema(scope: str, target: str) -> tuple[str | None, str | None]:
    if scope == "SCHEMA":
        db, schema = target.split(".", 1)
        return db, schema
    if scope == "DATABASE":
        return target, None
    return None, None


def _edition_rows(session: Context, scope: str) -> ParamRows:
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


EDITION_ROWS = _edition_rows


HANDLERS: dict[tuple[str, str], Handler] = {
    ("Alter", "ACCOUNT"): alter_params,
    ("Alter", "SESSION"): alter_params,
    ("Show", "PARAMETER"): show_parameters,
}
