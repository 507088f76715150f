"""The account's stored objects: the catalog store (objects, parameters, grants, history),
encryption of secrets, name lookup and privilege checks, routines and policies as stored.

Imports only ``errors`` / ``config``, ``sql`` (AST values), ``packages`` and ``workers`` (value
types); never ``engine`` or ``commands``: callers reach it through :class:`scope.Scope`.
"""
