"""The guard's second line: a change that would take most of a provider waits for an
operator, and a run does a bounded amount of work whatever models.dev answers."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import pytest

import refresh_catalog
from opencode_proxy.catalog import ACCEPTED, REFUSED, CatalogError, CatalogStore
from support.cpython import Clock, MemoryKV
from support.refreshing import ModelsDev, document, health, model, refresh, served, state

WORKERS_AI = "cloudflare-workers-ai"
# Workers AI's chat models as models.dev listed them before 2026-02-04 (ids abridged).
WORKERS_AI_MODELS = [f"@cf/vendor/model-{n}" for n in range(40)]


def workers_ai_document(*, tool_call: bool) -> str:
    """models.dev with Workers AI's models; on 2026-02-04 it set `tool_call: false` on
    every one of them at once."""
    parsed: dict[str, Any] = json.loads(document(openai=["gpt-5"]))
    parsed[WORKERS_AI] = {
        "id": WORKERS_AI,
        "name": "Workers AI",
        "models": {m: {**model(m), "tool_call": tool_call} for m in WORKERS_AI_MODELS},
    }
    return json.dumps(parsed)


PROVIDERS = ("openai", WORKERS_AI)


def test_one_upstream_flag_never_empties_a_provider_until_an_operator_accepts_it() -> None:
    kv, clock = MemoryKV(), Clock()
    source = ModelsDev(workers_ai_document(tool_call=True), etag=None)
    refresh(kv, source, clock, PROVIDERS)
    assert served(kv, WORKERS_AI) == set(WORKERS_AI_MODELS)
    source.text = workers_ai_document(tool_call=False)
    outcome = refresh(kv, source, clock, PROVIDERS)
    assert outcome.endswith("until an operator accepts or refuses it")
    # A month of hourly runs (the same document each hour): it stays as it was.
    for _ in range(31 * 24 - 1):
        clock.now += 3600
        refresh(kv, source, clock, PROVIDERS)
    assert served(kv, WORKERS_AI) == set(WORKERS_AI_MODELS)
    report = health(kv, clock)
    assert report is not None
    assert report["holds"][WORKERS_AI]["operator"] == "waiting"
    assert report["holds"][WORKERS_AI]["seen"] == 31 * 24

    hold = json.loads(kv.data["catalog:state:v1"])["holds"][WORKERS_AI]
    assert (hold["confirm"], hold["decision"]) == (True, None)
    store = CatalogStore(kv, clock)

    asyncio.run(store.decide(WORKERS_AI, ACCEPTED))
    outcome = refresh(kv, source, clock, PROVIDERS)
    assert f"'{WORKERS_AI}' would drop from 40 to 0 models, accepted by an operator" in outcome
    assert served(kv, WORKERS_AI) == set()


def test_a_refused_change_stays_out_and_a_recovered_list_clears_it() -> None:
    kv, clock = MemoryKV(), Clock()
    source = ModelsDev(workers_ai_document(tool_call=True), etag=None)
    refresh(kv, source, clock, PROVIDERS)
    source.text = workers_ai_document(tool_call=False)
    refresh(kv, source, clock, PROVIDERS)

    asyncio.run(CatalogStore(kv, clock).decide(WORKERS_AI, REFUSED))
    for _ in range(5):
        refresh(kv, source, clock, PROVIDERS)
    assert state(kv).holds[WORKERS_AI].decision == REFUSED
    assert served(kv, WORKERS_AI) == set(WORKERS_AI_MODELS)
    # A later document that still takes most of it: still refused, still served.
    source.text = source.text.replace('"name": "Workers AI"', '"name": "Workers AI "')
    assert refresh(kv, source, clock, PROVIDERS).endswith("(refused by an operator)")
    source.text = workers_ai_document(tool_call=True)
    for _ in range(3):
        refresh(kv, source, clock, PROVIDERS)
    assert state(kv).holds == {}


def test_an_ordinary_shrink_keeps_the_three_sightings_and_needs_no_operator() -> None:
    kv, clock = MemoryKV(), Clock()
    source = ModelsDev(workers_ai_document(tool_call=True), etag=None)
    refresh(kv, source, clock, PROVIDERS)
    shrunk = copy.deepcopy(json.loads(source.text))
    for gone in WORKERS_AI_MODELS[:25]:  # 15 of 40 left: below half, above a quarter
        del shrunk[WORKERS_AI]["models"][gone]
    source.text = json.dumps(shrunk)
    outcomes = [refresh(kv, source, clock, PROVIDERS) for _ in range(3)]
    assert outcomes[0].endswith("(seen 1 of 3)")
    assert "taking a shrink" in outcomes[2]
    assert served(kv, WORKERS_AI) == set(WORKERS_AI_MODELS[25:])
    with pytest.raises(CatalogError, match="no change to 'openai' waits for an operator"):
        asyncio.run(CatalogStore(kv, clock).decide("openai", ACCEPTED))


class AlwaysNotModified(ModelsDev):
    """A models.dev (or a cache in front of it) that answers 304 to everything."""

    async def __call__(self, url: str, headers: Any, *, timeout: float) -> Any:
        response = await super().__call__(url, headers, timeout=timeout)
        if self.requests[1:]:
            return type(response)(304, {"etag": '"v1"'}, "")
        return response


def test_a_run_fetches_at_most_twice_whatever_models_dev_answers() -> None:
    kv, clock = MemoryKV(), Clock()
    source = AlwaysNotModified(document(openai=["gpt-5", "o3", "gpt-5-mini", "gpt-4.1"]))
    refresh(kv, source, clock)
    shrunk = document(openai=["gpt-5"])
    # The shrink is seen once on a readable document, then only 304s come back.
    source.requests.clear()
    source.text = shrunk
    first = ModelsDev(shrunk, etag='"v2"')
    refresh(kv, first, clock)
    for run in range(6):
        before = len(source.requests)
        outcome = refresh(kv, source, clock)
        assert len(source.requests) - before <= 2, run
    assert "answered 304 to a request without a validator" in outcome
    assert served(kv, "openai") == {"gpt-5", "o3", "gpt-5-mini", "gpt-4.1"}


def test_the_operator_script_accepts_and_refuses_naming_what_waits(
    tmp_path: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    kv, clock = MemoryKV(), Clock()
    source = ModelsDev(workers_ai_document(tool_call=True), etag=None)
    refresh(kv, source, clock, PROVIDERS)
    source.text = workers_ai_document(tool_call=False)
    refresh(kv, source, clock, PROVIDERS)
    monkeypatch.setattr(refresh_catalog, "namespace", lambda binding, local: kv)
    api = tmp_path / "api.json"
    api.write_text(source.text)
    common = ["--url", api.as_uri(), "--providers", ",".join(PROVIDERS)]
    assert refresh_catalog.main([*common, "--refuse", "openai"]) == 1
    assert f"waiting: {WORKERS_AI}" in capsys.readouterr().err
    assert refresh_catalog.main([*common, "--accept", WORKERS_AI]) == 0
    out = capsys.readouterr().out
    assert f"accepted: '{WORKERS_AI}' would drop from 40 to 0 models" in out
    assert served(kv, WORKERS_AI) == set()


def test_a_hold_survives_its_provider_being_removed_and_added_again() -> None:
    kv, clock = MemoryKV(), Clock()
    source = ModelsDev(workers_ai_document(tool_call=True), etag=None)
    refresh(kv, source, clock, PROVIDERS)
    source.text = workers_ai_document(tool_call=False)
    refresh(kv, source, clock, PROVIDERS)  # held, waiting for an operator
    refresh(kv, source, clock, ("openai",))  # the provider is taken out of config-src
    assert state(kv).holds[WORKERS_AI].waiting
    source.down = True
    refresh(kv, source, clock, ("openai",))  # a failed run keeps it too
    source.down = False
    refresh(kv, source, clock, PROVIDERS)  # and put back: still held, still served
    assert served(kv, WORKERS_AI) == set(WORKERS_AI_MODELS)
    assert state(kv).holds[WORKERS_AI].waiting


def test_health_names_a_configured_provider_the_catalog_lacks_while_models_dev_is_down() -> None:
    kv, clock = MemoryKV(), Clock()
    source = ModelsDev(document(openai=["gpt-5"]), etag=None)
    refresh(kv, source, clock, ("openai",))
    source.down = True
    refresh(kv, source, clock, PROVIDERS)  # a provider added while models.dev is down
    report = health(kv, clock)
    assert report is not None
    assert WORKERS_AI in report["missing_providers"]
