"""A local stand-in for Cloudflare AI Gateway, for tests and the local dev stack.

It serves `http://127.0.0.1:<port>/v1/<account>/<gateway>/<provider>/<rest>` like
the real gateway, records every request it receives (method, path, query,
headers, body digest), checks `cf-aig-authorization`, and answers through a
responder per provider that tests can replace to script exact bytes and timing.

It also answers the AI binding's URL lookups
(`/ai-gateway/gateways/<gateway>/url/<provider>`, what workerd's own `Ai` binding
asks its service for; miniflare's remote-binding proxy sends them with the original
URL in `MF-URL`), so `env.AI.gateway(id).getUrl(provider)` runs unchanged and points
at this server.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from devstack.server import LocalHttpServer, QuietHandler

ACCOUNT = "local-account"
URL_LOOKUP = re.compile(r"/ai-gateway/gateways/([^/]+)/url/([^/]+)")
KEEP_BODY = 1024 * 1024  # bodies up to this size are kept whole for assertions
# What workerd's binding asks for when getUrl() names no provider.
UNIVERSAL = "universal"


@dataclass
class Seen:
    """One request as the gateway received it."""

    method: str
    provider: str
    gateway_id: str
    rest: str
    query: str
    headers: list[tuple[str, str]]
    body_sha256: str
    body_length: int
    body: bytes | None

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name]
        return ", ".join(values) if values else None

    def json(self) -> Any:
        assert self.body is not None
        return json.loads(self.body)


class Reply:
    """How a responder answers: a head, then any number of flushed chunks."""

    def __init__(self, handler: BaseHTTPRequestHandler) -> None:
        self._handler = handler
        self._chunked = False

    def head(
        self, status: int, headers: list[tuple[str, str]], *, length: int | None = None
    ) -> None:
        self._handler.send_response(status)
        for name, value in headers:
            self._handler.send_header(name, value)
        if length is None:
            self._chunked = True
            self._handler.send_header("transfer-encoding", "chunked")
        else:
            self._handler.send_header("content-length", str(length))
        self._handler.end_headers()
        self._handler.wfile.flush()

    def write(self, data: bytes) -> None:
        """Send bytes now; raises OSError once the other side has gone away."""
        out = self._handler.wfile
        if self._chunked:
            out.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        else:
            out.write(data)
        out.flush()

    def abort(self) -> None:
        """Hang up without answering, like a gateway that cannot be reached."""
        self._handler.close_connection = True
        self._handler.connection.shutdown(socket.SHUT_RDWR)

    def end(self) -> None:
        if self._chunked:
            self._handler.wfile.write(b"0\r\n\r\n")
        self._handler.wfile.flush()

    def json(self, status: int, payload: Any, headers: tuple[tuple[str, str], ...] = ()) -> None:
        body = json.dumps(payload).encode()
        self.head(status, [("content-type", "application/json"), *headers], length=len(body))
        self.write(body)


Responder = Callable[[Seen, Reply], None]


WORKERS_AI_UNAUTHORIZED = {
    "success": False,
    "errors": [{"code": 10000, "message": "Authentication error"}],
    "messages": [],
    "result": None,
}


def _runs_on_workers_ai(seen: Seen) -> bool:
    """A request the gateway sends to Workers AI: its own route, or the OpenAI-compatible
    one for a `workers-ai/...` model."""
    if seen.provider == "workers-ai":
        return True
    if seen.provider != "compat" or seen.body is None:
        return False
    try:
        model = json.loads(seen.body).get("model")
    except (ValueError, AttributeError):
        return False
    return isinstance(model, str) and model.startswith("workers-ai/")


def echo(seen: Seen, reply: Reply) -> None:
    """Default answer: what arrived, so a caller can see the proxy's rewrite."""
    reply.json(200, {"provider": seen.provider, "rest": seen.rest, "query": seen.query})


