"""Model listings answered by the Worker from the menu, in each provider's own format.

A client that lists models (Codex at start, the SDKs on request) sees exactly the
served ones, whatever the provider itself would list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .dialects import Dialect
from .http import Response, json_response
from .refusal import Refusal

Entries = Mapping[str, Mapping[str, Any]]
# Listings carry no real creation time; the epoch says "unknown" in every format.
_EPOCH = "1970-01-01T00:00:00Z"


def _name(model_id: str, entry: Mapping[str, Any]) -> str:
    return str(entry.get("name") or model_id)


def _anthropic(model_id: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": "model",
        "id": model_id,
        "display_name": _name(model_id, entry),
        "created_at": _EPOCH,
    }


def _openai(model_id: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 0, "owned_by": "opencode-proxy"}


def _google(model_id: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    limit = entry.get("limit", {})
    model: dict[str, Any] = {
        "name": f"models/{model_id}",
        "displayName": _name(model_id, entry),
        "supportedGenerationMethods": ["generateContent", "countTokens"],
    }
    if isinstance(limit, Mapping):
        if isinstance(limit.get("context"), int):
            model["inputTokenLimit"] = limit["context"]
        if isinstance(limit.get("output"), int):
            model["outputTokenLimit"] = limit["output"]
    return model


def _all(dialect: Dialect, models: Entries) -> dict[str, Any]:
    ids = sorted(models)
    if dialect is Dialect.ANTHROPIC:
        data = [_anthropic(i, models[i]) for i in ids]
        first, last = (ids[0], ids[-1]) if ids else (None, None)
        return {"data": data, "has_more": False, "first_id": first, "last_id": last}
    if dialect is Dialect.GOOGLE:
        return {"models": [_google(i, models[i]) for i in ids]}
    return {"object": "list", "data": [_openai(i, models[i]) for i in ids]}


_ONE = {Dialect.ANTHROPIC: _anthropic, Dialect.GOOGLE: _google}


def _asks_codex_catalog(query: str) -> bool:
    return any(part.partition("=")[0] == CODEX_CATALOG_QUERY for part in query.split("&"))


# Codex CLI asks `GET .../models?client_version=X` for its own catalog format,
# `{"models": [...]}`; an OpenAI list is not one, and it logs a decode error on every
# start. An entry of its own format sets the model's base instructions (an empty
# template leaves Codex without them), which this Worker has no business writing: the
# catalog it gets is empty, so Codex keeps its own metadata for the profile's model.
CODEX_CATALOG_QUERY = "client_version"


def listing(
    dialect: Dialect, models: Entries, model_id: str | None, prefix: str, *, query: str = ""
) -> Response:
    """All served models, or the one named, as the provider would list them."""
    if model_id is None and dialect is Dialect.OPENAI and _asks_codex_catalog(query):
        return json_response(200, {"models": []})
    if model_id is None:
        return json_response(200, _all(dialect, models))
    if model_id not in models:
        raise Refusal(404, "model_not_found", f"{model_id!r} is not a model served on /{prefix}.")
    return json_response(200, _ONE.get(dialect, _openai)(model_id, models[model_id]))
