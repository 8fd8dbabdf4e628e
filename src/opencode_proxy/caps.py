"""Spend caps from config-src: how much a person or a group may spend per period.

`config-src/budgets.toml` states the default caps and a group file's `[budget]` its
own, each as US dollars per period, `per_person` (every person their own budget) and
`per_group` (one budget a group shares). Provisioning turns them into AI Gateway
Policies; the Worker names the cap when the gateway says one is used up.

A person's caps are their group's (the first by file name, the `group` the Worker
sends) where it states one for that kind and period, else the default's; someone in
no group has no group to share a budget with. Periods are the calendar windows AI
Gateway's Policies use, in UTC (AI Gateway docs, "Policies": hourly, daily, weekly
from Monday, monthly from the 1st).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

PERIODS = ("hourly", "daily", "weekly", "monthly")
PER_PERSON, PER_GROUP = "per_person", "per_group"
KINDS = (PER_PERSON, PER_GROUP)
_UNITS = {"hourly": "an hour", "daily": "a day", "weekly": "a week", "monthly": "a month"}
# Amounts are compared as the gateway reports them: dollars, to the cent.
_CENT = 0.005

Amounts = Mapping[str, Mapping[str, float]]  # kind -> period -> dollars


@dataclass(frozen=True, slots=True)
class Cap:
    kind: str
    period: str
    usd: float
    group: str | None = None  # the group whose file states it; None: the default

    def describe(self) -> str:
        """`$50.00 a day per person`, `$2,000.00 a month for the group`."""
        whose = "per person" if self.kind == PER_PERSON else "for the group"
        return f"${self.usd:,.2f} {_UNITS[self.period]} {whose}"


def _dollars(value: Any) -> bool:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return number and 0 < value < math.inf


def _amounts(value: Any) -> dict[str, dict[str, float]]:
    kinds = value if isinstance(value, Mapping) else {}
    periods = {kind: kinds.get(kind) for kind in KINDS}
    return {
        kind: {
            period: float(usd)
            for period, usd in (found.items() if isinstance(found, Mapping) else ())
            if period in PERIODS and _dollars(usd)
        }
        for kind, found in periods.items()
    }


@dataclass(frozen=True, slots=True)
class Budgets:
    """The default caps and each group's own, as the compiled config holds them."""

    default: Amounts = field(default_factory=dict)
    groups: Mapping[str, Amounts] = field(default_factory=dict)

    @classmethod
    def from_json(cls, value: Any) -> Budgets:
        value = value if isinstance(value, Mapping) else {}
        groups = value.get("groups")
        return cls(
            _amounts(value.get("default")),
            {
                str(name): _amounts(amounts)
                for name, amounts in (groups.items() if isinstance(groups, Mapping) else ())
            },
        )

    def __bool__(self) -> bool:
        amounts = [self.default, *self.groups.values()]
        return any(periods for kinds in amounts for periods in kinds.values())

    def caps_of(self, group: str | None) -> tuple[Cap, ...]:
        """The caps on someone whose first group is `group` (None: in none)."""
        own = self.groups.get(group, {}) if group is not None else {}
        caps = []
        for kind in KINDS:
            if kind == PER_GROUP and group is None:
                continue
            for period in PERIODS:
                if (usd := own.get(kind, {}).get(period)) is not None:
                    caps.append(Cap(kind, period, usd, group))
                elif (usd := self.default.get(kind, {}).get(period)) is not None:
                    caps.append(Cap(kind, period, usd))
        return tuple(caps)


def reached(caps: tuple[Cap, ...], limit: float) -> tuple[Cap, ...]:
    """The caps whose amount is the `limit` a gateway's answer reports."""
    return tuple(cap for cap in caps if abs(cap.usd - limit) < _CENT)


def next_reset(period: str, now: datetime) -> datetime:
    """When a window of `period` that holds `now` (aware, UTC) ends."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    if period == "hourly":
        return hour + timedelta(hours=1)
    day = hour.replace(hour=0)
    if period == "daily":
        return day + timedelta(days=1)
    if period == "weekly":
        return day + timedelta(days=7 - day.weekday())
    if period == "monthly":
        return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    raise ValueError(f"not a period: {period!r}")
