"""The setup files a person saves (Claude Code's settings, Codex's profile) answer a token
that is sent but not valid with 401 in words, so the page's command fails and leaves
the earlier file; without a token they carry the default menu (for IT). OpenCode's
remote config answers 200 whatever it is sent: anything else stops OpenCode."""

from __future__ import annotations

import json
import time

import pytest

import access_vectors
from devstack.access import LocalAccess, access_claims
from opencode_proxy.pages import Pages
from support import cpython

KEY = access_vectors.load_keys()["access-1"]
ORIGIN = "https://ai.example.com"


@pytest.fixture
def access() -> LocalAccess:
    return LocalAccess(published=[KEY])


def _expired(access: LocalAccess) -> str:
    now = int(time.time())
    claims = access_claims(access.origin, cpython.AUDIENCE, email="a@example.com")
    claims.update(iat=now - 7200, nbf=now - 7200, exp=now - 3600)
    return KEY.sign(claims)


BAD = {
    "empty header": lambda access: {"cf-access-token": ""},
    "expired": lambda access: {"cf-access-token": _expired(access)},
    "garbage": lambda access: {"cf-access-token": "not-a-token"},
    "bearer garbage": lambda access: {"authorization": "Bearer not-a-token"},
    "bare bearer": lambda access: {"authorization": "Bearer"},
}


@pytest.mark.parametrize("path", Pages.FILE_SETUPS)
@pytest.mark.parametrize("bad", BAD)
def test_a_setup_file_fetched_with_a_bad_token_is_a_401_in_words(
    access: LocalAccess, path: str, bad: str
) -> None:
    app = cpython.make_app(access)
    response = cpython.call(app, "GET", ORIGIN + path, BAD[bad](access))
    assert response.status == 401, response.body
    error = json.loads(response.body)["error"]
    assert error["type"] in ("invalid_token", "missing_token")
    assert "cloudflared access login" in error["message"]


@pytest.mark.parametrize("path", Pages.FILE_SETUPS)
def test_without_a_token_a_setup_file_carries_the_default_menu(
    access: LocalAccess, path: str
) -> None:
    response = cpython.call(cpython.make_app(access), "GET", ORIGIN + path)
    assert response.status == 200
    assert b"cloudflared" in response.body


@pytest.mark.parametrize("bad", BAD)
def test_opencodes_remote_config_answers_200_whatever_it_is_sent(
    access: LocalAccess, bad: str
) -> None:
    app = cpython.make_app(access)
    response = cpython.call(app, "GET", ORIGIN + Pages.OPENCODE_SETUP, BAD[bad](access))
    assert (response.status, response.body) == (200, b"{}")
