"""models.dev documents -> OpenCode model entries: which models, which fields."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from opencode_proxy.catalog import CatalogError
from opencode_proxy.models_dev import transform
from support.models_dev_fixture import DOCUMENT, EXPECTED_OPENAI


def test_openai_chat_models_become_exact_opencode_entries() -> None:
    assert transform(DOCUMENT, ["openai"]) == ({"openai": EXPECTED_OPENAI}, (), ())


def test_embedding_moderation_audio_image_deprecated_and_unusable_models_are_left_out() -> None:
    kept = set(transform(DOCUMENT, ["openai"])[0]["openai"])
    assert kept.isdisjoint(
        {
            "text-embedding-3-large",
            "omni-moderation-latest",
            "gpt-4o-mini-tts",
            "gpt-image-1",
            "whisper-1",
            "gpt-4-turbo",
            "gpt-oss-mystery",
        }
    )


def test_store_false_is_forced_even_when_the_source_says_otherwise() -> None:
    document = copy.deepcopy(DOCUMENT)
    document["openai"]["models"]["gpt-5"]["options"] = {"store": True}
    for entry in transform(document, ["openai"])[0]["openai"].values():
        assert entry["options"] == {"store": False}


def test_more_providers_can_be_taken() -> None:
    result = transform(DOCUMENT, ["openai", "deepseek"]).models
    assert list(result["deepseek"]) == ["deepseek-chat"]
    assert result["deepseek"]["deepseek-chat"]["options"] == {"store": False}


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ([], "not a JSON object"),
        ({"anthropic": DOCUMENT["anthropic"]}, "none of openai is in the document"),
        ({"openai": {"models": "nope"}}, "none of openai is in the document"),
    ],
)
def test_unusable_documents_are_refused(document: Any, reason: str) -> None:
    with pytest.raises(CatalogError, match=reason):
        transform(document, ["openai"])


def entry_of(model_id: str, model: dict[str, Any], provider: str = "p") -> dict[str, Any] | None:
    document = {provider: {"id": provider, "models": {model_id: {"id": model_id, **model}}}}
    return transform(document, [provider]).models[provider].get(model_id)


CHAT = {
    "name": "m",
    "modalities": {"input": ["text"], "output": ["text"]},
    "limit": {"context": 100_000, "output": 8_000},
}


@pytest.mark.parametrize(
    ("model_id", "model"),
    [
        # image generation: produces images
        (
            "gpt-image-1.5",
            {**CHAT, "modalities": {"input": ["text", "image"], "output": ["image"]}},
        ),
        (
            "gemini-2.5-flash-image",
            {**CHAT, "modalities": {"input": ["text", "image"], "output": ["text", "image"]}},
        ),
        # live and realtime sessions: audio in and out
        (
            "gemini-live-2.5-flash",
            {
                **CHAT,
                "family": "gemini-live",
                "modalities": {"input": ["text", "audio"], "output": ["text", "audio"]},
            },
        ),
        ("gpt-realtime", {**CHAT, "family": "gpt-realtime"}),
        # research agents that run on their own for minutes
        ("o3-deep-research", {**CHAT, "family": "o-deep-research"}),
        # labelled text -> text, but vectors, scores and speech (Workers AI)
        ("@cf/baai/bge-m3", {**CHAT, "family": "bge"}),
        ("@cf/baai/bge-reranker-base", {**CHAT, "family": "bge"}),
        ("@cf/google/embeddinggemma-300m", {**CHAT, "family": "embeddinggemma"}),
        ("@cf/myshell-ai/melotts", {**CHAT, "family": "melotts"}),
        ("@cf/deepgram/aura-1", {**CHAT, "family": "aura"}),
        ("@cf/openai/whisper-large-v3-turbo", {**CHAT, "family": "whisper"}),
    ],
)
def test_models_that_cannot_hold_a_chat_stay_out(model_id: str, model: dict[str, Any]) -> None:
    assert entry_of(model_id, model) is None


# As models.dev lists them (2026): each says it calls tools and takes and gives text.
AGENT_SHAPED = {
    "tool_call": True,
    "reasoning": True,
    "modalities": {"input": ["text"], "output": ["text"]},
    "limit": {"context": 200_000, "output": 100_000},
    "cost": {"input": 10, "output": 40},
}


@pytest.mark.parametrize(
    ("model_id", "family"),
    [
        ("o3-deep-research", "o-deep-research"),  # runs on its own for minutes
        ("o4-mini-deep-research", "o-mini-deep-research"),
        ("gpt-oss-safeguard-20b", "gpt-oss-safeguard"),  # a classifier: labels text
        ("@cf/meta/llama-guard-3-8b", "llama-guard"),
        ("gpt-realtime", "gpt-realtime"),  # a live audio session
        ("gpt-4o-audio-preview", "gpt-4o-audio"),  # audio in and out
        ("gpt-image-1", "gpt-image"),  # makes images
    ],
)
def test_models_no_agent_can_drive_stay_out_even_when_they_call_tools(
    model_id: str, family: str
) -> None:
    assert entry_of(model_id, {**AGENT_SHAPED, "name": model_id, "family": family}) is None


@pytest.mark.parametrize(
    ("model_id", "model"),
    [
        ("gpt-5.1", {**CHAT, "family": "gpt-5"}),
        ("gpt-4o-search-preview", {**CHAT, "family": "gpt-4o"}),
        (
            "claude-opus-4-5",
            {**CHAT, "modalities": {"input": ["text", "image", "pdf"], "output": ["text"]}},
        ),
        (
            "gemini-2.5-pro",
            {
                **CHAT,
                "modalities": {
                    "input": ["text", "image", "audio", "video", "pdf"],
                    "output": ["text"],
                },
            },
        ),
        ("@cf/meta/llama-3.3-70b-instruct-fp8-fast", {**CHAT, "family": "llama"}),
        ("@cf/openai/gpt-oss-120b", {**CHAT, "family": "gpt-oss"}),
        ("@cf/qwen/qwen3-coder-30b-a3b-fp8", {**CHAT, "family": "qwen"}),
    ],
)
def test_every_real_chat_model_stays_in(model_id: str, model: dict[str, Any]) -> None:
    assert entry_of(model_id, model) is not None


def test_every_field_opencode_uses_is_carried() -> None:
    entry = entry_of(
        "gpt-5",
        {
            **CHAT,
            "family": "gpt-5",
            "status": "beta",
            "interleaved": {"field": "reasoning_content"},
            "limit": {"context": 400_000, "input": 272_000, "output": 128_000},
            "cost": {
                "input": 1.25,
                "output": 10,
                "cache_read": 0.125,
                "context_over_200k": {"input": 2.5, "output": 15, "cache_read": 0.25},
            },
        },
    )
    assert entry is not None
    assert entry["limit"] == {"context": 400_000, "output": 128_000, "input": 272_000}
    assert entry["family"] == "gpt-5"
    assert entry["status"] == "beta"
    assert entry["interleaved"] == {"field": "reasoning_content"}
    assert entry["cost"]["context_over_200k"] == {"input": 2.5, "output": 15, "cache_read": 0.25}


def test_where_models_dev_is_silent_opencode_defaults_are_written() -> None:
    entry = entry_of("quiet", CHAT)
    assert entry is not None
    assert {k: entry[k] for k in ("reasoning", "tool_call", "attachment", "temperature")} == {
        "reasoning": False,
        "tool_call": False,
        "attachment": False,
        "temperature": False,
    }
    assert "status" not in entry  # the menu marks served models active
