"""The few things the core needs from the world, as small typed ports.

The platform adapter implements them on Workers bindings (KV, `fetch`,
`crypto.subtle`, `ctx.waitUntil`); the tests implement them on CPython.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol


class KeyValue(Protocol):
    """A string key-value store (a Workers KV namespace)."""

    async def get(self, key: str) -> str | None: ...

    async def put(self, key: str, value: str, *, ttl_seconds: int | None = None) -> None: ...


@dataclass(frozen=True, slots=True)
class Fetched:
    """A small upstream answer read in full (certs, catalogs), never a proxied stream."""

    status: int
    headers: Mapping[str, str]
    text: str


class HttpGet(Protocol):
    """GET a URL and read the whole (small) answer within `timeout` seconds. Raises OSError
    when unreachable or too slow."""

    async def __call__(
        self, url: str, headers: Mapping[str, str], *, timeout: float
    ) -> Fetched: ...


class Rs256(Protocol):
    """RSASSA-PKCS1-v1_5 with SHA-256: WebCrypto in the Worker, `cryptography` on CPython."""

    async def load_key(self, jwk: Mapping[str, str]) -> object:
        """Import a public RSA JWK; raises ValueError when it is unusable."""
        ...

    async def verify(self, key: object, data: bytes, signature: bytes) -> bool: ...


@dataclass(frozen=True, slots=True)
class UpstreamAnswer:
    """A provider's answer: status now, the body left in `handle` for the client, unread.

    For an answer that may be AI Gateway's own refusal (a 403 or 429 of at most
    `budget.MAX_ERROR_BODY` bytes, as declared), `error` holds the body, read so the Worker
    can tell a cap or a policy from the provider's own answer; `handle` then holds a copy."""

    status: int
    handle: object
    error: bytes | None = None


class Upstream(Protocol):
    """Send a request on with its body as an opaque stream; raises OSError when unreachable.

    The answer comes back as the provider sent it, less any `Set-Cookie`."""

    async def __call__(
        self, method: str, url: str, headers: list[tuple[str, str]], body: object | None
    ) -> UpstreamAnswer: ...


class BodyTooLarge(ValueError):
    """A request body over the size the proxy reads to find its model."""


@dataclass(frozen=True, slots=True)
class BodyRead:
    """A request body read once: the bytes to forward as the runtime holds them, and
    their number."""

    payload: object
    size: int


class ReadBody(Protocol):
    """Read a request body once. Raises BodyTooLarge past `limit` bytes, OSError when the
    body cannot be read."""

    async def __call__(self, body: object, limit: int) -> BodyRead: ...


class BodyChunks(Protocol):
    """Copies in Python of a body `ReadBody` read, in order, each at most `size` bytes:
    one at a time, so a large body is never held in Python whole."""

    def __call__(self, payload: object, size: int) -> Iterator[bytes]: ...


class NativeModel(Protocol):
    """The top-level `model` string the runtime's own JSON parser finds in a body
    `ReadBody` read (the last one when there are several); None when the body is not a
    JSON object naming one. Faster than Python's parser on large bodies."""

    async def __call__(self, payload: object) -> str | None: ...


class GatewayUrl(Protocol):
    """The AI Gateway base URL of a provider (`env.AI.gateway(id).getUrl(provider)`)."""

    async def __call__(self, gateway_id: str, provider: str) -> str: ...


class RateLimit(Protocol):
    """Count one request against `key` (the Rate Limiting binding's `limit({key})`): True
    while under the limit. Raises OSError when the count cannot be had."""

    async def __call__(self, key: str) -> bool: ...


# Runs an awaitable after the response is sent (ctx.waitUntil in the Worker).
Defer = Callable[[Awaitable[None]], None]
Clock = Callable[[], float]
# Writes one structured log line (console.log in the Worker, so Workers Logs indexes it).
LogLine = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Platform:
    """Everything the core reaches through the runtime, in one place."""

    cache: KeyValue  # CATALOG namespace: model catalog and Access keys
    users: KeyValue  # USERS namespace: anonymous id -> email
    http_get: HttpGet
    rs256: Rs256
    clock: Clock  # wall time, in seconds (token times, catalog ages)
    timer: Clock  # monotonic seconds, for durations
    upstream: Upstream
    gateway_url: GatewayUrl
    read_body: ReadBody
    body_chunks: BodyChunks
    native_model: NativeModel
    rate_limit: RateLimit
    log_line: LogLine
    # What runs the Worker (e.g. {"python": "3.14.2", "pyodide": "314.0.6"}), for /healthz.
    runtime: Mapping[str, str]
