"""Provider routing on CPython: which paths are refused, and what goes upstream."""

from __future__ import annotations

import asyncio
import json

import pytest

import access_vectors
from devstack.access import LocalAccess, access_claims
from opencode_proxy.endpoints import SHIPPED
from opencode_proxy.http import Request
from opencode_proxy.identity import Identity, anonymous_id
from opencode_proxy.ports import UpstreamAnswer
from opencode_proxy.proxy import Gateway, check_rest
from opencode_proxy.refusal import Refusal
from opencode_proxy.settings import SettingError
from support import cpython

IDENTITY = Identity("0f8fad5b-d9cb-869f-a165-70867728950e", "user", "a@example.com")


@pytest.mark.parametrize(
    "rest",
    [
        "",
        "/",
        "/v1/messages",
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
        "/@cf/meta/llama-3.3-70b-instruct-fp8-fast",
        "/v1/files/file-abc%20def",
    ],
)
def test_ordinary_paths_pass(rest: str) -> None:
    check_rest(rest)


@pytest.mark.parametrize(
    "rest",
    [
        "/../anthropic/x",
        "/./x",
        "/a/../../x",
        "/x/..",
        "/%2e%2e/x",
        "/%2E%2E/x",
        "/.%2e/x",
        "/a%2fb",
        "/a%2Fb",
        "/a%5cb",
        "/%252e%252e/x",
        "/a%00b",
        "/a%zz",
        "/a%",
        "//evil.example/x",
        "/a//b",
        "/a\\b",
        "/\\\\evil",
        "/http://evil.example/x",
        "/a b",
        "/a\r\nHost: evil",
        "/a\tb",
        "/ä",
    ],
)
def test_paths_that_could_change_meaning_are_refused(rest: str) -> None:
    with pytest.raises(Refusal, match="Refused"):
        check_rest(rest)


class FakeUpstream:
    def __init__(self, error: bool = False) -> None:
        self.calls: list[tuple[str, str, list[tuple[str, str]], object | None]] = []
        self.error = error

    async def __call__(
        self, method: str, url: str, headers: list[tuple[str, str]], body: object | None
    ) -> UpstreamAnswer:
        self.calls.append((method, url, headers, body))
        if self.error:
            raise OSError("connection refused")
        return UpstreamAnswer(429, "provider response object")


async def gateway_url(gateway_id: str, provider: str) -> str:
    return f"https://gateway.ai.cloudflare.com/v1/acct/{gateway_id}/{provider}/"


ROUTES = {route.prefix: route for route in SHIPPED}
# Request bodies that ask for served models.
SONNET = b'{"model":"claude-sonnet-5","max_tokens":16,"messages":[]}'
GPT_5 = b'{"model":"gpt-5","input":"hi"}'


def gateway(upstream: FakeUpstream) -> Gateway:
    return Gateway("gw", "gw-secret", gateway_url, upstream, timer=lambda: 100.0, log_line=print)


def test_forward_keeps_method_path_query_and_passes_the_answer_on(
    capsys: pytest.CaptureFixture[str],
) -> None:
    upstream = FakeUpstream()
    body = object()
    request = Request(
        "post",
        "https://ai.example.com/google-ai-studio/v1beta/models/g:streamGenerateContent?alt=sse",
        {"x-goog-api-key": "client", "content-type": "application/json"},
        body,
    )
    response = asyncio.run(
        gateway(upstream).forward(
            request, IDENTITY, ROUTES["google-ai-studio"], "/v1beta/models/g:streamGenerateContent"
        )
    )
    ((method, url, headers, sent_body),) = upstream.calls
    assert method == "POST"
    assert url == (
        "https://gateway.ai.cloudflare.com/v1/acct/gw/google-ai-studio"
        "/v1beta/models/g:streamGenerateContent?alt=sse"
    )
    assert sent_body is body
    assert json.loads(dict(headers)["cf-aig-metadata"]) == {
        "userId": IDENTITY.user_id,
        "client": "other",
    }
    assert "x-goog-api-key" not in dict(headers)
    assert (response.status, response.upstream) == (429, "provider response object")
    line = json.loads(capsys.readouterr().out)
    assert line == {
        "event": "proxy",
        "userId": IDENTITY.user_id,
        "group": None,
        "client": "other",
        "provider": "google-ai-studio",
        "path": "/v1beta/models/g:streamGenerateContent",
        "status": 429,
        "durationMs": 0.0,
    }


