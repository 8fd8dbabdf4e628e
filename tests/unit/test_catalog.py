"""The catalog: models.dev -> OpenCode entries with store:false, refresh rules, merge."""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path
from typing import Any

import pytest

import build_config
from opencode_proxy.catalog import (
    KV_KEY,
    Catalog,
    CatalogError,
    CatalogStore,
    Refresher,
    transform,
)
from opencode_proxy.discovery import Discovery
from opencode_proxy.ports import Fetched
from support.cpython import Clock, MemoryKV

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "models_dev.json"
DOCUMENT = json.loads(FIXTURE.read_text())

EXPECTED_OPENAI = {
    "gpt-4.1-mini": {
        "name": "GPT-4.1 mini",
        "limit": {"context": 1047576, "output": 32768},
        "modalities": {"input": ["text", "image"], "output": ["text"]},
        "reasoning": False,
        "tool_call": True,
        "attachment": True,
        "temperature": True,
        "release_date": "2025-04-14",
        "options": {"store": False},
    },
    "gpt-5": {
        "name": "GPT-5",
        "limit": {"context": 400000, "output": 128000},
        "cost": {"input": 1.25, "output": 10, "cache_read": 0.125},
        "modalities": {"input": ["text", "image"], "output": ["text"]},
        "reasoning": True,
        "tool_call": True,
        "attachment": True,
        "temperature": False,
        "release_date": "2025-08-07",
        "options": {"store": False},
    },
    "gpt-5.1-codex": {
        "name": "GPT-5.1 Codex",
        "limit": {"context": 400000, "output": 128000},
        "cost": {"input": 1.25, "output": 10, "cache_read": 0.125},
        "modalities": {"input": ["text"], "output": ["text"]},
        "reasoning": True,
        "tool_call": True,
        "attachment": False,
        "temperature": False,
        "release_date": "2025-11-13",
        "options": {"store": False},
    },
    "o3-mini": {
        "name": "o3-mini",
        "limit": {"context": 200000, "output": 100000},
        "cost": {"input": 1.1, "output": 4.4, "cache_read": 0.55},
        "modalities": {"input": ["text"], "output": ["text"]},
        "reasoning": True,
        "tool_call": True,
        "attachment": False,
        "temperature": False,
        "release_date": "2025-01-31",
        "options": {"store": False},
    },
}


def test_openai_chat_models_become_exact_opencode_entries() -> None:
    assert transform(DOCUMENT, ["openai"]) == {"openai": EXPECTED_OPENAI}


def test_embedding_moderation_audio_image_deprecated_and_unusable_models_are_left_out() -> None:
    kept = set(transform(DOCUMENT, ["openai"])["openai"])
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
    for entry in transform(document, ["openai"])["openai"].values():
        assert entry["options"] == {"store": False}


def test_more_providers_can_be_taken() -> None:
    result = transform(DOCUMENT, ["openai", "deepseek"])
    assert list(result["deepseek"]) == ["deepseek-chat"]
    assert result["deepseek"]["deepseek-chat"]["options"] == {"store": False}


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ([], "not a JSON object"),
        ({"anthropic": DOCUMENT["anthropic"]}, "'openai' is missing"),
        ({"openai": {"models": "nope"}}, "'openai' is missing"),
        ({"openai": {"models": {"x": {"name": "x"}}}}, "no usable chat model"),
    ],
)
def test_unusable_documents_are_refused(document: Any, reason: str) -> None:
    with pytest.raises(CatalogError, match=reason):
        transform(document, ["openai"])


# --- the cron's refresh ----------------------------------------------------------------


class ModelsDev:
    """An in-process models.dev: one answer at a time, every request recorded."""

    def __init__(self, text: str, status: int = 200, etag: str | None = '"v1"') -> None:
        self.text, self.status, self.etag = text, status, etag
        self.requests: list[dict[str, str]] = []
        self.down = False

    async def __call__(self, url: str, headers: Any) -> Fetched:
        self.requests.append(dict(headers))
        if self.down:
            raise OSError("connection refused")
        if self.etag is not None and headers.get("if-none-match") == self.etag:
            return Fetched(304, {"etag": self.etag}, "")
        return Fetched(self.status, {"etag": self.etag} if self.etag else {}, self.text)


def refresh(kv: MemoryKV, source: ModelsDev, clock: Clock) -> str:
    store = CatalogStore(kv, clock)
    return asyncio.run(
        Refresher(store, source, clock, print, url="https://models.test/api.json").run()
    )


def stored(kv: MemoryKV) -> Catalog:
    return Catalog.from_json(kv.data[KV_KEY])


def test_a_refresh_stores_the_catalog_with_time_and_validator() -> None:
    kv, clock = MemoryKV(), Clock()
    assert refresh(kv, ModelsDev(FIXTURE.read_text()), clock) == "stored 4 models"
    catalog = stored(kv)
    assert catalog.providers == {"openai": EXPECTED_OPENAI}
    assert (catalog.fetched_at, catalog.etag) == (clock.now, '"v1"')
    assert len(catalog.digest) == 64


