"""Requests written byte for byte to workerd's own socket for the Worker (miniflare's
direct socket), as production's edge would pass them on: no client or entry worker
rebuilds the request line, the Host or the headers first."""

from __future__ import annotations

import http.client
import socket
from typing import NamedTuple


class RawAnswer(NamedTuple):
    status: int
    body: bytes
    headers: dict[str, str]


def raw_request(
    port: int,
    target: str,
    extra: bytes = b"",
    body: bytes | None = None,
    *,
    method: str | None = None,
    host: str = "127.0.0.1",
) -> RawAnswer:
    """Send `method target` (a POST of `body` when there is one, else a GET) with `host`
    and the header lines in `extra`; the answer read whole."""
    method = method or ("GET" if body is None else "POST")
    if body is not None:
        extra += f"content-length: {len(body)}\r\n".encode()
    head = f"{method} {target} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode() + extra + b"\r\n" + (body or b""))
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return RawAnswer(response.status, response.read(), headers)
