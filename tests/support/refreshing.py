"""A models.dev of documents in its shape, and the refresh run on them as the cron runs
it, with what it stored and what /healthz then says."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from devstack.access import LocalAccess
from opencode_proxy.catalog import KV_KEY, STATE_KEY, Catalog, CatalogStore, RefreshState
from opencode_proxy.ports import Fetched
from opencode_proxy.refresh import Refresher
from support.cpython import Clock, MemoryKV, call, make_app


class ModelsDev:
    """An in-process models.dev: one answer at a time, every request recorded."""

    def __init__(self, text: str, status: int = 200, etag: str | None = '"v1"') -> None:
        self.text, self.status, self.etag = text, status, etag
        self.requests: list[dict[str, str]] = []
        self.timeouts: list[float] = []
        self.down = False

    async def __call__(self, url: str, headers: Mapping[str, str], *, timeout: float) -> Fetched:
        self.requests.append(dict(headers))
        self.timeouts.append(timeout)
        if self.down:
            raise OSError("connection refused")
        if self.etag is not None and headers.get("if-none-match") == self.etag:
            return Fetched(304, {"etag": self.etag}, "")
        return Fetched(self.status, {"etag": self.etag} if self.etag else {}, self.text)


def refresh(
    kv: MemoryKV, source: ModelsDev, clock: Clock, providers: tuple[str, ...] = ("openai",)
) -> str:
    store = CatalogStore(kv, clock)
    refresher = Refresher(
        store, source, clock, print, url="https://models.test/api.json", providers=providers
    )
    return asyncio.run(refresher.run())


def stored(kv: MemoryKV) -> Catalog:
    return Catalog.from_json(kv.data[KV_KEY])


def state(kv: MemoryKV) -> RefreshState:
    return RefreshState.from_json(kv.data[STATE_KEY])


def model(model_id: str) -> dict[str, Any]:
    return {
        "id": model_id,
        "name": model_id.upper(),
        "family": model_id.split("-")[0],
        "attachment": True,
        "reasoning": True,
        "temperature": True,
        "tool_call": True,
        "release_date": "2026-01-01",
        "last_updated": "2026-06-01",
        "modalities": {"input": ["text", "image"], "output": ["text"]},
        "open_weights": False,
        "cost": {"input": 1, "output": 4},
        "limit": {"context": 200_000, "output": 32_000},
    }


def document(**providers: list[str]) -> str:
    """A models.dev api.json with these providers and model ids."""
    return json.dumps(
        {
            name: {
                "id": name,
                "name": name.title(),
                "env": [f"{name.upper()}_API_KEY"],
                "npm": f"@ai-sdk/{name}",
                "doc": f"https://{name}.example/docs",
                "models": {model_id: model(model_id) for model_id in ids},
            }
            for name, ids in providers.items()
        }
    )


GOOGLE_BEFORE = [f"gemini-{n}" for n in range(32)]
GOOGLE_AFTER = GOOGLE_BEFORE[:15]  # a real commit once removed half of Google's models
OPENAI = ["gpt-5", "gpt-5-mini", "o3"]


def served(kv: MemoryKV, provider: str) -> set[str]:
    return set(stored(kv).providers.get(provider, {}))


def health(kv: MemoryKV, clock: Clock) -> dict[str, Any] | None:

    app = make_app(LocalAccess(), cache=kv, clock=clock)

    report: dict[str, Any] | None = json.loads(call(app, "GET", "https://x.example/healthz").body)[
        "catalog"
    ]
    return report
