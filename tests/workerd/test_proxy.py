"""The provider proxy inside workerd, against the local fake AI Gateway."""

from __future__ import annotations

import base64
import gzip
import hashlib
import http.client
import json
import os
import queue
import socket
import threading
import time
from collections.abc import Callable

import httpx
import pytest

import access_vectors
from devstack.gateway import FakeGateway, Reply, Seen
from devstack.runtime import LocalWorker
from opencode_proxy.callers import client_of
from opencode_proxy.identity import anonymous_id
from support import cpython, served

KEY = access_vectors.load_keys()["access-1"]
PROVIDERS = ["anthropic", "openai", "google-ai-studio", "compat", "workers-ai"]
PRESERVED = {
    "anthropic-version": "2023-06-01",
    "anthropic-beta": "prompt-caching-2024-07-31,interleaved-thinking-2025-05-14",
    "openai-beta": "responses=v1",
    "x-goog-api-client": "google-genai-sdk/1.0",
    "content-type": "application/json",
    "accept": "text/event-stream",
    "user-agent": "opencode/1.0.0 ai-sdk/provider-utils/3.0",
    "x-session-id": "ses_0123",
}
CLIENT_SECRETS = {
    "authorization": "Bearer sk-client-key",
    "x-api-key": "sk-ant-client-key",
    "x-goog-api-key": "AIza-client-key",
    "api-key": "azure-client-key",
    "cookie": "CF_Authorization=cookie-token",
    "cf-access-client-id": "client-id.access",
    "cf-access-client-secret": "client-secret-value",
    "cf-aig-authorization": "Bearer spoofed-gateway-token",
    "cf-aig-metadata": '{"userId":"spoofed"}',
    "cf-aig-skip-cache": "true",
    "x-forwarded-for": "203.0.113.9",
}
WAIT = 10.0  # seconds the fake gateway waits for the client to confirm an event


# Per route: a request it serves, and the path the gateway sees (the gateway's OpenAI
# route is what follows OpenAI's /v1).
ROUTE_REQUESTS = {
    "anthropic": ("POST", "/v1/messages", served.ANTHROPIC, "/v1/messages"),
    "openai": ("POST", "/v1/responses", served.OPENAI, "/responses"),
    "google-ai-studio": (
        "POST",
        served.GEMINI_PATH,
        served.body("ignored", contents=[]),
        served.GEMINI_PATH,
    ),
    "compat": ("POST", "/chat/completions", served.COMPAT, "/chat/completions"),
    "workers-ai": (
        "POST",
        "/@cf/openai/gpt-oss-120b",
        b'{"prompt":"hi"}',
        "/@cf/openai/gpt-oss-120b",
    ),
}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_each_route_reaches_its_gateway_provider_with_the_exact_rewrite(
    provider: str, client: httpx.Client, gateway: FakeGateway, token: str
) -> None:
    method, rest, body, upstream_rest = ROUTE_REQUESTS[provider]
    response = client.request(
        method,
        f"/{provider}{rest}",
        params={"alt": "sse", "key": "ignored"},
        content=body,
        headers={**PRESERVED, **CLIENT_SECRETS},
    )
    assert response.status_code == 200, response.text
    (seen,) = gateway.seen
    assert (seen.method, seen.provider, seen.gateway_id) == (method, provider, "test-gateway")
    assert seen.rest == upstream_rest
    assert seen.query == "alt=sse"  # the client key in the query is removed
    assert seen.body == body
    for name, value in PRESERVED.items():
        assert seen.header(name) == value, name
    assert seen.header("cf-aig-authorization") == f"Bearer {cpython.GATEWAY_TOKEN}"
    metadata = json.loads(seen.header("cf-aig-metadata") or "")
    assert metadata == {
        "userId": anonymous_id(cpython.USER_ID_KEY, cpython.PROXY_USER),
        "client": client_of(PRESERVED["user-agent"]),
        "session": PRESERVED["x-session-id"],
    }
    # Workers AI takes a Cloudflare API token in Authorization; the rest, stored keys.
    workers_ai = f"Bearer {cpython.WORKERS_AI_TOKEN}"
    assert seen.header("authorization") == (
        workers_ai if provider in ("compat", "workers-ai") else None
    )
    for name in ("cf-access-token", "cf-aig-skip-cache", *CLIENT_SECRETS):
        if name not in ("cf-aig-authorization", "cf-aig-metadata", "authorization"):
            assert seen.header(name) is None, name
    everything = repr(seen.headers)
    for secret in [token, cpython.PROXY_USER, *CLIENT_SECRETS.values()]:
        if secret not in ('{"userId":"spoofed"}',):
            assert secret not in everything


