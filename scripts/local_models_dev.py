"""A local stand-in for models.dev's api.json, for tests and the offline dev stack.

Serves one document with an ETag, honours If-None-Match with 304, records the
headers of every request, and can be switched to any status or body.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass
class LocalModelsDev:
    body: bytes
    etag: str | None = '"v1"'
    status: int = 200
    requests: list[dict[str, str]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/api.json"

    def serve(self, body: bytes, *, etag: str | None, status: int = 200) -> None:
        self.body, self.etag, self.status = body, etag, status

    def start(self) -> LocalModelsDev:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append({k.lower(): v for k, v in self.headers.items()})
                if site.etag is not None and self.headers.get("if-none-match") == site.etag:
                    self.send_response(304)
                    self.send_header("etag", site.etag)
                    self.end_headers()
                    return
                self.send_response(site.status)
                self.send_header("content-type", "application/json")
                if site.etag is not None:
                    self.send_header("etag", site.etag)
                self.send_header("content-length", str(len(site.body)))
                self.end_headers()
                self.wfile.write(site.body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests read `requests` instead."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LocalModelsDev:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
