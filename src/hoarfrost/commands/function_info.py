"""What users can see of Python functions and procedures: DESCRIBE FUNCTION / PROCEDURE,
SHOW USER FUNCTIONS / SHOW PROCEDURES, INFORMATION_SCHEMA.FUNCTIONS / PROCEDURES, and the worker
isolation in force in SHOW PARAMETERS IN ACCOUNT (SPEC.md section 6; issue 4)."""

from __future__ import annotations

import fnmatch
from typing import Any

import pyarrow as pa

from hoarfrost.catalog.lookup import like_to_glob
from hoarfrost.catalog.privileges import has_any_privilege, has_privilege
from hoarfrost.catalog.routines import ROUTINE_KINDS, Routine, find_routine, in_schema
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.engine.context import Context, Handler, ParameterRows, VirtualTable
from hoarfrost.engine.result import Result, rows_result
from hoarfrost.engine.udf import udf_service
from hoarfrost.errors import InsufficientPrivileges
from hoarfrost.sql.arguments import name_argument
from hoarfrost.sql.ast import Describe, Show, quote_ident

__all__ = ["EXTRA_PARAMETER_ROWS", "HANDLERS", "VIRTUAL_TABLES"]


def _list_text(items: list[str]) -> str:
    return "[" + ", ".join(f"'{i}'" for i in items) + "]"


def _imports_text(records: list[dict[str, str]]) -> str:
    """IMPORTS as DESCRIBE shows them: where each came from and the sha256 of what runs."""
    return "[" + ", ".join(f"{r['location']} (sha256:{r['sha256']})" for r in records) + "]"


def _installed(routine: Routine) -> list[str]:
    return routine.lock.installed_packages()


# -- GET_DDL -------------------------------------------------------------------------------
def routine_ddl(session: Context, kind: str, text: str) -> str:
    """GET_DDL('FUNCTION' | 'PROCEDURE', 'name[(types)]'): the statement that makes it now."""
    name_text, _, types = text.partition("(")
    arg_types = [t.strip() for t in types.rstrip(") ").split(",") if t.strip()] if types else None
    routine = find_routine(session, kind, name_argument(name_text.strip()), arg_types)
    if _body_hidden(session, routine):
        raise InsufficientPrivileges(
            "SQL access control error:\nInsufficient privileges to operate on "
            f"{kind.lower()} '{routine.name}': the definition of a secure {kind.lower()} is "
            "shown to its owner only."
        )
    p = routine.props
    words = ["create or replace"]
    if p.get("secure"):
        words.append("SECURE")
    if p.get("udf_kind") == "aggregate":
        words.append("AGGREGATE")
    lines = [
        f"{' '.join(words)} {kind} {quote_ident(routine.name)}{routine.signature_text()}",
        f"RETURNS {routine.returns_text()}",
        "LANGUAGE PYTHON",
        f"RUNTIME_VERSION = '{p['runtime_version']}'",
    ]
    packages = p.get("artifact_repository_packages") or p.get("packages") or []
    if p.get("artifact_repository"):
        lines.append(f"ARTIFACT_REPOSITORY = {p['artifact_repository']}")
    if packages:
        lines.append("PACKAGES = (" + ", ".join(f"'{x}'" for x in packages) + ")")
    lines.append(f"HANDLER = '{p['handler']}'")
    if kind == "PROCEDURE":
        lines.append(f"EXECUTE AS {p.get('execute_as') or 'OWNER'}")
    return "\n".join(lines) + "\nAS '" + str(p["body"]).replace("'", "\\'") + "';"


# -- DESCRIBE ------------------------------------------------------------------------------
def describe_routine(session: Context, node: Describe) -> Result:
    routine = find_routine(session, node.kind, node.name, node.arg_types)
    p = routine.props
    hidden = _body_hidden(session, routine)
    rows: list[tuple[str, Any]] = [
        ("signature", routine.signature_text()),
        ("returns", routine.returns_text()),
        ("language", "PYTHON"),
    ]
    if routine.kind == "FUNCTION":
        rows += [("null handling", p["null_handling"]), ("volatility", p["volatility"])]
    else:
        rows += [("execute as", p.get("execute_as") or "OWNER")]
    rows += [
        ("body", None if hidden else p["body"]),
        ("imports", _imports_text(p.get("imports") or [])),
        ("handler", p["handler"]),
        ("runtime_version", p["runtime_version"]),
        ("packages", _list_text(p.get("packages") or [])),
        ("artifact_repository", p.get("artifact_repository")),
        ("artifact_repository_packages", _list_text(p.get("artifact_repository_packages") or [])),
        ("installed_packages", _list_text(_installed(routine))),
        ("resource_constraint", _constraint(p)),
        ("is_secure", "true" if p.get("secure") else "false"),
        ("is_temporary", "true" if routine.temporary else "false"),
    ]
    return rows_result(["property", "value"], rows, "DESCRIBE")