def test_compat_is_reached_through_the_gateways_universal_url(
    client: httpx.Client, gateway: FakeGateway
) -> None:
    # workerd's AI binding resolves only the providers of its list, which lacks compat.
    assert client.post("/compat/chat/completions", content=served.COMPAT).status_code == 200
    assert [seen.provider for seen in gateway.seen] == ["compat"]
    assert ("test-gateway", "universal") in gateway.url_lookups
    assert ("test-gateway", "compat") not in gateway.url_lookups


def _lockstep(
    events: list[bytes], confirmed: queue.Queue[bytes], problems: list[str]
) -> Callable[[Seen, Reply], None]:
    def respond(seen: Seen, reply: Reply) -> None:
        reply.head(200, [("content-type", "text/event-stream"), ("cache-control", "no-cache")])
        for event in events:
            reply.write(event)
            try:
                if confirmed.get(timeout=WAIT) != event:
                    problems.append("client confirmed a different event")
                    return
            except queue.Empty:
                problems.append(f"client did not receive {event!r} within {WAIT}s")
                return
        reply.end()

    return respond


def _read_events(response: httpx.Response, confirmed: queue.Queue[bytes]) -> list[bytes]:
    received, buffer = [], b""
    for chunk in response.iter_raw():
        buffer += chunk
        while b"\n\n" in buffer:
            event, buffer = buffer.split(b"\n\n", 1)
            received.append(event + b"\n\n")
            confirmed.put(event + b"\n\n")
    return received


STREAMS = {
    "anthropic": (
        "/anthropic/v1/messages",
        {},
        [
            b'event: message_start\ndata: {"type":"message_start"}\n\n',
            b'event: ping\ndata: {"type": "ping"}\n\n',
            b'event: content_block_delta\ndata: {"type":"content_block_delta",'
            b'"delta":{"type":"text_delta","text":"Hel"}}\n\n',
            b'event: content_block_delta\ndata: {"type":"content_block_delta",'
            b'"delta":{"type":"text_delta","text":"lo"}}\n\n',
            b'event: message_stop\ndata: {"type":"message_stop"}\n\n',
        ],
    ),
    "openai": (
        "/openai/v1/chat/completions",
        {},
        [
            b'data: {"choices":[{"delta":{"role":"assistant"}}]}\n\n',
            b": keep-alive\n\n",
            b'data: {"choices":[{"delta":{"content":"Hel"}}]}\n\n',
            b'data: {"choices":[{"delta":{"content":"lo"}}]}\n\n',
            b"data: [DONE]\n\n",
        ],
    ),
    "gemini": (
        "/google-ai-studio/v1beta/models/gemini-2.5-flash:streamGenerateContent",
        {"alt": "sse"},
        [
            b'data: {"candidates":[{"content":{"parts":[{"text":"Hel"}]}}]}\n\n',
            b'data: {"candidates":[{"content":{"parts":[{"text":"lo"}]}}]}\n\n',
            b'data: {"candidates":[{"finishReason":"STOP"}]}\n\n',
        ],
    ),
}


STREAM_BODIES = {"anthropic": served.ANTHROPIC, "openai": served.OPENAI, "gemini": b"{}"}


