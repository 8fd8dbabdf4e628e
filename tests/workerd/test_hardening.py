"""What an attacker may send: paths, headers, hosts, query strings, cookies, upgrades and
models off the menu. None of it reaches the gateway, and no answer leaks a token."""

from __future__ import annotations

import json

import httpx
import pytest

from devstack.gateway import FakeGateway, Reply, Seen
from devstack.runtime import LocalWorker
from opencode_proxy.identity import anonymous_id
from support import cpython, served
from support.raw_http import raw_request


def _raw_request(
    worker: LocalWorker, target: str, extra: bytes = b"", body: bytes | None = None
) -> tuple[int, bytes]:
    status, answer, _ = raw_request(worker.direct_port, target, extra, body)
    return status, answer


@pytest.mark.parametrize(
    "target",
    [
        "/openai//evil.example/x",
        "/openai/\\\\evil.example/x",
        "/openai/http://evil.example/x",
        "/openai/%2F%2Fevil.example/x",
        "/openai/a%2F..%2F..%2Fx",
        "/openai/%252e%252e/x",
        "/openai/%2E%2E/x",
        "/openai/%2e%2e/%2e%2e/x",
    ],
)
def test_traversal_and_host_smuggling_never_reach_the_gateway(
    worker: LocalWorker, token: str, gateway: FakeGateway, target: str
) -> None:
    status, answer = _raw_request(worker, target, f"cf-access-token: {token}\r\n".encode())
    assert status in (400, 404), answer[:300]
    assert gateway.seen == []
    assert token.encode() not in answer


def test_an_absolute_form_target_names_a_path_never_the_upstream_host(
    worker: LocalWorker, token: str, gateway: FakeGateway
) -> None:
    # Current workerd accepts `GET http://host/path`; only the path reaches the router,
    # and the upstream host always comes from the AI binding.
    status, _ = _raw_request(
        worker,
        "http://evil.example/openai/v1/responses",
        f"cf-access-token: {token}\r\n".encode(),
        served.OPENAI,
    )
    assert status == 200
    assert [(seen.provider, seen.rest) for seen in gateway.seen] == [("openai", "/responses")]


def test_dot_segments_never_leave_a_provider_route(
    worker: LocalWorker, token: str, gateway: FakeGateway
) -> None:
    # workerd hands the Worker the path as sent; the Worker refuses "..". A front that
    # resolves it first (miniflare's entry worker does) can only name another provider
    # route the caller could use anyway, never a path above it or another host.
    status, answer = _raw_request(
        worker,
        "/openai/../anthropic/v1/messages",
        f"cf-access-token: {token}\r\n".encode(),
        served.ANTHROPIC,
    )
    assert status == 400
    assert json.loads(answer)["error"]["code"] == "bad_path"
    assert gateway.seen == []


def test_injected_header_lines_cannot_set_gateway_headers(
    worker: LocalWorker, token: str, gateway: FakeGateway
) -> None:
    # What a CRLF smuggled into a header value becomes on the wire: extra header lines.
    injected = (
        f"cf-access-token: {token}\r\n"
        "x-note: a\r\ncf-aig-authorization: Bearer injected\r\n"
        'x-other: b\r\ncf-aig-metadata: {"userId":"spoofed"}\r\n'
    ).encode()
    status, _ = _raw_request(worker, "/openai/v1/responses", injected, served.OPENAI)
    assert status == 200
    (seen,) = gateway.seen
    assert seen.header("cf-aig-authorization") == f"Bearer {cpython.GATEWAY_TOKEN}"
    assert json.loads(seen.header("cf-aig-metadata") or "") == {
        "userId": anonymous_id(cpython.USER_ID_KEY, cpython.PROXY_USER),
        "client": "other",
    }


def test_a_smuggled_host_never_reaches_the_gateway(
    worker: LocalWorker, token: str, gateway: FakeGateway
) -> None:
    status, _ = _raw_request(
        worker, "/openai/models", f"cf-access-token: {token}\r\nhost: evil.example\r\n".encode()
    )
    # A second Host line is refused before the Worker runs.
    assert status >= 400
    assert gateway.seen == []


