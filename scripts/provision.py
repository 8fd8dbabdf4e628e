"""Provision the Cloudflare account the Worker runs in, from nothing to a working URL.

    uv run python scripts/provision.py plan --account ID --hostname ai.example.com \
        --allow-domain example.com
    uv run python scripts/provision.py apply (the same options)
    uv run python scripts/provision.py verify --hostname ai.example.com

`plan` only reads, prints what `apply` would change (never a secret) and exits 2 when
there is something to do, 0 when there is nothing. `apply` makes it so: KV
namespaces, the AI Gateway and a policy per spend cap in config-src's budgets, the
Access application with its allow policy and a bypass application per public path,
the Worker's secrets and custom domain (once it is deployed), then the ids, team
domain, AUD and origin in wrangler.toml. The API
token comes from CLOUDFLARE_API_TOKEN; the gateway token (AI Gateway: Run) from
GATEWAY_TOKEN and the Workers AI token (Workers AI: Read) from WORKERS_AI_TOKEN, each
read only when its secret is missing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from pathlib import Path

from provisioning import wrangler_file
from provisioning.cloud import Cloud, ProvisionError
from provisioning.plan import Allow, Inputs, Report
from provisioning.reconcile import Reconciler
from provisioning.routes import byok_providers, public_paths
from provisioning.verify import verify

from build_config import DEFAULT_SRC, BuildError, compile_config
from opencode_proxy.caps import Budgets
from toolkit.worker_files import write_atomically
from toolkit.wrangler_config import WRANGLER_TOML

NOTHING_TO_DO, SOMETHING_TO_DO, FAILED = 0, 2, 1


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("plan", "apply", "verify"))
    parser.add_argument("--account", default=os.environ.get("CLOUDFLARE_ACCOUNT_ID"))
    parser.add_argument("--hostname", required=True, help="the Worker's hostname")
    parser.add_argument("--gateway-id", help="default: AI_GATEWAY_ID in wrangler.toml")
    parser.add_argument("--allow-group", action="append", default=[], help="an Access group")
    parser.add_argument("--allow-email", action="append", default=[])
    parser.add_argument("--allow-domain", action="append", default=[], help="an email domain")
    parser.add_argument("--allow-everyone", action="store_true", help="every identity (careful)")
    parser.add_argument("--no-logs", action="store_true", help="turn the gateway's logs off")
    parser.add_argument("--wrangler", type=Path, default=WRANGLER_TOML)
    parser.add_argument("--config-src", type=Path, default=DEFAULT_SRC, help="for its budgets")
    parser.add_argument("--origin", help="verify: the URL to check (default: https://HOSTNAME)")
    return parser.parse_args(argv)


def _wrangler_lines(before: str, after: str) -> list[str]:
    """One line per value wrangler.toml would change."""
    old, new = tomllib.loads(before), tomllib.loads(after)
    lines = [
        f"~ wrangler.toml vars.{name} = {value!r}"
        for name, value in new.get("vars", {}).items()
        if old.get("vars", {}).get(name) != value
    ]
    old_ids = {kv.get("binding"): kv.get("id") for kv in old.get("kv_namespaces", [])}
    lines += [
        f"~ wrangler.toml kv_namespaces[{kv['binding']}].id = {kv['id']!r}"
        for kv in new.get("kv_namespaces", [])
        if old_ids.get(kv.get("binding")) != kv.get("id")
    ]
    return lines


def _budgets(src: Path, wrangler: dict[str, object]) -> Budgets:
    """config-src's spend caps, from the config the Worker is built from."""
    try:
        return Budgets.from_json(compile_config(src, wrangler=wrangler).get("budgets"))
    except BuildError as exc:
        raise ProvisionError(f"config-src does not build: {'; '.join(exc.problems)}") from None


def _provision(args: argparse.Namespace, *, apply: bool) -> int:
    text = args.wrangler.read_text()
    wrangler = tomllib.loads(text)
    if not args.account:
        raise ProvisionError("name the account: --account ID or CLOUDFLARE_ACCOUNT_ID")
    inputs = Inputs(
        account_id=args.account,
        hostname=args.hostname.lower().rstrip("."),
        gateway_id=args.gateway_id or wrangler.get("vars", {}).get("AI_GATEWAY_ID", "opencode"),
        allow=Allow(
            groups=tuple(args.allow_group),
            emails=tuple(args.allow_email),
            domains=tuple(args.allow_domain),
            everyone=args.allow_everyone,
        ),
        worker=str(wrangler["name"]),
        public_paths=public_paths(),
        collect_logs=not args.no_logs,
        byok_providers=byok_providers(),
        budgets=_budgets(args.config_src, wrangler),
    )
    reconciler = Reconciler(
        Cloud(inputs.account_id),
        inputs,
        apply=apply,
        gateway_token=os.environ.get("GATEWAY_TOKEN"),
        workers_ai_token=os.environ.get("WORKERS_AI_TOKEN"),
    )
    report: Report = reconciler.run()
    after = wrangler_file.updated(text, kv_ids=report.kv_ids, variables=report.variables)
    changes = report.changes + _wrangler_lines(text, after)
    if apply and after != text:
        write_atomically(args.wrangler, after.encode())
    for line in changes:
        print(line)
    for line in report.waiting:
        print(f"waiting: {line}")
    done = "applied" if apply else "to apply"
    if changes:
        print(f"{len(changes)} change{'s' * (len(changes) != 1)} {done}")
    else:
        print("nothing more to do until then" if report.waiting else "up to date")
    if apply:
        return NOTHING_TO_DO
    return SOMETHING_TO_DO if changes or report.waiting else NOTHING_TO_DO


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    try:
        if args.command == "verify":
            checks = verify(args.origin or f"https://{args.hostname}", public_paths())
            for passed, what in checks:
                print(f"{'ok  ' if passed else 'FAIL'} {what}")
            return NOTHING_TO_DO if all(passed for passed, _ in checks) else FAILED
        return _provision(args, apply=args.command == "apply")
    except ProvisionError as exc:
        print(f"provision: {exc}", file=sys.stderr)
        return FAILED


if __name__ == "__main__":
    sys.exit(main())
