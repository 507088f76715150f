"""A real devpi-server on a loopback port, for tests: a second kind of customer repository.

devpi differs from pypiserver where it matters to the gateway: its simple pages answer PEP 691
JSON when asked (``Accept: application/vnd.pypi.simple.v1+json``) and link files relatively
(``../../+f/<hash>/<file>``), under ``/<user>/<index>/+simple/``.

``DevpiServer(workdir).start()`` runs ``devpi-init`` (no ``root/pypi`` mirror) and then
devpi-server with read access locked down (:mod:`tests.support.devpi_lockdown`: the index's
simple pages and files need its owner's password). :meth:`DevpiServer.create_index` makes a user
and an index with ``bases=[]`` (no fallback to any other index: loopback only), and
:meth:`DevpiServer.upload` pushes wheels with the documented ``:action=file_upload`` POST.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

import httpx
from packaging.utils import parse_wheel_filename

from tests.support.processes import stop_process
from tests.support.pypiserver import free_port

__all__ = ["DevpiServer"]

ROOT = Path(__file__).resolve().parents[2]
# devpi derives its login-token key with argon2 at startup (seconds, by design); no login token
# is used here, so the server gets the cheap parameters devpi's own test suite uses.
_CHEAP_ARGON2 = [
    "--argon2-memory-cost",
    "8",
    "--argon2-time-cost",
    "1",
    "--argon2-parallelism",
    "1",
]


class DevpiServer:
    """devpi-server serving ``workdir/server``; ``start()``/``stop()``."""

    def __init__(self, workdir: Path, *, host: str = "127.0.0.1"):
        self.workdir = workdir
        self.serverdir = workdir / "server"
        self.host = host
        self.port = free_port(host)
        self.root_password = secrets.token_urlsafe(16)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def index_url(self, user: str, index: str) -> str:
        """The simple index of ``user/index``, without credentials."""
        return f"{self.url}/{user}/{index}/+simple/"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 60.0) -> DevpiServer:
        if self.running:
            return self
        self.workdir.mkdir(parents=True, exist_ok=True)
        bindir = Path(sys.executable).parent
        if not (self.serverdir / ".nodeinfo").exists():
            subprocess.run(
                [str(bindir / "devpi-init"), "--serverdir", str(self.serverdir), "--no-root-pypi",
                 "--root-passwd", self.root_password],
                check=True, capture_output=True, timeout=60,
            )  # fmt: skip
        argv = [sys.executable, "-m", "tests.support.devpi_lockdown"]
        argv += ["--serverdir", str(self.serverdir), "--host", self.host, "--port", str(self.port)]
        argv += _CHEAP_ARGON2
        pythonpath = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(pythonpath)}
        log = (self.workdir / "devpi.out").open("ab")
        self._process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env
        )
        log.close()
        self._wait_ready(timeout)
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        stop_process(process)

    def __enter__(self) -> DevpiServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- the HTTP API ---------------------------------------------------------------------------

    def create_index(self, user: str, password: str, index: str) -> str:
        """Create ``user`` (with ``password``) and its index ``index`` with no bases; returns the
        index's simple URL."""
        self._api("PUT", f"/{user}", {"password": password, "email": f"{user}@example.invalid"})
        self._api("PUT", f"/{user}/{index}", {"bases": [], "volatile": True}, auth=(user, password))
        return self.index_url(user, index)

    def upload(self, user: str, password: str, index: str, wheels: Iterable[Path]) -> None:
        for wheel in wheels:
            name, version, _build, _tags = parse_wheel_filename(wheel.name)
            response = httpx.post(
                f"{self.url}/{user}/{index}/",
                data={":action": "file_upload", "name": str(name), "version": str(version)},
                files={"content": (wheel.name, wheel.read_bytes(), "application/octet-stream")},
                auth=(user, password),
                timeout=30,
            )
            if response.status_code != 200:
                raise RuntimeError(
                    f"upload of {wheel.name}: {response.status_code} {response.text}"
                )

    def _api(
        self, method: str, path: str, body: object, *, auth: tuple[str, str] | None = None
    ) -> None:
        response = httpx.request(
            method, self.url + path, json=body, auth=auth, timeout=30,
            headers={"Accept": "application/json"},
        )  # fmt: skip
        if response.status_code not in (200, 201):
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                log = (self.workdir / "devpi.out").read_text(errors="replace")
                raise RuntimeError(f"devpi-server exited early:\n{log[-3000:]}")
            try:
                api = httpx.get(
                    f"{self.url}/+api", headers={"Accept": "application/json"}, timeout=2
                )
                if api.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"devpi-server did not answer on {self.url} within {timeout}s")