@pytest.mark.parametrize(
    ("path", "body", "refusal"),
    [
        (
            "/openai/v1/responses",
            served.body("gpt-4-never-served", input="hi"),
            "model_not_allowed",
        ),
        ("/anthropic/v1/messages", served.body("gpt-5", messages=[]), "model_not_allowed"),
        (
            "/google-ai-studio/v1beta/models/gemini-1.0-ultra:generateContent",
            b"{}",
            "model_not_allowed",
        ),
        (
            "/google-ai-studio/v1beta/openai/chat/completions",
            served.body("gemini-1.0-ultra", messages=[]),
            "model_not_allowed",
        ),
        ("/workers-ai/@cf/meta/llama-3.1-8b-instruct", b"{}", "model_not_allowed"),
        ("/openai/v1/responses", b"not json", "model_required"),
        (
            "/openai/v1/responses",
            b'{"model":"gpt-4-never-served","mod\\u0065l":"gpt-5","input":"hi"}',
            "ambiguous_model",
        ),
        ("/openai/v1/batches", served.body("gpt-5", input="hi"), "unknown_endpoint"),
        ("/google-ai-studio/v1beta/cachedContents", b"{}", "unknown_endpoint"),
    ],
)
def test_a_model_off_the_menu_never_reaches_the_gateway(
    worker: LocalWorker,
    client: httpx.Client,
    gateway: FakeGateway,
    path: str,
    body: bytes,
    refusal: str,
) -> None:
    response = client.post(path, content=body)
    assert response.status_code in (400, 404), response.text
    assert response.headers["x-proxy-error"] == refusal
    if refusal == "model_not_allowed":
        assert f"shown at {worker.url}/ " in response.text
    assert gateway.seen == []


def test_credentials_in_the_query_never_reach_the_gateway(
    client: httpx.Client, gateway: FakeGateway
) -> None:
    path = f"/google-ai-studio{served.GEMINI_PATH}"
    query = "alt=sse&key=AIza-client-key&API_KEY=k2&access_token=t3&x=%2Fkeep%20me&key2=v"
    response = client.post(f"{path}?{query}", content=b"{}")
    assert response.status_code == 200, response.text
    (seen,) = gateway.seen
    assert seen.query == "alt=sse&x=%2Fkeep%20me&key2=v"


def test_a_provider_cookie_never_reaches_the_client_and_the_body_still_streams(
    client: httpx.Client, gateway: FakeGateway
) -> None:
    events = [b"data: one\n\n", b"data: two\n\n"]

    def with_cookie(seen: Seen, reply: Reply) -> None:
        reply.head(
            200,
            [
                ("content-type", "text/event-stream"),
                ("set-cookie", "__cf_bm=provider; Path=/; HttpOnly"),
                ("set-cookie", "session=abc"),
                ("cf-aig-log-id", "log-123"),
            ],
        )
        for event in events:
            reply.write(event)
        reply.end()

    gateway.responders["anthropic"] = with_cookie
    with client.stream("POST", "/anthropic/v1/messages", content=served.ANTHROPIC) as response:
        assert response.status_code == 200
        assert "set-cookie" not in response.headers
        assert response.headers["cf-aig-log-id"] == "log-123"
        assert response.headers["content-type"] == "text/event-stream"
        assert b"".join(response.iter_raw()) == b"".join(events)


def test_headers_over_the_limit_are_refused_before_anything_is_forwarded(
    worker: LocalWorker, token: str, gateway: FakeGateway
) -> None:
    big = {"x-padding": "p" * 40_000, "cf-access-token": token}
    many = {f"x-h{n}": "v" for n in range(150)} | {"cf-access-token": token}
    for headers in (big, many):
        response = httpx.post(
            f"{worker.url}/openai/v1/responses", content=served.OPENAI, headers=headers
        )
        assert response.status_code == 431, response.text
        assert response.json()["error"]["type"] == "headers_too_large"
        assert token not in response.text
    assert gateway.seen == []


