"""Anonymous, stable user ids, and the operator's id → person map.

The id is HMAC-SHA256 of the normalised email under a secret key, shaped as a
UUID: the same person gets the same id on every edge location with no KV read,
and the id cannot be turned back into an email without the key or the map.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Literal

from .ports import KeyValue

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is calling. `label` (email or service name) only ever goes to the user map.

    `legacy_id` is the id the previous normalisation gave this person, when it differs.
    `nonce` is the token's `identity_nonce` (it changes when Access's view of the person
    does); `claimed_groups` the groups a token claim named, when one is configured.
    """

    user_id: str
    kind: Literal["user", "service"]
    label: str
    legacy_id: str | None = None
    nonce: str | None = None
    claimed_groups: tuple[str, ...] = ()

    @property
    def email(self) -> str | None:
        return self.label if self.kind == "user" else None


class NotAnAddress(ValueError):
    """An email claim that is not an email address."""


_LOCAL_FORBIDDEN = re.compile(r"[\s@\x00-\x1f\x7f]")
_DOMAIN_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def _domain(domain: str) -> str:
    """The domain in its one ASCII form: each label IDNA-encoded and lower-cased, so the
    Unicode and `xn--` spellings of a domain are one domain."""
    labels = domain.removesuffix(".").split(".")
    try:
        ascii_labels = [label.encode("idna").decode("ascii").lower() for label in labels]
    except UnicodeError:
        raise NotAnAddress("the domain is not a valid domain name") from None
    if not all(_DOMAIN_LABEL.fullmatch(label) for label in ascii_labels):
        raise NotAnAddress("the domain is not a valid domain name")
    return ".".join(ascii_labels)


def normalise_email(email: str) -> str:
    """One spelling per address, so one person gets one id and two people never share one.

    The address is put in Unicode normal form C (composed and decomposed spellings are
    one address); the local part is lower-cased in ASCII only (folding other scripts
    would merge distinct characters), and an address holding a character Unicode
    treats as a duplicate of another (the Kelvin sign, the Ohm sign) is refused; the
    domain is IDNA-encoded and lower-cased. Raises NotAnAddress.
    """
    if any(_is_singleton(c) for c in email):
        # NFC would turn it into another character (the Kelvin sign into "K"): two
        # different addresses would become one.
        raise NotAnAddress("it contains a duplicate of another character (e.g. the Kelvin sign)")
    email = unicodedata.normalize("NFC", email.strip())
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain:
        raise NotAnAddress("it is not of the form name@domain")
    if len(local) > 64 or _LOCAL_FORBIDDEN.search(local):
        raise NotAnAddress("the part before @ is not a mailbox name")
    ascii_lower = local.translate(_ASCII_LOWER)
    return f"{ascii_lower}@{_domain(domain)}"


def _is_singleton(character: str) -> bool:
    """A character Unicode defines as canonically equal to one other character."""
    decomposition = unicodedata.decomposition(character)
    return bool(decomposition) and " " not in decomposition and not decomposition.startswith("<")


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def legacy_normalise_email(email: str) -> str:
    """The rule before 2026-11-29 (trim, then Unicode lower-case); ids made with it stay
    reachable through the user map."""
    return email.strip().lower()


def anonymous_id(key: str, subject: str) -> str:
    """A UUID-shaped (version 8) HMAC-SHA256 of `subject` under `key`."""
    digest = bytearray(hmac.new(key.encode(), subject.encode(), hashlib.sha256).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x80  # version 8: vendor-defined
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    return str(uuid.UUID(bytes=bytes(digest)))


def user_identity(
    key: str, email: str, *, nonce: str | None = None, claimed_groups: tuple[str, ...] = ()
) -> Identity:
    """The identity of the person with this address; raises NotAnAddress."""
    normalised = normalise_email(email)
    user_id = anonymous_id(key, normalised)
    legacy_id = anonymous_id(key, legacy_normalise_email(email))
    legacy = None if legacy_id == user_id else legacy_id
    return Identity(user_id, "user", normalised, legacy, nonce, claimed_groups)


def group_names(value: object) -> tuple[str, ...]:
    """Group names as Access's get-identity (`[{"id", "name", "email"}]`) or an IdP claim
    (`["name", ...]`, or one name) lists them; anything else names no group."""
    items = value if isinstance(value, list) else [value]
    names = (item.get("name") if isinstance(item, dict) else item for item in items)
    return tuple(dict.fromkeys(n.strip() for n in names if isinstance(n, str) and n.strip()))


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
            if identity.legacy_id is not None:
                # An id from before the normalisation change still finds the person.
                await self._kv.put(identity.legacy_id, f"{identity.label} (now {identity.user_id})")
        except Exception as exc:
            self._written.discard(identity.user_id)  # try again on the next request
            log.warning("could not record user id %s: %s", identity.user_id, type(exc).__name__)