@dataclass
class FakeGateway(LocalHttpServer):
    """The gateway on 127.0.0.1; a context manager. `token` is the expected gateway token."""

    token: str
    # The Cloudflare API token (Workers AI Read) Workers AI requests must carry in
    # `Authorization` (AI Gateway docs, "Workers AI"); None accepts none.
    workers_ai_token: str | None = None
    responders: dict[str, Responder] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    url_lookups: list[tuple[str, str]] = field(default_factory=list)
    # Caps used up, by the `userId` in cf-aig-metadata: (spent, limit) in dollars, and
    # the ids a policy blocks. AI Gateway then answers itself, before any provider, 429
    # or 403 with the bodies its docs show ("Policies": "Responses when a policy rejects
    # a request").
    tripped: dict[str, tuple[float, float]] = field(default_factory=dict)
    blocked: set[str] = field(default_factory=set)

    def refusal(self, seen: Seen) -> tuple[int, dict[str, Any]] | None:
        """AI Gateway's own answer for a request over a cap or blocked, else None."""
        try:
            user = json.loads(seen.header("cf-aig-metadata") or "{}").get("userId")
        except (ValueError, AttributeError):
            return None
        if user in self.blocked:
            return 403, {"success": False, "error": {"message": "Access denied by policy"}}
        if user not in self.tripped:
            return None
        spent, limit = self.tripped[user]
        error = {
            "message": "Spending limit exceeded",
            "bucket": f"user:{user}",
            "spent": spent,
            "limit": limit,
        }
        return 429, {"success": False, "error": error}

    def handler(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"
            # Head and body go out in separate writes; with Nagle on, each answer would
            # wait for the client's delayed ACK (40 ms) and swamp every measurement.
            disable_nagle_algorithm = True

            def handle_one(self) -> None:
                parts = urlsplit(self.path)
                if lookup := URL_LOOKUP.fullmatch(urlsplit(self.headers.get("mf-url", "")).path):
                    self._answer_url_lookup(*lookup.groups())
                    return
                segments = parts.path.split("/", 5)
                if len(segments) < 5 or segments[1] != "v1" or segments[2] != ACCOUNT:
                    self.send_error(404, "not an AI Gateway path")
                    return
                gateway_id, provider = segments[3], segments[4]
                rest = "/" + segments[5] if len(segments) > 5 else ""
                body = self._read_body()
                seen = Seen(
                    method=self.command,
                    provider=provider,
                    gateway_id=gateway_id,
                    rest=rest,
                    query=parts.query,
                    headers=[(k.lower(), v) for k, v in self.headers.items()],
                    body_sha256=hashlib.sha256(body).hexdigest(),
                    body_length=len(body),
                    body=body if len(body) <= KEEP_BODY else None,
                )
                gateway.seen.append(seen)
                reply = Reply(self)
                if seen.header("cf-aig-authorization") != f"Bearer {gateway.token}":
                    reply.json(
                        401,
                        {"success": False, "error": [{"code": 2009, "message": "Unauthorized"}]},
                    )
                    return
                if _runs_on_workers_ai(seen) and seen.header("authorization") != (
                    f"Bearer {gateway.workers_ai_token}"
                ):
                    # Workers AI's own answer, in the Cloudflare API's envelope.
                    reply.json(401, WORKERS_AI_UNAUTHORIZED)
                    return
                if (refused := gateway.refusal(seen)) is not None:
                    reply.json(*refused)
                    return
                gateway.responders.get(provider, echo)(seen, reply)

            def _answer_url_lookup(self, gateway_id: str, provider: str) -> None:
                gateway.url_lookups.append((gateway_id, provider))
                url = f"{gateway.origin}/v1/{ACCOUNT}/{gateway_id}"
                if provider != UNIVERSAL:  # getUrl() with no provider: the gateway's own
                    url += f"/{provider}"
                Reply(self).json(200, {"success": True, "result": {"url": url}})

            def _read_body(self) -> bytes:
                if self.headers.get("transfer-encoding", "").lower() == "chunked":
                    chunks: list[bytes] = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0], 16)
                        if size == 0:
                            self.rfile.readline()
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("content-length") or 0))

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_one

        return Handler