def test_a_websocket_upgrade_is_refused_in_words_never_forwarded_half_done(
    worker: LocalWorker, token: str, gateway: FakeGateway
) -> None:
    status, answer = _raw_request(
        worker,
        "/openai/v1/responses",
        (
            f"cf-access-token: {token}\r\nconnection: Upgrade\r\nupgrade: websocket\r\n"
            "sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        ).encode(),
    )
    assert status == 400
    assert json.loads(answer)["error"]["type"] == "websocket_unsupported"
    assert gateway.seen == []


def test_the_access_cookie_never_spends_and_is_never_forwarded(
    worker: LocalWorker, token: str, gateway: FakeGateway
) -> None:
    cookie = {"cookie": f"CF_Authorization={token}; theme=dark"}
    alone = httpx.post(f"{worker.url}/openai/v1/responses", content=served.OPENAI, headers=cookie)
    assert alone.status_code == 401, alone.text
    assert gateway.seen == []
    with_token = httpx.post(
        f"{worker.url}/openai/v1/responses",
        content=served.OPENAI,
        headers={**cookie, "cf-access-token": token},
    )
    assert with_token.status_code == 200, with_token.text
    (seen,) = gateway.seen
    assert seen.header("cookie") is None
    assert token not in repr(seen.headers)


@pytest.mark.parametrize(
    "headers",
    [
        # fetch(url, {method: "POST", body: "...", credentials: "include"}) from another page
        {
            "content-type": "text/plain;charset=UTF-8",
            "origin": "https://evil.example",
            "sec-fetch-site": "cross-site",
            "sec-fetch-mode": "no-cors",
        },
        # <form enctype="text/plain" method="post"> submitted from another page
        {
            "content-type": "text/plain",
            "origin": "https://evil.example",
            "sec-fetch-site": "cross-site",
            "sec-fetch-mode": "navigate",
        },
        # the same from a sandboxed frame or a data: URL
        {"content-type": "text/plain", "origin": "null"},
        # an older browser that sends Origin but no Sec-Fetch-*
        {"content-type": "text/plain", "origin": "https://evil.example"},
    ],
    ids=["fetch", "form", "origin-null", "origin-only"],
)
def test_another_sites_page_cannot_spend_as_a_signed_in_engineer(
    worker: LocalWorker, token: str, gateway: FakeGateway, headers: dict[str, str]
) -> None:
    cookie = {"cookie": f"CF_Authorization={token}"}
    # The cookie alone signs nothing in; with the token too, the other site is refused.
    attempts = [({**cookie, **headers}, 401, "missing_token")]
    attempts.append(({**cookie, **headers, "cf-access-token": token}, 403, "cross_site"))
    for sent, status, refusal in attempts:
        response = httpx.post(
            f"{worker.url}/openai/v1/responses", content=served.OPENAI, headers=sent
        )
        assert (response.status_code, response.headers["x-proxy-error"]) == (status, refusal)
        assert token not in response.text
    assert gateway.seen == []


def test_look_alike_headers_never_reach_the_gateway(
    worker: LocalWorker, token: str, gateway: FakeGateway
) -> None:
    smuggled = (
        f"cf-access-token: {token}\r\n"
        "cf_aig_authorization: Bearer smuggled\r\n"
        "x-cf-aig-metadata: smuggled\r\n"
        "CF_AIG_SKIP_CACHE: smuggled\r\n"
        "x_api_key: smuggled\r\n"
        "x-client-ip: smuggled\r\n"
        "x_forwarded_for: smuggled\r\n"
        "referer: smuggled\r\n"
    ).encode()
    status, _ = _raw_request(worker, "/openai/v1/responses", smuggled, served.OPENAI)
    assert status == 200
    (seen,) = gateway.seen
    assert "smuggled" not in repr(seen.headers)
    assert seen.header("cf-aig-authorization") == f"Bearer {cpython.GATEWAY_TOKEN}"


@pytest.mark.parametrize("size", [1_000, 200_000], ids=["small", "large"])
def test_a_body_naming_two_models_is_refused_at_any_size(
    client: httpx.Client, gateway: FakeGateway, size: int
) -> None:
    # Small bodies are parsed by Python, large ones by the runtime: both see the second key.
    padding = "p" * size
    body = f'{{"model":"gpt-5","input":"{padding}","mod\\u0065l":"gpt-4-never-served"}}'
    response = client.post("/openai/v1/responses", content=body.encode())
    assert response.status_code == 400, response.text
    assert response.headers["x-proxy-error"] == "ambiguous_model"
    assert gateway.seen == []
