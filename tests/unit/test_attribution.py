"""What AI Gateway can budget and rule on (`cf-aig-metadata`), and the per-person brake."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import access_vectors
import build_config
from devstack.access import LocalAccess, access_claims
from opencode_proxy.callers import client_of
from opencode_proxy.headers import METADATA_LIMIT
from opencode_proxy.http import Response
from opencode_proxy.identity import anonymous_id
from opencode_proxy.router import App
from support import cpython
from support.groups import CONTRACTOR, compiled

KEY = access_vectors.load_keys()["access-1"]
ORIGIN = "https://ai.example.com"
SONNET = b'{"model":"claude-sonnet-5","max_tokens":16,"messages":[]}'
HAIKU = b'{"model":"claude-haiku-4-5","max_tokens":16,"messages":[]}'


def token(access: LocalAccess, email: str = "engineer@example.com") -> str:
    return KEY.sign(access_claims(access.origin, cpython.AUDIENCE, email=email))


def send(app: App, tok: str, body: bytes = SONNET, **headers: str) -> Response:
    sent = {"cf-access-token": tok, **{k.replace("_", "-"): v for k, v in headers.items()}}
    return cpython.call(app, "POST", ORIGIN + "/anthropic/v1/messages", sent, body)


def metadata(upstream: cpython.RecordingUpstream) -> dict[str, Any]:
    headers = dict(upstream.calls[-1][2])
    value: dict[str, Any] = json.loads(headers["cf-aig-metadata"])
    return value


@pytest.mark.parametrize(
    ("agent", "client"),
    [
        ("opencode/1.18.33 ai-sdk/provider-utils/3.0.9 runtime/bun/1.3.0", "opencode"),
        ("claude-cli/2.1.328 (external, cli)", "claude-code"),
        ("codex_cli_rs/0.169.0 (Debian 13; x86_64) xterm", "codex"),
        ("GeminiCLI/0.61.0/gemini-2.5-pro (linux; x64) google-genai-sdk/1.30.0", "gemini-cli"),
        ("QwenCode/0.15.10 (linux; x64)", "qwen-code"),
        ("Anthropic/Python 0.75.0", "sdk"),
        ("OpenAI/Python 2.9.0", "sdk"),
        ("google-genai-sdk/1.52.0 gl-python/3.11.2", "sdk"),
        ("curl/8.14.1", "other"),
        ("", "other"),
    ],
)
def test_the_client_is_named_from_its_user_agent(agent: str, client: str) -> None:
    assert client_of(agent) == client


@pytest.mark.parametrize(
    ("header", "agent"),
    [
        ("x-opencode-session-id", "opencode/1.18.34"),
        ("x-session-id", "opencode/1.18.33"),
        ("x-claude-code-session-id", "claude-cli/2.1.328 (external, cli)"),
        ("session-id", "codex_exec/0.169.0 (Debian 12.0.0; x86_64) xterm"),
    ],
)
def test_metadata_carries_person_group_client_and_session_within_five_entries(
    tmp_path: Path, header: str, agent: str
) -> None:
    access, upstream = LocalAccess(published=[KEY]), cpython.RecordingUpstream()
    path = tmp_path / "opencode.json"
    path.write_bytes(build_config.render(compiled(tmp_path / "config-src")))
    app = cpython.make_app(access, upstream=upstream, compiled=path)
    sent = {"cf-access-token": token(access, CONTRACTOR), "user-agent": agent, header: "ses_01JX"}
    response = cpython.call(app, "POST", ORIGIN + "/anthropic/v1/messages", sent, HAIKU)
    assert response.status == 200
    entries = metadata(upstream)
    assert entries == {
        "userId": anonymous_id(cpython.USER_ID_KEY, CONTRACTOR),
        "group": "contractors",
        "client": client_of(agent),
        "session": "ses_01JX",
    }
    assert len(entries) <= METADATA_LIMIT
    assert all(isinstance(value, str) for value in entries.values())


@pytest.mark.parametrize("session", ["a" * 129, "ses 1", 'x","userId":"forged', "é"])
def test_a_session_id_that_is_not_an_opaque_id_is_left_out(session: str) -> None:
    access, upstream = LocalAccess(published=[KEY]), cpython.RecordingUpstream()
    app = cpython.make_app(access, upstream=upstream)
    assert send(app, token(access), x_session_id=session).status == 200
    entries = metadata(upstream)
    assert "session" not in entries
    assert entries["userId"] == anonymous_id(cpython.USER_ID_KEY, "engineer@example.com")
    assert "group" not in entries  # in no group


def test_the_brake_stops_one_person_in_their_providers_shape_and_not_the_next() -> None:
    access, upstream = LocalAccess(published=[KEY]), cpython.RecordingUpstream()
    document = cpython.shipped_config()
    assert document["rate_limit"] == {"limit": 300, "period": 60}  # wrangler.toml's
    document["rate_limit"] = {"limit": 2, "period": 10}
    limiter = cpython.CountingRateLimit(limit=2)
    app = cpython.make_app(access, document=document, upstream=upstream, rate_limit=limiter)
    first = token(access)
    assert [send(app, first).status for _ in range(2)] == [200, 200]
    braked = send(app, first)
    assert braked.status == 429
    assert dict(braked.headers)["retry-after"] == "10"
    body = json.loads(braked.body)
    assert body["type"] == "error"
    assert body["error"]["type"] == "rate_limit_error"
    assert "more than 2 requests in 10 seconds" in body["error"]["message"]
    assert len(upstream.calls) == 2
    # Counted per anonymous id: another person is not braked.
    assert send(app, token(access, "other@example.com")).status == 200
    assert set(limiter.counts) == {
        anonymous_id(cpython.USER_ID_KEY, "engineer@example.com"),
        anonymous_id(cpython.USER_ID_KEY, "other@example.com"),
    }


def test_a_brake_that_cannot_count_refuses_with_a_503_not_a_forward() -> None:
    access, upstream = LocalAccess(published=[KEY]), cpython.RecordingUpstream()

    async def broken(key: str) -> bool:
        raise OSError("binding unavailable")

    app = cpython.make_app(access, upstream=upstream, rate_limit=broken)
    refused = send(app, token(access))
    assert (refused.status, cpython.error_type(refused)) == (503, "rate_limit_unavailable")
    assert dict(refused.headers)["retry-after"] == "10"
    assert upstream.calls == []
