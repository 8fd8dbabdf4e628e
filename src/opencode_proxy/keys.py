"""Cloudflare Access signing keys: fetched from the certs endpoint, cached, refreshed safely.

Keys live in the isolate and in KV, so a new isolate starts without a network
call. A token with an unknown `kid` may trigger one refetch (key rotation), but
never more than one per `refetch_interval`, and requests that arrive meanwhile go
on with the keys already known, so a flood of made-up `kid`s cannot hammer the
certs endpoint. A certs endpoint that is down or returns junk never replaces keys
that still work.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from .bounded_json import load_document
from .ports import Clock, HttpGet, KeyValue, Rs256

log = logging.getLogger(__name__)

# Keyed by the certs URL, so keys of a previous team domain are never reused.
KV_PREFIX = "access:certs:"
MAX_AGE_SECONDS = 3600.0
REFETCH_INTERVAL_SECONDS = 10.0
# A sign-in waits on this fetch only when no key is known yet.
CERTS_TIMEOUT_SECONDS = 10.0


class KeysUnavailable(Exception):
    """No signing key is known and the certs endpoint cannot be read."""


@dataclass(frozen=True, slots=True)
class _Loaded:
    keys: Mapping[str, object]
    fetched_at: float


def parse_certs(text: str) -> dict[str, dict[str, str]]:
    """The usable RS256 public keys of a certs document, by `kid`; junk gives `{}`."""
    try:
        return keys_of(load_document(text))
    except ValueError:
        return {}


def keys_of(document: object) -> dict[str, dict[str, str]]:
    """The usable RS256 public keys of a parsed certs document, by `kid`."""
    entries = document.get("keys") if isinstance(document, dict) else None
    keys: dict[str, dict[str, str]] = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        kid, n, e = entry.get("kid"), entry.get("n"), entry.get("e")
        if (
            entry.get("kty") == "RSA"
            and entry.get("alg", "RS256") == "RS256"
            and entry.get("use", "sig") == "sig"
            and all(isinstance(v, str) and v for v in (kid, n, e))
        ):
            keys[str(kid)] = {"kty": "RSA", "n": str(n), "e": str(e), "alg": "RS256"}
    return keys


class KeySet:
    """The Access team's public keys, by `kid`."""

    def __init__(
        self,
        certs_url: str,
        *,
        http_get: HttpGet,
        kv: KeyValue,
        rs256: Rs256,
        clock: Clock,
        max_age: float = MAX_AGE_SECONDS,
        refetch_interval: float = REFETCH_INTERVAL_SECONDS,
    ) -> None:
        self.certs_url = certs_url
        self._kv_key = KV_PREFIX + certs_url
        self._http_get = http_get
        self._kv = kv
        self._rs256 = rs256
        self._clock = clock
        self.max_age = max_age
        self.refetch_interval = refetch_interval
        self._loaded: _Loaded | None = None
        self._kv_checked = False
        self._last_fetch = float("-inf")
        self._fetching = False

    async def get(self, kid: str) -> object | None:
        """The imported key for `kid`, or None if Access does not publish it."""
        if self._loaded is None and not self._kv_checked:
            await self._load_from_kv()
        loaded = self._loaded
        now = self._clock()
        stale = loaded is None or now - loaded.fetched_at > self.max_age
        if loaded is not None and kid in loaded.keys and not stale:
            return loaded.keys[kid]
        # Unknown kid, stale keys or no keys: at most one fetch per interval.
        if now - self._last_fetch >= self.refetch_interval:
            await self._refetch()
        if self._loaded is None:
            raise KeysUnavailable(f"cannot read Access signing keys from {self.certs_url}")
        return self._loaded.keys.get(kid)

    async def _refetch(self) -> None:
        """Fetch the keys in this request, unless another request is already refreshing
        keys that still serve. A request never awaits another request's fetch: in
        workerd it would then go on inside that request's I/O context, and its own
        I/O there is refused ("Cannot perform I/O on behalf of a different request")."""
        if self._fetching and self._loaded is not None:
            return
        self._fetching = True
        try:
            await self._fetch()
        finally:
            self._fetching = False

    async def _fetch(self) -> None:
        # The first successful load is not a refetch: a new key can be picked up at once.
        had_keys, started = self._loaded is not None, self._clock()
        if not await self._fetch_once() or had_keys:
            self._last_fetch = started

    async def _fetch_once(self) -> bool:
        try:
            answer = await self._http_get(
                self.certs_url, {"accept": "application/json"}, timeout=CERTS_TIMEOUT_SECONDS
            )
        except OSError as exc:
            log.warning("access certs unreachable: %s", exc)
            return False
        jwks = parse_certs(answer.text) if answer.status == 200 else {}
        if not jwks:
            log.warning("access certs unusable (status %s); keeping cached keys", answer.status)
            return False
        keys = await self._import(jwks)
        if not keys:
            return False
        self._loaded = _Loaded(keys, self._clock())
        try:
            stored = [{"kid": kid, **jwk} for kid, jwk in jwks.items()]
            await self._kv.put(
                self._kv_key, json.dumps({"fetched_at": self._loaded.fetched_at, "keys": stored})
            )
        except Exception as exc:  # the keys work without the KV copy
            log.warning("could not cache access keys in KV: %s", type(exc).__name__)
        return True

    async def _load_from_kv(self) -> None:
        self._kv_checked = True
        try:
            raw = await self._kv.get(self._kv_key)
        except Exception as exc:  # KV trouble only costs a fetch
            log.warning("could not read cached access keys from KV: %s", type(exc).__name__)
            return
        if raw is None:
            return
        try:
            stored = load_document(raw)
            fetched_at = float(stored["fetched_at"])
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring unreadable cached access keys")
            return
        keys = await self._import(keys_of(stored))
        if keys:
            self._loaded = _Loaded(keys, fetched_at)

    async def _import(self, jwks: Mapping[str, Mapping[str, str]]) -> dict[str, object]:
        keys: dict[str, object] = {}
        for kid, jwk in jwks.items():
            try:
                keys[kid] = await self._rs256.load_key(jwk)
            except ValueError:
                log.warning("skipping unusable access key %s", kid[:64])
        return keys
