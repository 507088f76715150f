"""Statement handlers, one module per object kind, the :class:`session.Session` that runs them,
and :mod:`registry`, the one place where handlers, system functions, virtual tables and
SHOW PARAMETERS rows are joined by value.

Imports ``engine``, ``catalog`` and the leaves; only ``connection``, ``server`` and ``cli``
import it.
"""
