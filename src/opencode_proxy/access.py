"""Cloudflare Access authentication: find the token, verify it, name the caller.

PyJWT decodes the token and validates its claims; the RS256 signature check
goes through the `Rs256` port (WebCrypto in the Worker). Only RS256 is
accepted, the `kid` must be one Access publishes, `iss` must be the team,
`aud` must contain the application's AUD tag.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from . import bounded_json
from .bounded_json import TOKEN_DEPTH, TooDeep
from .identity import Identity, NotAnAddress, group_names, service_identity, user_identity
from .keys import KeySet
from .ports import Clock, Rs256
from .refusal import Refusal

# Header names in the order they are looked at.
TOKEN_HEADERS = ("cf-access-jwt-assertion", "cf-access-token")
ACCESS_COOKIE = "CF_Authorization"
CERTS_PATH = "/cdn-cgi/access/certs"
# Access hands browsers the token as the CF_Authorization cookie, and browsers keep
# cookies of at most 4 KiB (RFC 6265 6.1): no real token is larger than 8 KiB.
MAX_TOKEN_BYTES = 8 * 1024
LEEWAY_SECONDS = 30
# The longest session an Access application can grant (one month).
MAX_LIFETIME_SECONDS = 31 * 24 * 3600
# Beyond any real time: larger numbers lose precision as floats.
MAX_TIME = 2**52
_BEARER = re.compile(r"bearer[ \t]+(\S+)[ \t]*", re.IGNORECASE)
_BEARER_SCHEME = re.compile(r"bearer\b", re.IGNORECASE)
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


_CHALLENGE = 'Bearer realm="opencode-proxy"'


def unauthorized(error_type: str, reason: str, message: str) -> Refusal:
    """A 401 with its Bearer challenge; the message never contains the token."""
    challenge = _CHALLENGE + (', error="invalid_token"' if error_type == "invalid_token" else "")
    return Refusal(
        401, error_type, message, reason=reason, headers=(("www-authenticate", challenge),)
    )


def _invalid(reason: str, message: str) -> Refusal:
    return unauthorized("invalid_token", reason, message)


def extract_token(
    headers: Mapping[str, str], *, cookies: bool, key_header: str | None = None
) -> str | None:
    """The Access token from the first header that carries one, then from `key_header`
    (where the route's API clients put their key), then (when `cookies`) from the
    `CF_Authorization` cookie Access sets in browsers; None when there is none."""
    for name in TOKEN_HEADERS:
        value = headers.get(name, "").strip()
        if value:
            return value
    match = _BEARER.fullmatch(headers.get("authorization", "").strip())
    if match:
        return match.group(1)
    key = headers.get(key_header, "").strip() if key_header else ""
    if key:
        return key
    for pair in headers.get("cookie", "").split(";") if cookies else ():
        name, _, value = pair.strip().partition("=")
        if name == ACCESS_COOKIE and value.strip():
            return value.strip()
    return None


def token_sent(headers: Mapping[str, str]) -> bool:
    """Whether the request carries a token header at all, even an empty one (a sign-in
    command that printed nothing)."""
    return any(name in headers for name in TOKEN_HEADERS) or bool(
        _BEARER_SCHEME.match(headers.get("authorization", "").strip())
    )


def _b64decode(segment: str) -> bytes:
    if not _B64URL.fullmatch(segment):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """What a valid token must say."""

    issuer: str
    audience: str
    user_id_key: str
    allow_service_tokens: bool = False
    # The token claim that lists the caller's groups (GROUPS_FROM = "claim:<name>").
    groups_claim: str | None = None


class AccessVerifier:
    """Verifies Access tokens and remembers each verified one until it expires."""

    def __init__(
        self,
        policy: AccessPolicy,
        keys: KeySet,
        *,
        clock: Clock,
        rs256: Rs256,
        cache_size: int = 4096,
    ) -> None:
        self.policy = policy
        self.keys = keys
        self._clock = clock
        self._rs256 = rs256
        self._cache_size = cache_size
        # Keyed by the whole token string: only the identical token can hit an entry.
        self._cache: OrderedDict[str, tuple[float, Identity]] = OrderedDict()

    async def identify(self, token: str) -> Identity:
        """The caller's identity; raises a Refusal saying in words what is wrong."""
        if len(token) > MAX_TOKEN_BYTES:
            raise _invalid("malformed", "The token is too large to be an Access token.")
        cached = self._cache.get(token)
        if cached is not None:
            expires, identity = cached
            if self._clock() < expires + LEEWAY_SECONDS:
                self._cache.move_to_end(token)
                return identity
            del self._cache[token]
        claims = await self._verify(token)
        identity = self._identity(claims)
        self._cache[token] = (float(claims["exp"]), identity)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return identity

    async def _verify(self, token: str) -> dict[str, Any]:
        segments = token.split(".")
        if len(segments) != 3 or not segments[0] or not segments[1]:
            raise _invalid("malformed", "The token is not a well-formed JWT.")
        try:
            header = bounded_json.loads(_b64decode(segments[0]), max_depth=TOKEN_DEPTH)
            # PyJWT parses the payload once the signature holds: bounded here, first.
            if not bounded_json.nesting_within(_b64decode(segments[1]), TOKEN_DEPTH):
                raise TooDeep
            signature = _b64decode(segments[2])
        except (ValueError, binascii.Error):
            raise _invalid("malformed", "The token is not a well-formed JWT.") from None
        if not isinstance(header, dict):
            raise _invalid("malformed", "The token is not a well-formed JWT.")
        if header.get("alg") != "RS256":
            raise _invalid(
                "algorithm", "The token is not signed with RS256, the only accepted algorithm."
            )
        kid = header.get("kid")
        key = await self.keys.get(kid) if isinstance(kid, str) and kid else None
        if key is None:
            raise _invalid(
                "unknown_key", "The token is signed by a key this Access team does not publish."
            )
        signing_input = f"{segments[0]}.{segments[1]}".encode("ascii")
        if not await self._rs256.verify(key, signing_input, signature):
            raise _invalid("signature", "The token's signature does not match its contents.")
        return self._claims(token)

    def _claims(self, token: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                options={
                    # The signature was checked above through the Rs256 port, and the
                    # times are checked below against the injected clock.
                    "verify_signature": False,
                    "verify_aud": True,
                    "verify_iss": True,
                    "require": ["exp", "iat", "iss", "aud"],
                },
                audience=self.policy.audience,
                issuer=self.policy.issuer,
                leeway=LEEWAY_SECONDS,
            )
        except jwt.InvalidAudienceError:
            raise _invalid("audience", "The token is for a different Access application.") from None
        except jwt.InvalidIssuerError:
            raise _invalid("issuer", "The token was issued by a different Access team.") from None
        except jwt.MissingRequiredClaimError as exc:
            raise _invalid("claims", f"The token has no {exc.claim!r} claim.") from None
        except jwt.InvalidTokenError:
            raise _invalid("claims", "The token's claims are not valid.") from None
        self._check_times(claims)
        return claims

    def _check_times(self, claims: Mapping[str, Any]) -> None:
        times: dict[str, float] = {}
        for name in ("exp", "nbf", "iat"):
            value = claims.get(name)
            if value is None:
                continue
            # NaN, infinities and overflowing numbers compare false with everything,
            # so a token carrying one would never expire.
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _invalid("malformed", f"The token's {name!r} claim is not a number.")
            if not math.isfinite(value) or abs(value) > MAX_TIME:
                raise _invalid("malformed", f"The token's {name!r} claim is not a usable time.")
            times[name] = float(value)
        now = self._clock()
        if now > times["exp"] + LEEWAY_SECONDS:
            raise _invalid("expired", "The token has expired.")
        for name in ("nbf", "iat"):
            if name in times and times[name] > now + LEEWAY_SECONDS:
                raise _invalid("not_yet_valid", "The token is not valid yet (check the clock).")
        if times["exp"] - times["iat"] > MAX_LIFETIME_SECONDS or times["exp"] > now + (
            MAX_LIFETIME_SECONDS + LEEWAY_SECONDS
        ):
            raise _invalid("lifetime", "The token lives longer than Access can issue one for.")

    def _identity(self, claims: Mapping[str, Any]) -> Identity:
        email = claims.get("email")
        if isinstance(email, str) and email.strip():
            nonce = claims.get("identity_nonce")
            claim = self.policy.groups_claim
            try:
                return user_identity(
                    self.policy.user_id_key,
                    email,
                    nonce=nonce if isinstance(nonce, str) and nonce else None,
                    claimed_groups=group_names(claims.get(claim)) if claim else (),
                )
            except NotAnAddress as exc:
                raise _invalid("email", f"The token's email is not an address: {exc}.") from None
        common_name = claims.get("common_name")
        if isinstance(common_name, str) and common_name.strip():
            if self.policy.allow_service_tokens:
                return service_identity(self.policy.user_id_key, common_name)
            raise Refusal(
                403,
                "forbidden",
                "Service tokens are not allowed here; sign in as a person.",
                reason="service_token",
            )
        raise Refusal(
            403, "forbidden", "The token does not name a person (no email).", reason="no_email"
        )
