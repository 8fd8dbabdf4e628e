"""The model menu: what discovery lists is exactly what the proxy lets through."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import access_vectors
import build_config
from devstack.access import LocalAccess, access_claims
from opencode_proxy.catalog import Catalog
from opencode_proxy.discovery import Discovery
from opencode_proxy.http import Response
from opencode_proxy.menu import BODY_LIMIT, CatalogRule, Menu, route_of, served_models
from opencode_proxy.router import App
from support import cpython

ENTRY: dict[str, Any] = {"name": "m", "limit": {"context": 1000, "output": 100}}


def catalog_of(models: dict[str, Any]) -> Catalog:
    return Catalog({"openai": models}, 0.0, 0.0, None, "digest")


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
    assert set(served_models({"gpt-5": ENTRY}, offered, rule)) == {"gpt-5", "gpt-5.1", "o3"}
    assert set(served_models({}, offered, CatalogRule())) == set(offered)


def test_the_menu_is_keyed_by_the_route_each_provider_uses(config_src: Path) -> None:
    discovery = Discovery(build_config.compile_config(config_src))
    menu = discovery.menu(catalog_of({"gpt-4.1": ENTRY}))
    assert menu.allows("openai", "gpt-4.1")
    assert menu.allows("anthropic", "claude-sonnet-5")
    assert menu.allows("compat", "workers-ai/@cf/openai/gpt-oss-120b")
    assert menu.allows("google-ai-studio", "gemini-2.5-pro")
    assert not menu.allows("openai", "claude-sonnet-5")
    assert not menu.allows("openai", "o3-mini")
    assert not menu.allows("workers-ai", "@cf/openai/gpt-oss-120b")


def test_a_provider_outside_the_proxy_routes_serves_nothing_through_it() -> None:
    assert route_of({"options": {"baseURL": "https://elsewhere.example/v1"}}) is None
    assert Menu.of(
        {"x": {"options": {"baseURL": "https://e.example"}, "models": {"m": {}}}}
    ) == Menu({})


KEY = access_vectors.load_keys()["access-1"]
ORIGIN = "https://ai.example.com"


@pytest.fixture
def access() -> LocalAccess:
    return LocalAccess(published=[KEY])


@pytest.fixture
def upstream() -> cpython.RecordingUpstream:
    return cpython.RecordingUpstream()


@pytest.fixture
def app(access: LocalAccess, upstream: cpython.RecordingUpstream) -> App:
    return cpython.make_app(access, upstream=upstream)


def send(
    app: App, access: LocalAccess, path: str, body: bytes | None, method: str = "POST"
) -> Response:
    token = {"cf-access-token": KEY.sign(access_claims(access.origin, cpython.AUDIENCE))}
    return cpython.call(app, method, ORIGIN + path, token, body)


def refusal(response: Response) -> str:
    assert response.status == 403, response.body
    error = json.loads(response.body)["error"]
    assert error["type"] == "model_not_allowed"
    assert f"{ORIGIN}/.well-known/opencode" in error["message"]
    return str(error["message"])


@pytest.mark.parametrize(
    ("path", "model"),
    [
        ("/openai/v1/responses", "o3-mini"),
        ("/openai/v1/chat/completions", "claude-sonnet-5"),  # served, but on /anthropic
        ("/anthropic/v1/messages", "claude-3-opus"),
        ("/compat/chat/completions", "openai/gpt-5"),
    ],
)
def test_a_model_that_is_not_served_on_the_route_is_refused_before_the_gateway(
    app: App, access: LocalAccess, upstream: cpython.RecordingUpstream, path: str, model: str
) -> None:
    body = json.dumps({"model": model, "input": "hi"}).encode()
    assert repr(model) in refusal(send(app, access, path, body))
    assert upstream.calls == []


def test_a_served_model_goes_through_with_its_body_byte_identical(
    app: App, access: LocalAccess, upstream: cpython.RecordingUpstream
) -> None:
    body = b'{ "input": "hi",\n  "model": "gpt-5", "stream": true }'
    assert send(app, access, "/openai/v1/responses", body).status == 200
    ((_, _, _, forwarded),) = upstream.calls
    assert forwarded == body


@pytest.mark.parametrize(
    "body", [None, b"", b"not json", b"[1, 2]", b'{"model": 5}', b'{"input": "no model"}']
)
def test_a_body_that_names_no_model_is_refused(
    app: App, access: LocalAccess, upstream: cpython.RecordingUpstream, body: bytes | None
) -> None:
    assert "names no model" in refusal(send(app, access, "/anthropic/v1/messages", body))
    assert upstream.calls == []


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/google-ai-studio/v1beta/models/gemini-2.5-pro:streamGenerateContent", 200),
        ("/google-ai-studio/v1beta/models/gemini-1.0-ultra:generateContent", 403),
        ("/workers-ai/@cf/meta/llama-3.1-8b-instruct", 403),
    ],
)
def test_path_routes_take_the_model_from_the_path(
    app: App, access: LocalAccess, path: str, status: int
) -> None:
    # The body is not what counts here; it even names a served model.
    assert send(app, access, path, b'{"model": "gemini-2.5-pro"}').status == status


def test_requests_that_generate_nothing_pass_without_a_model(
    app: App, access: LocalAccess, upstream: cpython.RecordingUpstream
) -> None:
    assert send(app, access, "/openai/v1/models", None, method="GET").status == 200
    assert send(app, access, "/google-ai-studio/v1beta/models", None, method="GET").status == 200
    assert len(upstream.calls) == 2


def test_a_body_over_the_limit_is_refused_unread(
    app: App, access: LocalAccess, upstream: cpython.RecordingUpstream
) -> None:
    token = {"cf-access-token": KEY.sign(access_claims(access.origin, cpython.AUDIENCE))}
    headers = {**token, "content-length": str(BODY_LIMIT + 1)}
    response = cpython.call(app, "POST", ORIGIN + "/openai/v1/responses", headers, object())
    assert response.status == 413
    assert json.loads(response.body)["error"]["type"] == "body_too_large"
    assert upstream.calls == []


def test_an_unsigned_request_is_refused_before_its_body_is_read(
    app: App, upstream: cpython.RecordingUpstream
) -> None:
    # `object()` is no body the port could read: reading it would fail the test.
    response = cpython.call(app, "POST", ORIGIN + "/openai/v1/responses", {}, object())
    assert response.status == 401


def test_workers_ai_catalog_models_arrive_under_the_ids_of_their_route(config_src: Path) -> None:
    discovery = Discovery(build_config.compile_config(config_src))
    catalog = Catalog({"cloudflare-workers-ai": {"@cf/meta/llama-4-scout": ENTRY}}, 0, 0, None, "d")
    served = discovery.merged_config(catalog)["provider"]
    assert "workers-ai/@cf/meta/llama-4-scout" in served["workers-ai"]["whitelist"]
    assert not any("llama-4" in model for model in served["openai"]["whitelist"])
    assert discovery.menu(catalog).allows("compat", "workers-ai/@cf/meta/llama-4-scout")


def test_a_body_that_cannot_be_read_is_a_400_not_a_crash(
    access: LocalAccess, upstream: cpython.RecordingUpstream
) -> None:
    async def broken(body: object, limit: int) -> tuple[str | None, object]:
        raise OSError("the client went away")

    app = cpython.make_app(access, upstream=upstream)
    object.__setattr__(app.platform, "body_model", broken)
    response = send(app, access, "/openai/v1/responses", b'{"model": "gpt-5"}')
    assert response.status == 400
    assert json.loads(response.body)["error"]["type"] == "bad_body"
    assert upstream.calls == []
