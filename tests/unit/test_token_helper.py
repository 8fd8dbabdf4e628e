"""The sign-in helper the Claude Code settings serve: it passes on the token the sign-in
command prints, and fails at once, in words, when that token has already expired."""

from __future__ import annotations

import subprocess
import time

import pytest

from opencode_proxy.clients import fresh_token_helper
from support.unsigned_token import unsigned_token as _token

ORIGIN = "https://ai.example.com"


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    helper = fresh_token_helper(command, ORIGIN)
    return subprocess.run(helper, shell=True, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("email", ["a@example.com", "ab@example.com", "abc@example.com"])
def test_a_fresh_token_is_printed_as_it_came(email: str) -> None:
    # Three lengths: every base64 padding case.
    token = _token(int(time.time()) + 3600, email)
    done = _run(["echo", token])
    assert (done.returncode, done.stdout) == (0, token + "\n")


def test_an_expired_token_fails_at_once_saying_how_to_sign_in_again() -> None:
    token = _token(int(time.time()) - 60)
    done = _run(["echo", token])
    assert done.returncode == 1
    assert done.stdout == ""
    assert f"Your sign-in to {ORIGIN} has expired and was not renewed" in done.stderr


def test_a_failed_sign_in_fails_and_an_unreadable_token_is_left_to_the_worker() -> None:
    for failing in (["false"], ["true"]):  # fails, or prints nothing
        done = _run(failing)
        assert (done.returncode, done.stdout) == (1, "")
        assert f"Signing in to {ORIGIN} failed: run `{failing[0]}` in a terminal" in done.stderr
    assert _run(["echo", "not-a-jwt"]).stdout == "not-a-jwt\n"
