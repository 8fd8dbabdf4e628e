"""The public routes, fetched over HTTP from the Worker running in workerd."""

from __future__ import annotations

import httpx
import pytest

from devstack.runtime import LocalWorker


def test_discovery_is_rendered_for_the_origin_the_client_used(worker: LocalWorker) -> None:
    response = httpx.get(f"{worker.url}/.well-known/opencode")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.headers["cache-control"] == "private, max-age=300"
    assert "{baseURL}" not in response.text
    document = response.json()
    assert document["auth"] == {
        "command": ["cloudflared", "access", "login", "--no-verbose", f"-app={worker.url}"],
        "env": "CF_ACCESS_TOKEN",
    }
    providers = document["config"]["provider"]
    assert providers["anthropic"]["options"]["baseURL"] == f"{worker.url}/anthropic/v1"
    assert providers["openai"]["models"]["gpt-5"]["options"] == {"store": False}


def test_the_host_header_decides_the_origin(worker: LocalWorker) -> None:
    response = httpx.get(f"{worker.url}/.well-known/opencode", headers={"host": "ai.example.com"})
    assert response.json()["config"]["provider"]["openai"]["options"]["baseURL"] == (
        "http://ai.example.com/openai/v1"
    )


def test_head_has_no_body(worker: LocalWorker) -> None:
    response = httpx.head(f"{worker.url}/.well-known/opencode")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["cache-control"] == "private, max-age=300"


def test_post_to_discovery_is_405_with_allow(worker: LocalWorker) -> None:
    response = httpx.post(f"{worker.url}/.well-known/opencode", content=b"{}")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert response.json()["error"]["type"] == "method_not_allowed"


def test_health_answers_without_settings_or_secrets(worker: LocalWorker) -> None:
    response = httpx.get(f"{worker.url}/healthz")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["config"] == {"providers": 4, "models": 9}


@pytest.mark.parametrize("path", ["/nope", "/.well-known/opencode.json", "/healthz/x"])
def test_unknown_paths_are_a_json_404(worker: LocalWorker, path: str) -> None:
    response = httpx.get(f"{worker.url}{path}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json()["error"]["type"] == "not_found"


def test_the_root_is_a_page_for_browsers_and_json_for_the_rest(worker: LocalWorker) -> None:
    page = httpx.get(f"{worker.url}/", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert f"opencode auth login {worker.url}" in page.text
    assert httpx.get(f"{worker.url}/").json()["discovery"] == f"{worker.url}/.well-known/opencode"
