"""Which config-src groups a caller is in: from their address, and from their Access
groups, which come from a token claim or from Access's get-identity.

get-identity is asked with the caller's own token, at most once per request, and
its answer is kept per person and `identity_nonce` (which changes when Access's
view of the person does) in memory and in KV. When the groups cannot be learned,
the caller is in the groups their address puts them in, and a log line says why;
a request is never refused for it.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable
from dataclasses import dataclass

from .access import ACCESS_COOKIE
from .bounded_json import load_document
from .groups import Groups
from .identity import Identity, NotAnAddress, group_names, normalise_email
from .ports import Clock, Defer, HttpGet, KeyValue, LogLine

log = logging.getLogger(__name__)

GET_IDENTITY_PATH = "/cdn-cgi/access/get-identity"
TIMEOUT_SECONDS = 5.0
# An identity nonce outlives no session; a day bounds what KV keeps.
KEEP_SECONDS = 24 * 3600
# After a failed lookup, how long a person waits for the next one (not every request).
RETRY_SECONDS = 60
KV_PREFIX = "groups:v1:"


@dataclass(frozen=True, slots=True)
class GroupSource:
    """Where Access groups come from: get-identity at `team`, or the token claim `claim`
    (the verifier reads it into `Identity.claimed_groups`)."""

    team: str
    claim: str | None = None


class Membership:
    def __init__(
        self,
        groups: Groups,
        source: GroupSource,
        *,
        http_get: HttpGet,
        kv: KeyValue,
        clock: Clock,
        log_line: LogLine,
        cache_size: int = 4096,
    ) -> None:
        self.groups = groups
        self.source = source
        self._http_get = http_get
        self._kv = kv
        self._clock = clock
        self._log_line = log_line
        self._cache_size = cache_size
        self._known: OrderedDict[str, tuple[float, tuple[str, ...]]] = OrderedDict()

    async def groups_of(self, identity: Identity, token: str, defer: Defer) -> tuple[str, ...]:
        """The config-src groups of the caller, in name order."""
        if not self.groups.groups or identity.kind != "user":
            return ()
        access: tuple[str, ...] = ()
        if self.groups.need_access_groups:
            access = await self._access_groups(identity, token, defer)
        return self.groups.of(identity.email, access)

    async def _access_groups(self, identity: Identity, token: str, defer: Defer) -> tuple[str, ...]:
        if self.source.claim is not None:
            return identity.claimed_groups
        key = f"{KV_PREFIX}{identity.user_id}:{identity.nonce or ''}"
        known = self._known.get(key)
        if known is not None and self._clock() < known[0]:
            return known[1]
        stored = await self._stored(key)
        if stored is not None:
            return self._remember(key, stored, KEEP_SECONDS)
        found = await self._ask(identity, token)
        if isinstance(found, str):
            self._log_line(
                json.dumps(
                    {"event": "groups_unavailable", "reason": found, "userId": identity.user_id},
                    separators=(",", ":"),
                )
            )
            return self._remember(key, (), RETRY_SECONDS)
        defer(self._store(key, found))
        return self._remember(key, found, KEEP_SECONDS)

    def _remember(self, key: str, groups: tuple[str, ...], seconds: float) -> tuple[str, ...]:
        self._known[key] = (self._clock() + seconds, groups)
        self._known.move_to_end(key)
        if len(self._known) > self._cache_size:
            self._known.popitem(last=False)
        return groups

    async def _stored(self, key: str) -> tuple[str, ...] | None:
        try:
            text = await self._kv.get(key)
            return None if text is None else group_names(load_document(text))
        except Exception as exc:  # a KV hiccup costs a lookup, never the request
            log.warning("could not read cached groups: %s", type(exc).__name__)
            return None

    def _store(self, key: str, groups: tuple[str, ...]) -> Awaitable[None]:
        async def store() -> None:
            try:
                await self._kv.put(key, json.dumps(list(groups)), ttl_seconds=KEEP_SECONDS)
            except Exception as exc:
                log.warning("could not cache groups: %s", type(exc).__name__)

        return store()

    async def _ask(self, identity: Identity, token: str) -> tuple[str, ...] | str:
        """The caller's Access groups from get-identity, or why they could not be had."""
        url = self.source.team + GET_IDENTITY_PATH
        try:
            answer = await self._http_get(
                url, {"cookie": f"{ACCESS_COOKIE}={token}"}, timeout=TIMEOUT_SECONDS
            )
        except OSError:
            return "get-identity could not be reached"
        if answer.status != 200:
            return f"get-identity answered {answer.status}"
        try:
            document = load_document(answer.text)
        except ValueError:
            return "get-identity did not answer JSON"
        if not isinstance(document, dict):
            return "get-identity did not answer an identity"
        if _address(document.get("email")) != identity.email:
            return "get-identity named another person"
        return group_names(document.get("groups", []))


def _address(value: object) -> str | None:
    try:
        return normalise_email(value) if isinstance(value, str) else None
    except NotAnAddress:
        return None
