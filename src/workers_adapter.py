"""Platform adapter: the only module that touches the Workers runtime (`js`, `pyodide`).

It turns a runtime request into the core's `Request`, implements the core's
ports on the bindings (KV, `fetch`, `crypto.subtle`, `ctx.waitUntil`), and turns
the core's `Response` back into a runtime `Response`.
"""

from __future__ import annotations

import asyncio
import platform
import time
from collections.abc import Awaitable, Mapping
from typing import Any

import js
import pyodide
from pyodide.ffi import JsException, jsnull, to_js

from opencode_proxy import budget
from opencode_proxy.brake import BINDING
from opencode_proxy.dialects import Dialect, render
from opencode_proxy.discovery import CompiledConfigError, Discovery
from opencode_proxy.http import Request, Response
from opencode_proxy.ports import Fetched, Platform, UpstreamAnswer
from opencode_proxy.refusal import config_error
from opencode_proxy.router import App
from opencode_proxy.services import Services
from opencode_proxy.settings import SettingError, Settings
from workers_body import UnreadBody, body_chunks, native_model, read_body

RSASSA = "RSASSA-PKCS1-v1_5"

_services: Services | None = None
_app: App | None = None


def _js_object(value: Mapping[str, Any]) -> Any:
    """A plain JS object with the fields of `value`, each a string, a number or already a
    JS value. Set field by field: for the upstream init this costs about 0.04 ms of
    workerd CPU less than `to_js(..., dict_converter=Object.fromEntries)`."""
    made = js.Object.new()
    for name, field_value in value.items():
        setattr(made, name, field_value)
    return made


def _binding(env: Any, name: str, section: str) -> Any:
    """A binding looked up when first used, so a missing one fails only what needs it."""
    binding = getattr(env, name, None)
    if binding is None:
        raise SettingError(name, "binding is missing", f"add it under {section} in wrangler.toml")
    return binding


class KvNamespace:
    """The `KeyValue` port on a KV binding (as wrapped by the workers SDK)."""

    def __init__(self, env: Any, name: str) -> None:
        self._env = env
        self._name = name

    async def get(self, key: str) -> str | None:
        value = await _binding(self._env, self._name, "[[kv_namespaces]]").get(key)
        # A missing key is JS null: None through the SDK's wrapper, jsnull without it.
        return None if value is None or value is jsnull else str(value)

    async def put(self, key: str, value: str, *, ttl_seconds: int | None = None) -> None:
        binding = _binding(self._env, self._name, "[[kv_namespaces]]")
        if ttl_seconds is None:
            await binding.put(key, value)
        else:
            await binding.put(key, value, {"expirationTtl": ttl_seconds})


async def http_get(url: str, headers: Mapping[str, str], *, timeout: float) -> Fetched:
    """The `HttpGet` port on the runtime's `fetch`; the signal aborts a slow answer, its
    body included."""
    init = {"headers": _js_object(headers), "signal": js.AbortSignal.timeout(int(timeout * 1000))}
    try:
        response = await js.fetch(url, _js_object(init))
        text = await response.text()
    except JsException as exc:
        raise OSError(f"fetch {url} failed: {exc}") from None
    received = {str(name).lower(): str(value) for name, value in response.headers}
    return Fetched(int(response.status), received, str(text))


async def upstream(
    method: str, url: str, headers: list[tuple[str, str]], body: object | None
) -> UpstreamAnswer:
    """The `Upstream` port: the runtime's `fetch`, body in and out as streams.

    Redirects are not followed: a redirect must not carry the gateway token elsewhere.
    A provider's `Set-Cookie` never reaches the client.
    """
    init: dict[str, Any] = {
        "method": method,
        "headers": to_js([list(h) for h in headers]),
        "redirect": "manual",
    }
    if body is not None and method not in ("GET", "HEAD"):
        init["body"] = body.stream if isinstance(body, UnreadBody) else body
    try:
        response = await js.fetch(url, _js_object(init))
    except JsException as exc:
        raise OSError(f"upstream fetch failed: {exc}") from None
    if response.headers.has("set-cookie"):
        # A provider's cookie would be set for the Worker's origin, the one whose cookies
        # Access trusts. The copy keeps status and headers; the body still streams unread.
        response = js.Response.new(response.body, response)
        response.headers.delete("set-cookie")
    status = int(response.status)
    if status not in budget.STATUSES:
        return UpstreamAnswer(status, response)
    length = str(response.headers.get("content-length") or "")
    if not (length.isascii() and length.isdigit() and int(length) <= budget.MAX_ERROR_BODY):
        return UpstreamAnswer(status, response)
    # Maybe AI Gateway's own refusal (budget.py): read it; the client gets a copy.
    data = await response.arrayBuffer()
    return UpstreamAnswer(status, js.Response.new(data, response), bytes(data.to_bytes()))


