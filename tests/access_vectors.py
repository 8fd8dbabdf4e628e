"""Access token test vectors: one list, run against the CPython core and the real runtime.

Tokens are minted at test time from the fixed test-only keys in tests/keys/, so
`exp`, `nbf` and `iat` are relative to now. Each vector names the verdict the
proxy must give: (status, error type or "ok", reason or identity kind).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from devstack.access import SigningKey, access_claims

KEYS = Path(__file__).resolve().parent / "keys"
Verdict = tuple[int, str, str]


def load_keys() -> dict[str, SigningKey]:
    return {
        "access-1": SigningKey.from_pem(KEYS / "access-1.pem"),
        "access-2": SigningKey.from_pem(KEYS / "access-2.pem"),
        "stranger": SigningKey.from_pem(KEYS / "stranger.pem"),
    }


@dataclass(frozen=True)
class Vector:
    name: str
    headers: dict[str, str]
    expect: Verdict


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, object], claims: dict[str, object]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


def build(issuer: str, audience: str, keys: dict[str, SigningKey]) -> list[Vector]:
    """The vectors for a team at `issuer`, where only `access-1` is published."""
    key, stranger = keys["access-1"], keys["stranger"]

    def claims(**changes: Any) -> dict[str, Any]:
        return access_claims(issuer, audience, **changes)

    valid = key.sign(claims())
    now = int(time.time())
    ok: Verdict = (200, "ok", "user")
    bad = "invalid_token"

    def token(name: str, value: str, expect: Verdict) -> Vector:
        return Vector(name, {"cf-access-token": value}, expect)

    head, body, signature = valid.split(".")
    tampered_claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    tampered_claims["email"] = "someone-else@example.com"
    tampered = f"{head}.{_b64(json.dumps(tampered_claims).encode())}.{signature}"
    hs_input = _unsigned({"alg": "HS256", "kid": key.kid, "typ": "JWT"}, claims())
    hs256 = hmac.new(key.public_pem(), hs_input.encode(), hashlib.sha256).digest()
    impostor = jwt.encode(
        claims(), stranger.private_key, algorithm="RS256", headers={"kid": key.kid}
    )
    no_kid = jwt.encode(claims(), key.private_key, algorithm="RS256")
    no_exp = {k: v for k, v in claims().items() if k != "exp"}

    def raw(**times: str) -> str:
        """Signed claims whose time values are written as given (JSON's own spelling)."""
        text = json.dumps(claims())
        for name, literal in times.items():
            text = text.replace(f'"{name}": {claims()[name]}', f'"{name}": {literal}')
            assert literal in text, name
        return jwt.PyJWS().encode(
            text.encode(), key.private_key, algorithm="RS256", headers={"kid": key.kid}
        )

    month = 31 * 24 * 3600

    def nested(levels: int) -> Any:
        """A claim value that nests `levels` lists deep."""
        value: Any = "x"
        for _ in range(levels):
            value = [value]
        return value

    deep_header = _b64(b"[" * 3000 + b"]" * 3000)
    utf16_header = _b64(json.dumps({"alg": "RS256", "kid": key.kid}).encode("utf-16"))

    return [
        token("valid", valid, ok),
        token("aud as a string", key.sign(claims(aud=audience)), ok),
        token("aud list with other apps", key.sign(claims(aud=["other", audience])), ok),
        token("upper-case email", key.sign(claims(email="  Engineer@EXAMPLE.com ")), ok),
        Vector("cf-access-jwt-assertion", {"cf-access-jwt-assertion": valid}, ok),
        Vector("authorization bearer", {"authorization": f"Bearer {valid}"}, ok),
        Vector("bearer lower-case, odd spacing", {"authorization": f"bearer  \t{valid}"}, ok),
        Vector(
            "assertion wins over cf-access-token",
            {"cf-access-jwt-assertion": valid, "cf-access-token": "garbage"},
            ok,
        ),
        Vector(
            "assertion wins even when bad",
            {"cf-access-jwt-assertion": "garbage", "cf-access-token": valid},
            (401, bad, "malformed"),
        ),
        Vector(
            "cf-access-token wins over bearer",
            {"cf-access-token": valid, "authorization": "Bearer garbage"},
            ok,
        ),
        Vector("CF_Authorization cookie", {"cookie": f"a=1; CF_Authorization={valid}; b=2"}, ok),
        Vector(
            "a header wins over the cookie",
            {"cf-access-token": "garbage", "cookie": f"CF_Authorization={valid}"},
            (401, bad, "malformed"),
        ),
        Vector(
            "another cookie is not a token",
            {"cookie": f"CF_Authorization_other={valid}"},
            (401, "missing_token", "missing"),
        ),
        Vector("no token", {}, (401, "missing_token", "missing")),
        Vector("empty header", {"cf-access-token": ""}, (401, "missing_token", "missing")),
        Vector(
            "basic auth is not a token",
            {"authorization": "Basic dXNlcjpwYXNz"},
            (401, "missing_token", "missing"),
        ),
        token(
            "expired",
            key.sign(claims(exp=now - 3600, iat=now - 7200, nbf=now - 7200)),
            (401, bad, "expired"),
        ),
        token("nbf in the future", key.sign(claims(nbf=now + 3600)), (401, bad, "not_yet_valid")),
        token("iat in the future", key.sign(claims(iat=now + 3600)), (401, bad, "not_yet_valid")),
        token(
            "wrong issuer",
            key.sign(claims(iss="https://evil.cloudflareaccess.com")),
            (401, bad, "issuer"),
        ),
        token(
            "wrong audience", key.sign(claims(aud=["someone-elses-app"])), (401, bad, "audience")
        ),
        token("no exp", key.sign(no_exp), (401, bad, "claims")),
        token(
            "alg none",
            _unsigned({"alg": "none", "kid": key.kid}, claims()) + ".",
            (401, bad, "algorithm"),
        ),
        token(
            "HS256 keyed with the public key", f"{hs_input}.{_b64(hs256)}", (401, bad, "algorithm")
        ),
        token("RS512", key.sign(claims(), algorithm="RS512"), (401, bad, "algorithm")),
        token("PS256", key.sign(claims(), algorithm="PS256"), (401, bad, "algorithm")),
        token("unknown kid", stranger.sign(claims()), (401, bad, "unknown_key")),
        token("no kid", no_kid, (401, bad, "unknown_key")),
        token("payload tampered after signing", tampered, (401, bad, "signature")),
        token("signature from another key", impostor, (401, bad, "signature")),
        token("truncated", valid[:-12], (401, bad, "signature")),
        token("empty signature", f"{head}.{body}.", (401, bad, "signature")),
        token("non-base64", "eyJhbGciOi!.JSUzI1NiJ9$.abc", (401, bad, "malformed")),
        token("three dots", "a.b.c.d", (401, bad, "malformed")),
        token("only dots", "...", (401, bad, "malformed")),
        token("20 KiB of garbage", "x" * 20 * 1024, (401, bad, "malformed")),
        token(
            "9 KiB of garbage, more than a cookie holds", "x" * 9 * 1024, (401, bad, "malformed")
        ),
        token("header nested 3,000 levels", f"{deep_header}.e30.c2ln", (401, bad, "malformed")),
        token(
            "unsigned payload nested 3,000 levels",
            f"{head}.{deep_header}.{signature}",
            (401, bad, "malformed"),
        ),
        token(
            "signed payload nested 17 levels",
            key.sign(claims(custom=nested(16))),
            (401, bad, "malformed"),
        ),
        token(
            "signed payload with a claim nested 8 levels", key.sign(claims(custom=nested(7))), ok
        ),
        token("header in UTF-16", f"{utf16_header}.{body}.{signature}", (401, bad, "malformed")),
        token("64 KiB of garbage", "x" * 65536, (431, "headers_too_large", "None")),
        token("exp NaN", raw(exp="NaN"), (401, bad, "malformed")),
        token("exp Infinity", raw(exp="Infinity"), (401, bad, "malformed")),
        token("exp 1e400", raw(exp="1e400"), (401, bad, "malformed")),
        token("nbf -Infinity", raw(nbf="-Infinity"), (401, bad, "malformed")),
        token("iat NaN", raw(iat="NaN"), (401, bad, "malformed")),
        token(
            "exp 3,000 years ahead", raw(exp=str(now + 3000 * 365 * 86400)), (401, bad, "lifetime")
        ),
        token(
            "lifetime longer than Access issues",
            key.sign(claims(iat=now - month, nbf=now - month, exp=now + 3600)),
            (401, bad, "lifetime"),
        ),
        token("a month-long session", key.sign(claims(lifetime=month - 60)), ok),
        token("email '@'", key.sign(claims(email="@")), (401, bad, "email")),
        token("email without a domain", key.sign(claims(email="someone@")), (401, bad, "email")),
        token(
            "email with the Kelvin sign",
            key.sign(claims(email="\u212aelvin@example.com")),
            (401, bad, "email"),
        ),
        token("email with a Unicode domain", key.sign(claims(email="user@bücher.example")), ok),
        token("no email", key.sign(claims(email=None)), (403, "forbidden", "no_email")),
        token(
            "service token",
            key.sign(claims(email=None, sub="", common_name="ci-bot.access")),
            (403, "forbidden", "service_token"),
        ),
    ]


def verdict(status: int, body: dict[str, object]) -> Verdict:
    """What a response says, in the vectors' terms."""
    if status == 200:
        return (200, "ok", str(body["kind"]))
    error = body["error"]
    assert isinstance(error, dict)
    return (status, str(error["type"]), str(error.get("reason")))
