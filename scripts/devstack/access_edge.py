"""A local stand-in for the Cloudflare Access edge in front of the Worker.

It applies Access applications as provisioning creates them: one on the hostname
(allow) and one per path the Worker keeps outside Access (bypass); the most specific
path wins, and a path application covers the paths below it. On a protected path:
- a valid credential (the `CF_Authorization` cookie, or the `cf-access-token` header
  Cloudflare documents for command-line clients) passes, with the
  `Cf-Access-Jwt-Assertion` header added as the edge adds it;
- a missing, expired or invalid one gets a 302 to the team's login page, as users
  report Access answers non-browser clients too (the 401 switches Access offers are
  for WARP and service tokens only), which no coding agent follows.
Bypassed paths pass untouched. After a sign-in at the team's login page, Access sends
the browser to `/cdn-cgi/access/authorized` on the hostname, which sets the cookie.
Answers stream through as they arrive. Never deployed.
"""

from __future__ import annotations

import http.client
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import jwt

from devstack.access import LOGIN_PATH, LocalAccess
from devstack.server import LocalHttpServer, QuietHandler
from opencode_proxy.access import ACCESS_COOKIE

ASSERTION = "Cf-Access-Jwt-Assertion"
TOKEN_HEADER = "cf-access-token"  # noqa: S105 (a header name)
AUTHORIZED = "/cdn-cgi/access/authorized"
# Hop-by-hop headers (RFC 9110 7.6.1): each hop sets its own. `Upgrade` is passed on, so
# the Worker itself refuses a WebSocket upgrade in words.
_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "te", "trailer"})
_FRAMING = frozenset({"transfer-encoding", "content-length"})


@dataclass(frozen=True)
class EdgeApp:
    """One Access application: `path` "" for the hostname's own, `bypass` for a Bypass
    policy (everyone passes, no identity added)."""

    path: str
    bypass: bool

    def covers(self, path: str) -> bool:
        return not self.path or path == self.path or path.startswith(self.path + "/")


def apps_for(public_paths: tuple[str, ...] | list[str]) -> list[EdgeApp]:
    """The applications provisioning makes: the hostname, and a bypass per public path."""
    return [EdgeApp("", bypass=False), *(EdgeApp(path, bypass=True) for path in public_paths)]


@dataclass
class LocalAccessEdge(LocalHttpServer):
    """The edge on 127.0.0.1 (`bind_port`, or a free port) in front of `upstream`."""

    upstream: str
    access: LocalAccess
    audience: str
    apps: list[EdgeApp] = field(default_factory=list)
    bind_port: int = 0
    # Requests answered with a redirect to the login page, for tests.
    redirected: list[str] = field(default_factory=list)

    def app_for(self, path: str) -> EdgeApp | None:
        covering = [app for app in self.apps if app.covers(path)]
        return max(covering, key=lambda app: len(app.path)) if covering else None

    def valid(self, token: str | None) -> bool:
        """Whether Access would take `token` for this application: its signature, team,
        audience and times."""
        if not token:
            return False
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = next(k for k in self.access.published if k.kid == kid)
            jwt.decode(
                token,
                key.private_key.public_key(),
                algorithms=["RS256"],
                audience=self.audience,
                issuer=self.access.origin,
            )
        except (jwt.InvalidTokenError, StopIteration):
            return False
        return True

    def handler(self) -> type[BaseHTTPRequestHandler]:
        edge = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def _credential(self) -> str | None:
                for pair in self.headers.get("cookie", "").split(";"):
                    name, _, value = pair.strip().partition("=")
                    if name == ACCESS_COOKIE and value:
                        return value
                return self.headers.get(TOKEN_HEADER)

            def _redirect(self, location: str, cookie: str | None = None) -> None:
                self.send_response(302)
                self.send_header("location", location)
                if cookie is not None:
                    self.send_header(
                        "set-cookie", f"{ACCESS_COOKIE}={cookie}; Path=/; HttpOnly; SameSite=Lax"
                    )
                self.send_header("content-length", "0")
                self.end_headers()

            def _body(self) -> bytes | None:
                if self.headers.get("transfer-encoding", "").lower() == "chunked":
                    chunks = []
                    while size := int(self.rfile.readline().split(b";")[0], 16):
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    self.rfile.readline()
                    return b"".join(chunks)
                length = int(self.headers.get("content-length") or 0)
                return self.rfile.read(length) if length else None

            def handle_one(self) -> None:
                parts = urlsplit(self.path)
                body = self._body()
                if parts.path == AUTHORIZED:
                    query = parse_qs(parts.query)
                    signed = query.get("token", [""])[0]
                    back = query.get("redirect_url", ["/"])[0]
                    if edge.valid(signed) and back.startswith("/"):
                        self._redirect(back, cookie=signed)
                    else:
                        self.send_error(403, "not a valid sign-in")
                    return
                app = edge.app_for(parts.path)
                headers = [(k, v) for k, v in self.headers.items() if k.lower() not in _HOP]
                if app is not None and not app.bypass:
                    token = self._credential()
                    if not edge.valid(token):
                        edge.redirected.append(self.path)
                        host = self.headers.get("host", "")
                        self._redirect(
                            f"{edge.access.origin}{LOGIN_PATH}{host}?kid={edge.audience}"
                            f"&redirect_url={quote(self.path, safe='')}"
                        )
                        return
                    headers = [(k, v) for k, v in headers if k.lower() != ASSERTION.lower()]
                    headers.append((ASSERTION, str(token)))
                self._forward(headers, body)

            def _forward(self, headers: list[tuple[str, str]], body: bytes | None) -> None:
                upstream = urlsplit(edge.upstream)
                conn = http.client.HTTPConnection(
                    upstream.hostname or "127.0.0.1", upstream.port, timeout=300
                )
                sent = [(k, v) for k, v in headers if k.lower() not in _FRAMING]
                conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for name, value in sent:
                    conn.putheader(name, value)
                if body is not None:
                    conn.putheader("content-length", str(len(body)))
                conn.endheaders(body)
                answer = conn.getresponse()
                try:
                    self._relay(answer)
                finally:
                    conn.close()

            def _relay(self, answer: http.client.HTTPResponse) -> None:
                self.send_response(answer.status, answer.reason)
                length = answer.getheader("content-length")
                for name, value in answer.getheaders():
                    if name.lower() not in _HOP | _FRAMING:
                        self.send_header(name, value)
                bodyless = self.command == "HEAD" or answer.status in (204, 304)
                if length is not None or bodyless:
                    if length is not None:
                        self.send_header("content-length", length)
                    self.end_headers()
                    if not bodyless:
                        self.wfile.write(answer.read())
                    return
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                while chunk := answer.read1(65536):
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_one
            do_OPTIONS = do_TRACE = handle_one

        return Handler


def dashboard_apps(account: Any, hostname: str) -> list[EdgeApp]:
    """The applications an account of the Cloudflare API stand-in holds for `hostname`,
    as the edge applies them."""
    apps = []
    for app in account.apps:
        domain = str(app.get("domain", ""))
        if domain == hostname or domain.startswith(hostname + "/"):
            policies = account.policies.get(app["id"], [])
            bypass = any(p.get("decision") == "bypass" for p in policies)
            apps.append(EdgeApp(domain.removeprefix(hostname), bypass=bypass))
    return apps
