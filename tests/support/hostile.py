"""A scriptable index server on loopback that records everything it receives.

``HostileServer`` answers each path with a scripted :class:`Reply` (or a function of the
request), and records every accepted connection and every request (peer address, method, path,
headers), so tests can assert what a refused host received (nothing) or what a second host was
sent (no credentials). Bind it to 127.0.0.1 or 127.0.0.2 (both loopback on Linux) to have two
"hosts". :meth:`HostileServer.serve_index` turns it into an honest PEP 503/691 index of real
wheels (optionally behind basic auth); the hostile cases are scripted on top with :meth:`route`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import ssl
import threading
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

from packaging.utils import canonicalize_name, parse_wheel_filename

__all__ = ["HostileServer", "Recorded", "Reply", "wheel_metadata"]


@dataclass(frozen=True)
class Recorded:
    peer: tuple[str, int]
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_length: bool = True  # False: no Content-Length, the body ends when we close
    delay: float = 0.0  # seconds to wait before answering


Handler = Callable[[Recorded], Reply]


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: HostileServer

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hanging up on a hostile server is the normal case here

    def verify_request(self, request: object, client_address: object) -> bool:
        with self.owner._lock:
            self.owner.connections += 1
        return True


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        pass

    def do_GET(self) -> None:
        self._answer()

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def _answer(self, body: bool = True) -> None:
        owner = self.server.owner
        rec = Recorded(
            peer=(self.client_address[0], self.client_address[1]),
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
        )
        with owner._lock:
            owner.requests.append(rec)
        reply = owner._reply(rec)
        if reply.delay:
            time.sleep(reply.delay)
        self.send_response(reply.status)
        for k, v in reply.headers.items():
            self.send_header(k, v)
        if reply.content_length:
            self.send_header("Content-Length", str(len(reply.body)))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if body:
            self.wfile.write(reply.body)


class HostileServer:
    """A recording HTTP(S) server on ``host`` (a free port); use as a context manager."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        *,
        auth: tuple[str, str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ):
        self.host = host
        self.auth = auth
        self.requests: list[Recorded] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._routes: dict[str, Reply | Handler] = {}
        self._httpd = _HTTPServer((host, 0), _RequestHandler)
        self._httpd.owner = self
        if ssl_context is not None:
            self._httpd.socket = ssl_context.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.scheme = "https" if ssl_context is not None else "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def route(self, path: str, reply: Reply | Handler) -> None:
        self._routes[path] = reply

    def paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests]

    def _reply(self, rec: Recorded) -> Reply:
        if self.auth is not None and rec.headers.get("authorization") != _basic(*self.auth):
            return Reply(401, b"Unauthorized", {"WWW-Authenticate": 'Basic realm="pypi"'})
        route = self._routes.get(rec.path.split("?", 1)[0])
        if route is None:
            return Reply(404, b"Not Found")
        return route(rec) if callable(route) else route

    def serve_index(
        self,
        wheels: Iterable[Path],
        *,
        fmt: str = "html",
        prefix: str = "/simple/",
        files_prefix: str = "/packages/",
        absolute: bool = False,
        metadata: bool = False,
        hashes: bool = True,
    ) -> None:
        """Serve ``wheels`` as an honest simple index: pages at ``{prefix}<project>/``, files at
        ``{files_prefix}<filename>`` (and ``.metadata`` files when ``metadata``)."""
        projects: dict[str, list[Path]] = {}
        for wheel in wheels:
            name = canonicalize_name(parse_wheel_filename(wheel.name)[0])
            projects.setdefault(str(name), []).append(wheel)
            data = wheel.read_bytes()
            self.route(f"{files_prefix}{wheel.name}", Reply(body=data))
            if metadata:
                self.route(
                    f"{files_prefix}{wheel.name}.metadata", Reply(body=wheel_metadata(wheel))
                )
        for project, files in projects.items():
            entries = []
            for wheel in files:
                if absolute:
                    href = f"{self.url}{files_prefix}{wheel.name}"
                else:  # relative to the page: up from <prefix><name>/ to the root
                    ups = "../" * (len(prefix.strip("/").split("/")) + 1)
                    href = f"{ups}{files_prefix.lstrip('/')}{wheel.name}"
                sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
                meta_sha = hashlib.sha256(wheel_metadata(wheel)).hexdigest() if metadata else None
                entries.append((wheel.name, href, sha, meta_sha))
            if fmt == "json":
                self.route(f"{prefix}{project}/", _json_page(project, entries, hashes))
            else:
                self.route(f"{prefix}{project}/", _html_page(project, entries, hashes))


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def wheel_metadata(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return zf.read(name)


def _html_page(name: str, entries: list[tuple[str, str, str, str | None]], hashes: bool) -> Reply:
    lines = ["<!DOCTYPE html><html><body>"]
    for filename, href, sha, meta_sha in entries:
        frag = f"#sha256={sha}" if hashes else ""
        meta = f' data-core-metadata="sha256={meta_sha}"' if meta_sha else ""
        lines.append(f'<a href="{html.escape(href + frag)}"{meta}>{html.escape(filename)}</a><br/>')
    lines.append("</body></html>")
    body = "\n".join(lines).encode()
    return Reply(body=body, headers={"Content-Type": "text/html; charset=utf-8"})


def _json_page(name: str, entries: list[tuple[str, str, str, str | None]], hashes: bool) -> Reply:
    files = [
        {
            "filename": filename,
            "url": href,
            "hashes": {"sha256": sha} if hashes else {},
            "core-metadata": {"sha256": meta_sha} if meta_sha else False,
        }
        for filename, href, sha, meta_sha in entries
    ]
    doc = {"meta": {"api-version": "1.1"}, "name": name, "files": files}
    return Reply(
        body=json.dumps(doc).encode(),
        headers={"Content-Type": "application/vnd.pypi.simple.v1+json"},
    )
