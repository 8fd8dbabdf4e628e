"""A hostname whose every path is behind Access, as a client without a session sees it."""

from __future__ import annotations

from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from devstack.server import LocalHttpServer, QuietHandler

LOGIN_PAGE = b"<!doctype html><title>Sign in</title><form>Sign in with your account</form>"


@dataclass
class AccessLogin(LocalHttpServer):
    """What a path left behind Access answers a client without a session: a redirect to
    the team's login page."""

    def handler(self) -> type[BaseHTTPRequestHandler]:
        class Handler(QuietHandler):
            def do_GET(self) -> None:
                self.send_response(302)
                self.send_header(
                    "location", "https://team.cloudflareaccess.com/cdn-cgi/access/login"
                )
                self.send_header("content-type", "text/html")
                self.send_header("content-length", str(len(LOGIN_PAGE)))
                self.end_headers()
                self.wfile.write(LOGIN_PAGE)

        return Handler
