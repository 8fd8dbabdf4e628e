"""Reasoning variants as OpenCode builds them from models.dev's `reasoning_options`.

OpenCode turns a models.dev entry's `reasoning_options` into the variants its
picker offers (low/medium/high, max, ...), each the provider options of the SDK
the model is called through. A model served through a config provider gets no
such treatment: OpenCode guesses its variants from the id instead, and the guess
differs (kimi loses low/medium/high, gpt-oss gains variants it lacks). So the
catalog carries the variants themselves, made the way OpenCode 1.18 makes them
(`ProviderTransform.reasoningVariants`), for the SDKs the Worker serves, and
marks every name a guess could add `disabled`, which OpenCode drops. Where
models.dev says nothing, or the SDK is one we do not serve, nothing is carried
and OpenCode decides as it would natively.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

# OpenCode's ceiling for a thinking budget (one below Anthropic's 32,000 output cap).
MAX_BUDGET = 32_000 - 1
# Every variant name OpenCode's id-based guess can produce; those the entry lacks are
# sent disabled so a guess cannot add them back.
GUESSED_NAMES = ("none", "minimal", "low", "medium", "high", "xhigh", "max", "thinking")
ADAPTIVE_4_6 = tuple(
    spelling
    for family in ("opus", "sonnet")
    for spelling in (f"{family}-4-6", f"{family}-4.6", f"4-6-{family}", f"4.6-{family}")
)
OPENAI_REASONING = {"reasoningSummary": "auto", "include": ["reasoning.encrypted_content"]}
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_CLAUDE = re.compile(r"claude-(?:[a-z]+-)?(\d+)(?:[.-](\d{1,2}))?(?:[.@-]|$)", re.IGNORECASE)
Variants = dict[str, dict[str, Any]]


def _claude_is_4_7_or_later(model_id: str) -> bool:
    if "claude-" not in model_id.lower():
        return False
    found = _CLAUDE.search(model_id)
    if found is None:
        return True
    major, minor = int(found[1]), int(found[2] or 0)
    return major > 4 or (major == 4 and minor >= 7)


def _adaptive_efforts(model_id: str) -> bool:
    """Whether a Claude model thinks adaptively at a chosen effort (4.6 and later)."""
    return _claude_is_4_7_or_later(model_id) or any(v in model_id for v in ADAPTIVE_4_6)


def _anthropic_effort(model_id: str, output: int, effort: str) -> dict[str, Any]:
    if any(v in model_id for v in ("opus-4-5", "opus-4.5")):
        budget = min(16_000, output // 2 - 1)
        return {"thinking": {"type": "enabled", "budgetTokens": budget}, "effort": effort}
    if "kimi" in model_id.lower() or "moonshot" in model_id.lower():
        return {"thinking": {"type": "adaptive", "display": "summarized"}, "effort": effort}
    if not _adaptive_efforts(model_id):
        return {"effort": effort}
    thinking: dict[str, Any] = {"type": "adaptive"}
    if _claude_is_4_7_or_later(model_id):
        thinking["display"] = "summarized"
    return {"thinking": thinking, "effort": effort}


def _effort(npm: str, model_id: str, output: int, effort: str) -> dict[str, Any]:
    if npm == "@ai-sdk/anthropic":
        return _anthropic_effort(model_id, output, effort)
    if npm == "@ai-sdk/google":
        return {"thinkingConfig": {"includeThoughts": True, "thinkingLevel": effort}}
    if npm == "@ai-sdk/openai":
        return {"reasoningEffort": effort, **OPENAI_REASONING}
    return {"reasoningEffort": effort}  # @ai-sdk/openai-compatible


def _budget(npm: str, budget: int) -> dict[str, Any] | None:
    if npm == "@ai-sdk/anthropic":
        return {"thinking": {"type": "enabled", "budgetTokens": budget}}
    if npm == "@ai-sdk/google":
        return {"thinkingConfig": {"includeThoughts": True, "thinkingBudget": budget}}
    return None  # OpenAI's APIs take an effort, never a budget


def _number(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return None
    return int(value) if abs(value) < 2**53 else None


def _by_budget(npm: str, output: int, option: Mapping[str, Any]) -> Variants:
    ceiling = _number(option.get("max"))
    largest = min(MAX_BUDGET if ceiling is None else ceiling, output - 1, MAX_BUDGET)
    if largest <= 0:
        return {}
    high = min(max(_number(option.get("min")) or 0, (largest + 1) // 2), largest)
    found = {name: _budget(npm, budget) for name, budget in (("high", high), ("max", largest))}
    return {name: options for name, options in found.items() if options is not None}


def _by_effort(npm: str, model_id: str, output: int, values: Sequence[Any]) -> Variants:
    variants = {}
    for value in values:
        name = "none" if value is None else value
        if isinstance(name, str) and _NAME.fullmatch(name):
            variants[name] = _effort(npm, model_id, output, name)
    return variants


SERVED_SDKS = frozenset(
    {"@ai-sdk/anthropic", "@ai-sdk/google", "@ai-sdk/openai", "@ai-sdk/openai-compatible"}
)


def native_variants(
    reasoning_options: Any, *, npm: str, model_id: str, output: int
) -> Variants | None:
    """The variants OpenCode would build from `reasoning_options`, or None where it
    would guess (no usable options, or an SDK the Worker does not serve)."""
    if npm not in SERVED_SDKS or not isinstance(reasoning_options, list):
        return None
    options = [o for o in reasoning_options if isinstance(o, Mapping)]
    if len(options) != len(reasoning_options):
        return None
    if not options:
        return {}
    effort = next((o for o in options if o.get("type") == "effort"), None)
    if effort is not None:
        values = effort.get("values")
        return _by_effort(npm, model_id, output, values) if isinstance(values, list) else None
    budget = next((o for o in options if o.get("type") == "budget_tokens"), None)
    if budget is None:
        return None  # a toggle alone gives these SDKs nothing: OpenCode guesses
    return _by_budget(npm, output, budget) or None


def served_variants(variants: Variants) -> Variants:
    """`variants` as a config entry carries them: each guessed name it lacks disabled."""
    disabled = {name: {"disabled": True} for name in GUESSED_NAMES if name not in variants}
    return {**variants, **disabled}
