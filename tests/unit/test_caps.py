"""Spend caps as the Worker reads them from the compiled config: whose caps apply, and
when AI Gateway's calendar windows (UTC) end."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from opencode_proxy.caps import Budgets, Cap, next_reset, reached


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("period", "now", "reset"),
    [
        ("hourly", "2026-12-03T15:30:10", "2026-12-03T16:00:00"),
        ("hourly", "2026-12-31T23:59:59", "2027-01-01T00:00:00"),
        ("daily", "2026-12-03T15:30:10", "2026-12-04T00:00:00"),
        ("daily", "2026-12-03T00:00:00", "2026-12-04T00:00:00"),  # a window that just began
        ("weekly", "2026-12-03T15:30:10", "2026-12-07T00:00:00"),  # Thursday -> Monday
        ("weekly", "2026-12-06T23:00:00", "2026-12-07T00:00:00"),  # Sunday night
        ("weekly", "2026-12-07T00:00:00", "2026-12-14T00:00:00"),  # Monday at midnight
        ("monthly", "2026-12-03T15:30:10", "2027-01-01T00:00:00"),
        ("monthly", "2027-02-28T12:00:00", "2027-03-01T00:00:00"),
        ("monthly", "2028-01-31T12:00:00", "2028-02-01T00:00:00"),
    ],
)
def test_a_window_ends_where_ai_gateways_calendar_says(period: str, now: str, reset: str) -> None:
    assert next_reset(period, at(now)) == at(reset)


def test_a_group_cap_takes_the_defaults_place_for_that_kind_and_period_only() -> None:
    budgets = Budgets.from_json(
        {
            "default": {"per_person": {"daily": 50, "monthly": 500}, "per_group": {"weekly": 900}},
            "groups": {"contractors": {"per_person": {"daily": 10}, "per_group": {"monthly": 99}}},
        }
    )
    assert budgets.caps_of("contractors") == (
        Cap("per_person", "daily", 10, "contractors"),
        Cap("per_person", "monthly", 500),
        Cap("per_group", "weekly", 900),
        Cap("per_group", "monthly", 99, "contractors"),
    )
    # Someone in no group has no group budget; a group without caps of its own has the default's.
    assert budgets.caps_of(None) == (
        Cap("per_person", "daily", 50),
        Cap("per_person", "monthly", 500),
    )
    assert budgets.caps_of("pilot")[-1] == Cap("per_group", "weekly", 900)
    assert Cap("per_group", "weekly", 900).describe() == "$900.00 a week for the group"
    assert reached(budgets.caps_of(None), 50.004) == (Cap("per_person", "daily", 50),)
    assert reached(budgets.caps_of(None), 50.01) == ()


@pytest.mark.parametrize(
    "value",
    [
        None,
        [],
        "caps",
        {"default": [1]},
        {"default": {"per_person": [1], "per_group": "x"}},
        {"default": {"per_person": {"daily": float("inf")}}},
        {"default": {"per_person": {"daily": -1, "yearly": 5, "hourly": "5", "weekly": True}}},
        {"groups": ["x"]},
        {"groups": {"x": {"per_person": {"daily": 0}}}},
    ],
)
def test_a_compiled_config_without_usable_caps_has_none(value: object) -> None:
    budgets = Budgets.from_json(value)
    assert not budgets
    assert budgets.caps_of(None) == budgets.caps_of("x") == ()
