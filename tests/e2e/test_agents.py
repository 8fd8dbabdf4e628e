"""Claude Code and Codex CLI set up from the URL, answered through the Worker, and signed in
again by their own token command after a 401."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomli_w

from devstack.dev_token import DEFAULT_EMAIL
from devstack.gateway import FakeGateway
from devstack.providers import answer_text
from devstack.stack import DEV_USER_ID_KEY, DevStack
from opencode_proxy.clients import CODEX_ARGS, CODEX_PROFILE, fresh_token_helper, setup_commands
from opencode_proxy.identity import anonymous_id
from support.agents import CLAUDE, CODEX, FOREIGN, run

# A token command that counts its runs and, when told to, prints an expired token first
# (what a client sees when the Access session it started with has run out).
COUNTING = """
import json, pathlib, sys, time
from devstack.access import SigningKey, access_claims
from devstack.dev_token import KEY_FILE, SETTINGS_FILE
state, calls = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
count = int(calls.read_text()) if calls.exists() else 0
calls.write_text(str(count + 1))
settings = json.loads((state / SETTINGS_FILE).read_text())
key = SigningKey.from_pem(state / KEY_FILE, kid=settings["kid"])
claims = access_claims(settings["issuer"], settings["audience"], email=sys.argv[3])
if count == 0 and sys.argv[4] == "expired-first":
    now = int(time.time())
    claims.update(iat=now - 7200, nbf=now - 7200, exp=now - 3600)
print(key.sign(claims))
"""


def token_command(
    tmp_path: Path, stack: DevStack, *, expired_first: bool
) -> tuple[list[str], Path]:
    """A token command for the stack and the file that counts its runs."""
    script, calls = tmp_path / "counting_token.py", tmp_path / "token-calls"
    script.write_text(COUNTING)
    first = "expired-first" if expired_first else "fresh"
    command = [sys.executable, str(script), str(stack.state), str(calls), DEFAULT_EMAIL, first]
    return command, calls


# How long a client may take to sign in again (or say how) after an expired token.
SIGN_IN_AGAIN_SECONDS = 15


def install(stack: DevStack, home: Path, client: str) -> None:
    """Run the served setup commands for `client`, as the README and the page give them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN)}
    for command in setup_commands(stack.url, stack.auth)[client][:1]:
        done = subprocess.run(
            command, shell=True, env={**env, "HOME": str(home)}, check=False, timeout=60
        )
        assert done.returncode == 0, command


def claude_settings(stack: DevStack, home: Path, command: list[str] | None = None) -> Path:
    """Claude Code's settings installed as served (their token command replaced)."""
    install(stack, home, "claude-code")
    path = home / ".claude" / "opencode-proxy.json"
    if command is not None:
        settings = json.loads(path.read_text())
        settings["apiKeyHelper"] = " ".join(command)
        path.write_text(json.dumps(settings))
    return path


def codex_profile(stack: DevStack, home: Path, command: list[str] | None = None) -> dict[str, Any]:
    """Codex's profile installed as served (its token command replaced)."""
    install(stack, home, "codex")
    path = home / ".codex" / f"{CODEX_PROFILE}.config.toml"
    profile = tomllib.loads(path.read_text())
    if command is not None:
        changed = copy.deepcopy(profile)
        auth = changed["model_providers"][changed["model_provider"]]["auth"]
        auth["command"], auth["args"] = command[0], command[1:]
        path.write_text(tomli_w.dumps(changed))
    return profile


# What users keep in their own files: the setup must leave them byte for byte.
OWN_CLAUDE_SETTINGS = (
    '{\n  "theme": "dark",\n  "env": {"EDITOR": "vim"},\n'
    '  "permissions": {"allow": ["Bash(git status:*)"]}\n}\n'
)


