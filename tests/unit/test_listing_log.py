"""A model listing, answered from the caller's menu, leaves the same log line as a
forwarded request: who (anonymously), which provider and path, the status."""

from __future__ import annotations

import json
from typing import Any

import access_vectors
from devstack.access import LocalAccess, access_claims
from opencode_proxy.identity import anonymous_id
from support import cpython

KEY = access_vectors.load_keys()["access-1"]


def test_a_listing_is_logged_like_every_proxied_request() -> None:
    access = LocalAccess(published=[KEY])
    lines: list[dict[str, Any]] = []
    app = cpython.make_app(access, log_line=lambda line: lines.append(json.loads(line)))
    token = KEY.sign(access_claims(access.origin, cpython.AUDIENCE, email="a@example.com"))
    headers = {"cf-access-token": token, "user-agent": "codex_exec/0.169.0"}
    response = cpython.call(app, "GET", "https://ai.example.com/openai/v1/models", headers)
    assert response.status == 200
    assert lines == [
        {
            "event": "proxy",
            "userId": anonymous_id(cpython.USER_ID_KEY, "a@example.com"),
            "group": None,
            "client": "codex",
            "provider": "openai",
            "path": "/v1/models",
            "status": 200,
            "durationMs": 0.0,
        }
    ]
    assert token not in json.dumps(lines)


def test_codexs_catalog_request_gets_its_own_format_and_others_openais() -> None:
    access = LocalAccess(published=[KEY])
    app = cpython.make_app(access, log_line=lambda line: None)
    token = KEY.sign(access_claims(access.origin, cpython.AUDIENCE, email="a@example.com"))
    base = "https://ai.example.com/openai/v1/models"
    codex = cpython.call(app, "GET", base + "?client_version=0.169.0", {"cf-access-token": token})
    assert json.loads(codex.body) == {"models": []}
    plain = json.loads(cpython.call(app, "GET", base, {"cf-access-token": token}).body)
    assert plain["object"] == "list"
    assert "gpt-5" in {model["id"] for model in plain["data"]}
