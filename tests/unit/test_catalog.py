"""The stored catalog: how discovery merges it, and how often it is read."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import build_config
from opencode_proxy.catalog import Catalog, CatalogStore
from opencode_proxy.discovery import Discovery
from support.cpython import Clock, MemoryKV
from support.models_dev_fixture import EXPECTED_OPENAI

# --- what discovery serves --------------------------------------------------------------


def compiled(config_src: Path) -> Discovery:
    return Discovery(build_config.compile_config(config_src))


def catalog_of(models: dict[str, Any]) -> Catalog:
    return Catalog({"openai": models}, 0.0, version=json.dumps(models, sort_keys=True))


def test_catalog_models_join_the_compiled_ones_and_config_src_wins(config_src: Path) -> None:
    openai = config_src / "providers" / "openai.toml"
    openai.write_text(
        openai.read_text().replace("[models.gpt-5]\n", '[models.gpt-5]\nname = "Ours"\n')
    )
    discovery = compiled(config_src)
    newer = {
        **EXPECTED_OPENAI["gpt-5"],
        "name": "GPT-5 from models.dev",
        "limit": {"context": 9, "output": 1},
    }
    merged = discovery.merged_config(catalog_of({**EXPECTED_OPENAI, "gpt-5": newer}))
    models = merged["provider"]["openai"]["models"]
    # config-src's own fields win; the rest follows the catalog, not a copy in config-src.
    assert models["gpt-5"]["name"] == "Ours"
    assert models["gpt-5"]["limit"] == {"context": 9, "output": 1}
    # A pinned model the catalog lacks is served as compiled.
    assert models["gpt-5-mini"] == discovery.document["config"]["provider"]["openai"]["models"][
        "gpt-5-mini"
    ] | {"status": "active"}
    assert set(models) == {"gpt-5", "gpt-5-mini", "gpt-4.1-mini", "gpt-5.1-codex", "o3-mini"}
    assert all(entry["options"]["store"] is False for entry in models.values())
    compiled_anthropic = discovery.document["config"]["provider"]["anthropic"]["models"]
    assert set(merged["provider"]["anthropic"]["models"]) == set(compiled_anthropic)


def test_config_src_can_hide_catalog_models(config_src: Path) -> None:
    openai = config_src / "providers" / "openai.toml"
    openai.write_text(
        openai.read_text().replace(
            'base_url = "{baseURL}/openai/v1"',
            'base_url = "{baseURL}/openai/v1"\nhide = ["o3-*", "gpt-4.1-mini"]',
        )
    )
    discovery = compiled(config_src)
    models = discovery.merged_config(catalog_of(EXPECTED_OPENAI))["provider"]["openai"]["models"]
    assert set(models) == {"gpt-5", "gpt-5-mini", "gpt-5.1-codex"}
    served = json.loads(discovery.render("https://ai.example.com", catalog_of(EXPECTED_OPENAI)))
    assert set(served) == {"auth", "remote_config", "config"}


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
