"""What counts as AI Gateway's spend-limit answer, and what it becomes: only its own
429 body, parsed within bounds; anything else is the provider's and passes."""

from __future__ import annotations

import json

import pytest

from opencode_proxy.budget import MAX_ERROR_BODY, tripped

GATEWAY = {"error": {"message": "Spending limit exceeded", "bucket": "b", "spent": 5, "limit": 5}}


def body(value: object) -> bytes:
    return json.dumps(value).encode()


def test_the_gateways_answer_becomes_a_budget_refusal_naming_the_cap() -> None:
    refusal = tripped(429, body(GATEWAY))
    assert refusal is not None
    assert (refusal.status, refusal.error_type) == (400, "budget_exceeded")
    assert "Your AI budget (b) is used up: $5.00 spent of $5.00." in refusal.message
    assert ("x-should-retry", "false") in refusal.headers


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, body(GATEWAY)),  # not a 429
        (429, None),  # not read: too large or undeclared
        (429, body({"error": {"message": "Rate limit exceeded"}})),
        (429, body({"type": "error", "error": {"type": "rate_limit_error", "message": "x"}})),
        (429, b"{not json"),
        (429, b"[" * 100 + b"]" * 100),
        (429, body(["Spending limit exceeded"])),
        (429, b" " * (MAX_ERROR_BODY + 1)),
        (429, "Spending limit exceeded".encode("utf-16")),
    ],
)
def test_anything_else_is_the_providers_and_passes(status: int, error: bytes | None) -> None:
    assert tripped(status, error) is None


def test_odd_fields_leave_out_what_they_cannot_say() -> None:
    odd = {"error": {"message": "Spending limit exceeded", "bucket": "\u202e", "spent": "1"}}
    refusal = tripped(429, body(odd))
    assert refusal is not None
    assert refusal.message.startswith("Your AI budget is used up. Requests are refused")
