"""Who spends what: requests, tokens and cost per person, group, client and model.

    uv run python scripts/usage.py report --since 2026-11-01 --until 2026-11-30
    uv run python scripts/usage.py report --since 2026-11-01 --by group,model --format csv
    uv run python scripts/usage.py report --since 2026-11-01 --format html --out usage.html
    uv run python scripts/usage.py report --since 2026-11-01 --emails   # ids and emails
    uv run python scripts/usage.py rollup        # keep the last 7 finished days (run daily)

Read from AI Gateway's logs (`CLOUDFLARE_API_TOKEN` with *AI Gateway: Read*,
`CLOUDFLARE_ACCOUNT_ID`), by the attribution the Worker sends: people appear by their
anonymous id; `--emails` adds each one's email from the USERS namespace, for
operators who may see them.
Days with a rollup in `--rollups` are read from it: logs are kept about 7 days.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import cloudflare
from cloudflare import Cloudflare

from opencode_proxy.ports import KeyValue
from spend import html_report, logs, render, rollups
from spend.logs import Entry
from spend.tally import DIMENSIONS, summed, total
from toolkit.namespaces import KvCommandError, namespace
from toolkit.worker_files import ROOT

ROLLUPS = ROOT / ".local" / "usage-rollups"
# How far back `rollup` looks by default: AI Gateway's log retention.
RETENTION_DAYS = 7


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _today() -> date:
    return datetime.now(UTC).date()


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("report", "rollup"))
    parser.add_argument("--account", default=os.environ.get("CLOUDFLARE_ACCOUNT_ID"))
    parser.add_argument("--gateway-id", help="default: AI_GATEWAY_ID in wrangler.toml")
    parser.add_argument("--rollups", type=Path, default=ROLLUPS, help="the rollups' folder")
    parser.add_argument("--since", type=date.fromisoformat, help="report: first UTC day")
    parser.add_argument("--until", type=date.fromisoformat, help="report: last (default today)")
    parser.add_argument("--by", default="user", help=f"report: some of {','.join(DIMENSIONS)}")
    parser.add_argument("--format", choices=("table", "csv", "json", "html"), default="table")
    parser.add_argument("--out", type=Path, help="report: write here instead of stdout")
    parser.add_argument("--day", type=date.fromisoformat, action="append", help="rollup: a day")
    parser.add_argument("--emails", action="store_true", help="report: emails beside ids")
    parser.add_argument("--local", type=Path, metavar="STATE", help="a local stack's USERS")
    return parser.parse_args(argv)


class UsageError(Exception):
    """A setting or argument the operator must fix; the message says which."""


def _gateway_id(args: argparse.Namespace) -> str:
    """`--gateway-id`, else AI_GATEWAY_ID in wrangler.toml (read once, by main)."""
    if args.gateway_id:
        return str(args.gateway_id)
    wrangler = tomllib.loads((ROOT / "wrangler.toml").read_text())
    return str(wrangler.get("vars", {}).get("AI_GATEWAY_ID", "opencode"))


def _entries(args: argparse.Namespace, client: Cloudflare, days: list[date]) -> Iterator[Entry]:
    for day in days:
        stored = rollups.read(args.rollups, day) if day < _today() else None
        if stored is None:
            yield from logs.entries(client, args.account, args.gateway_id, day)
        else:
            yield from stored


def with_emails(entries: list[Entry], users: KeyValue) -> list[Entry]:
    """Each person as `email (id)`, from the map the Worker keeps (id -> email)."""

    async def emails() -> dict[str, str | None]:
        ids = sorted({entry.user for entry in entries} - {logs.NONE})
        return dict(zip(ids, await asyncio.gather(*(users.get(i) for i in ids)), strict=True))

    try:
        known = asyncio.run(emails())
    except KvCommandError as exc:
        raise UsageError(f"cannot read the USERS namespace: {exc}") from None
    return [
        replace(entry, user=f"{email} ({entry.user})")
        if (email := known.get(entry.user))
        else entry
        for entry in entries
    ]


def report(args: argparse.Namespace, client: Cloudflare) -> str:
    if args.since is None:
        raise UsageError("name the period: --since YYYY-MM-DD (and --until, default today)")
    until = args.until or _today()
    if until < args.since:
        raise UsageError(f"--until {until} is before --since {args.since}")
    days = _days(args.since, until)
    by = tuple(part.strip() for part in args.by.split(",") if part.strip())
    if not by or any(part not in DIMENSIONS for part in by):
        raise UsageError(f"--by takes some of {', '.join(DIMENSIONS)}, comma-separated")
    entries = list(_entries(args, client, days))
    if args.emails:
        entries = with_emails(entries, namespace("USERS", args.local))
    if args.format == "html":
        return html_report.page(entries, days)
    rows, grand = summed(entries, by), total(entries)
    if args.format == "csv":
        return render.as_csv(by, rows)
    if args.format == "json":
        return render.as_json(by, rows, grand)
    return render.table(by, rows, grand)


def rollup(args: argparse.Namespace, client: Cloudflare) -> str:
    today = _today()
    days = args.day or [today - timedelta(days=n) for n in range(RETENTION_DAYS, 0, -1)]
    if any(day >= today for day in days):
        raise UsageError("a rollup is of a finished UTC day: name one before today")
    lines = []
    for day in days:
        entries = list(logs.entries(client, args.account, args.gateway_id, day))
        changed = rollups.write(args.rollups, day, entries)
        kept = "written" if changed else "kept (it holds as much as the logs)"
        lines.append(f"{day.isoformat()}: {len(entries)} logged requests, rollup {kept}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    try:
        if not args.account:
            raise UsageError("name the account: --account ID or CLOUDFLARE_ACCOUNT_ID")
        args.gateway_id = _gateway_id(args)
        client = Cloudflare()
        text = (report if args.command == "report" else rollup)(args, client)
    except UsageError as exc:
        print(f"usage: {exc}", file=sys.stderr)
        return 2
    except cloudflare.APIStatusError as exc:
        needs = f"; the token needs {logs.GATEWAY_READ}" if exc.status_code == 403 else ""
        print(f"AI Gateway's logs answered {exc.status_code}{needs}", file=sys.stderr)
        return 1
    if args.out is not None:
        args.out.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
