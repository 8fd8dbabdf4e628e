"""The README's SDK snippets run as written against the local stack.

Only two things change: the example URL becomes the stack's, and the `LOGIN`
command (cloudflared) becomes the stack's own login command.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from devstack.gateway import FakeGateway
from devstack.providers import answer_text
from devstack.stack import DevStack
from toolkit.worker_files import ROOT

EXAMPLE = "https://ai.example.com"
SNIPPETS = dict(
    re.findall(r"```python\n# sdk: (\S+)\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
)
ANSWERS = {
    "anthropic": ("anthropic", "claude-sonnet-5"),
    "openai": ("openai", "gpt-5"),
    "google-genai": ("google-ai-studio", "gemini-2.5-flash"),
}


def test_the_readme_has_a_snippet_for_each_sdk() -> None:
    assert set(SNIPPETS) == set(ANSWERS)


@pytest.mark.parametrize("sdk", sorted(ANSWERS))
def test_each_sdk_snippet_works_as_written(stack: DevStack, gateway: FakeGateway, sdk: str) -> None:
    code = SNIPPETS[sdk]
    login = re.search(r"^LOGIN = .*$", code, re.M)
    assert login is not None
    code = code.replace(login.group(0), f"LOGIN = {stack.login_command()!r}")
    code = code.replace(EXAMPLE, stack.url)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == answer_text(*ANSWERS[sdk])
    assert gateway.seen
