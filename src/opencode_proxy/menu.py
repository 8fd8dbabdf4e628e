"""The model menu: which models each provider serves, shown to clients and enforced.

One computation serves both sides. Discovery lists exactly these models (each
provider's `whitelist`, every model with a `status`, and only these providers
enabled), so OpenCode's own bundled model list cannot add to them; the proxy
refuses a request for any other model on the route the provider uses.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from .http import Request, Response, error_response
from .ports import BodyModel, BodyTooLarge

BASE_URL_PLACEHOLDER = "{baseURL}"
# A served model without a status takes OpenCode's bundled one, which may be
# "deprecated" and drop it from the list.
SERVED_STATUS = "active"
# Bodies up to this size are read to find the model they ask for; larger ones are refused.
BODY_LIMIT = 32 * 1024 * 1024
# Routes whose requests name the model in the path: Gemini's `models/<id>:<method>` and
# Workers AI's `/@cf/...` model paths.
_GEMINI_MODEL = re.compile(r"/v1(?:beta|alpha)?/models/([^/:]+)")
_METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True, slots=True)
class CatalogRule:
    """config-src's choice of a provider's catalog models: those of its models.dev
    provider (`source`, ids with `prefix` in front) matching `serve` but not `hide`."""

    source: str | None = None
    prefix: str = ""
    serve: tuple[str, ...] = ("*",)
    hide: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> CatalogRule:
        return cls(
            value.get("source"),
            str(value.get("prefix", "")),
            tuple(value.get("serve", ("*",))),
            tuple(value.get("hide", ())),
        )

    def offered(self, catalog: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        """The catalog models of this provider's models.dev source, under served ids."""
        models = catalog.get(self.source, {}) if self.source is not None else {}
        return {self.prefix + model_id: entry for model_id, entry in models.items()}

    def takes(self, model_id: str) -> bool:
        return any(fnmatchcase(model_id, p) for p in self.serve) and not any(
            fnmatchcase(model_id, p) for p in self.hide
        )


def served_models(
    pinned: Mapping[str, Any], offered: Mapping[str, Any], rule: CatalogRule
) -> dict[str, Any]:
    """config-src's models as written, then the catalog models the rule takes, each with a
    status."""
    models = dict(pinned)
    for model_id, entry in offered.items():
        if model_id not in models and rule.takes(model_id):
            models[model_id] = entry
    return {
        model_id: entry if "status" in entry else {**entry, "status": SERVED_STATUS}
        for model_id, entry in models.items()
    }


def route_of(provider: Mapping[str, Any]) -> str | None:
    """The proxy route a provider's requests use: `{baseURL}/<route>/...` -> `<route>`."""
    base = str(provider.get("options", {}).get("baseURL", ""))
    if not base.startswith(BASE_URL_PLACEHOLDER + "/"):
        return None
    return base[len(BASE_URL_PLACEHOLDER) + 1 :].split("/", 1)[0]


@dataclass(frozen=True, slots=True)
class Menu:
    """Served model ids by proxy route (several providers may share one route)."""

    by_route: Mapping[str, frozenset[str]]

    @classmethod
    def of(cls, providers: Mapping[str, Mapping[str, Any]]) -> Menu:
        routes: dict[str, set[str]] = {}
        for provider in providers.values():
            route = route_of(provider)
            if route is not None:
                routes.setdefault(route, set()).update(provider.get("models", {}))
        return cls({route: frozenset(ids) for route, ids in routes.items()})

    def allows(self, route: str, model: str) -> bool:
        return model in self.by_route.get(route, frozenset())


class Refused(Exception):
    """The request may not go on: `status`, `error_type` and a message for its sender."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error_type, self.message = status, error_type, message

    def answer(self, listed_at: str) -> Response:
        """The JSON error, pointing at the discovery document that lists the menu."""
        message = self.message
        if self.error_type == "model_not_allowed":
            message += (
                f" The models served here are listed in {listed_at} (each provider's whitelist)."
            )
        return error_response(self.status, self.error_type, message)


def model_in_path(route: str, rest: str) -> str | None:
    if route == "google-ai-studio":
        found = _GEMINI_MODEL.match(rest)
        return found.group(1) if found else None
    if route == "workers-ai" and rest.startswith("/@"):
        return rest[1:]
    return None


async def requested_model(
    request: Request, route: str, rest: str, read: BodyModel
) -> tuple[str | None, Request]:
    """The model a proxied request asks for, and the request to forward.

    None means the request generates nothing (a GET, or a Gemini model listing).
    A body is read only when the route carries the model there; the request then
    forwards the bytes that were read.
    """
    in_path = model_in_path(route, rest)
    if in_path is not None or route == "google-ai-studio":
        return in_path, request
    if request.method.upper() not in _METHODS_WITH_BODY:
        return None, request
    if request.body is None:
        raise _no_model(route, "the request has no body")
    declared = request.headers.get("content-length", "")
    try:
        if declared.isdigit() and int(declared) > BODY_LIMIT:
            raise BodyTooLarge(declared)
        model, body = await read(request.body, BODY_LIMIT)
    except BodyTooLarge:
        limit = f"{BODY_LIMIT // 2**20} MiB"
        message = f"Request bodies on /{route} are limited to {limit}."
        raise Refused(413, "body_too_large", message) from None
    except OSError:  # the client went away, or sent a body that cannot be read
        raise Refused(400, "bad_body", "The request body could not be read.") from None
    if model is None:
        raise _no_model(route, "the body is not a JSON object with a string `model`")
    return model, dataclasses.replace(request, body=body)


async def admit(
    request: Request, route: str, rest: str, read: BodyModel, menu: Callable[[], Awaitable[Menu]]
) -> Request:
    """The request to forward, once the model it asks for is on the menu; raises Refused.

    Runs after sign-in: an unauthenticated body is never read."""
    model, request = await requested_model(request, route, rest, read)
    if model is not None and not (await menu()).allows(route, model):
        message = f"{model!r} is not served on /{route}."
        raise Refused(403, "model_not_allowed", message)
    return request


def _no_model(route: str, why: str) -> Refused:
    return Refused(403, "model_not_allowed", f"This request to /{route} names no model: {why}.")
