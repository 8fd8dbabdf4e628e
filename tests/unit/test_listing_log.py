"""The log line of a provider request: who (anonymously), which provider and path, the
status. With REQUEST_LOG = "all" every request has one, a model listing answered from
the caller's menu too; by default ("errors") only those answered 400 or more do, since
AI Gateway's logs hold every forwarded request already."""

from __future__ import annotations

import json
from typing import Any

import pytest

import access_vectors
from devstack.access import LocalAccess, access_claims
from opencode_proxy.identity import anonymous_id
from opencode_proxy.ports import UpstreamAnswer
from support import cpython

KEY = access_vectors.load_keys()["access-1"]


def test_with_every_request_logged_a_listing_is_logged_like_a_proxied_request() -> None:
    access = LocalAccess(published=[KEY])
    lines: list[dict[str, Any]] = []
    settings = {**cpython.default_settings(access), "REQUEST_LOG": "all"}
    app = cpython.make_app(
        access, settings=settings, log_line=lambda line: lines.append(json.loads(line))
    )
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


class Answering(cpython.RecordingUpstream):
    def __init__(self, status: int) -> None:
        super().__init__()
        self.status = status

    async def __call__(
        self, method: str, url: str, headers: list[tuple[str, str]], body: object | None
    ) -> UpstreamAnswer:
        await super().__call__(method, url, headers, body)
        return UpstreamAnswer(self.status, "upstream answer")


@pytest.mark.parametrize(("status", "logged"), [(200, []), (404, [404]), (529, [529])])
def test_by_default_only_requests_answered_400_or_more_are_logged(
    status: int, logged: list[int]
) -> None:
    access = LocalAccess(published=[KEY])
    lines: list[dict[str, Any]] = []
    app = cpython.make_app(
        access, upstream=Answering(status), log_line=lambda line: lines.append(json.loads(line))
    )
    token = KEY.sign(access_claims(access.origin, cpython.AUDIENCE, email="a@example.com"))
    headers = {"cf-access-token": token}
    listing = cpython.call(app, "GET", "https://ai.example.com/openai/v1/models", headers)
    assert listing.status == 200
    body = b'{"model": "gpt-5", "input": "hi"}'
    answer = cpython.call(app, "POST", "https://ai.example.com/openai/v1/responses", headers, body)
    assert answer.status == status
    assert [line["status"] for line in lines if line["event"] == "proxy"] == logged


def test_a_request_log_setting_that_means_nothing_names_itself() -> None:
    access = LocalAccess(published=[KEY])
    settings = {**cpython.default_settings(access), "REQUEST_LOG": "verbose"}
    app = cpython.make_app(access, settings=settings, log_line=lambda line: None)
    token = KEY.sign(access_claims(access.origin, cpython.AUDIENCE, email="a@example.com"))
    body = b'{"model": "gpt-5", "input": "hi"}'
    headers = {"cf-access-token": token}
    answer = cpython.call(app, "POST", "https://ai.example.com/openai/v1/responses", headers, body)
    assert answer.status == 500
    assert "REQUEST_LOG is not 'errors' or 'all' ('verbose')" in answer.body.decode()


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