def own_codex_config(home: Path) -> str:
    """A config.toml as Codex and its user leave it: a top-level model, an MCP server and
    the trailing [projects] table Codex writes itself."""
    return (
        'model = "o4-mini"\napproval_policy = "on-request"\n\n'
        '[mcp_servers.docs]\ncommand = "true"\n\n'
        f'[projects."{home / "work"}"]\ntrust_level = "trusted"\n'
    )


def assert_attributed(gateway: FakeGateway, provider: str) -> None:
    assert gateway.seen, "the gateway saw nothing"
    for seen in gateway.seen:
        assert seen.provider == provider
        metadata = json.loads(seen.header("cf-aig-metadata") or "{}")
        assert metadata["userId"] == anonymous_id(DEV_USER_ID_KEY, DEFAULT_EMAIL)
        assert metadata["client"] == {"anthropic": "claude-code", "openai": "codex"}[provider]
        assert metadata["session"]  # the client's own session id
        assert "group" not in metadata  # the shipped config has no groups
        assert seen.header("x-api-key") is None
        assert seen.header("authorization") is None


def test_claude_code_set_up_from_the_url_answers_and_leaves_the_users_settings_alone(
    stack: DevStack,
    gateway: FakeGateway,
    refusals: Callable[[], list[dict[str, Any]]],
    tmp_path: Path,
) -> None:
    own = tmp_path / ".claude" / "settings.json"
    own.parent.mkdir()
    own.write_text(OWN_CLAUDE_SETTINGS)
    path = claude_settings(stack, tmp_path)
    settings = json.loads(path.read_text())
    assert settings["env"]["ANTHROPIC_BASE_URL"] == f"{stack.url}/anthropic"
    assert settings["env"]["ANTHROPIC_MODEL"] == "claude-sonnet-5"
    assert "devstack.dev_token" in settings["apiKeyHelper"]
    result = run(CLAUDE, tmp_path, "--settings", str(path), "-p", "hello")
    assert result.returncode == 0, result.stdout + result.stderr
    assert answer_text("anthropic", "claude-sonnet-5") in result.stdout
    assert_attributed(gateway, "anthropic")
    assert own.read_text() == OWN_CLAUDE_SETTINGS
    assert refusals() == []
    assert "skipped" not in result.stderr  # every served setting is one Claude Code honours


@pytest.mark.parametrize("alias", ["opus", "sonnet", "haiku", "default"])
def test_claude_codes_own_model_names_answer_with_served_models(
    stack: DevStack, gateway: FakeGateway, tmp_path: Path, alias: str
) -> None:
    # Unset, each name would be Claude Code's own newest id, off the menu.
    path = claude_settings(stack, tmp_path)
    served = set(json.loads(path.read_text())["availableModels"])
    result = run(CLAUDE, tmp_path, "--settings", str(path), "--model", alias, "-p", "hello")
    assert result.returncode == 0, result.stdout + result.stderr
    asked = {seen.json()["model"] for seen in gateway.seen if seen.rest == "/v1/messages"}
    assert asked, "nothing reached the gateway"
    assert asked <= served, asked - served
    assert any(answer_text("anthropic", model) in result.stdout for model in asked)


def test_claude_code_offers_only_the_served_menu(
    stack: DevStack, gateway: FakeGateway, tmp_path: Path
) -> None:
    path = claude_settings(stack, tmp_path)
    served = httpx.get(f"{stack.url}/.well-known/opencode").json()["config"]["provider"]
    settings = json.loads(path.read_text())
    assert settings["availableModels"] == list(served["anthropic"]["models"])
    assert [o["model"] for o in settings["modelPicker"]["options"]] == settings["availableModels"]
    result = run(CLAUDE, tmp_path, "--settings", str(path), "-p", "--model", "claude-3-opus", "hi")
    # Claude Code itself refuses a model off the menu before asking for it.
    assert "is restricted by your organization's settings" in result.stdout + result.stderr
    assert not [seen for seen in gateway.seen if seen.body and b"claude-3-opus" in seen.body]
    managed = httpx.get(f"{stack.url}/setup/claude-code-managed").json()
    assert managed == {**settings, "availableModelsMatch": "exact"}


