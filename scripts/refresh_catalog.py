"""Refresh the model catalog now, with the Worker's own code, instead of waiting for the cron.

    uv run python scripts/refresh_catalog.py                       # production CATALOG namespace
    uv run python scripts/refresh_catalog.py --local .local/dev    # a local stack
    ... --url URL --providers openai,deepseek                      # another source or providers
    ... --accept cloudflare-workers-ai     # take a held shrink that waits for an operator
    ... --refuse cloudflare-workers-ai     # keep that provider's models as they are

The source defaults to wrangler.toml's CATALOG_URL and the providers to those
config-src's providers name (`models_dev`), as the Worker's cron reads them; a
local stack's default source is the document its stand-in models.dev serves, read
from disk, so no network is needed. Production writes need `wrangler login` (or
CLOUDFLARE_API_TOKEN). Running Workers pick the new catalog up within a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import build_config
from devstack.stack import served_document
from opencode_proxy.catalog import ACCEPTED, DEFAULT_URL, REFUSED, CatalogError, CatalogStore
from opencode_proxy.discovery import Discovery
from opencode_proxy.ports import Fetched
from opencode_proxy.refresh import Refresher
from toolkit.namespaces import KvCommandError, namespace
from toolkit.wrangler_config import production_vars


async def http_get(url: str, headers: Mapping[str, str], *, timeout: float) -> Fetched:
    """The `HttpGet` port on urllib (files too); HTTP error statuses are answers, not
    exceptions."""
    if url.startswith("file:"):
        try:
            return Fetched(200, {}, Path(urllib.request.url2pathname(url[5:])).read_text())
        except OSError as exc:
            raise OSError(f"cannot read {url}: {exc.strerror}") from None
    request = urllib.request.Request(url, headers=dict(headers))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, received, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        status, received, body = exc.code, exc.headers, exc.read()
    except urllib.error.URLError as exc:
        raise OSError(str(exc.reason)) from None
    return Fetched(status, {k.lower(): v for k, v in received.items()}, body.decode())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Refresh the model catalog now.")
    parser.add_argument("--local", type=Path, metavar="STATE", help="a local stack's state folder")
    settings = production_vars()
    parser.add_argument("--url", help="the models.dev document (default: CATALOG_URL)")
    parser.add_argument(
        "--providers", help="models.dev provider ids (default: those config-src names)"
    )
    decide = parser.add_mutually_exclusive_group()
    decide.add_argument("--accept", metavar="PROVIDER", help="take its held shrink, then refresh")
    decide.add_argument("--refuse", metavar="PROVIDER", help="keep its models as they are")
    args = parser.parse_args(argv)
    url = args.url
    if url is None:
        local = served_document(args.local).as_uri() if args.local is not None else None
        url = local or settings.get("CATALOG_URL") or DEFAULT_URL
    try:
        store = CatalogStore(namespace("CATALOG", args.local), time.time)
    except KvCommandError as exc:
        print(f"cannot open the CATALOG namespace: {exc}", file=sys.stderr)
        return 1
    if args.accept or args.refuse:
        decision, provider = (ACCEPTED, args.accept) if args.accept else (REFUSED, args.refuse)
        try:
            hold = asyncio.run(store.decide(provider, decision))
        except CatalogError as exc:
            print(f"nothing decided: {exc}", file=sys.stderr)
            return 1
        print(f"{decision}: {hold.reason}")
        if decision == REFUSED:
            return 0
    if args.providers is None:
        try:
            providers = Discovery(build_config.compile_config()).catalog_sources()
        except build_config.BuildError as exc:
            build_config.report(exc)
            return 1
    else:
        providers = tuple(p.strip() for p in args.providers.split(",") if p.strip())
    outcome = asyncio.run(
        Refresher(store, http_get, time.time, print, url=url, providers=providers).run()
    )
    # Non-zero when the catalog is not what models.dev says: a failure, or a held shrink.
    return 1 if outcome.startswith("kept") or "; holding " in outcome else 0


if __name__ == "__main__":
    sys.exit(main())
