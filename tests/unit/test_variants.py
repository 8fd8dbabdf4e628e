"""Reasoning variants carried from models.dev's `reasoning_options`, per SDK, and what
becomes of options the Worker cannot read (OpenCode then guesses, as natively)."""

from __future__ import annotations

from typing import Any

import pytest

from opencode_proxy.models_dev import transform
from opencode_proxy.variants import GUESSED_NAMES, native_variants, served_variants

EFFORT = [{"type": "effort", "values": [None, "low", "high"]}]


def variants(options: Any, npm: str, model_id: str = "m", output: int = 64_000) -> Any:
    return native_variants(options, npm=npm, model_id=model_id, output=output)


def test_an_effort_becomes_each_sdks_own_option_and_null_is_none() -> None:
    assert variants(EFFORT, "@ai-sdk/openai-compatible") == {
        "none": {"reasoningEffort": "none"},
        "low": {"reasoningEffort": "low"},
        "high": {"reasoningEffort": "high"},
    }
    assert variants(EFFORT, "@ai-sdk/openai")["low"] == {
        "reasoningEffort": "low",
        "reasoningSummary": "auto",
        "include": ["reasoning.encrypted_content"],
    }
    assert variants(EFFORT, "@ai-sdk/google")["high"] == {
        "thinkingConfig": {"includeThoughts": True, "thinkingLevel": "high"}
    }


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        ("claude-opus-4-7", {"thinking": {"type": "adaptive", "display": "summarized"}}),
        ("claude-sonnet-4-6", {"thinking": {"type": "adaptive"}}),
        ("claude-opus-4-5", {"thinking": {"type": "enabled", "budgetTokens": 16_000}}),
        ("claude-sonnet-4-5", {}),
    ],
)
def test_a_claude_effort_thinks_as_its_generation_does(
    model_id: str, expected: dict[str, Any]
) -> None:
    assert variants(EFFORT, "@ai-sdk/anthropic", model_id)["low"] == {**expected, "effort": "low"}


def test_a_budget_gives_high_at_half_and_max_at_the_ceiling() -> None:
    budget = [{"type": "toggle"}, {"type": "budget_tokens", "min": 1024}]
    assert variants(budget, "@ai-sdk/anthropic", output=64_000) == {
        "high": {"thinking": {"type": "enabled", "budgetTokens": 16_000}},
        "max": {"thinking": {"type": "enabled", "budgetTokens": 31_999}},
    }
    bounded = [{"type": "budget_tokens", "min": 128, "max": 8_000}]
    assert variants(bounded, "@ai-sdk/google", output=4_000) == {
        "high": {"thinkingConfig": {"includeThoughts": True, "thinkingBudget": 2_000}},
        "max": {"thinkingConfig": {"includeThoughts": True, "thinkingBudget": 3_999}},
    }
    assert variants([{"type": "budget_tokens", "max": 0}], "@ai-sdk/anthropic") is None


def test_an_effort_wins_over_a_budget_and_an_empty_list_means_no_variants() -> None:
    both = [{"type": "budget_tokens"}, {"type": "effort", "values": ["max"]}]
    assert set(variants(both, "@ai-sdk/anthropic", "claude-opus-4-7")) == {"max"}
    assert variants([], "@ai-sdk/openai") == {}


@pytest.mark.parametrize(
    ("options", "npm"),
    [
        (None, "@ai-sdk/openai"),  # models.dev silent
        ([{"type": "toggle"}], "@ai-sdk/openai-compatible"),  # nothing these SDKs take
        ([{"type": "budget_tokens"}], "@ai-sdk/openai"),  # OpenAI takes no budget
        (EFFORT, "@ai-sdk/amazon-bedrock"),  # an SDK the Worker does not serve
        ("effort", "@ai-sdk/openai"),
        ([EFFORT[0], "x"], "@ai-sdk/openai"),
        ([{"type": "effort", "values": "high"}], "@ai-sdk/openai"),
    ],
)
def test_options_it_cannot_read_leave_the_choice_to_opencode(options: Any, npm: str) -> None:
    assert variants(options, npm) is None


def test_hostile_values_are_left_out_not_raised_on() -> None:
    values = ["high", "$(id)", "A" * 40, 7, True, {"x": 1}, "lo w", "\u202e"]
    assert set(variants([{"type": "effort", "values": values}], "@ai-sdk/openai")) == {"high"}
    odd = [{"type": "budget_tokens", "min": float("nan"), "max": 1e300}]
    assert variants(odd, "@ai-sdk/anthropic", output=10_001) == {
        "high": {"thinking": {"type": "enabled", "budgetTokens": 5_000}},
        "max": {"thinking": {"type": "enabled", "budgetTokens": 10_000}},
    }


def test_a_served_entry_disables_every_name_a_guess_could_add() -> None:
    served = served_variants({"high": {"reasoningEffort": "high"}})
    assert served["high"] == {"reasoningEffort": "high"}
    assert {name for name, v in served.items() if v == {"disabled": True}} == (
        set(GUESSED_NAMES) - {"high"}
    )


def test_the_catalog_carries_them_through_the_sdk_models_dev_names() -> None:
    model = {
        "name": "K",
        "tool_call": True,
        "reasoning": True,
        "limit": {"context": 1000, "output": 500},
        "reasoning_options": [{"type": "effort", "values": ["low"]}],
    }
    document = {
        "a": {"npm": "@ai-sdk/openai-compatible", "models": {"k": model}},
        "b": {
            "npm": "@ai-sdk/openai-compatible",
            "models": {"k": {**model, "provider": {"npm": "@ai-sdk/anthropic"}}},
        },
        "c": {
            "npm": "@ai-sdk/openai-compatible",
            "models": {"k": {**model, "reasoning_options": None}},
        },
    }
    models = transform(document, ["a", "b", "c"]).models
    assert models["a"]["k"]["variants"]["low"] == {"reasoningEffort": "low"}
    assert models["b"]["k"]["variants"]["low"] == {"effort": "low"}
    assert "variants" not in models["c"]["k"]
