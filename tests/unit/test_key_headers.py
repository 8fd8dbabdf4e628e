"""The Access token signs in where each API's own clients put their key: `x-api-key` on
/anthropic, `x-goog-api-key` on /google-ai-studio (besides the token headers and a
bearer). A `key` query parameter is never a sign-in, and no key header goes further."""

from __future__ import annotations

import json

import pytest

import access_vectors
from devstack.access import LocalAccess, access_claims
from support import cpython

KEY = access_vectors.load_keys()["access-1"]
ORIGIN = "https://ai.example.com"
GEMINI = "/google-ai-studio/v1beta/models/gemini-2.5-flash:generateContent"


@pytest.fixture
def access() -> LocalAccess:
    return LocalAccess(published=[KEY])


def _token(access: LocalAccess) -> str:
    return KEY.sign(access_claims(access.origin, cpython.AUDIENCE))


@pytest.mark.parametrize(
    ("path", "body", "header"),
    [
        ("/anthropic/v1/messages", b'{"model":"claude-sonnet-5"}', "x-api-key"),
        (GEMINI, b"{}", "x-goog-api-key"),
    ],
)
def test_the_token_as_the_apis_own_key_signs_in_and_goes_no_further(
    access: LocalAccess, path: str, body: bytes, header: str
) -> None:
    upstream = cpython.RecordingUpstream()
    app = cpython.make_app(access, upstream=upstream)
    token = _token(access)
    response = cpython.call(app, "POST", ORIGIN + path, {header: token}, body)
    assert response.status == 200, response.body
    ((_, _, sent, _),) = upstream.calls
    assert token not in repr(sent)
    assert header not in {name for name, _ in sent}


@pytest.mark.parametrize(
    ("path", "body", "where"),
    [
        ("/openai/v1/responses", b'{"model":"gpt-5"}', {"x-api-key": "TOKEN"}),
        ("/anthropic/v1/messages", b'{"model":"claude-sonnet-5"}', {"x-goog-api-key": "TOKEN"}),
        (GEMINI + "?key=TOKEN", b"{}", {}),
    ],
)
def test_a_token_anywhere_else_is_no_sign_in(
    access: LocalAccess, path: str, body: bytes, where: dict[str, str]
) -> None:
    token = _token(access)
    headers = {name: token for name in where}
    app = cpython.make_app(access, upstream=cpython.RecordingUpstream())
    response = cpython.call(app, "POST", ORIGIN + path.replace("TOKEN", token), headers, body)
    assert response.status == 401
    assert cpython.error_type(response) == "missing_token"
    assert token not in response.body.decode()


def test_a_placeholder_key_beside_the_token_header_changes_nothing(access: LocalAccess) -> None:
    app = cpython.make_app(access, upstream=cpython.RecordingUpstream())
    headers = {"x-api-key": "unused", "cf-access-token": _token(access)}
    body = b'{"model":"claude-sonnet-5"}'
    response = cpython.call(app, "POST", ORIGIN + "/anthropic/v1/messages", headers, body)
    assert response.status == 200


def test_the_missing_token_message_names_the_routes_key_header(access: LocalAccess) -> None:
    app = cpython.make_app(access)
    response = cpython.call(app, "POST", ORIGIN + "/anthropic/v1/messages", {}, b"{}")
    assert "as the API key, x-api-key" in json.loads(response.body)["error"]["message"]
