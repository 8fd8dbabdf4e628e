"""No request can hurt another: hostile tokens, bodies, Hosts and methods, sent while
other people's answers stream, are each refused in words, and every stream completes.

Python's JSON parser recursing a few thousand levels overflows Pyodide's stack and
kills the workerd process, so these only show in the real runtime.
"""

from __future__ import annotations

import base64
import json
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest

import access_vectors
from devstack.access import LocalAccess, access_claims
from devstack.gateway import FakeGateway, Reply, Seen
from devstack.models_dev import LocalModelsDev
from devstack.runtime import LocalWorker
from support import served
from support.cpython import AUDIENCE, PROXY_USER
from support.hostile_catalog import models_dev_text
from support.raw_http import raw_request

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "models_dev.json"
EVENTS = 30
EVENT_GAP = 0.1
STREAMS = 4


def _deep_token() -> str:
    """A JWT-shaped token nested 6,000 levels, 32 KB: just under the header limit, so
    it reaches the Worker, which refuses it for its size before any parsing."""
    segment = base64.urlsafe_b64encode(b"[" * 6000 + b"]" * 6000).rstrip(b"=").decode()
    return f"{segment}.{segment}.c2ln"


def _small_deep_token() -> str:
    """Under the size limit, nested 3,000 levels: refused for its depth."""
    segment = base64.urlsafe_b64encode(b"[" * 3000 + b"]" * 3000).rstrip(b"=").decode()
    return f"{segment}.e30.c2ln"


def _deep_body(levels: int, pad: int = 0) -> bytes:
    nested = b"[" * levels + b"]" * levels
    return b'{"model":"gpt-5","input":"' + b"x" * pad + b'","x":' + nested + b"}"


def _slow_stream(seen: Seen, reply: Reply) -> None:
    reply.head(200, [("content-type", "text/event-stream")])
    for n in range(EVENTS):
        reply.write(f"event: delta\ndata: {n}\n\n".encode())
        time.sleep(EVENT_GAP)
    reply.end()


def _stream(worker: LocalWorker, token: str) -> list[bytes]:
    """One person's streamed answer, event by event."""
    events = []
    with (
        httpx.Client(base_url=worker.url, timeout=60) as session,
        session.stream(
            "POST",
            "/anthropic/v1/messages",
            content=served.ANTHROPIC,
            headers={"cf-access-token": token, "accept": "text/event-stream"},
        ) as response,
    ):
        assert response.status_code == 200
        buffer = b""
        for chunk in response.iter_raw():
            buffer += chunk
            while b"\n\n" in buffer:
                event, buffer = buffer.split(b"\n\n", 1)
                events.append(event)
    return events


class Attack(NamedTuple):
    name: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    status: int  # what the Worker answers it


def _attacks(token: str) -> list[Attack]:
    signed = {"cf-access-token": token}
    attacks = []
    for bad in (_deep_token(), _small_deep_token()):
        for name, value in (
            ("cf-access-token", bad),
            ("cf-access-jwt-assertion", bad),
            ("authorization", f"Bearer {bad}"),
        ):
            headers = {name: value}
            what = f"a {name} token of {len(bad)} bytes"
            # Outside Access, and always 200: OpenCode cannot start without it.
            attacks.append(
                Attack(f"/setup/opencode, {what}", "GET", "/setup/opencode", headers, None, 200)
            )
            attacks.append(
                Attack(f"/openai, {what}", "POST", "/openai/v1/responses", headers, b"{}", 401)
            )
        cookie = {"cookie": f"CF_Authorization={bad}"}
        attacks.append(
            Attack(f"/whoami, a cookie of {len(bad)}", "GET", "/whoami", cookie, None, 401)
        )
    attacks.append(
        Attack(
            "a 6 KB body nested 3,000 levels",  # under 8 KiB: Python's parser, guarded
            "POST",
            "/openai/v1/responses",
            signed,
            _deep_body(3000),
            400,
        )
    )
    attacks.append(
        Attack(
            "a body nested 129 levels", "POST", "/openai/v1/responses", signed, _deep_body(129), 400
        )
    )
    return attacks


