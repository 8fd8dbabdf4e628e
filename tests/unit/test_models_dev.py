"""models.dev documents -> OpenCode model entries: which models, which fields."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from opencode_proxy.catalog import CatalogError
from opencode_proxy.models_dev import transform
from support.models_dev_fixture import DOCUMENT, EXPECTED_OPENAI


def test_openai_chat_models_become_exact_opencode_entries() -> None:
    assert transform(DOCUMENT, ["openai"]) == ({"openai": EXPECTED_OPENAI}, ())


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
    result, _ = transform(DOCUMENT, ["openai", "deepseek"])
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
