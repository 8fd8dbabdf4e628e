"""The `/.well-known/opencode` document: the compiled config, rendered for one origin."""

from __future__ import annotations

import copy
import json
from collections import OrderedDict
from pathlib import Path
from typing import Any

from .caps import Budgets
from .catalog import Catalog
from .clients import remote_config
from .groups import Groups
from .menu import BASE_URL_PLACEHOLDER, CatalogRule, Menu, candidate_models

DISCOVERY_PATH = "/.well-known/opencode"
# The build lays the compiled config beside the package (build/worker/opencode.json).
COMPILED_PATH = Path(__file__).resolve().parent.parent / "opencode.json"


class CompiledConfigError(Exception):
    """The compiled config is missing or unusable: the deploy skipped the build."""


def _substituted(value: Any, origin: str) -> Any:
    """`value` with `{baseURL}` replaced by `origin` in every string."""
    if isinstance(value, str):
        return value.replace(BASE_URL_PLACEHOLDER, origin)
    if isinstance(value, dict):
        return {key: _substituted(item, origin) for key, item in value.items()}
    if isinstance(value, list):
        return [_substituted(item, origin) for item in value]
    return value


class Discovery:
    """Renders the discovery document, `{baseURL}` replaced by the request's origin where
    config-src wrote it, and nowhere in the catalog's data.

    What depends on the catalog is computed once per catalog version (and set of
    groups), and the document once per origin and version.
    """

    _CACHE_SIZE = 16
    _MENUS = 64

    def __init__(self, document: dict[str, Any]) -> None:
        for key in ("auth", "config"):
            if not isinstance(document.get(key), dict):
                raise CompiledConfigError(f"compiled config has no {key!r} object")
        self.document = document
        # Per provider, which catalog models config-src serves (`serve` and `hide` patterns).
        self.catalog_rules: dict[str, Any] = document.get("catalog", {})
        self.groups = Groups.from_json(document.get("groups", {}))
        self.budgets = Budgets.from_json(document.get("budgets"))
        self._version: str | None = None
        self._catalog: Catalog | None = None
        self._menu: Menu | None = None
        self._config: dict[str, Any] = {}
        self._by_groups: OrderedDict[tuple[str, ...], tuple[dict[str, Any], Menu]] = OrderedDict()
        self._rendered: OrderedDict[str, bytes] = OrderedDict()
        self._refresh(None)

    @classmethod
    def from_file(cls, path: Path = COMPILED_PATH) -> Discovery:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CompiledConfigError(
                f"{path.name} not found: run `python scripts/build.py` before deploying"
            ) from None
        except (OSError, ValueError) as exc:
            raise CompiledConfigError(f"{path.name} is unreadable: {exc}") from None
        if not isinstance(document, dict):
            raise CompiledConfigError(f"{path.name} must hold a JSON object")
        return cls(document)

    def merged_config(
        self,
        catalog: Catalog | None,
        compiled: dict[str, Any] | None = None,
        groups: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """The served config: compiled providers (`compiled`, by default config-src's as
        built) with the catalog models config-src takes (for members of `groups`, by the
        groups' rule), each provider's `whitelist` set to exactly its served models, and
        only these providers enabled. A model config-src lists takes the catalog's entry
        with config-src's own fields over it."""
        config: dict[str, Any] = copy.copy(
            self.document["config"] if compiled is None else compiled
        )
        offered = catalog.providers if catalog is not None else {}
        providers = {}
        for provider_id, provider in config.get("provider", {}).items():
            rule = CatalogRule.from_json(self.catalog_rules.get(provider_id, {}))
            candidates, ids = candidate_models(
                provider.get("models", {}), rule.offered(offered), rule
            )
            if groups:
                ids = self.groups.menu_ids(provider_id, groups, ids, candidates)
            models = {model_id: candidates[model_id] for model_id in ids}
            providers[provider_id] = {**provider, "models": models, "whitelist": sorted(models)}
        config["provider"] = providers
        config["enabled_providers"] = sorted(providers)
        return config

    def _refresh(self, catalog: Catalog | None) -> None:
        """Recompute what depends on the catalog, once per catalog version."""
        version = catalog.version if catalog is not None else None
        if self._menu is not None and version == self._version:
            return
        config = self.merged_config(catalog)
        self._catalog = catalog
        self._config = config
        self._menu = Menu.of(config["provider"])
        self._version = version
        self._rendered.clear()
        self._by_groups.clear()

    def _for(self, groups: tuple[str, ...]) -> tuple[dict[str, Any], Menu]:
        """The served config and menu of the members of `groups` (refreshed first)."""
        if not groups:
            assert self._menu is not None
            return self._config, self._menu
        found = self._by_groups.get(groups)
        if found is None:
            config = self.merged_config(self._catalog, groups=groups)
            found = self._by_groups[groups] = (config, Menu.of(config["provider"]))
            if len(self._by_groups) > self._MENUS:
                self._by_groups.popitem(last=False)
        return found

    def served_config(
        self, catalog: Catalog | None = None, groups: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """The served config (as merged_config), computed once per catalog version."""
        self._refresh(catalog)
        return self._for(groups)[0]

    def menu(self, catalog: Catalog | None = None, groups: tuple[str, ...] = ()) -> Menu:
        """The served models by proxy route, as discovery (or, for members of `groups`,
        their remote config) lists them."""
        self._refresh(catalog)
        return self._for(groups)[1]

    def render(self, origin: str, catalog: Catalog | None = None) -> bytes:
        """The document as JSON bytes for a client that reached the Worker at `origin`."""
        self._refresh(catalog)
        cached = self._rendered.get(origin)
        if cached is not None:
            self._rendered.move_to_end(origin)
            return cached
        compiled = _substituted(self.document["config"], origin)
        served = {
            "auth": _substituted(self.document["auth"], origin),
            # Everyone gets this document; each caller's own menu comes from here.
            "remote_config": remote_config(self.document["auth"], origin),
            "config": self.merged_config(self._catalog, compiled),
        }
        rendered = json.dumps(served, ensure_ascii=False, separators=(",", ":")).encode()
        self._rendered[origin] = rendered
        if len(self._rendered) > self._CACHE_SIZE:
            self._rendered.popitem(last=False)
        return rendered

    def catalog_sources(self) -> tuple[str, ...]:
        """The models.dev providers config-src's providers serve catalog models from."""
        rules = (CatalogRule.from_json(rule) for rule in self.catalog_rules.values())
        return tuple(sorted({rule.source for rule in rules if rule.source}))

    def summary(self) -> dict[str, int]:
        """Counts for /healthz: providers and models in the compiled config."""
        providers = self.document["config"].get("provider", {})
        models = sum(len(p.get("models", {})) for p in providers.values())
        return {"providers": len(providers), "models": models}
