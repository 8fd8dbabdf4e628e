"""`wrangler deploy --dry-run` (wrangler 4) accepts the production config offline."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tomllib
from pathlib import Path
from typing import NamedTuple

import pytest

import build_config
from devstack.access import LocalAccess
from opencode_proxy.pages import Pages
from opencode_proxy.settings import NAMES, SECRETS
from support import cpython
from toolkit.wrangler_config import placeholders

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / "node_modules" / ".bin" / "node"
WRANGLER = ROOT / "node_modules" / "wrangler" / "bin" / "wrangler.js"
FREE_SCRIPT_LIMIT_KIB = 3 * 1000 * 1000 / 1024


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


class Upload(NamedTuple):
    """What `wrangler deploy` would upload, written out by its dry run, and its report."""

    files: Path
    report: str


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory: pytest.TempPathFactory) -> Upload:
    """`wrangler deploy --dry-run` (the build runs first)."""
    outdir = tmp_path_factory.mktemp("upload")
    quiet = {"CI": "true", "WRANGLER_SEND_METRICS": "false", "NO_COLOR": "1"}
    result = run(str(NODE), str(WRANGLER), "deploy", "--dry-run", "--outdir", str(outdir), **quiet)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "--dry-run: exiting now." in result.stdout
    # The shipped wrangler.toml still has its placeholders: a dry run names them.
    for placeholder in PLACEHOLDERS:
        assert placeholder in result.stdout + result.stderr, placeholder
    return Upload(outdir, result.stdout)


@pytest.fixture(scope="module")
def upload(dry_run: Upload) -> Path:
    return dry_run.files


PLACEHOLDERS = (
    "kv_namespaces[CATALOG].id",
    "kv_namespaces[USERS].id",
    "vars.ACCESS_AUD",
    "vars.ACCESS_TEAM_DOMAIN",
)


def test_a_deploy_build_stops_naming_every_placeholder_left_in_wrangler_toml() -> None:
    # What wrangler runs as its [build] step for `wrangler deploy`.
    result = run("uv", "run", "--frozen", "python", "scripts/build.py", WRANGLER_COMMAND="deploy")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "build stopped: wrangler.toml still has placeholders" in result.stderr
    for placeholder in PLACEHOLDERS:
        assert placeholder in result.stderr, placeholder


def test_a_filled_in_wrangler_toml_has_no_placeholders() -> None:
    config = tomllib.loads((ROOT / "wrangler.toml").read_text())
    assert len(placeholders(config)) == len(PLACEHOLDERS)
    for namespace in config["kv_namespaces"]:
        namespace["id"] = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    config["vars"].update(ACCESS_AUD="a" * 64, ACCESS_TEAM_DOMAIN="acme.cloudflareaccess.com")
    assert placeholders(config) == []


def test_the_upload_holds_the_entry_the_core_and_the_compiled_config(upload: Path) -> None:
    assert (upload / "entry.py").read_text() == (ROOT / "src" / "entry.py").read_text()
    assert (upload / "workers_adapter.py").is_file()
    assert (upload / "workers_body.py").is_file()
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


def _runtime_closure() -> dict[str, str]:
    """name -> version of `[project] dependencies` and what they need, as uv.lock has
    them: no dependency group (dev tools, the provisioning SDK) is part of it."""
    packages = {p["name"]: p for p in tomllib.loads((ROOT / "uv.lock").read_text())["package"]}
    wanted = [d["name"] for d in packages["opencode-proxy"]["dependencies"]]
    closure: dict[str, str] = {}
    while wanted:
        name = wanted.pop()
        if name not in closure:
            closure[name] = packages[name]["version"]
            wanted += [d["name"] for d in packages[name].get("dependencies", [])]
    return closure


def _distribution(dist_info: str) -> tuple[str, str]:
    name, _, version = dist_info.removesuffix(".dist-info").rpartition("-")
    return name.replace("_", "-").lower(), version


def test_the_upload_vendors_the_runtime_closure_and_nothing_else(dry_run: Upload) -> None:
    vendored = dry_run.files / "python_modules"
    shipped = dict(_distribution(p.name) for p in vendored.glob("*.dist-info"))
    assert shipped == _runtime_closure()
    assert not [p for p in vendored.rglob("*") if p.suffix in (".so", ".pyd", ".dylib")]
    sizes = re.search(r"Total Upload: ([\d.]+) KiB / gzip: ([\d.]+) KiB", dry_run.report)
    assert sizes is not None, dry_run.report
    raw, gzipped = (float(size) for size in sizes.groups())
    print(f"upload: {raw:.0f} KiB, {gzipped:.0f} KiB gzipped ({len(shipped)} packages)")
    # Workers Free takes scripts up to 3 MB compressed (Workers limits).
    assert gzipped < FREE_SCRIPT_LIMIT_KIB


def test_wrangler_toml_publishes_no_workers_dev_or_preview_url() -> None:
    # Either would answer on *.workers.dev, outside the hostname's Access applications.
    config = tomllib.loads((ROOT / "wrangler.toml").read_text())
    assert config["workers_dev"] is False
    assert config["preview_urls"] is False


def test_nothing_local_reaches_the_upload(upload: Path) -> None:
    shipped = {p.relative_to(upload).as_posix() for p in upload.rglob("*") if p.is_file()}
    assert not [name for name in shipped if "devstack" in name or name.endswith(".mjs")]
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


def test_the_readme_lists_every_path_that_must_stay_outside_access() -> None:
    # Clients fetch some before they have a token; the Worker signs the rest in itself.
    # Behind Access they would get a login page.
    readme = (ROOT / "README.md").read_text()
    deploying = readme[readme.index("## Deploying") : readme.index("### Settings")]
    app = cpython.make_app(LocalAccess())
    providers = [f"/{route.prefix}" for route in app.services.provider_routes]
    own = ["/.well-known/opencode", "/healthz", Pages.WHOAMI, *Pages.SETUP]
    assert sorted(app.public_paths()) == sorted([*own, *providers])
    assert "/" not in app.public_paths()
    for path in app.public_paths():
        assert f"`{path}`" in deploying, path
