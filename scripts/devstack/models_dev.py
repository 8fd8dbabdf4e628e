"""A local stand-in for models.dev's api.json, for tests and the offline dev stack.

Serves one document with an ETag, honours If-None-Match with 304, records the
headers of every request, and can be switched to any status or body, or to
answering only after `stall` seconds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from devstack.server import LocalHttpServer, QuietHandler


@dataclass
class LocalModelsDev(LocalHttpServer):
    body: bytes
    etag: str | None = '"v1"'
    status: int = 200
    stall: float = 0.0
    requests: list[dict[str, str]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{self.origin}/api.json"

    def serve(self, body: bytes, *, etag: str | None, status: int = 200) -> None:
        self.body, self.etag, self.status = body, etag, status

    def handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                site.requests.append({k.lower(): v for k, v in self.headers.items()})
                time.sleep(site.stall)
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

        return Handler
