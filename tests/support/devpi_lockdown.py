"""``devpi-server`` with read access locked down: ``python -m tests.support.devpi_lockdown ARGS``.

devpi-server 6 serves every index's simple pages and files to anyone (a wrong password is
ignored: devpi only checks credentials for writes). Real deployments lock reads down with the
devpi-lockdown plugin, which needs nginx's ``auth_request``; this module does the same inside
devpi-server with its documented plugin hooks, so a test needs no nginx: a request for
``/<user>/<index>/+simple/...`` or ``/<user>/<index>/+f/...`` must carry the Basic credentials of
the index's owner, else it gets ``401`` with ``WWW-Authenticate`` (what pypiserver and Nexus
answer). Everything else is devpi-server's own code (its ``main``, storage, JSON API, links).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from devpi_server.config import get_pluginmanager, hookimpl
from devpi_server.main import CommandRunner, _main
from pyramid.httpexceptions import HTTPUnauthorized

_LOCKED = ("+simple", "+f")


def read_lockdown_tween(handler: Callable[[Any], Any], registry: Any) -> Callable[[Any], Any]:
    def tween(request: Any) -> Any:
        parts = request.path_info.strip("/").split("/")
        if len(parts) >= 3 and parts[2] in _LOCKED and request.authenticated_userid != parts[0]:
            return HTTPUnauthorized(headers=[("WWW-Authenticate", 'Basic realm="devpi"')])
        return handler(request)

    return tween


@hookimpl
def devpiserver_pyramid_configure(config: Any, pyramid_config: Any) -> None:
    # Under the keyfs transaction tween: checking a password reads the user from devpi's store.
    pyramid_config.add_tween(
        "tests.support.devpi_lockdown.read_lockdown_tween",
        under="devpi_server.views.tween_keyfs_transaction",
    )


def main(argv: list[str]) -> int:
    pluginmanager = get_pluginmanager()
    pluginmanager.register(sys.modules[__name__], name="hoarfrost-test-read-lockdown")
    with CommandRunner(pluginmanager=pluginmanager) as runner:
        runner.return_code = _main(pluginmanager, argv=["devpi-server", *argv])
    return int(runner.return_code or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
