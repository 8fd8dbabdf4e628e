"""Operator lookups between people and their anonymous ids.

    uv run python scripts/users.py id EMAIL            # EMAIL's id (needs USER_ID_KEY set)
    uv run python scripts/users.py email ID            # who ID is, from the USERS namespace
    uv run python scripts/users.py email ID --local .local/dev   # ... in a local stack

`id` recomputes the id the Worker derives, so it works for someone who never
made a request. `email` reads the map the Worker writes on first sight of a
person; production reads need `wrangler login` (or CLOUDFLARE_API_TOKEN).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from opencode_proxy.identity import NotAnAddress, user_identity
from toolkit.namespaces import KvCommandError, namespace


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Look up anonymous user ids.")
    sub = parser.add_subparsers(dest="command", required=True)
    by_email = sub.add_parser("id", help="the anonymous id of an email address")
    by_email.add_argument("email")
    by_id = sub.add_parser("email", help="the email (or service token) behind an id")
    by_id.add_argument("user_id")
    by_id.add_argument("--local", type=Path, metavar="STATE", help="a local stack's state folder")
    args = parser.parse_args(argv)

    if args.command == "id":
        key = os.environ.get("USER_ID_KEY", "")
        if not key:
            print("USER_ID_KEY is not set: export the same value the Worker has.", file=sys.stderr)
            return 2
        try:
            print(user_identity(key, args.email).user_id)
        except NotAnAddress as exc:
            print(f"{args.email!r} is not an email address: {exc}", file=sys.stderr)
            return 2
        return 0

    try:
        value = asyncio.run(namespace("USERS", args.local).get(args.user_id))
    except KvCommandError as exc:
        print(f"cannot read the USERS namespace: {exc}", file=sys.stderr)
        return 1
    if value is None:
        print(f"no user with id {args.user_id}", file=sys.stderr)
        return 1
    print(value)
    return 0


if __name__ == "__main__":
    sys.exit(main())
