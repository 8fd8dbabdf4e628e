"""What crosses the proxy in headers: client credentials out, gateway credentials in."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from urllib.parse import unquote_plus

# Credentials a client may send: Access tokens, cookies, provider keys.
CREDENTIALS = frozenset(
    {
        "authorization",
        "cf-access-token",
        "cf-access-jwt-assertion",
        "cf-access-client-id",
        "cf-access-client-secret",
        "cookie",
        "x-api-key",
        "x-goog-api-key",
        "api-key",
    }
)
# Hop-by-hop headers (RFC 9110 7.6.1) and ones the runtime sets for the new hop.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
# Added by Cloudflare's edge or other proxies on the way in; they carry the
# engineer's IP address and location, which the provider has no need for.
EDGE = frozenset(
    {
        "cf-connecting-ip",
        "cf-connecting-ipv6",
        "cf-ipcountry",
        "cf-ray",
        "cf-visitor",
        "cf-worker",
        "cf-ew-via",
        "cdn-loop",
        "true-client-ip",
        "x-real-ip",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "forwarded",
        "x-client-ip",
        "x-cluster-client-ip",
        "client-ip",
        "x-originating-ip",
        "x-remote-ip",
        "x-remote-addr",
        "fastly-client-ip",
    }
)
# What a browser says about the page that sent a request; a provider has no use for it.
BROWSER = frozenset({"origin", "referer"})
REMOVED = CREDENTIALS | HOP_BY_HOP | EDGE | BROWSER
# Query parameters that carry a client's key (Google AI Studio's SDKs send `key`).
QUERY_CREDENTIALS = frozenset(
    {"key", "api_key", "api-key", "apikey", "access_token", "x-goog-api-key", "token"}
)
GATEWAY_PREFIX = "cf-aig-"
# Dropped wherever they appear in a name: the gateway's own headers, browser metadata,
# and every proxy's spelling of a forwarded address (x-original-forwarded-for, ...).
_REMOVED_PARTS = (GATEWAY_PREFIX, "sec-fetch-", "forwarded")
# A name with one of these words carries a client's address (x-real-ip, true-client-ip,
# x-remote-addr, x-envoy-external-address, ...).
_ADDRESS_WORDS = frozenset({"ip", "ipv6", "addr", "address"})
METADATA_LIMIT = 5
# Where each client sends its session id: OpenCode 1.18.34+, OpenCode 1.18.33, Claude
# Code 2.1, Codex CLI 0.169. The first one present is the session in `cf-aig-metadata`.
SESSION_HEADERS = (
    "x-opencode-session-id",
    "x-session-id",
    "x-claude-code-session-id",
    "session-id",
)
_SESSION_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def gateway_metadata(entries: Mapping[str, str | int | float | bool]) -> str:
    """`cf-aig-metadata`: a flat JSON object of at most 5 scalar entries, no `cf.` keys."""
    if len(entries) > METADATA_LIMIT:
        raise ValueError(f"cf-aig-metadata takes at most {METADATA_LIMIT} entries")
    for key, value in entries.items():
        if key.startswith("cf."):
            raise ValueError(f"cf-aig-metadata key {key!r} is reserved")
        if not isinstance(value, str | int | float | bool):
            raise ValueError(f"cf-aig-metadata value for {key!r} must be a scalar")
    return json.dumps(dict(entries), separators=(",", ":"), ensure_ascii=True)


def session_of(headers: Mapping[str, str]) -> str | None:
    """The client's session id, when it sends one that looks like an id (opaque, short)."""
    for name in SESSION_HEADERS:
        value = headers.get(name, "").strip()
        if value:
            return value if _SESSION_ID.fullmatch(value) else None
    return None


def outbound_query(query: str) -> str:
    """The query string without credential parameters; the rest passes byte for byte."""
    if not query:
        return query
    kept = [
        part
        for part in query.split("&")
        if unquote_plus(part.partition("=")[0]).strip().lower() not in QUERY_CREDENTIALS
    ]
    return "&".join(kept)


def folded(name: str) -> str:
    """A header name as the strip rules compare it: lower case, `_` as `-`, so that a
    look-alike (`CF_AIG_Authorization`) is dropped with the header it imitates."""
    return name.lower().replace("_", "-")


def _dropped(name: str, named_by_connection: set[str]) -> bool:
    name = folded(name)
    return (
        name in REMOVED
        or name in named_by_connection
        or any(part in name for part in _REMOVED_PARTS)
        or not _ADDRESS_WORDS.isdisjoint(name.split("-"))
    )


def outbound_headers(
    incoming: Mapping[str, str], *, gateway_token: str, metadata: str
) -> list[tuple[str, str]]:
    """The client's headers minus credentials and hop-by-hop ones, plus the gateway's."""
    named_by_connection = {
        folded(name.strip()) for name in incoming.get("connection", "").split(",")
    }
    kept = [
        (name, value)
        for name, value in incoming.items()
        if not _dropped(name, named_by_connection) and "\r" not in value and "\n" not in value
    ]
    kept.append(("cf-aig-authorization", f"Bearer {gateway_token}"))
    kept.append(("cf-aig-metadata", metadata))
    return kept
