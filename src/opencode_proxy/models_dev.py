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
from typing import Any, NamedTuple

from .catalog import CatalogError
from .safe_text import shown, usable_id, usable_text
from .variants import native_variants, served_variants

# Families (or ids) of models no coding agent can drive, whatever models.dev says of
# their tools: research agents that run on their own for minutes, classifiers and
# safeguards that only label text, live audio sessions, audio and image generation.
NOT_AGENT_KINDS = (
    "deep-research",
    "safeguard",
    "guard",
    "classifier",
    "realtime",
    "audio",
    "image",
)
# Families (or ids) of models that cannot hold a chat, for entries where models.dev
# does not say what the model takes and produces or whether it calls tools: vectors,
# scores, verdicts, speech and live sessions.
NOT_CHAT_KINDS = (
    "embed",
    "rerank",
    "moderation",
    "whisper",
    "transcribe",
    "tts",
    "speech",
    "live",
    "dall-e",
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
    if not isinstance(value, list):
        return []
    return [text for v in value if (text := usable_text(v)) is not None]


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
    """Whether a models.dev model can serve a coding agent: not of a kind no agent can
    drive; text in, only text out, and tool calling, as models.dev says; its family and
    id decide the rest only where it is silent."""
    kind = (str(model.get("family") or "") + " " + model_id).lower()
    if model.get("status") == "deprecated" or any(word in kind for word in NOT_AGENT_KINDS):
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
    return not any(word in kind for word in NOT_CHAT_KINDS)


def model_sdk(provider_npm: Any, model: Mapping[str, Any]) -> str:
    """The SDK OpenCode calls a models.dev model through: the model's own, else its
    provider's."""
    own = model.get("provider")
    npm = own.get("npm") if isinstance(own, Mapping) else None
    npm = npm if isinstance(npm, str) else provider_npm
    return npm if isinstance(npm, str) else ""


def model_entry(model_id: str, model: Mapping[str, Any], *, npm: str) -> dict[str, Any] | None:
    """One models.dev model as an OpenCode model entry, or None if it cannot serve chat.

    Every field OpenCode reads is carried; where models.dev is silent OpenCode's own
    default is written, so the bundled data cannot fill in something else. `npm` is
    the SDK OpenCode calls the model through (its reasoning variants depend on it)."""
    if not is_chat(model_id, model):
        return None
    limit = model.get("limit")
    limit = limit if isinstance(limit, Mapping) else {}
    context, output = _count(limit.get("context")), _count(limit.get("output"))
    if context is None or output is None:
        return None
    entry: dict[str, Any] = {
        "name": usable_text(model.get("name")) or model_id,
        "limit": {"context": context, "output": output},
    }
    if (largest_input := _count(limit.get("input"))) is not None:
        entry["limit"]["input"] = largest_input
    if (family := usable_text(model.get("family"))) is not None:
        entry["family"] = family
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
        isinstance(interleaved, Mapping) and usable_text(interleaved.get("field")) is not None
    ):
        entry["interleaved"] = (
            interleaved if isinstance(interleaved, bool) else {"field": interleaved["field"]}
        )
    if model.get("status") in ("alpha", "beta"):
        entry["status"] = model["status"]
    if (released := usable_text(model.get("release_date"))) is not None:
        entry["release_date"] = released
    options = model.get("reasoning_options")
    variants = native_variants(options, npm=npm, model_id=model_id, output=output)
    if variants is not None:
        entry["variants"] = served_variants(variants)
    entry["options"] = {"store": False}
    return entry


Models = dict[str, dict[str, dict[str, Any]]]


class Transformed(NamedTuple):
    """The chat models by provider, the providers the document lacks, and each model id
    or name left out because it could not be served (in words, for the cron's log)."""

    models: Models
    missing: tuple[str, ...]
    dropped: tuple[str, ...]


def transform(document: Any, providers: Sequence[str]) -> Transformed:
    """The chat models of `providers` in a models.dev document, as OpenCode entries."""
    if not isinstance(document, Mapping):
        raise CatalogError("the document is not a JSON object")
    result: Models = {}
    missing = []
    dropped = []
    for provider_id in providers:
        provider = document.get(provider_id)
        provider = provider if isinstance(provider, Mapping) else {}
        models = provider.get("models")
        if not isinstance(models, Mapping):
            missing.append(provider_id)
            continue
        entries = {}
        for model_id, model in models.items():
            if not usable_id(model_id):
                dropped.append(f"{provider_id}/{shown(model_id)}")
            elif isinstance(model, Mapping):
                entry = model_entry(model_id, model, npm=model_sdk(provider.get("npm"), model))
                if entry is not None:
                    entries[model_id] = entry
                    if "name" in model and usable_text(model["name"]) is None:
                        dropped.append(f"the name of {provider_id}/{model_id}")
        result[provider_id] = dict(sorted(entries.items()))
    if providers and len(missing) == len(providers):
        raise CatalogError(f"none of {', '.join(providers)} is in the document")
    return Transformed(result, tuple(missing), tuple(dropped))
