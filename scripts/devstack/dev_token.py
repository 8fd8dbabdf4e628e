"""Print a fresh token from the local stack's stand-in for Cloudflare Access.

The local stack serves this as discovery's `auth.command` (instead of
cloudflared), so `opencode auth login http://127.0.0.1:8787` works with no
Cloudflare account. It prints only the token, as OpenCode stores all of stdout.

    python scripts/dev_token.py --state .local/dev [--email someone@example.com]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from devstack.access import SigningKey, access_claims

SETTINGS_FILE = "dev-access.json"
KEY_FILE = "dev-access-key.pem"
DEFAULT_EMAIL = "developer@example.com"
# Who the login command signs in, when set (the stack's stand-in for a person's browser).
DEV_EMAIL = "OPENCODE_PROXY_DEV_EMAIL"


def mint(state: Path, email: str, **claims: Any) -> str:
    """A token of the stack in `state` for `email`, `claims` laid over the usual ones."""
    settings = json.loads((state / SETTINGS_FILE).read_text())
    key = SigningKey.from_pem(state / KEY_FILE, kid=settings["kid"])
    return key.sign(access_claims(settings["issuer"], settings["audience"], email=email, **claims))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print a dev Access token for the local stack.")
    parser.add_argument("--state", type=Path, required=True, help="the local stack's folder")
    parser.add_argument("--email", default=os.environ.get(DEV_EMAIL, DEFAULT_EMAIL))
    args = parser.parse_args(argv)
    try:
        print(mint(args.state, args.email))
    except FileNotFoundError:
        print(f"no local stack in {args.state}: start it with scripts/dev", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
