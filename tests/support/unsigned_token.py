"""A token shaped like an Access JWT, unsigned: for what only reads its `exp`."""

from __future__ import annotations

import base64
import json


def _segment(value: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def unsigned_token(exp: int, email: str = "a@example.com") -> str:
    """A JWT-shaped token that expires at `exp` (a forged signature)."""
    return f"{_segment({'alg': 'RS256'})}.{_segment({'exp': exp, 'email': email})}.c2ln"
