"""The `/.well-known/opencode` document: the compiled config, rendered for one origin."""

from __future__ import annotations

import copy
import json
from collections import OrderedDict
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from .catalog import Catalog

BASE_URL_PLACEHOLDER = "{baseURL}"
# The build lays the compiled config beside the package (build/worker/opencode.json).
COMPILED_PATH = Path(__file__).resolve().parent.parent / "opencode.json"


class CompiledConfigError(Exception):
    """The compiled config is missing or unusable: the deploy skipped the build."""


class Discovery:
    """Renders the discovery document, `{baseURL}` replaced by the request's origin.

    The compiled config is merged with the model catalog once per catalog version;
    rendering substitutes into that JSON text, so a request costs one string
    replace (and nothing once its origin is cached).
    """

    _CACHE_SIZE = 16

    def __init__(self, document: dict[str, Any]) -> None:
        for key in ("auth", "config"):
            if not isinstance(document.get(key), dict):
                raise CompiledConfigError(f"compiled config has no {key!r} object")
        self.document = document
        # Per provider, the catalog models config-src hides (not served to clients).
        self.catalog_rules: dict[str, Any] = document.get("catalog", {})
        self._version: str | None = None
        self._text = self._merged_text(None)
        self._rendered: OrderedDict[str, bytes] = OrderedDict()

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

    def merged_config(self, catalog: Catalog | None) -> dict[str, Any]:
        """The compiled config with the catalog's models added; config-src always wins."""
        config: dict[str, Any] = self.document["config"]
        if catalog is None:
            return config
        config = copy.copy(config)
        config["provider"] = providers = copy.copy(config.get("provider", {}))
        for provider_id, models in catalog.providers.items():
            provider = providers.get(provider_id)
            if provider is None:
                continue
            hidden = self.catalog_rules.get(provider_id, {}).get("hide", [])
            pinned = provider.get("models", {})
            added = {
                model_id: entry
                for model_id, entry in models.items()
                if model_id not in pinned
                and not any(fnmatchcase(model_id, pattern) for pattern in hidden)
            }
            providers[provider_id] = {**provider, "models": {**pinned, **added}}
        return config

    def _merged_text(self, catalog: Catalog | None) -> str:
        served = {"auth": self.document["auth"], "config": self.merged_config(catalog)}
        return json.dumps(served, ensure_ascii=False, separators=(",", ":"))

    def render(self, origin: str, catalog: Catalog | None = None) -> bytes:
        """The document as JSON bytes for a client that reached the Worker at `origin`."""
        version = catalog.digest if catalog is not None else None
        if version != self._version:
            self._text = self._merged_text(catalog)
            self._version = version
            self._rendered.clear()
        cached = self._rendered.get(origin)
        if cached is not None:
            self._rendered.move_to_end(origin)
            return cached
        # json.dumps(origin)[1:-1] is the origin escaped for the inside of a JSON string.
        rendered = self._text.replace(BASE_URL_PLACEHOLDER, json.dumps(origin)[1:-1]).encode()
        self._rendered[origin] = rendered
        if len(self._rendered) > self._CACHE_SIZE:
            self._rendered.popitem(last=False)
        return rendered

    def summary(self) -> dict[str, int]:
        """Counts for /healthz: providers and models in the compiled config."""
        providers = self.document["config"].get("provider", {})
        models = sum(len(p.get("models", {})) for p in providers.values())
        return {"providers": len(providers), "models": models}
