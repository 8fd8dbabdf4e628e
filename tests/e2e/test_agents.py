"""Claude Code and Codex CLI set up from the URL, answered through the Worker, and signed in
again by their own token command after a 401."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest

from devstack.dev_token import DEFAULT_EMAIL
from devstack.gateway import FakeGateway
from devstack.providers import answer_text
from devstack.stack import DEV_USER_ID_KEY, DevStack
from opencode_proxy.identity import anonymous_id
from toolkit.worker_files import ROOT

CLAUDE = ROOT / "node_modules" / "@anthropic-ai" / "claude-code-linux-x64" / "claude"
CODEX = next((ROOT / "node_modules" / "@openai" / "codex" / "vendor").glob("*/bin/codex"), None)
FOREIGN = ("ANTHROPIC_", "OPENAI_", "CLAUDE_", "CODEX_", "CF_ACCESS")
# A token command that prints an expired token first, then fresh ones: what a client
# sees when the Access session it started with has run out.
EXPIRING = """
import json, pathlib, sys, time
from devstack.access import SigningKey, access_claims
from devstack.dev_token import KEY_FILE, SETTINGS_FILE
state, calls = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
count = int(calls.read_text()) if calls.exists() else 0
calls.write_text(str(count + 1))
settings = json.loads((state / SETTINGS_FILE).read_text())
key = SigningKey.from_pem(state / KEY_FILE, kid=settings["kid"])
claims = access_claims(settings["issuer"], settings["audience"], email=sys.argv[3])
if count == 0:
    now = int(time.time())
    claims.update(iat=now - 7200, nbf=now - 7200, exp=now - 3600)
print(key.sign(claims))
"""


def run(binary: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN)}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"))
    work = home / "work"
    work.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [str(binary), *args],
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def expiring_command(tmp_path: Path, stack: DevStack) -> tuple[list[str], Path]:
    script, calls = tmp_path / "expiring_token.py", tmp_path / "token-calls"
    script.write_text(EXPIRING)
    return [sys.executable, str(script), str(stack.state), str(calls), DEFAULT_EMAIL], calls


def assert_attributed(gateway: FakeGateway, provider: str) -> None:
    assert gateway.seen, "the gateway saw nothing"
    for seen in gateway.seen:
        assert seen.provider == provider
        metadata = json.loads(seen.header("cf-aig-metadata") or "{}")
        assert metadata == {"userId": anonymous_id(DEV_USER_ID_KEY, DEFAULT_EMAIL)}
        assert seen.header("x-api-key") is None
        assert seen.header("authorization") is None


def test_claude_code_set_up_from_the_url_answers_through_the_worker(
    stack: DevStack, gateway: FakeGateway, tmp_path: Path
) -> None:
    settings = httpx.get(f"{stack.url}/setup/claude-code").json()
    assert settings["env"]["ANTHROPIC_BASE_URL"] == f"{stack.url}/anthropic"
    assert settings["env"]["ANTHROPIC_MODEL"] == "claude-sonnet-5"
    assert "devstack.dev_token" in settings["apiKeyHelper"]
    (tmp_path / ".claude").mkdir()
    (tmp_path / ".claude" / "settings.json").write_text(json.dumps(settings))
    result = run(CLAUDE, tmp_path, "-p", "hello")
    assert result.returncode == 0, result.stdout + result.stderr
    assert answer_text("anthropic", "claude-sonnet-5") in result.stdout
    assert_attributed(gateway, "anthropic")


def test_claude_code_runs_its_helper_again_after_an_expired_token(
    stack: DevStack, gateway: FakeGateway, tmp_path: Path
) -> None:
    settings = httpx.get(f"{stack.url}/setup/claude-code").json()
    command, calls = expiring_command(tmp_path, stack)
    settings["apiKeyHelper"] = " ".join(command)
    (tmp_path / ".claude").mkdir()
    (tmp_path / ".claude" / "settings.json").write_text(json.dumps(settings))
    result = run(CLAUDE, tmp_path, "-p", "hello")
    assert result.returncode == 0, result.stdout + result.stderr
    assert answer_text("anthropic", "claude-sonnet-5") in result.stdout
    assert int(calls.read_text()) >= 2


@pytest.mark.parametrize("expiring", [False, True], ids=["fresh", "expired-first"])
def test_codex_set_up_from_the_url_answers_and_signs_in_again(
    stack: DevStack, gateway: FakeGateway, tmp_path: Path, expiring: bool
) -> None:
    assert CODEX is not None, "npm ci installs @openai/codex (Linux x64)"
    served = httpx.get(f"{stack.url}/setup/codex")
    config = tomllib.loads(served.text)
    provider = config["model_providers"][config["model_provider"]]
    assert provider["base_url"] == f"{stack.url}/openai/v1"
    assert config["model"] == "gpt-5"
    text = served.text
    if expiring:
        command, calls = expiring_command(tmp_path, stack)
        auth = provider["auth"]
        text = text.replace(json.dumps(auth["command"]), json.dumps(command[0]))
        text = text.replace(json.dumps(auth["args"]), json.dumps(command[1:]))
    (tmp_path / ".codex").mkdir()
    (tmp_path / ".codex" / "config.toml").write_text(text)
    result = run(CODEX, tmp_path, "exec", "--skip-git-repo-check", "hello")
    assert result.returncode == 0, result.stdout + result.stderr
    assert answer_text("openai", "gpt-5") in result.stdout
    responses = [seen for seen in gateway.seen if seen.rest == "/v1/responses"]
    assert responses
    assert all(
        json.loads(seen.header("cf-aig-metadata") or "{}")
        == {"userId": anonymous_id(DEV_USER_ID_KEY, DEFAULT_EMAIL)}
        for seen in responses
    )
    if expiring:
        assert int(calls.read_text()) >= 2
