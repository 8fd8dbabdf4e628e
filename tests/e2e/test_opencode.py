"""The OpenCode CLI end to end: log in through discovery, then run against the Worker."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.dev_token import DEFAULT_EMAIL
from devstack.gateway import FakeGateway
from devstack.providers import answer_text
from devstack.stack import DEV_USER_ID_KEY, DevStack
from opencode_proxy.identity import anonymous_id
from support.agents import OpenCode, logged_in
from toolkit.worker_files import ROOT


@pytest.fixture(scope="module")
def opencode(stack: DevStack, tmp_path_factory: pytest.TempPathFactory) -> OpenCode:
    return logged_in(tmp_path_factory.mktemp("opencode-home"), stack)


def test_login_runs_the_served_command_and_stores_a_working_token(
    opencode: OpenCode, stack: DevStack
) -> None:
    login = opencode.stored_logins()[stack.url]
    assert (login["type"], login["key"]) == ("wellknown", "CF_ACCESS_TOKEN")
    response = httpx.get(f"{stack.url}/whoami", headers={"cf-access-token": login["token"]})
    assert response.json() == {
        "user_id": anonymous_id(DEV_USER_ID_KEY, DEFAULT_EMAIL),
        "kind": "user",
    }


@pytest.mark.parametrize(
    ("model", "provider", "model_id"),
    [
        ("anthropic/claude-sonnet-5", "anthropic", "claude-sonnet-5"),
        ("openai/gpt-5", "openai", "gpt-5"),
        ("google/gemini-2.5-flash", "google-ai-studio", "gemini-2.5-flash"),
        (
            "workers-ai/@cf/openai/gpt-oss-120b",
            "workers-ai",
            "@cf/openai/gpt-oss-120b",
        ),
    ],
)
def test_run_gets_the_providers_answer_through_the_worker(
    opencode: OpenCode,
    stack: DevStack,
    gateway: FakeGateway,
    refusals: Callable[[], list[dict[str, Any]]],
    model: str,
    provider: str,
    model_id: str,
) -> None:
    result = opencode("run", "-m", model, "hello")
    assert result.returncode == 0, result.stdout + result.stderr
    assert answer_text(provider, model_id) in result.stdout
    assert refusals() == []  # every call OpenCode makes is an endpoint the route serves
    token = opencode.stored_logins()[stack.url]["token"]
    user_id = anonymous_id(DEV_USER_ID_KEY, DEFAULT_EMAIL)
    reached = [seen for seen in gateway.seen if seen.provider == provider]
    assert reached, f"nothing reached {provider}"
    for seen in gateway.seen:
        metadata = json.loads(seen.header("cf-aig-metadata") or "{}")
        assert (metadata["userId"], metadata["client"]) == (user_id, "opencode")
        assert metadata["session"].startswith("ses_")
        assert token not in repr(seen.headers)
        assert seen.header("cf-access-token") is None
    if provider == "openai":
        assert all(seen.json().get("store") is False for seen in reached)


def test_the_users_own_config_wins_over_the_served_default(
    stack: DevStack, gateway: FakeGateway, tmp_path: Path
) -> None:
    opencode = logged_in(tmp_path / "home", stack)
    own = tmp_path / "home" / ".config" / "opencode" / "opencode.json"
    own.parent.mkdir(parents=True, exist_ok=True)
    own.write_text(
        json.dumps({"$schema": "https://opencode.ai/config.json", "model": "openai/gpt-5-mini"})
    )
    result = opencode("run", "hello")
    assert result.returncode == 0, result.stdout + result.stderr
    assert answer_text("openai", "gpt-5-mini") in result.stdout
    assert "anthropic stand-in, model claude-sonnet-5" not in result.stdout


def test_only_the_local_stack_serves_the_dev_login_command(stack: DevStack) -> None:
    served = httpx.get(f"{stack.url}/.well-known/opencode").json()["auth"]["command"]
    assert served[1:3] == ["-m", "devstack.dev_token"]
    built = (ROOT / "build" / "opencode.json").read_text()
    assert json.loads(built)["auth"]["command"][:3] == ["cloudflared", "access", "login"]
    assert "dev_token" not in built


def _served_menu(stack: DevStack) -> set[str]:
    served = httpx.get(f"{stack.url}/.well-known/opencode").json()["config"]
    return {
        f"{provider_id}/{model_id}"
        for provider_id, provider in served["provider"].items()
        for model_id in provider["whitelist"]
    }


def test_opencode_lists_exactly_the_served_models_and_no_zen(
    opencode: OpenCode, stack: DevStack
) -> None:
    result = opencode("models")
    assert result.returncode == 0, result.stdout + result.stderr
    listed = {line.strip() for line in result.stdout.splitlines() if "/" in line}
    assert listed == _served_menu(stack)
    assert not any(name.startswith("opencode/") for name in listed)


def test_a_catalog_model_opencode_calls_deprecated_is_listed_and_answers(
    opencode: OpenCode, stack: DevStack, gateway: FakeGateway
) -> None:
    # OpenCode's bundled models.dev marks openai/o3-mini deprecated; the catalog serves it.
    assert "openai/o3-mini" in _served_menu(stack)
    result = opencode("run", "-m", "openai/o3-mini", "hello")
    assert result.returncode == 0, result.stdout + result.stderr
    assert answer_text("openai", "o3-mini") in result.stdout
    assert any(seen.json().get("model") == "o3-mini" for seen in gateway.seen if seen.body)


def test_a_model_forced_past_the_whitelist_is_refused_in_words_opencode_shows(
    stack: DevStack, gateway: FakeGateway, tmp_path: Path
) -> None:
    opencode = logged_in(tmp_path / "home", stack)
    own = tmp_path / "home" / ".config" / "opencode" / "opencode.json"
    own.parent.mkdir(parents=True, exist_ok=True)
    unserved = {"name": "Unserved", "limit": {"context": 128000, "output": 4096}}
    own.write_text(
        json.dumps(
            {
                "$schema": "https://opencode.ai/config.json",
                "provider": {
                    "openai": {
                        "models": {"gpt-4-unserved": unserved},
                        "whitelist": ["gpt-4-unserved"],
                    }
                },
            }
        )
    )
    result = opencode("run", "-m", "openai/gpt-4-unserved", "hello")
    output = result.stdout + result.stderr
    assert "'gpt-4-unserved' is not on your model menu for /openai" in output
    assert f"shown at {stack.url}/ " in output
    assert not [seen for seen in gateway.seen if seen.body and b"gpt-4-unserved" in seen.body]
