"""Routing: one table of every route, the provider prefixes included.

A request enters once and goes through, in order: the limits every request must
meet, the route (a `Route` for the Worker's own pages, a `Mount` for a provider
prefix), the route's own checks (method, or a path that means what it says), the
sign-in the route declares, then its handler. Anything refused on the way is a
`Refusal`, rendered in the route's dialect and logged in one place, here.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import Enum

from . import limits
from .access import token_sent
from .dialects import Dialect, render
from .endpoints import ProviderRoute
from .http import Request, Response, refuse_method
from .pages import Pages
from .pipeline import ProviderPipeline
from .ports import Defer
from .proxy import check_rest
from .refusal import Refusal, config_error
from .services import Services
from .settings import SettingError
from .signin import Call, SignIn

log = logging.getLogger(__name__)

READ_ONLY = frozenset({"GET", "HEAD"})


class Auth(Enum):
    NONE = "none"
    OPTIONAL = "optional"  # answered for everyone; a signed-in caller gets their own
    # Answered without a token (the default); a token that is sent must be valid, so a
    # failed sign-in never looks like success.
    IF_SENT = "if_sent"
    REQUIRED = "required"


Handler = Callable[[Call, str], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Route:
    """One exact path of the Worker's own, answered by `handler`."""

    path: str
    handler: Handler
    auth: Auth = Auth.NONE
    # Whether the CF_Authorization cookie may sign in (pages a person opens).
    cookies: bool = False
    methods: frozenset[str] = READ_ONLY
    # Outside Access at the edge (see `App.public_paths`).
    public: bool = True

    @property
    def key_header(self) -> str | None:
        return None  # a page of the Worker's own takes no API key

    def rest(self, path: str) -> str | None:
        return "" if path == self.path else None

    def dialect_for(self, rest: str) -> Dialect:
        return Dialect.WORKER

    def check(self, request: Request, rest: str) -> None:
        refuse_method(request, self.methods)


@dataclass(frozen=True, slots=True)
class Mount:
    """`/<prefix>` and everything below it, for a provider route; always signed in."""

    route: ProviderRoute
    handler: Handler
    auth: Auth = Auth.REQUIRED
    cookies: bool = False
    public: bool = True

    @property
    def path(self) -> str:
        return "/" + self.route.prefix

    @property
    def key_header(self) -> str | None:
        return self.route.key_header

    def rest(self, path: str) -> str | None:
        head, slash, rest = path[1:].partition("/")
        return slash + rest if head == self.route.prefix else None

    def dialect_for(self, rest: str) -> Dialect:
        return self.route.dialect_for(rest)

    def check(self, request: Request, rest: str) -> None:
        check_rest(rest)


Entry = Route | Mount


class App:
    """The Worker's request handler, independent of the runtime it runs in."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.sign_in = SignIn(services)
        pages = Pages(services)
        self.routes: Sequence[Entry] = (
            Route("/", pages.page, auth=Auth.OPTIONAL, cookies=True, public=False),
            Route(pages.DISCOVERY, pages.discovery),
            Route(pages.HEALTH, pages.health),
            Route(pages.WHOAMI, pages.whoami, auth=Auth.REQUIRED, cookies=True),
            Route(pages.OPENCODE_SETUP, pages.setup, auth=Auth.OPTIONAL),
            *(Route(path, pages.setup, auth=Auth.IF_SENT) for path in pages.FILE_SETUPS),
            *(
                Mount(route, ProviderPipeline(route, services))
                for route in services.provider_routes
            ),
        )

    def public_paths(self) -> list[str]:
        """The paths Access must leave open at the edge. Clients fetch discovery and the
        setups before they have a token. The provider routes and /whoami the Worker signs
        in itself (signature, team, audience, times): Access would answer an expired
        token with a redirect to its login page, which no coding agent follows, where the
        Worker's 401 makes Claude Code and Codex sign in again and tells OpenCode's user
        how. Only the page stays behind Access."""
        return [e.path for e in self.routes if e.public]

    async def handle(self, request: Request, defer: Defer) -> Response:
        """Answer one request; a refusal in the route's dialect, an unexpected failure a
        JSON 500, never a traceback."""
        call = Call(request, defer)
        try:
            response = await self._dispatch(call)
        except Refusal as refusal:
            response = self._refused(call, refusal)
        except SettingError as exc:
            response = self._refused(call, config_error(str(exc)))
        except Exception:
            log.exception("unhandled error on %s %s", request.method, request.path[:200])
            failed = "The proxy failed unexpectedly; the error is logged."
            response = self._refused(call, Refusal(500, "internal_error", failed))
        return response.without_body() if request.method.upper() == "HEAD" else response

    async def _dispatch(self, call: Call) -> Response:
        request = call.request
        limits.check(request)
        for entry in self.routes:
            rest = entry.rest(request.path)
            if rest is not None:
                break
        else:
            raise Refusal(
                404, "not_found", f"Nothing is served at this path. Try {Pages.DISCOVERY}."
            )
        call.route, call.dialect = entry.path, entry.dialect_for(rest)
        entry.check(request, rest)
        if entry.auth is Auth.REQUIRED or (
            entry.auth is Auth.IF_SENT and token_sent(request.headers)
        ):
            await self.sign_in.identify(call, cookies=entry.cookies, key_header=entry.key_header)
        elif entry.auth is Auth.OPTIONAL:
            # Answered for everyone; signing in only makes it the caller's own.
            with contextlib.suppress(Refusal):
                await self.sign_in.identify(call, cookies=entry.cookies)
        return await entry.handler(call, rest)

    def _refused(self, call: Call, refusal: Refusal) -> Response:
        # One line per refusal: never a token, an email or a body.
        identity = call.identity
        self.services.platform.log_line(
            json.dumps(
                {
                    "event": "refused",
                    "status": refusal.status,
                    "type": refusal.error_type,
                    "reason": refusal.reason,
                    "route": call.route or None,
                    "endpoint": call.endpoint,
                    "userId": identity.user_id if identity is not None else None,
                },
                separators=(",", ":"),
            )
        )
        return render(refusal, call.dialect)
