"""Workers AI through AI Gateway takes a Cloudflare API token (Workers AI Read) in
`Authorization` (AI Gateway docs, "Workers AI"), where the other providers use the
gateway's stored keys: the Worker sends WORKERS_AI_TOKEN there and nowhere else."""

from __future__ import annotations

import json

import httpx
import pytest

import access_vectors
from devstack.access import LocalAccess, access_claims
from devstack.gateway import ACCOUNT, FakeGateway
from opencode_proxy.http import Response
from support import cpython

KEY = access_vectors.load_keys()["access-1"]
ORIGIN = "https://ai.example.com"
WORKERS_AI = [
    ("/compat/chat/completions", b'{"model":"workers-ai/@cf/openai/gpt-oss-120b"}'),
    ("/workers-ai/@cf/openai/gpt-oss-120b", b'{"messages":[]}'),
    ("/workers-ai/v1/chat/completions", b'{"model":"@cf/openai/gpt-oss-120b"}'),
]
STORED_KEYS = [
    ("/anthropic/v1/messages", b'{"model":"claude-sonnet-5"}'),
    ("/openai/v1/responses", b'{"model":"gpt-5"}'),
    ("/google-ai-studio/v1beta/models/gemini-2.5-pro:generateContent", b"{}"),
]


@pytest.fixture
def access() -> LocalAccess:
    return LocalAccess(published=[KEY])


def _send(
    access: LocalAccess, path: str, body: bytes, settings: dict[str, str] | None = None
) -> tuple[Response, cpython.RecordingUpstream]:
    upstream = cpython.RecordingUpstream()
    app = cpython.make_app(access, upstream=upstream, settings=settings)
    token = KEY.sign(access_claims(access.origin, cpython.AUDIENCE))
    headers = {"authorization": f"Bearer {token}", "x-api-key": "client-key"}
    return cpython.call(app, "POST", ORIGIN + path, headers, body), upstream


@pytest.mark.parametrize(("path", "body"), WORKERS_AI)
def test_a_workers_ai_model_is_sent_with_the_workers_ai_token_and_nothing_else(
    access: LocalAccess, path: str, body: bytes
) -> None:
    response, upstream = _send(access, path, body)
    assert response.status == 200, response.body
    ((_, _, headers, _),) = upstream.calls
    assert [v for k, v in headers if k.lower() == "authorization"] == [
        f"Bearer {cpython.WORKERS_AI_TOKEN}"
    ]
    assert "client-key" not in repr(headers)


@pytest.mark.parametrize(("path", "body"), STORED_KEYS)
def test_a_provider_with_stored_keys_gets_no_authorization_at_all(
    access: LocalAccess, path: str, body: bytes
) -> None:
    response, upstream = _send(access, path, body)
    assert response.status == 200, response.body
    ((_, _, headers, _),) = upstream.calls
    assert [k for k, _ in headers if k.lower() == "authorization"] == []
    assert cpython.WORKERS_AI_TOKEN not in repr(headers)


def test_without_the_setting_workers_ai_answers_a_config_error_naming_it(
    access: LocalAccess,
) -> None:
    settings = cpython.default_settings(access)
    del settings["WORKERS_AI_TOKEN"]
    path, body = WORKERS_AI[0]
    response, upstream = _send(access, path, body, settings)
    assert response.status == 500
    message = json.loads(response.body)["error"]["message"]
    assert "WORKERS_AI_TOKEN is not set" in message
    assert "npx wrangler secret put WORKERS_AI_TOKEN" in message
    assert upstream.calls == []
    anthropic, _ = _send(access, *STORED_KEYS[0], settings)
    assert anthropic.status == 200


def test_the_gateway_stand_in_refuses_workers_ai_without_the_api_token() -> None:
    gateway_token = "gw"
    with FakeGateway(token=gateway_token, workers_ai_token="wai") as gateway:
        base = f"{gateway.origin}/v1/{ACCOUNT}/gw-id"
        sent = {"cf-aig-authorization": f"Bearer {gateway_token}"}
        cases = [
            ("/workers-ai/@cf/openai/gpt-oss-120b", b"{}", None, 401),
            ("/workers-ai/v1/chat/completions", b'{"model":"@cf/x"}', "Bearer other", 401),
            ("/compat/chat/completions", b'{"model":"workers-ai/@cf/x"}', None, 401),
            ("/workers-ai/@cf/openai/gpt-oss-120b", b"{}", "Bearer wai", 200),
            ("/compat/chat/completions", b'{"model":"openai/gpt-5"}', None, 200),
        ]
        for path, body, authorization, status in cases:
            headers = {**sent, **({"authorization": authorization} if authorization else {})}
            answer = httpx.post(base + path, content=body, headers=headers)
            assert answer.status_code == status, (path, authorization)
            if status == 401:
                assert answer.json()["errors"][0]["code"] == 10000
