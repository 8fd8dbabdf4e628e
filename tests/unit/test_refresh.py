"""The hourly refresh: what it stores, what it keeps, and a guard that cannot lock."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import pytest

from opencode_proxy.catalog import KV_KEY, Catalog, CatalogStore
from opencode_proxy.ports import Fetched
from opencode_proxy.refresh import Refresher
from support.cpython import Clock, MemoryKV
from support.models_dev_fixture import DOCUMENT, EXPECTED_OPENAI, FIXTURE


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
        ("no-openai", "none of openai is in the document"),
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