class GatewayUrls:
    """The `GatewayUrl` port on the AI binding, one lookup per provider per isolate.

    The binding resolves the providers of its own list (workerd's AiGateway types);
    `compat` is not one of them, so its URL is the gateway's universal one, which
    `getUrl()` with no provider gives, with `/compat` after it, as AI Gateway's
    provider URLs are."""

    _FROM_UNIVERSAL = frozenset({"compat"})

    def __init__(self, env: Any) -> None:
        self._env = env
        self._urls: dict[tuple[str, str], str] = {}

    async def __call__(self, gateway_id: str, provider: str) -> str:
        key = (gateway_id, provider)
        if key not in self._urls:
            gateway = _binding(self._env, "AI", "[ai]").gateway(gateway_id)
            if provider in self._FROM_UNIVERSAL:
                url = str(await gateway.getUrl()).rstrip("/") + "/" + provider
            else:
                url = str(await gateway.getUrl(provider))
            self._urls[key] = url
        return self._urls[key]


class RateLimiter:
    """The `RateLimit` port on the brake's [[ratelimits]] binding. It runs on every
    provider request, so the binding and each person's `{key}` object are looked up
    and converted once."""

    _KEYS = 4096

    def __init__(self, env: Any) -> None:
        self._env = env
        self._binding: Any = None
        self._options: dict[str, Any] = {}

    async def __call__(self, key: str) -> bool:
        if self._binding is None:
            self._binding = _binding(self._env, BINDING, "[[ratelimits]]")
        options = self._options.get(key)
        if options is None:
            if len(self._options) >= self._KEYS:
                self._options.clear()
            options = self._options[key] = _js_object({"key": key})
        try:
            outcome = await self._binding.limit(options)
        except JsException as exc:
            raise OSError(f"rate limit check failed: {exc}") from None
        return bool(outcome.success)


class WebCryptoRs256:
    """The `Rs256` port on `crypto.subtle`."""

    async def load_key(self, jwk: Mapping[str, str]) -> object:
        algorithm = _js_object({"name": RSASSA, "hash": "SHA-256"})
        try:
            return await js.crypto.subtle.importKey(
                "jwk", _js_object(jwk), algorithm, False, to_js(["verify"])
            )
        except JsException as exc:
            raise ValueError(f"unusable RSA key: {exc}") from None

    async def verify(self, key: object, data: bytes, signature: bytes) -> bool:
        try:
            return bool(await js.crypto.subtle.verify(RSASSA, key, to_js(signature), to_js(data)))
        except JsException:
            return False


def _get_services(env: Any) -> Services:
    """One set of services per isolate (their caches live as long as the isolate).

    They are built only from a real env: an event without bindings must fail alone,
    never leave services without settings behind for every later event.
    """
    global _services
    if env is None or env is jsnull:
        raise CompiledConfigError("the event carried no env (bindings); nothing was done")
    if _services is None:
        settings = Settings.from_lookup(lambda name: getattr(env, name, None))
        ports = Platform(
            cache=KvNamespace(env, "CATALOG"),
            users=KvNamespace(env, "USERS"),
            http_get=http_get,
            rs256=WebCryptoRs256(),
            clock=time.time,
            # Monotonic (performance.now() below, without a Python-to-JS call); in
            # workerd it moves only across I/O.
            timer=time.monotonic,
            upstream=upstream,
            gateway_url=GatewayUrls(env),
            read_body=read_body,
            body_chunks=body_chunks,
            native_model=native_model,
            rate_limit=RateLimiter(env),
            log_line=js.console.log,
            runtime={"python": platform.python_version(), "pyodide": pyodide.__version__},
        )
        _services = Services(Discovery.from_file(), settings, ports)
    return _services


def _get_app(env: Any) -> App:
    global _app
    if _app is None:
        _app = App(_get_services(env))
    return _app


def to_core_request(js_request: Any) -> Request:
    # One conversion for all headers; Headers already yields lower-case names.
    headers = js.Object.fromEntries(js_request.headers).to_py()
    stream = js_request.body
    return Request(
        method=str(js_request.method),
        url=str(js_request.url),
        headers=headers,
        body=None if stream is None else UnreadBody(js_request, stream),
    )


def to_js_response(response: Response) -> Any:
    if response.upstream is not None:
        return response.upstream  # the provider's answer, body still streaming
    headers = to_js([list(h) for h in response.headers])
    init = _js_object({"status": response.status, "headers": headers})
    body = to_js(response.body) if response.body else None
    return js.Response.new(body, init)


async def handle_fetch(request: Any, env: Any, ctx: Any) -> Any:
    """Entry point for the Worker's `fetch` event."""
    js_request = getattr(request, "js_object", request)

    def defer(work: Awaitable[None]) -> None:
        ctx.waitUntil(asyncio.ensure_future(work))

    try:
        app = _get_app(env)
    except CompiledConfigError as exc:
        return to_js_response(render(config_error(str(exc)), Dialect.WORKER))
    return to_js_response(await app.handle(to_core_request(js_request), defer))


async def handle_scheduled(env: Any) -> str:
    """Entry point for the Worker's cron: refresh the model catalog."""
    return await _get_services(env).refresher.run()
