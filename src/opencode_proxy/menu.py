"""The model menu: which models each provider serves, shown to clients and enforced.

One computation serves both sides. Discovery lists exactly these models (each
provider's `whitelist`, every model with a `status`, and only these providers
enabled), so OpenCode's own bundled model list cannot add to them; the proxy
refuses a request for any other model on the route the provider uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

BASE_URL_PLACEHOLDER = "{baseURL}"
# A served model without a status takes OpenCode's bundled one, which may be
# "deprecated" and drop it from the list.
SERVED_STATUS = "active"
# How /compat names a Workers AI model.
WORKERS_AI_PREFIX = "workers-ai/"


@dataclass(frozen=True, slots=True)
class CatalogRule:
    """config-src's choice of a provider's catalog models: those of its models.dev
    provider (`source`, ids with `prefix` in front) matching `serve` but not `hide`."""

    source: str | None = None
    prefix: str = ""
    serve: tuple[str, ...] = ("*",)
    hide: tuple[str, ...] = ()
    # config-src's own models, by id: only what it writes by hand, laid over the
    # catalog's entry of that id.
    pinned: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> CatalogRule:
        return cls(
            value.get("source"),
            str(value.get("prefix", "")),
            tuple(value.get("serve", ("*",))),
            tuple(value.get("hide", ())),
            value.get("pinned", {}),
        )

    def offered(self, catalog: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        """The catalog models of this provider's models.dev source, under served ids."""
        models = catalog.get(self.source, {}) if self.source is not None else {}
        return {self.prefix + model_id: entry for model_id, entry in models.items()}

    def takes(self, model_id: str) -> bool:
        return any(fnmatchcase(model_id, p) for p in self.serve) and not any(
            fnmatchcase(model_id, p) for p in self.hide
        )


def overlaid(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `overrides` laid over it, tables merged key by key."""
    merged = dict(base)
    for key, value in overrides.items():
        below = merged.get(key)
        if isinstance(value, Mapping) and isinstance(below, Mapping):
            merged[key] = overlaid(below, value)
        else:
            merged[key] = value
    return merged


def candidate_models(
    compiled: Mapping[str, Any], offered: Mapping[str, Any], rule: CatalogRule
) -> tuple[dict[str, Any], list[str]]:
    """Every model a provider could serve, each with a status, and the ids of its default
    menu: config-src's models (the catalog's entry of each with config-src's own fields
    over it; as compiled when the catalog lacks it), then the catalog models the rule
    takes."""
    models = {
        model_id: overlaid(offered[model_id], rule.pinned.get(model_id, {}))
        if model_id in offered
        else entry
        for model_id, entry in compiled.items()
    }
    default = list(models)
    for model_id, entry in offered.items():
        if model_id not in models:
            models[model_id] = entry
            if rule.takes(model_id):
                default.append(model_id)
    statused = {
        model_id: entry if "status" in entry else {**entry, "status": SERVED_STATUS}
        for model_id, entry in models.items()
    }
    return statused, default


def route_of(provider: Mapping[str, Any]) -> str | None:
    """The proxy route a provider's requests use: `{baseURL}/<route>/...` -> `<route>`."""
    base = str(provider.get("options", {}).get("baseURL", ""))
    if not base.startswith(BASE_URL_PLACEHOLDER + "/"):
        return None
    return base[len(BASE_URL_PLACEHOLDER) + 1 :].split("/", 1)[0]


@dataclass(frozen=True, slots=True)
class Menu:
    """Served models by proxy route (several providers may share one route), with the
    entries discovery serves for them, which model listings are made from."""

    by_route: Mapping[str, Mapping[str, Mapping[str, Any]]]

    @classmethod
    def of(cls, providers: Mapping[str, Mapping[str, Any]]) -> Menu:
        routes: dict[str, dict[str, Mapping[str, Any]]] = {}
        for provider in providers.values():
            route = route_of(provider)
            if route is not None:
                routes.setdefault(route, {}).update(provider.get("models", {}))
        # A Workers AI model is served on both routes that reach it: as `<id>` on Workers
        # AI's own, as "workers-ai/<id>" on /compat (kept for configs written for it).
        compat, native = routes.get("compat", {}), routes.get("workers-ai", {})
        as_native = {
            model_id.removeprefix(WORKERS_AI_PREFIX): entry
            for model_id, entry in compat.items()
            if model_id.startswith(WORKERS_AI_PREFIX)
        }
        as_compat = {WORKERS_AI_PREFIX + model_id: entry for model_id, entry in native.items()}
        for route, models in (("workers-ai", as_native), ("compat", as_compat)):
            if models:
                routes[route] = {**models, **routes.get(route, {})}
        return cls(routes)

    def allows(self, route: str, model: str) -> bool:
        return model in self.by_route.get(route, {})

    def models(self, route: str) -> Mapping[str, Mapping[str, Any]]:
        return self.by_route.get(route, {})
