"""The OpenCode, Claude Code and Codex CLIs the end-to-end tests drive (npm, Linux x64
builds)."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from devstack.dev_token import DEV_EMAIL
from devstack.stack import DevStack
from toolkit.worker_files import ROOT

CLAUDE = ROOT / "node_modules" / "@anthropic-ai" / "claude-code-linux-x64" / "claude"
CODEX = next((ROOT / "node_modules" / "@openai" / "codex" / "vendor").glob("*/bin/codex"), None)
# Variables that would hand a CLI credentials or config from outside the test.
FOREIGN = ("ANTHROPIC_", "OPENAI_", "CLAUDE_", "CODEX_", "CF_ACCESS")
OPENCODE = ROOT / "node_modules" / "opencode-linux-x64" / "bin" / "opencode"
# Variables that would hand OpenCode credentials or config from outside the test.
OPENCODE_FOREIGN = (
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "GOOGLE_GENERATIVE_AI_API_KEY",
    "CF_ACCESS_TOKEN",
)


@dataclass
class OpenCode:
    """The CLI with HOME and the XDG folders inside one temporary directory."""

    home: Path
    # Who the stack's dev login command signs in (its default person when None).
    email: str | None = None

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in OPENCODE_FOREIGN and not k.startswith("OPENCODE")
        }
        if self.email is not None:
            env[DEV_EMAIL] = self.email
        env.update(
            HOME=str(self.home),
            XDG_CONFIG_HOME=str(self.home / ".config"),
            XDG_DATA_HOME=str(self.home / ".local" / "share"),
            XDG_CACHE_HOME=str(self.home / ".cache"),
            XDG_STATE_HOME=str(self.home / ".local" / "state"),
        )
        return env

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        work = self.home / "project"
        work.mkdir(parents=True, exist_ok=True)
        return subprocess.run(
            [str(OPENCODE), *args],
            cwd=work,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    def stored_logins(self) -> dict[str, dict[str, str]]:
        path = self.home / ".local" / "share" / "opencode" / "auth.json"
        logins: dict[str, dict[str, str]] = json.loads(path.read_text())
        return logins


def logged_in(home: Path, stack: DevStack, email: str | None = None) -> OpenCode:
    opencode = OpenCode(home, email)
    result = opencode("auth", "login", stack.url)
    assert result.returncode == 0, result.stdout + result.stderr
    return opencode


def run(
    binary: Path, home: Path, *args: str, email: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a CLI in `home`; `email` is who the stack's dev login command signs in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN)}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"))
    if email is not None:
        env[DEV_EMAIL] = email
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
