"""The core's view of HTTP: a request, a response, and how bodies are built."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

from .origins import canonical_origin
from .refusal import Refusal

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Request:
    """An incoming request. Header names are lower-case; `body` is the runtime's stream.

    The URL is split once, here: path, query and origin are read on every request.
    `origin` is empty when the URL's host is not a valid one (limits.check refuses it).
    """

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: object | None = None
    path: str = field(init=False)
    query: str = field(init=False)
    origin: str = field(init=False)

    def __post_init__(self) -> None:
        try:
            parts = urlsplit(self.url)
        except ValueError:  # a bracketed host that is no IPv6 address
            parts = urlsplit("/")
        object.__setattr__(self, "path", parts.path or "/")
        object.__setattr__(self, "query", parts.query)
        # Scheme and host[:port] as the client reached the Worker.
        object.__setattr__(self, "origin", canonical_origin(parts.scheme, parts.netloc) or "")

    def with_body(self, body: object) -> Request:
        """The same request carrying `body`; the URL is not split again (and, unlike
        `copy.copy`, no state is pickled: it is on every proxied request)."""
        changed = object.__new__(Request)
        for name in _REQUEST_FIELDS:
            object.__setattr__(changed, name, getattr(self, name))
        object.__setattr__(changed, "body", body)
        return changed


_REQUEST_FIELDS = tuple(f.name for f in fields(Request) if f.name != "body")


@dataclass(frozen=True, slots=True)
class Response:
    """An outgoing response: a built body, or a provider's answer passed on untouched.

    When `upstream` is set it is the runtime's response object, returned as it is
    (status, headers and the streaming body), and `headers`/`body` are unused.
    """

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    upstream: object | None = None

    def without_body(self) -> Response:
        """The same response for a HEAD request: every header kept, no bytes sent."""
        if self.upstream is not None:
            return self  # the runtime already sends no body for HEAD upstream answers
        return Response(self.status, self.headers, b"")


def json_response(
    status: int,
    payload: Any,
    *,
    cache_control: str = "no-store",
    headers: tuple[tuple[str, str], ...] = (),
) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return bytes_response(status, body, cache_control=cache_control, headers=headers)


def bytes_response(
    status: int,
    body: bytes,
    *,
    cache_control: str,
    content_type: str = JSON_CONTENT_TYPE,
    headers: tuple[tuple[str, str], ...] = (),
) -> Response:
    return Response(
        status,
        (
            ("content-type", content_type),
            ("content-length", str(len(body))),
            ("cache-control", cache_control),
            *headers,
        ),
        body,
    )


def method_not_allowed(method: str, path: str, allowed: frozenset[str] | set[str]) -> Refusal:
    """405 with `allow`: `method` is not one of `allowed` at `path`."""
    names = ", ".join(sorted(allowed))
    return Refusal(
        405,
        "method_not_allowed",
        f"{method} is not supported on {path}; use {names}.",
        headers=(("allow", names),),
    )


def refuse_method(request: Request, allowed: frozenset[str]) -> None:
    """Raise 405 when the request's method is not one of `allowed`."""
    method = request.method.upper()
    if method not in allowed:
        raise method_not_allowed(method, request.path, allowed)