def test_an_unchanged_file_is_not_downloaded_again() -> None:
    kv, clock, source = MemoryKV(), Clock(), ModelsDev(FIXTURE.read_text())
    refresh(kv, source, clock)
    clock.now += 3600
    assert refresh(kv, source, clock) == "unchanged (304)"
    assert source.requests[-1]["if-none-match"] == '"v1"'
    assert stored(kv).checked_at == clock.now
    assert stored(kv).fetched_at == clock.now - 3600


def test_same_content_without_an_etag_is_recognised_by_its_hash() -> None:
    kv, clock, source = MemoryKV(), Clock(), ModelsDev(FIXTURE.read_text(), etag=None)
    refresh(kv, source, clock)
    assert refresh(kv, source, clock) == "unchanged (same content)"


@pytest.mark.parametrize(
    ("breakage", "reason"),
    [
        ("down", "cannot reach"),
        ("500", "answered 500"),
        ("junk", "invalid JSON"),
        ("no-openai", "'openai' is missing"),
        ("shrunk", "would drop from 4 to 1 models"),
    ],
)
def test_a_failed_refresh_keeps_the_last_good_catalog(breakage: str, reason: str) -> None:
    kv, clock = MemoryKV(), Clock()
    refresh(kv, ModelsDev(FIXTURE.read_text()), clock)
    before = kv.data[KV_KEY]
    shrunk = copy.deepcopy(DOCUMENT)
    shrunk["openai"]["models"] = {"gpt-5": DOCUMENT["openai"]["models"]["gpt-5"]}
    source = ModelsDev(
        {
            "junk": "<html>oops",
            "no-openai": json.dumps({"anthropic": DOCUMENT["anthropic"]}),
            "shrunk": json.dumps(shrunk),
        }.get(breakage, FIXTURE.read_text()),
        status=500 if breakage == "500" else 200,
        etag='"v2"',
    )
    source.down = breakage == "down"
    outcome = refresh(kv, source, clock)
    assert outcome.startswith("kept the previous catalog")
    assert reason in outcome
    assert kv.data[KV_KEY] == before


def test_a_broken_kv_never_crashes_the_cron() -> None:
    class BrokenKV(MemoryKV):
        async def put(self, key: str, value: str, *, ttl_seconds: int | None = None) -> None:
            raise RuntimeError("KV is down")

    outcome = refresh(BrokenKV(), ModelsDev(FIXTURE.read_text()), Clock())
    assert outcome == "kept the previous catalog: unexpected RuntimeError"


# --- what discovery serves --------------------------------------------------------------


def compiled(config_src: Path) -> Discovery:
    return Discovery(build_config.compile_config(config_src))


def catalog_of(models: dict[str, Any]) -> Catalog:
    return Catalog({"openai": models}, 0.0, 0.0, None, "digest")


def test_catalog_models_join_the_compiled_ones_and_config_src_wins(config_src: Path) -> None:
    discovery = compiled(config_src)
    renamed = {**EXPECTED_OPENAI["gpt-5"], "name": "GPT-5 from models.dev"}
    merged = discovery.merged_config(catalog_of({**EXPECTED_OPENAI, "gpt-5": renamed}))
    models = merged["provider"]["openai"]["models"]
    assert models["gpt-5"]["name"] == "GPT-5"  # config-src pins its own entry
    assert set(models) == {"gpt-5", "gpt-5-mini", "gpt-4.1-mini", "gpt-5.1-codex", "o3-mini"}
    assert all(entry["options"]["store"] is False for entry in models.values())
    compiled_anthropic = discovery.document["config"]["provider"]["anthropic"]["models"]
    assert set(merged["provider"]["anthropic"]["models"]) == set(compiled_anthropic)


def test_config_src_can_hide_catalog_models(config_src: Path) -> None:
    openai = config_src / "providers" / "openai.toml"
    openai.write_text(
        openai.read_text().replace(
            'base_url = "{baseURL}/openai"',
            'base_url = "{baseURL}/openai"\nhide = ["o3-*", "gpt-4.1-mini"]',
        )
    )
    discovery = compiled(config_src)
    models = discovery.merged_config(catalog_of(EXPECTED_OPENAI))["provider"]["openai"]["models"]
    assert set(models) == {"gpt-5", "gpt-5-mini", "gpt-5.1-codex"}
    served = json.loads(discovery.render("https://ai.example.com", catalog_of(EXPECTED_OPENAI)))
    assert set(served) == {"auth", "config"}


def test_compiled_defaults_serve_when_there_is_no_catalog(config_src: Path) -> None:
    discovery = compiled(config_src)
    served = json.loads(discovery.render("https://ai.example.com"))
    assert set(served["config"]["provider"]["openai"]["models"]) == {"gpt-5", "gpt-5-mini"}


def test_the_catalog_is_read_from_kv_at_most_once_a_minute() -> None:
    class CountingKV(MemoryKV):
        reads = 0

        async def get(self, key: str) -> str | None:
            CountingKV.reads += 1
            return await super().get(key)

    kv, clock = CountingKV(), Clock()
    store = CatalogStore(kv, clock)

    async def reads() -> None:
        for _ in range(100):
            await store.current()
        clock.now += 61
        await store.current()

    asyncio.run(reads())
    assert CountingKV.reads == 2
