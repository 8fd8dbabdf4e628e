"""The launchers served for agents that take a static key (Gemini CLI, Qwen Code, aider),
run with sh against a stand-in agent that reports what it was started with: a fresh
token where the agent reads its key, the caller's menu, the person's own arguments;
an expired or failed sign-in stops before the agent starts; nothing of the person's
is touched."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from opencode_proxy.agents import LAUNCHED, aider, gemini_cli, qwen_code
from opencode_proxy.launcher import LaunchedAgent, launcher_script, main_and_small
from support.unsigned_token import unsigned_token as _token

ORIGIN = "https://ai.example.com"
CONFIG: dict[str, Any] = {
    "model": "anthropic/claude-sonnet-5",
    "provider": {
        "google": {
            "options": {"baseURL": "{baseURL}/google-ai-studio/v1beta"},
            "models": {"gemini-2.5-pro": {"name": "Gemini 2.5 Pro"}, "gemini-2.5-flash": {}},
        },
        "openai": {
            "options": {"baseURL": "{baseURL}/openai/v1"},
            "models": {"gpt-5": {"name": "GPT-5"}, "gpt-5-mini": {}},
        },
        "workers-ai": {
            "options": {"baseURL": "{baseURL}/workers-ai/v1"},
            "models": {"@cf/openai/gpt-oss-120b": {"name": "gpt-oss-120b"}},
        },
    },
}
# The stand-in agent: its arguments, then its environment, as JSON.
REPORTER = """#!/bin/sh
python3 -c 'import json, os, sys
print(json.dumps({"args": sys.argv[1:], "env": dict(os.environ)}))' "$@"
"""


def launch(
    agent: LaunchedAgent,
    tmp_path: Path,
    token: str,
    *args: str,
    login: str | None = None,
    config: dict[str, Any] = CONFIG,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    home = tmp_path / "home"
    bin_dir = tmp_path / "bin"
    for directory in (home, bin_dir):
        directory.mkdir(exist_ok=True)
    (bin_dir / agent.program).write_text(REPORTER)
    (bin_dir / agent.program).chmod(0o755)
    command = login or shlex.join(["printf", "%s\\n", token])
    auth = {"env": "CF_ACCESS_TOKEN", "command": ["sh", "-c", command]}
    script = tmp_path / agent.launcher
    script.write_bytes(launcher_script(agent, config, auth, ORIGIN))
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(home)}
    done = subprocess.run(
        ["sh", str(script), *args], capture_output=True, text=True, env=env, check=False
    )
    return done, home


def fresh() -> str:
    return _token(int(time.time()) + 3600)


@pytest.mark.parametrize("agent", LAUNCHED, ids=lambda agent: agent.name)
def test_the_agent_starts_with_a_fresh_token_where_it_reads_its_key(
    agent: LaunchedAgent, tmp_path: Path
) -> None:
    token = fresh()
    done, _ = launch(agent, tmp_path, token, "-p", "it's $HOME")
    assert done.returncode == 0, done.stderr
    started = json.loads(done.stdout)
    assert started["args"] == ["-p", "it's $HOME"]
    for variable in agent.token_variables:
        assert started["env"][variable] == token
    assert token not in done.stderr


@pytest.mark.parametrize("agent", LAUNCHED, ids=lambda agent: agent.name)
def test_an_expired_or_failed_sign_in_stops_before_the_agent_starts(
    agent: LaunchedAgent, tmp_path: Path
) -> None:
    done, _ = launch(agent, tmp_path, _token(int(time.time()) - 60))
    assert done.returncode == 1
    assert done.stdout == ""
    assert f"Your sign-in to {ORIGIN} has expired" in done.stderr
    failed, _ = launch(agent, tmp_path, "", login="echo 'no session' >&2; exit 3")
    assert failed.returncode != 0
    assert failed.stdout == ""
    assert "no session" in failed.stderr


def test_gemini_cli_gets_the_google_route_its_model_and_every_helper_on_the_menu(
    tmp_path: Path,
) -> None:
    done, home = launch(gemini_cli.AGENT, tmp_path, fresh())
    env = json.loads(done.stdout)["env"]
    assert env["GOOGLE_GEMINI_BASE_URL"] == f"{ORIGIN}/google-ai-studio"
    path = Path(env["GEMINI_CLI_SYSTEM_SETTINGS_PATH"])
    assert path == home / ".config" / "opencode-proxy" / "gemini-cli.json"
    settings = json.loads(path.read_text())
    assert settings["security"]["auth"]["selectedType"] == "gemini-api-key"
    assert settings["model"]["name"] == "gemini-2.5-pro"
    aliases = settings["modelConfigs"]["customAliases"]
    assert set(aliases) == set(gemini_cli.HELPER_ALIASES)
    assert {alias["modelConfig"]["model"] for alias in aliases.values()} == {"gemini-2.5-flash"}
    assert settings["privacy"]["usageStatisticsEnabled"] is False
    # Its /model picker lists the caller's Google models, and none of its own.
    definitions = settings["modelConfigs"]["modelDefinitions"]
    visible = {model for model, d in definitions.items() if d["isVisible"]}
    assert visible == {"gemini-2.5-pro", "gemini-2.5-flash"}
    assert set(gemini_cli.OWN_MODELS) <= set(definitions)
    assert settings["experimental"]["dynamicModelConfiguration"] is True
    assert settings["modelConfigs"]["modelIdResolutions"]["gemini-2.5-flash"] == {
        "default": "gemini-2.5-flash",
        "contexts": [],
    }
    # Only the launcher's own file was written in the home directory.
    assert sorted(p.relative_to(home).as_posix() for p in home.rglob("*") if p.is_file()) == [
        ".config/opencode-proxy/gemini-cli.json"
    ]


def test_qwen_codes_picker_offers_the_openai_and_workers_ai_menu(tmp_path: Path) -> None:
    done, _ = launch(qwen_code.AGENT, tmp_path, fresh())
    env = json.loads(done.stdout)["env"]
    assert (env["OPENAI_BASE_URL"], env["OPENAI_MODEL"]) == (f"{ORIGIN}/openai/v1", "gpt-5")
    settings = json.loads(Path(env["QWEN_CODE_SYSTEM_SETTINGS_PATH"]).read_text())
    assert settings["security"]["auth"]["selectedType"] == "openai"
    assert [(m["id"], m["baseUrl"]) for m in settings["modelProviders"]["openai"]] == [
        ("gpt-5", f"{ORIGIN}/openai/v1"),
        ("gpt-5-mini", f"{ORIGIN}/openai/v1"),
        ("@cf/openai/gpt-oss-120b", f"{ORIGIN}/workers-ai/v1"),
    ]
    assert {m["envKey"] for m in settings["modelProviders"]["openai"]} == {"OPENAI_API_KEY"}


def test_aiders_main_weak_and_editor_models_are_on_the_menu_and_it_needs_no_file(
    tmp_path: Path,
) -> None:
    done, home = launch(aider.AGENT, tmp_path, fresh())
    env = json.loads(done.stdout)["env"]
    assert env["OPENAI_API_BASE"] == f"{ORIGIN}/openai/v1"
    assert (env["AIDER_MODEL"], env["AIDER_WEAK_MODEL"], env["AIDER_EDITOR_MODEL"]) == (
        "openai/gpt-5",
        "openai/gpt-5-mini",
        "openai/gpt-5",
    )
    assert env["AIDER_CHECK_UPDATE"] == "false"
    assert not any(home.rglob("*"))


def test_config_srcs_models_are_started_on_when_served_and_small_ones_help() -> None:
    def openai(models: list[str], **defaults: str) -> dict[str, Any]:
        provider = {
            "options": {"baseURL": "{baseURL}/openai/v1"},
            "models": {key: {} for key in models},
        }
        return {**defaults, "provider": {"openai": provider}}

    assert main_and_small(openai([]), "openai") is None
    assert main_and_small(openai(["o3", "gpt-5"], model="openai/gpt-5"), "openai") == (
        "gpt-5",
        "gpt-5",
    )
    # Named on another provider: not this route's, though an id is the same.
    assert main_and_small(openai(["o3", "o4-mini"], model="anthropic/o4-mini"), "openai") == (
        "o3",
        "o4-mini",
    )
    assert main_and_small(
        openai(["o3", "o4-mini", "gpt-5-nano"], small_model="openai/gpt-5-nano"), "openai"
    ) == (
        "o3",
        "gpt-5-nano",
    )
    assert main_and_small(openai(["gemini-2.5-pro"]), "openai") == (
        "gemini-2.5-pro",
        "gemini-2.5-pro",
    )
    assert "model" not in gemini_cli.launched({"provider": {}}, ORIGIN).settings  # type: ignore[operator]
    assert "AIDER_MODEL" not in aider.launched({"provider": {}}, ORIGIN).environment


def test_names_from_the_catalog_cannot_break_out_of_the_launcher(tmp_path: Path) -> None:
    hostile = ["SETTINGS", "$(touch pwned)", "x'; touch pwned; '", "`touch pwned`"]
    config = {
        "provider": {
            "openai": {
                "options": {"baseURL": "{baseURL}/openai/v1"},
                "models": {f"m{i}": {"name": name} for i, name in enumerate(hostile)},
            }
        }
    }
    done, _ = launch(qwen_code.AGENT, tmp_path, fresh(), config=config)
    assert done.returncode == 0, done.stderr
    env = json.loads(done.stdout)["env"]
    settings = json.loads(Path(env["QWEN_CODE_SYSTEM_SETTINGS_PATH"]).read_text())
    assert [m["name"] for m in settings["modelProviders"]["openai"]] == hostile
    assert not list(tmp_path.rglob("pwned"))
