"""Routing, methods and error bodies, as a client sees them."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import pytest

import build_config
from devstack.access import LocalAccess
from opencode_proxy.discovery import CompiledConfigError
from opencode_proxy.http import Response
from opencode_proxy.router import App
from support import cpython


@pytest.fixture(scope="module")
def app() -> App:
    assert build_config.main([]) == 0
    return cpython.make_app(LocalAccess())


def call(app: App, method: str, url: str) -> Response:
    return cpython.call(app, method, url)


def header(response: Response, name: str) -> str | None:
    return dict(response.headers).get(name)


def test_discovery_names_the_host_it_was_asked_on_and_is_cached_privately(app: App) -> None:
    # Without PUBLIC_ORIGIN, the answer depends on the Host header: no shared cache may
    # keep it, or one request with a forged Host would poison everyone's baseURL.
    response = call(app, "GET", "https://ai.example.com/.well-known/opencode")
    assert response.status == 200
    assert header(response, "content-type") == "application/json; charset=utf-8"
    assert header(response, "cache-control") == "private, max-age=300"
    assert header(response, "content-length") == str(len(response.body))
    assert json.loads(response.body)["auth"]["env"] == "CF_ACCESS_TOKEN"


def test_origin_keeps_the_port(app: App) -> None:
    response = call(app, "GET", "http://127.0.0.1:8787/.well-known/opencode")
    command = json.loads(response.body)["auth"]["command"]
    assert command[-1] == "-app=http://127.0.0.1:8787"


@pytest.mark.parametrize(
    "host",
    [
        "user:pw@127.0.0.1:8787",
        "evil.example$(id)",
        "evil.example`id`",
        "evil.example;id",
        "a.example&b",
        "a.example|b",
        'x.example"><img src=x>',
        "a b.example",
        "-a.example",
        "a.example:0",
        "a.example:65536",
        "a.example:80x",
        "[::1",
        "[zz::1]",
        "::1",
        "é.example",
        "a" * 64 + ".example",
        "",
    ],
)
def test_a_host_that_is_not_a_name_or_an_ip_is_refused_before_any_route(
    app: App, host: str
) -> None:
    response = call(app, "GET", f"http://{host}/.well-known/opencode")
    assert response.status == 400
    assert json.loads(response.body)["error"]["type"] == "bad_host"
    assert b"$(" not in response.body


@pytest.mark.parametrize(
    ("host", "origin"),
    [
        ("AI.Example.com", "https://ai.example.com"),
        ("[::1]:8787", "https://[::1]:8787"),
        ("10.0.0.1:443", "https://10.0.0.1:443"),
    ],
)
def test_a_valid_host_becomes_one_canonical_origin(app: App, host: str, origin: str) -> None:
    response = call(app, "GET", f"https://{host}/.well-known/opencode")
    assert json.loads(response.body)["auth"]["command"][-1] == f"-app={origin}"


def test_query_strings_do_not_change_the_route(app: App) -> None:
    assert call(app, "GET", "https://ai.example.com/.well-known/opencode?x=1").status == 200


def test_head_returns_the_headers_of_get_without_a_body(app: App) -> None:
    get = call(app, "GET", "https://ai.example.com/.well-known/opencode")
    head = call(app, "HEAD", "https://ai.example.com/.well-known/opencode")
    assert head.status == 200
    assert head.body == b""
    assert head.headers == get.headers


def test_head_of_an_unknown_path_is_a_bodiless_404(app: App) -> None:
    response = call(app, "HEAD", "https://ai.example.com/nope")
    assert response.status == 404
    assert response.body == b""
    assert header(response, "content-type") == "application/json; charset=utf-8"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_get_405_with_allow(app: App, method: str) -> None:
    response = call(app, method, "https://ai.example.com/.well-known/opencode")
    assert response.status == 405
    assert header(response, "allow") == "GET, HEAD"
    error = json.loads(response.body)["error"]
    assert error["type"] == "method_not_allowed"
    assert method in error["message"]


def test_health_reports_liveness_without_settings(app: App) -> None:
    response = call(app, "GET", "https://ai.example.com/healthz")
    assert response.status == 200
    assert header(response, "cache-control") == "no-store"
    assert json.loads(response.body) == {
        "status": "ok",
        "runtime": {"python": platform.python_version()},
        "config": {"providers": 4, "models": 9},
        "catalog": None,
    }


@pytest.mark.parametrize(
    "path", ["/nope", "/.well-known/opencode/", "/.well-known/OPENCODE", "/healthz/x"]
)
def test_unknown_paths_get_a_json_404(app: App, path: str) -> None:
    response = call(app, "GET", f"https://ai.example.com{path}")
    assert response.status == 404
    assert json.loads(response.body)["error"]["type"] == "not_found"


def test_an_unexpected_failure_is_a_json_500_without_details(
    app: App, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(origin: str) -> bytes:
        raise ValueError("secret-ish internals")

    monkeypatch.setattr(app.services.discovery, "render", explode)
    response = call(app, "GET", "https://ai.example.com/.well-known/opencode")
    assert response.status == 500
    assert json.loads(response.body)["error"]["type"] == "internal_error"
    assert b"secret-ish" not in response.body
    assert "unhandled error on GET /.well-known/opencode" in caplog.text


def test_with_a_public_origin_discovery_ignores_the_host_and_may_be_shared() -> None:
    access = LocalAccess()
    settings = {**cpython.default_settings(access), "PUBLIC_ORIGIN": "https://ai.example.com"}
    app = cpython.make_app(access, settings=settings)
    response = call(app, "GET", "https://evil.example/.well-known/opencode")
    assert header(response, "cache-control") == "public, max-age=300"
    assert "evil.example" not in response.body.decode()
    assert json.loads(response.body)["auth"]["command"][-1] == "-app=https://ai.example.com"
    refused = call(app, "GET", "https://evil.example/whoami")
    assert "-app=https://ai.example.com" in json.loads(refused.body)["error"]["message"]


def test_an_unusable_public_origin_falls_back_to_the_host_privately() -> None:
    access = LocalAccess()
    settings = {**cpython.default_settings(access), "PUBLIC_ORIGIN": "ai.example.com/path"}
    response = call(
        cpython.make_app(access, settings=settings), "GET", "https://a.example/.well-known/opencode"
    )
    assert response.status == 200
    assert header(response, "cache-control") == "private, max-age=300"


def test_a_hand_edited_endpoint_in_the_compiled_config_is_a_config_error(tmp_path: Path) -> None:
    # The build refuses such an endpoint; a copy edited after it must not crash each request.
    document = cpython.shipped_config()
    document["endpoints"] = {"openai": [{"method": "POST", "path": "no-slash", "model": "body"}]}
    compiled = tmp_path / "opencode.json"
    compiled.write_text(json.dumps(document))
    with pytest.raises(CompiledConfigError, match=r"opencode\.json endpoints: 'no-slash' must be"):
        cpython.make_app(LocalAccess(), compiled=compiled)
