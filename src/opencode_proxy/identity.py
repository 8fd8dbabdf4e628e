"""Anonymous, stable user ids, and the operator's id → person map.

The id is HMAC-SHA256 of the normalised email under a secret key, shaped as a
UUID: the same person gets the same id on every edge location with no KV read,
and the id cannot be turned back into an email without the key or the map.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import uuid
from dataclasses import dataclass
from typing import Literal

from .ports import KeyValue

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is calling. `label` (email or service name) only ever goes to the user map."""

    user_id: str
    kind: Literal["user", "service"]
    label: str


def normalise_email(email: str) -> str:
    return email.strip().lower()


def anonymous_id(key: str, subject: str) -> str:
    """A UUID-shaped (version 8) HMAC-SHA256 of `subject` under `key`."""
    digest = bytearray(hmac.new(key.encode(), subject.encode(), hashlib.sha256).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x80  # version 8: vendor-defined
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    return str(uuid.UUID(bytes=bytes(digest)))


def user_identity(key: str, email: str) -> Identity:
    email = normalise_email(email)
    return Identity(anonymous_id(key, email), "user", email)


def service_identity(key: str, common_name: str) -> Identity:
    # A prefix keeps a service token's id apart from any email's.
    name = common_name.strip()
    return Identity(anonymous_id(key, f"service-token:{name}"), "service", f"service-token:{name}")


class UserMap:
    """Writes each id → label pair to the user-map namespace, once per isolate."""

    def __init__(self, kv: KeyValue, *, limit: int = 10_000) -> None:
        self._kv = kv
        self._limit = limit
        self._written: set[str] = set()

    def needs_write(self, identity: Identity) -> bool:
        return identity.user_id not in self._written

    async def write(self, identity: Identity) -> None:
        if len(self._written) >= self._limit:
            self._written.clear()  # bounded memory; a repeat write is harmless
        self._written.add(identity.user_id)
        try:
            await self._kv.put(identity.user_id, identity.label)
        except Exception as exc:
            self._written.discard(identity.user_id)  # try again on the next request
            log.warning("could not record user id %s: %s", identity.user_id, type(exc).__name__)
