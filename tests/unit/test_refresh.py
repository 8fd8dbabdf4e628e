"""The hourly refresh: what it stores, what it keeps, and a guard that cannot lock."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Mapping

import pytest

from devstack.access import LocalAccess
from opencode_proxy.catalog import KV_KEY, STATE_KEY, CatalogStore
from opencode_proxy.ports import Fetched
from opencode_proxy.refresh import FETCH_TIMEOUT_SECONDS, Refresher
from support.cpython import Clock, MemoryKV, make_app
from support.models_dev_fixture import DOCUMENT, EXPECTED_OPENAI, FIXTURE
from support.refreshing import (
    GOOGLE_AFTER,
    GOOGLE_BEFORE,
    OPENAI,
    ModelsDev,
    document,
    health,
    refresh,
    served,
    state,
    stored,
)


def test_a_refresh_stores_the_catalog_with_time_and_validator() -> None:
    kv, clock = MemoryKV(), Clock()
    source = ModelsDev(FIXTURE.read_text())
    assert refresh(kv, source, clock) == "stored 4 models"
    catalog = stored(kv)
    assert catalog.providers == {"openai": EXPECTED_OPENAI}
    assert catalog.fetched_at == clock.now
    assert (state(kv).etag, state(kv).checked_at, len(state(kv).digest or "")) == (
        '"v1"',
        clock.now,
        64,
    )
    assert source.timeouts == [FETCH_TIMEOUT_SECONDS]  # a hung models.dev cannot hang the cron


def test_an_unchanged_file_is_not_downloaded_again_nor_the_catalog_rewritten() -> None:
    kv, clock, source = MemoryKV(), Clock(), ModelsDev(FIXTURE.read_text())
    refresh(kv, source, clock)
    clock.now += 3600
    kv.puts.clear()
    assert refresh(kv, source, clock) == "unchanged (304)"
    assert source.requests[-1]["if-none-match"] == '"v1"'
    assert [key for key, _ in kv.puts] == [STATE_KEY]  # a few hundred bytes, not the catalog
    assert state(kv).checked_at == clock.now
    assert stored(kv).fetched_at == clock.now - 3600


def test_a_new_document_that_serves_the_same_models_rewrites_nothing_but_the_state() -> None:
    kv, clock = MemoryKV(), Clock()
    source = ModelsDev(document(openai=OPENAI, deepseek=["deepseek-chat"]), etag='"v1"')
    refresh(kv, source, clock)
    kv.puts.clear()
    source.text, source.etag = document(openai=OPENAI, deepseek=["deepseek-v4"]), '"v2"'
    assert refresh(kv, source, clock) == "no change to the 3 models served"
    assert [key for key, _ in kv.puts] == [STATE_KEY]


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
    # A shrink is no failure: the document was read; openai alone is held back.
    expected = "no change to the 4 models served" if breakage == "shrunk" else "kept the previous"
    assert outcome.startswith(expected)
    assert reason in outcome
    assert kv.data[KV_KEY] == before


def test_a_broken_kv_never_crashes_the_cron() -> None:
    class BrokenKV(MemoryKV):
        async def put(self, key: str, value: str, *, ttl_seconds: int | None = None) -> None:
            raise RuntimeError("KV is down")

    outcome = refresh(BrokenKV(), ModelsDev(FIXTURE.read_text()), Clock())
    assert outcome == "kept the previous catalog: unexpected RuntimeError"


# --- the guard, on documents in models.dev's shape -----------------------------------------


def test_a_change_that_persists_is_taken_after_three_refreshes_and_holds_only_its_provider() -> (
    None
):
    kv, clock, both = MemoryKV(), Clock(), ("openai", "google")
    source = ModelsDev(document(openai=OPENAI, google=GOOGLE_BEFORE), etag=None)
    assert refresh(kv, source, clock, both).startswith("stored 35 models")
    # Hourly documents: Google loses half its models and stays that way; OpenAI moves on.
    outcomes = []
    for hour, extra in enumerate(["gpt-5.1", "gpt-5.2", "gpt-5.3"], start=1):
        clock.now += 3600
        source.text = document(openai=[*OPENAI, extra], google=GOOGLE_AFTER)
        outcomes.append(refresh(kv, source, clock, both))
        # OpenAI's new model is served at once, whatever Google does.
        assert served(kv, "openai") == {*OPENAI, extra}
        if hour < 3:
            assert served(kv, "google") == set(GOOGLE_BEFORE)  # never half-empty from one doc
            report = health(kv, clock)
            assert report is not None
            assert "'google' would drop from 32 to 15" in report["refused"]["reason"]
            assert report["held_seconds"] == (hour - 1) * 3600
            assert report["holds"] == {"google": {"held_seconds": (hour - 1) * 3600, "seen": hour}}
    assert outcomes[0].endswith("(seen 1 of 3)")
    assert outcomes[1].endswith("(seen 2 of 3)")
    assert "taking a shrink: 'google' would drop from 32 to 15 models, seen on 3" in outcomes[2]
    assert served(kv, "google") == set(GOOGLE_AFTER)
    report = health(kv, clock)
    assert report is not None
    assert "refused" not in report


def test_a_shrink_whose_list_moves_every_hour_is_taken_after_three_sightings() -> None:
    kv, clock, both = MemoryKV(), Clock(), ("openai", "google")
    source = ModelsDev(document(openai=OPENAI, google=GOOGLE_BEFORE), etag=None)
    refresh(kv, source, clock, both)
    for size in (15, 14, 13):
        source.text = document(openai=OPENAI, google=GOOGLE_BEFORE[:size])
        refresh(kv, source, clock, both)
    assert served(kv, "google") == set(GOOGLE_BEFORE[:13])


def test_failures_between_sightings_do_not_reset_the_count() -> None:
    kv, clock, both = MemoryKV(), Clock(), ("openai", "google")
    source = ModelsDev(document(openai=OPENAI, google=GOOGLE_BEFORE), etag=None)
    refresh(kv, source, clock, both)
    source.text = document(openai=OPENAI, google=GOOGLE_AFTER)
    for down in (False, True, False, True, True, False):
        source.down = down
        refresh(kv, source, clock, both)
    assert served(kv, "google") == set(GOOGLE_AFTER)


def test_a_stale_copy_alternating_with_the_new_one_does_not_keep_it_out() -> None:
    kv, clock, both = MemoryKV(), Clock(), ("openai", "google")
    old, new = (document(openai=OPENAI, google=g) for g in (GOOGLE_BEFORE, GOOGLE_AFTER))
    source = ModelsDev(old, etag=None)
    refresh(kv, source, clock, both)
    for text in (new, old, new, old, new):
        source.text = text
        refresh(kv, source, clock, both)
    assert served(kv, "google") == set(GOOGLE_AFTER)


def test_one_truncated_document_among_good_ones_is_never_served() -> None:
    kv, clock, both = MemoryKV(), Clock(), ("openai", "google")
    source = ModelsDev(document(openai=OPENAI, google=GOOGLE_BEFORE), etag=None)
    refresh(kv, source, clock, both)
    for google in [GOOGLE_AFTER, *[GOOGLE_BEFORE] * 3, GOOGLE_BEFORE[:10], *[GOOGLE_BEFORE] * 3]:
        source.text = document(openai=OPENAI, google=google)
        refresh(kv, source, clock, both)
        assert served(kv, "google") == set(GOOGLE_BEFORE)
    assert "refused" not in (health(kv, clock) or {})


def test_a_held_shrink_answered_304_is_still_counted_and_taken() -> None:
    kv, clock, both = MemoryKV(), Clock(), ("openai", "google")
    source = ModelsDev(document(openai=OPENAI, google=GOOGLE_BEFORE), etag='"v1"')
    refresh(kv, source, clock, both)
    source.text, source.etag = document(openai=OPENAI, google=GOOGLE_AFTER), '"v2"'
    assert refresh(kv, source, clock, both).endswith("(seen 1 of 3)")
    assert refresh(kv, source, clock, both) == "unchanged (304)"
    assert served(kv, "google") == set(GOOGLE_BEFORE)
    assert "taking a shrink" in refresh(kv, source, clock, both)
    assert served(kv, "google") == set(GOOGLE_AFTER)


def test_a_provider_taken_off_the_list_is_simply_dropped() -> None:
    kv, clock = MemoryKV(), Clock()
    source = ModelsDev(document(openai=OPENAI, anthropic=["claude-sonnet-5"]))
    refresh(kv, source, clock, ("openai", "anthropic"))
    assert refresh(kv, source, clock, ("openai",)).startswith("stored 3 models")
    assert set(stored(kv).providers) == {"openai"}


def test_a_changed_provider_list_takes_effect_whatever_models_dev_answers() -> None:
    kv, clock = MemoryKV(), Clock()
    source = ModelsDev(document(openai=OPENAI, anthropic=["claude-sonnet-5"]), etag='"v1"')
    refresh(kv, source, clock, ("openai",))
    # The same document, which models.dev would answer with 304 to If-None-Match.
    assert refresh(kv, source, clock, ("anthropic", "openai")).startswith("stored 4 models")
    assert "if-none-match" not in source.requests[-1]
    assert served(kv, "anthropic") == {"claude-sonnet-5"}
    # The order of the list means nothing: no new fetch without a validator.
    assert refresh(kv, source, clock, ("openai", "anthropic")) == "unchanged (304)"
    # Even when models.dev is down, a removal applies at once...
    source.down = True
    assert refresh(kv, source, clock, ("openai",)).startswith("kept the previous catalog")
    assert set(stored(kv).providers) == {"openai"}
    # ...and putting the provider back fetches afresh, never "unchanged".
    source.down = False
    assert refresh(kv, source, clock, ("openai", "anthropic")).startswith("stored 4 models")
    assert "if-none-match" not in source.requests[-1]
    assert served(kv, "anthropic") == {"claude-sonnet-5"}


def test_a_timed_out_fetch_is_logged_and_recorded_like_any_failure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    kv, clock = MemoryKV(), Clock()
    source = ModelsDev(FIXTURE.read_text())
    refresh(kv, source, clock)

    async def hangs(url: str, headers: Mapping[str, str], *, timeout: float) -> Fetched:
        raise OSError(f"timed out after {timeout:.0f} s")

    store = CatalogStore(kv, clock)
    outcome = asyncio.run(
        Refresher(
            store, hangs, clock, print, url="https://models.test/api.json", providers=("openai",)
        ).run()
    )
    assert outcome == (
        "kept the previous catalog: cannot reach https://models.test/api.json: timed out after 20 s"
    )
    assert '"event": "catalog"' in capsys.readouterr().out
    failure = state(kv).failure
    assert failure is not None
    assert "timed out" in failure.reason


def test_a_provider_models_dev_drops_keeps_its_models_and_shows_in_health() -> None:
    kv, clock, both = MemoryKV(), Clock(), ("openai", "google")
    source = ModelsDev(document(openai=OPENAI, google=GOOGLE_BEFORE), etag=None)
    refresh(kv, source, clock, both)
    source.text = document(openai=OPENAI)
    assert refresh(kv, source, clock, both).endswith("google missing from models.dev")
    assert served(kv, "google") == set(GOOGLE_BEFORE)
    report = health(kv, clock)
    assert report is not None
    # google, which the document lacks, and the shipped config's other two sources, which
    # this catalog (refreshed for openai and google only) has never held.
    assert report["missing_providers"] == ["anthropic", "cloudflare-workers-ai", "google"]


def test_every_served_menu_follows_the_stored_catalog_whatever_models_dev_sent() -> None:
    # A warm isolate, a provider list change, and models.dev's very same bytes: the menu
    # must follow what is stored, not the document's hash.
    kv, clock = MemoryKV(), Clock()
    source = ModelsDev(document(openai=OPENAI, anthropic=["claude-sonnet-4-5"]), etag=None)
    refresh(kv, source, clock, ("openai",))
    app = make_app(LocalAccess(), cache=kv, clock=clock)
    menu = asyncio.run(app.services.catalog.current())
    assert not app.services.discovery.menu(menu).allows("anthropic", "claude-sonnet-4-5")
    refresh(kv, source, clock, ("anthropic", "openai"))
    clock.now += 61  # past the isolate's one-minute cache
    menu = asyncio.run(app.services.catalog.current())
    assert app.services.discovery.menu(menu).allows("anthropic", "claude-sonnet-4-5")
