"""A real pypiserver on a loopback port, for tests: the customer's repository.

With ``auth=(user, password)`` every action (download, list, update) needs the password, read
from an htpasswd file (apr_md5_crypt, which passlib verifies without the bcrypt package); without
``auth`` it is open. ``--disable-fallback`` always: a name it does not have is a 404, never a
redirect to pypi.org.
"""

from __future__ import annotations

import base64
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from tests.support.processes import stop_process

__all__ = ["PypiServer", "build_chain_repository", "free_port"]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class PypiServer:
    """``pypi-server run`` serving ``packages``; ``start()``/``stop()`` may be repeated (the port
    is kept, so URLs stay valid across a restart)."""

    def __init__(
        self,
        packages: Path,
        workdir: Path,
        *,
        auth: tuple[str, str] | None = None,
        host: str = "127.0.0.1",
    ):
        self.packages = packages
        self.workdir = workdir
        self.auth = auth
        self.host = host
        self.port = free_port(host)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def index_url(self) -> str:
        """The simple index, without credentials."""
        return f"{self.url}/simple/"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def argv(self) -> list[str]:
        argv = [sys.executable, "-m", "pypiserver", "run", "-i", self.host, "-p", str(self.port)]
        argv += ["--disable-fallback", "--log-file", str(self.workdir / "pypiserver.log")]
        if self.auth is None:
            argv += ["-a", ".", "-P", "."]
        else:
            argv += ["-a", "download,list,update", "-P", str(self._write_htpasswd())]
        return [*argv, str(self.packages)]

    def start(self, timeout: float = 20.0) -> PypiServer:
        if self.running:
            return self
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.packages.mkdir(parents=True, exist_ok=True)
        log = (self.workdir / "pypiserver.out").open("ab")
        self._process = subprocess.Popen(self.argv(), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self._wait_ready(timeout)
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        stop_process(process)

    def get(self, path: str, *, auth: tuple[str, str] | None = None) -> int:
        """HTTP status of ``GET path`` (``auth`` defaults to the server's own credentials)."""
        request = urllib.request.Request(self.url + path)
        credentials = auth or self.auth
        if credentials is not None:
            token = base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    def __enter__(self) -> PypiServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _write_htpasswd(self) -> Path:
        from passlib.apache import HtpasswdFile  # imported late: it warns about `crypt` on import

        assert self.auth is not None
        path = self.workdir / "htpasswd"
        htpasswd = HtpasswdFile(str(path), new=True, default_scheme="apr_md5_crypt")
        htpasswd.set_password(*self.auth)
        htpasswd.save()
        return path

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                log = (self.workdir / "pypiserver.out").read_text(errors="replace")
                raise RuntimeError(f"pypiserver exited early:\n{log[-2000:]}")
            try:
                if self.get("/health") == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"pypiserver did not answer on {self.url} within {timeout}s")


def build_chain_repository(dest: Path) -> dict[str, Path]:
    """Wheels of a two-level dependency chain with several versions of each:
    ``app`` (1.0, 2.0) -> ``mid>=1`` (0.5, 1.0, 1.5) -> ``leaf<3`` (1.0, 2.0, 3.0), plus ``newpy``
    (Requires-Python >=3.13) and ``multi`` 1.0 built for several tags."""
    from tests.support.wheels import build_wheel

    built = [build_wheel(dest, "app", v, requires=["mid>=1"]) for v in ("1.0", "2.0")]
    built += [build_wheel(dest, "mid", v, requires=["leaf<3"]) for v in ("0.5", "1.0", "1.5")]
    built += [build_wheel(dest, "leaf", v) for v in ("1.0", "2.0", "3.0")]
    built.append(build_wheel(dest, "newpy", "1.0", requires_python=">=3.13"))
    for tag in (
        "py3-none-any",
        "cp311-cp311-manylinux_2_17_x86_64",
        "cp311-cp311-manylinux_2_17_aarch64",
        "cp312-cp312-manylinux_2_17_x86_64",
    ):
        built.append(build_wheel(dest, "multi", "1.0", tag=tag))
    return {p.name: p for p in built}
