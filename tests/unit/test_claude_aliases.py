"""Claude Code's own names (`opus`, `sonnet`, `haiku`, its picker's Default and its
fallback) resolve to its newest ids unless the settings name served models: the
served settings name one for each, from the caller's menu."""

from __future__ import annotations

import json

import pytest

from opencode_proxy.clients import claude_aliases, claude_code_settings
from support.cpython import shipped_config

OPUS, SONNET, HAIKU = (
    "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL",
)


def test_each_family_gets_its_newest_served_model() -> None:
    entries = {
        "claude-opus-4-5": {"release_date": "2025-11-24"},
        "claude-opus-5": {"release_date": "2026-06-01"},
        "claude-sonnet-5": {"release_date": "2026-05-01"},
        "claude-sonnet-4-5": {"release_date": "2025-09-29"},
        "claude-haiku-4-5": {"release_date": "2025-10-15"},
    }
    assert claude_aliases(entries) == {
        OPUS: "claude-opus-5",
        SONNET: "claude-sonnet-5",
        HAIKU: "claude-haiku-4-5",
    }


@pytest.mark.parametrize(
    ("served", "expected"),
    [
        (["claude-haiku-4-5"], ("claude-haiku-4-5",) * 3),
        (["claude-opus-5"], ("claude-opus-5",) * 3),
        (
            ["claude-opus-5", "claude-haiku-4-5"],
            ("claude-opus-5", "claude-haiku-4-5", "claude-haiku-4-5"),
        ),
        (["claude-sonnet-5"], ("claude-sonnet-5",) * 3),
    ],
)
def test_a_family_with_none_served_takes_the_nearest_one(
    served: list[str], expected: tuple[str, str, str]
) -> None:
    aliases = claude_aliases({model: {} for model in served})
    assert (aliases[OPUS], aliases[SONNET], aliases[HAIKU]) == expected


def test_no_anthropic_model_sets_no_alias() -> None:
    assert claude_aliases({}) == {}


def test_the_served_settings_point_every_alias_at_a_served_model() -> None:
    config = shipped_config()["config"]
    settings = json.loads(claude_code_settings(config, {"command": ["x"]}, "https://a.example"))
    served = set(settings["availableModels"])
    for variable in (OPUS, SONNET, HAIKU):
        assert settings["env"][variable] in served, variable
