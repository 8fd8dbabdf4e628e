"""Operator lookups between people and their anonymous ids.

    uv run python scripts/users.py id EMAIL            # EMAIL's id (needs USER_ID_KEY set)
    uv run python scripts/users.py email ID            # who ID is, from the USERS namespace
    uv run python scripts/users.py email ID --local .local/dev   # ... in a local dev stack

`id` recomputes the id the Worker derives, so it works for someone who never
made a request. `email` reads the map the Worker writes on first sight of a
person; production reads need `wrangler login` (or CLOUDFLARE_API_TOKEN).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from offline_runtime import ROOT, WRANGLER_OFFLINE
from opencode_proxy.identity import user_identity

NODE22 = ROOT / "node_modules" / ".bin" / "node"
WRANGLER = ROOT / "node_modules" / "wrangler" / "bin" / "wrangler.js"


def kv_get_command(user_id: str, local_state: Path | None) -> list[str]:
    """The wrangler call that reads `user_id` from the USERS namespace."""
    if local_state is None:
        return [
            str(NODE22),
            str(WRANGLER),
            "kv",
            "key",
            "get",
            user_id,
            "--binding",
            "USERS",
            "--remote",
        ]
    return [
        "node",
        str(WRANGLER_OFFLINE),
        "kv",
        "key",
        "get",
        user_id,
        "--binding",
        "USERS",
        "--local",
        "--config",
        str(local_state / "wrangler.toml"),
        "--persist-to",
        str(local_state / "state"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Look up anonymous user ids.")
    sub = parser.add_subparsers(dest="command", required=True)
    by_email = sub.add_parser("id", help="the anonymous id of an email address")
    by_email.add_argument("email")
    by_id = sub.add_parser("email", help="the email (or service token) behind an id")
    by_id.add_argument("user_id")
    by_id.add_argument(
        "--local",
        type=Path,
        metavar="STATE",
        help="a local stack's state folder instead of production",
    )
    args = parser.parse_args(argv)

    if args.command == "id":
        key = os.environ.get("USER_ID_KEY", "")
        if not key:
            print("USER_ID_KEY is not set: export the same value the Worker has.", file=sys.stderr)
            return 2
        print(user_identity(key, args.email).user_id)
        return 0

    result = subprocess.run(
        kv_get_command(args.user_id, args.local),
        cwd=args.local or ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "CI": "true", "WRANGLER_SEND_METRICS": "false", "NO_COLOR": "1"},
    )
    value = result.stdout.strip().splitlines()[-1:] if result.returncode == 0 else []
    if not value or value[0] == "Value not found":
        print(f"no user with id {args.user_id}", file=sys.stderr)
        if result.returncode != 0:
            print(result.stderr.strip()[-2000:], file=sys.stderr)
        return 1
    print(value[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
