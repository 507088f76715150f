"""A TLS-terminating TCP proxy on loopback, for tests: puts HTTPS with a test CA's certificate
in front of a plain-HTTP server that cannot do TLS itself (pypiserver).

Each accepted connection is TLS-handshaken with ``ssl_context`` and its bytes relayed both ways
to ``backend`` (host, port); the peer address of every connection is recorded in ``peers``.
"""

from __future__ import annotations

import socket
import socketserver
import ssl
import threading
from types import TracebackType

__all__ = ["TlsProxy"]


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: TlsProxy

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client failing the handshake (wrong name, untrusted CA) is a tested case


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        owner = self.server.owner
        with owner._lock:
            owner.peers.append(self.client_address[0])
        conn = owner.ssl_context.wrap_socket(self.request, server_side=True)
        with conn, socket.create_connection(owner.backend, timeout=30) as upstream:
            pump = threading.Thread(target=_relay, args=(upstream, conn), daemon=True)
            pump.start()
            _relay(conn, upstream)
            pump.join(timeout=30)


def _relay(src: socket.socket, dst: socket.socket) -> None:
    try:
        while chunk := src.recv(65536):
            dst.sendall(chunk)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class TlsProxy:
    """``with TlsProxy(ctx, ("127.0.0.1", port)) as proxy:`` listens on ``proxy.port``."""

    def __init__(
        self, ssl_context: ssl.SSLContext, backend: tuple[str, int], host: str = "127.0.0.1"
    ):
        self.ssl_context = ssl_context
        self.backend = backend
        self.peers: list[str] = []
        self._lock = threading.Lock()
        self._server = _Server((host, 0), _Handler)
        self._server.owner = self
        self.host = host
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> TlsProxy:
        self._thread.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
