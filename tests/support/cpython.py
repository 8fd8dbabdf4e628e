"""The core's ports on CPython: in-memory KV, `cryptography` RS256, an in-process certs fetch."""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import platform
import time
from collections.abc import Awaitable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

import build_config
from devstack.access import LocalAccess
from opencode_proxy.discovery import Discovery
from opencode_proxy.http import Request, Response
from opencode_proxy.membership import GET_IDENTITY_PATH
from opencode_proxy.ports import (
    BodyRead,
    BodyTooLarge,
    Fetched,
    HttpGet,
    LogLine,
    Platform,
    RateLimit,
    Upstream,
    UpstreamAnswer,
)
from opencode_proxy.router import App
from opencode_proxy.services import Services
from opencode_proxy.settings import Settings


@dataclass
class MemoryKV:
    """The `KeyValue` port as a dict; `puts` records every write in order."""

    data: dict[str, str] = field(default_factory=dict)
    puts: list[tuple[str, str]] = field(default_factory=list)

    async def get(self, key: str) -> str | None:
        return self.data.get(key)

    async def put(self, key: str, value: str, *, ttl_seconds: int | None = None) -> None:
        self.data[key] = value
        self.puts.append((key, value))


def _b64url_int(value: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


class CryptographyRs256:
    """The `Rs256` port on the `cryptography` package."""

    async def load_key(self, jwk: Mapping[str, str]) -> object:
        try:
            numbers = rsa.RSAPublicNumbers(_b64url_int(jwk["e"]), _b64url_int(jwk["n"]))
            return numbers.public_key()
        except (KeyError, ValueError) as exc:
            raise ValueError(f"unusable RSA key: {exc}") from None

    async def verify(self, key: object, data: bytes, signature: bytes) -> bool:
        assert isinstance(key, rsa.RSAPublicKey)
        try:
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return False
        return True


def certs_fetch(access: LocalAccess) -> HttpGet:
    """An `HttpGet` that answers like `access`'s certs and get-identity endpoints, without
    a socket."""

    async def http_get(url: str, headers: Mapping[str, str], *, timeout: float) -> Fetched:
        if url == access.origin + GET_IDENTITY_PATH:
            if access.identity_failure == "down":
                raise OSError("connection refused")
            status, body = access.identity_answer(headers.get("cookie", ""))
            return Fetched(status, {"content-type": "application/json"}, body.decode())
        assert url == f"{access.origin}/cdn-cgi/access/certs"
        access.certs_requests += 1
        if access.failure == "down":
            raise OSError("connection refused")
        if access.failure == "junk":
            return Fetched(200, {}, "<html>")
        if isinstance(access.failure, int):
            return Fetched(access.failure, {}, "{}")
        return Fetched(
            200, {"content-type": "application/json"}, json.dumps(access.certs_document())
        )

    return http_get


class RecordingUpstream:
    """The `Upstream` port answering 200 with a marker object; `calls` records requests."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, list[tuple[str, str]], object | None]] = []

    async def __call__(
        self, method: str, url: str, headers: list[tuple[str, str]], body: object | None
    ) -> UpstreamAnswer:
        self.calls.append((method, url, headers, body))
        return UpstreamAnswer(200, "upstream answer")


async def gateway_url(gateway_id: str, provider: str) -> str:
    return f"https://gateway.ai.cloudflare.com/v1/test-account/{gateway_id}/{provider}"


class Clock:
    """A clock tests can move; starts at the real time so PyJWT agrees with it."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


async def read_body(body: object, limit: int) -> BodyRead:
    """The `ReadBody` port on bytes, as the Worker reads a body."""
    assert isinstance(body, bytes)
    if len(body) > limit:
        raise BodyTooLarge(str(len(body)))
    return BodyRead(body, len(body))


def body_chunks(payload: object, size: int) -> Iterator[bytes]:
    """The `BodyChunks` port on bytes."""
    assert isinstance(payload, bytes)
    for start in range(0, len(payload), size):
        yield payload[start : start + size]


async def native_model(payload: object) -> str | None:
    """The `NativeModel` port on bytes (a JSON parser that keeps the last equal key)."""
    assert isinstance(payload, bytes)
    try:
        parsed = json.loads(payload)
    except ValueError:
        return None
    model = parsed.get("model") if isinstance(parsed, dict) else None
    return model if isinstance(model, str) else None


@dataclass
class CountingRateLimit:
    """The `RateLimit` port admitting `limit` requests per key (the period never ends)."""

    limit: int = 1_000_000
    counts: dict[str, int] = field(default_factory=dict)

    async def __call__(self, key: str) -> bool:
        self.counts[key] = self.counts.get(key, 0) + 1
        return self.counts[key] <= self.limit


def make_app(
    access: LocalAccess,
    *,
    settings: Mapping[str, str] | None = None,
    clock: Clock | None = None,
    cache: MemoryKV | None = None,
    users: MemoryKV | None = None,
    upstream: Upstream | None = None,
    compiled: Path | None = None,
    document: dict[str, Any] | None = None,
    log_line: LogLine | None = None,
    rate_limit: RateLimit | None = None,
) -> App:
    """The core on CPython ports; `compiled` (a file) or `document` instead of the shipped
    config."""
    values = dict(settings) if settings is not None else default_settings(access)
    ports = Platform(
        cache=cache if cache is not None else MemoryKV(),
        users=users if users is not None else MemoryKV(),
        http_get=certs_fetch(access),
        rs256=CryptographyRs256(),
        clock=clock or time.time,
        timer=time.monotonic,
        upstream=upstream or RecordingUpstream(),
        gateway_url=gateway_url,
        read_body=read_body,
        body_chunks=body_chunks,
        native_model=native_model,
        rate_limit=rate_limit or CountingRateLimit(),
        log_line=log_line or print,
        runtime={"python": platform.python_version()},
    )
    if compiled is not None:
        discovery = Discovery.from_file(compiled)
    else:
        discovery = Discovery(document if document is not None else shipped_config())
    return App(Services(discovery, Settings(values), ports))


@functools.cache
def _compiled() -> str:
    return json.dumps(build_config.compile_config())


def shipped_config() -> dict[str, Any]:
    """A fresh copy of what config-src/ compiles to."""
    loaded: dict[str, Any] = json.loads(_compiled())
    return loaded


AUDIENCE = "test-aud-0123456789abcdef"
USER_ID_KEY = "test-user-id-key-not-a-secret"
GATEWAY_TOKEN = "test-gateway-token-0123456789"
WORKERS_AI_TOKEN = "test-workers-ai-token-0123456789"
PROXY_USER = "proxy.user@example.com"  # the person behind the workerd tests' token


def default_settings(access: LocalAccess) -> dict[str, str]:
    return {
        "ACCESS_TEAM_DOMAIN": access.origin,
        "ACCESS_AUD": AUDIENCE,
        "USER_ID_KEY": USER_ID_KEY,
        "AI_GATEWAY_ID": "test-gateway",
        "GATEWAY_TOKEN": GATEWAY_TOKEN,
        "WORKERS_AI_TOKEN": WORKERS_AI_TOKEN,
    }


async def _call(app: App, request: Request) -> Response:
    deferred: list[Awaitable[None]] = []
    response = await app.handle(request, deferred.append)
    for work in deferred:
        await work
    return response


def call(
    app: App,
    method: str,
    url: str,
    headers: Mapping[str, str] | None = None,
    body: object | None = None,
) -> Response:
    """Run one request through the app, then the work it deferred."""
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    return asyncio.run(_call(app, Request(method, url, lowered, body)))


def error_type(response: Response) -> str | None:
    """The proxy's own name for a refusal, whatever the dialect of its body."""
    return dict(response.headers).get("x-proxy-error")
