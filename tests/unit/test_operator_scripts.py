"""The operator scripts start the way the README runs them: as files, outside pytest's path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from opencode_proxy.identity import anonymous_id

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "USER_ID_KEY")}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_users_id_prints_the_workers_id_for_an_email() -> None:
    result = run("scripts/users.py", "id", " Someone@Example.com ", USER_ID_KEY="operator-key")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == anonymous_id("operator-key", "someone@example.com")


def test_users_id_without_the_key_says_which_setting_is_missing() -> None:
    result = run("scripts/users.py", "id", "someone@example.com")
    assert result.returncode == 2
    assert "USER_ID_KEY is not set" in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["scripts/refresh_catalog.py"],
        ["scripts/build_config.py"],
        ["scripts/build.py"],
        ["scripts/users.py"],
        ["-m", "devstack.dev"],
        ["-m", "devstack.dev_token"],
    ],
)
def test_every_script_starts(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


def test_users_id_uses_the_workers_rule_and_refuses_a_non_address() -> None:
    same = run("scripts/users.py", "id", "user@bücher.example", USER_ID_KEY="operator-key")
    other = run("scripts/users.py", "id", "USER@xn--bcher-kva.example", USER_ID_KEY="operator-key")
    assert same.returncode == other.returncode == 0, same.stderr + other.stderr
    assert same.stdout == other.stdout
    refused = run("scripts/users.py", "id", "@", USER_ID_KEY="operator-key")
    assert refused.returncode == 2
    assert "is not an email address" in refused.stderr
