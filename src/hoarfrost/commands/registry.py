"""The dispatch table: (statement type, object kind) -> handler. Parse first, then decide."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hoarfrost.catalog import (
    function_info,
    functions,
    integrations,
    parameters,
    policies,
    privileges,
    repositories,
    secrets,
)
from hoarfrost.engine import (
    databases,
    network,
    ordinary,
    package_sql,
    procedures,
    system_functions,
)
from hoarfrost.engine.ordinary import run_ordinary
from hoarfrost.engine.result import Result
from hoarfrost.errors import UnsupportedFeature
from hoarfrost.sql.ast import Ordinary, Parsed

if TYPE_CHECKING:
    from hoarfrost.engine.session import Session

__all__ = ["HANDLERS", "dispatch"]

Handler = Callable[["Session", Any], Result]

HANDLERS: dict[tuple[str, str], Handler] = {
    **databases.HANDLERS,
    **secrets.HANDLERS,
    **integrations.HANDLERS,
    **repositories.HANDLERS,
    **policies.HANDLERS,
    **parameters.HANDLERS,
    **privileges.HANDLERS,
    **package_sql.HANDLERS,
    **functions.HANDLERS,
    **functions.invalidating(databases.HANDLERS),
    **function_info.HANDLERS,
    **procedures.HANDLERS,
}
system_functions.SYSTEM_FUNCTIONS.update(package_sql.SYSTEM_FUNCTIONS)
system_functions.VIRTUAL_TABLES.update(package_sql.VIRTUAL_TABLES)
system_functions.VIRTUAL_TABLES.update(function_info.VIRTUAL_TABLES)
ordinary.VIRTUAL_VIEWS.update(function_info.VIRTUAL_TABLES)
parameters._EXTRA_ROWS.extend(function_info.EXTRA_PARAMETER_ROWS)
system_functions.SYSTEM_FUNCTIONS.update(network.SYSTEM_FUNCTIONS)

_VERBS = {
    "Create": "CREATE",
    "Alter": "ALTER",
    "Drop": "DROP",
    "Show": "SHOW",
    "Describe": "DESCRIBE",
    "Use": "USE",
    "Grant": "GRANT",
    "Call": "CALL",
}


def dispatch(session: Session, node: Parsed) -> Result:
    if isinstance(node, Ordinary):
        return run_ordinary(session, node)
    verb = type(node).__name__
    kind = str(getattr(node, "kind", None) or getattr(node, "on_kind", ""))
    handler = HANDLERS.get((verb, kind))
    if handler is None:
        raise UnsupportedFeature(f"{_VERBS.get(verb, verb)} {kind} is not supported by hoarfrost.")
    return handler(session, node)