def test_claude_code_runs_its_helper_again_after_an_expired_token(
    stack: DevStack, gateway: FakeGateway, tmp_path: Path
) -> None:
    command, calls = token_command(tmp_path, stack, expired_first=True)
    path = claude_settings(stack, tmp_path, command)
    started = time.monotonic()
    result = run(CLAUDE, tmp_path, "--settings", str(path), "-p", "hello")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert answer_text("anthropic", "claude-sonnet-5") in result.stdout
    assert int(calls.read_text()) >= 2
    # Through the Access edge: the Worker's 401, not Access's redirect, reached it.
    assert elapsed < SIGN_IN_AGAIN_SECONDS, f"Claude Code took {elapsed:.1f} s"


def test_claude_code_with_a_sign_in_that_only_yields_expired_tokens_says_so_at_once(
    stack: DevStack, gateway: FakeGateway, tmp_path: Path
) -> None:
    # The served helper checks the token's expiry itself: Claude Code retries an expired
    # token's 401s for minutes, but shows a failing helper's words within seconds.
    now = int(time.time())
    expired = stack.token(iat=now - 7200, nbf=now - 7200, exp=now - 3600)
    path = claude_settings(stack, tmp_path)
    settings = json.loads(path.read_text())
    settings["apiKeyHelper"] = fresh_token_helper(["echo", expired], stack.url)
    path.write_text(json.dumps(settings))
    started = time.monotonic()
    result = run(CLAUDE, tmp_path, "--settings", str(path), "-p", "hello")
    elapsed = time.monotonic() - started
    said = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"Your sign-in to {stack.url} has expired and was not renewed" in said
    assert elapsed < SIGN_IN_AGAIN_SECONDS, f"Claude Code took {elapsed:.1f} s"
    assert gateway.seen == []


@pytest.mark.parametrize("expiring", [False, True], ids=["fresh", "expired-first"])
def test_codex_with_the_served_profile_answers_signs_in_again_and_keeps_config_toml(
    stack: DevStack,
    gateway: FakeGateway,
    refusals: Callable[[], list[dict[str, Any]]],
    tmp_path: Path,
    expiring: bool,
) -> None:
    assert CODEX is not None, "npm ci installs @openai/codex (Linux x64)"
    own = tmp_path / ".codex" / "config.toml"
    own.parent.mkdir()
    own.write_text(own_codex_config(tmp_path))
    command, calls = token_command(tmp_path, stack, expired_first=expiring)
    profile = codex_profile(stack, tmp_path, command)
    provider = profile["model_providers"][profile["model_provider"]]
    assert provider["base_url"] == f"{stack.url}/openai/v1"
    assert profile["model"] == "gpt-5"
    started = time.monotonic()
    result = run(CODEX, tmp_path, *CODEX_ARGS, "exec", "--skip-git-repo-check", "hi")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert answer_text("openai", "gpt-5") in result.stdout
    assert elapsed < SIGN_IN_AGAIN_SECONDS, f"Codex took {elapsed:.1f} s"
    # Its catalog request (`/models?client_version=`) is answered in its own format.
    assert "failed to decode models response" not in result.stdout + result.stderr
    responses = [seen for seen in gateway.seen if seen.rest == "/responses"]
    assert responses
    for seen in responses:
        metadata = json.loads(seen.header("cf-aig-metadata") or "{}")
        assert metadata["userId"] == anonymous_id(DEV_USER_ID_KEY, DEFAULT_EMAIL)
        assert (metadata["client"], bool(metadata["session"])) == ("codex", True)
    assert int(calls.read_text()) >= (2 if expiring else 1)
    # Only the expired token is refused: every call Codex makes is an endpoint /openai serves.
    refused = {r["type"] for r in refusals()}
    assert refused == ({"invalid_token"} if expiring else set())
    assert own.read_text() == own_codex_config(tmp_path)


