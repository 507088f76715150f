"""The one place where the statement layer is assembled: every module exports its own tables
(``HANDLERS``, ``SYSTEM_FUNCTIONS``, ``VIRTUAL_TABLES``, ``EXTRA_PARAMETER_ROWS``) as plain
values, and :data:`REGISTRY` joins them. Nothing else adds to them, at import time or later.
"""

from __future__ import annotations

from dataclasses import replace

from hoarfrost.commands import (
    copy,
    databases,
    explain,
    file_formats,
    function_info,
    functions,
    grant_info,
    grants,
    information_schema,
    integrations,
    ordinary,
    packages,
    parameters,
    policies,
    procedures,
    repositories,
    roles,
    secrets,
    show_filters,
    show_objects,
    staged_queries,
    stages,
    system_functions,
    tags,
    transactions,
    unload,
    users,
    variables,
)
from hoarfrost.engine import network
from hoarfrost.engine.context import Registry

__all__ = ["REGISTRY"]

REGISTRY = Registry(
    handlers={
        **ordinary.HANDLERS,
        **transactions.HANDLERS,
        **variables.HANDLERS,
        **show_objects.HANDLERS,
        **databases.HANDLERS,
        **secrets.HANDLERS,
        **integrations.HANDLERS,
        **repositories.HANDLERS,
        **policies.HANDLERS,
        **parameters.HANDLERS,
        **roles.HANDLERS,
        **grants.HANDLERS,
        **grant_info.HANDLERS,
        **users.HANDLERS,
        **tags.HANDLERS,
        **packages.HANDLERS,
        **functions.HANDLERS,
        # Creating or dropping a database or schema forgets the routines' cached names.
        **functions.invalidating(databases.HANDLERS),
        **function_info.HANDLERS,
        **procedures.HANDLERS,
        **explain.HANDLERS,
        **stages.HANDLERS,
        **file_formats.HANDLERS,
        **copy.HANDLERS,
        **staged_queries.HANDLERS,
        **unload.HANDLERS,
    },
    system_functions={
        **system_functions.SYSTEM_FUNCTIONS,
        **transactions.SYSTEM_FUNCTIONS,
        **roles.SYSTEM_FUNCTIONS,
        **tags.SYSTEM_FUNCTIONS,
        **show_objects.SYSTEM_FUNCTIONS,
        **packages.SYSTEM_FUNCTIONS,
        **network.SYSTEM_FUNCTIONS,
    },
    virtual_tables={
        **system_functions.VIRTUAL_TABLES,
        **packages.VIRTUAL_TABLES,
        **function_info.VIRTUAL_TABLES,
        **information_schema.VIRTUAL_TABLES,
    },
    # INFORMATION_SCHEMA.FUNCTIONS, TABLES, ... are read as views (without TABLE()).
    virtual_views=frozenset(
        {**function_info.VIRTUAL_TABLES, **information_schema.VIRTUAL_TABLES, "PACKAGES": None}
    ),
    parameter_rows=(parameters.EDITION_ROWS, *function_info.EXTRA_PARAMETER_ROWS),
)

# Every statement runs under the session's transaction rules and sees its variables: the whole
# table is wrapped once, here (commands/transactions.py, commands/variables.py).
REGISTRY = replace(
    REGISTRY,
    handlers=transactions.transactional(
        variables.substituting(show_filters.filtered(REGISTRY.handlers))
    ),
)
