"""`wrangler deploy --dry-run` (wrangler 4) accepts the production config offline."""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from pathlib import Path

import build_config
from opencode_proxy.settings import NAMES, SECRETS

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / "node_modules" / ".bin" / "node"
WRANGLER = ROOT / "node_modules" / "wrangler" / "bin" / "wrangler.js"


def test_dry_run_bundle_holds_the_entry_and_the_compiled_config(tmp_path: Path) -> None:
    outdir = tmp_path / "bundle"
    result = subprocess.run(
        [str(NODE), str(WRANGLER), "deploy", "--dry-run", "--outdir", str(outdir)],
        cwd=ROOT,
        env={**os.environ, "CI": "true", "WRANGLER_SEND_METRICS": "false", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "--dry-run: exiting now." in result.stdout

    assert (outdir / "entry.py").read_text() == (ROOT / "src" / "entry.py").read_text()
    assert (outdir / "workers_adapter.py").is_file()
    assert (outdir / "opencode_proxy" / "router.py").is_file()
    compiled = json.loads((outdir / "build" / "opencode.json").read_text())
    assert compiled == build_config.compile_config()
    assert compiled["auth"]["command"][:3] == ["cloudflared", "access", "login"]
    # Test-only and dev-only stand-ins never reach production.
    shipped = {p.name for p in outdir.rglob("*")}
    assert not shipped & {
        "offline_entry.py",
        "_pyodide_entrypoint_helper.py",
        "_cloudflare_compat_flags.py",
        "dev_token.py",
    }
    bundle_text = "".join(p.read_text(errors="replace") for p in outdir.rglob("*") if p.is_file())
    assert "dev_token" not in bundle_text
    assert "__scheduled" not in bundle_text


def test_wrangler_toml_binds_kv_ai_and_the_hourly_cron_and_holds_no_secret() -> None:
    config = tomllib.loads((ROOT / "wrangler.toml").read_text())
    assert "python_workers" in config["compatibility_flags"]
    assert config["compatibility_date"].startswith("2026-")
    assert {kv["binding"] for kv in config["kv_namespaces"]} == {"CATALOG", "USERS"}
    assert config["ai"]["binding"] == "AI"
    assert config["triggers"]["crons"] == ["0 * * * *"]
    assert {"ACCESS_TEAM_DOMAIN", "ACCESS_AUD", "AI_GATEWAY_ID"} <= set(config["vars"])
    assert not {"GATEWAY_TOKEN", "USER_ID_KEY"} & set(config["vars"])


def test_every_setting_is_documented_and_every_var_is_one_the_worker_reads() -> None:
    readme = (ROOT / "README.md").read_text()
    variables = set(tomllib.loads((ROOT / "wrangler.toml").read_text())["vars"])
    for name in NAMES:
        assert f"| `{name}` |" in readme, name
        assert (name in SECRETS) != (name in variables), name
    assert variables <= set(NAMES)
