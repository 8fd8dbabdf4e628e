"""The Worker's own routes: discovery, health, the page, /whoami and the client setups."""

from __future__ import annotations

from typing import ClassVar

from .agents import LAUNCHED
from .clients import (
    CLAUDE_CODE_MANAGED_PATH,
    CLAUDE_CODE_PATH,
    CODEX_PATH,
    OPENCODE_PATH,
    claude_code_settings,
    codex_profile,
    opencode_remote_config,
)
from .discovery import DISCOVERY_PATH
from .http import Response, bytes_response, json_response
from .launcher import LaunchedAgent, launcher_script
from .page import Page, catalog_state, page_response
from .services import Services
from .signin import Call

# Clients fetch discovery on every start; a short cache absorbs bursts while a
# redeploy still reaches everyone within minutes. It may be shared only when the
# document names PUBLIC_ORIGIN, not the Host the request happened to carry.
DISCOVERY_CACHE_CONTROL = {True: "public, max-age=300", False: "private, max-age=300"}


class Pages:
    """Handlers of the Worker's own paths."""

    DISCOVERY = DISCOVERY_PATH
    HEALTH = "/healthz"
    WHOAMI = "/whoami"
    # OpenCode's remote config answers 200 whatever it is sent (anything else stops
    # OpenCode from starting); the setup files a person saves refuse a bad token.
    OPENCODE_SETUP = OPENCODE_PATH
    LAUNCHERS: ClassVar[dict[str, LaunchedAgent]] = {agent.path: agent for agent in LAUNCHED}
    FILE_SETUPS = (CLAUDE_CODE_PATH, CLAUDE_CODE_MANAGED_PATH, CODEX_PATH, *LAUNCHERS)
    SETUP = (OPENCODE_SETUP, *FILE_SETUPS)

    def __init__(self, services: Services) -> None:
        self._services = services
        self._page = Page(services.discovery.document["auth"])

    async def discovery(self, call: Call, rest: str) -> Response:
        services = self._services
        origin = services.origin_of(call.request)
        body = services.discovery.render(origin, await services.catalog.current())
        shared = services.public_origin is not None
        return bytes_response(200, body, cache_control=DISCOVERY_CACHE_CONTROL[shared])

    async def health(self, call: Call, rest: str) -> Response:
        services = self._services
        return json_response(
            200,
            {
                "status": "ok",
                "runtime": dict(services.platform.runtime),
                "config": services.discovery.summary(),
                "catalog": await services.catalog.report(services.discovery.catalog_sources()),
            },
        )

    async def whoami(self, call: Call, rest: str) -> Response:
        """Lets an engineer check a token: the anonymous id it maps to, never the email."""
        assert call.identity is not None
        return json_response(200, {"user_id": call.identity.user_id, "kind": call.identity.kind})

    async def setup(self, call: Call, rest: str) -> Response:
        """A client's setup for this origin, with the caller's menu (the default menu for a
        caller without a valid token). OpenCode's remote config always answers 200 JSON:
        any other answer stops OpenCode from starting, and an expired token must still
        reach the provider routes' 401 and its login hint."""
        services = self._services
        origin = services.origin_of(call.request)
        catalog = await services.catalog.current()
        config = services.discovery.served_config(catalog, call.groups)
        auth = services.discovery.document["auth"]
        if call.request.path == OPENCODE_PATH:
            body = opencode_remote_config(config) if call.identity is not None else b"{}"
            return bytes_response(200, body, cache_control="private, no-store")
        if call.request.path in (CLAUDE_CODE_PATH, CLAUDE_CODE_MANAGED_PATH):
            managed = call.request.path == CLAUDE_CODE_MANAGED_PATH
            settings = claude_code_settings(config, auth, origin, managed=managed)
            return bytes_response(200, settings, cache_control="no-store")
        if (agent := self.LAUNCHERS.get(call.request.path)) is not None:
            text = launcher_script(agent, config, auth, origin)
        else:
            text = codex_profile(config, auth, origin)
        return bytes_response(
            200, text, cache_control="no-store", content_type="text/plain; charset=utf-8"
        )

    async def page(self, call: Call, rest: str) -> Response:
        """`/`: a page for a person in a browser, a pointer for anything else."""
        services = self._services
        origin = services.origin_of(call.request)
        if "text/html" not in call.request.headers.get("accept", ""):
            links = {"discovery": origin + self.DISCOVERY, "health": origin + self.HEALTH}
            return json_response(200, {"service": "opencode-proxy", **links})
        catalog = await services.catalog.current()
        body = self._page.render(
            origin,
            services.discovery.served_config(catalog, call.groups),
            catalog_state(await services.catalog.report(services.discovery.catalog_sources())),
            catalog.version if catalog is not None else None,
            call.identity.user_id if call.identity is not None else None,
            call.groups,
        )
        return page_response(body)
