"""The served account and the real connector (tests/server/conftest.py), for statement tests
that run both in process and over the wire."""

from __future__ import annotations

from tests.server.conftest import connect, served

__all__ = ["connect", "served"]
