"""The engine's services: :class:`engine.Engine` (one account: DuckDB, the catalog, keys,
per-engine subsystems), package resolution, UDF / UDTF / procedure evaluation in workers,
results, the exception boundary, the network path, and the statement :class:`context.Context`.

Imports ``catalog`` and the leaves (``sql``, ``packages``, ``workers``, ``errors``, ``config``);
never ``commands`` or anything above it.
"""
