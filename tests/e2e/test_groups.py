"""Two people in different groups, end to end with the real clients: each sees their own
menu in OpenCode, Claude Code and Codex, each is refused the other's model, an expired
token still lets OpenCode start, and the gateway can tell them, their group, their
client and their session apart."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.dev_token import DEV_EMAIL
from devstack.gateway import FakeGateway
from devstack.providers import answer_text
from devstack.stack import DEV_USER_ID_KEY, DevStack
from opencode_proxy.clients import CODEX_ARGS, setup_commands
from opencode_proxy.identity import anonymous_id
from support.agents import CLAUDE, CODEX, FOREIGN, logged_in, run
from support.groups import (
    CONTRACTOR,
    CONTRACTOR_MODEL,
    PILOT,
    PILOT_GROUP,
    PILOT_MODEL,
    write_config_src,
)


@pytest.fixture(scope="module")
def grouped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    folder = tmp_path_factory.mktemp("grouped")
    with DevStack(folder / "state", config_src=write_config_src(folder / "config-src")) as stack:
        stack.access.groups[PILOT] = [PILOT_GROUP]
        yield stack


@pytest.fixture
def seen(grouped: DevStack) -> FakeGateway:
    grouped.gateway.seen.clear()
    return grouped.gateway


def own_menu(stack: DevStack, email: str) -> set[str]:
    """The menu the Worker serves this person (their remote config)."""
    answer = httpx.get(
        f"{stack.url}/setup/opencode", headers={"cf-access-token": stack.token(email)}
    ).json()
    return {
        f"{provider_id}/{model_id}"
        for provider_id, provider in answer["provider"].items()
        for model_id in provider["whitelist"]
    }


def listed(result: subprocess.CompletedProcess[str]) -> set[str]:
    assert result.returncode == 0, result.stdout + result.stderr
    return {line.strip() for line in result.stdout.splitlines() if "/" in line}


def metadata(gateway: FakeGateway) -> dict[str, Any]:
    (value,) = {seen.header("cf-aig-metadata") for seen in gateway.seen}
    parsed: dict[str, Any] = json.loads(value or "")
    return parsed


def test_two_people_each_see_their_own_menu_in_opencode_and_are_refused_the_others(
    grouped: DevStack, seen: FakeGateway, tmp_path: Path
) -> None:
    pilot = logged_in(tmp_path / "pilot", grouped, PILOT)
    contractor = logged_in(tmp_path / "contractor", grouped, CONTRACTOR)
    pilot_menu, contractor_menu = own_menu(grouped, PILOT), own_menu(grouped, CONTRACTOR)
    assert listed(pilot("models")) == pilot_menu
    assert listed(contractor("models")) == contractor_menu
    assert f"openai/{PILOT_MODEL}" in pilot_menu - contractor_menu
    assert f"openai/{CONTRACTOR_MODEL}" in contractor_menu - pilot_menu

    answered = pilot("run", "-m", f"openai/{PILOT_MODEL}", "hello")
    assert answered.returncode == 0, answered.stdout + answered.stderr
    assert answer_text("openai", PILOT_MODEL) in answered.stdout
    assert metadata(seen)["group"] == "pilot"
    assert metadata(seen)["client"] == "opencode"
    assert metadata(seen)["session"].startswith("ses_")  # x-session-id, OpenCode 1.18.33

    seen.seen.clear()
    refused = contractor("run", "-m", f"openai/{PILOT_MODEL}", "hello")
    assert answer_text("openai", PILOT_MODEL) not in refused.stdout
    assert not [s for s in seen.seen if s.body and PILOT_MODEL.encode() in s.body]
    # Sent anyway, with the contractor's own token, the Worker refuses it in words.
    token = contractor.stored_logins()[grouped.url]["token"]
    direct = httpx.post(
        f"{grouped.url}/openai/v1/chat/completions",
        headers={"cf-access-token": token},
        json={"model": PILOT_MODEL, "messages": []},
    )
    assert direct.status_code == 400
    assert "groups: contractors" in direct.json()["error"]["message"]
    direct = httpx.post(
        f"{grouped.url}/openai/v1/chat/completions",
        headers={"cf-access-token": pilot.stored_logins()[grouped.url]["token"]},
        json={"model": CONTRACTOR_MODEL, "messages": []},
    )
    assert direct.status_code == 400
    assert seen.seen == []


def test_an_expired_token_still_lets_opencode_start_with_the_default_menu(
    grouped: DevStack, seen: FakeGateway, tmp_path: Path
) -> None:
    pilot = logged_in(tmp_path / "pilot", grouped, PILOT)
    logins = pilot.stored_logins()
    now = int(time.time())
    logins[grouped.url]["token"] = grouped.token(
        PILOT, iat=now - 7200, nbf=now - 7200, exp=now - 3600
    )
    path = pilot.home / ".local" / "share" / "opencode" / "auth.json"
    path.write_text(json.dumps(logins))
    served = httpx.get(f"{grouped.url}/.well-known/opencode").json()["config"]["provider"]
    default = {f"{pid}/{m}" for pid, p in served.items() for m in p["whitelist"]}
    assert listed(pilot("models")) == default
    result = pilot("run", "-m", "anthropic/claude-haiku-4-5", "hello")
    output = result.stdout + result.stderr
    assert f"opencode auth login {grouped.url}" in output
    assert seen.seen == []


def install(stack: DevStack, home: Path, client: str, email: str) -> None:
    """Run the served setup command for `client` as `email` (signed in by the dev login)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN)}
    command = setup_commands(stack.url, stack.auth)[client][0]
    done = subprocess.run(
        command,
        shell=True,
        env={**env, "HOME": str(home), DEV_EMAIL: email},
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, command


def test_claude_code_set_up_with_a_token_offers_that_persons_menu(
    grouped: DevStack, seen: FakeGateway, tmp_path: Path
) -> None:
    install(grouped, tmp_path, "claude-code", CONTRACTOR)
    path = tmp_path / ".claude" / "opencode-proxy.json"
    settings = json.loads(path.read_text())
    anthropic = sorted(
        m.split("/", 1)[1] for m in own_menu(grouped, CONTRACTOR) if "anthropic/" in m
    )
    assert settings["availableModels"] == anthropic == ["claude-haiku-4-5"]
    restricted = run(
        CLAUDE, tmp_path, "--settings", str(path), "-p", "--model", "claude-sonnet-5", "hi"
    )
    assert "is restricted by your organization's settings" in restricted.stdout + restricted.stderr
    # Claude Code then falls back to its default, which the settings name: a served model.
    assert {json.loads(s.body or b"{}").get("model") for s in seen.seen} <= {"claude-haiku-4-5"}
    seen.seen.clear()
    result = run(CLAUDE, tmp_path, "--settings", str(path), "-p", "hello", email=CONTRACTOR)
    assert result.returncode == 0, result.stdout + result.stderr
    assert answer_text("anthropic", "claude-haiku-4-5") in result.stdout
    entries = metadata(seen)
    assert entries["userId"] == anonymous_id(DEV_USER_ID_KEY, CONTRACTOR)
    assert (entries["group"], entries["client"]) == ("contractors", "claude-code")
    assert entries["session"]  # x-claude-code-session-id


def test_codex_set_up_with_a_token_uses_that_persons_model(
    grouped: DevStack, seen: FakeGateway, tmp_path: Path
) -> None:
    assert CODEX is not None, "npm ci installs @openai/codex (Linux x64)"
    install(grouped, tmp_path, "codex", CONTRACTOR)
    result = run(
        CODEX, tmp_path, *CODEX_ARGS, "exec", "--skip-git-repo-check", "hi", email=CONTRACTOR
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert {s.json()["model"] for s in seen.seen if s.body} == {CONTRACTOR_MODEL}
    entries = metadata(seen)
    assert (entries["group"], entries["client"]) == ("contractors", "codex")
    assert entries["session"]  # Codex's session-id


@pytest.mark.parametrize("alias", ["opus", "sonnet", "default"])
def test_claude_codes_own_names_answer_with_the_persons_own_model(
    grouped: DevStack, seen: FakeGateway, tmp_path: Path, alias: str
) -> None:
    # A contractor is served Haiku only: every name Claude Code has answers with it.
    install(grouped, tmp_path, "claude-code", CONTRACTOR)
    path = tmp_path / ".claude" / "opencode-proxy.json"
    result = run(
        CLAUDE, tmp_path, "--settings", str(path), "--model", alias, "-p", "hi", email=CONTRACTOR
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert {s.json()["model"] for s in seen.seen if s.body} == {"claude-haiku-4-5"}
