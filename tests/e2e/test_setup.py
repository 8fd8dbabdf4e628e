"""The setup commands, run as a person runs them, against a Worker hidden behind an Access
login: they fail loudly and leave every file as it was."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.stack import DevStack
from opencode_proxy.clients import setup_commands
from support.access_login import LOGIN_PAGE, AccessLogin
from support.agents import CLAUDE, CODEX, run
from support.cpython import shipped_config

SHIPPED_AUTH = shipped_config()["auth"]


def _install(command: str, home: Path) -> subprocess.CompletedProcess[str]:
    """Run a setup command as a person pastes it, with `home` as HOME."""
    return subprocess.run(
        command,
        shell=True,
        env={**os.environ, "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def behind_access() -> Iterator[AccessLogin]:
    with AccessLogin() as running:
        yield running


@pytest.mark.parametrize("client", ["claude-code", "codex"])
def test_a_login_page_never_becomes_a_settings_file(
    behind_access: AccessLogin, tmp_path: Path, client: str
) -> None:
    previous = {
        tmp_path / ".claude" / "opencode-proxy.json": '{"apiKeyHelper": "earlier"}\n',
        tmp_path / ".codex" / "opencode-proxy.config.toml": "# an earlier profile\n",
    }
    for path, text in previous.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    # A sign-in that prints a token (cloudflared is not installed here), then a redirect.
    signs_in = {**SHIPPED_AUTH, "command": ["echo", "a-token"]}
    done = _install(setup_commands(behind_access.origin, signs_in)[client][0], tmp_path)
    assert done.returncode != 0, "the install command must fail on a redirect"
    assert "redirect" in done.stderr
    for path, text in previous.items():
        assert path.read_text() == text


def test_every_download_refuses_redirects_and_error_statuses() -> None:
    for commands in setup_commands("https://ai.example.com", SHIPPED_AUTH).values():
        for command in commands:
            if "curl" in command:
                assert "curl -fsSL --max-redirs 0 " in command


def test_a_page_saved_by_mistake_stops_the_client_naming_the_file(tmp_path: Path) -> None:
    # An HTML page answered with 200 passes curl; the clients then refuse to start.
    claude_file = tmp_path / ".claude" / "opencode-proxy.json"
    codex_file = tmp_path / ".codex" / "opencode-proxy.config.toml"
    for path in (claude_file, codex_file):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(LOGIN_PAGE)
    claude = run(CLAUDE, tmp_path, "--settings", str(claude_file), "-p", "hello")
    assert claude.returncode != 0
    assert str(claude_file) in claude.stdout + claude.stderr
    assert CODEX is not None
    codex = run(
        CODEX, tmp_path, "--profile", "opencode-proxy", "exec", "--skip-git-repo-check", "hi"
    )
    assert codex.returncode != 0
    assert "opencode-proxy.config.toml" in codex.stdout + codex.stderr


@pytest.mark.parametrize("client", ["claude-code", "codex"])
@pytest.mark.parametrize("sign_in", [["false"], ["echo", "not-a-token"]], ids=["failed", "junk"])
def test_a_failed_sign_in_fails_the_install_and_keeps_the_earlier_file(
    stack: DevStack, tmp_path: Path, client: str, sign_in: list[str]
) -> None:
    earlier = {
        "claude-code": (tmp_path / ".claude" / "opencode-proxy.json", '{"env": {}}\n'),
        "codex": (tmp_path / ".codex" / "opencode-proxy.config.toml", "# earlier\n"),
    }
    path, text = earlier[client]
    path.parent.mkdir(parents=True)
    path.write_text(text)
    done = _install(
        setup_commands(stack.url, {**stack.auth, "command": sign_in})[client][0], tmp_path
    )
    assert done.returncode != 0
    # A sign-in that printed nothing stops before the download; a junk token gets 401.
    assert ("401" in done.stderr) == (sign_in[0] == "echo")
    assert path.read_text() == text
