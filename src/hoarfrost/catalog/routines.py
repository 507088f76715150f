"""Python functions and procedures as the engine sees them: a typed view (:class:`Routine`) over
the catalog object that CREATE FUNCTION / PROCEDURE stored, and the lookup of overloads.

An object's ``signature`` is its argument type families, ``(NUMBER, VARCHAR)``: overloads of one
name differ by it, and ``DROP FUNCTION f(INT)`` finds ``f(NUMBER(38,0))`` because both are NUMBER.
Temporary routines live in ``scope.temp_objects`` only and shadow a permanent routine of the
same signature.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from hoarfrost.catalog.lookup import not_found
from hoarfrost.catalog.privileges import has_privilege
from hoarfrost.catalog.scope import Scope
from hoarfrost.catalog.store import CatalogObject
from hoarfrost.errors import InvalidValue, ProgrammingError
from hoarfrost.packages.lock import Lock
from hoarfrost.sql.ast import Name, quote_ident
from hoarfrost.workers.spec import FunctionKind, FunctionSpec
from hoarfrost.workers.types import SNOWFLAKE_NAMES, SqlType

__all__ = [
    "ROUTINE_KINDS",
    "Routine",
    "family",
    "find_routine",
    "in_schema",
    "overloads",
    "parse_type",
    "signature_of",
    "usable",
]

ROUTINE_KINDS = ("FUNCTION", "PROCEDURE")


def family(sql_type: SqlType) -> str:
    return SNOWFLAKE_NAMES[sql_type.kind]


def signature_of(types: Sequence[SqlType]) -> str:
    return "(" + ", ".join(family(t) for t in types) + ")"


def parse_type(text: str, what: str) -> SqlType:
    """A declared SQL type; the error says where it was declared."""
    try:
        return SqlType.parse(text)
    except InvalidValue as exc:
        raise InvalidValue(f"SQL compilation error:\n{exc.msg} (in {what})") from None


@dataclass(frozen=True)
class Routine:
    """A stored FUNCTION or PROCEDURE; ``temp_session`` is the owning session of a TEMPORARY one."""

    obj: CatalogObject
    temp_session: int | None = None

    # -- identity ------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self.obj.kind

    @property
    def name(self) -> str:
        return self.obj.name

    @property
    def props(self) -> dict[str, Any]:
        return self.obj.props

    @property
    def qualified(self) -> str:
        return self.obj.qualified

    @cached_property
    def duck_name(self) -> str:
        """The name under which DuckDB knows this routine: stable across CREATE OR REPLACE, so a
        view's stored text keeps calling the current definition."""
        temp = f"#temp{self.temp_session}" if self.temp_session is not None else ""
        ident = "\0".join([*self.obj.key, temp])
        return "__HF_UDF_" + hashlib.sha256(ident.encode()).hexdigest()[:20].upper()

    @cached_property
    def worker_key(self) -> str:
        """What a worker process may hold: one function (its identity, owner, handler, code and
        environment). Two routines share worker processes only when this is equal (issue 10:
        one function per process)."""
        parts = [
            self.duck_name,
            self.obj.owner,
            str(self.props.get("handler")),
            str(self.props.get("body")),
            json.dumps(self.props.get("lock"), sort_keys=True),
            json.dumps(self.props.get("imports") or [], sort_keys=True),
        ]
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()

    @cached_property
    def stamp(self) -> str:
        """Changes whenever the definition does (a replaced routine is registered afresh)."""
        text = json.dumps(self.props, sort_keys=True) + str(self.obj.created_on)
        return hashlib.sha256(text.encode()).hexdigest()

    # -- declaration ---------------------------------------------------------------------
    @property
    def args(self) -> list[tuple[str, str, str | None]]:
        return [(a[0], a[1], a[2]) for a in self.props["args"]]

    @cached_property
    def arg_types(self) -> tuple[SqlType, ...]:
        return tuple(SqlType.parse(a[1]) for a in self.props["args"])

    @property
    def min_args(self) -> int:
        return sum(1 for a in self.props["args"] if a[2] is None)

    @property
    def max_args(self) -> int:
        return len(self.props["args"])

    @cached_property
    def returns(self) -> SqlType | None:
        text = self.props.get("returns")
        return SqlType.parse(text) if text else None

    @cached_property
    def returns_table(self) -> tuple[tuple[str, SqlType], ...] | None:
        cols = self.props.get("returns_table")
        if cols is None:
            return None
        return tuple((c[0], SqlType.parse(c[1])) for c in cols)

    @property
    def is_table_function(self) -> bool:
        return self.kind == "FUNCTION" and self.returns_table is not None

    @property
    def strict(self) -> bool:
        return self.props.get("null_handling") == "RETURNS NULL ON NULL INPUT"

    @property
    def volatile(self) -> bool:
        return self.props.get("volatility", "VOLATILE") != "IMMUTABLE"

    @property
    def temporary(self) -> bool:
        return self.temp_session is not None

    @cached_property
    def lock(self) -> Lock:
        return Lock.from_json(self.props["lock"])

    @cached_property
    def spec(self) -> FunctionSpec:
        kind: FunctionKind = self.props.get("udf_kind") or "scalar"
        returns: SqlType | tuple[tuple[str, SqlType], ...] | None = self.returns
        if self.returns_table is not None:
            returns = self.returns_table
        return FunctionSpec(
            name=self.name,
            code=self.props["body"],
            handler=self.props["handler"],
            kind=kind,
            arg_types=self.arg_types,
            returns=returns,
            strict=self.strict,
        )

    def signature_text(self, with_names: bool = True) -> str:
        if with_names:
            return "(" + ", ".join(f"{quote_ident(a[0])} {a[1]}" for a in self.args) + ")"
        return self.obj.signature

    def returns_text(self) -> str:
        if self.returns_table is not None:
            cols = ", ".join(f"{quote_ident(n)} {t.name}" for n, t in self.returns_table)
            return f"TABLE ({cols})"
        assert self.returns is not None
        return self.returns.name + (" NOT NULL" if self.props.get("returns_not_null") else "")

    def arguments_text(self) -> str:
        """SHOW's ``arguments`` column: ``F(NUMBER, VARCHAR) RETURN VARCHAR``."""
        families = self.obj.signature
        return f"{quote_ident(self.name)}{families} RETURN {self.returns_text()}"


