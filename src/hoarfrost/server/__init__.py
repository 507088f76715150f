"""The Snowflake wire protocol over HTTP, so the real Snowflake clients (snowflake-connector-python,
Snowpark) connect to a hoarfrost account unchanged.

    hoarfrost serve --home ./acct --port 8080
    snowflake.connector.connect(host="127.0.0.1", port=8080, protocol="http",
                                account="hoarfrost", user=..., password=...)

Modules: ``app`` (routes), ``queries`` (query-request), ``encoding`` (rowtype and JSON rowset),
``bindings`` (server-side bindings), ``sessions`` (tokens), ``auth`` (users), ``protocol``
(envelopes and codes), ``run`` (uvicorn). Sits on top: it imports ``commands`` (sessions),
``engine`` and the leaves; nothing imports it but the CLI.
"""

from hoarfrost.server.app import create_app
from hoarfrost.server.run import build_server, serve

__all__ = ["build_server", "create_app", "serve"]