@pytest.mark.parametrize("style", sorted(STREAMS))
def test_every_event_reaches_the_client_before_the_next_is_sent(
    style: str, client: httpx.Client, gateway: FakeGateway
) -> None:
    path, params, events = STREAMS[style]
    confirmed: queue.Queue[bytes] = queue.Queue()
    problems: list[str] = []
    provider = path.split("/")[1]
    gateway.responders[provider] = _lockstep(events, confirmed, problems)
    with client.stream("POST", path, params=params, content=STREAM_BODIES[style]) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream"
        received = _read_events(response, confirmed)
    assert problems == []
    assert received == events
    assert gateway.seen[0].query == ("alt=sse" if params else "")


def test_a_5_mib_request_body_arrives_byte_identical(
    client: httpx.Client, gateway: FakeGateway
) -> None:
    # Read once to find its model, then forwarded as the same bytes (odd spacing included).
    padding = base64.b64encode(os.urandom(4 * 1024 * 1024)).decode()
    body = ('{ "model" :"gpt-5",\n "input": "' + padding + '" }').encode()
    assert len(body) > 5 * 1024 * 1024
    response = client.post("/openai/v1/responses", content=body)
    assert response.status_code == 200
    (seen,) = gateway.seen
    assert (seen.body_length, seen.body_sha256) == (len(body), hashlib.sha256(body).hexdigest())


def test_a_gzip_response_arrives_byte_identical(client: httpx.Client, gateway: FakeGateway) -> None:
    payload = gzip.compress(json.dumps({"data": ["x" * 50_000]}).encode(), mtime=0)

    def respond(seen: Seen, reply: Reply) -> None:
        reply.head(
            200,
            [
                ("content-type", "application/json"),
                ("content-encoding", "gzip"),
                ("cf-aig-log-id", "log-123"),
                ("cf-aig-cache-status", "MISS"),
            ],
            length=len(payload),
        )
        reply.write(payload)

    gateway.responders["openai"] = respond
    with client.stream(
        "POST", "/openai/v1/responses", content=served.OPENAI, headers={"accept-encoding": "gzip"}
    ) as response:
        raw = b"".join(response.iter_raw())
        assert response.headers["content-encoding"] == "gzip"
        assert response.headers["cf-aig-log-id"] == "log-123"
        assert response.headers["cf-aig-cache-status"] == "MISS"
    assert hashlib.sha256(raw).hexdigest() == hashlib.sha256(payload).hexdigest()


def test_binary_bytes_arrive_byte_identical(client: httpx.Client, gateway: FakeGateway) -> None:
    payload = bytes(range(256)) * 4096

    def respond(seen: Seen, reply: Reply) -> None:
        reply.head(200, [("content-type", "application/octet-stream")])
        for offset in range(0, len(payload), 65536):
            reply.write(payload[offset : offset + 65536])
        reply.end()

    gateway.responders["openai"] = respond
    response = client.post("/openai/v1/responses", content=served.OPENAI)
    assert hashlib.sha256(response.content).digest() == hashlib.sha256(payload).digest()


@pytest.mark.parametrize(
    ("status", "headers", "body"),
    [
        (
            429,
            [
                ("retry-after", "17"),
                ("x-ratelimit-remaining-requests", "0"),
                ("content-type", "application/json"),
            ],
            b'{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}',
        ),
        (500, [("content-type", "application/json")], b'{"error":{"message":"boom"}}'),
        (503, [("content-type", "application/json")], b"{not json at all"),
        (400, [("content-type", "text/plain")], b"plain words"),
    ],
)
def test_provider_errors_pass_through_verbatim(
    client: httpx.Client,
    gateway: FakeGateway,
    status: int,
    headers: list[tuple[str, str]],
    body: bytes,
) -> None:
    def respond(seen: Seen, reply: Reply) -> None:
        reply.head(status, headers, length=len(body))
        reply.write(body)

    gateway.responders["anthropic"] = respond
    response = client.post("/anthropic/v1/messages", content=served.ANTHROPIC)
    assert response.status_code == status
    assert response.content == body
    for name, value in headers:
        assert response.headers[name] == value