UNSERVED_MESSAGE = "is not on your model menu for"


def test_claude_code_shows_a_model_refusal_at_once_without_signing_in_again(
    stack: DevStack, gateway: FakeGateway, tmp_path: Path
) -> None:
    # A Claude Code that does not restrict itself (settings without availableModels, as
    # an older release or an edited file gives): the Worker's refusal is what it shows.
    command, calls = token_command(tmp_path, stack, expired_first=False)
    path = claude_settings(stack, tmp_path, command)
    settings = json.loads(path.read_text())
    del settings["availableModels"], settings["modelPicker"]
    path.write_text(json.dumps(settings))
    started = time.monotonic()
    result = run(
        CLAUDE, tmp_path, "--settings", str(path), "-p", "--model", "claude-3-opus-unserved", "hi"
    )
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"'claude-3-opus-unserved' {UNSERVED_MESSAGE} /anthropic" in output
    assert f"shown at {stack.url}/ " in output
    assert elapsed < 10, f"Claude Code took {elapsed:.1f} s to show the refusal"
    assert int(calls.read_text()) == 1
    assert gateway.seen == []


def test_codex_shows_a_model_refusal_at_once_without_signing_in_again(
    stack: DevStack, gateway: FakeGateway, tmp_path: Path
) -> None:
    assert CODEX is not None, "npm ci installs @openai/codex (Linux x64)"
    command, calls = token_command(tmp_path, stack, expired_first=False)
    codex_profile(stack, tmp_path, command)
    started = time.monotonic()
    result = run(
        CODEX,
        tmp_path,
        *(*CODEX_ARGS, "exec", "--skip-git-repo-check"),
        *("-m", "gpt-4-unserved", "hello"),
    )
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"'gpt-4-unserved' {UNSERVED_MESSAGE} /openai" in output
    assert elapsed < 10, f"Codex took {elapsed:.1f} s to show the refusal"
    assert int(calls.read_text()) == 1
    assert not [seen for seen in gateway.seen if seen.rest == "/responses"]


def test_codex_started_as_served_without_the_profile_stops_instead_of_going_around(
    tmp_path: Path, gateway: FakeGateway
) -> None:
    # A failed download or another CODEX_HOME: no profile file. `--profile` alone would
    # run the user's own config (OpenAI directly); the served command names the provider.
    assert CODEX is not None
    own = tmp_path / ".codex" / "config.toml"
    own.parent.mkdir()
    own.write_text(own_codex_config(tmp_path))
    result = run(CODEX, tmp_path, *CODEX_ARGS, "exec", "--skip-git-repo-check", "hi")
    assert result.returncode != 0
    assert "Model provider `opencode-proxy` not found" in result.stdout + result.stderr
    assert gateway.seen == []
    assert own.read_text() == own_codex_config(tmp_path)


@pytest.mark.parametrize("client", ["claude-code", "codex"])
def test_a_tripped_budget_is_shown_at_once_and_not_retried(
    stack: DevStack, gateway: FakeGateway, tmp_path: Path, client: str
) -> None:
    user = anonymous_id(DEV_USER_ID_KEY, DEFAULT_EMAIL)
    gateway.tripped[user] = (50.1234, 50.0)
    try:
        started = time.monotonic()
        if client == "claude-code":
            path = claude_settings(stack, tmp_path)
            result = run(CLAUDE, tmp_path, "--settings", str(path), "-p", "hello")
        else:
            assert CODEX is not None
            codex_profile(stack, tmp_path)
            result = run(CODEX, tmp_path, *CODEX_ARGS, "exec", "--skip-git-repo-check", "hello")
        elapsed = time.monotonic() - started
    finally:
        gateway.tripped.clear()
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    assert "Your AI budget" in output, output[-1500:]
    assert elapsed < SIGN_IN_AGAIN_SECONDS, f"{client} took {elapsed:.1f} s"
