"""What a request may be before any route looks at it.

Checked first, on every route: nothing is forwarded, read or verified for a
request refused here.
"""

from __future__ import annotations

from .http import Request
from .refusal import Refusal

# Request headers, all names and values together. Provider SDKs and coding agents
# send a few KiB; Cloudflare's edge itself stops at 128 KiB.
MAX_HEADER_BYTES = 32 * 1024
MAX_HEADERS = 100


def check(request: Request) -> None:
    """Raise the refusal of a request no route should see."""
    if not request.origin:
        raise Refusal(
            400,
            "bad_host",
            "The Host header is not a host name or IP address (with an optional port).",
        )
    headers = request.headers
    size = sum(len(name) + len(value) for name, value in headers.items())
    if size > MAX_HEADER_BYTES or len(headers) > MAX_HEADERS:
        raise Refusal(
            431,
            "headers_too_large",
            f"Request headers are limited to {MAX_HEADER_BYTES // 1024} KiB and "
            f"{MAX_HEADERS} headers; this request sent {size} bytes in {len(headers)}.",
        )
    if "websocket" in headers.get("upgrade", "").lower():
        # A half-done upgrade would reach the provider with its body lost.
        raise Refusal(
            400,
            "websocket_unsupported",
            "WebSocket connections are not proxied; use the provider's HTTP API "
            "(streamed answers arrive as server-sent events).",
        )
