"""The Claude Code and Codex CLIs the end-to-end tests drive (npm, Linux x64 builds)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from toolkit.worker_files import ROOT

CLAUDE = ROOT / "node_modules" / "@anthropic-ai" / "claude-code-linux-x64" / "claude"
CODEX = next((ROOT / "node_modules" / "@openai" / "codex" / "vendor").glob("*/bin/codex"), None)
# Variables that would hand a CLI credentials or config from outside the test.
FOREIGN = ("ANTHROPIC_", "OPENAI_", "CLAUDE_", "CODEX_", "CF_ACCESS")


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
