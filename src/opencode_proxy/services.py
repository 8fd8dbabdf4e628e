"""The composition root: the one place settings are read and services are built.

Each service is built on first use, so a missing setting fails only what needs
it (discovery and /healthz need none), with a message naming the setting and the
fix; a failed build is tried again on the next use, never cached.
"""

from __future__ import annotations

import logging
from functools import cached_property

from .access import CERTS_PATH, AccessPolicy, AccessVerifier
from .body import BODY_LIMIT
from .brake import Brake
from .catalog import DEFAULT_URL, CatalogStore
from .discovery import CompiledConfigError, Discovery
from .endpoints import BadEndpoint, ProviderRoute, provider_routes
from .http import Request
from .identity import UserMap
from .keys import KeySet
from .membership import GroupSource, Membership
from .parse_gate import ParseGate
from .ports import Platform
from .proxy import Gateway
from .refresh import Refresher
from .settings import (
    SettingError,
    Settings,
    access_team_origin,
    groups_claim,
    logs_every_request,
    origin_setting,
)

log = logging.getLogger(__name__)


class Services:
    """What the Worker's routes and cron are built from, for one isolate."""

    def __init__(self, discovery: Discovery, settings: Settings, platform: Platform) -> None:
        self.discovery = discovery
        self.settings = settings
        self.platform = platform
        self.catalog = CatalogStore(platform.cache, platform.clock)
        self.user_map = UserMap(platform.users)
        try:
            routes = provider_routes(discovery.document.get("endpoints", {}))
        except BadEndpoint as exc:  # the build checks them: this copy was edited by hand
            raise CompiledConfigError(f"opencode.json endpoints: {exc}") from None
        self.provider_routes: tuple[ProviderRoute, ...] = routes

    @cached_property
    def access(self) -> AccessVerifier:
        """The verifier for the team, application and id key the settings name."""
        team = access_team_origin(self.settings.require("ACCESS_TEAM_DOMAIN"))
        policy = AccessPolicy(
            issuer=team,
            audience=self.settings.require("ACCESS_AUD"),
            user_id_key=self.settings.require("USER_ID_KEY"),
            allow_service_tokens=self.settings.flag("ALLOW_SERVICE_TOKENS"),
            groups_claim=self._groups_claim,
        )
        platform = self.platform
        keys = KeySet(
            team + CERTS_PATH,
            http_get=platform.http_get,
            kv=platform.cache,
            rs256=platform.rs256,
            clock=platform.clock,
        )
        return AccessVerifier(policy, keys, clock=platform.clock, rs256=platform.rs256)

    @cached_property
    def _groups_claim(self) -> str | None:
        return groups_claim(self.settings.values.get("GROUPS_FROM"))

    @cached_property
    def membership(self) -> Membership:
        """config-src's groups, with Access groups from GROUPS_FROM (get-identity at
        ACCESS_TEAM_DOMAIN by default)."""
        team = access_team_origin(self.settings.require("ACCESS_TEAM_DOMAIN"))
        platform = self.platform
        return Membership(
            self.discovery.groups,
            GroupSource(team, self._groups_claim),
            http_get=platform.http_get,
            kv=platform.cache,
            clock=platform.clock,
            log_line=platform.log_line,
        )

    @cached_property
    def log_every_request(self) -> bool:
        return logs_every_request(self.settings.values.get("REQUEST_LOG"))

    @cached_property
    def parse_gate(self) -> ParseGate:
        """Large bodies parsed at once, per isolate: at most one of the largest."""
        return ParseGate(BODY_LIMIT)

    @cached_property
    def brake(self) -> Brake | None:
        """The per-person limit wrangler.toml's [[ratelimits]] sets, when it sets one."""
        compiled = self.discovery.document.get("rate_limit")
        return None if compiled is None else Brake.of(self.platform.rate_limit, compiled)

    @cached_property
    def gateway(self) -> Gateway:
        return Gateway(
            gateway_id=self.settings.require("AI_GATEWAY_ID"),
            token=self.settings.require("GATEWAY_TOKEN"),
            workers_ai_token=self.settings.values.get("WORKERS_AI_TOKEN"),
            gateway_url=self.platform.gateway_url,
            upstream=self.platform.upstream,
            timer=self.platform.timer,
            log_line=self.platform.log_line,
            budgets=self.discovery.budgets,
            clock=self.platform.clock,
            log_every_request=self.log_every_request,
        )

    @cached_property
    def refresher(self) -> Refresher:
        """The cron's refresh: CATALOG_URL (models.dev) for the models.dev providers the
        config-src providers name."""
        return Refresher(
            self.catalog,
            self.platform.http_get,
            self.platform.clock,
            self.platform.log_line,
            url=self.settings.values.get("CATALOG_URL", DEFAULT_URL),
            providers=self.discovery.catalog_sources(),
        )

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
