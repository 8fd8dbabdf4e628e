"""wrangler.toml as the operator tools and the build read it, and what is left to fill in.

A deploy with a placeholder left in wrangler.toml would upload a Worker bound to no
namespace or checking tokens for no application; the build stops it, naming each.
"""

from __future__ import annotations

import os
import subprocess
import tomllib
from pathlib import Path
from typing import Any

from opencode_proxy.brake import BINDING as BRAKE_BINDING
from toolkit.worker_files import ROOT

WRANGLER_TOML = ROOT / "wrangler.toml"
PLACEHOLDER = "REPLACE_WITH_"
EXAMPLE_TEAM = "example.cloudflareaccess.com"
# wrangler sets WRANGLER_COMMAND for its [build] command; these upload the Worker.
UPLOADS = frozenset({"deploy", "versions upload"})


def production_config(path: Path = WRANGLER_TOML) -> dict[str, Any]:
    return tomllib.loads(path.read_text())


def production_vars(path: Path = WRANGLER_TOML) -> dict[str, str]:
    """wrangler.toml's [vars], as the deployed Worker reads them."""
    return {str(k): str(v) for k, v in production_config(path).get("vars", {}).items()}


def user_limit(config: dict[str, Any]) -> dict[str, int] | None:
    """The per-person brake's limit and period, from the [[ratelimits]] binding the
    Worker counts with (None when wrangler.toml has none)."""
    for limit in config.get("ratelimits", []):
        if limit.get("name") == BRAKE_BINDING:
            simple = limit.get("simple", {})
            return {"limit": int(simple["limit"]), "period": int(simple["period"])}
    return None


def with_brake(config: dict[str, Any], *, limit: int, period: int = 60) -> dict[str, Any]:
    """A copy of wrangler.toml as parsed, with the brake's binding set to `limit` requests
    per `period` seconds (added when it has none)."""
    copied = {**config, "ratelimits": [dict(r) for r in config.get("ratelimits", [])]}
    brakes = [r for r in copied["ratelimits"] if r.get("name") == BRAKE_BINDING]
    if not brakes:
        brakes = [{"name": BRAKE_BINDING, "namespace_id": "1001"}]
        copied["ratelimits"].append(brakes[0])
    brakes[0]["simple"] = {"limit": limit, "period": period}
    return copied


def placeholders(config: dict[str, Any]) -> list[str]:
    """Where wrangler.toml still holds a placeholder, e.g. `kv_namespaces[CATALOG].id`."""
    found = [
        f"kv_namespaces[{namespace.get('binding')}].{key}"
        for namespace in config.get("kv_namespaces", [])
        for key, value in namespace.items()
        if isinstance(value, str) and value.startswith(PLACEHOLDER)
    ]
    for name, value in config.get("vars", {}).items():
        if isinstance(value, str) and (value.startswith(PLACEHOLDER) or value == EXAMPLE_TEAM):
            found.append(f"vars.{name} ({value})")
    return found


def _wrangler_args() -> list[str]:
    """The command line of the wrangler process this build runs under, if any."""
    pid = os.getppid()
    for _ in range(6):
        done = subprocess.run(
            ["ps", "-o", "ppid=,args=", "-p", str(pid)],
            capture_output=True,
            text=True,
            check=False,
        )
        parent, _, args = done.stdout.strip().partition(" ")
        if "wrangler" in args:
            return args.split()
        if not parent.isdigit() or int(parent) <= 1:
            return []
        pid = int(parent)
    return []


def deploy_problem(path: Path = WRANGLER_TOML) -> tuple[str | None, list[str]]:
    """(why this build must stop, or None; warnings) for the command that runs it: an
    upload with placeholders stops, a dry run only warns."""
    if os.environ.get("WRANGLER_COMMAND") not in UPLOADS:
        return None, []
    left = placeholders(production_config(path))
    if not left:
        return None, []
    listed = ", ".join(left)
    if "--dry-run" in _wrangler_args():
        return None, [f"wrangler.toml still has placeholders (a deploy would stop): {listed}"]
    return (
        f"wrangler.toml still has placeholders: {listed}. Fill them in (README, "
        '"Deploying") before deploying.',
        [],
    )
