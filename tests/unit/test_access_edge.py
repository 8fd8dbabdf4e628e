"""The Access edge stand-in on its own, in front of an upstream that echoes what reached
it: what it adds, what it leaves, what it refuses, and that answers stream through."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

import httpx
import pytest

import access_vectors
from devstack.access import LocalAccess, access_claims
from devstack.access_edge import ASSERTION, LocalAccessEdge, apps_for
from devstack.server import LocalHttpServer, QuietHandler

KEY = access_vectors.load_keys()["access-1"]
AUDIENCE = "edge-test-aud"


@dataclass
class Echo(LocalHttpServer):
    """Answers with the headers it got; `/stream` sends a chunk each time it is let."""

    let: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))

    def handler(self) -> type[BaseHTTPRequestHandler]:
        echo = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                if self.path == "/openai/stream":
                    self.send_response(200)
                    self.send_header("transfer-encoding", "chunked")
                    self.end_headers()
                    for n in range(3):
                        assert echo.let.acquire(timeout=10)
                        data = f"event {n}\n\n".encode()
                        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                        self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
                    return
                body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
                self.send_response(200)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


@pytest.fixture
def edge() -> Iterator[tuple[LocalAccessEdge, Echo]]:
    access = LocalAccess(published=[KEY])
    with Echo() as upstream:
        apps = apps_for(["/openai", "/healthz"])
        with LocalAccessEdge(
            upstream=upstream.origin, access=access, audience=AUDIENCE, apps=apps
        ) as running:
            yield running, upstream


def _token(**times: int) -> str:
    claims = access_claims(LocalAccess().origin, AUDIENCE)
    claims.update(times)
    return KEY.sign(claims)


def test_a_valid_sign_in_passes_with_the_assertion_added_and_a_forged_one_replaced(
    edge: tuple[LocalAccessEdge, Echo],
) -> None:
    running, _ = edge
    token = _token()
    seen = httpx.get(
        f"{running.origin}/page", headers={"cf-access-token": token, ASSERTION: "forged"}
    ).json()
    assert seen[ASSERTION.lower()] == token
    cookie = httpx.get(f"{running.origin}/", cookies={"CF_Authorization": token}).json()
    assert cookie[ASSERTION.lower()] == token


def test_a_bypassed_path_and_the_paths_below_it_pass_untouched(
    edge: tuple[LocalAccessEdge, Echo],
) -> None:
    running, _ = edge
    for path in ("/healthz", "/openai", "/openai/v1/responses"):
        seen = httpx.get(running.origin + path).json()
        assert ASSERTION.lower() not in seen, path
    # A look-alike prefix is not below the bypassed path: it stays behind Access.
    assert httpx.get(f"{running.origin}/openai-admin").status_code == 302


def test_the_teams_sign_in_sets_the_cookie_only_for_a_valid_token_and_a_local_path(
    edge: tuple[LocalAccessEdge, Echo],
) -> None:
    running, _ = edge
    authorized = f"{running.origin}/cdn-cgi/access/authorized"
    good = httpx.get(authorized, params={"token": _token(), "redirect_url": "/page"})
    assert (good.status_code, good.headers["location"]) == (302, "/page")
    assert good.headers["set-cookie"].startswith("CF_Authorization=")
    expired = _token(iat=1, nbf=1, exp=2)
    for params in (
        {"token": expired, "redirect_url": "/"},
        {"token": _token(), "redirect_url": "https://evil.example/"},
    ):
        assert httpx.get(authorized, params=params).status_code == 403


def test_an_answer_streams_through_chunk_by_chunk(edge: tuple[LocalAccessEdge, Echo]) -> None:
    running, upstream = edge
    with httpx.stream("GET", f"{running.origin}/openai/stream", timeout=10) as response:
        chunks = response.iter_raw()
        for n in range(3):
            upstream.let.release()  # the next chunk leaves only after this one arrived
            assert next(chunks) == f"event {n}\n\n".encode()