def test_hostile_json_never_cuts_another_persons_stream(
    worker: LocalWorker, token: str, gateway: FakeGateway
) -> None:
    gateway.responders["anthropic"] = _slow_stream
    attacks = _attacks(token)
    answers: dict[str, tuple[int, str]] = {}
    with ThreadPoolExecutor(STREAMS) as pool:
        streams = [pool.submit(_stream, worker, token) for _ in range(STREAMS)]
        time.sleep(EVENT_GAP * 5)  # every stream is under way
        for attack in attacks:
            # A connection each: a refusal may close its connection before the body is read.
            response = httpx.request(
                attack.method,
                worker.url + attack.path,
                headers=attack.headers,
                content=attack.body,
                timeout=30,
            )
            answers[attack.name] = (response.status_code, response.text)
        events = [stream.result(timeout=60) for stream in streams]
    for attack in attacks:
        got, text = answers[attack.name]
        assert got == attack.status, f"{attack.name}: {got} {text[:300]}"
    assert all(len(stream) == EVENTS for stream in events), [len(s) for s in events]
    assert answers["a body nested 129 levels"][1].count("nests deeper than 128 levels") == 1


def test_a_large_deeply_nested_body_is_read_by_the_runtimes_own_parser_and_harms_no_one(
    worker: LocalWorker, client: httpx.Client, gateway: FakeGateway
) -> None:
    # Above 8 KiB the model is read by the runtime's JSON parser, which does not recurse:
    # 100,000 levels cost it nothing, and the body is forwarded as it came.
    body = _deep_body(100_000, pad=40_000)
    response = client.post("/openai/v1/responses", content=body)
    assert response.status_code == 200, response.text[:300]
    assert [seen.body_length for seen in gateway.seen] == [len(body)]
    assert client.get("/healthz").status_code == 200


UNSERVED_THEN_SERVED = '{"model":"gpt-4-never-served","model":"gpt-5","input":"hi"}'


@pytest.mark.parametrize(
    ("name", "body", "why"),
    [
        ("UTF-16LE", UNSERVED_THEN_SERVED.encode("utf-16-le"), "NUL bytes"),
        ("UTF-16BE", UNSERVED_THEN_SERVED.encode("utf-16-be"), "NUL bytes"),
        ("UTF-16 with a BOM", UNSERVED_THEN_SERVED.encode("utf-16"), "NUL bytes"),
        ("UTF-32", UNSERVED_THEN_SERVED.encode("utf-32"), "NUL bytes"),
        ("a UTF-16 BOM alone", b"\xff\xfe" + served.OPENAI, "not valid UTF-8"),
        ("UTF-8 with a BOM", b"\xef\xbb\xbf" + served.OPENAI, "byte order mark"),
        ("Latin-1", '{"model":"gpt-5","input":"caf\u00e9"}'.encode("latin-1"), "not valid"),
        ("an encoded surrogate", b'{"model":"gpt-5","input":"\xed\xa0\x80"}', "not valid"),
    ],
)
@pytest.mark.parametrize("pad", [0, 40_000], ids=["small", "large"])
def test_a_body_not_in_utf8_is_refused_in_words_and_never_forwarded(
    client: httpx.Client, gateway: FakeGateway, name: str, body: bytes, why: str, pad: int
) -> None:
    # Python's parser would read UTF-16 and UTF-32 (and take the last of two models);
    # RFC 8259 says JSON between systems is UTF-8, so anything else is refused, at any size.
    if pad:
        body = body.replace(b"i", b"i" + b" " * pad, 1) if b"\x00" not in body else body * 600
    response = client.post("/openai/v1/responses", content=body)
    assert response.status_code == 400, response.text[:300]
    error = response.json()["error"]
    assert error["code"] == "bad_body"
    assert why in error["message"]
    assert "UTF-8" in error["message"]
    assert gateway.seen == []


@pytest.mark.parametrize(
    "host",
    [
        "evil.example$(id)",
        "evil.example`id`",
        "evil.example;id",
        "evil.example&id",
        "evil.example|id",
        "evil.example'id",
        "user@127.0.0.1",
        "evil.example:80:80",
        'x"><img src=x>',
        "a b",
    ],
)
@pytest.mark.parametrize("path", ["/", "/.well-known/opencode", "/setup/codex"])
def test_a_hostile_host_is_refused_before_any_route_runs(
    worker: LocalWorker, host: str, path: str
) -> None:
    answer = raw_request(worker.direct_port, path, b"accept: text/html\r\n", host=host)
    # workerd builds the request's URL from whatever Host it got; the Worker refuses it.
    assert answer.status == 400, answer.body[:300]
    assert json.loads(answer.body)["error"]["type"] == "bad_host"
    assert host.encode() not in answer.body


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "OPTIONS", "PATCH", "DELETE", "PUT"])
@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/", "GET, HEAD"),
        ("/.well-known/opencode", "GET, HEAD"),
        ("/setup/opencode", "GET, HEAD"),
        ("/openai/v1/responses", "POST"),
    ],
)
def test_an_unexpected_method_gets_405_with_allow_never_500(
    worker: LocalWorker, token: str, gateway: FakeGateway, method: str, path: str, allowed: str
) -> None:
    answer = raw_request(
        worker.direct_port, path, f"cf-access-token: {token}\r\n".encode(), method=method
    )
    assert answer.status == 405, answer.body[:300]
    assert answer.headers["allow"] == allowed
    assert answer.headers["x-proxy-error"] == "method_not_allowed"
    assert token.encode() not in answer.body
    assert gateway.seen == []


