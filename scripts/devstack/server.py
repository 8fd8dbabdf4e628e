"""What every local stand-in shares: start/stop, `with` support, an HTTP server thread."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Service:
    """Something started and stopped around a block: `with Thing(...) as running:`."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing: tests read what the servers recorded."""

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # room for every concurrent benchmark client at once


class LocalHttpServer(Service):
    """An HTTP server on 127.0.0.1 (`bind_port`, or a free port) in a background thread."""

    _server: _Server | None = None
    bind_port: int = 0  # 0: a free port

    def handler(self) -> type[BaseHTTPRequestHandler]:
        """The request handler class; it can reach `self` through a closure."""
        raise NotImplementedError

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        port: int = self._server.server_address[1]
        return port

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        self._server = _Server(("127.0.0.1", self.bind_port), self.handler())
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
