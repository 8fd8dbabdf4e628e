"""What counts as AI Gateway's own refusal (a cap used up, a policy's block), and what
it becomes: only the gateway's own 429 and 403 bodies, parsed within bounds, name the
cap and its reset; anything else is the provider's and passes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from opencode_proxy.budget import MAX_ERROR_BODY, gateway_refusal
from opencode_proxy.caps import Budgets

GATEWAY = {
    "success": False,
    "error": {"message": "Spending limit exceeded", "bucket": "b", "spent": 5, "limit": 5},
}
BLOCKED = {"success": False, "error": {"message": "Access denied by policy"}}
NOW = datetime(2026, 12, 3, 15, 30, 10, tzinfo=UTC)  # a Thursday
BUDGETS = Budgets.from_json(
    {
        "default": {"per_person": {"daily": 50, "monthly": 500}, "per_group": {"monthly": 50}},
        "groups": {"contractors": {"per_person": {"daily": 10}}},
    }
)


def body(value: object) -> bytes:
    return json.dumps(value).encode()


def over(limit: float, spent: float = 0.0) -> bytes:
    error = {"message": "Spending limit exceeded", "bucket": "x1", "spent": spent, "limit": limit}
    return body({"success": False, "error": error})


def test_the_gateways_answer_becomes_a_budget_refusal_naming_the_bucket() -> None:
    refusal = gateway_refusal(429, body(GATEWAY))
    assert refusal is not None
    assert (refusal.status, refusal.error_type) == (400, "budget_exceeded")
    assert "Your AI budget (b) is used up: $5.00 spent of $5.00." in refusal.message
    assert "Requests are refused until its window resets" in refusal.message
    assert ("x-should-retry", "false") in refusal.headers
    assert not any(name == "retry-after" for name, _ in refusal.headers)  # window unknown


def test_a_cap_from_config_src_is_named_with_its_reset_and_a_retry_after() -> None:
    caps = BUDGETS.caps_of("contractors")
    refusal = gateway_refusal(429, over(10, 10.02), caps=caps, now=NOW)
    assert refusal is not None
    assert refusal.message.startswith(
        "Your cap of $10.00 a day per person is used up: $10.02 spent of $10.00. "
        "It resets at 2026-12-04 00:00 UTC; ask"
    )
    assert ("retry-after", str(8 * 3600 + 29 * 60 + 50)) in refusal.headers
    monthly = gateway_refusal(429, over(500), caps=caps, now=NOW)
    assert monthly is not None
    assert "$500.00 a month per person" in monthly.message
    assert "It resets at 2027-01-01 00:00 UTC" in monthly.message


def test_a_limit_two_caps_of_different_periods_share_names_no_reset() -> None:
    caps = BUDGETS.caps_of("pilot")  # the default's: $50 a day each, $50 a month as a group
    refusal = gateway_refusal(429, over(50), caps=caps, now=NOW)
    assert refusal is not None
    assert refusal.message.startswith("Your AI budget (x1) is used up")
    assert "until its window resets" in refusal.message
    assert not any(name == "retry-after" for name, _ in refusal.headers)


def test_a_limit_no_cap_of_the_caller_has_is_a_cap_set_by_hand() -> None:
    refusal = gateway_refusal(429, over(75), caps=BUDGETS.caps_of(None), now=NOW)
    assert refusal is not None
    assert refusal.message.startswith("Your AI budget (x1) is used up")


def test_a_policys_block_becomes_a_refusal_that_is_not_an_authentication_failure() -> None:
    refusal = gateway_refusal(403, body(BLOCKED))
    assert refusal is not None
    assert (refusal.status, refusal.error_type) == (400, "policy_denied")
    assert "Choose another model from your menu" in refusal.message
    assert ("x-should-retry", "false") in refusal.headers


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, body(GATEWAY)),  # neither a 429 nor a 403
        (403, body(GATEWAY)),  # the cap's words with the block's status
        (429, body(BLOCKED)),  # the block's words with the cap's status
        (429, None),  # not read: too large or undeclared
        (429, body({"error": {"message": "Rate limit exceeded"}})),
        (429, body({"type": "error", "error": {"type": "rate_limit_error", "message": "x"}})),
        (403, body({"type": "error", "error": {"type": "permission_error", "message": "x"}})),
        (403, body({"error": {"code": 403, "message": "Permission denied", "status": "x"}})),
        (429, b"{not json"),
        (429, b"[" * 100 + b"]" * 100),
        (429, body(["Spending limit exceeded"])),
        (429, b" " * (MAX_ERROR_BODY + 1)),
        (429, "Spending limit exceeded".encode("utf-16")),
    ],
)
def test_anything_else_is_the_providers_and_passes(status: int, error: bytes | None) -> None:
    assert gateway_refusal(status, error, caps=BUDGETS.caps_of(None), now=NOW) is None


@pytest.mark.parametrize(
    "odd",
    [
        {"message": "Spending limit exceeded", "bucket": "\u202e", "spent": "1"},
        {"message": "Spending limit exceeded", "limit": float("nan"), "spent": True},
        {"message": "Spending limit exceeded", "limit": 0, "spent": 0},
        {"message": "Spending limit exceeded", "limit": float("inf"), "spent": float("-inf")},
        {"message": "Spending limit exceeded", "limit": [50], "bucket": {"a": 1}},
    ],
)
def test_odd_fields_leave_out_what_they_cannot_say(odd: dict[str, object]) -> None:
    refusal = gateway_refusal(429, body({"error": odd}), caps=BUDGETS.caps_of(None), now=NOW)
    assert refusal is not None
    assert refusal.message.startswith("Your AI budget is used up. Requests are refused")
