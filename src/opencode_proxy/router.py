"""Routing: which handler answers which path and method, and who must be signed in."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property

from . import limits
from .access import AccessVerifier, AuthError, extract_token
from .catalog import CatalogStore
from .clients import (
    CLAUDE_CODE_PATH,
    CODEX_PATH,
    claude_code_settings,
    codex_config,
    login_hint,
)
from .discovery import Discovery
from .http import (
    Request,
    Response,
    bytes_response,
    error_response,
    json_response,
    refuse_method,
)
from .identity import Identity, UserMap
from .keys import KeysUnavailable
from .menu import Menu, Refused, admit
from .page import Page, catalog_state, page_response
from .ports import Defer, Platform
from .proxy import METHODS as PROXY_METHODS
from .proxy import Gateway, UnsafePath, check_rest, split_route
from .refresh import Refresher
from .settings import SettingError, Settings, origin_setting

log = logging.getLogger(__name__)

DISCOVERY_PATH = "/.well-known/opencode"
HEALTH_PATH = "/healthz"
WHOAMI_PATH = "/whoami"
# Clients fetch discovery on every start; a short cache absorbs bursts while a
# redeploy still reaches everyone within minutes. It may be shared only when the
# document names PUBLIC_ORIGIN, not the Host the request happened to carry.
DISCOVERY_CACHE_CONTROL = {True: "public, max-age=300", False: "private, max-age=300"}


@dataclass(frozen=True, slots=True)
class Call:
    """One request being served: what came in, who sent it, and a way to defer work."""

    request: Request
    defer: Defer
    identity: Identity | None = None


Handler = Callable[[Call], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Route:
    handler: Handler
    methods: frozenset[str]
    signed_in: bool


class App:
    """The Worker's request handler, independent of the runtime it runs in."""

    def __init__(self, discovery: Discovery, settings: Settings, platform: Platform) -> None:
        self.discovery = discovery
        self.settings = settings
        self.platform = platform
        self.user_map = UserMap(platform.users)
        self.catalog = CatalogStore(platform.cache, platform.clock)
        read_only = frozenset({"GET", "HEAD"})
        self.routes: dict[str, Route] = {
            DISCOVERY_PATH: Route(self.serve_discovery, read_only, signed_in=False),
            HEALTH_PATH: Route(self.serve_health, read_only, signed_in=False),
            WHOAMI_PATH: Route(self.serve_whoami, read_only, signed_in=True),
            "/": Route(self.serve_page, read_only, signed_in=False),
            CLAUDE_CODE_PATH: Route(self.serve_setup, read_only, signed_in=False),
            CODEX_PATH: Route(self.serve_setup, read_only, signed_in=False),
        }
        self.page = Page()

    async def handle(self, request: Request, defer: Defer) -> Response:
        """Answer one request; an unexpected failure becomes a JSON 500, never a traceback."""
        try:
            response = await self._dispatch(Call(request, defer))
        except Exception:
            log.exception("unhandled error on %s %s", request.method, request.path[:200])
            response = error_response(
                500, "internal_error", "The proxy failed unexpectedly; the error is logged."
            )
        return response.without_body() if request.method.upper() == "HEAD" else response

    async def _dispatch(self, call: Call) -> Response:
        request = call.request
        if (refused := limits.refuse(request)) is not None:
            return refused
        route = self.routes.get(request.path)
        if route is not None:
            if (refused := refuse_method(request, route.methods)) is not None:
                return refused
            if route.signed_in:
                signed_in = await self._sign_in(call)
                if isinstance(signed_in, Response):
                    return signed_in
                call = signed_in
            return await route.handler(call)
        target = split_route(request.path)
        if target is None:
            return error_response(
                404, "not_found", f"Nothing is served at this path. Try {DISCOVERY_PATH}."
            )
        return await self._proxy(call, *target)

    async def _proxy(self, call: Call, provider: str, rest: str) -> Response:
        if (refused := refuse_method(call.request, PROXY_METHODS)) is not None:
            return refused
        try:
            check_rest(rest)
        except UnsafePath as exc:
            return error_response(400, "bad_path", f"Refused: {exc}.")
        signed_in = await self._sign_in(call)
        if isinstance(signed_in, Response):
            return signed_in
        assert signed_in.identity is not None
        try:
            request = await admit(call.request, provider, rest, self.platform.body_model, self.menu)
        except Refused as refusal:
            return refusal.answer(self.origin_of(call.request) + DISCOVERY_PATH)
        try:
            return await self.gateway.forward(request, signed_in.identity, provider, rest)
        except SettingError as exc:
            log.error("configuration: %s", exc)
            return error_response(500, "config_error", str(exc))

    async def _sign_in(self, call: Call) -> Call | Response:
        """The call with its caller's identity, or the error response that refuses it."""
        try:
            return Call(call.request, call.defer, await self.authenticate(call))
        except AuthError as exc:
            return self._auth_error(exc, call.request)
        except SettingError as exc:
            log.error("configuration: %s", exc)
            return error_response(500, "config_error", str(exc))
        except KeysUnavailable:
            return error_response(
                503,
                "access_unavailable",
                "Cannot read Cloudflare Access signing keys right now; try again shortly.",
                headers=(("retry-after", "10"),),
            )

    async def menu(self) -> Menu:
        """The served models by route, as discovery lists them now."""
        return self.discovery.menu(await self.catalog.current())

    @cached_property
    def gateway(self) -> Gateway:
        return Gateway(
            gateway_id=self.settings.require("AI_GATEWAY_ID"),
            token=self.settings.require("GATEWAY_TOKEN"),
            gateway_url=self.platform.gateway_url,
            upstream=self.platform.upstream,
            clock=self.platform.clock,
            log_line=self.platform.log_line,
        )

    @cached_property
    def access(self) -> AccessVerifier:
        """Built on first use, so a missing setting is reported per request, not at start."""
        return AccessVerifier.from_settings(self.settings, self.platform)

    async def authenticate(self, call: Call) -> Identity:
        access = self.access
        token = extract_token(call.request.headers)
        if token is None:
            raise AuthError(
                401,
                "missing_token",
                "missing",
                "No Access token. Send it in the cf-access-token header (or "
                "cf-access-jwt-assertion, or Authorization: Bearer).",
            )
        identity = await access.identify(token)
        if self.user_map.needs_write(identity):
            call.defer(self.user_map.write(identity))
        return identity

    def _auth_error(self, exc: AuthError, request: Request) -> Response:
        """The refusal, telling the client that got it how to sign in again."""
        hint = ""
        if exc.status == 401:
            agent = request.headers.get("user-agent", "")
            hint = login_hint(agent, self.discovery.document["auth"], self.origin_of(request))
        return exc.response(hint)

    async def serve_setup(self, call: Call) -> Response:
        """Claude Code's settings.json or Codex CLI's config.toml, for this origin."""
        origin = self.origin_of(call.request)
        config = self.discovery.served_config(await self.catalog.current())
        auth = self.discovery.document["auth"]
        if call.request.path == CLAUDE_CODE_PATH:
            settings = claude_code_settings(config, auth, origin)
            return bytes_response(200, settings, cache_control="no-store")
        toml = codex_config(config, auth, origin)
        return bytes_response(
            200, toml, cache_control="no-store", content_type="text/plain; charset=utf-8"
        )

    async def serve_discovery(self, call: Call) -> Response:
        origin = self.origin_of(call.request)
        body = self.discovery.render(origin, await self.catalog.current())
        shared = self.public_origin is not None
        return bytes_response(200, body, cache_control=DISCOVERY_CACHE_CONTROL[shared])

    @cached_property
    def public_origin(self) -> str | None:
        """PUBLIC_ORIGIN when set and usable; the request's own origin serves otherwise."""
        value = self.settings.values.get("PUBLIC_ORIGIN")
        try:
            return None if value is None else origin_setting("PUBLIC_ORIGIN", value)
        except SettingError as exc:
            log.error("configuration: %s", exc)  # discovery must answer all the same
            return None

    def origin_of(self, request: Request) -> str:
        """The origin clients are told to use."""
        return self.public_origin or request.origin

    async def serve_health(self, call: Call) -> Response:
        return json_response(
            200,
            {
                "status": "ok",
                "runtime": dict(self.platform.runtime),
                "config": self.discovery.summary(),
                "catalog": await self.catalog.report(),
            },
        )

    async def serve_page(self, call: Call) -> Response:
        """`/`: a page for a person in a browser, a pointer for anything else."""
        origin = self.origin_of(call.request)
        if "text/html" not in call.request.headers.get("accept", ""):
            links = {"discovery": origin + DISCOVERY_PATH, "health": origin + HEALTH_PATH}
            return json_response(200, {"service": "opencode-proxy", **links})
        catalog = await self.catalog.current()
        try:
            caller: str | None = (await self.authenticate(call)).user_id
        except (AuthError, SettingError, KeysUnavailable):
            caller = None  # the page is for everyone; signing in only adds the id
        body = self.page.render(
            origin,
            self.discovery.served_config(catalog),
            catalog_state(await self.catalog.report()),
            catalog.digest if catalog is not None else None,
            caller,
        )
        return page_response(body)

    async def refresh_catalog(self) -> str:
        """The cron's work: refresh the model catalog from models.dev (or CATALOG_URL)."""
        return await Refresher.from_settings(self.settings, self.catalog, self.platform).run()

    async def serve_whoami(self, call: Call) -> Response:
        """Lets an engineer check a token: the anonymous id it maps to, never the email."""
        assert call.identity is not None
        return json_response(200, {"user_id": call.identity.user_id, "kind": call.identity.kind})
