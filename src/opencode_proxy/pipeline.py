"""A provider route, after sign-in: endpoint, model, forward.

The router has already applied the limits, checked the path, chosen the error
format for it and signed the caller in. Here the request must be one of the
route's endpoints and within the caller's request limit, every model it names must
be on the caller's menu, and only then does it go to AI Gateway. Listings are
answered from the caller's menu and never forwarded.
"""

from __future__ import annotations

from .body import body_models
from .callers import client_of
from .endpoints import ProviderRoute
from .http import Response
from .listings import listing
from .menu import Menu
from .proxy import request_line
from .refusal import Refusal
from .services import Services
from .signin import Call

# How many served ids a refusal names before pointing at the whole menu.
_NAMED = 8


class ProviderPipeline:
    """`/<prefix>/...` for a signed-in caller."""

    def __init__(self, route: ProviderRoute, services: Services) -> None:
        self.route = route
        self._services = services

    async def __call__(self, call: Call, rest: str) -> Response:
        route, services = self.route, self._services
        match = route.match(call.request.method.upper(), rest)
        endpoint = match.endpoint
        call.endpoint = endpoint.label
        assert call.identity is not None
        if services.brake is not None:
            await services.brake.check(call.identity)
        menu = services.discovery.menu(await services.catalog.current(), call.groups)
        group = call.groups[0] if call.groups else None
        request = call.request
        if endpoint.model == "listing":
            served = menu.models(route.prefix)
            answer = listing(
                call.dialect, served, match.path_model, route.prefix, query=request.query
            )
            if services.log_every_request:
                client = client_of(request.headers.get("user-agent", ""))
                line = request_line(
                    call.identity, group, client, route.provider, rest, answer.status, 0.0
                )
                services.platform.log_line(line)
            return answer
        models: tuple[str, ...] = ()
        if match.path_model is not None:
            models = (match.path_model,)
        elif endpoint.model in ("body", "nested"):
            models, request = await body_models(
                request,
                endpoint,
                route.prefix,
                read=services.platform.read_body,
                chunks=services.platform.body_chunks,
                native=services.platform.native_model,
                gate=services.parse_gate,
            )
        for model in models:
            if not menu.allows(route.prefix, model):
                raise self._not_served(model, menu, services.origin_of(request), call.groups)
        return await services.gateway.forward(
            request, call.identity, route, rest, models=models, group=group
        )

    def _not_served(self, model: str, menu: Menu, origin: str, groups: tuple[str, ...]) -> Refusal:
        """400, not 403: clients show a 400's message at once, while a 403 sends Claude
        Code and Codex into sign-in retries."""
        prefix = self.route.prefix
        served = sorted(menu.models(prefix))
        named = ", ".join(served[:_NAMED]) + (
            f" and {len(served) - _NAMED} more" if len(served) > _NAMED else ""
        )
        offer = f" Served to you here: {named}." if served else " No model is served to you here."
        whose = f"your model menu (groups: {', '.join(groups)})" if groups else "your model menu"
        return Refusal(
            400,
            "model_not_allowed",
            f"{model!r} is not on {whose} for /{prefix}.{offer} "
            f"Your whole menu is shown at {origin}/ .",
        )
