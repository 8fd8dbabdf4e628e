"""Catalog data that cannot break what is built from it: hostile models.dev documents
(and catalogs stored before the refresh checked them) through every route that
serves them. Discovery and /setup/opencode must answer 200, or OpenCode cannot start."""

from __future__ import annotations

import asyncio
import json
import subprocess
import tomllib
from collections.abc import Mapping

import pytest

import access_vectors
from devstack.access import LocalAccess, access_claims
from opencode_proxy.catalog import KV_KEY, Catalog, CatalogStore
from opencode_proxy.pages import Pages
from opencode_proxy.ports import Fetched
from opencode_proxy.refresh import Refresher
from opencode_proxy.router import App
from support import cpython
from support.hostile_catalog import HOSTILE_IDS, HOSTILE_NAMES, models_dev_text

KEY = access_vectors.load_keys()["access-1"]
ORIGIN = "https://ai.example.com"
BROWSER = {"accept": "text/html"}
LISTINGS = (
    "/openai/v1/models",
    "/anthropic/v1/models",
    "/google-ai-studio/v1beta/models",
    "/google-ai-studio/v1beta/openai/models",
    "/compat/models",
    "/workers-ai/v1/models",
)
SETUPS = Pages.SETUP


@pytest.fixture
def access() -> LocalAccess:
    return LocalAccess(published=[KEY])


def _refreshed(text: str, kv: cpython.MemoryKV, lines: list[str]) -> str:
    async def serve(url: str, headers: Mapping[str, str], *, timeout: float) -> Fetched:
        return Fetched(200, {"etag": '"hostile"'}, text)

    refresher = Refresher(
        CatalogStore(kv, cpython.Clock()),
        serve,
        cpython.Clock(),
        lines.append,
        url="https://models.dev/api.json",
        providers=("openai", "anthropic", "google", "cloudflare-workers-ai"),
    )
    return asyncio.run(refresher.run())


def _every_answer(app: App, access: LocalAccess) -> dict[str, bytes]:
    """Each route that shows catalog data, signed in; every one must answer 200."""
    token = KEY.sign(access_claims(access.origin, cpython.AUDIENCE, email="a@example.com"))
    signed = {"cf-access-token": token}
    answers = {}
    for path, headers in [
        ("/.well-known/opencode", {}),
        ("/", BROWSER),
        ("/", {**BROWSER, **signed}),
        *((path, signed) for path in SETUPS),
        *((path, {}) for path in SETUPS),
        *((path, signed) for path in LISTINGS),
    ]:
        response = cpython.call(app, "GET", ORIGIN + path, headers)
        assert response.status == 200, (path, response.body[:300])
        answers[f"{path} {sorted(headers)}"] = response.body
    return answers


def _check(answers: dict[str, bytes]) -> None:
    for where, body in answers.items():
        text = body.decode("utf-8")  # every answer is valid UTF-8
        # The hostile ids and names; the quoted name ('"; rm -rf / $(id)') is data, shown.
        for bad in ("gpt-$(id)", "gpt-`id`", "\x7f", "\x00", "\x07", "\u202e", "gpt-5;id"):
            assert bad not in text, (where, bad)
        assert "g" * 129 not in text, where
        if "codex" in where:
            tomllib.loads(text)
        elif text.startswith("#!/bin/sh"):  # a launcher: valid sh, its settings valid JSON
            assert subprocess.run(["sh", "-n"], input=text, text=True).returncode == 0, where
            if "<<'SETTINGS'\n" in text:
                json.loads(text.split("<<'SETTINGS'\n")[1].split("\nSETTINGS\n")[0])
        elif "<!doctype" in text:
            assert "<script>" not in text
            assert "&lt;script&gt;" in text
        else:
            json.loads(text)


def test_a_hostile_models_dev_document_never_breaks_a_route(access: LocalAccess) -> None:
    kv, lines = cpython.MemoryKV(), list[str]()
    outcome = _refreshed(models_dev_text(), kv, lines)
    assert outcome.startswith("stored")
    stored = Catalog.from_json(kv.data[KV_KEY])
    served = set(stored.providers["openai"])
    assert served >= {"gpt-5", "gpt-named-0", "gpt-named-3", "gpt-quoted"}
    assert not served & {"gpt-$(id)", "-rf", "g" * 129, "gpt 5"}
    assert all(
        stored.providers["openai"][f"gpt-named-{n}"]["name"] == f"gpt-named-{n}" for n in range(4)
    )
    (dropped,) = [json.loads(line) for line in lines if '"catalog_dropped"' in line]
    assert dropped["count"] == len(HOSTILE_IDS) + len(HOSTILE_NAMES)
    assert "openai/'gpt-$(id)'" in dropped["dropped"]
    _check(_every_answer(cpython.make_app(access, cache=kv), access))


def test_a_catalog_stored_before_the_checks_is_served_without_its_bad_entries(
    access: LocalAccess,
) -> None:
    # Written as an older Worker would have: every id and name as models.dev sent it.
    providers = json.loads(models_dev_text())
    catalog = {
        "fetched_at": cpython.Clock()(),
        "sources": ["openai"],
        "missing": [],
        "providers": {"openai": providers["openai"]["models"]},
    }
    kv = cpython.MemoryKV()
    kv.data[KV_KEY] = json.dumps(catalog)
    answers = _every_answer(cpython.make_app(access, cache=kv), access)
    _check(answers)
    listed = json.loads(answers["/openai/v1/models ['cf-access-token']"])
    assert "gpt-quoted" in {model["id"] for model in listed["data"]}


def test_ten_thousand_models_are_served_by_every_route(access: LocalAccess) -> None:
    kv, lines = cpython.MemoryKV(), list[str]()
    _refreshed(models_dev_text(extra=10_000), kv, lines)
    answers = _every_answer(cpython.make_app(access, cache=kv), access)
    _check(answers)
    discovery = json.loads(answers["/.well-known/opencode []"])
    assert len(discovery["config"]["provider"]["openai"]["whitelist"]) > 10_000
