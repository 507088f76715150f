"""CREATE / DROP of Python FUNCTION and PROCEDURE (SPEC.md section 6).

CREATE validates everything before it writes anything: language and clauses, types (they must
map, :class:`SqlType`), the package list (both spellings), then resolves and builds the
environment through the governed gateway (frozen: the lock is stored with the routine), loads
the code once in a worker of that environment (the handler must exist), and only then writes
the catalog in one transaction, so a failed CREATE OR REPLACE leaves the old routine intact.
"""

from __future__ import annotations

from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from hoarfrost.catalog.privileges import require_ownership
from hoarfrost.catalog.props import value_text
from hoarfrost.catalog.relations import forget
from hoarfrost.catalog.routines import Routine, find_routine, parse_type, signature_of
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.commands.common import require_create, store_new
from hoarfrost.engine.context import Context, Handler
from hoarfrost.engine.resolution import Repository, packages_of
from hoarfrost.engine.result import Result, status_result
from hoarfrost.engine.stage_imports import snapshot_imports
from hoarfrost.engine.udf import udf_service
from hoarfrost.errors import (
    InvalidValue,
    ObjectAlreadyExists,
    PackageError,
    ProgrammingError,
    SqlSyntaxError,
    UnsupportedFeature,
)
from hoarfrost.packages.runtimes import parse_runtime_version
from hoarfrost.sql.ast import Create, Drop, Ident, KeyValues, ListValue, Name, Str, Value
from hoarfrost.workers.types import SqlType

__all__ = ["HANDLERS", "SNOWPARK", "invalidating"]

SNOWPARK = "snowflake-snowpark-python"
_KNOWN_PROPS = {
    "RUNTIME_VERSION",
    "PACKAGES",
    "ARTIFACT_REPOSITORY",
    "ARTIFACT_REPOSITORY_PACKAGES",
    "RESOURCE_CONSTRAINT",
    "HANDLER",
    "COMMENT",
    "IMPORTS",
}
_UNSUPPORTED_PROPS = {
    "TARGET_PATH": "TARGET_PATH is not supported: put the code in the AS clause or PUT it on "
    "a stage and name it in IMPORTS.",
    "EXTERNAL_ACCESS_INTEGRATIONS": "EXTERNAL_ACCESS_INTEGRATIONS is not supported: Python "
    "functions run without network access.",
    "SECRETS": "SECRETS is not supported: Python functions cannot read secrets.",
}


def _text(value: Value, prop: str) -> str:
    text = value_text(value)
    if text is not None:
        return text
    raise InvalidValue(f"SQL compilation error:\ninvalid value for property '{prop}'.")


def _string_list(value: Value, prop: str) -> list[str]:
    items = value.items if isinstance(value, ListValue) else (value,)
    out = []
    for item in items:
        if not isinstance(item, Str):
            raise InvalidValue(
                f"SQL compilation error:\n{prop} takes a list of quoted strings, e.g. "
                f"{prop} = ('numpy', 'pandas>=2')."
            )
        out.append(item.value.strip())
    return out


# -- the clauses of CREATE ---------------------------------------------------------------
def _check_clauses(node: Create) -> None:
    language = node.flags.get("LANGUAGE", "SQL").upper()
    if language != "PYTHON":
        raise UnsupportedFeature(
            f"LANGUAGE {language} is not supported by hoarfrost: only LANGUAGE PYTHON functions "
            "and procedures can be created."
        )
    for prop in node.props:
        if prop in _UNSUPPORTED_PROPS:
            raise UnsupportedFeature(_UNSUPPORTED_PROPS[prop])
        if prop not in _KNOWN_PROPS:
            raise SqlSyntaxError(
                f"SQL compilation error:\ninvalid property '{prop}' for "
                f"{node.kind.lower()}; expected one of {', '.join(sorted(_KNOWN_PROPS))}."
            )
    for required in ("RUNTIME_VERSION", "HANDLER"):
        if required not in node.props:
            raise ProgrammingError(
                f"SQL compilation error:\n{required} is required for a Python {node.kind.lower()}.",
                errno=1044,
                sqlstate="42601",
            )
    if (not node.body or not node.body.strip()) and "IMPORTS" not in node.props:
        raise ProgrammingError(
            f"SQL compilation error:\nA Python {node.kind.lower()} needs its code: AS $$ ... $$.",
            errno=1044,
            sqlstate="42601",
        )


