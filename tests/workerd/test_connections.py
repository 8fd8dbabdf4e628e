"""What refused requests, `Expect: 100-continue` and keep-alive connections do in workerd.

The 2024 runtime lost requests here: after a request refused before its body was
read, the next request on the connection often got a plain-text 503 ("Your worker
restarted mid-request"), and `Expect: 100-continue` got a 503 while the provider
was still called. These tests hold the current runtime to the right behaviour. They
talk to workerd's own socket for the Worker (miniflare's direct socket), as
production's edge does: miniflare's entry worker in front would rebuild each
request first.
"""

from __future__ import annotations

import http.client
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest

import access_vectors
from devstack.gateway import FakeGateway
from devstack.runtime import LocalWorker
from support import served

KEY = access_vectors.load_keys()["access-1"]
# (path, whether to send a valid token, the status that refuses it before any body is read)
REFUSALS = [
    ("/openai/v1/responses", False, 401),
    ("/openai/%2e%2e/v1/responses", True, 400),
    ("/not-a-route", True, 404),
    ("/.well-known/opencode", False, 405),
]
DECLARED = 1024 * 1024 * 1024  # a body nobody should wait for


def _head(path: str, token: str | None, length: int, extra: str = "") -> bytes:
    lines = [f"POST {path} HTTP/1.1", "host: 127.0.0.1", f"content-length: {length}"]
    if token is not None:
        lines.append(f"cf-access-token: {token}")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()


@pytest.mark.parametrize(("path", "signed_in", "status"), REFUSALS)
def test_a_refused_request_is_answered_without_waiting_for_its_body(
    worker: LocalWorker, token: str, gateway: FakeGateway, path: str, signed_in: bool, status: int
) -> None:
    # 1 GiB is declared and 1 KiB sent: the answer must come without the rest.
    with socket.create_connection(("127.0.0.1", worker.direct_port), timeout=30) as sock:
        sock.sendall(_head(path, token if signed_in else None, DECLARED) + b"x" * 1024)
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert response.status == status
        assert token.encode() not in response.read()
    assert gateway.seen == []


@pytest.mark.parametrize(("path", "signed_in", "status"), REFUSALS)
def test_a_refused_body_never_disturbs_the_next_request_on_the_connection(
    worker: LocalWorker, token: str, gateway: FakeGateway, path: str, signed_in: bool, status: int
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", worker.direct_port, timeout=30)
    for size in (10, 4096, 70_000):
        headers = {"cf-access-token": token} if signed_in else {}
        connection.request("POST", path, b"j" * size, headers)
        refused = connection.getresponse()
        refused.read()
        assert refused.status == status
        connection.request(
            "POST", "/openai/v1/responses", served.OPENAI, {"cf-access-token": token}
        )
        answered = connection.getresponse()
        assert answered.status == 200, answered.read()[:300]
        answered.read()
    connection.close()
    assert len(gateway.seen) == 3


def test_valid_requests_all_succeed_while_junk_posts_arrive_beside_them(
    worker: LocalWorker, token: str, gateway: FakeGateway
) -> None:
    def valid(_: int) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", worker.direct_port, timeout=30)
        statuses = []
        for _ in range(20):
            connection.request(
                "POST", "/openai/v1/responses", served.OPENAI, {"cf-access-token": token}
            )
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
        connection.close()
        return statuses.count(200)

    def junk(n: int) -> int:
        path, signed_in, status = REFUSALS[n % len(REFUSALS)]
        connection = http.client.HTTPConnection("127.0.0.1", worker.direct_port, timeout=30)
        refused = 0
        for _ in range(20):
            headers = {"cf-access-token": token} if signed_in else {}
            connection.request("POST", path, b"j" * 20_000, headers)
            response = connection.getresponse()
            response.read()
            refused += response.status == status
        connection.close()
        return refused

    with ThreadPoolExecutor(8) as pool:
        answered = pool.map(valid, range(4))
        refused = pool.map(junk, range(4))
        assert sum(answered) == 80
        assert sum(refused) == 80
    assert len(gateway.seen) == 80


def test_expect_100_continue_gets_its_interim_answer_and_one_forward(
    worker: LocalWorker, token: str, gateway: FakeGateway
) -> None:
    # curl sends `Expect: 100-continue` for bodies over 1 KiB and waits for the 100.
    body = b'{"model":"gpt-5","input":"' + b"a" * 4000 + b'"}'
    with socket.create_connection(("127.0.0.1", worker.direct_port), timeout=30) as sock:
        sock.sendall(_head("/openai/v1/responses", token, len(body), "expect: 100-continue\r\n"))
        interim = sock.recv(65536)
        assert interim.split(b"\r\n")[0] == b"HTTP/1.1 100 Continue"
        sock.sendall(body)
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert response.status == 200
        response.read()
    (seen,) = gateway.seen
    assert seen.body == body
