"""`wrangler deploy --dry-run` (wrangler 4) accepts the production config offline."""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from pathlib import Path

import pytest

import build_config
from opencode_proxy.settings import NAMES, SECRETS

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / "node_modules" / ".bin" / "node"
WRANGLER = ROOT / "node_modules" / "wrangler" / "bin" / "wrangler.js"


@pytest.fixture(scope="module")
def upload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `wrangler deploy` would upload, written out by its dry run (the build runs first)."""
    outdir = tmp_path_factory.mktemp("upload")
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
    return outdir


def test_the_upload_holds_the_entry_the_core_and_the_compiled_config(upload: Path) -> None:
    assert (upload / "entry.py").read_text() == (ROOT / "src" / "entry.py").read_text()
    assert (upload / "workers_adapter.py").is_file()
    assert (upload / "opencode_proxy" / "router.py").is_file()
    compiled = json.loads((upload / "opencode.json").read_text())
    assert compiled == build_config.compile_config()
    assert compiled["auth"]["command"][:3] == ["cloudflared", "access", "login"]


def test_the_upload_vendors_the_locked_runtime_packages(upload: Path) -> None:
    # Without them the Worker fails at start: the runtime ships no `workers` module.
    vendored = upload / "python_modules"
    assert (vendored / "workers" / "__init__.py").is_file()
    assert (vendored / "jwt" / "__init__.py").is_file()
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = {p["name"]: p["version"] for p in lock["package"]}
    assert (vendored / f"pyjwt-{locked['pyjwt']}.dist-info").is_dir()
    assert (vendored / f"workers_runtime_sdk-{locked['workers-runtime-sdk']}.dist-info").is_dir()


def test_nothing_local_reaches_the_upload(upload: Path) -> None:
    shipped = {p.relative_to(upload).as_posix() for p in upload.rglob("*") if p.is_file()}
    assert not [name for name in shipped if "devstack" in name or "front.js" in name]
    assert not [name for name in shipped if name.endswith(".pyc")]
    bundle_text = "".join(p.read_text(errors="replace") for p in upload.rglob("*") if p.is_file())
    assert "dev_token" not in bundle_text
    assert "python_workers_development" not in bundle_text


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
