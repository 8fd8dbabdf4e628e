"""The `/.well-known/opencode` document: the compiled config, rendered for one origin."""

from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path
from typing import Any

BASE_URL_PLACEHOLDER = "{baseURL}"
COMPILED_PATH = Path(__file__).resolve().parent.parent / "build" / "opencode.json"


class CompiledConfigError(Exception):
    """The compiled config is missing or unusable: the deploy skipped the build."""


class Discovery:
    """Renders the discovery document, `{baseURL}` replaced by the request's origin.

    The compiled document is parsed once; rendering substitutes into its JSON text,
    so a request costs one string replace (and nothing once an origin is cached).
    """

    _CACHE_SIZE = 16

    def __init__(self, document: dict[str, Any]) -> None:
        for key in ("auth", "config"):
            if not isinstance(document.get(key), dict):
                raise CompiledConfigError(f"compiled config has no {key!r} object")
        self.document = document
        self._text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        self._rendered: OrderedDict[str, bytes] = OrderedDict()

    @classmethod
    def from_file(cls, path: Path = COMPILED_PATH) -> Discovery:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CompiledConfigError(
                f"{path.name} not found: run `python scripts/build_config.py` before deploying"
            ) from None
        except (OSError, ValueError) as exc:
            raise CompiledConfigError(f"{path.name} is unreadable: {exc}") from None
        if not isinstance(document, dict):
            raise CompiledConfigError(f"{path.name} must hold a JSON object")
        return cls(document)

    def render(self, origin: str) -> bytes:
        """The document as JSON bytes for a client that reached the Worker at `origin`."""
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
