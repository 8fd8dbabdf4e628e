"""One validated origin: a scheme, a host name or IP literal, and an optional port.

The origin is written into commands people paste into a shell and into the
setup files clients read, so nothing else may pass as one: a Host header such as
`evil.example$(id)` is refused before any route sees the request.
"""

from __future__ import annotations

import ipaddress
import re

SCHEMES = frozenset({"http", "https"})
# RFC 1123 labels: letters, digits and inner hyphens; 253 characters in all.
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_PORT = re.compile(r"[0-9]{1,5}")


def _host(text: str) -> str | None:
    host = text.lower()
    if host.startswith("[") and host.endswith("]"):
        try:
            return f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]"
        except ValueError:
            return None
    return host if len(host) <= 253 and _HOSTNAME.fullmatch(host) else None


def canonical_origin(scheme: str, netloc: str) -> str | None:
    """`scheme://host[:port]` in lower case, or None when the parts are not an origin
    (user info, an unknown scheme, a host that is not a name or an IP literal, a port
    out of range)."""
    scheme = scheme.lower()
    if scheme not in SCHEMES:
        return None
    host_text, port = netloc, ""
    if not netloc.endswith("]") and ":" in netloc:
        host_text, _, port = netloc.rpartition(":")
        if not _PORT.fullmatch(port) or not 0 < int(port) < 65536:
            return None
    host = _host(host_text)
    if host is None:
        return None
    return f"{scheme}://{host}" + (f":{port}" if port else "")