def test_a_gateway_that_hangs_up_is_a_502(client: httpx.Client, gateway: FakeGateway) -> None:
    def hang_up(seen: Seen, reply: Reply) -> None:
        reply.abort()

    gateway.responders["openai"] = hang_up
    response = client.post("/openai/v1/chat/completions", content=served.OPENAI)
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "gateway_unreachable"


def test_a_stream_the_provider_cuts_short_reaches_the_client_as_an_error(
    worker: LocalWorker, token: str, gateway: FakeGateway
) -> None:
    # A truncated answer must never look complete: the chunked body has no terminator.
    def cut_short(seen: Seen, reply: Reply) -> None:
        reply.head(200, [("content-type", "text/event-stream")])
        reply.write(b'event: message_start\ndata: {"type":"message_start"}\n\n')
        time.sleep(0.2)
        reply.abort()

    gateway.responders["anthropic"] = cut_short
    connection = http.client.HTTPConnection("127.0.0.1", worker.direct_port, timeout=30)
    connection.request(
        "POST", "/anthropic/v1/messages", served.ANTHROPIC, {"cf-access-token": token}
    )
    response = connection.getresponse()
    assert response.status == 200
    with pytest.raises(http.client.IncompleteRead) as cut:
        response.read()
    assert cut.value.partial.startswith(b"event: message_start")
    connection.close()


def test_a_client_that_disconnects_stops_the_upstream_stream(
    worker: LocalWorker, token: str, gateway: FakeGateway
) -> None:
    stopped = threading.Event()
    sent = []

    def endless(seen: Seen, reply: Reply) -> None:
        reply.head(200, [("content-type", "text/event-stream")])
        deadline = time.monotonic() + 20
        try:
            while time.monotonic() < deadline:
                reply.write(b": heartbeat\n\n")
                sent.append(time.monotonic())
                time.sleep(0.05)
        except OSError:
            stopped.set()

    gateway.responders["anthropic"] = endless
    with socket.create_connection(("127.0.0.1", worker.direct_port), timeout=10) as sock:
        sock.sendall(
            b"POST /anthropic/v1/messages HTTP/1.1\r\nhost: 127.0.0.1\r\n"
            b"cf-access-token: " + token.encode() + b"\r\n"
            b"content-length: "
            + str(len(served.ANTHROPIC)).encode()
            + b"\r\n\r\n"
            + served.ANTHROPIC
        )
        assert b"200" in sock.recv(65536).split(b"\r\n")[0]
    closed_at = time.monotonic()
    assert stopped.wait(timeout=15), "the upstream kept streaming after the client left"
    assert sent[-1] - closed_at < 10