def _constraint(props: dict[str, Any]) -> str | None:
    arch = props.get("architecture")
    return f"{{'architecture': '{arch}'}}" if arch else None


# -- SHOW ----------------------------------------------------------------------------------
_SHOW_FUNCTIONS = [
    "created_on",
    "name",
    "schema_name",
    "is_builtin",
    "is_aggregate",
    "is_ansi",
    "min_num_arguments",
    "max_num_arguments",
    "arguments",
    "description",
    "catalog_name",
    "is_table_function",
    "valid_for_clustering",
    "is_secure",
    "secrets",
    "external_access_integrations",
    "is_external_function",
    "language",
    "is_memoizable",
    "is_data_metric",
    "artifact_repository",
]


def _scope(session: Context, node: Show, kind: str) -> list[Routine]:
    catalog = session.catalog
    if node.in_kind == "ACCOUNT":
        objs = catalog.list(kind)
    elif node.in_kind == "DATABASE":
        objs = catalog.list(kind, node.in_name.last if node.in_name else session.need_database())
    elif node.in_kind in ("SCHEMA", "SCHEMA_OR_DATABASE") and node.in_name is not None:
        parts = node.in_name.parts
        if len(parts) == 1 and node.in_kind == "SCHEMA_OR_DATABASE":
            objs = catalog.list(kind, parts[0])
        else:
            objs = catalog.list(kind, parts[0] if len(parts) == 2 else session.need_database())
            objs = [o for o in objs if o.schema == parts[-1]]
    else:
        database, schema = session.need_database(), session.schema
        return _like(in_schema(session, kind, database, schema or ""), node, session)
    routines = [Routine(o) for o in objs]
    routines += [Routine(o, session.id) for o in session.temp_objects.values() if o.kind == kind]
    return _like(routines, node, session)


def _body_hidden(session: Context, routine: Routine) -> bool:
    """A secure function's body is shown only to the roles that own it (the reference)."""
    return bool(routine.props.get("secure")) and not has_privilege(
        session, "OWNERSHIP", routine.obj
    )


def _visible(session: Context, routines: list[Routine]) -> list[Routine]:
    """What SHOW and INFORMATION_SCHEMA list: routines an active role holds a privilege on."""
    return [r for r in routines if r.temporary or has_any_privilege(session, r.obj)]


def _like(routines: list[Routine], node: Show, session: Context) -> list[Routine]:
    routines = _visible(session, routines)
    unique = {r.obj.key: r for r in routines}
    out = sorted(unique.values(), key=lambda r: (r.obj.schema, r.name, r.obj.signature))
    if node.like is None:
        return out
    pattern = like_to_glob(node.like).upper()
    return [r for r in out if fnmatch.fnmatchcase(r.name.upper(), pattern)]


def _show_row(routine: Routine) -> tuple[Any, ...]:
    p = routine.props
    return (
        routine.obj.created_on,
        routine.name,
        routine.obj.schema,
        "N",
        "N",
        "N",
        routine.min_args,
        routine.max_args,
        routine.arguments_text(),
        routine.obj.comment or "user-defined function",
        routine.obj.database,
        "Y" if routine.is_table_function else "N",
        "N",
        "Y" if p.get("secure") else "N",
        None,
        None,
        "N",
        "PYTHON",
        "N",
        "N",
        p.get("artifact_repository"),
    )


def show_routines(session: Context, node: Show) -> Result:
    rows = [_show_row(r) for r in _scope(session, node, node.kind)]
    columns = list(_SHOW_FUNCTIONS)
    if node.kind == "PROCEDURE":
        columns = [c for c in columns if c not in ("is_memoizable", "is_data_metric")]
        rows = [r[:18] + r[20:] for r in rows]
    return rows_result(columns, rows)


# -- INFORMATION_SCHEMA --------------------------------------------------------------------
def _info_columns(kind: str) -> list[str]:
    word = kind
    return [
        f"{word}_CATALOG",
        f"{word}_SCHEMA",
        f"{word}_NAME",
        f"{word}_OWNER",
        "ARGUMENT_SIGNATURE",
        "DATA_TYPE",
        f"{word}_LANGUAGE",
        f"{word}_DEFINITION",
        "VOLATILITY",
        "IS_NULL_CALL",
        "IS_SECURE",
        "CREATED",
        "LAST_ALTERED",
        "COMMENT",
        "RUNTIME_VERSION",
        "HANDLER",
        "PACKAGES",
        "INSTALLED_PACKAGES",
        "ARTIFACT_REPOSITORY",
        "IS_TEMPORARY",
    ]


