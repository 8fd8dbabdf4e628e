"""A local stand-in for Cloudflare Access: signing keys, a certs endpoint, get-identity,
token minting.

Used by the tests and the local dev stack, never deployed. The certs endpoint
serves `/cdn-cgi/access/certs` on 127.0.0.1 like a real team domain does, counts
its requests, and can be told to fail, so key rotation and outages can be tested;
`/cdn-cgi/access/get-identity` answers a valid token's identity with the groups set
for its email.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from devstack.server import LocalHttpServer, QuietHandler
from opencode_proxy.access import ACCESS_COOKIE, CERTS_PATH
from opencode_proxy.membership import GET_IDENTITY_PATH

# The team's login page for an application's host: /cdn-cgi/access/login/<host>.
LOGIN_PATH = "/cdn-cgi/access/login/"


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass(frozen=True)
class SigningKey:
    """An RSA key pair with the `kid` Access would publish it under."""

    kid: str
    private_key: rsa.RSAPrivateKey

    @classmethod
    def generate(cls, kid: str | None = None) -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(kid or uuid.uuid4().hex, key)

    @classmethod
    def from_pem(cls, path: Path, kid: str | None = None) -> SigningKey:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"{path} is not an RSA private key")
        return cls(kid or path.stem, key)

    def jwk(self) -> dict[str, str]:
        numbers = self.private_key.public_key().public_numbers()
        return {
            "kid": self.kid,
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "e": _b64url_uint(numbers.e),
            "n": _b64url_uint(numbers.n),
        }

    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, claims: dict[str, Any], *, algorithm: str = "RS256") -> str:
        return jwt.encode(claims, self.private_key, algorithm=algorithm, headers={"kid": self.kid})


def access_claims(
    issuer: str,
    audience: str,
    *,
    email: str | None = "engineer@example.com",
    lifetime: int = 3600,
    **extra: Any,
) -> dict[str, Any]:
    """Claims shaped like a real Access token for a person (aud as a list)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "aud": [audience],
        "iss": issuer,
        "sub": str(uuid.uuid4()),
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "type": "app",
        "identity_nonce": uuid.uuid4().hex,
        "country": "PT",
    }
    if email is not None:
        claims["email"] = email
    claims.update(extra)
    return claims


@dataclass
class LocalAccess(LocalHttpServer):
    """The certs endpoint of a pretend Access team at http://127.0.0.1:<port>.

    Unstarted, it stands for a team at `team_origin` (for in-process tests).
    """

    published: list[SigningKey] = field(default_factory=list)
    team_origin: str = "https://team.cloudflareaccess.com"
    # None serves the keys; an int answers with that status; "junk" serves garbage.
    failure: int | str | None = None
    # Seconds the certs endpoint takes to answer, to hold sign-ins of a cold isolate open.
    certs_delay: float = 0.0
    certs_requests: int = 0
    last_request_at: float = float("-inf")  # time.monotonic() of the last certs request
    # get-identity: each person's IdP groups, by email; how often it was asked; and a
    # status (or "junk", or "down" for the in-process fetch) to fail with instead.
    groups: dict[str, list[str]] = field(default_factory=dict)
    identity_requests: int = 0
    identity_failure: int | str | None = None
    # Who the team's login page signs in at once, as an IdP with a live session would
    # (the local stack's dev identity); None shows a sign-in page that goes no further.
    login_email: str | None = None

    @property
    def origin(self) -> str:
        """The team's origin, the tokens' issuer."""
        return super().origin if self._server is not None else self.team_origin

    def certs_document(self) -> dict[str, Any]:
        return {"keys": [key.jwk() for key in self.published]}

    def identity_answer(self, cookie: str) -> tuple[int, bytes]:
        """What get-identity answers the `Cookie` header `cookie`: the identity of the
        person whose valid token it carries (as Access shapes it, groups as objects), or
        a 401 like Access's when the token is missing, forged or expired."""
        self.identity_requests += 1
        if self.identity_failure == "junk":
            return 200, b"<html>sign in</html>"
        if isinstance(self.identity_failure, int):
            return self.identity_failure, b"{}"
        token = next(
            (
                v
                for n, _, v in (p.strip().partition("=") for p in cookie.split(";"))
                if n == ACCESS_COOKIE
            ),
            "",
        )
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = next(k for k in self.published if k.kid == kid)
            claims = jwt.decode(
                token,
                key.private_key.public_key(),
                algorithms=["RS256"],
                options={"verify_aud": False},
            )
        except (jwt.InvalidTokenError, StopIteration):
            return 401, json.dumps({"err": "no valid session"}).encode()
        email = claims.get("email", "")
        identity = {
            "id": claims.get("sub"),
            "name": email.partition("@")[0],
            "email": email,
            "user_uuid": claims.get("sub"),
            "idp": {"id": "local-idp", "type": "saml"},
            "groups": [
                {
                    "id": uuid.uuid5(uuid.NAMESPACE_DNS, g).hex,
                    "name": g,
                    "email": f"{g}@example.com",
                }
                for g in self.groups.get(email, [])
            ],
            "identity_nonce": claims.get("identity_nonce"),
        }
        return 200, json.dumps(identity).encode()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        access = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] == GET_IDENTITY_PATH:
                    status, body = access.identity_answer(self.headers.get("cookie", ""))
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if self.path.startswith(LOGIN_PATH):
                    self._login()
                    return
                if self.path.split("?")[0] != CERTS_PATH:
                    self.send_error(404)
                    return
                access.certs_requests += 1
                access.last_request_at = time.monotonic()
                time.sleep(access.certs_delay)
                if access.failure == "junk":
                    body, status = b"<html>not json</html>", 200
                elif isinstance(access.failure, int):
                    body, status = b"{}", access.failure
                else:
                    body, status = json.dumps(access.certs_document()).encode(), 200
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _login(self) -> None:
                """The team's login page for `/cdn-cgi/access/login/<host>?kid=<aud>`: the
                signed-in identity goes back to the host's authorized endpoint."""
                target = urlsplit(self.path)
                host = target.path.removeprefix(LOGIN_PATH)
                query = parse_qs(target.query)
                if access.login_email is None or not access.published:
                    page = b"<!doctype html><title>Sign in</title><p>Sign in to continue."
                    self.send_response(200)
                    self.send_header("content-type", "text/html")
                    self.send_header("content-length", str(len(page)))
                    self.end_headers()
                    self.wfile.write(page)
                    return
                claims = access_claims(
                    access.origin, query.get("kid", [""])[0], email=access.login_email
                )
                token = access.published[0].sign(claims)
                back = query.get("redirect_url", ["/"])[0]
                self.send_response(302)
                self.send_header(
                    "location",
                    f"http://{host}/cdn-cgi/access/authorized?"
                    + urlencode({"token": token, "redirect_url": back}),
                )
                self.send_header("content-length", "0")
                self.end_headers()

        return Handler