def _logged(worker: LocalWorker, *parts: str, since: int = 0) -> dict[str, object]:
    """The Worker's last JSON log line holding every one of `parts` (after byte `since`),
    waited for: the runtime writes its log asynchronously."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = worker.log_path.read_bytes()[since:].decode(errors="replace").splitlines()
        found = [line for line in lines if all(part in line for part in parts)]
        if found:
            record: dict[str, object] = json.loads(found[-1][found[-1].index("{") :])
            return record
        time.sleep(0.1)
    raise AssertionError(f"no log line with {parts}")


def test_proxied_requests_are_logged_without_secrets(
    worker: LocalWorker, client: httpx.Client, gateway: FakeGateway, token: str
) -> None:
    client.post("/openai/v1/chat/completions?api_key=query-secret", content=served.OPENAI)
    record = _logged(worker, '"event":"proxy"', '"/v1/chat/completions"')
    assert record["userId"] == anonymous_id(cpython.USER_ID_KEY, cpython.PROXY_USER)
    assert (record["provider"], record["path"], record["status"]) == (
        "openai",
        "/v1/chat/completions",
        200,
    )
    log = worker.log_path.read_text(errors="replace")
    for secret in (
        token,
        cpython.PROXY_USER,
        "query-secret",
        cpython.GATEWAY_TOKEN,
        cpython.USER_ID_KEY,
    ):
        assert secret not in log


def test_a_refusal_is_logged_with_its_route_and_endpoint_and_no_secret(
    worker: LocalWorker, client: httpx.Client, gateway: FakeGateway, token: str
) -> None:
    body = served.body("gpt-4-log-probe", input="a secret prompt")
    assert client.post("/openai/v1/responses", content=body).status_code == 400
    assert _logged(worker, '"event":"refused"', '"model_not_allowed"') == {
        "event": "refused",
        "status": 400,
        "type": "model_not_allowed",
        "reason": None,
        "route": "/openai",
        "endpoint": "POST /v1/responses",
        "userId": anonymous_id(cpython.USER_ID_KEY, cpython.PROXY_USER),
    }
    log = worker.log_path.read_text(errors="replace")
    for secret in (token, cpython.PROXY_USER, "a secret prompt", "gpt-4-log-probe"):
        assert secret not in log


@pytest.mark.parametrize(
    ("path", "ids"),
    [
        ("/openai/v1/models", lambda listing: [m["id"] for m in listing["data"]]),
        ("/anthropic/v1/models", lambda listing: [m["id"] for m in listing["data"]]),
        (
            "/google-ai-studio/v1beta/models",
            lambda listing: [m["name"].removeprefix("models/") for m in listing["models"]],
        ),
    ],
)
def test_model_listings_are_the_menu_and_never_reach_the_gateway(
    client: httpx.Client,
    gateway: FakeGateway,
    path: str,
    ids: Callable[[dict[str, object]], list[str]],
) -> None:
    document = client.get("/.well-known/opencode").json()["config"]["provider"]
    route = path.split("/")[1]
    served_ids = sorted(
        model
        for provider in document.values()
        if provider["options"]["baseURL"].split("/")[3] == route
        for model in provider["whitelist"]
    )
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert ids(response.json()) == served_ids
    assert gateway.seen == []


def test_the_logged_duration_is_the_wait_for_the_gateway_and_never_negative(
    worker: LocalWorker, client: httpx.Client, gateway: FakeGateway
) -> None:
    def slow(seen: Seen, reply: Reply) -> None:
        time.sleep(0.3)
        reply.json(200, {"ok": True})

    gateway.responders["anthropic"] = slow
    start = worker.log_size()
    assert client.post("/anthropic/v1/messages", content=served.ANTHROPIC).status_code == 200
    slow_line = _logged(worker, '"event":"proxy"', '"provider":"anthropic"', since=start)
    gateway.responders.clear()
    for _ in range(20):
        assert client.post("/anthropic/v1/messages", content=served.ANTHROPIC).status_code == 200
    lines = [
        json.loads(line[line.index("{") :])
        for line in worker.log_path.read_text(errors="replace").splitlines()
        if '"event":"proxy"' in line
    ]
    assert 250 <= float(str(slow_line["durationMs"])) < 5000
    assert all(float(line["durationMs"]) >= 0 for line in lines)


@pytest.mark.parametrize(
    ("path", "body", "header"),
    [
        ("/anthropic/v1/messages", served.ANTHROPIC, "x-api-key"),
        (f"/google-ai-studio{served.GEMINI_PATH}", b"{}", "x-goog-api-key"),
    ],
)
def test_the_token_as_the_apis_own_key_signs_in_and_is_never_forwarded(
    worker: LocalWorker, token: str, gateway: FakeGateway, path: str, body: bytes, header: str
) -> None:
    response = httpx.post(worker.url + path, content=body, headers={header: token}, timeout=30)
    assert response.status_code == 200, response.text
    (seen,) = gateway.seen
    assert seen.header(header) is None
    assert token not in repr(seen.headers)