def _package_specs(node: Create) -> list[str]:
    """PACKAGES and ARTIFACT_REPOSITORY_PACKAGES mean the same; both differently is an error."""
    lists = {
        p: _string_list(node.props[p], p)
        for p in ("PACKAGES", "ARTIFACT_REPOSITORY_PACKAGES")
        if p in node.props
    }
    if len(lists) == 2 and sorted(lists["PACKAGES"]) != sorted(
        lists["ARTIFACT_REPOSITORY_PACKAGES"]
    ):
        raise InvalidValue(
            "SQL compilation error:\nPACKAGES and ARTIFACT_REPOSITORY_PACKAGES list different "
            "packages; they are two spellings of one list. Give one of them."
        )
    return next(iter(lists.values()), [])


def _requirement_name(spec: str) -> str:
    try:
        return str(canonicalize_name(Requirement(spec).name))
    except InvalidRequirement:
        return str(canonicalize_name(spec.split("=")[0].split("<")[0].split(">")[0].strip()))


def _check_snowpark(node: Create, specs: list[str]) -> None:
    uses_repository = bool(specs) or "ARTIFACT_REPOSITORY" in node.props
    if node.kind != "PROCEDURE" or not uses_repository:
        return
    if not any(_requirement_name(s) == SNOWPARK for s in specs):
        clause = next(
            (k for k in ("ARTIFACT_REPOSITORY_PACKAGES", "PACKAGES") if k in node.props),
            "ARTIFACT_REPOSITORY_PACKAGES",
        )
        raise PackageError(
            f"Cannot create procedure {node.name.last}: a Python procedure runs with Snowpark, "
            f"so the artifact repository must host {SNOWPARK}; add '{SNOWPARK}' to {clause}"
        )


def _architecture(node: Create) -> str | None:
    value = node.props.get("RESOURCE_CONSTRAINT")
    if value is None:
        return None
    if not isinstance(value, KeyValues) or set(value.pairs) != {"ARCHITECTURE"}:
        raise InvalidValue(
            "SQL compilation error:\nRESOURCE_CONSTRAINT takes (architecture = 'x86')."
        )
    return _text(value.pairs["ARCHITECTURE"], "RESOURCE_CONSTRAINT")


def _repository(node: Create) -> Name | None:
    value = node.props.get("ARTIFACT_REPOSITORY")
    if value is None:
        return None
    if isinstance(value, Ident):  # a quoted name was parsed by the statement parser
        return value.name
    raise InvalidValue(
        f"SQL compilation error:\ninvalid object name '{_text(value, 'ARTIFACT_REPOSITORY')}'."
    )


def _declared(node: Create) -> dict[str, Any]:
    """The declaration part of the props, with every type checked."""
    for a in node.args:
        parse_type(a.type, f"argument {a.name}")
    props: dict[str, Any] = {
        "language": "PYTHON",
        "args": [[a.name, a.type, a.default] for a in node.args],
        "returns": None,
        "returns_table": None,
        "returns_not_null": node.returns_not_null,
    }
    if node.returns_table is not None:
        if node.kind == "FUNCTION" and not node.returns_table:
            raise InvalidValue("SQL compilation error:\nA table function must declare columns.")
        for c in node.returns_table:
            parse_type(c.type, f"column {c.name} of RETURNS TABLE")
        props["returns_table"] = [[c.name, c.type] for c in node.returns_table]
    else:
        assert node.returns is not None
        parse_type(node.returns, "RETURNS")
        props["returns"] = node.returns
    return props