def _info_row(session: Context, routine: Routine) -> list[Any]:
    p = routine.props
    hidden = _body_hidden(session, routine)
    return [
        routine.obj.database,
        routine.obj.schema,
        routine.name,
        routine.obj.owner,
        routine.signature_text(),
        routine.returns_text(),
        "PYTHON",
        None if hidden else p["body"],
        p.get("volatility") or "VOLATILE",
        "NO" if routine.strict else "YES",
        "YES" if p.get("secure") else "NO",
        str(routine.obj.created_on),
        str(routine.obj.created_on),
        routine.obj.comment,
        p["runtime_version"],
        p["handler"],
        _list_text(p.get("packages") or p.get("artifact_repository_packages") or []),
        _list_text(_installed(routine)),
        p.get("artifact_repository"),
        "YES" if routine.temporary else "NO",
    ]


def _info_table(kind: str) -> VirtualTable:
    def table(session: Context) -> pa.Table:
        names = _info_columns(kind)
        database = session.need_database()
        objs: list[CatalogObject] = session.catalog.list(kind, database)
        routines = [Routine(o) for o in objs]
        routines += [
            Routine(o, session.id)
            for o in session.temp_objects.values()
            if o.kind == kind and o.database == database
        ]
        rows = [_info_row(session, r) for r in _visible(session, routines)]
        arrays = [pa.array([row[i] for row in rows], pa.string()) for i in range(len(names))]
        return pa.Table.from_arrays(arrays, names=names)

    return table


VIRTUAL_TABLES: dict[str, VirtualTable] = {
    "FUNCTIONS": _info_table("FUNCTION"),
    "PROCEDURES": _info_table("PROCEDURE"),
}


# -- SHOW PARAMETERS -----------------------------------------------------------------------
def _parameter_rows(session: Context, scope: str) -> list[tuple[str, str, str, str, str, str]]:
    if scope != "ACCOUNT":
        return []
    service = udf_service(session.engine)
    settings = session.engine.settings
    return [
        (
            "PYTHON_UDF_BACKEND",
            session.engine.backend.description(),
            "local",
            "SYSTEM",
            "Where Python functions and procedures run: this machine's worker processes, or "
            "actors on a Ray cluster (settings HOARFROST_WORKER_BACKEND, HOARFROST_RAY_*; "
            "read only).",
            "STRING",
        ),
        (
            "PYTHON_UDF_ISOLATION",
            service.isolation(),
            "",
            "SYSTEM",
            "Isolation of the worker processes that run Python functions and procedures, as "
            "the workers report it (on a Ray cluster: measured on each node; read only).",
            "STRING",
        ),
        (
            "PYTHON_UDF_ISOLATION_LAYERS",
            ", ".join(service.layers()),
            "",
            "SYSTEM",
            "Names of the isolation layers in force in the worker processes, measured in one; "
            "a layer the kernel refuses is absent here and named as NOT in force in "
            "PYTHON_UDF_ISOLATION (read only).",
            "STRING",
        ),
        (
            "PYTHON_UDF_WORKER_LIMITS",
            f"pool size {settings.worker_pool_size} per function; timeout "
            f"{float(settings.worker_timeout):g} s per batch; memory "
            f"{int(settings.worker_memory_limit) / (1 << 20):g} MiB per worker; "
            f"{settings.worker_process_limit} processes and threads per worker",
            "",
            "SYSTEM",
            "Settings HOARFROST_WORKER_POOL_SIZE, HOARFROST_WORKER_TIMEOUT, "
            "HOARFROST_WORKER_MEMORY_LIMIT and HOARFROST_WORKER_PROCESS_LIMIT (read only).",
            "STRING",
        ),
        (
            "PYTHON_UDF_LOG",
            str(service.log_path),
            "",
            "SYSTEM",
            "Where the print output and stderr of Python functions go (read only).",
            "STRING",
        ),
    ]


EXTRA_PARAMETER_ROWS: tuple[ParameterRows, ...] = (_parameter_rows,)

HANDLERS: dict[tuple[str, str], Handler] = {
    **{("Describe", kind): describe_routine for kind in ROUTINE_KINDS},
    **{("Show", kind): show_routines for kind in ROUTINE_KINDS},
}
