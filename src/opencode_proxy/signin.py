"""Who is calling: the Access token verified, the caller named, other sites kept out.

Cookies sign in people, not other sites' requests: the `CF_Authorization` cookie
counts only where a route allows it (the page, /whoami), and a signed-in request a
browser marks as sent by another site is refused, so a page elsewhere cannot spend
as the engineer who has it open.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .access import extract_token, unauthorized
from .callers import login_hint
from .dialects import Dialect
from .http import Request
from .identity import Identity
from .keys import KeysUnavailable
from .ports import Defer
from .refusal import Refusal, config_error
from .services import Services
from .settings import SettingError

# What `Sec-Fetch-Site` says of a request the Worker's own page or a client sent.
_OWN_SITE = frozenset({"same-origin", "none"})


@dataclass(slots=True)
class Call:
    """One request being served, and what is learned of it on the way (for the log)."""

    request: Request
    defer: Defer
    # The error format of the route (and endpoint) the request names.
    dialect: Dialect = Dialect.WORKER
    route: str = ""
    endpoint: str | None = None
    identity: Identity | None = None
    # The config-src groups the caller is in, in name order (their menu depends on them).
    groups: tuple[str, ...] = ()


def refuse_cross_site(request: Request, origins: set[str]) -> None:
    """Raise 403 when a browser says another site sent this request."""
    site = request.headers.get("sec-fetch-site", "").strip().lower()
    origin = request.headers.get("origin")
    if (site and site not in _OWN_SITE) or (origin is not None and origin not in origins):
        raise Refusal(
            403,
            "cross_site",
            "Requests sent by another site's page are refused; call this URL from a "
            "coding agent, an SDK or a terminal.",
        )


class SignIn:
    """Verifies the caller of a signed-in route; raises Refusal in the route's terms."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def identify(self, call: Call, *, cookies: bool, key_header: str | None = None) -> None:
        """Set `call.identity` and `call.groups`, or raise the refusal."""
        request = call.request
        try:
            token = self._token(request, cookies=cookies, key_header=key_header)
            identity = await self._services.access.identify(token)
        except SettingError as exc:
            raise config_error(str(exc)) from None
        except KeysUnavailable:
            raise Refusal(
                503,
                "access_unavailable",
                "Cannot read Cloudflare Access signing keys right now; try again shortly.",
                headers=(("retry-after", "10"),),
            ) from None
        except Refusal as refusal:
            if refusal.status != 401:
                raise
            raise refusal.with_hint(self._hint(request)) from None
        services = self._services
        origins = {request.origin, services.origin_of(request)}
        refuse_cross_site(request, origins)
        if services.user_map.needs_write(identity):
            call.defer(services.user_map.write(identity))
        try:
            groups = await services.membership.groups_of(identity, token, call.defer)
        except SettingError as exc:
            raise config_error(str(exc)) from None
        call.identity, call.groups = identity, groups

    def _token(self, request: Request, *, cookies: bool, key_header: str | None) -> str:
        token = extract_token(request.headers, cookies=cookies, key_header=key_header)
        if token is None:
            as_key = f", or as the API key, {key_header}" if key_header else ""
            raise unauthorized(
                "missing_token",
                "missing",
                "No Access token. Send it in the cf-access-token header (or "
                f"cf-access-jwt-assertion, or Authorization: Bearer{as_key}).",
            )
        return token

    def _hint(self, request: Request) -> str:
        """How the client that got a 401 signs in again, in its own terms."""
        auth: Mapping[str, Any] = self._services.discovery.document["auth"]
        agent = request.headers.get("user-agent", "")
        return login_hint(agent, auth, self._services.origin_of(request))
