"""Routing: which handler answers which path and method."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .discovery import Discovery
from .http import Request, Response, error_response, json_bytes_response, json_response

Handler = Callable[[Request], Awaitable[Response]]

log = logging.getLogger(__name__)

DISCOVERY_PATH = "/.well-known/opencode"
HEALTH_PATH = "/healthz"
# Clients fetch discovery on every start; a short shared cache absorbs bursts
# while a redeploy still reaches everyone within minutes.
DISCOVERY_CACHE_CONTROL = "public, max-age=300"


@dataclass(frozen=True, slots=True)
class Route:
    handler: Handler
    methods: frozenset[str]


class App:
    """The Worker's request handler, independent of the runtime it runs in."""

    def __init__(self, discovery: Discovery) -> None:
        self.discovery = discovery
        read_only = frozenset({"GET", "HEAD"})
        self.routes: dict[str, Route] = {
            DISCOVERY_PATH: Route(self.serve_discovery, read_only),
            HEALTH_PATH: Route(self.serve_health, read_only),
        }

    async def handle(self, request: Request) -> Response:
        """Answer one request; an unexpected failure becomes a JSON 500, never a traceback."""
        try:
            response = await self._dispatch(request)
        except Exception:
            log.exception("unhandled error on %s %s", request.method, request.path[:200])
            response = error_response(
                500, "internal_error", "The proxy failed unexpectedly; the error is logged."
            )
        return response.without_body() if request.method.upper() == "HEAD" else response

    async def _dispatch(self, request: Request) -> Response:
        route = self.routes.get(request.path)
        if route is None:
            return error_response(
                404, "not_found", f"Nothing is served at this path. Try {DISCOVERY_PATH}."
            )
        method = request.method.upper()
        if method not in route.methods:
            allowed = ", ".join(sorted(route.methods))
            return error_response(
                405,
                "method_not_allowed",
                f"{method} is not supported on {request.path}; use {allowed}.",
                headers=(("allow", allowed),),
            )
        return await route.handler(request)

    async def serve_discovery(self, request: Request) -> Response:
        body = self.discovery.render(request.origin)
        return json_bytes_response(200, body, cache_control=DISCOVERY_CACHE_CONTROL)

    async def serve_health(self, request: Request) -> Response:
        return json_response(200, {"status": "ok", "config": self.discovery.summary()})