@pytest.mark.parametrize(("method", "status"), [("CONNECT", 200), ("FOO", 501)])
def test_methods_the_runtime_keeps_from_the_worker_never_reach_the_gateway(
    worker: LocalWorker, token: str, gateway: FakeGateway, method: str, status: int
) -> None:
    # workerd answers these itself: CONNECT opens a tunnel that echoes what was sent (the
    # Worker has no `connect` handler), and a method it does not know gets 501. Neither
    # runs the Worker, so neither can be forwarded.
    answer = raw_request(
        worker.direct_port,
        "/openai/v1/responses",
        f"cf-access-token: {token}\r\n".encode(),
        method=method,
    )
    assert answer.status == status
    assert gateway.seen == []


def test_no_forwarded_address_header_reaches_the_gateway(
    client: httpx.Client, gateway: FakeGateway
) -> None:
    names = [
        "x-original-forwarded-for",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "x-forwarded-port",
        "forwarded",
        "true-client-ip",
        "x-real-ip",
        "x-client-ip",
        "x-envoy-external-address",
        "x-remote-addr",
    ]
    response = client.post(
        "/openai/v1/responses",
        content=served.OPENAI,
        headers={name: "203.0.113.7" for name in names},
    )
    assert response.status_code == 200
    (seen,) = gateway.seen
    assert "203.0.113.7" not in repr(seen.headers)
    assert seen.body_length == len(served.OPENAI)


def test_the_first_requests_of_a_cold_isolate_all_stream(
    tmp_path: Path, session_gateway: FakeGateway, worker_settings: dict[str, str]
) -> None:
    # A new isolate knows no Access key yet: requests that arrive while the first one
    # fetches the certs must each complete in their own request, never wait on the other's
    # fetch (workerd then refuses their I/O: "Cannot perform I/O on behalf of a different
    # request").
    key = access_vectors.load_keys()["access-1"]
    with LocalAccess(published=[key], certs_delay=0.5) as slow_access:
        settings = {**worker_settings, "ACCESS_TEAM_DOMAIN": slow_access.origin}
        session_gateway.responders["anthropic"] = _slow_stream
        try:
            with LocalWorker(tmp_path, session_gateway.origin, variables=settings) as cold:
                token = key.sign(access_claims(slow_access.origin, AUDIENCE, email=PROXY_USER))
                with ThreadPoolExecutor(STREAMS * 2) as pool:
                    streams = [pool.submit(_stream, cold, token) for _ in range(STREAMS * 2)]
                    events = [stream.result(timeout=90) for stream in streams]
        finally:
            session_gateway.responders.clear()
    assert [len(stream) for stream in events] == [EVENTS] * STREAMS * 2


def test_a_hostile_catalog_from_the_cron_never_breaks_a_route(
    worker: LocalWorker, models_dev: LocalModelsDev, client: httpx.Client
) -> None:
    models_dev.serve(models_dev_text().encode(), etag='"hostile"')
    try:
        assert httpx.post(f"{worker.url}/cdn-cgi/local/scheduled", timeout=60).status_code == 200
        answers = {
            path: client.get(path, headers={"accept": "text/html"} if path == "/" else {})
            for path in (
                "/.well-known/opencode",
                "/setup/opencode",
                "/setup/claude-code",
                "/setup/codex",
                "/setup/qwen-code",
                "/",
                "/openai/v1/models",
            )
        }
        for path, response in answers.items():
            assert response.status_code == 200, (path, response.text[:300])
            for bad in ("gpt-$(id)", "\\ud800", "\x7f", "\u202e", "g" * 129):
                assert bad not in response.text, (path, bad)
        tomllib.loads(answers["/setup/codex"].text)
        whitelist = answers["/.well-known/opencode"].json()["config"]["provider"]["openai"]
        assert "gpt-quoted" in whitelist["whitelist"]
        assert '"event": "catalog_dropped"' in worker.log_tail(50)
    finally:
        models_dev.serve(FIXTURE.read_bytes(), etag='"restored"')
        assert httpx.post(f"{worker.url}/cdn-cgi/local/scheduled", timeout=60).status_code == 200
