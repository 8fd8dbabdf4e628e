"""The model menu: what discovery lists is exactly what the proxy lets through."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import build_config
from opencode_proxy.catalog import Catalog
from opencode_proxy.discovery import Discovery
from opencode_proxy.menu import CatalogRule, Menu, candidate_models, route_of

ORIGIN = "https://ai.example.com"
ENTRY: dict[str, Any] = {"name": "m", "limit": {"context": 1000, "output": 100}}


def catalog_of(models: dict[str, Any]) -> Catalog:
    return Catalog({"openai": models}, 0.0, version=json.dumps(models, sort_keys=True))


def test_served_config_enables_only_the_served_providers_and_whitelists_their_models(
    config_src: Path,
) -> None:
    discovery = Discovery(build_config.compile_config(config_src))
    catalog = catalog_of({"o3-mini": {**ENTRY, "status": "deprecated"}, "gpt-4.1": ENTRY})
    served = json.loads(discovery.render("https://ai.example.com", catalog))["config"]
    providers = served["provider"]
    assert served["enabled_providers"] == sorted(providers)
    assert "opencode" not in served["enabled_providers"]
    for provider in providers.values():
        assert provider["whitelist"] == sorted(provider["models"])
        assert all("status" in entry for entry in provider["models"].values())
    openai = providers["openai"]["models"]
    assert set(openai) == {"gpt-5", "gpt-5-mini", "o3-mini", "gpt-4.1"}
    assert openai["gpt-4.1"]["status"] == "active"
    # A status the catalog gives is kept; config-src's own entries get "active".
    assert openai["o3-mini"]["status"] == "deprecated"
    assert openai["gpt-5"]["status"] == "active"


def test_serve_and_hide_patterns_choose_catalog_models() -> None:
    offered = {name: ENTRY for name in ("gpt-5.1", "gpt-5.1-mini", "o3", "o3-mini")}
    rule = CatalogRule(serve=("gpt-5.*", "o3*"), hide=("*-mini",))
    candidates, default = candidate_models({"gpt-5": ENTRY}, offered, rule)
    assert set(default) == {"gpt-5", "gpt-5.1", "o3"}
    assert set(candidates) == {"gpt-5", *offered}  # what a group may add from
    assert set(candidate_models({}, offered, CatalogRule())[1]) == set(offered)


def test_the_menu_is_keyed_by_the_route_each_provider_uses(config_src: Path) -> None:
    discovery = Discovery(build_config.compile_config(config_src))
    menu = discovery.menu(catalog_of({"gpt-4.1": ENTRY}))
    assert menu.allows("openai", "gpt-4.1")
    assert menu.allows("anthropic", "claude-sonnet-5")
    assert menu.allows("compat", "workers-ai/@cf/openai/gpt-oss-120b")
    assert menu.allows("google-ai-studio", "gemini-2.5-pro")
    assert not menu.allows("openai", "claude-sonnet-5")
    assert not menu.allows("openai", "o3-mini")
    # Workers AI's models, on its own route and as "workers-ai/<id>" on /compat.
    assert menu.allows("workers-ai", "@cf/openai/gpt-oss-120b")
    assert not menu.allows("workers-ai", "workers-ai/@cf/openai/gpt-oss-120b")
    assert not menu.allows("compat", "@cf/openai/gpt-oss-120b")


def test_a_provider_outside_the_proxy_routes_serves_nothing_through_it() -> None:
    assert route_of({"options": {"baseURL": "https://elsewhere.example/v1"}}) is None
    assert Menu.of(
        {"x": {"options": {"baseURL": "https://e.example"}, "models": {"m": {}}}}
    ) == Menu({})


def test_workers_ai_catalog_models_arrive_under_the_ids_of_their_route(config_src: Path) -> None:
    discovery = Discovery(build_config.compile_config(config_src))
    catalog = Catalog({"cloudflare-workers-ai": {"@cf/meta/llama-4-scout": ENTRY}}, 0, version="d")
    served = discovery.merged_config(catalog)["provider"]
    assert "@cf/meta/llama-4-scout" in served["workers-ai"]["whitelist"]
    assert not any("llama-4" in model for model in served["openai"]["whitelist"])
    assert discovery.menu(catalog).allows("workers-ai", "@cf/meta/llama-4-scout")
    assert discovery.menu(catalog).allows("compat", "workers-ai/@cf/meta/llama-4-scout")


def test_base_url_is_filled_in_only_where_config_src_wrote_it(config_src: Path) -> None:
    # models.dev data is not ours to rewrite: a catalog id or name holding the
    # placeholder reaches clients exactly as models.dev wrote it.
    discovery = Discovery(build_config.compile_config(config_src))
    odd = {**ENTRY, "name": "see {baseURL}/x"}
    served = json.loads(discovery.render(ORIGIN, catalog_of({"gpt-{baseURL}": odd})))["config"]
    openai = served["provider"]["openai"]
    assert openai["options"]["baseURL"] == f"{ORIGIN}/openai/v1"
    assert openai["models"]["gpt-{baseURL}"]["name"] == "see {baseURL}/x"
    assert "gpt-{baseURL}" in openai["whitelist"]
    assert served["provider"]["anthropic"]["options"]["baseURL"] == f"{ORIGIN}/anthropic/v1"
