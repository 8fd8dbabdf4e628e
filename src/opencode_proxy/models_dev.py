"""models.dev documents turned into OpenCode model entries.

Models a coding agent can use only (text in, text out, tool calling), chosen by
what models.dev says of them, and by family and id where it is silent; every
field OpenCode reads is carried, with OpenCode's defaults where models.dev is
silent, and `options.store = false` forced on every one (Zero Data Retention).
Fields vary between models.dev versions: anything unusable is left out, never
raised on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .catalog import CatalogError

# Families (or ids) of models that cannot hold a chat, for entries where models.dev
# does not say what the model takes and produces or whether it calls tools: vectors,
# scores, verdicts, speech, live audio sessions, and research agents.
NOT_CHAT_KINDS = (
    "embed",
    "rerank",
    "moderation",
    "whisper",
    "transcribe",
    "tts",
    "speech",
    "realtime",
    "live",
    "deep-research",
    "dall-e",
    "image",
    "bge",  # BAAI's embedding and reranking family, text -> text on Workers AI
    "melotts",
    "aura",  # Deepgram's speech synthesis
    "nova-3",  # and recognition
)
# What a chat model may produce besides text; image or audio output means another kind.
CHAT_OUTPUTS = frozenset({"text"})
# OpenCode's own defaults for what models.dev leaves out.
OPENCODE_DEFAULTS = {
    "reasoning": False,
    "tool_call": False,
    "attachment": False,
    "temperature": False,
}


def _flag(value: Any) -> bool:
    """A capability that models.dev gives as a boolean or as an object."""
    if isinstance(value, bool):
        return value
    if isinstance(value, Mapping):
        return bool(value.get("supported", value.get("enabled", bool(value))))
    return False


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return int(value)


def _price(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return value


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _prices(value: Any) -> dict[str, float] | None:
    if not isinstance(value, Mapping):
        return None
    prices = {
        key: _price(value.get(key)) for key in ("input", "output", "cache_read", "cache_write")
    }
    if prices["input"] is None or prices["output"] is None:
        return None
    return {key: price for key, price in prices.items() if price is not None}


def is_chat(model_id: str, model: Mapping[str, Any]) -> bool:
    """Whether a models.dev model can serve a coding agent: text in, only text out, and
    tool calling, as models.dev says; its family and id decide only where it is silent."""
    if model.get("status") == "deprecated":
        return False
    modalities = model.get("modalities")
    modalities = modalities if isinstance(modalities, Mapping) else {}
    inputs, outputs = (
        set(_strings(modalities.get("input"))),
        set(_strings(modalities.get("output"))),
    )
    if (inputs and "text" not in inputs) or (outputs and not outputs <= CHAT_OUTPUTS):
        return False
    if outputs and "text" not in outputs:
        return False
    if "tool_call" in model and not _flag(model["tool_call"]):
        return False  # an agent works through tools
    if inputs and outputs and "tool_call" in model:
        return True
    kind = str(model.get("family") or "") + " " + model_id
    return not any(word in kind.lower() for word in NOT_CHAT_KINDS)


def model_entry(model_id: str, model: Mapping[str, Any]) -> dict[str, Any] | None:
    """One models.dev model as an OpenCode model entry, or None if it cannot serve chat.

    Every field OpenCode reads is carried; where models.dev is silent OpenCode's own
    default is written, so the bundled data cannot fill in something else."""
    if not is_chat(model_id, model):
        return None
    limit = model.get("limit")
    limit = limit if isinstance(limit, Mapping) else {}
    context, output = _count(limit.get("context")), _count(limit.get("output"))
    if context is None or output is None:
        return None
    entry: dict[str, Any] = {
        "name": model["name"] if isinstance(model.get("name"), str) else model_id,
        "limit": {"context": context, "output": output},
    }
    if (largest_input := _count(limit.get("input"))) is not None:
        entry["limit"]["input"] = largest_input
    if isinstance(model.get("family"), str):
        entry["family"] = model["family"]
    if (prices := _prices(model.get("cost"))) is not None:
        cost: dict[str, Any] = dict(prices)
        if (tier := _prices(model["cost"].get("context_over_200k"))) is not None:
            cost["context_over_200k"] = tier
        entry["cost"] = cost
    modalities = model.get("modalities")
    modalities = modalities if isinstance(modalities, Mapping) else {}
    inputs, outputs = _strings(modalities.get("input")), _strings(modalities.get("output"))
    if inputs and outputs:
        entry["modalities"] = {"input": inputs, "output": outputs}
    for flag, default in OPENCODE_DEFAULTS.items():
        entry[flag] = _flag(model.get(flag, default))
    interleaved = model.get("interleaved")
    if isinstance(interleaved, bool) or (
        isinstance(interleaved, Mapping) and isinstance(interleaved.get("field"), str)
    ):
        entry["interleaved"] = (
            interleaved if isinstance(interleaved, bool) else {"field": interleaved["field"]}
        )
    if model.get("status") in ("alpha", "beta"):
        entry["status"] = model["status"]
    if isinstance(model.get("release_date"), str):
        entry["release_date"] = model["release_date"]
    entry["options"] = {"store": False}
    return entry


Models = dict[str, dict[str, dict[str, Any]]]


def transform(document: Any, providers: Sequence[str]) -> tuple[Models, tuple[str, ...]]:
    """The chat models of `providers` in a models.dev document, as OpenCode entries, and
    the providers the document does not have."""
    if not isinstance(document, Mapping):
        raise CatalogError("the document is not a JSON object")
    result: Models = {}
    missing = []
    for provider_id in providers:
        provider = document.get(provider_id)
        models = provider.get("models") if isinstance(provider, Mapping) else None
        if not isinstance(models, Mapping):
            missing.append(provider_id)
            continue
        entries = {}
        for model_id, model in models.items():
            if isinstance(model_id, str) and isinstance(model, Mapping):
                entry = model_entry(model_id, model)
                if entry is not None:
                    entries[model_id] = entry
        result[provider_id] = dict(sorted(entries.items()))
    if providers and len(missing) == len(providers):
        raise CatalogError(f"none of {', '.join(providers)} is in the document")
    return result, tuple(missing)
