"""Attack tests share the real server fixtures of tests/server: a `hoarfrost serve` subprocess
driven by the real connector."""

from tests.server.conftest import connect, served  # noqa: F401  (fixtures)