def test_an_unreachable_gateway_is_a_502(capsys: pytest.CaptureFixture[str]) -> None:
    request = Request("POST", "https://ai.example.com/openai/v1/chat/completions", {}, None)
    forward = gateway(FakeUpstream(error=True)).forward
    with pytest.raises(Refusal) as refused:
        asyncio.run(forward(request, IDENTITY, ROUTES["openai"], "/v1/chat/completions"))
    assert (refused.value.status, refused.value.error_type) == (502, "gateway_unreachable")
    log = capsys.readouterr().out
    assert '"status":502' in log
    assert "a@example.com" not in log


# --- through the whole app: auth first, then settings, then the gateway -------------------

KEY = access_vectors.load_keys()["access-1"]


def signed(access: LocalAccess) -> dict[str, str]:
    return {"cf-access-token": KEY.sign(access_claims(access.origin, cpython.AUDIENCE))}


@pytest.fixture
def access() -> LocalAccess:
    return LocalAccess(published=[KEY])


def test_a_signed_in_request_is_forwarded_with_the_anonymous_id(access: LocalAccess) -> None:
    upstream = cpython.RecordingUpstream()
    app = cpython.make_app(access, upstream=upstream)
    response = cpython.call(
        app,
        "POST",
        "https://ai.example.com/anthropic/v1/messages?beta=true",
        {**signed(access), "x-api-key": "", "anthropic-version": "2023-06-01"},
        SONNET,
    )
    assert (response.status, response.upstream) == (200, "upstream answer")
    ((method, url, headers, _),) = upstream.calls
    assert (method, url) == (
        "POST",
        "https://gateway.ai.cloudflare.com/v1/test-account/test-gateway/anthropic"
        "/v1/messages?beta=true",
    )
    sent = dict(headers)
    user_id = anonymous_id(cpython.USER_ID_KEY, "engineer@example.com")
    assert json.loads(sent["cf-aig-metadata"]) == {"userId": user_id, "client": "other"}
    assert sent["cf-aig-authorization"] == f"Bearer {cpython.GATEWAY_TOKEN}"
    assert "cf-access-token" not in sent
    assert "x-api-key" not in sent
    assert not any("engineer@example.com" in value for value in sent.values())


def test_provider_routes_need_a_token(access: LocalAccess) -> None:
    upstream = cpython.RecordingUpstream()
    app = cpython.make_app(access, upstream=upstream)
    response = cpython.call(app, "POST", "https://ai.example.com/openai/v1/chat/completions")
    assert response.status == 401
    assert upstream.calls == []


def test_a_bad_path_is_refused_before_anything_is_sent(access: LocalAccess) -> None:
    upstream = cpython.RecordingUpstream()
    app = cpython.make_app(access, upstream=upstream)
    response = cpython.call(app, "GET", "https://ai.example.com/openai/a%2F..%2Fb", signed(access))
    assert response.status == 400
    assert cpython.error_type(response) == "bad_path"
    assert upstream.calls == []


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT"])
def test_other_methods_on_an_endpoint_get_405_with_allow(access: LocalAccess, method: str) -> None:
    app = cpython.make_app(access)
    url = "https://ai.example.com/openai/v1/responses"
    response = cpython.call(app, method, url, signed(access))
    assert response.status == 405
    assert dict(response.headers)["allow"] == "POST"
    assert json.loads(response.body)["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("missing", ["GATEWAY_TOKEN", "AI_GATEWAY_ID"])
def test_a_missing_gateway_setting_is_named(access: LocalAccess, missing: str) -> None:
    settings = cpython.default_settings(access)
    del settings[missing]
    upstream = cpython.RecordingUpstream()
    app = cpython.make_app(access, settings=settings, upstream=upstream)
    response = cpython.call(
        app, "POST", "https://ai.example.com/openai/v1/responses", signed(access), GPT_5
    )
    assert response.status == 500
    assert cpython.error_type(response) == "config_error"
    assert missing in json.loads(response.body)["error"]["message"]
    assert upstream.calls == []


def test_a_missing_ai_binding_is_named(access: LocalAccess) -> None:
    async def no_binding(gateway_id: str, provider: str) -> str:
        raise SettingError("AI", "binding is missing", "add it under [ai] in wrangler.toml")

    app = cpython.make_app(access)
    object.__setattr__(app.services.platform, "gateway_url", no_binding)
    response = cpython.call(
        app, "POST", "https://ai.example.com/openai/v1/responses", signed(access), GPT_5
    )
    assert response.status == 500
    assert json.loads(response.body)["error"] == {
        "type": "server_error",
        "code": "config_error",
        "param": None,
        "message": "AI binding is missing: add it under [ai] in wrangler.toml.",
    }
