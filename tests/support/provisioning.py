"""`scripts/provision.py` against the Cloudflare API stand-in: the account, the
wrangler.toml it writes, and a run as an operator types it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import provision
import pytest

from devstack.cloudflare_api import LocalCloudflareApi

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "0123456789abcdef0123456789abcdef"
HOST = "ai.example.com"
GATEWAY_TOKEN = "gateway-run-token-not-for-output"
WORKERS_AI_TOKEN = "workers-ai-read-token-not-for-output"
WORKER = "opencode-proxy"
STORED_KEYS = ["anthropic", "openai", "google-ai-studio"]


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalCloudflareApi]:
    """The API stand-in with a zone, the SDK pointed at it."""
    with LocalCloudflareApi() as running:
        running.account.add_zone("example.com")
        # The guide has the operator store the provider keys before the first request.
        running.account.provider_keys["opencode"] = list(STORED_KEYS)
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", running.token)
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", running.base_url)
        monkeypatch.setenv("GATEWAY_TOKEN", GATEWAY_TOKEN)
        monkeypatch.setenv("WORKERS_AI_TOKEN", WORKERS_AI_TOKEN)
        yield running


@pytest.fixture
def wrangler(tmp_path: Path) -> Path:
    """A copy of the shipped wrangler.toml for provisioning to fill in."""
    target = tmp_path / "wrangler.toml"
    shutil.copy(ROOT / "wrangler.toml", target)
    return target


def run(wrangler: Path, command: str, *extra: str) -> int:
    args = [command, "--account", ACCOUNT, "--hostname", HOST, "--wrangler", str(wrangler)]
    return provision.main([*args, "--allow-domain", "example.com", *extra])


def deployed(api: LocalCloudflareApi) -> None:
    """What `wrangler deploy` leaves: the Worker exists, without secrets."""
    api.account.scripts.setdefault(WORKER, {})