def usable(scope: Scope, obj: CatalogObject) -> bool:
    """A routine the scope may call or describe: its session's temporary one, or one an active
    role owns or holds USAGE on. The others do not exist for it (the reference's rule)."""
    return obj.key in scope.temp_objects or has_privilege(scope, "USAGE", obj)


def _routines(scope: Scope, kind: str, db: str, schema: str, name: str) -> list[Routine]:
    found: dict[str, Routine] = {}
    for obj in scope.catalog.list(kind, db, schema):
        if obj.name == name and usable(scope, obj):
            found[obj.signature] = Routine(obj)
    for key, obj in scope.temp_objects.items():
        if key[:4] == (kind, db, schema, name):
            found[obj.signature] = Routine(obj, scope.id)
    return list(found.values())


def overloads(scope: Scope, kind: str, name: Name) -> list[Routine]:
    """Every routine of ``kind`` named ``name`` (qualified against the session), temp first."""
    db, schema, obj_name = scope.qualify(name)
    return _routines(scope, kind, db, schema, obj_name)


def in_schema(scope: Scope, kind: str, db: str, schema: str) -> list[Routine]:
    """All routines of ``kind`` in one schema, temporary ones of this session included."""
    permanent = {o.key: Routine(o) for o in scope.catalog.list(kind, db, schema)}
    for key, obj in scope.temp_objects.items():
        if key[:3] == (kind, db, schema):
            permanent[key] = Routine(obj, scope.id)
    return list(permanent.values())


def find_routine(scope: Scope, kind: str, name: Name, arg_types: list[str] | None) -> Routine:
    """The routine DROP / DESCRIBE name: by argument types, or the only overload."""
    candidates = overloads(scope, kind, name)
    if arg_types is None:
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            raise ProgrammingError(
                f"SQL compilation error:\n{kind.capitalize()} '{name.last}' has "
                f"{len(candidates)} overloads; give the argument types, e.g. "
                f"DESCRIBE {kind} {name.last}{candidates[0].obj.signature}.",
                errno=2043,
            )
    else:
        wanted = signature_of([parse_type(t, "the argument types") for t in arg_types])
        for routine in candidates:
            if routine.obj.signature == wanted:
                return routine
    shown = f"{name.last}({', '.join(arg_types or [])})"
    raise not_found(shown.upper() if name.last.isupper() else shown)
