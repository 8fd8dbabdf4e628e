"""The adapter's body ports: a request body read once into the runtime, copied into
Python a chunk at a time, and parsed by the runtime's own JSON parser."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import js
from pyodide.ffi import JsException, JsProxy

from opencode_proxy.ports import BodyRead, BodyTooLarge


@dataclass(frozen=True, slots=True)
class UnreadBody:
    """The core's handle on a request body not yet read: the runtime's request, whose
    own `arrayBuffer()` reads it, and its stream, forwarded as it is when it never is."""

    request: Any
    stream: Any


async def read_body(body: object, limit: int) -> BodyRead:
    """The `ReadBody` port: the body read once into an ArrayBuffer, forwarded as it is.
    The request's own `arrayBuffer()` costs less than wrapping its stream in a Response."""
    if not isinstance(body, UnreadBody):
        raise TypeError(f"read_body reads the body to_core_request made, not {type(body)}")
    try:
        buffer = await body.request.arrayBuffer()
    except JsException as exc:
        raise OSError(f"reading the request body failed: {exc}") from None
    size = int(buffer.byteLength)
    if size > limit:
        raise BodyTooLarge(str(size))
    return BodyRead(buffer, size)


def body_chunks(payload: object, size: int) -> Iterator[bytes]:
    """The `BodyChunks` port: views of the buffer, each copied into Python bytes only when
    its turn comes (copying costs far less than decoding to a str)."""
    assert isinstance(payload, JsProxy)
    octets = js.Uint8Array.new(payload)
    length = int(octets.length)
    for start in range(0, length, size):
        yield bytes(octets.subarray(start, min(start + size, length)).to_bytes())


async def native_model(payload: object) -> str | None:
    """The `NativeModel` port: `Response.json()` parses the bytes natively, and only the
    model string crosses into Python. (A `then` called from Python would bring each
    step's value across: the whole text of the body.)"""
    try:
        parsed = await js.Response.new(payload).json()
    except JsException:
        return None
    model = getattr(parsed, "model", None) if isinstance(parsed, JsProxy) else None
    return model if isinstance(model, str) else None
