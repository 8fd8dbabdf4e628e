"""What `scripts/provision.py apply` writes runs: the Worker starts on that wrangler.toml
with no configuration error, and `verify` passes against it (and fails against a
hostname left behind Access)."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import provision
import pytest

from devstack.access import LocalAccess
from devstack.access_edge import LocalAccessEdge, dashboard_apps
from devstack.cloudflare_api import LocalCloudflareApi
from devstack.gateway import FakeGateway
from devstack.runtime import LocalWorker
from support.access_login import AccessLogin
from toolkit.wrangler_config import placeholders

ROOT = Path(__file__).resolve().parents[2]


def test_the_applied_wrangler_toml_starts_the_worker_and_verify_passes(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    session_gateway: FakeGateway,
    capsys: pytest.CaptureFixture[str],
) -> None:
    wrangler = tmp_path / "wrangler.toml"
    shutil.copy(ROOT / "wrangler.toml", wrangler)
    with LocalCloudflareApi() as api:
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", api.token)
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", api.base_url)
        args = ["--account", "acct", "--hostname", "ai.example.com", "--wrangler", str(wrangler)]
        assert provision.main(["apply", *args, "--allow-domain", "example.com"]) == 0
        account = api.account
    config = tomllib.loads(wrangler.read_text())
    assert placeholders(config) == []
    # The secrets live in wrangler's secret store, not in wrangler.toml; here, variables.
    secrets = {"USER_ID_KEY": "local-key", "GATEWAY_TOKEN": "local-gateway-token"}
    worker = LocalWorker(
        tmp_path / "state", session_gateway.origin, wrangler=config, variables=secrets
    )
    # The Access edge in front applies the applications apply made, as Access would.
    apps = dashboard_apps(account, "ai.example.com")
    assert [app.path for app in apps if not app.bypass] == [""]
    with worker:
        edge = LocalAccessEdge(
            upstream=worker.url,
            access=LocalAccess(team_origin=f"https://{config['vars']['ACCESS_TEAM_DOMAIN']}"),
            audience=config["vars"]["ACCESS_AUD"],
            apps=apps,
        )
        with edge:
            assert "config_error" not in worker.log_text()
            capsys.readouterr()
            verified = provision.main(
                ["verify", "--hostname", "ai.example.com", "--origin", edge.origin]
            )
        out = capsys.readouterr().out
        assert verified == 0, out
        assert "FAIL" not in out
        for path in ("/healthz", "/.well-known/opencode", "/setup/opencode", "/whoami"):
            assert f"ok   {path}: " in out, path
        assert "ok   /anthropic: 401, open" in out
        assert "ok   /: 302, asks for sign-in" in out


def test_verify_fails_when_the_public_paths_are_behind_access(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with AccessLogin() as behind:
        verified = provision.main(["verify", "--hostname", "x", "--origin", behind.origin])
    out = capsys.readouterr().out
    assert verified == provision.FAILED
    assert "FAIL /healthz: 302" in out
    assert "FAIL /setup/opencode: 302, open" in out
    assert "ok   /: 302, asks for sign-in" in out