# -- CREATE --------------------------------------------------------------------------------
def create_routine(session: Context, node: Create) -> Result:
    _check_clauses(node)
    db, schema, name = session.qualify(node.name)
    props = _declared(node)
    signature = signature_of([SqlType.parse(a.type) for a in node.args])
    existing = _existing(session, node.kind, db, schema, name, signature, node.temporary)
    if existing is not None and node.if_not_exists:
        return status_result(f"{name} already exists, statement succeeded.")
    if existing is not None and not node.or_replace:
        raise ObjectAlreadyExists(f"SQL compilation error:\nObject '{name}' already exists.")
    if not node.temporary:  # before resolving packages: a refusal costs nothing
        require_create(session, node.kind, db, schema)
    specs = _package_specs(node)
    _check_snowpark(node, specs)
    runtime = parse_runtime_version(_text(node.props["RUNTIME_VERSION"], "RUNTIME_VERSION"))
    architecture = _architecture(node)
    lock, repo = packages_of(session.engine).resolve(
        session, runtime, specs, _repository(node) if specs else None, architecture=architecture
    )
    props.update(
        runtime_version=runtime,
        handler=_text(node.props["HANDLER"], "HANDLER"),
        body=node.body or "",
        imports=snapshot_imports(session, _string_list(node.props["IMPORTS"], "IMPORTS"))
        if "IMPORTS" in node.props
        else [],
        packages=_string_list(node.props["PACKAGES"], "PACKAGES")
        if "PACKAGES" in node.props
        else [],
        artifact_repository=_repository_name(session, node, repo),
        artifact_repository_packages=specs if repo is not None else [],
        architecture=architecture,
        lock=lock.to_json(),
        null_handling=node.flags.get("NULL_HANDLING", "CALLED ON NULL INPUT"),
        volatility=node.flags.get("VOLATILITY", "VOLATILE"),
        execute_as=node.flags.get("EXECUTE_AS", "OWNER") if node.kind == "PROCEDURE" else None,
        secure=node.secure,
        temporary=node.temporary,
    )
    props["udf_kind"] = _kind(node)
    comment = _text(node.props["COMMENT"], "COMMENT") if "COMMENT" in node.props else None
    obj = CatalogObject(
        node.kind, db, schema, name, signature, session.role, comment=comment, props=props
    )
    routine = Routine(obj, session.id if node.temporary else None)
    info = udf_service(session.engine).load(routine)
    obj.props["udf_kind"] = info.kind
    obj.props["max_batch_size"] = info.max_batch_size
    routine = Routine(obj, routine.temp_session)
    if node.temporary:
        session.temp_objects[obj.key] = obj
    else:
        store_new(session, obj, or_replace=True, if_not_exists=False)
    udf_service(session.engine).invalidate(routine)
    return status_result(f"{node.kind.capitalize()} {name} successfully created.")


def _repository_name(session: Context, node: Create, repo: Repository | None) -> str | None:
    if repo is not None:
        return repo.name
    given = _repository(node)
    return ".".join(session.qualify(given)) if given is not None else None


def _kind(node: Create) -> str:
    if node.kind == "PROCEDURE":
        return "procedure"
    if node.flags.get("AGGREGATE"):
        return "aggregate"
    return "udtf" if node.returns_table is not None else "scalar"


def _existing(
    session: Context, kind: str, db: str, schema: str, name: str, signature: str, temp: bool
) -> CatalogObject | None:
    key = (kind, db, schema, name, signature)
    if temp:
        return session.temp_objects.get(key)
    return session.catalog.get(*key)


def drop_routine(session: Context, node: Drop) -> Result:
    try:
        routine = find_routine(session, node.kind, node.name, node.arg_types or [])
    except ProgrammingError:
        if node.if_exists:
            return status_result(
                f"Drop statement executed successfully ({node.name.last} already dropped)."
            )
        raise
    if routine.temporary:
        session.temp_objects.pop(routine.obj.key, None)
    else:
        require_ownership(session, routine.obj)
        forget(session.catalog, routine.obj)
    udf_service(session.engine).invalidate(routine, dropped=True)
    return status_result(f"{routine.name} successfully dropped.")


def _invalidating(handler: Handler) -> Handler:
    """Wrap a DATABASE/SCHEMA handler: dropping one drops its routines' cached names too."""

    def run(session: Context, node: Any) -> Result:
        try:
            return handler(session, node)
        finally:
            udf_service(session.engine).invalidate()

    return run


def invalidating(handlers: dict[tuple[str, str], Handler]) -> dict[Any, Any]:
    keys = [(v, k) for v in ("Create", "Drop") for k in ("DATABASE", "SCHEMA")]
    return {key: _invalidating(handlers[key]) for key in keys if key in handlers}


HANDLERS: dict[tuple[str, str], Handler] = {
    ("Create", "FUNCTION"): create_routine,
    ("Create", "PROCEDURE"): create_routine,
    ("Drop", "FUNCTION"): drop_routine,
    ("Drop", "PROCEDURE"): drop_routine,
}
